/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio nbd: serve one NFS file as an NBD export, uncached.
 *
 *   directio nbd [-U SOCKET | -p PORT [-b ADDRESS]] [-r] FILE [--run CMD]
 *
 * The main thread listens and accepts; each client's handshake runs on
 * a thread of its own (nbd-accept.c, nbd-handshake.c); transmission is
 * the engine thread's (nbd-serve.c).
 * It runs until SIGINT, SIGTERM or SIGHUP (or, with --once, until its
 * first client has gone; with --run, until the command has ended), then
 * cuts the clients off once the requests they sent are answered (at
 * most STOP_WAIT_S; a second signal ends the wait).
 *
 * Signals: blocked in every thread (the engine's threads inherit the
 * mask from dio_open), and let in only while the main thread waits in
 * ppoll, so a stop is seen at once and never lost between a check and
 * the wait. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "directio.h"
#include "common.h"
#include "fsops.h"
#include "nbd-server.h"

#define DEFAULT_PORT "10809"
#define DEFAULT_SHARED 16
#define MAX_LISTENERS 4
#define STOP_WAIT_S 30

struct nbd_opts {
  const char *unix_path, *port, *bind;
  const char *run;              /* --run: a shell command */
  char *tmpdir;                 /* -U -: the private socket's directory */
  bool socket_made;             /* unix_path is ours to remove */
  unsigned shared;
  bool once;
  struct nbd_export e;
};

static volatile sig_atomic_t stop_signal, child_changed;

static void
on_signal (int sig)
{
  if (sig == SIGCHLD)
    child_changed = 1;
  else
    stop_signal = sig;
}

static void
usage (FILE *fp)
{
  fprintf (fp,
"Usage: directio nbd [OPTION...] FILE\n"
"\n"
"Serve FILE, an nfs:// URL or a path under a mount profile, as an NBD\n"
"export: uncached, every read and write goes to the NFS server through the\n"
"engine, and a write is on stable storage when it is answered.  Clients:\n"
"nbd+unix:///?socket=SOCKET or nbd://HOST:PORT, under any export name.\n"
"\n"
"  -U, --unix=SOCKET     listen on a Unix domain socket (made here, removed\n"
"                        at exit; it must not exist); -U - makes a private\n"
"                        one in a new directory under $TMPDIR or /tmp\n"
"  -p, --port=PORT       listen on TCP PORT (default " DEFAULT_PORT ")\n"
"  -b, --bind=ADDRESS    listen on this address only (default: all)\n"
"  -r, --readonly        refuse writes\n"
"      --writes=stable|unstable\n"
"                        stable (default): durable when answered;\n"
"                        unstable: sent UNSTABLE, durable at the client's\n"
"                        next flush (which fails if the server restarted\n"
"                        and may have lost them); a FUA write is stable\n"
"  -e, --shared=N        serve up to N clients at once (default %d);\n"
"                        more wait for one to go\n"
"      --once            exit when the first served client has gone\n"
"      --run=COMMAND     run COMMAND (with sh -c) once the export is ready,\n"
"                        with $uri (and, on a Unix socket, $unixsocket) set;\n"
"                        stop when it ends, and exit with its status\n"
"  -v, --verbose         say where it listens and when clients come and go\n"
"  -h, --help            print this and exit\n"
"\n"
"Stops on SIGINT, SIGTERM or SIGHUP once the requests in flight are\n"
"answered (up to %d s; a second signal stops at once, without them);\n"
"exit status 0, 1 on an error, 2 on a bad command line.  See directio(1).\n",
          DEFAULT_SHARED, STOP_WAIT_S);
}

static int
parse_args (int argc, char *argv[], struct nbd_opts *o)
{
  enum { OPT_WRITES = 256, OPT_ONCE, OPT_RUN };
  static const struct option long_options[] = {
    { "unix", required_argument, NULL, 'U' },
    { "port", required_argument, NULL, 'p' },
    { "bind", required_argument, NULL, 'b' },
    { "readonly", no_argument, NULL, 'r' },
    { "writes", required_argument, NULL, OPT_WRITES },
    { "shared", required_argument, NULL, 'e' },
    { "once", no_argument, NULL, OPT_ONCE },
    { "run", required_argument, NULL, OPT_RUN },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  unsigned port;
  int c;

  *o = (struct nbd_opts) { .shared = DEFAULT_SHARED };
  while ((c = getopt_long (argc, argv, "U:p:b:re:vh", long_options, NULL))
         != -1) {
    switch (c) {
    case 'U': o->unix_path = optarg; break;
    case 'p':
      if (parse_uint (optarg, 1, 65535, &port) == -1)
        return usage_error ("--port: '%s': need a TCP port, 1 to 65535",
                            optarg);
      o->port = optarg;
      break;
    case 'b': o->bind = optarg; break;
    case 'r': o->e.readonly = true; break;
    case OPT_WRITES:
      if (strcmp (optarg, "unstable") == 0)
        o->e.unstable = true;
      else if (strcmp (optarg, "stable") != 0)
        return usage_error ("--writes: '%s': need stable or unstable",
                            optarg);
      break;
    case 'e':
      if (parse_uint_option ("--shared", optarg, 1, 1024, &o->shared) == -1)
        return EXIT_USAGE;
      break;
    case OPT_ONCE: o->once = true; break;
    case OPT_RUN: o->run = optarg; break;
    case 'v': o->e.verbose = true; break;
    case 'h':
      usage (stdout);
      exit (EXIT_SUCCESS);
    default:
      return usage_error ("bad option");
    }
  }
  if (optind != argc - 1)
    return usage_error (optind == argc ? "need the FILE to serve"
                        : "one FILE only: '%s' is extra", argv[optind + 1]);
  if (o->unix_path && (o->port || o->bind))
    return usage_error ("--unix and --port/--bind: choose one");
  if (o->unix_path && strlen (o->unix_path) >= sizeof
      ((struct sockaddr_un *) 0)->sun_path)
    return usage_error ("--unix: '%s': longer than a socket path may be",
                        o->unix_path);
  o->e.name = argv[optind];
  return 0;
}

/* ---- the file ------------------------------------------------------------ */

static int
open_export (struct nbd_export *e)
{
  struct stat st;

  e->fd = dio_open (e->name, (e->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (e->fd == -1) {
    error_msg ("%s", dio_last_error ());
    return -1;
  }
  if (dio_fstat (e->fd, &st) == -1)
    error_msg ("%s", dio_last_error ());
  else if (!S_ISREG (st.st_mode))
    error_msg ("%s: not a regular file", e->name);
  else {
    e->size = st.st_size;
    return 0;
  }
  dio_close (e->fd);
  return -1;
}

/* ---- listening ----------------------------------------------------------- */

/* -U -: a socket in a new private directory. */
static int
private_socket (struct nbd_opts *o)
{
  const char *t = getenv ("TMPDIR");
  static char path[108];
  char *dir;

  if (t == NULL || t[0] == '\0' || strlen (t) > 60)
    t = "/tmp";
  if (asprintf (&dir, "%s/directio-nbd.XXXXXX", t) == -1) {
    error_msg ("out of memory");
    return -1;
  }
  if (mkdtemp (dir) == NULL) {
    error_msg ("-U -: cannot make a directory in %s: %s", t, strerror (errno));
    free (dir);
    return -1;
  }
  snprintf (path, sizeof path, "%s/sock", dir);
  o->tmpdir = dir;
  o->unix_path = path;
  return 0;
}

static void
remove_socket (struct nbd_opts *o)
{
  if (o->socket_made)
    unlink (o->unix_path);
  if (o->tmpdir) {
    rmdir (o->tmpdir);
    free (o->tmpdir);
    o->tmpdir = NULL;
  }
}

static int
listen_unix (struct nbd_opts *o, int *fds)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  const char *path = o->unix_path;
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  strcpy (a.sun_path, path);            /* length checked by parse_args */
  if (fd != -1 && bind (fd, (struct sockaddr *) &a, sizeof a) == 0)
    o->socket_made = true;
  if (fd == -1 || !o->socket_made || listen (fd, SOMAXCONN) == -1) {
    error_msg ("--unix %s: %s%s", path, strerror (errno),
               errno == EADDRINUSE ? " (remove it if no server uses it)" : "");
    if (fd != -1)
      close (fd);
    return -1;
  }
  fds[0] = fd;
  return 1;
}

/* Every address bind (or all of this host's) resolves to: the number
 * listened on, or -1. */
static int
listen_tcp (const char *bind_to, const char *port, int *fds)
{
  struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_ADDRCONFIG,
                            .ai_socktype = SOCK_STREAM }, *res, *a;
  int n = 0, err, saved = 0;

  err = getaddrinfo (bind_to, port, &hints, &res);
  if (err) {
    error_msg ("--bind %s: %s", bind_to ? bind_to : "(all)",
               gai_strerror (err));
    return -1;
  }
  for (a = res; a && n < MAX_LISTENERS; a = a->ai_next) {
    int one = 1, fd = socket (a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
                              a->ai_protocol);
    if (fd == -1) {
      saved = errno;
      continue;
    }
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (a->ai_family == AF_INET6)       /* the IPv4 socket takes those */
      setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind (fd, a->ai_addr, a->ai_addrlen) == -1
        || listen (fd, SOMAXCONN) == -1) {
      saved = errno;
      close (fd);
      continue;
    }
    fds[n++] = fd;
  }
  freeaddrinfo (res);
  if (n == 0) {
    error_msg ("cannot listen on %s port %s: %s",
               bind_to ? bind_to : "any address", port, strerror (saved));
    return -1;
  }
  return n;
}

/* --run: the command, in a child with the signal mask this process
 * started with, and $uri (and $unixsocket) describing the export. */
static pid_t
start_command (const struct nbd_opts *o, const sigset_t *start_mask)
{
  char uri[256];
  pid_t pid;

  if (o->unix_path)
    snprintf (uri, sizeof uri, "nbd+unix:///?socket=%s", o->unix_path);
  else
    snprintf (uri, sizeof uri, "nbd://%s:%s",
              o->bind ? o->bind : "localhost",
              o->port ? o->port : DEFAULT_PORT);
  pid = fork ();
  if (pid == -1) {
    error_msg ("--run: cannot fork: %s", strerror (errno));
    return -1;
  }
  if (pid > 0)
    return pid;
  setenv ("uri", uri, 1);
  if (o->unix_path)
    setenv ("unixsocket", o->unix_path, 1);
  signal (SIGPIPE, SIG_DFL);
  pthread_sigmask (SIG_SETMASK, start_mask, NULL);
  execl ("/bin/sh", "sh", "-c", o->run, (char *) NULL);
  fprintf (stderr, "%s: --run: /bin/sh: %s\n", progname, strerror (errno));
  _exit (127);
}

/* The command's exit status as a shell gives it, once it has ended;
 * -1 while it runs. */
static int
command_status (pid_t pid)
{
  int st;

  if (waitpid (pid, &st, WNOHANG) != pid)
    return -1;
  return WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
}

/* Read an eventfd that only wakes us. */
static void
drain (int fd)
{
  uint64_t v;

  if (read (fd, &v, sizeof v) == -1 && errno != EAGAIN)
    error_msg ("eventfd: %s", strerror (errno));
}

/* May another client be accepted?  Those in their handshake count as
 * those served do. */
static bool
have_room (const struct nbd_opts *o, struct nbd_server *s,
           struct nbd_accepter *a)
{
  unsigned shaking = nbd_accepter_running (a);

  return nbd_server_clients (s) + shaking < o->shared
    && shaking < NBD_MAX_HANDSHAKES;
}

/* Until a signal (or, with --once, the first client's end; with --run,
 * the command's).  The command's status, or -1.  Clients in their
 * handshake count against --shared as those served do. */
static int
serve (const struct nbd_opts *o, struct nbd_server *s,
       struct nbd_accepter *a, int *lfds, int nl,
       const sigset_t *unblocked, pid_t child)
{
  unsigned long accepted = 0;
  int status;

  while (!stop_signal) {
    struct pollfd p[MAX_LISTENERS + 2];
    bool room = have_room (o, s, a);
    int n = 0;

    p[n++] = (struct pollfd) { .fd = nbd_server_gone_fd (s), .events = POLLIN };
    p[n++] = (struct pollfd) { .fd = nbd_accepter_wake_fd (a),
                               .events = POLLIN };
    for (int i = 0; i < nl && room; i++)
      p[n++] = (struct pollfd) { .fd = lfds[i], .events = POLLIN };
    if (child > 0 && child_changed) {
      child_changed = 0;
      if ((status = command_status (child)) >= 0)
        return status;
    }
    if (ppoll (p, n, NULL, unblocked) == -1)
      continue;                 /* EINTR: a signal, seen above */
    if (p[0].revents)
      drain (p[0].fd);
    if (p[1].revents)
      drain (p[1].fd);
    if ((p[0].revents || p[1].revents) && o->once
        && nbd_accepter_served (a) > 0 && nbd_accepter_running (a) == 0
        && nbd_server_clients (s) == 0)
      return -1;
    for (int i = 2; i < n; i++)
      if (p[i].revents && have_room (o, s, a))
        nbd_accepter_accept (a, p[i].fd, ++accepted);
  }
  if (child > 0) {              /* stopped by a signal: end the command */
    kill (child, SIGTERM);
    if (waitpid (child, &status, 0) == child)
      return 128 + stop_signal;
  }
  return -1;
}

/* While a stop waits for the NFS server's answers (stop_ask_fn):
 * say so once, and give up at a second SIGINT, SIGTERM or SIGHUP. */
struct stop_wait {
  const char *name;
  sigset_t quits;
  bool told, gave_up;
};

static bool
stop_now (void *arg, unsigned clients)
{
  struct stop_wait *w = arg;
  const struct timespec now = { 0 };

  if (!w->told) {
    error_msg ("%s: waiting up to %d s for the NFS server to answer the "
               "requests of %u client%s (signal again to exit without "
               "them)", w->name, STOP_WAIT_S, clients,
               clients == 1 ? "" : "s");
    w->told = true;
  }
  w->gave_up = sigtimedwait (&w->quits, NULL, &now) > 0;
  return w->gave_up;
}

/* Stop the server; when requests are left unanswered, say so
 * and exit at once: the engine still owns them, and exit()'s handlers
 * (the library's destructors, the sanitizers' leak check) must not run
 * under its threads. */
static void
stop_server (struct nbd_server *s, const char *name)
{
  struct stop_wait w = { .name = name };

  sigemptyset (&w.quits);
  sigaddset (&w.quits, SIGINT);
  sigaddset (&w.quits, SIGTERM);
  sigaddset (&w.quits, SIGHUP);
  if (nbd_server_stop (s, STOP_WAIT_S, stop_now, &w) == 0)
    return;
  if (w.gave_up)
    error_msg ("%s: a signal while waiting: exiting without the answers "
               "to the requests still at the NFS server", name);
  else
    error_msg ("%s: requests still wait for the NFS server after %d s: "
               "exiting without their answers", name, STOP_WAIT_S);
  fflush (NULL);
  _exit (EXIT_FAILURE);
}

static void
say_where (const struct nbd_opts *o)
{
  const struct nbd_export *e = &o->e;

  if (!e->verbose)
    return;
  if (o->unix_path)
    error_msg ("serving %s (%llu bytes%s) at nbd+unix:///?socket=%s",
               e->name, (unsigned long long) e->size,
               e->readonly ? ", read-only" : "", o->unix_path);
  else
    error_msg ("serving %s (%llu bytes%s) at nbd://%s:%s", e->name,
               (unsigned long long) e->size, e->readonly ? ", read-only" : "",
               o->bind ? o->bind : "*", o->port ? o->port : DEFAULT_PORT);
}

int
cmd_nbd (int argc, char *argv[])
{
  struct sigaction sa = { .sa_handler = on_signal };  /* mask: below */
  struct nbd_opts o;
  struct nbd_server *s;
  struct nbd_accepter *a = NULL;
  sigset_t stops, start_mask, unblocked;
  int lfds[MAX_LISTENERS], nl = 0, r, status;
  pid_t child = 0;

  if ((r = parse_args (argc, argv, &o)) != 0)
    return r;
  /* A request's buffer is malloc'd and freed per request (nbd-serve.c).
   * glibc would give each of a megabyte its own mmap, and the kernel
   * zero-fill it page by page on every request: keep them in the heap,
   * and keep the heap.  What stays allocated is bounded by the most
   * that was ever in flight (the server's per-client limits). */
  mallopt (M_MMAP_THRESHOLD, NBD_HARD_MAX + 4096);
  mallopt (M_TRIM_THRESHOLD, 256 * 1024 * 1024);
  sigemptyset (&stops);
  sigaddset (&stops, SIGINT);
  sigaddset (&stops, SIGTERM);
  sigaddset (&stops, SIGHUP);
  sigaddset (&stops, SIGCHLD);
  pthread_sigmask (SIG_BLOCK, &stops, &start_mask);
  unblocked = start_mask;
  sigdelset (&unblocked, SIGINT);
  sigdelset (&unblocked, SIGTERM);
  sigdelset (&unblocked, SIGHUP);
  sigdelset (&unblocked, SIGCHLD);
  /* Each handler with the others blocked: a second stop signal stays
   * pending for stop_server's sigtimedwait rather than run a handler. */
  sa.sa_mask = stops;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
  sigaction (SIGCHLD, &sa, NULL);
  signal (SIGPIPE, SIG_IGN);

  dio__engine_spin (DIO_SERVER_SPIN_US);  /* a server: see spin= */
  if (open_export (&o.e) == -1)
    return EXIT_FAILURE;
  if (o.unix_path && strcmp (o.unix_path, "-") == 0
      && private_socket (&o) == -1) {
    dio_close (o.e.fd);
    return EXIT_FAILURE;
  }
  nl = o.unix_path ? listen_unix (&o, lfds)
    : listen_tcp (o.bind, o.port ? o.port : DEFAULT_PORT, lfds);
  s = NULL;
  if (nl == -1 || nbd_server_start (&o.e, &s) == -1
      || (a = nbd_accepter_new (s, &o.e)) == NULL
      || (o.run && (child = start_command (&o, &start_mask)) == -1)) {
    if (s && a == NULL)
      error_msg ("cannot start the server: %s", strerror (errno));
    if (a)
      nbd_accepter_free (a);
    if (s)
      nbd_server_stop (s, 0, NULL, NULL);
    if (o.unix_path)
      remove_socket (&o);
    dio_close (o.e.fd);
    return EXIT_FAILURE;
  }
  say_where (&o);
  status = serve (&o, s, a, lfds, nl, &unblocked, child);
  for (int i = 0; i < nl; i++)
    close (lfds[i]);
  nbd_accepter_free (a);        /* no client is added after this */
  if (o.unix_path)
    remove_socket (&o);
  stop_server (s, o.e.name);
  if (dio_close (o.e.fd) == -1) {
    error_msg ("%s", dio_last_error ());
    return EXIT_FAILURE;
  }
  return status >= 0 ? status : EXIT_SUCCESS;
}
