/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A TCP relay that cuts connections at random (relay.h).
 *
 * Threading: one acceptor thread, and two pump threads per connection
 * (client to server, server to client) doing blocking reads and writes,
 * so a slow reader on one side never stalls the other direction.  The
 * counters, the random state and every pair's budget, cut state and live
 * count are guarded by lock.  A pair's descriptors are closed by the last
 * of its pumps to finish; the acceptor (or relay_stop) joins finished
 * pumps.
 *
 * To cut only inside requests, the server-to-client pump follows the RPC
 * record marks (RFC 5531 section 11) of the replies: when the request
 * side runs out of budget it forwards part of its data (so the cut falls
 * inside a request), stops, and leaves the cut to the reply side, which
 * makes it at the next end of a reply record. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fault_helpers.h"
#include "relay.h"

#define MAX_PAIRS 64
#define PUMP_BUF (64 * 1024)
#define NO_CUT UINT64_MAX

struct relay;

/* Where the reply stream is in its record marking. */
struct records {
  unsigned hdr_have;            /* bytes of the 4-byte mark seen */
  unsigned char hdr[4];
  uint32_t frag_left;           /* bytes left in this fragment */
  bool last;                    /* this fragment ends the record */
  uint32_t body_off;            /* bytes of this record's body seen */
  unsigned *jukebox_left;       /* the relay's: replies still to turn */
};

/* An accepted RPC reply with an empty verifier (RFC 5531): xid, REPLY,
 * MSG_ACCEPTED, verifier flavor and length, SUCCESS, and then the
 * procedure's result, which for NFSv3 starts with its nfsstat3. */
#define REPLY_HEADER 24
#define NFS3ERR_JUKEBOX 10008

struct pump {
  struct pair *pair;
  bool to_server;
  int from, to;
  pthread_t thread;
};

struct pair {
  struct relay *r;
  int fd[2];                    /* client side, server side */
  struct pump pumps[2];
  struct records replies;       /* server-to-client pump only */
  bool in_use;                  /* threads started, not yet joined */
  unsigned live;                /* pumps still running */
  uint64_t budget;              /* bytes until the cut, or NO_CUT */
  bool reset;                   /* cut with RST rather than FIN */
  bool at_boundary;             /* no reply partly forwarded */
  bool cut_pending;             /* cut at the next reply boundary */
  bool cut_done;
};

struct relay {
  int lfd, target, port;
  int wake[2];
  pthread_t acceptor;
  pthread_mutex_t lock;
  uint64_t rng;
  enum relay_cut where;
  uint64_t min, max;
  unsigned max_drops, accepts, drops;
  unsigned jukebox_left;        /* atomic */
  struct pair pairs[MAX_PAIRS];
};

/* A new budget for a pair; lock held. */
static void
arm_locked (struct relay *r, struct pair *p)
{
  if (r->drops < r->max_drops) {
    p->budget = fault_range (&r->rng, r->min, r->max);
    /* An RST may discard replies the client has not read yet: only
     * where replies may be cut anyway. */
    p->reset = r->where == RELAY_CUT_ANYWHERE && (fault_rand (&r->rng) & 1);
  }
  else
    p->budget = NO_CUT;
}

/* Shut both sockets down (the pumps wake up and end); lock held. */
static void
cut_locked (struct pair *p)
{
  if (p->cut_done)
    return;
  p->cut_done = true;
  for (int i = 0; i < 2; i++) {
    if (p->reset) {
      struct linger l = { .l_onoff = 1, .l_linger = 0 };
      setsockopt (p->fd[i], SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    shutdown (p->fd[i], SHUT_RDWR);
  }
}

/* How much of n bytes may pass before the cut; *cut_now says whether the
 * cut follows them. */
static size_t
take_budget (struct pump *pu, size_t n, bool *cut_now)
{
  struct pair *p = pu->pair;
  struct relay *r = p->r;

  *cut_now = false;
  pthread_mutex_lock (&r->lock);
  if (p->budget != NO_CUT && r->drops >= r->max_drops)
    p->budget = NO_CUT;
  if (p->budget != NO_CUT && (pu->to_server || r->where == RELAY_CUT_ANYWHERE)) {
    if (n >= p->budget) {
      n = p->budget;
      p->budget = NO_CUT;
      r->drops++;
      *cut_now = true;
    }
    else
      p->budget -= n;
  }
  pthread_mutex_unlock (&r->lock);
  return n;
}

static bool
write_all (int fd, const char *buf, size_t n)
{
  while (n > 0) {
    /* A cut socket must give EPIPE here, not kill the test. */
    ssize_t w = send (fd, buf, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    buf += w;
    n -= w;
  }
  return true;
}

static uint32_t
get32 (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* seg is the start of a reply's body: if it succeeded (NFS3_OK) and the
 * relay has replies left to turn, make it NFS3ERR_JUKEBOX.  The error
 * result of READ, WRITE and COMMIT starts as their success result does
 * (attributes), so the client decodes the changed reply cleanly. */
static void
maybe_jukebox (struct records *rs, unsigned char *seg, size_t take)
{
  unsigned left;

  if (rs->body_off != 0 || take < REPLY_HEADER + 4
      || get32 (seg + 4) != 1 || get32 (seg + 8) != 0
      || get32 (seg + 16) != 0 || get32 (seg + 20) != 0
      || get32 (seg + REPLY_HEADER) != 0)
    return;
  left = __atomic_load_n (rs->jukebox_left, __ATOMIC_ACQUIRE);
  do
    if (left == 0)
      return;
  while (!__atomic_compare_exchange_n (rs->jukebox_left, &left, left - 1,
                                       false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE));
  seg[REPLY_HEADER + 2] = NFS3ERR_JUKEBOX >> 8;
  seg[REPLY_HEADER + 3] = NFS3ERR_JUKEBOX & 0xff;
}

/* The bytes of buf[0, n) up to the end of the current reply record (all
 * n if it does not end there); *ended says whether a record ends.  Turns
 * replies into NFS3ERR_JUKEBOX on the way (relay_set_jukebox). */
static size_t
record_scan (struct records *rs, unsigned char *buf, size_t n,
             bool *ended)
{
  size_t i = 0;

  *ended = false;
  while (i < n) {
    if (rs->hdr_have < 4) {
      rs->hdr[rs->hdr_have++] = buf[i++];
      if (rs->hdr_have < 4)
        continue;
      rs->last = rs->hdr[0] >> 7;
      rs->frag_left = ((uint32_t) (rs->hdr[0] & 0x7f) << 24)
        | (rs->hdr[1] << 16) | (rs->hdr[2] << 8) | rs->hdr[3];
    }
    else {
      size_t take = n - i < rs->frag_left ? n - i : rs->frag_left;
      maybe_jukebox (rs, buf + i, take);
      rs->body_off += take;
      i += take;
      rs->frag_left -= take;
    }
    if (rs->frag_left == 0) {
      rs->hdr_have = 0;
      if (rs->last) {
        rs->body_off = 0;
        *ended = true;
        return i;
      }
    }
  }
  return i;
}

/* Client to server: cut inside a request when the budget runs out, or
 * hand the cut to the reply side.  Returns false when the pump ends. */
static bool
forward_request (struct pump *pu, const char *buf, size_t n)
{
  struct pair *p = pu->pair;
  bool cut_now;
  size_t pass = take_budget (pu, n, &cut_now);

  if (!write_all (pu->to, buf, pass))
    return false;
  if (!cut_now)
    return true;
  pthread_mutex_lock (&p->r->lock);
  if (p->r->where == RELAY_CUT_ANYWHERE || p->at_boundary)
    cut_locked (p);
  else
    p->cut_pending = true;
  pthread_mutex_unlock (&p->r->lock);
  return false;
}

/* Server to client, a record at a time.  Returns false when the pump
 * ends. */
static bool
forward_replies (struct pump *pu, char *buf, size_t n)
{
  struct pair *p = pu->pair;

  while (n > 0) {
    bool ended, cut_now, stop = false;
    size_t seg = record_scan (&p->replies, (unsigned char *) buf, n,
                              &ended);
    size_t pass;

    pthread_mutex_lock (&p->r->lock);
    if (p->cut_pending && p->at_boundary) {
      cut_locked (p);
      stop = true;
    }
    p->at_boundary = false;
    pthread_mutex_unlock (&p->r->lock);
    if (stop)
      return false;

    pass = take_budget (pu, seg, &cut_now);
    if (!write_all (pu->to, buf, pass))
      return false;
    if (cut_now) {
      pthread_mutex_lock (&p->r->lock);
      cut_locked (p);
      pthread_mutex_unlock (&p->r->lock);
      return false;
    }
    if (ended) {
      pthread_mutex_lock (&p->r->lock);
      p->at_boundary = true;
      if (p->cut_pending) {
        cut_locked (p);
        stop = true;
      }
      pthread_mutex_unlock (&p->r->lock);
      if (stop)
        return false;
    }
    buf += seg;
    n -= seg;
  }
  return true;
}

static void *
pump_thread (void *arg)
{
  struct pump *pu = arg;
  struct pair *p = pu->pair;
  char *buf = malloc (PUMP_BUF);
  bool last, deferred;

  for (;;) {
    ssize_t n = buf ? read (pu->from, buf, PUMP_BUF) : -1;

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    if (!(pu->to_server ? forward_request (pu, buf, n)
                        : forward_replies (pu, buf, n)))
      break;
  }
  free (buf);
  pthread_mutex_lock (&p->r->lock);
  /* Either side ending ends the pair, unless the request side has left
   * the cut to the reply side. */
  deferred = pu->to_server && p->cut_pending && !p->cut_done;
  if (!deferred)
    cut_locked (p);
  last = --p->live == 0;
  pthread_mutex_unlock (&p->r->lock);
  if (last) {
    close (p->fd[0]);
    close (p->fd[1]);
  }
  return NULL;
}

/* Join the pumps of finished pairs (of all pairs if all). */
static void
reap (struct relay *r, bool all)
{
  for (int i = 0; i < MAX_PAIRS; i++) {
    struct pair *p = &r->pairs[i];
    bool done;

    pthread_mutex_lock (&r->lock);
    done = p->in_use && (all || p->live == 0);
    pthread_mutex_unlock (&r->lock);
    if (!done)
      continue;
    pthread_join (p->pumps[0].thread, NULL);
    pthread_join (p->pumps[1].thread, NULL);
    pthread_mutex_lock (&r->lock);
    p->in_use = false;
    pthread_mutex_unlock (&r->lock);
  }
}

static int
connect_target (int port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (port) };
  int one = 1;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd == -1)
    return -1;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *) &a, sizeof a) == -1) {
    close (fd);
    return -1;
  }
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* Start the pumps of a new connection, or close it if it cannot be
 * served. */
static void
serve (struct relay *r, int cfd)
{
  struct pair *p = NULL;
  int sfd, one = 1;

  reap (r, false);
  sfd = connect_target (r->target);
  pthread_mutex_lock (&r->lock);
  for (int i = 0; i < MAX_PAIRS && sfd >= 0; i++)
    if (!r->pairs[i].in_use) {
      p = &r->pairs[i];
      break;
    }
  if (p) {
    *p = (struct pair) { .r = r, .fd = { cfd, sfd }, .live = 2,
                         .in_use = true, .at_boundary = true,
                         .replies.jukebox_left = &r->jukebox_left };
    arm_locked (r, p);
    r->accepts++;
  }
  pthread_mutex_unlock (&r->lock);
  if (p == NULL) {
    close (cfd);
    if (sfd >= 0)
      close (sfd);
    return;
  }
  setsockopt (cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  for (int i = 0; i < 2; i++) {
    p->pumps[i] = (struct pump) { .pair = p, .to_server = i == 0,
                                  .from = p->fd[i], .to = p->fd[1 - i] };
    if (pthread_create (&p->pumps[i].thread, NULL, pump_thread,
                        &p->pumps[i]) != 0)
      abort ();                 /* a test helper: no partial pairs */
  }
}

static void *
acceptor_thread (void *arg)
{
  struct relay *r = arg;

  for (;;) {
    struct pollfd fds[2] = { { r->lfd, POLLIN, 0 }, { r->wake[0], POLLIN, 0 } };
    int cfd;

    if (poll (fds, 2, -1) == -1 && errno != EINTR)
      break;
    if (fds[1].revents)
      break;
    if (!(fds[0].revents & POLLIN))
      continue;
    cfd = accept4 (r->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (cfd >= 0)
      serve (r, cfd);
  }
  return NULL;
}

struct relay *
relay_start (int target_port, uint64_t seed)
{
  struct relay *r = calloc (1, sizeof *r);
  struct sockaddr_in a = { .sin_family = AF_INET };
  socklen_t len = sizeof a;
  int one = 1, e;

  if (r == NULL)
    return NULL;
  r->target = target_port;
  r->rng = seed;
  r->wake[0] = r->wake[1] = -1;
  pthread_mutex_init (&r->lock, NULL);
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  r->lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (r->lfd == -1
      || setsockopt (r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1
      || bind (r->lfd, (struct sockaddr *) &a, sizeof a) == -1
      || listen (r->lfd, 16) == -1
      || getsockname (r->lfd, (struct sockaddr *) &a, &len) == -1
      || pipe2 (r->wake, O_CLOEXEC) == -1)
    goto err;
  r->port = ntohs (a.sin_port);
  errno = pthread_create (&r->acceptor, NULL, acceptor_thread, r);
  if (errno != 0)
    goto err;
  return r;

 err:
  e = errno;
  if (r->lfd >= 0)
    close (r->lfd);
  if (r->wake[0] >= 0) {
    close (r->wake[0]);
    close (r->wake[1]);
  }
  pthread_mutex_destroy (&r->lock);
  free (r);
  errno = e;
  return NULL;
}

int
relay_port (const struct relay *r)
{
  return r->port;
}

void
relay_set_drops (struct relay *r, enum relay_cut where, uint64_t min,
                 uint64_t max, unsigned max_drops)
{
  pthread_mutex_lock (&r->lock);
  r->where = where;
  r->min = min;
  r->max = max;
  r->max_drops = r->drops + max_drops;
  for (int i = 0; i < MAX_PAIRS; i++)
    if (r->pairs[i].in_use && !r->pairs[i].cut_done
        && !r->pairs[i].cut_pending)
      arm_locked (r, &r->pairs[i]);
  pthread_mutex_unlock (&r->lock);
}

void
relay_set_jukebox (struct relay *r, unsigned n)
{
  __atomic_store_n (&r->jukebox_left, n, __ATOMIC_RELEASE);
}

unsigned
relay_jukebox_left (struct relay *r)
{
  return __atomic_load_n (&r->jukebox_left, __ATOMIC_ACQUIRE);
}

unsigned
relay_accepts (struct relay *r)
{
  unsigned n;

  pthread_mutex_lock (&r->lock);
  n = r->accepts;
  pthread_mutex_unlock (&r->lock);
  return n;
}

unsigned
relay_drops (struct relay *r)
{
  unsigned n;

  pthread_mutex_lock (&r->lock);
  n = r->drops;
  pthread_mutex_unlock (&r->lock);
  return n;
}

void
relay_stop (struct relay *r)
{
  char c = 0;

  if (r == NULL)
    return;
  if (write (r->wake[1], &c, 1) != 1)
    abort ();
  pthread_join (r->acceptor, NULL);
  /* Wake every pump still running, then join them all. */
  pthread_mutex_lock (&r->lock);
  for (int i = 0; i < MAX_PAIRS; i++)
    if (r->pairs[i].in_use && r->pairs[i].live > 0)
      cut_locked (&r->pairs[i]);
  pthread_mutex_unlock (&r->lock);
  reap (r, true);
  close (r->lfd);
  close (r->wake[0]);
  close (r->wake[1]);
  pthread_mutex_destroy (&r->lock);
  free (r);
}
