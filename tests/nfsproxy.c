/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nfsproxy: a TCP proxy between an NFSv3 client and server that reads
 * ONC RPC records, knows which call each reply answers, and injects the
 * faults a test asks for.
 *
 * Usage:
 *   nfsproxy --nfs PORT [--mount PORT] [--ports-file FILE] [--log FILE]
 *            [--control PATH] [--seed N] [RULE...]
 *   nfsproxy --control PATH [--arm RULE]... [--clear] [--fired ID]
 *
 * The first form listens on 127.0.0.1 (ports chosen by the kernel, or
 * --listen-nfs/--listen-mount) and forwards every connection to the NFS
 * (and MOUNT) server on 127.0.0.1:PORT.  When it listens it writes
 * "NFS_PORT=N" and "MOUNT_PORT=M" lines to the ports file (atomically:
 * the file appears whole).  It logs each action it takes, one line each,
 * to the log (default stderr), and runs until SIGTERM or SIGINT.
 *
 * A RULE is PROC:ACTION[:OPTION]...
 *   PROC    an NFSv3 or MOUNT3 procedure: READ, WRITE, COMMIT, GETATTR,
 *           SETATTR, LOOKUP, ACCESS, CREATE, MKDIR, REMOVE, RMDIR,
 *           RENAME, READDIRPLUS, FSINFO, ..., MNT, UMNT, EXPORT;
 *           MOUNT.NULL, NFS.NULL; NFS.* or MOUNT.* or * for any call
 *   ACTION  on the call:
 *             pass            forward it and log it (counts calls)
 *             error=STATUS    answer STATUS (STALE, IO, NOSPC, DQUOT,
 *                             ACCES, ROFS, FBIG, JUKEBOX, ... or a
 *                             number) without attributes; the server
 *                             never sees the call
 *             jukebox         error=JUKEBOX
 *             fin-before      close the connection (FIN) instead of
 *             rst-before      forwarding the call (or RST)
 *           on the reply (the server ran the call):
 *             short[=N]       READ/WRITE: count N (default half the
 *                             server's), READ's eof false
 *             zero            READ/WRITE: count 0, eof false
 *             replace=STATUS  answer STATUS instead of the server's reply
 *             verf            WRITE/COMMIT: another write verifier
 *             fin-after       close (FIN/RST) instead of forwarding the
 *             rst-after       reply: the reply is lost
 *             fin-mid         forward half the reply, then close
 *             rst-mid
 *             drop            never answer (the connection stays)
 *             delay=MS        hold the reply MS milliseconds
 *             dup             send the reply twice
 *   OPTION  nth=N      fire from the Nth matching call on (default 1)
 *           times=N    fire N times (default 1; pass: all), or times=all
 *           p=P        fire with probability P (0-1) ...
 *           seed=S     ... drawn from seed S (default --seed, 1)
 * Examples: READ:short  WRITE:jukebox:times=3  GETATTR:error=STALE
 * COMMIT:verf  LOOKUP:fin-before:nth=2  READ:delay=200:p=0.1:seed=7
 * MNT:rst-after
 * Rules count matching calls from the moment they are armed, on every
 * connection; a call gets the action of the first rule (in arming order)
 * that fires.  Rules are numbered from 1 in arming order, command-line
 * rules first.
 *
 * The log: "MS conn=C PROC xid=X [offset=O count=N] rule=ID ACTION
 * [detail]" for each action, plus lines for connections ("conn=C nfs
 * open", "conn=C closed by client"...) and "rule=ID armed RULE".
 *
 * --control PATH: a Unix socket taking one command per line, each
 * answered by one line "ok [VALUE]" or "error MESSAGE": "add RULE" (ok
 * ID), "clear" (all rules go), "fired ID" (ok TIMES).  The second form
 * above sends those: --arm prints each new rule's ID, --fired the times
 * the rule fired; exit 1 if the proxy says error.
 *
 * Threading: one thread, one poll loop; nothing is shared. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nfsproxy-int.h"

static volatile sig_atomic_t stop;

static void
on_signal (int sig)
{
  stop = 1;
}

int64_t
px_now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- Log --------------------------------------------------------------- */

/* One line, one write(2): a test reading the log sees whole lines, and
 * sees a line before the client sees its fault. */
void
px_log (struct proxy *px, struct conn *c, const char *fmt, ...)
{
  char line[512];
  int64_t t = px_now_ms () - px->t0;
  int n;
  va_list ap;

  n = snprintf (line, sizeof line, "%" PRId64 ".%03d ", t / 1000,
                (int) (t % 1000));
  if (c)
    n += snprintf (line + n, sizeof line - n, "conn=%u ", c->id);
  va_start (ap, fmt);
  n += vsnprintf (line + n, sizeof line - n, fmt, ap);
  va_end (ap);
  if (n > (int) sizeof line - 2)
    n = sizeof line - 2;
  line[n++] = '\n';
  if (write (px->logfd, line, n) != n) {
    /* Nowhere better to say it; the test will miss the line. */
  }
}

/* "READ xid=0000002a offset=0 count=4096" for the log. */
const char *
px_call_text (const struct np_call *call, char *buf, size_t size)
{
  char name[48];
  const char *proc = np_proc_name (call->prog, call->proc, name,
                                   sizeof name);

  if (call->prog == NP_PROG_NFS
      && (call->proc == NP_NFS3_READ || call->proc == NP_NFS3_WRITE
          || call->proc == NP_NFS3_COMMIT))
    snprintf (buf, size, "%s xid=%08x offset=%" PRIu64 " count=%u", proc,
              call->xid, call->offset, call->count);
  else
    snprintf (buf, size, "%s xid=%08x", proc, call->xid);
  return buf;
}

/* --- The loop ---------------------------------------------------------- */

#define MAX_POLL 1024

static void
run (struct proxy *px, const sigset_t *unblocked)
{
  struct pollfd fds[MAX_POLL];
  struct conn *owner[MAX_POLL];
  int side[MAX_POLL];           /* 0 client, 1 server, 2 listener, 3 ctl */

  while (!stop) {
    int n = 0;
    int64_t now = px_now_ms (), wait = INT64_MAX;
    struct timespec ts, *tsp = NULL;

    for (int s = NFS; s <= MOUNT; s++)
      if (px->lfd[s] >= 0) {
        fds[n] = (struct pollfd) { px->lfd[s], POLLIN, 0 };
        owner[n] = NULL;
        side[n++] = 2 + 10 * s;
      }
    if (px->ctl_fd >= 0) {
      fds[n] = (struct pollfd) { px->ctl_fd, POLLIN, 0 };
      owner[n] = NULL;
      side[n++] = 4;
    }
    for (int i = 0; i < MAX_CTL; i++)
      if (px->ctls[i].fd >= 0) {
        fds[n] = (struct pollfd) { px->ctls[i].fd, POLLIN, 0 };
        owner[n] = NULL;
        side[n++] = 100 + i;
      }
    for (struct conn *c = px->conns; c && n < MAX_POLL - 2; c = c->next) {
      short ev = c->cout.len ? POLLOUT : 0;

      if (c->closing == DRAINING
          || (c->closing == OPEN && c->sout.len < BACKLOG_LIMIT))
        ev |= POLLIN;
      fds[n] = (struct pollfd) { c->cfd, ev, 0 };
      owner[n] = c;
      side[n++] = 0;
      if (c->sfd >= 0) {
        ev = c->sout.len ? POLLOUT : 0;
        if (c->cout.len < BACKLOG_LIMIT)
          ev |= POLLIN;
        fds[n] = (struct pollfd) { c->sfd, ev, 0 };
        owner[n] = c;
        side[n++] = 1;
      }
      if (c->closing == DRAINING && c->drain_until - now < wait)
        wait = c->drain_until - now;
    }
    if (px->delayed && px->delayed->due - now < wait)
      wait = px->delayed->due - now;
    if (wait != INT64_MAX) {
      if (wait < 0)
        wait = 0;
      ts.tv_sec = wait / 1000;
      ts.tv_nsec = (wait % 1000) * 1000000;
      tsp = &ts;
    }
    if (ppoll (fds, n, tsp, unblocked) == -1 && errno != EINTR)
      break;
    now = px_now_ms ();
    for (int i = 0; i < n && !stop; i++) {
      struct conn *c = owner[i];

      if (fds[i].revents == 0)
        continue;
      if (side[i] == 2 || side[i] == 12)
        px_accept_conn (px, side[i] == 2 ? NFS : MOUNT);
      else if (side[i] == 4)
        px_ctl_accept (px);
      else if (side[i] >= 100)
        px_ctl_read (px, &px->ctls[side[i] - 100]);
      else if (c->dead)
        continue;
      else if (side[i] == 0)
        px_client_event (px, c, fds[i].revents);
      else if (c->sfd == fds[i].fd)
        px_server_event (px, c, fds[i].revents);
    }
    px_fire_delayed (px, now);
    for (struct conn *c = px->conns; c; c = c->next)
      px_after_events (px, c, now);
    px_reap_conns (px);
  }
}

/* --- Start-up ---------------------------------------------------------- */

static void
usage (FILE *f)
{
  fprintf (f,
"Usage: nfsproxy --nfs PORT [--mount PORT] [--ports-file FILE] [--log FILE]\n"
"                [--control PATH] [--seed N] [--listen-nfs PORT]\n"
"                [--listen-mount PORT] [RULE...]\n"
"       nfsproxy --control PATH [--arm RULE]... [--clear] [--fired ID]\n"
"An ONC RPC fault proxy between an NFSv3 client and a server on 127.0.0.1.\n"
"RULE is PROC:ACTION[:OPTION]...\n"
"  PROC    READ, WRITE, COMMIT, GETATTR, SETATTR, LOOKUP, CREATE, REMOVE,\n"
"          RENAME, MKDIR, RMDIR, ..., MNT, UMNT, MOUNT.NULL, NFS.*, MOUNT.*, *\n"
"  ACTION  on the call: pass, error=STATUS, jukebox, fin-before, rst-before\n"
"          on the reply: short[=N], zero, replace=STATUS, verf, fin-after,\n"
"          rst-after, fin-mid, rst-mid, drop, delay=MS, dup\n"
"  OPTION  nth=N, times=N|all, p=PROBABILITY, seed=S\n"
"  STATUS  STALE, IO, NOSPC, DQUOT, ACCES, ROFS, FBIG, JUKEBOX, ... or a number\n"
"Example: nfsproxy --nfs 2049 --mount 20048 --ports-file P READ:short\n"
"The full description is at the top of tests/nfsproxy.c and in\n"
"tests/nfsproxy.md.\n");
}

/* Write the ports file whole (a temporary file renamed). */
static bool
write_ports (struct proxy *px)
{
  char tmp[4096];
  FILE *f;

  if (snprintf (tmp, sizeof tmp, "%s.tmp", px->ports_file)
      >= (int) sizeof tmp)
    return false;
  f = fopen (tmp, "w");
  if (f == NULL)
    return false;
  fprintf (f, "NFS_PORT=%d\n", px->listen_port[NFS]);
  if (px->lfd[MOUNT] >= 0)
    fprintf (f, "MOUNT_PORT=%d\n", px->listen_port[MOUNT]);
  if (fclose (f) != 0 || rename (tmp, px->ports_file) != 0)
    return false;
  return true;
}

static bool
parse_port (const char *s, int *port)
{
  char *end;
  long v = strtol (s, &end, 10);

  if (end == s || *end || v < 0 || v > 65535)
    return false;
  *port = v;
  return true;
}

static void
free_proxy (struct proxy *px)
{
  while (px->conns) {
    struct conn *c = px->conns;

    px->conns = c->next;
    px_free_conn (c);
  }
  while (px->delayed) {
    struct delayed *d = px->delayed;

    px->delayed = d->next;
    free (d);
  }
  for (int i = 0; i < MAX_CTL; i++)
    if (px->ctls[i].fd >= 0) {
      close (px->ctls[i].fd);
      np_buf_free (&px->ctls[i].in);
      np_buf_free (&px->ctls[i].out);
    }
  for (int s = NFS; s <= MOUNT; s++)
    if (px->lfd[s] >= 0)
      close (px->lfd[s]);
  if (px->ctl_fd >= 0) {
    close (px->ctl_fd);
    unlink (px->ctl_path);
  }
  if (px->logfd > 2)
    close (px->logfd);
}

int
main (int argc, char **argv)
{
  enum { OPT_LISTEN_NFS = 256, OPT_LISTEN_MOUNT, OPT_ARM, OPT_CLEAR,
         OPT_FIRED, OPT_PORTS, OPT_VERSION };
  static const struct option opts[] = {
    { "nfs", required_argument, NULL, 'n' },
    { "mount", required_argument, NULL, 'm' },
    { "listen-nfs", required_argument, NULL, OPT_LISTEN_NFS },
    { "listen-mount", required_argument, NULL, OPT_LISTEN_MOUNT },
    { "ports-file", required_argument, NULL, OPT_PORTS },
    { "log", required_argument, NULL, 'l' },
    { "control", required_argument, NULL, 'c' },
    { "seed", required_argument, NULL, 's' },
    { "arm", required_argument, NULL, OPT_ARM },
    { "clear", no_argument, NULL, OPT_CLEAR },
    { "fired", required_argument, NULL, OPT_FIRED },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 },
  };
  static struct proxy px;
  char *cmds[64];
  size_t ncmds = 0;
  const char *log_path = NULL;
  struct sigaction sa = { .sa_handler = on_signal };
  sigset_t block, unblocked;
  int opt, status = 0;

  px.target[NFS] = px.target[MOUNT] = -1;
  px.lfd[NFS] = px.lfd[MOUNT] = px.ctl_fd = -1;
  px.logfd = 2;
  px.seed = 1;
  for (int i = 0; i < MAX_CTL; i++)
    px.ctls[i].fd = -1;
  while ((opt = getopt_long (argc, argv, "n:m:l:c:s:h", opts, NULL)) != -1) {
    int len;

    switch (opt) {
    case 'n':
    case 'm':
    case OPT_LISTEN_NFS:
    case OPT_LISTEN_MOUNT: {
      int *p = opt == 'n' ? &px.target[NFS] : opt == 'm' ? &px.target[MOUNT]
        : opt == OPT_LISTEN_NFS ? &px.listen_port[NFS]
        : &px.listen_port[MOUNT];

      if (!parse_port (optarg, p)) {
        fprintf (stderr, "nfsproxy: %s: not a port number\n", optarg);
        return 2;
      }
      break;
    }
    case OPT_PORTS: px.ports_file = optarg; break;
    case 'l': log_path = optarg; break;
    case 'c': px.ctl_path = optarg; break;
    case 's': {
      char *end;

      px.seed = strtoull (optarg, &end, 10);
      if (end == optarg || *end) {
        fprintf (stderr, "nfsproxy: --seed %s: not a number\n", optarg);
        return 2;
      }
      break;
    }
    case OPT_ARM:
    case OPT_CLEAR:
    case OPT_FIRED:
      if (ncmds == 64) {
        fprintf (stderr, "nfsproxy: too many commands\n");
        return 2;
      }
      len = opt == OPT_CLEAR ? 6 : 8 + strlen (optarg);
      cmds[ncmds] = malloc (len);
      if (cmds[ncmds] == NULL)
        return 1;
      snprintf (cmds[ncmds++], len, "%s%s",
                opt == OPT_ARM ? "add " : opt == OPT_FIRED ? "fired " : "clear",
                opt == OPT_CLEAR ? "" : optarg);
      break;
    case 'h': usage (stdout); return 0;
    case OPT_VERSION: printf ("nfsproxy %s\n", PACKAGE_VERSION); return 0;
    default:
      fprintf (stderr, "Try 'nfsproxy --help'.\n");
      return 2;
    }
  }

  if (px.target[NFS] < 0) {
    if (px.ctl_path == NULL || ncmds == 0 || optind < argc) {
      fprintf (stderr, "nfsproxy: give --nfs PORT (a proxy) or --control "
               "PATH with --arm, --clear or --fired (a command)\n");
      return 2;
    }
    status = px_ctl_client (px.ctl_path, cmds, ncmds);
    for (size_t i = 0; i < ncmds; i++)
      free (cmds[i]);
    return status;
  }
  if (ncmds) {
    fprintf (stderr, "nfsproxy: --arm, --clear and --fired talk to a "
             "running proxy: give them without --nfs\n");
    return 2;
  }
  if (log_path) {
    px.logfd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                     0644);
    if (px.logfd == -1) {
      fprintf (stderr, "nfsproxy: %s: %s\n", log_path, strerror (errno));
      return 1;
    }
  }
  px.t0 = px_now_ms ();
  for (; optind < argc; optind++) {
    char err[200];

    if (px_add_rule (&px, argv[optind], err, sizeof err) == 0) {
      fprintf (stderr, "nfsproxy: rule '%s': %s\n", argv[optind], err);
      free_proxy (&px);
      return 2;
    }
  }

  sigemptyset (&block);
  sigaddset (&block, SIGTERM);
  sigaddset (&block, SIGINT);
  sigprocmask (SIG_BLOCK, &block, &unblocked);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);
  signal (SIGPIPE, SIG_IGN);

  for (int s = NFS; s <= MOUNT; s++)
    if (px.target[s] >= 0) {
      px.lfd[s] = px_listen_on (px.listen_port[s], &px.listen_port[s]);
      if (px.lfd[s] == -1) {
        fprintf (stderr, "nfsproxy: cannot listen on 127.0.0.1:%d: %s\n",
                 px.listen_port[s], strerror (errno));
        status = 1;
        goto out;
      }
    }
  if (px.ctl_path && (px.ctl_fd = px_ctl_listen (px.ctl_path)) == -1) {
    fprintf (stderr, "nfsproxy: %s: %s\n", px.ctl_path, strerror (errno));
    status = 1;
    goto out;
  }
  if (px.ports_file && !write_ports (&px)) {
    fprintf (stderr, "nfsproxy: %s: %s\n", px.ports_file, strerror (errno));
    status = 1;
    goto out;
  }
  px_log (&px, NULL, "listening: nfs %d -> %d, mount %d -> %d",
         px.listen_port[NFS], px.target[NFS],
         px.lfd[MOUNT] >= 0 ? px.listen_port[MOUNT] : -1, px.target[MOUNT]);
  run (&px, &unblocked);
  px_log (&px, NULL, "stopped");
 out:
  free_proxy (&px);
  return status;
}
