/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nfsproxy: connections (a client's, and the proxy's own to the
 * server), their sockets and buffers, and the rules applied to the calls
 * and replies that pass.
 *
 * Threading: none (the proxy has one thread). */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nfsproxy-int.h"

/* --- Sockets ----------------------------------------------------------- */

static int
set_nonblock (int fd)
{
  int fl = fcntl (fd, F_GETFL);

  return fl == -1 ? -1 : fcntl (fd, F_SETFL, fl | O_NONBLOCK);
}

int
px_listen_on (int port, int *bound)
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
bool
px_flush_out (int fd, struct np_buf *out)
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
int
px_fill_in (int fd, struct np_buf *in)
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
    px_log (px, c, "reset");
    c->dead = true;
  }
  else if (c->closing == CLOSE_FIN) {
    /* FIN now; read and discard until the client closes too (a close
     * with unread data would send RST instead). */
    shutdown (c->cfd, SHUT_WR);
    px_log (px, c, "fin");
    c->closing = DRAINING;
    c->drain_until = px_now_ms () + FIN_LINGER_MS;
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

void
px_accept_conn (struct proxy *px, enum side side)
{
  int one = 1, cfd, sfd;
  struct conn *c;

  cfd = accept4 (px->lfd[side], NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (cfd == -1)
    return;
  c = calloc (1, sizeof *c);
  sfd = c ? connect_to (px->target[side]) : -1;
  if (sfd == -1) {
    px_log (px, NULL, "%s: cannot reach the server on port %d: %s",
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
  px_log (px, c, "%s open", side == NFS ? "nfs" : "mount");
}

void
px_free_conn (struct conn *c)
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
        px_log (px, c, "%s rule=%u pass",
               px_call_text (call, text, sizeof text), r->id);
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
    px_call_text (&p.call, text, sizeof text);
    switch (r->action) {
    case NP_ERROR:
      px_log (px, c, "%s rule=%u error %s", text, r->id,
             np_status_name (r->arg));
      send_error (c, &p.call, r->arg);
      return;
    case NP_FIN_BEFORE:
    case NP_RST_BEFORE:
      px_log (px, c, "%s rule=%u %s: call not forwarded", text, r->id,
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
    px_log (px, c, "out of memory");
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
  d->due = px_now_ms () + ms;
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
            px_call_text (&p->call, text, sizeof text), p->rule, act);
  switch (p->action) {
  case NP_SHORT:
  case NP_ZERO: {
    uint32_t n = p->arg;
    long was = np_reply_short (body, &len, p->call.proc, &n, &why);

    if (was < 0)
      px_log (px, c, "%s skipped: %s", head, why);
    else
      px_log (px, c, "%s count %ld->%u", head, was, n);
    np_record_put (&c->cout, body, len);
    break;
  }
  case NP_REPLACE:
    px_log (px, c, "%s %s (the server ran it)", head,
           np_status_name (p->arg));
    send_error (c, &p->call, p->arg);
    break;
  case NP_VERF:
    if (np_reply_flip_verf (body, len, p->call.proc, &why))
      px_log (px, c, "%s", head);
    else
      px_log (px, c, "%s skipped: %s", head, why);
    np_record_put (&c->cout, body, len);
    break;
  case NP_FIN_AFTER:
  case NP_RST_AFTER:
    px_log (px, c, "%s: the server ran it, its reply is lost", head);
    close_conn (c, p->action == NP_RST_AFTER);
    break;
  case NP_FIN_MID:
  case NP_RST_MID:
    px_log (px, c, "%s: half the reply, then close", head);
    cut_reply (c, body, len, p->action == NP_RST_MID);
    break;
  case NP_DROP:
    px_log (px, c, "%s: reply never sent", head);
    break;
  case NP_DELAY:
    px_log (px, c, "%s %u ms", head, p->arg);
    delay_reply (px, c, body, len, p->arg);
    break;
  case NP_DUP:
    px_log (px, c, "%s", head);
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
      px_log (px, c, "%s sent no RPC record marking: closing",
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

/* --- Events ------------------------------------------------------------ */

void
px_fire_delayed (struct proxy *px, int64_t now)
{
  while (px->delayed && px->delayed->due <= now) {
    struct delayed *d = px->delayed;
    struct conn *c = find_conn (px, d->conn);

    px->delayed = d->next;
    if (c && c->closing == OPEN) {
      np_record_put (&c->cout, d->body, d->len);
      px_flush_out (c->cfd, &c->cout);
    }
    free (d);
  }
}

void
px_client_event (struct proxy *px, struct conn *c, short ev)
{
  if (ev & (POLLIN | POLLHUP | POLLERR)) {
    struct np_buf *in = &c->cin;
    int r = px_fill_in (c->cfd, in);

    if (r == 0) {
      if (c->closing == OPEN)
        px_log (px, c, "closed by the client");
      c->dead = true;
      return;
    }
    if (c->closing == DRAINING)
      np_buf_consume (in, in->len);
    else if (r > 0)
      pump_records (px, c, true);
  }
  if (c->sfd >= 0 && !px_flush_out (c->sfd, &c->sout)) {
    px_log (px, c, "the server's end failed: %s", strerror (errno));
    close_conn (c, false);
  }
}

void
px_server_event (struct proxy *px, struct conn *c, short ev)
{
  if (ev & (POLLIN | POLLHUP | POLLERR)) {
    int r = px_fill_in (c->sfd, &c->sin);

    if (r == 0) {
      px_log (px, c, "closed by the server");
      close_conn (c, false);
      return;
    }
    if (r > 0)
      pump_records (px, c, false);
  }
  if (c->sfd >= 0 && (ev & POLLOUT) && !px_flush_out (c->sfd, &c->sout)) {
    px_log (px, c, "the server's end failed: %s", strerror (errno));
    close_conn (c, false);
  }
}

void
px_after_events (struct proxy *px, struct conn *c, int64_t now)
{
  if (c->dead)
    return;
  if (!px_flush_out (c->cfd, &c->cout)) {
    c->dead = true;
    return;
  }
  if (c->cout.len == 0 && (c->closing == CLOSE_FIN
                           || c->closing == CLOSE_RST))
    finish_close (px, c);
  if (c->closing == DRAINING && now >= c->drain_until)
    c->dead = true;
}

void
px_reap_conns (struct proxy *px)
{
  for (struct conn **at = &px->conns; *at;) {
    struct conn *c = *at;

    if (c->dead) {
      *at = c->next;
      px_free_conn (c);
    }
    else
      at = &c->next;
  }
}

