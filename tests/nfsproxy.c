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

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nfsproxy.h"

#define MAX_RULES 64
#define MAX_CTL 8
#define READ_CHUNK (256 * 1024)
/* Stop reading a side while this much waits to go to the other. */
#define BACKLOG_LIMIT (16u * 1024 * 1024)
#define FIN_LINGER_MS 10000

enum side { NFS, MOUNT };
enum closing { OPEN, CLOSE_FIN, CLOSE_RST, DRAINING };

/* A call forwarded to the server, waiting for its reply. */
struct pending {
  struct np_call call;
  unsigned rule;                /* 0: no rule for its reply */
  enum np_action action;
  uint32_t arg;
};

struct conn {
  struct conn *next;
  unsigned id;
  enum side side;
  int cfd, sfd;                 /* client, server; -1 when closed */
  struct np_buf cin, cout, sin, sout;
  struct pending *pend;
  size_t npend, cappend;
  enum closing closing;         /* close cfd once cout is sent */
  int64_t drain_until;          /* DRAINING: give up waiting */
  bool dead;
};

struct delayed {
  struct delayed *next;
  unsigned conn;
  int64_t due;
  size_t len;
  unsigned char body[];
};

struct ctl {
  int fd;
  struct np_buf in, out;
};

struct proxy {
  int target[2], listen_port[2], lfd[2];
  int ctl_fd;
  const char *ctl_path, *ports_file;
  int logfd;
  uint64_t seed;
  struct np_rule rules[MAX_RULES];
  size_t nrules;
  unsigned next_rule, next_conn;
  struct conn *conns;
  struct delayed *delayed;
  struct ctl ctls[MAX_CTL];
  int64_t t0;
};

static volatile sig_atomic_t stop;

static void
on_signal (int sig)
{
  stop = 1;
}

static int64_t
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- Log --------------------------------------------------------------- */

/* One line, one write(2): a test reading the log sees whole lines, and
 * sees a line before the client sees its fault. */
static void
logf_ (struct proxy *px, struct conn *c, const char *fmt, ...)
{
  char line[512];
  int64_t t = now_ms () - px->t0;
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
static const char *
call_text (const struct np_call *call, char *buf, size_t size)
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

/* --- Sockets ----------------------------------------------------------- */

static int
set_nonblock (int fd)
{
  int fl = fcntl (fd, F_GETFL);

  return fl == -1 ? -1 : fcntl (fd, F_SETFL, fl | O_NONBLOCK);
}

static int
listen_on (int port, int *bound)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (port) };
  socklen_t len = sizeof a;
  int one = 1;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd == -1
      || setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1
      || bind (fd, (struct sockaddr *) &a, sizeof a) == -1
      || listen (fd, 64) == -1
      || getsockname (fd, (struct sockaddr *) &a, &len) == -1) {
    if (fd >= 0)
      close (fd);
    return -1;
  }
  *bound = ntohs (a.sin_port);
  return fd;
}

static int
connect_to (int port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (port) };
  int one = 1;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd == -1)
    return -1;
  if (connect (fd, (struct sockaddr *) &a, sizeof a) == -1
      || set_nonblock (fd) == -1) {
    close (fd);
    return -1;
  }
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* Send what fd takes of out; false when fd failed. */
static bool
flush_out (int fd, struct np_buf *out)
{
  while (out->len > 0) {
    ssize_t n = send (fd, out->data + out->start, out->len,
                      MSG_NOSIGNAL | MSG_DONTWAIT);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return true;
    if (n <= 0)
      return false;
    np_buf_consume (out, n);
  }
  return true;
}

/* Read what fd has into in: 1 read something, 0 end of stream or error,
 * -1 nothing now. */
static int
fill_in (int fd, struct np_buf *in)
{
  ssize_t n;

  if (!np_buf_reserve (in, READ_CHUNK))
    return 0;
  do
    n = recv (fd, np_buf_tail (in), READ_CHUNK, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return -1;
  if (n <= 0)
    return 0;
  in->len += n;
  return 1;
}

/* --- Connections ------------------------------------------------------- */

static struct conn *
find_conn (struct proxy *px, unsigned id)
{
  for (struct conn *c = px->conns; c; c = c->next)
    if (c->id == id && !c->dead)
      return c;
  return NULL;
}

static void
close_server (struct conn *c)
{
  if (c->sfd >= 0)
    close (c->sfd);
  c->sfd = -1;
  np_buf_free (&c->sin);
  np_buf_free (&c->sout);
  c->npend = 0;
}

/* Close the client's connection with FIN or RST once what is queued for
 * it is sent; nothing more is forwarded either way. */
static void
close_conn (struct conn *c, bool rst)
{
  close_server (c);
  np_buf_free (&c->cin);
  c->closing = rst ? CLOSE_RST : CLOSE_FIN;
}

/* Queued bytes are out: now close as close_conn asked. */
static void
finish_close (struct proxy *px, struct conn *c)
{
  if (c->closing == CLOSE_RST) {
    struct linger l = { .l_onoff = 1, .l_linger = 0 };

    setsockopt (c->cfd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    logf_ (px, c, "reset");
    c->dead = true;
  }
  else if (c->closing == CLOSE_FIN) {
    /* FIN now; read and discard until the client closes too (a close
     * with unread data would send RST instead). */
    shutdown (c->cfd, SHUT_WR);
    logf_ (px, c, "fin");
    c->closing = DRAINING;
    c->drain_until = now_ms () + FIN_LINGER_MS;
  }
}

static bool
add_pending (struct conn *c, const struct pending *p)
{
  if (c->npend == c->cappend) {
    size_t cap = c->cappend ? c->cappend * 2 : 64;
    struct pending *n = realloc (c->pend, cap * sizeof *n);

    if (n == NULL)
      return false;
    c->pend = n;
    c->cappend = cap;
  }
  c->pend[c->npend++] = *p;
  return true;
}

static bool
take_pending (struct conn *c, uint32_t xid, struct pending *p)
{
  for (size_t i = 0; i < c->npend; i++)
    if (c->pend[i].call.xid == xid) {
      *p = c->pend[i];
      c->pend[i] = c->pend[--c->npend];
      return true;
    }
  return false;
}

static void
accept_conn (struct proxy *px, enum side side)
{
  int one = 1, cfd, sfd;
  struct conn *c;

  cfd = accept4 (px->lfd[side], NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (cfd == -1)
    return;
  c = calloc (1, sizeof *c);
  sfd = c ? connect_to (px->target[side]) : -1;
  if (sfd == -1) {
    logf_ (px, NULL, "%s: cannot reach the server on port %d: %s",
           side == NFS ? "nfs" : "mount", px->target[side],
           strerror (errno));
    free (c);
    close (cfd);
    return;
  }
  setsockopt (cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->id = ++px->next_conn;
  c->side = side;
  c->cfd = cfd;
  c->sfd = sfd;
  c->next = px->conns;
  px->conns = c;
  logf_ (px, c, "%s open", side == NFS ? "nfs" : "mount");
}

static void
free_conn (struct conn *c)
{
  close_server (c);
  if (c->cfd >= 0)
    close (c->cfd);
  np_buf_free (&c->cin);
  np_buf_free (&c->cout);
  free (c->pend);
  free (c);
}

/* --- Rules applied ----------------------------------------------------- */

/* The rule that fires for call, or NULL; every matching rule counts it.
 * Pass rules only log, so they fire beside another rule. */
static struct np_rule *
choose_rule (struct proxy *px, struct conn *c, const struct np_call *call)
{
  struct np_rule *chosen = NULL;
  char text[128];

  for (size_t i = 0; i < px->nrules; i++) {
    struct np_rule *r = &px->rules[i];

    if (r->action == NP_PASS) {
      if (np_rule_fires (r, call, true))
        logf_ (px, c, "%s rule=%u pass",
               call_text (call, text, sizeof text), r->id);
    }
    else if (np_rule_fires (r, call, chosen == NULL))
      chosen = r;
  }
  return chosen;
}

static void
send_error (struct conn *c, const struct np_call *call, uint32_t status)
{
  unsigned char reply[NP_ERROR_MAX];
  size_t len = np_error_reply (call, status, reply);

  np_record_put (&c->cout, reply, len);
}

/* A call from the client. */
static void
on_call (struct proxy *px, struct conn *c, unsigned char *body, size_t len)
{
  struct pending p = { 0 };
  struct np_rule *r;
  char text[128];

  if (!np_call_parse (body, len, &p.call)) {
    np_record_put (&c->sout, body, len);    /* not ours to judge */
    return;
  }
  r = choose_rule (px, c, &p.call);
  if (r && np_action_on_call (r->action)) {
    call_text (&p.call, text, sizeof text);
    switch (r->action) {
    case NP_ERROR:
      logf_ (px, c, "%s rule=%u error %s", text, r->id,
             np_status_name (r->arg));
      send_error (c, &p.call, r->arg);
      return;
    case NP_FIN_BEFORE:
    case NP_RST_BEFORE:
      logf_ (px, c, "%s rule=%u %s: call not forwarded", text, r->id,
             np_action_name (r->action));
      close_conn (c, r->action == NP_RST_BEFORE);
      return;
    default:
      break;
    }
  }
  else if (r) {
    p.rule = r->id;
    p.action = r->action;
    p.arg = r->arg;
  }
  if (!add_pending (c, &p) || !np_record_put (&c->sout, body, len)) {
    logf_ (px, c, "out of memory");
    close_conn (c, true);
  }
}

static void
delay_reply (struct proxy *px, struct conn *c, const unsigned char *body,
             size_t len, uint32_t ms)
{
  struct delayed *d = malloc (sizeof *d + len), **at = &px->delayed;

  if (d == NULL)
    return;
  d->conn = c->id;
  d->due = now_ms () + ms;
  d->len = len;
  memcpy (d->body, body, len);
  while (*at && (*at)->due <= d->due)
    at = &(*at)->next;
  d->next = *at;
  *at = d;
}

/* Half of the reply record (mark included), then close. */
static void
cut_reply (struct conn *c, const unsigned char *body, size_t len, bool rst)
{
  struct np_buf whole = { 0 };

  if (np_record_put (&whole, body, len))
    np_buf_append (&c->cout, whole.data, whole.len / 2);
  np_buf_free (&whole);
  close_conn (c, rst);
}

/* A reply from the server to a call with a rule for its reply. */
static void
apply_reply_rule (struct proxy *px, struct conn *c, struct pending *p,
                  unsigned char *body, size_t len)
{
  char text[128], head[160];
  const char *why = NULL;
  const char *act = np_action_name (p->action);

  snprintf (head, sizeof head, "%s rule=%u %s",
            call_text (&p->call, text, sizeof text), p->rule, act);
  switch (p->action) {
  case NP_SHORT:
  case NP_ZERO: {
    uint32_t n = p->arg;
    long was = np_reply_short (body, &len, p->call.proc, &n, &why);

    if (was < 0)
      logf_ (px, c, "%s skipped: %s", head, why);
    else
      logf_ (px, c, "%s count %ld->%u", head, was, n);
    np_record_put (&c->cout, body, len);
    break;
  }
  case NP_REPLACE:
    logf_ (px, c, "%s %s (the server ran it)", head,
           np_status_name (p->arg));
    send_error (c, &p->call, p->arg);
    break;
  case NP_VERF:
    if (np_reply_flip_verf (body, len, p->call.proc, &why))
      logf_ (px, c, "%s", head);
    else
      logf_ (px, c, "%s skipped: %s", head, why);
    np_record_put (&c->cout, body, len);
    break;
  case NP_FIN_AFTER:
  case NP_RST_AFTER:
    logf_ (px, c, "%s: the server ran it, its reply is lost", head);
    close_conn (c, p->action == NP_RST_AFTER);
    break;
  case NP_FIN_MID:
  case NP_RST_MID:
    logf_ (px, c, "%s: half the reply, then close", head);
    cut_reply (c, body, len, p->action == NP_RST_MID);
    break;
  case NP_DROP:
    logf_ (px, c, "%s: reply never sent", head);
    break;
  case NP_DELAY:
    logf_ (px, c, "%s %u ms", head, p->arg);
    delay_reply (px, c, body, len, p->arg);
    break;
  case NP_DUP:
    logf_ (px, c, "%s", head);
    np_record_put (&c->cout, body, len);
    np_record_put (&c->cout, body, len);
    break;
  default:
    np_record_put (&c->cout, body, len);
    break;
  }
}

/* A reply from the server. */
static void
on_reply (struct proxy *px, struct conn *c, unsigned char *body, size_t len)
{
  struct pending p;
  uint32_t xid;

  if (!np_reply_xid (body, len, &xid) || !take_pending (c, xid, &p)
      || p.rule == 0)
    np_record_put (&c->cout, body, len);
  else
    apply_reply_rule (px, c, &p, body, len);
}

/* Take the whole records in in, one by one. */
static void
pump_records (struct proxy *px, struct conn *c, bool from_client)
{
  struct np_buf *in = from_client ? &c->cin : &c->sin;

  while (c->closing == OPEN) {
    unsigned char *body;
    size_t len;
    long took = np_record_take (in, &body, &len);

    if (took == 0)
      return;
    if (took < 0) {
      logf_ (px, c, "%s sent no RPC record marking: closing",
             from_client ? "the client" : "the server");
      close_conn (c, true);
      return;
    }
    if (from_client)
      on_call (px, c, body, len);
    else
      on_reply (px, c, body, len);
    if (c->closing != OPEN)
      return;                   /* close_conn freed in */
    np_buf_consume (in, took);
  }
}

/* --- Control socket ---------------------------------------------------- */

static void
ctl_answer (struct ctl *k, const char *fmt, ...)
{
  char line[256];
  va_list ap;
  int n;

  va_start (ap, fmt);
  n = vsnprintf (line, sizeof line - 1, fmt, ap);
  va_end (ap);
  if (n > (int) sizeof line - 2)
    n = sizeof line - 2;
  line[n++] = '\n';
  np_buf_append (&k->out, line, n);
}

/* Arm a rule; its id, or 0 with err set. */
static unsigned
add_rule (struct proxy *px, const char *text, char *err, size_t size)
{
  struct np_rule *r;

  if (px->nrules == MAX_RULES) {
    snprintf (err, size, "too many rules (%d)", MAX_RULES);
    return 0;
  }
  r = &px->rules[px->nrules];
  if (!np_rule_parse (text, px->seed, r, err, size))
    return 0;
  r->id = ++px->next_rule;
  px->nrules++;
  logf_ (px, NULL, "rule=%u armed %s", r->id, text);
  return r->id;
}

static void
ctl_command (struct proxy *px, struct ctl *k, char *line)
{
  char err[200];

  if (strncmp (line, "add ", 4) == 0) {
    unsigned id = add_rule (px, line + 4, err, sizeof err);

    if (id)
      ctl_answer (k, "ok %u", id);
    else
      ctl_answer (k, "error %s: %s", line + 4, err);
  }
  else if (strcmp (line, "clear") == 0) {
    px->nrules = 0;
    logf_ (px, NULL, "rules cleared");
    ctl_answer (k, "ok");
  }
  else if (strncmp (line, "fired ", 6) == 0) {
    unsigned id = strtoul (line + 6, NULL, 10);
    uint64_t n = 0;

    for (size_t i = 0; i < px->nrules; i++)
      if (px->rules[i].id == id)
        n = px->rules[i].fired;
    ctl_answer (k, "ok %" PRIu64, n);
  }
  else
    ctl_answer (k, "error unknown command '%s' (add RULE, clear, fired ID)",
                line);
}

static void
ctl_read (struct proxy *px, struct ctl *k)
{
  char *nl;

  if (fill_in (k->fd, &k->in) == 0) {
    close (k->fd);
    k->fd = -1;
    np_buf_free (&k->in);
    np_buf_free (&k->out);
    return;
  }
  while ((nl = memchr (k->in.data + k->in.start, '\n', k->in.len))) {
    size_t n = nl - (char *) (k->in.data + k->in.start);

    *nl = '\0';
    ctl_command (px, k, (char *) k->in.data + k->in.start);
    np_buf_consume (&k->in, n + 1);
  }
  flush_out (k->fd, &k->out);
}

static void
ctl_accept (struct proxy *px)
{
  int fd = accept4 (px->ctl_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

  if (fd == -1)
    return;
  for (int i = 0; i < MAX_CTL; i++)
    if (px->ctls[i].fd < 0) {
      px->ctls[i].fd = fd;
      return;
    }
  close (fd);
}

static int
ctl_listen (const char *path)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof a.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy (a.sun_path, path);
  unlink (path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd == -1)
    return -1;
  if (bind (fd, (struct sockaddr *) &a, sizeof a) == -1
      || listen (fd, 8) == -1) {
    close (fd);
    return -1;
  }
  return fd;
}

/* The client form: send each command, print each answer's value. */
static int
ctl_client (const char *path, char **cmds, size_t n)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  FILE *f;
  int status = 0;

  if (strlen (path) >= sizeof a.sun_path) {
    fprintf (stderr, "nfsproxy: %s: control path too long\n", path);
    return 1;
  }
  strcpy (a.sun_path, path);
  if (fd == -1 || connect (fd, (struct sockaddr *) &a, sizeof a) == -1) {
    fprintf (stderr, "nfsproxy: %s: %s\n", path, strerror (errno));
    return 1;
  }
  f = fdopen (fd, "r+");
  if (f == NULL) {
    close (fd);
    return 1;
  }
  for (size_t i = 0; i < n; i++) {
    char line[512];

    fprintf (f, "%s\n", cmds[i]);
    fflush (f);
    if (fgets (line, sizeof line, f) == NULL) {
      fprintf (stderr, "nfsproxy: %s: no answer to '%s'\n", path, cmds[i]);
      status = 1;
      break;
    }
    if (strncmp (line, "ok", 2) == 0) {
      if (line[2] == ' ')
        fputs (line + 3, stdout);
    }
    else {
      fprintf (stderr, "nfsproxy: %s", line);
      status = 1;
    }
  }
  fclose (f);
  return status;
}

/* --- The loop ---------------------------------------------------------- */

static void
fire_delayed (struct proxy *px, int64_t now)
{
  while (px->delayed && px->delayed->due <= now) {
    struct delayed *d = px->delayed;
    struct conn *c = find_conn (px, d->conn);

    px->delayed = d->next;
    if (c && c->closing == OPEN) {
      np_record_put (&c->cout, d->body, d->len);
      flush_out (c->cfd, &c->cout);
    }
    free (d);
  }
}

static void
client_event (struct proxy *px, struct conn *c, short ev)
{
  if (ev & (POLLIN | POLLHUP | POLLERR)) {
    struct np_buf *in = &c->cin;
    int r = fill_in (c->cfd, in);

    if (r == 0) {
      if (c->closing == OPEN)
        logf_ (px, c, "closed by the client");
      c->dead = true;
      return;
    }
    if (c->closing == DRAINING)
      np_buf_consume (in, in->len);
    else if (r > 0)
      pump_records (px, c, true);
  }
  if (c->sfd >= 0 && !flush_out (c->sfd, &c->sout)) {
    logf_ (px, c, "the server's end failed: %s", strerror (errno));
    close_conn (c, false);
  }
}

static void
server_event (struct proxy *px, struct conn *c, short ev)
{
  if (ev & (POLLIN | POLLHUP | POLLERR)) {
    int r = fill_in (c->sfd, &c->sin);

    if (r == 0) {
      logf_ (px, c, "closed by the server");
      close_conn (c, false);
      return;
    }
    if (r > 0)
      pump_records (px, c, false);
  }
  if (c->sfd >= 0 && (ev & POLLOUT) && !flush_out (c->sfd, &c->sout)) {
    logf_ (px, c, "the server's end failed: %s", strerror (errno));
    close_conn (c, false);
  }
}

static void
after_events (struct proxy *px, struct conn *c, int64_t now)
{
  if (c->dead)
    return;
  if (!flush_out (c->cfd, &c->cout)) {
    c->dead = true;
    return;
  }
  if (c->cout.len == 0 && (c->closing == CLOSE_FIN
                           || c->closing == CLOSE_RST))
    finish_close (px, c);
  if (c->closing == DRAINING && now >= c->drain_until)
    c->dead = true;
}

static void
reap_conns (struct proxy *px)
{
  for (struct conn **at = &px->conns; *at;) {
    struct conn *c = *at;

    if (c->dead) {
      *at = c->next;
      free_conn (c);
    }
    else
      at = &c->next;
  }
}

#define MAX_POLL 1024

static void
run (struct proxy *px, const sigset_t *unblocked)
{
  struct pollfd fds[MAX_POLL];
  struct conn *owner[MAX_POLL];
  int side[MAX_POLL];           /* 0 client, 1 server, 2 listener, 3 ctl */

  while (!stop) {
    int n = 0;
    int64_t now = now_ms (), wait = INT64_MAX;
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
    now = now_ms ();
    for (int i = 0; i < n && !stop; i++) {
      struct conn *c = owner[i];

      if (fds[i].revents == 0)
        continue;
      if (side[i] == 2 || side[i] == 12)
        accept_conn (px, side[i] == 2 ? NFS : MOUNT);
      else if (side[i] == 4)
        ctl_accept (px);
      else if (side[i] >= 100)
        ctl_read (px, &px->ctls[side[i] - 100]);
      else if (c->dead)
        continue;
      else if (side[i] == 0)
        client_event (px, c, fds[i].revents);
      else if (c->sfd == fds[i].fd)
        server_event (px, c, fds[i].revents);
    }
    fire_delayed (px, now);
    for (struct conn *c = px->conns; c; c = c->next)
      after_events (px, c, now);
    reap_conns (px);
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
    free_conn (c);
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
    default: usage (stderr); return 2;
    }
  }

  if (px.target[NFS] < 0) {
    if (px.ctl_path == NULL || ncmds == 0 || optind < argc) {
      fprintf (stderr, "nfsproxy: give --nfs PORT (a proxy) or --control "
               "PATH with --arm, --clear or --fired (a command)\n");
      return 2;
    }
    status = ctl_client (px.ctl_path, cmds, ncmds);
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
  px.t0 = now_ms ();
  for (; optind < argc; optind++) {
    char err[200];

    if (add_rule (&px, argv[optind], err, sizeof err) == 0) {
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
      px.lfd[s] = listen_on (px.listen_port[s], &px.listen_port[s]);
      if (px.lfd[s] == -1) {
        fprintf (stderr, "nfsproxy: cannot listen on 127.0.0.1:%d: %s\n",
                 px.listen_port[s], strerror (errno));
        status = 1;
        goto out;
      }
    }
  if (px.ctl_path && (px.ctl_fd = ctl_listen (px.ctl_path)) == -1) {
    fprintf (stderr, "nfsproxy: %s: %s\n", px.ctl_path, strerror (errno));
    status = 1;
    goto out;
  }
  if (px.ports_file && !write_ports (&px)) {
    fprintf (stderr, "nfsproxy: %s: %s\n", px.ports_file, strerror (errno));
    status = 1;
    goto out;
  }
  logf_ (&px, NULL, "listening: nfs %d -> %d, mount %d -> %d",
         px.listen_port[NFS], px.target[NFS],
         px.lfd[MOUNT] >= 0 ? px.listen_port[MOUNT] : -1, px.target[MOUNT]);
  run (&px, &unblocked);
  logf_ (&px, NULL, "stopped");
 out:
  free_proxy (&px);
  return status;
}
