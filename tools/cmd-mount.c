/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio mount: a FUSE mount over the engine (directio umount is in
 * cmd-umount.c).
 *
 *   directio mount [-f] [-o OPTIONS] PROFILE|URL MOUNTPOINT
 *
 * The checks that need no server (options, profile, mountpoint,
 * /dev/fuse) run first, in the foreground.  Then, unless -f, the process
 * forks before any engine thread exists (threads do not survive a
 * fork); the child mounts the export and the FUSE file system, tells the
 * parent through a pipe ("" for ready, else the error line), and serves;
 * the parent prints the error, if any, and exits 1 or 0.  So `mount -a`
 * and scripts see a mount that is ready, or a reason.
 *
 * Threading: single-threaded until the engine mounts; then libfuse's
 * workers (mount-loop.c, mount-ops.c). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "common.h"
#include "directio.h"
#include "mount-fs.h"
#include "options.h"
#include "profile.h"

/* How long an exit waits for the replies of requests still at the NFS
 * server (a hard mount whose server is gone may never answer). */
#define DRAIN_WAIT_S 30

/* ---- logging --------------------------------------------------------- */

static bool log_syslog;         /* else stderr (a terminal or log=FILE) */

void
mount_log (int priority, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  if (log_syslog)
    vsyslog (priority, fmt, ap);
  else {
    flockfile (stderr);         /* whole lines: workers log too */
    fprintf (stderr, "%s: ", progname);
    vfprintf (stderr, fmt, ap);
    fputc ('\n', stderr);
    funlockfile (stderr);
  }
  va_end (ap);
}

/* ---- options --------------------------------------------------------- */

static void
mount_usage (FILE *fp)
{
  fprintf (fp,
"Usage: directio mount [-f] [-o OPTIONS] PROFILE|URL MOUNTPOINT\n"
"       directio umount MOUNTPOINT\n"
"\n"
"Mount an NFS export (a profile's, by name, or an nfs:// URL) on\n"
"MOUNTPOINT, an empty directory, as a FUSE file system over the engine:\n"
"under forcedirectio every open is direct (FOPEN_DIRECT_IO: nothing is\n"
"cached, each read and write goes to the server, writes durable on\n"
"return); otherwise the kernel's page cache with close-to-open.  The\n"
"command returns once the mount is ready and the daemon serves it.\n"
"\n"
"  -f, --foreground     stay in the foreground, messages to stderr\n"
"  -o, --options LIST   comma-separated words:\n"
"                       mount options (forcedirectio, soft, timeo=,\n"
"                       nconnect=, ro, ...: see directio(1)), after\n"
"                       the profile's;\n"
"                       actimeo=S, acregmin=S, acdirmin=S, noac, nocto:\n"
"                       the kernel's attribute cache (default 1 s;\n"
"                       close-to-open unless nocto);\n"
"                       allow_other, default_permissions, fsname=NAME;\n"
"                       log=FILE (the daemon's messages; default\n"
"                       syslog);\n"
"                       mount(8)'s defaults, _netdev, nofail, auto,\n"
"                       noauto, user, nouser, dev, suid, exec, atime and\n"
"                       their no forms are accepted and ignored\n"
"  -h, --help           print this help and exit\n"
"\n"
"/etc/fstab, through mount.fuse3:\n"
"  directio#PROFILE  /mnt/point  fuse  defaults,_netdev  0 0\n"
"\n"
"Exit status: 0 mounted (or unmounted), 1 failure, 2 usage error.\n");
}

/* The kernel's attribute cache: seconds attributes and names are
 * trusted; close-to-open unless nocto. */
struct cache_rules {
  double attr, entry;
  bool nocto;
};

struct mount_args {
  struct cache_rules cache;     /* the profile's words, then -o's */
  char cachew[256];             /* -o's attribute-cache words */
  bool foreground;
  const char *spec, *mountpoint;
  char engine[1024];            /* mount-option words */
  char fuse[1024];              /* libfuse -o words */
  char *log_file;
};

static int
append_word (char *list, size_t len, const char *word)
{
  size_t n = strlen (list);
  int r = snprintf (list + n, len - n, "%s%s", n ? "," : "", word);

  return r < 0 || (size_t) r >= len - n ? -1 : 0;
}

static bool
ignored_word (const char *w)
{
  static const char *const words[] = {
    "defaults", "_netdev", "nofail", "auto", "noauto", "user", "nouser",
    "users", "dev", "nodev", "suid", "nosuid", "exec", "noexec", "atime",
    "noatime", "relatime", "strictatime", "diratime", "nodiratime",
    "async", "sync",
  };

  if (strncmp (w, "x-", 2) == 0 || strncmp (w, "comment=", 8) == 0)
    return true;
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (strcmp (w, words[i]) == 0)
      return true;
  return false;
}

/* The NFS attribute-cache words (seconds, as Linux's mount options):
 * actimeo=N sets both timeouts, acregmin=N the attributes', acdirmin=N
 * the names' (FUSE's timeouts are fixed, so the minimum is the
 * timeout and acregmax/acdirmax are accepted and ignored), noac makes
 * both 0, nocto keeps cached pages across opens.  1 if w is one (0 or
 * -1 in *bad), 0 if not. */
static int
cache_word (struct cache_rules *c, const char *w, bool *bad)
{
  static const char *const keys[] = {
    "actimeo=", "acregmin=", "acdirmin=", "acregmax=", "acdirmax=",
  };
  unsigned v;

  *bad = false;
  if (strcmp (w, "noac") == 0) {
    c->attr = c->entry = 0;
    return 1;
  }
  if (strcmp (w, "nocto") == 0) {
    c->nocto = true;
    return 1;
  }
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    size_t n = strlen (keys[i]);
    if (strncmp (w, keys[i], n) != 0)
      continue;
    if (parse_uint (w + n, 0, 3600, &v) == -1) {
      *bad = true;
      return 1;
    }
    if (i == 0 || i == 1)
      c->attr = v;
    if (i == 0 || i == 2)
      c->entry = v;
    return 1;
  }
  return 0;
}

/* Apply the attribute-cache words of a comma-separated list (others are
 * the engine's). */
static void
cache_words (struct cache_rules *c, const char *list)
{
  char *copy = strdup (list), *save = NULL, *w;
  bool bad;

  for (w = copy ? strtok_r (copy, ",", &save) : NULL; w;
       w = strtok_r (NULL, ",", &save))
    cache_word (c, w, &bad);
  free (copy);
}

/* Sort one -o word.  0, or a usage error's status. */
static int
sort_word (struct mount_args *a, const char *w)
{
  char key[64];
  size_t klen = strcspn (w, "=");
  int r = 0;

  snprintf (key, sizeof key, "%.*s", (int) klen, w);
  if (w[0] == '\0')
    return usage_error ("-o: empty option word");
  struct cache_rules scratch;
  bool bad;
  if (cache_word (&scratch, w, &bad)) {
    if (bad)
      return usage_error ("-o: %s: not a number of seconds (0 to 3600)", w);
    if (append_word (a->cachew, sizeof a->cachew, w) == -1)
      return usage_error ("-o: too many option words");
    return 0;
  }
  if (strncmp (w, "log=", 4) == 0) {
    free (a->log_file);
    a->log_file = strdup (w + 4);
    if (a->log_file == NULL || a->log_file[0] == '\0')
      return usage_error ("-o log=: no file name");
    return 0;
  }
  if (strcmp (w, "allow_other") == 0 || strcmp (w, "default_permissions") == 0
      || strcmp (w, "allow_root") == 0 || strcmp (key, "fsname") == 0
      || strcmp (w, "auto_unmount") == 0)
    r = append_word (a->fuse, sizeof a->fuse, w);
  else if (dio_options_known (key)) {
    struct dio_options scratch;
    char err[256];
    dio_options_init (&scratch);
    if (dio_options_parse (&scratch, w, err, sizeof err) == -1)
      return usage_error ("-o: %s", err);
    r = append_word (a->engine, sizeof a->engine, w);
  }
  else if (ignored_word (w))
    return 0;
  else
    return usage_error ("-o: %s: unknown option word", w);
  if (r == -1)
    return usage_error ("-o: too many option words");
  return 0;
}

static int
sort_options (struct mount_args *a, const char *list)
{
  char *copy = strdup (list), *save = NULL, *w;
  int r = 0;

  if (copy == NULL)
    return usage_error ("-o: out of memory");
  if (list[0] == '\0' || list[0] == ',' || strstr (list, ",,")
      || list[strlen (list) - 1] == ',')
    r = usage_error ("-o: empty option word");
  for (w = strtok_r (copy, ",", &save); w && r == 0;
       w = strtok_r (NULL, ",", &save))
    r = sort_word (a, w);
  free (copy);
  return r;
}

static int
parse_args (int argc, char *argv[], struct mount_args *a)
{
  static const struct option long_options[] = {
    { "foreground", no_argument, NULL, 'f' },
    { "options", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c, r;

  opterr = 0;                   /* one line of our own instead */
  while ((c = getopt_long (argc, argv, "+fo:h", long_options, NULL)) != -1)
    switch (c) {
    case 'f':
      a->foreground = true;
      break;
    case 'o':
      if ((r = sort_options (a, optarg)) != 0)
        return r;
      break;
    case 'h':
      mount_usage (stdout);
      exit (EXIT_SUCCESS);
    default:
      if (optopt == 'o')
        return usage_error ("-o needs an argument");
      if (optopt)
        return usage_error ("-%c: unknown option", optopt);
      return usage_error ("%s: unknown option", argv[optind - 1]);
    }
  /* mount.fuse3 puts -o after the operands: take options there too. */
  for (int i = optind; i < argc; i++) {
    if (strcmp (argv[i], "-o") == 0 && i + 1 < argc) {
      if ((r = sort_options (a, argv[i + 1])) != 0)
        return r;
      i++;
    }
    else if (argv[i][0] == '-' && argv[i][1] != '\0')
      return usage_error ("%s: options go before the operands", argv[i]);
    else if (a->spec == NULL)
      a->spec = argv[i];
    else if (a->mountpoint == NULL)
      a->mountpoint = argv[i];
    else
      return usage_error ("too many operands: %s", argv[i]);
  }
  if (a->mountpoint == NULL)
    return usage_error ("need PROFILE|URL and MOUNTPOINT");
  return 0;
}

/* ---- the checks before mounting -------------------------------------- */

/* The URL and the options to mount it with: a URL as it is, a profile
 * by name with its options first.  0 or -1 (reported). */
static int
resolve (struct mount_args *a, char **url, char **options)
{
  struct dio_profiles set;
  const struct dio_profile *p;
  char err[1024];
  const char *file = dio_profiles_default_path ();

  *url = *options = NULL;
  if (strncmp (a->spec, "nfs://", 6) == 0) {
    *url = strdup (a->spec);
    *options = strdup (a->engine);
    return *url && *options ? 0 : -1;
  }
  if (strchr (a->spec, '/')) {
    error_msg ("%s: not a profile name or an nfs:// URL", a->spec);
    return -1;
  }
  if (dio_profiles_load (file, &set, err, sizeof err) == -1) {
    error_msg ("%s", err);
    return -1;
  }
  p = dio_profiles_find (&set, a->spec);
  if (p == NULL) {
    error_msg ("%s: no such profile in %s", a->spec, set.file);
    dio_profiles_free (&set);
    return -1;
  }
  /* A profile's attribute-cache words (once the engine knows them)
   * rule the kernel's cache too; -o's, applied later, win. */
  if (p->options)
    cache_words (&a->cache, p->options);
  *url = strdup (p->url);
  if (asprintf (options, "%s%s%s", p->options ? p->options : "",
                p->options && a->engine[0] ? "," : "", a->engine) == -1)
    *options = NULL;
  dio_profiles_free (&set);
  return *url && *options ? 0 : -1;
}

/* MOUNTPOINT is an empty directory and /dev/fuse opens.  0 or -1. */
static int
check_place (const char *mp)
{
  struct stat st;
  struct dirent *e;
  DIR *d;
  int fd, n = 0;

  if (stat (mp, &st) == -1) {
    error_msg ("%s: %s", mp, strerror (errno));
    return -1;
  }
  if (!S_ISDIR (st.st_mode)) {
    error_msg ("%s: not a directory", mp);
    return -1;
  }
  d = opendir (mp);
  if (d == NULL) {
    error_msg ("%s: %s", mp, strerror (errno));
    return -1;
  }
  while ((e = readdir (d)) != NULL)
    if (strcmp (e->d_name, ".") && strcmp (e->d_name, ".."))
      n++;
  closedir (d);
  if (n) {
    error_msg ("%s: not an empty directory", mp);
    return -1;
  }
  fd = open ("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd == -1 || fstat (fd, &st) == -1 || !S_ISCHR (st.st_mode)) {
    error_msg ("/dev/fuse: %s (no FUSE on this machine?)",
               fd == -1 ? strerror (errno) : "not the FUSE device");
    if (fd >= 0)
      close (fd);
    return -1;
  }
  close (fd);
  return 0;
}

/* ---- serving --------------------------------------------------------- */

/* SIGTERM, SIGINT, SIGHUP end the session, as libfuse's handlers do,
 * and make the daemon's exit status 1; set once before serving, read by
 * the handler (the one process-wide state a handler needs). */
static struct fuse_session *signal_session;
static volatile sig_atomic_t signalled, nsignals;

static void
on_signal (int sig)
{
  signalled = sig;
  nsignals++;                   /* only ever written here */
  fuse_session_exit (signal_session);
}

/* While the exit waits for the NFS server (stop_ask_fn): say so once
 * per wait, and give up at a signal that came after the session ended
 * (a second one, when a signal ended it). */
struct drain_wait {
  const char *mountpoint;
  sig_atomic_t signals_before;
  bool told, gave_up;
};

/* The session has ended (struct mount_loop_end): by a signal, then a
 * second one gives up, or by an unmount, then the first does.  Not
 * nsignals itself: a second signal may already have come. */
static void
loop_ended (void *arg)
{
  struct drain_wait *w = arg;

  w->signals_before = nsignals ? 1 : 0;
}

static bool
drain_ask (void *arg, unsigned left __attribute__ ((unused)))
{
  struct drain_wait *w = arg;

  if (!w->told) {
    mount_log (LOG_WARNING, "%s: waiting up to %d s for the NFS server to "
               "answer the calls in flight (signal again to exit without "
               "them)", w->mountpoint, DRAIN_WAIT_S);
    w->told = true;
  }
  w->gave_up = nsignals != w->signals_before;
  return w->gave_up;
}

/* Say why requests were left at the NFS server, and exit at once: the
 * engine's threads (or a worker) still own the session and the
 * buffers, and exit()'s handlers (the library's destructors, the
 * sanitizers' leak check) must not run under them. */
static void
exit_without_answers (const struct drain_wait *w, int status)
{
  if (w->gave_up)
    mount_log (LOG_ERR, "%s: a signal while waiting: exiting without the "
               "answers to the calls still at the NFS server", w->mountpoint);
  else
    mount_log (LOG_ERR, "%s: requests still in flight after %d s; "
               "exiting without waiting for them", w->mountpoint,
               DRAIN_WAIT_S);
  fflush (NULL);
  _exit (status);
}

/* Wait for the engine's replies to the reads and writes in flight. */
static void
drain_or_exit (struct mount_state *st, struct drain_wait *w, int status)
{
  w->told = false;
  if (!mount_io_drain (st, DRAIN_WAIT_S, drain_ask, w))
    exit_without_answers (w, status);
}

/* After fuse_set_signal_handlers (which also ignores SIGPIPE): ours for
 * the three that end the session.  0 or -1. */
static int
catch_signals (struct fuse_session *se)
{
  static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
  struct sigaction sa;

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  /* Each handler with the others blocked: a second signal stays
   * pending (and counted) rather than nest. */
  sigemptyset (&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaddset (&sa.sa_mask, sigs[i]);
  signal_session = se;
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (sigaction (sigs[i], &sa, NULL) == -1)
      return -1;
  return 0;
}

/* Back to the defaults, before fuse_remove_signal_handlers (which
 * leaves alone a handler that is not its own). */
static void
uncatch_signals (void)
{
  signal (SIGTERM, SIG_DFL);
  signal (SIGINT, SIG_DFL);
  signal (SIGHUP, SIG_DFL);
}

/* Tell the waiting parent: "" (ready) or the error line. */
static void
tell_parent (int *fd, const char *msg)
{
  size_t len = strlen (msg) + 1;

  if (*fd < 0)
    return;
  if (write (*fd, msg, len) != (ssize_t) len) {
    /* The parent is gone: nobody to tell. */
  }
  close (*fd);
  *fd = -1;
}

/* Report a failure before ready: to the parent, or on stderr. */
static int
fail_start (int *fd, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  if (*fd >= 0)
    tell_parent (fd, msg);
  else
    error_msg ("%s", msg);
  return EXIT_FAILURE;
}

/* The daemon's stdio once ready: /dev/null, or the log file for
 * stderr. */
static int
detach_stdio (const char *log_file)
{
  int null = open ("/dev/null", O_RDWR), log = -1;

  if (null == -1)
    return -1;
  if (log_file) {
    log = open (log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log == -1) {
      close (null);
      return -1;
    }
  }
  if (dup2 (null, 0) == -1 || dup2 (null, 1) == -1
      || dup2 (log >= 0 ? log : null, 2) == -1)
    return -1;
  if (null > 2)
    close (null);
  if (log > 2)
    close (log);
  return 0;
}

static int
serve (const struct mount_args *a, const char *url, const char *options,
       int ready_fd)
{
  struct mount_state st = {
    .attr_timeout = a->cache.attr, .entry_timeout = a->cache.entry,
    .nocto = a->cache.nocto,
    .io_lock = PTHREAD_MUTEX_INITIALIZER,
  };
  char fuse_opts[2048];
  char *fargv[] = { (char *) "directio", (char *) "-o", fuse_opts, NULL };
  struct fuse_args fargs = FUSE_ARGS_INIT (3, fargv);
  struct fuse_session *se = NULL;
  int status = EXIT_FAILURE, r;
  struct drain_wait w = { .mountpoint = a->mountpoint };
  const struct mount_loop_end end = {
    .wait_s = DRAIN_WAIT_S, .ended = loop_ended, .give_up = drain_ask,
    .arg = &w
  };

  if ((r = cond_init_monotonic (&st.io_drained)) != 0)
    return fail_start (&ready_fd, "%s", strerror (r));
  dio__engine_spin (DIO_SERVER_SPIN_US);  /* a server: see spin= */
  if (dio__fs_new (url, options, &st.fs) == -1)
    return fail_start (&ready_fd, "%s", dio_last_error ());
  st.forcedirectio = dio__fs_options (st.fs)->forcedirectio;
  st.set_owner = geteuid () == 0;
  st.bufs = mount_bufs_new ();
  if (st.bufs == NULL || nodes_init (dio__fs_root (st.fs)) == -1) {
    fail_start (&ready_fd, "out of memory");
    goto out;
  }
  r = snprintf (fuse_opts, sizeof fuse_opts,
                "subtype=directio,max_read=%d%s%s%s%s%s",
                1024 * 1024,
                dio__fs_options (st.fs)->readonly ? ",ro" : "",
                strstr (a->fuse, "fsname=") ? "" : ",fsname=",
                strstr (a->fuse, "fsname=") ? "" : a->spec,
                a->fuse[0] ? "," : "", a->fuse);
  if (r < 0 || (size_t) r >= sizeof fuse_opts) {
    fail_start (&ready_fd, "-o: options too long");
    goto out;
  }
  se = fuse_session_new (&fargs, &mount_ops, sizeof mount_ops, &st);
  if (se == NULL) {
    fail_start (&ready_fd, "%s: cannot start a FUSE session", a->mountpoint);
    goto out;
  }
  if (fuse_set_signal_handlers (se) == -1 || catch_signals (se) == -1
      || fuse_session_mount (se, a->mountpoint) == -1) {
    fail_start (&ready_fd, "%s: FUSE mount failed", a->mountpoint);
    goto out;
  }
  if (ready_fd >= 0) {
    if (!a->log_file) {
      log_syslog = true;
      openlog ("directio-mount", LOG_PID, LOG_DAEMON);
    }
    if (detach_stdio (a->log_file) == -1) {
      fail_start (&ready_fd, "%s: %s", a->log_file ? a->log_file
                  : "/dev/null", strerror (errno));
      fuse_session_unmount (se);
      goto out;
    }
    if (chdir ("/") == -1)
      mount_log (LOG_WARNING, "chdir /: %s", strerror (errno));
    tell_parent (&ready_fd, "");
  }
  mount_log (LOG_INFO, "%s mounted on %s%s", a->spec, a->mountpoint,
             st.forcedirectio ? " (forcedirectio)" : "");
  /* The engine's thread reads /dev/fuse and serves reads itself; up
   * to 64 workers, kept once started, serve the rest (mount-loop.c). */
  r = mount_loop (se, st.fs, st.bufs, 64, &end);
  fuse_session_unmount (se);
  if (r == -EBUSY)              /* a worker's call is still at the server */
    exit_without_answers (&w, EXIT_FAILURE);
  mount_log (LOG_INFO, "%s unmounted from %s", a->spec, a->mountpoint);
  /* A signal's end is a failure, as libfuse's loop reported it. */
  status = r == 0 && !signalled ? EXIT_SUCCESS : EXIT_FAILURE;

 out:
  /* Engine threads reply to requests still in flight through the
   * session and the buffers: free them only once those are answered.
   * A hard mount whose server is gone may never answer: then exit
   * without freeing what they could still touch. */
  drain_or_exit (&st, &w, status);
  if (se) {
    uncatch_signals ();
    fuse_remove_signal_handlers (se);
    fuse_session_destroy (se);
  }
  fuse_opt_free_args (&fargs);
  dio__fs_free (st.fs);
  mount_bufs_free (st.bufs);
  return status;
}

/* The parent of a daemon: wait for its word. */
static int
wait_ready (int fd, pid_t child)
{
  char msg[1024];
  size_t got = 0;
  ssize_t n;

  while (got < sizeof msg - 1
         && (n = read (fd, msg + got, sizeof msg - 1 - got)) != 0) {
    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    got += n;
    if (memchr (msg, '\0', got))
      break;
  }
  msg[got] = '\0';
  close (fd);
  if (got > 0 && msg[0] == '\0')
    return EXIT_SUCCESS;        /* ready; the child serves on */
  waitpid (child, NULL, 0);
  error_msg ("%s", got ? msg : "the mount daemon died before the mount "
             "was ready");
  return EXIT_FAILURE;
}

int
cmd_mount (int argc, char *argv[])
{
  struct mount_args a = { .cache = { .attr = 1.0, .entry = 1.0 } };
  char *url = NULL, *options = NULL;
  int status = EXIT_FAILURE, p[2];
  pid_t pid;

  if ((status = parse_args (argc, argv, &a)) != 0)
    goto out;
  status = EXIT_FAILURE;
  if (resolve (&a, &url, &options) == -1 || check_place (a.mountpoint) == -1)
    goto out;
  cache_words (&a.cache, a.cachew);
  if (a.foreground) {
    status = serve (&a, url, options, -1);
    goto out;
  }
  /* Fork now: no engine thread exists yet. */
  if (pipe2 (p, O_CLOEXEC) == -1) {
    error_msg ("pipe: %s", strerror (errno));
    goto out;
  }
  fflush (NULL);
  pid = fork ();
  if (pid == -1) {
    error_msg ("fork: %s", strerror (errno));
    goto out;
  }
  if (pid > 0) {
    close (p[1]);
    status = wait_ready (p[0], pid);
    goto out;
  }
  close (p[0]);
  if (setsid () == -1)
    _exit (fail_start (&p[1], "setsid: %s", strerror (errno)));
  status = serve (&a, url, options, p[1]);
 out:
  free (url);
  free (options);
  free (a.log_file);
  return status;
}
