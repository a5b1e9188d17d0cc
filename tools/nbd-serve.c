/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio nbd: the transmission phase, on the engine's thread.
 *
 * The clients' sockets are in an epoll set whose descriptor the engine
 * thread watches (dio__fd_watch): when a client has sent something, that
 * thread reads its requests, starts each read and write as an
 * asynchronous engine request (dio_aio_pread, dio_aio_pwrite), and the
 * completion, on an engine thread, sends the reply.  A small request
 * that arrives while the engine thread is awake with replies costs no
 * thread wake-up at all; one that arrives while it sleeps wakes only
 * it.  This is what nbdkit's thread-per-request model cannot do: there a
 * request passes from the thread that reads it to a worker that sleeps
 * on the NFS reply (bench/README.md, issue 14).
 *
 * FLUSH (with --writes=unstable; otherwise every answered write is
 * already durable and a flush is answered at once) and WRITE_ZEROES
 * wait for the engine, which its thread must never do: they go to a
 * worker thread.
 *
 * Memory: a request's buffer is allocated when its header is read (the
 * read's data, or the write's payload) and freed when it is answered.
 * A client with MAX_INFLIGHT_BYTES or MAX_INFLIGHT requests unanswered
 * is paused: its socket stays in the set without EPOLLIN, and the
 * completion that brings it under half puts it back, asking for
 * EPOLLOUT as well so that the engine thread looks at it once even if
 * nothing new arrives (its buffer may hold requests already).  Replies
 * waiting for room in the socket count in flight until they are sent.
 *
 * Threading: a client's receive state (rbuf, partial) is the engine
 * thread's, the watcher's, alone (and the stopping thread's once the
 * watch is stopped).  Its counts, flags and epoll events are guarded by
 * its lock; its queue of replies by send_lock, taken by whichever
 * thread completes a request (see "replies" below).  A client is freed
 * by whoever finds it closing with nothing in flight.  The server's
 * list of clients is guarded by its lock, the worker's queue and the
 * flush bookkeeping by wlock.  Lock order: the server's lock, a
 * client's send_lock, then its lock. */
#include <config.h>

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "directio.h"
#include "fsops.h"
#include "common.h"
#include "nbd-proto.h"
#include "nbd-server.h"

/* Requests are received into this buffer, many small ones at a time; a
 * write's payload beyond what it holds is received straight into the
 * request's own buffer, so at most this much of one is copied. */
#define RBUF_SIZE (64 * 1024)
#define EVENTS_PER_WAKE 16
#define RECVS_PER_WAKE 8        /* per client, so others are not held up */
#define MAX_INFLIGHT_BYTES (64u * 1024 * 1024)
#define MAX_INFLIGHT 512u
#define ZERO_BUF_SIZE (1024 * 1024)
#define ZERO_IOVS 32
#define REPLIES_PER_SEND 32     /* a header and maybe data each */
#define HOLD_REPLIES 4          /* an engine thread gathers up to 4... */
#define HOLD_MAX_NS 50000       /* ...until its first pass after 50 us */
#define MAX_LOGGED_ERRORS 10    /* per client */

struct nbd_client;

struct nbd_req {
  struct nbd_client *c;
  struct nbd_req *next;         /* the worker's queue */
  uint64_t handle, offset;
  uint32_t len;
  uint16_t type, flags;
  uint32_t admitted;            /* bytes counted in c->inflight_bytes */
  char *data;                   /* read: the reply's data; write: payload */
  char head[NBD_SIMPLE_REPLY_SIZE];     /* the reply's header */
  size_t reply_len, sent;       /* the reply's bytes, and those sent */
  char buf[];                   /* data */
};

struct nbd_client {
  struct nbd_server *s;
  struct nbd_client *next;      /* the server's list */
  int sock;
  char peer[80];
  /* The watcher's. */
  char *rbuf;
  size_t rstart, rend;
  struct nbd_req *partial;      /* a write whose payload is arriving */
  size_t partial_got;
  pthread_mutex_t lock;
  /* Guarded by lock. */
  uint64_t inflight_bytes;
  unsigned inflight;
  bool paused, closing;
  bool draining;                /* sent DISC: only its replies are left */
  bool want_out;                /* replies wait for room */
  bool recheck;                 /* requests may wait in rbuf */
  uint32_t events;              /* what the epoll set watches */
  unsigned errors_logged;
  pthread_mutex_t send_lock;
  /* Guarded by send_lock. */
  struct nbd_req *out_head, *out_tail;  /* replies not all sent */
  bool out_armed;               /* ...waiting for EPOLLOUT */
  bool deferred;                /* ...in an engine thread's deferred list */
  struct nbd_client *deferred_next;     /* that thread's alone */
  uint64_t held_since_ns;       /* ...kept back since then (0: not) */
  bool out_closed;              /* no longer watched: drop, not wait */
  bool send_failed;
  uint64_t lost_seen;           /* guarded by the server's wlock */
};

struct nbd_server {
  const struct nbd_export *e;
  int ep;                       /* epoll: the clients' sockets */
  int gone_fd;                  /* eventfd: a client has gone */
  char *zero_buf;
  pthread_mutex_t lock;
  pthread_cond_t idle;          /* nclients reached 0 */
  struct nbd_client *clients;   /* guarded by lock */
  unsigned nclients;
  pthread_t worker;
  pthread_mutex_t wlock;
  pthread_cond_t wcond;
  /* Guarded by wlock. */
  struct nbd_req *whead, *wtail;
  bool wexit;
  uint64_t lost_writes;         /* flushes that found writes lost */
};

/* ---- replies and the end of a request ---------------------------------- */

static uint32_t
nbd_error (int err)
{
  switch (err) {
  case 0: return 0;
  case EPERM: case EACCES: case EROFS: return NBD_EPERM;
  case ENOMEM: return NBD_ENOMEM;
  case EINVAL: return NBD_EINVAL;
  case ENOSPC: case EDQUOT: case EFBIG: return NBD_ENOSPC;
  case EOVERFLOW: return NBD_EOVERFLOW;
  case ENOTSUP: return NBD_ENOTSUP;
  case ESHUTDOWN: return NBD_ESHUTDOWN;
  default: return NBD_EIO;
  }
}

/* Say why a request failed, for the first few failures of a client:
 * "FILE: client N: read of COUNT bytes at offset OFF: reason" (the file
 * left out when the reason, the engine's, names it already). */
static void
log_failure (struct nbd_req *r, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

static void
log_failure (struct nbd_req *r, const char *fmt, ...)
{
  static const char *const names[] = {
    [NBD_CMD_READ] = "read", [NBD_CMD_WRITE] = "write",
    [NBD_CMD_FLUSH] = "flush", [NBD_CMD_WRITE_ZEROES] = "zero",
  };
  struct nbd_client *c = r->c;
  const char *file = c->s->e->name;
  const char *name = r->type < 7 && names[r->type] ? names[r->type] : "request";
  char msg[512], what[96] = "";
  unsigned n;
  va_list ap;

  pthread_mutex_lock (&c->lock);
  n = ++c->errors_logged;
  pthread_mutex_unlock (&c->lock);
  if (n > MAX_LOGGED_ERRORS)
    return;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  if (r->type != NBD_CMD_FLUSH)
    snprintf (what, sizeof what, " of %u bytes at offset %llu", r->len,
              (unsigned long long) r->offset);
  error_msg ("%s%s%s: %s%s: %s%s", strstr (msg, file) ? "" : file,
             strstr (msg, file) ? "" : ": ", c->peer, name, what, msg,
             n == MAX_LOGGED_ERRORS ? " (further failures of this client "
             "are not logged)" : "");
}

static void client_free (struct nbd_client *c);

/* Watch in the epoll set what c needs now: its requests unless it is
 * paused or draining, and room to send while replies wait for it, or a
 * look at requests that may be buffered already (or at a drained
 * client).  Caller holds c->lock. */
static void
set_events (struct nbd_client *c)
{
  uint32_t want = (c->paused || c->draining ? 0 : EPOLLIN)
    | (c->want_out || c->recheck ? EPOLLOUT : 0);
  struct epoll_event ev = { .events = want, .data.ptr = c };

  if (c->closing || want == c->events)
    return;
  c->events = want;
  epoll_ctl (c->s->ep, EPOLL_CTL_MOD, c->sock, &ev);
}

/* A request of bytes is answered (or dropped): count it out, start the
 * client reading again if it was paused and is now under half its
 * limits, free it if it was closing and this was its last. */
static void
count_out (struct nbd_client *c, uint32_t bytes)
{
  bool last;

  pthread_mutex_lock (&c->lock);
  c->inflight--;
  c->inflight_bytes -= bytes;
  if (c->paused && !c->closing && c->inflight_bytes <= MAX_INFLIGHT_BYTES / 2
      && c->inflight <= MAX_INFLIGHT / 2) {
    c->paused = false;
    c->recheck = true;
    set_events (c);
  }
  last = c->closing && c->inflight == 0;
  if (c->draining && !c->closing && c->inflight == 0) {
    c->recheck = true;          /* the watcher ends it */
    set_events (c);
  }
  pthread_mutex_unlock (&c->lock);
  if (last)
    client_free (c);
}

static void
finish (struct nbd_req *r)
{
  struct nbd_client *c = r->c;
  uint32_t bytes = r->admitted;

  free (r);
  count_out (c, bytes);
}

/* ---- replies ------------------------------------------------------------
 *
 * A reply goes on its client's queue and is sent without waiting: by
 * the worker at once, by an engine thread after the batch of replies it
 * is reading (send_deferred, the engine's pass hook: one sendmsg per
 * client for the batch).  While the engine thread polls for more
 * replies without sleeping, and the client has more requests out, it
 * may gather up to HOLD_REPLIES first, until its first pass after
 * HOLD_MAX_NS or until it would sleep (hold_back).  What the socket
 * does not take waits on the queue, the client's socket
 * asks for EPOLLOUT, and the watcher sends the rest when there is room:
 * a client that does not read its replies holds up nobody but itself
 * (its queued replies still count in flight, so it is soon paused). */

static void
finish_all (struct nbd_req *done)
{
  while (done) {
    struct nbd_req *next = done->next;
    finish (done);
    done = next;
  }
}

/* Caller holds send_lock (the lock order: send_lock, then lock). */
static void
arm_out (struct nbd_client *c, bool on)
{
  if (c->out_armed == on)
    return;
  c->out_armed = on;
  pthread_mutex_lock (&c->lock);
  c->want_out = on;
  set_events (c);
  pthread_mutex_unlock (&c->lock);
}

/* The queue's first replies as iovecs, from where sending stopped. */
static int
queued_iov (struct nbd_client *c, struct iovec *iov)
{
  int n = 0;

  for (struct nbd_req *r = c->out_head; r && n + 2 <= 2 * REPLIES_PER_SEND;
       r = r->next) {
    size_t skip = r->sent;

    if (skip < NBD_SIMPLE_REPLY_SIZE) {
      iov[n++] = (struct iovec) { r->head + skip,
                                  NBD_SIMPLE_REPLY_SIZE - skip };
      skip = 0;
    }
    else
      skip -= NBD_SIMPLE_REPLY_SIZE;
    if (r->reply_len > NBD_SIMPLE_REPLY_SIZE)
      iov[n++] = (struct iovec) { r->data + skip, r->reply_len
                                  - NBD_SIMPLE_REPLY_SIZE - skip };
  }
  return n;
}

/* n bytes were sent: replies sent whole leave the queue for *done. */
static void
consume_sent (struct nbd_client *c, size_t n, struct nbd_req **done)
{
  while (n > 0) {
    struct nbd_req *r = c->out_head;
    size_t left = r->reply_len - r->sent;

    if (n < left) {
      r->sent += n;
      return;
    }
    n -= left;
    c->out_head = r->next;
    if (c->out_head == NULL)
      c->out_tail = NULL;
    r->next = *done;
    *done = r;
  }
}

/* Send what the socket takes of c's queue (caller holds send_lock);
 * replies sent, or dropped because the client is gone, go to *done, to
 * be finished once the lock is let go (finishing may free c). */
static void
send_queued (struct nbd_client *c, struct nbd_req **done)
{
  while (c->out_head && !c->send_failed) {
    struct iovec iov[2 * REPLIES_PER_SEND];
    struct msghdr m = { .msg_iov = iov };
    ssize_t n;

    m.msg_iovlen = queued_iov (c, iov);
    n = sendmsg (c->sock, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      consume_sent (c, n, done);
      continue;
    }
    if (n == -1 && errno == EINTR)
      continue;
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)
        && !c->out_closed) {
      arm_out (c, true);
      return;
    }
    /* Gone, or no room and nobody watching for it any more: the watcher
     * sees the end (if it still watches) and closes the client. */
    c->send_failed = true;
    shutdown (c->sock, SHUT_RDWR);
  }
  if (c->send_failed && c->out_head) {
    c->out_tail->next = *done;
    *done = c->out_head;
    c->out_head = c->out_tail = NULL;
  }
  arm_out (c, false);
}

/* The clients to which this engine thread's batch has left replies: sent
 * by the pass hook (send_deferred), together. */
static __thread struct nbd_client *deferred;

/* Leave c's queue for this engine thread's pass hook (caller holds
 * send_lock).  The client is held (counted in flight) until then. */
static void
defer (struct nbd_client *c)
{
  if (c->deferred)
    return;                     /* a thread's pass will send it */
  c->deferred = true;
  pthread_mutex_lock (&c->lock);
  c->inflight++;
  pthread_mutex_unlock (&c->lock);
  c->deferred_next = deferred;
  deferred = c;
}

/* Whether c's queued replies should wait for more (caller holds
 * send_lock).  Why: each send wakes the client, which on a small
 * machine then takes the CPU from this thread, to send one request
 * back; four replies a send wake it a quarter as often (4 KiB writes
 * at iodepth 16: 0.74 -> 0.29 preemptions a request, 11% more IOPS,
 * bench/README.md "Replies four at a time").  Only while at least as
 * many more requests are out, so a client at a low queue depth is not
 * made to wait for replies that its next requests depend on. */
static bool
hold_back (struct nbd_client *c, uint64_t now)
{
  unsigned queued = 0;
  bool more_out;

  for (struct nbd_req *r = c->out_head; r && queued < HOLD_REPLIES;
       r = r->next)
    queued++;
  if (queued == 0 || queued >= HOLD_REPLIES || c->out_armed
      || c->send_failed)
    return false;
  if (c->held_since_ns != 0 && now - c->held_since_ns >= HOLD_MAX_NS)
    return false;
  pthread_mutex_lock (&c->lock);
  more_out = c->inflight >= 1 + queued + HOLD_REPLIES;  /* 1: defer's */
  pthread_mutex_unlock (&c->lock);
  if (!more_out)
    return false;
  if (c->held_since_ns == 0)
    c->held_since_ns = now;
  return true;
}

/* The engine's pass hook: send what the batch's completions left, or
 * with may_hold keep some back; true if it did. */
static bool
send_deferred (bool may_hold)
{
  struct nbd_client *c, *kept = NULL;
  uint64_t now = may_hold ? now_ns () : 0;

  while ((c = deferred) != NULL) {
    struct nbd_req *done = NULL;

    deferred = c->deferred_next;
    pthread_mutex_lock (&c->send_lock);
    if (may_hold && hold_back (c, now)) {
      pthread_mutex_unlock (&c->send_lock);
      c->deferred_next = kept;
      kept = c;
      continue;
    }
    c->deferred = false;
    c->held_since_ns = 0;
    if (!c->out_armed)
      send_queued (c, &done);
    pthread_mutex_unlock (&c->send_lock);
    finish_all (done);
    count_out (c, 0);           /* defer's hold */
  }
  deferred = kept;
  return kept != NULL;
}

/* Answer r with nbd_err: a header, and the data of a successful read.
 * On an engine thread the reply waits for the pass hook, so that the
 * replies of one batch go out in one send per client. */
static void
reply (struct nbd_req *r, uint32_t nbd_err)
{
  struct nbd_client *c = r->c;
  uint32_t magic = htobe32 (NBD_SIMPLE_REPLY_MAGIC), e = htobe32 (nbd_err);
  struct nbd_req *done = NULL;

  memcpy (r->head, &magic, 4);
  memcpy (r->head + 4, &e, 4);
  memcpy (r->head + 8, &r->handle, 8);  /* the client's bytes, as sent */
  r->reply_len = NBD_SIMPLE_REPLY_SIZE
    + (nbd_err == 0 && r->type == NBD_CMD_READ ? r->len : 0);
  r->sent = 0;
  r->next = NULL;
  pthread_mutex_lock (&c->send_lock);
  if (c->send_failed)
    done = r;
  else {
    if (c->out_tail)
      c->out_tail->next = r;
    else
      c->out_head = r;
    c->out_tail = r;
    if (c->out_armed)
      ;                         /* the watcher sends when it can */
    else if (dio__engine_thread ())
      defer (c);
    else
      send_queued (c, &done);
  }
  pthread_mutex_unlock (&c->send_lock);
  finish_all (done);
}

/* The watcher: the socket has room for c's waiting replies. */
static void
send_waiting (struct nbd_client *c)
{
  struct nbd_req *done = NULL;

  pthread_mutex_lock (&c->send_lock);
  if (c->out_armed)
    send_queued (c, &done);
  pthread_mutex_unlock (&c->send_lock);
  finish_all (done);
}

/* Send c nothing more: the waiting replies go to *done, later ones are
 * dropped as they come (caller holds send_lock). */
static void
give_up_sending (struct nbd_client *c, struct nbd_req **done)
{
  c->out_closed = true;
  c->send_failed = true;
  shutdown (c->sock, SHUT_RDWR);
  send_queued (c, done);
}

/* c is no longer watched: replies that wait for room are dropped, and
 * later ones too if the socket is ever full (the client is going). */
static void
stop_waiting (struct nbd_client *c)
{
  struct nbd_req *done = NULL;

  pthread_mutex_lock (&c->send_lock);
  c->out_closed = true;
  if (c->out_armed)
    give_up_sending (c, &done);
  pthread_mutex_unlock (&c->send_lock);
  finish_all (done);
}

/* Answer r (which is then finished: freed, counted out). */
static void
answer (struct nbd_req *r, int err)
{
  reply (r, nbd_error (err));
}

/* ---- the engine's completions ------------------------------------------ */

/* A read's or write's completion: a short transfer is a failure (the
 * export's size was checked, so a short read means the file shrank). */
static void
io_done (void *opaque, ssize_t result, int err)
{
  struct nbd_req *r = opaque;

  if (result == (ssize_t) r->len)
    err = 0;
  else if (result >= 0) {
    log_failure (r, r->type == NBD_CMD_READ
                 ? "only %zd bytes before the end of the file (truncated "
                   "on the server?)" : "the server wrote only %zd bytes",
                 result);
    err = EIO;
  }
  else
    log_failure (r, "%s", strerror (err));
  answer (r, err);
}

/* ---- the worker: flushes and zeroes ------------------------------------ */

static void
queue_for_worker (struct nbd_server *s, struct nbd_req *r)
{
  pthread_mutex_lock (&s->wlock);
  r->next = NULL;
  if (s->wtail)
    s->wtail->next = r;
  else
    s->whead = r;
  s->wtail = r;
  pthread_cond_signal (&s->wcond);
  pthread_mutex_unlock (&s->wlock);
}

/* Every write answered before a flush arrived must be durable.  With
 * --writes=unstable dio_fsync COMMITs, and fails with EIO when the
 * server restarted since the writes (their verifier changed): a flush
 * never succeeds over writes that may be lost.  One COMMIT sent after
 * all the waiting flushes arrived covers every one of them (as qemu's
 * flushes share one): under fio --fsync=1 at iodepth 16 the worker
 * finds several queued, and one COMMIT (an fsync on the server) for
 * each would make it the bottleneck. */
static int
commit_for_flushes (struct nbd_server *s, char *msg, size_t size)
{
  int err = 0;

  if (dio_fsync (s->e->fd) == -1) {
    err = errno;
    snprintf (msg, size, "%s", dio_last_error ());
  }
  if (err == EIO) {
    pthread_mutex_lock (&s->wlock);
    s->lost_writes++;
    pthread_mutex_unlock (&s->wlock);
  }
  return err;
}

/* A flush's answer, given the COMMIT's.  A loss is told once to every
 * client connected when it was found, at its next flush, since the
 * lost writes may have come through any of them. */
static int
flush_result (struct nbd_req *r, int err)
{
  struct nbd_server *s = r->c->s;

  pthread_mutex_lock (&s->wlock);
  if (err == 0 && r->c->lost_seen != s->lost_writes) {
    err = EIO;
    log_failure (r, "writes may have been lost: an earlier flush found "
                 "that the server restarted before they were committed");
  }
  if (err == EIO)
    r->c->lost_seen = s->lost_writes;
  pthread_mutex_unlock (&s->wlock);
  return err;
}

/* Zeroes are written (stable: FUA holds) from one zeroed buffer
 * repeated in an iovec: parallel chunks, nothing allocated. */
static int
run_zero (struct nbd_req *r)
{
  struct nbd_server *s = r->c->s;
  struct iovec iov[ZERO_IOVS];
  uint64_t pos = r->offset;
  uint32_t left = r->len;

  while (left > 0) {
    uint32_t len = 0;
    int n;
    ssize_t w;

    for (n = 0; n < ZERO_IOVS && len < left; n++) {
      iov[n].iov_base = s->zero_buf;
      iov[n].iov_len = left - len < ZERO_BUF_SIZE ? left - len : ZERO_BUF_SIZE;
      len += iov[n].iov_len;
    }
    w = dio_pwritev (s->e->fd, iov, n, pos);
    if (w <= 0) {
      int err = w == 0 ? EIO : errno;
      log_failure (r, "%s", w == 0 ? "the server wrote nothing"
                   : dio_last_error ());
      return err;
    }
    pos += w;
    left -= w;
  }
  return 0;
}

/* Each turn takes every queued request.  If flushes are among them,
 * one COMMIT answers them all, each flush of a failed one saying so in
 * the log (they may be different clients'); the zeroes, which no flush
 * queued with them covers (they are not answered yet), are written in
 * their turn. */
static void *
worker (void *arg)
{
  struct nbd_server *s = arg;

  for (;;) {
    struct nbd_req *r, *q;
    char msg[512] = "";
    bool flushes = false;
    int err = 0;

    pthread_mutex_lock (&s->wlock);
    while (!s->wexit && s->whead == NULL)
      pthread_cond_wait (&s->wcond, &s->wlock);
    r = s->whead;
    s->whead = s->wtail = NULL;
    pthread_mutex_unlock (&s->wlock);
    if (r == NULL)
      return NULL;
    for (q = r; q; q = q->next)
      flushes |= q->type == NBD_CMD_FLUSH;
    if (flushes)
      err = commit_for_flushes (s, msg, sizeof msg);
    for (; r; r = q) {
      q = r->next;              /* answer frees r */
      if (r->type != NBD_CMD_FLUSH)
        answer (r, run_zero (r));
      else {
        if (err)
          log_failure (r, "%s", msg);
        answer (r, flush_result (r, err));
      }
    }
  }
}

/* ---- requests ----------------------------------------------------------- */

/* The error for a request the export cannot take, or 0. */
static int
check_request (const struct nbd_export *e, const struct nbd_req *r)
{
  bool data = r->type == NBD_CMD_READ || r->type == NBD_CMD_WRITE
    || r->type == NBD_CMD_WRITE_ZEROES;

  if (r->flags & ~(NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE))
    return EINVAL;
  if (!data)
    return r->type == NBD_CMD_FLUSH ? 0 : EINVAL;
  if (r->type != NBD_CMD_READ && e->readonly)
    return EPERM;
  if (r->len > e->size || r->offset > e->size - r->len)
    return r->type == NBD_CMD_READ ? EINVAL : ENOSPC;
  if (r->len == 0)
    return EINVAL;
  if (r->type != NBD_CMD_WRITE_ZEROES && r->len > NBD_HARD_MAX)
    return ENOMEM;
  return 0;
}

static void
start_request (struct nbd_req *r, int err)
{
  const struct nbd_export *e = r->c->s->e;
  int flags = e->unstable && !(r->flags & NBD_CMD_FLAG_FUA)
    ? DIO_WRITE_UNSTABLE : 0;

  if (err == 0) {
    switch (r->type) {
    case NBD_CMD_READ:
      if (dio_aio_pread (e->fd, r->data, r->len, r->offset, io_done, r)
          == 0)
        return;
      break;
    case NBD_CMD_WRITE:
      if (dio_aio_pwrite (e->fd, r->data, r->len, r->offset, flags,
                          io_done, r) == 0)
        return;
      break;
    case NBD_CMD_FLUSH:
      if (!e->unstable)
        break;                  /* every answered write is durable */
      queue_for_worker (r->c->s, r);
      return;
    default:                    /* WRITE_ZEROES */
      queue_for_worker (r->c->s, r);
      return;
    }
    if (r->type != NBD_CMD_FLUSH) {
      err = errno;
      log_failure (r, "%s", dio_last_error ());
    }
  }
  answer (r, err);
}

/* Count a request of bytes in; false (and the client paused) if it is
 * over its limits and must wait. */
static bool
admit (struct nbd_client *c, uint32_t bytes)
{
  bool ok;

  pthread_mutex_lock (&c->lock);
  ok = c->inflight == 0 || (c->inflight < MAX_INFLIGHT
                            && c->inflight_bytes + bytes <= MAX_INFLIGHT_BYTES);
  if (ok) {
    c->inflight++;
    c->inflight_bytes += bytes;
  }
  else {
    c->paused = true;
    set_events (c);
  }
  pthread_mutex_unlock (&c->lock);
  return ok;
}

/* The client is done sending (it went away, disconnected, broke the
 * protocol, or the server stops): it is freed once its requests are
 * answered.  The watcher does not touch it after this. */
static void
end_reading (struct nbd_client *c)
{
  bool last;

  epoll_ctl (c->s->ep, EPOLL_CTL_DEL, c->sock, NULL);
  stop_waiting (c);             /* not closing yet: c stays */
  if (c->partial) {
    struct nbd_req *r = c->partial;
    c->partial = NULL;
    finish (r);
  }
  pthread_mutex_lock (&c->lock);
  c->closing = true;
  last = c->inflight == 0;
  pthread_mutex_unlock (&c->lock);
  if (last)
    client_free (c);
}

/* The client sent NBD_CMD_DISC: it sends nothing more, but the replies
 * to what it sent before are owed (the protocol says so): the watcher
 * keeps it, watching only for room to send them, and ends it once
 * nothing is in flight or queued (or the client hangs up).  No partial
 * write here: DISC is parsed only between requests. */
static void
start_draining (struct nbd_client *c)
{
  bool idle;

  pthread_mutex_lock (&c->lock);
  c->draining = true;
  idle = c->inflight == 0;
  set_events (c);
  pthread_mutex_unlock (&c->lock);
  if (idle)
    end_reading (c);
}

struct wire_request {
  uint32_t magic;
  uint16_t flags, type;
  uint64_t handle, offset;
  uint32_t len;
} __attribute__ ((packed));

/* Start the requests whole in the buffer; a write whose payload is not
 * all there becomes the partial one.  False if the client is paused or
 * has ended. */
static bool
parse_buffered (struct nbd_client *c)
{
  const struct nbd_export *e = c->s->e;

  while (c->partial == NULL && c->rend - c->rstart >= NBD_REQUEST_SIZE) {
    struct wire_request w;
    struct nbd_req h, *r;
    int err;
    size_t extra, have;

    memcpy (&w, c->rbuf + c->rstart, sizeof w);
    if (be32toh (w.magic) != NBD_REQUEST_MAGIC) {
      error_msg ("%s: %s: bad request magic 0x%08x: disconnecting", e->name,
                 c->peer, be32toh (w.magic));
      end_reading (c);
      return false;
    }
    h = (struct nbd_req) {
      .c = c, .handle = w.handle, .offset = be64toh (w.offset),
      .len = be32toh (w.len), .flags = be16toh (w.flags),
      .type = be16toh (w.type)
    };
    if (h.type == NBD_CMD_DISC) {
      start_draining (c);
      return false;
    }
    err = check_request (e, &h);
    /* A write's payload is read even if it is refused: into its buffer,
     * or (data NULL) dropped. */
    extra = (h.type == NBD_CMD_WRITE || h.type == NBD_CMD_READ) && err == 0
      ? h.len : 0;
    if (!admit (c, extra))
      return false;
    h.admitted = extra;
    r = malloc (sizeof *r + extra);
    if (r == NULL) {
      error_msg ("%s: %s: out of memory for a request of %u bytes: "
                 "disconnecting", e->name, c->peer, h.len);
      count_out (c, extra);
      end_reading (c);
      return false;
    }
    *r = h;
    r->data = h.type == NBD_CMD_WRITE && err ? NULL : r->buf;
    c->rstart += NBD_REQUEST_SIZE;
    if (h.type == NBD_CMD_WRITE) {
      have = c->rend - c->rstart < h.len ? c->rend - c->rstart : h.len;
      if (r->data)
        memcpy (r->data, c->rbuf + c->rstart, have);
      c->rstart += have;
      if (have < h.len) {
        c->partial = r;
        c->partial_got = have;
        break;
      }
    }
    start_request (r, err);
  }
  if (c->rstart == c->rend)
    c->rstart = c->rend = 0;
  return true;
}

/* One receive: into the partial write's payload, or the buffer.  2 if
 * less came than was asked for (all that had arrived: another recv would
 * only say EAGAIN), 1 if as much, 0 if nothing is waiting, -1 at the
 * end (EOF, error). */
static int
receive (struct nbd_client *c)
{
  struct nbd_req *r = c->partial;
  size_t want;
  ssize_t n;

  if (r) {
    size_t left = r->len - c->partial_got;
    /* A refused write's payload is dropped into the buffer, which is
     * empty while a partial request is being received. */
    want = r->data || left < RBUF_SIZE ? left : RBUF_SIZE;
    n = recv (c->sock, r->data ? r->data + c->partial_got : c->rbuf, want,
              MSG_DONTWAIT);
    if (n > 0 && (c->partial_got += n) == r->len) {
      c->partial = NULL;
      start_request (r, check_request (c->s->e, r));
    }
  }
  else {
    if (c->rend == RBUF_SIZE) {         /* a header split at the end */
      memmove (c->rbuf, c->rbuf + c->rstart, c->rend - c->rstart);
      c->rend -= c->rstart;
      c->rstart = 0;
    }
    want = RBUF_SIZE - c->rend;
    n = recv (c->sock, c->rbuf + c->rend, want, MSG_DONTWAIT);
    if (n > 0)
      c->rend += n;
  }
  if (n > 0)
    return (size_t) n < want ? 2 : 1;
  if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return 0;
  if (n == -1 && errno != ECONNRESET && errno != EPIPE)
    error_msg ("%s: %s: receiving: %s", c->s->e->name, c->peer,
               strerror (errno));
  return -1;
}

/* On the engine thread: start what the client has sent. */
static void
serve_client (struct nbd_client *c, uint32_t events)
{
  bool paused, draining, idle;

  if (events & EPOLLOUT) {
    pthread_mutex_lock (&c->lock);
    c->recheck = false;         /* looked at now */
    set_events (c);
    pthread_mutex_unlock (&c->lock);
    send_waiting (c);
  }
  pthread_mutex_lock (&c->lock);
  paused = c->paused;
  draining = c->draining;
  idle = c->inflight == 0;
  pthread_mutex_unlock (&c->lock);
  if (draining) {
    if (idle || (events & (EPOLLHUP | EPOLLERR)))
      end_reading (c);
    return;
  }
  if (paused) {
    /* A hang-up or an error: nobody is left to read the replies. */
    if (events & (EPOLLHUP | EPOLLERR))
      end_reading (c);
    return;
  }
  if (!parse_buffered (c))
    return;
  for (int i = 0; i < RECVS_PER_WAKE; i++) {
    int r = receive (c);
    if (r == 0)
      return;
    if (r == -1) {
      end_reading (c);
      return;
    }
    if (!parse_buffered (c) || r == 2)
      return;
  }
}

/* The watch: runs on the engine thread whenever a client's socket is
 * ready. */
static bool
watch_clients (void *arg)
{
  struct nbd_server *s = arg;
  struct epoll_event ev[EVENTS_PER_WAKE];
  int n = epoll_wait (s->ep, ev, EVENTS_PER_WAKE, 0);

  for (int i = 0; i < n; i++)
    serve_client (ev[i].data.ptr, ev[i].events);
  return true;
}

/* ---- clients come and go ------------------------------------------------ */

static void
client_free (struct nbd_client *c)
{
  struct nbd_server *s = c->s;
  struct nbd_client **pp;
  uint64_t one = 1;

  pthread_mutex_lock (&s->lock);
  for (pp = &s->clients; *pp != c; pp = &(*pp)->next)
    ;
  *pp = c->next;
  pthread_mutex_unlock (&s->lock);
  if (s->e->verbose)
    error_msg ("%s: %s: disconnected", s->e->name, c->peer);
  close (c->sock);
  free (c->rbuf);
  pthread_mutex_destroy (&c->lock);
  pthread_mutex_destroy (&c->send_lock);
  free (c);
  /* Last, and under the lock: once the count is 0 nbd_server_stop may
   * free s, and whoever reads gone_fd looks at the count.  The write
   * does not block (EFD_NONBLOCK), and fails only when the count is
   * full, which is readable anyway. */
  pthread_mutex_lock (&s->lock);
  s->nclients--;
  (void) !write (s->gone_fd, &one, sizeof one);
  if (s->nclients == 0)
    pthread_cond_broadcast (&s->idle);
  pthread_mutex_unlock (&s->lock);
}

int
nbd_server_add (struct nbd_server *s, int sock, const char *peer)
{
  struct nbd_client *c = calloc (1, sizeof *c);
  struct epoll_event ev = { .events = EPOLLIN };
  int err;

  if (c == NULL || (c->rbuf = malloc (RBUF_SIZE)) == NULL) {
    free (c);
    close (sock);
    errno = ENOMEM;
    return -1;
  }
  c->s = s;
  c->sock = sock;
  snprintf (c->peer, sizeof c->peer, "%s", peer);
  pthread_mutex_init (&c->lock, NULL);
  pthread_mutex_init (&c->send_lock, NULL);
  c->events = EPOLLIN;
  pthread_mutex_lock (&s->wlock);
  c->lost_seen = s->lost_writes;
  pthread_mutex_unlock (&s->wlock);
  pthread_mutex_lock (&s->lock);
  c->next = s->clients;
  s->clients = c;
  s->nclients++;
  pthread_mutex_unlock (&s->lock);
  ev.data.ptr = c;
  if (epoll_ctl (s->ep, EPOLL_CTL_ADD, sock, &ev) == 0)
    return 0;
  err = errno;
  pthread_mutex_lock (&c->lock);
  c->closing = true;            /* nothing in flight: freed here */
  pthread_mutex_unlock (&c->lock);
  client_free (c);
  errno = err;
  return -1;
}

unsigned
nbd_server_clients (struct nbd_server *s)
{
  unsigned n;

  pthread_mutex_lock (&s->lock);
  n = s->nclients;
  pthread_mutex_unlock (&s->lock);
  return n;
}

int
nbd_server_gone_fd (struct nbd_server *s)
{
  return s->gone_fd;
}

/* ---- start and stop ----------------------------------------------------- */

static void
server_free (struct nbd_server *s)
{
  if (s->ep >= 0)
    close (s->ep);
  if (s->gone_fd >= 0)
    close (s->gone_fd);
  free (s->zero_buf);
  pthread_cond_destroy (&s->wcond);
  pthread_mutex_destroy (&s->wlock);
  pthread_cond_destroy (&s->idle);
  pthread_mutex_destroy (&s->lock);
  free (s);
}

int
nbd_server_start (const struct nbd_export *e, struct nbd_server **out)
{
  struct nbd_server *s = calloc (1, sizeof *s);
  int err;

  if (s == NULL) {
    error_msg ("out of memory");
    return -1;
  }
  s->e = e;
  pthread_mutex_init (&s->lock, NULL);
  err = cond_init_monotonic (&s->idle);    /* wait_until_none's */
  pthread_mutex_init (&s->wlock, NULL);
  pthread_cond_init (&s->wcond, NULL);
  s->ep = epoll_create1 (EPOLL_CLOEXEC);
  s->gone_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (err) {
    error_msg ("cannot start the server: %s", strerror (err));
    server_free (s);
    return -1;
  }
  if (s->ep == -1 || s->gone_fd == -1) {
    error_msg ("cannot make the server's descriptors: %s", strerror (errno));
    server_free (s);
    return -1;
  }
  if (!e->readonly && (s->zero_buf = calloc (1, ZERO_BUF_SIZE)) == NULL) {
    error_msg ("out of memory");
    server_free (s);
    return -1;
  }
  err = start_thread (&s->worker, false, worker, s);
  if (err) {
    error_msg ("cannot start a thread: %s", strerror (err));
    server_free (s);
    return -1;
  }
  dio__engine_pass_hook (send_deferred);
  if (dio__fd_watch (e->fd, s->ep, watch_clients, s) == -1) {
    error_msg ("%s", dio_last_error ());
    nbd_server_stop (s, 0, NULL, NULL);
    return -1;
  }
  *out = s;
  return 0;
}

/* Drop the replies waiting on one client's queue, and any it would
 * queue later; false if no client had any.  Each call empties a queue
 * for good, so a loop of calls ends after one per client. */
static bool
drop_one_queue (struct nbd_server *s)
{
  struct nbd_req *done = NULL;

  pthread_mutex_lock (&s->lock);
  for (struct nbd_client *c = s->clients; c && done == NULL; c = c->next) {
    pthread_mutex_lock (&c->send_lock);
    give_up_sending (c, &done);
    pthread_mutex_unlock (&c->send_lock);
  }
  pthread_mutex_unlock (&s->lock);
  finish_all (done);            /* may free the client */
  return done != NULL;
}

/* Watch stopped: end every client's reading, as the watcher would.
 * Each pass marks clients closing until it finds one to free, so the
 * loop ends after at most one pass per client. */
static void
disconnect_all (struct nbd_server *s)
{
  for (;;) {
    struct nbd_client *c, *last = NULL;

    pthread_mutex_lock (&s->lock);
    for (c = s->clients; c && last == NULL; c = c->next) {
      pthread_mutex_lock (&c->lock);
      if (!c->closing) {
        shutdown (c->sock, SHUT_RDWR);  /* replies fail at once */
        if (c->partial) {
          c->inflight--;
          c->inflight_bytes -= c->partial->admitted;
          free (c->partial);
          c->partial = NULL;
        }
        c->closing = true;
        if (c->inflight == 0)
          last = c;
      }
      pthread_mutex_unlock (&c->lock);
    }
    pthread_mutex_unlock (&s->lock);
    if (last == NULL)
      break;
    client_free (last);
  }
  while (drop_one_queue (s))
    ;
}

int
nbd_server_stop (struct nbd_server *s, unsigned wait_s,
                 stop_ask_fn *give_up, void *arg)
{
  bool none;

  dio__fd_watch (s->e->fd, -1, NULL, NULL);
  disconnect_all (s);
  pthread_mutex_lock (&s->lock);
  none = wait_until_none (&s->lock, &s->idle, &s->nclients, wait_s,
                          give_up, arg);
  pthread_mutex_unlock (&s->lock);
  if (!none)
    return -1;                  /* completions may still come: keep all */
  dio__engine_pass_hook (NULL);
  pthread_mutex_lock (&s->wlock);
  s->wexit = true;
  pthread_cond_signal (&s->wcond);
  pthread_mutex_unlock (&s->wlock);
  pthread_join (s->worker, NULL);
  server_free (s);
  return 0;
}
