/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One connection and its service thread.
 *
 * The engine owns reconnects and soft timeouts rather than libnfs 4.0:
 * its automatic reconnect keeps a half-read reply across the new socket
 * (a READ can then return another reply's bytes as data), and its soft
 * timeout drops a half-sent WRITE whose record the server then completes
 * with the next RPC's bytes.  So libnfs runs with autoreconnect off and no
 * RPC timeout; when a connection fails or a soft deadline passes, the
 * context is destroyed (its RPCs come back cancelled and are queued again,
 * or failed with ETIMEDOUT past their deadline) and a fresh context mounts
 * again, with backoff.  An RPC without its reply after timeo is taken
 * as lost and its connection replaced the same way (Linux retransmits
 * then): hard mounts resend for ever, soft ones until their deadline.
 *
 * Threading: the libnfs context, the state, the in-flight list and
 * counters are guarded by ctx_lock, the context lock: whoever holds it
 * may touch the context, and no one else.  The service thread holds it
 * all the time except while it waits in poll() (spinning first, with
 * spin=, see spin.c, or asleep); it alone creates,
 * mounts, polls for replies, runs timers and destroys contexts, so
 * every reply and every completion callback runs on it.  A submitting
 * thread that finds the context lock free (the service thread asleep),
 * the connection up, nothing queued and room in the window starts its
 * job itself and writes the RPC to the socket (nfs_service with POLLOUT
 * only: that reads no reply; once up, the service thread reads replies
 * itself, see service_socket), instead of queueing it and waking the
 * service thread through the eventfd: that wake-up and the thread's
 * going back to sleep were two of the context switches of every small
 * request.  It wakes the service thread only when that must act: the
 * RPC is not all written (POLLOUT), the socket broke, or a soft
 * deadline now needs a thread that sleeps without one; a thread that
 * sleeps past the new RPC's timeo gets the timerfd armed instead (it
 * wakes then to see whether the reply is lost).  On that path nothing
 * completes: an RPC that a broken socket cancels is queued again (past
 * its soft deadline too: the service thread fails it), so callbacks
 * never run on a caller's thread.  Lock order: ctx_lock, then lock.
 * The job queue, the stopping, sleeping and kick flags and sleep_due_ms
 * are guarded by lock and shared with submitters.  Fields set before
 * the thread starts, and readmax/writemax (written before `started` is
 * signalled), are immutable. */
#include "internal.h"

#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>

#include "conn.h"
#include "errors.h"
#include "probe.h"
#include "replies.h"
#include "spin.h"
#include "stats.h"
#include "thread.h"

/* While soft RPCs are in flight the thread checks deadlines this often. */
#define DEADLINE_SCAN_MS 100

/* Pauses between mount attempts after a failure: doubling, capped. */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

/* Pauses before a job the server answered NFS3ERR_JUKEBOX is sent
 * again: doubling, capped (Linux waits 5 s each time). */
#define JUKEBOX_MIN_MS 100
#define JUKEBOX_MAX_MS 5000

/* An RPC failing with RPC_STATUS_ERROR on this many connections in a row
 * fails for good (EIO). */
#define MAX_ERROR_RETRIES 16

/* A mount attempt against a server that accepts the connection but never
 * answers gives up after this (a lone first attempt, retry=0: a minute);
 * a soft mount's attempts after timeo x retrans at most; any attempt
 * after timeo at most, as a lost reply (attempt_timeout_ms). */
#define REMOUNT_TIMEOUT_MS 10000
#define MOUNT_TIMEOUT_MS 60000

enum conn_state { CONN_CONNECTING, CONN_UP, CONN_DOWN };

struct dio_conn {
  /* Immutable after start. */
  pthread_t thread;
  int wakefd;
  char *url, *server, *export;
  unsigned mount_port, nfs_port;
  int timeout_ms;
  int timeo_ms;                 /* a reply later than this is lost */
  int timerfd;                  /* armed by submitters: see start_inline */
  int mount_retry_ms;
  uint32_t window_bytes, window_max;
  struct dio_mount_stats *stats;
  uint32_t readmax, writemax;   /* written before `started` */

  /* Start-up handshake. */
  struct dio_waiter started;
  int start_err;
  char start_msg[400];

  /* Guarded by lock. */
  pthread_mutex_t lock;
  struct dio_job *head, *tail;
  bool stopping;
  bool sleeping;                /* in poll: a submitter must wake it */
  bool sleep_scans;             /* ...and wakes for soft deadlines */
  uint64_t sleep_due_ms;        /* ...and wakes by then (UINT64_MAX: no) */
  bool kick;                    /* new work while down: retry at once */

  /* Guarded by ctx_lock (see Threading above). */
  pthread_mutex_t ctx_lock;
  enum conn_state state;
  bool ever_up;
  bool resetting;               /* inside nfs_destroy_context */
  bool need_reset;              /* the context is broken: replace it */
  bool mount_failed;
  bool attempt_timed_out;       /* the server did not answer in time */
  uint64_t attempt_deadline_ms; /* of the mount attempt in progress */
  uint64_t first_deadline_ms;   /* first mount: no attempt after; 0: none */
  struct nfs_context *nfs;
  struct dio_replies replies;   /* read by us once up: replies.c */
  struct dio_job *inflight_list;
  uint32_t inflight, inflight_bytes;
  struct dio_job *delayed;      /* by due_ms: see dio_conn_delay */
  unsigned backoff_ms;
  uint64_t retry_at_ms;
  uint64_t woke_ns;             /* the last poll's return: when the replies
                                   it brought came (per-RPC times) */
  struct dio_spin spin;         /* how long to poll before sleeping */
  int watch_fd;                 /* an outside descriptor: dio_conn_watch */
  dio_conn_watch_fn watch_fn;
  void *watch_arg;
};

static __thread struct dio_conn *serving; /* this thread's connection */
static dio_conn_pass_fn pass_hook;        /* atomic: dio_conn_pass_hook */
static uint32_t spin_default;             /* atomic: dio_conn_spin_default */

void
dio_conn_set_spin_default (uint32_t us)
{
  __atomic_store_n (&spin_default, us, __ATOMIC_RELAXED);
}

uint32_t
dio_conn_spin_default (void)
{
  return __atomic_load_n (&spin_default, __ATOMIC_RELAXED);
}

void
dio_conn_pass_hook (dio_conn_pass_fn fn)
{
  __atomic_store_n (&pass_hook, fn, __ATOMIC_RELEASE);
}

bool
dio_conn_on_service_thread (void)
{
  return serving != NULL;
}

struct dio_conn *
dio_conn_serving (void)
{
  return serving;
}

struct nfs_context *
dio_conn_nfs (struct dio_conn *c)
{
  return c->nfs;
}

struct rpc_context *
dio_conn_rpc (struct dio_conn *c)
{
  return nfs_get_rpc_context (c->nfs);
}

uint32_t
dio_conn_readmax (const struct dio_conn *c)
{
  return c->readmax;
}

uint32_t
dio_conn_writemax (const struct dio_conn *c)
{
  return c->writemax;
}

bool
dio_conn_lost (struct dio_conn *c)
{
  return c->resetting || c->nfs == NULL || nfs_get_fd (c->nfs) == -1;
}

/* ---- the job queue ----------------------------------------------------- */

static void
queue_front (struct dio_conn *c, struct dio_job *job)
{
  pthread_mutex_lock (&c->lock);
  job->next = c->head;
  c->head = job;
  if (c->tail == NULL)
    c->tail = job;
  pthread_mutex_unlock (&c->lock);
}

static bool start_inline (struct dio_conn *c, struct dio_job *job);
static void wake_locked (struct dio_conn *c);

void
dio_conn_submit (struct dio_conn *c, struct dio_job *job)
{
  job->next = NULL;
  job->expired = false;
  job->error_retries = 0;
  job->delays = 0;
  job->durable = false;
  job->queued_ns = dio_now_ns ();
  job->sent_ns = 0;
  job->replays = 0;
  job->deadline_ms = c->timeout_ms > 0 ? dio_now_ms () + c->timeout_ms : 0;
  if (serving != c && start_inline (c, job))
    return;
  pthread_mutex_lock (&c->lock);
  if (c->tail)
    c->tail->next = job;
  else
    c->head = job;
  c->tail = job;
  c->kick = true;
  /* One wake-up per sleep is enough; an awake thread looks at the queue
   * before it next sleeps.  Written under the lock: once it is dropped
   * the job may complete and the connection be stopped and freed. */
  wake_locked (c);
  pthread_mutex_unlock (&c->lock);
}

/* ---- in-flight accounting ------------------------------------------- */

static void
inflight_add (struct dio_conn *c, struct dio_job *job)
{
  job->iprev = NULL;
  job->inext = c->inflight_list;
  if (c->inflight_list)
    c->inflight_list->iprev = job;
  c->inflight_list = job;
  c->inflight++;
  c->inflight_bytes += job->bytes;
}

static void
inflight_remove (struct dio_conn *c, struct dio_job *job)
{
  if (job->iprev)
    job->iprev->inext = job->inext;
  else
    c->inflight_list = job->inext;
  if (job->inext)
    job->inext->iprev = job->iprev;
  c->inflight--;
  c->inflight_bytes -= job->bytes;
}

static bool
past_deadline (const struct dio_job *job, uint64_t now)
{
  return job->expired || (job->deadline_ms && now >= job->deadline_ms);
}

static void
fail_timed_out (struct dio_conn *c, struct dio_job *job)
{
  dio_count (c->stats->timeouts, 1);
  dio_count (c->stats->errors, 1);
  dio_op_done (c->stats, job->op, job->bytes, 0, job->queued_ns,
               dio_now_ns (), 1);
  job->fail (job, ETIMEDOUT);
}

/* libnfs 4.0 fails every RPC with RPC_STATUS_ERROR and this message when
 * its socket breaks (autoreconnect being off). */
static bool
socket_lost (int rpc_status, const void *data)
{
  return rpc_status == RPC_STATUS_ERROR && data != NULL
    && strstr ((const char *) data, "reconnect") != NULL;
}

bool
dio_conn_job_reclaimed (struct dio_conn *c, struct dio_job *job,
                        int rpc_status, const void *data)
{
  bool lost;

  inflight_remove (c, job);
  if (rpc_status == RPC_STATUS_SUCCESS && data != NULL
      && *(const int *) data == NFS3ERR_JUKEBOX) {
    dio_conn_delay (c, job);
    return true;
  }
  /* A broken socket or our own reset: send the RPC again on the next
   * connection, however many times (hard mounts never give up).  Other
   * errors (a reply that cannot be decoded may mean the stream is out of
   * step) replace the connection too, a bounded number of times. */
  lost = rpc_status == RPC_STATUS_CANCEL || c->resetting
    || socket_lost (rpc_status, data)
    || (rpc_status == RPC_STATUS_ERROR
        && job->error_retries++ < MAX_ERROR_RETRIES);
  if (!lost) {
    dio_op_done (c->stats, job->op, job->bytes, job->sent_ns, job->queued_ns,
                 c->woke_ns, rpc_status != RPC_STATUS_SUCCESS
                 || (data != NULL && *(const int *) data != NFS3_OK));
    return false;
  }
  /* The connection went away under this RPC: send it again on the next
   * one, unless its soft deadline has passed. */
  if (!c->resetting)
    c->need_reset = true;
  job->replays++;
  /* Off the service thread (a socket that broke under start_inline's
   * write), nothing fails here: the service thread's expire_jobs does. */
  if (serving == c && past_deadline (job, dio_now_ms ()))
    fail_timed_out (c, job);
  else {
    dio_count (c->stats->op[job->op < DIO_OP_COUNT ? job->op : 0].retrans, 1);
    queue_front (c, job);
  }
  return true;
}

/* ---- delayed jobs (NFS3ERR_JUKEBOX) ---------------------------------- */

void
dio_conn_delay (struct dio_conn *c, struct dio_job *job)
{
  unsigned ms = JUKEBOX_MIN_MS << DIO_MIN (job->delays, 6u);
  struct dio_job **pp;

  job->delays++;
  dio_count (c->stats->jukebox_delays, 1);
  job->due_ms = dio_now_ms () + DIO_MIN (ms, (unsigned) JUKEBOX_MAX_MS);
  /* A soft job wakes at its deadline at the latest, to fail then. */
  if (job->deadline_ms && job->deadline_ms < job->due_ms)
    job->due_ms = job->deadline_ms;
  for (pp = &c->delayed; *pp && (*pp)->due_ms <= job->due_ms;
       pp = &(*pp)->next)
    ;
  job->next = *pp;
  *pp = job;
}

/* Queue the delayed jobs whose time has come (or fail them, past their
 * soft deadline). */
static void
release_delayed (struct dio_conn *c)
{
  uint64_t now = dio_now_ms ();

  while (c->delayed && c->delayed->due_ms <= now) {
    struct dio_job *job = c->delayed;
    c->delayed = job->next;
    if (past_deadline (job, now))
      fail_timed_out (c, job);
    else
      queue_front (c, job);
  }
}

/* ---- mounting -------------------------------------------------------- */

/* libnfs reports failures as negative errnos, but some paths give -1 or
 * -EFAULT for anything; keep real errnos and call the rest EIO. */
static int
libnfs_errno (int ret)
{
  if (ret < 0 && ret != -1 && ret != -EFAULT && -ret < 4096)
    return -ret;
  return EIO;
}

/* libnfs says "nfs_service failed" for most connection failures: find
 * out which port could not be reached, and why. */
static void
diagnose_mount (struct dio_conn *c)
{
  unsigned ports[2] = { c->mount_port ? c->mount_port : 111, c->nfs_port };
  char msg[200];

  for (int i = 0; i < 2; i++) {
    int err;
    if (ports[i] == 0)
      continue;
    err = dio_tcp_probe (c->server, ports[i], 3000, msg, sizeof msg);
    if (err) {
      c->start_err = err;
      snprintf (c->start_msg, sizeof c->start_msg, "%s", msg);
      return;
    }
  }
}

/* Destroy the context.  Its RPCs come back cancelled:
 * dio_conn_job_reclaimed queues them again (or fails them, past their
 * deadline). */
static void
destroy_context (struct dio_conn *c)
{
  if (c->nfs == NULL)
    return;
  c->resetting = true;
  nfs_destroy_context (c->nfs);
  c->resetting = false;
  c->nfs = NULL;
  dio_replies_reset (&c->replies);
  c->need_reset = false;
  c->mount_failed = false;
}

static void
attempt_failed (struct dio_conn *c, int err, const char *msg)
{
  if (!c->ever_up && c->start_err == 0) {
    c->start_err = err;
    snprintf (c->start_msg, sizeof c->start_msg, "%s", dio_text (msg));
  }
  destroy_context (c);
  c->state = CONN_DOWN;
  c->retry_at_ms = dio_now_ms () + c->backoff_ms;
  c->backoff_ms = DIO_MIN (2 * c->backoff_ms, (unsigned) BACKOFF_MAX_MS);
}

static void
mount_cb (int err, struct nfs_context *nfs, void *data, void *priv)
{
  struct dio_conn *c = priv;

  if (c->resetting)
    return;
  if (err) {
    /* Not here: a context cannot be destroyed from its own callback. */
    c->mount_failed = true;
    c->start_err = c->ever_up ? 0 : libnfs_errno (err);
    /* libnfs's own timeout ("Command timed out") is -EINTR. */
    if (c->start_err && data && strstr ((const char *) data, "timed out"))
      c->start_err = ETIMEDOUT;
    /* No answer from the server but a transport failure (libnfs says
     * -EFAULT for those): the connection was lost, as when nfs_service
     * fails; the first mount tries again. */
    else if (c->start_err && (err == -EFAULT || err == -1))
      c->start_err = ECONNRESET;
    snprintf (c->start_msg, sizeof c->start_msg, "%s",
              data ? (const char *) data : "mount failed");
    return;
  }
  nfs_set_timeout (nfs, 0);     /* soft deadlines are ours, see above */
  if (!c->ever_up) {
    c->readmax = nfs_get_readmax (nfs);
    c->writemax = nfs_get_writemax (nfs);
    c->ever_up = true;
  }
  else
    dio_count (c->stats->reconnects, 1);
  c->state = CONN_UP;
  c->backoff_ms = BACKOFF_MIN_MS;
}

/* How long one mount attempt may take. */
static int
attempt_timeout_ms (const struct dio_conn *c)
{
  int t = !c->ever_up && c->mount_retry_ms == 0 ? MOUNT_TIMEOUT_MS
    : REMOUNT_TIMEOUT_MS;

  if (c->timeo_ms > 0)
    t = DIO_MIN (t, c->timeo_ms);
  return c->timeout_ms > 0 ? DIO_MIN (t, c->timeout_ms) : t;
}

/* A mount attempt the server has not finished in time fails: the
 * engine's own bound, whatever step of the mount libnfs is in. */
static void
check_attempt_deadline (struct dio_conn *c)
{
  uint64_t now = dio_now_ms ();

  if (c->state != CONN_CONNECTING || c->mount_failed
      || now < c->attempt_deadline_ms)
    return;
  c->mount_failed = true;
  c->attempt_timed_out = true;
  c->start_err = c->ever_up ? 0 : ETIMEDOUT;
  snprintf (c->start_msg, sizeof c->start_msg,
            "the server did not answer within %.1f s",
            attempt_timeout_ms (c) / 1000.0);
}

/* Start mounting with a fresh context (service thread). */
static void
begin_mount (struct dio_conn *c)
{
  struct nfs_url *u;
  int timeout = attempt_timeout_ms (c);

  c->nfs = nfs_init_context ();
  if (c->nfs == NULL) {
    attempt_failed (c, ENOMEM, "nfs_init_context failed");
    return;
  }
  /* Parsing the URL applies its libnfs arguments (nfsport, mountport,
   * uid, gid, ...) to the context. */
  u = nfs_parse_url_dir (c->nfs, c->url);
  if (u == NULL) {
    attempt_failed (c, EINVAL, nfs_get_error (c->nfs));
    return;
  }
  nfs_destroy_url (u);
  nfs_set_autoreconnect (c->nfs, 0);
  /* The mount's own RPCs may time out: a failed attempt's context is
   * destroyed, so nothing half-sent is ever continued. */
  nfs_set_timeout (c->nfs, timeout);
  c->attempt_deadline_ms = dio_now_ms () + timeout;
  if (!c->ever_up && c->first_deadline_ms
      && c->first_deadline_ms < c->attempt_deadline_ms)
    c->attempt_deadline_ms = c->first_deadline_ms;
  c->state = CONN_CONNECTING;
  if (nfs_mount_async (c->nfs, c->server, c->export, mount_cb, c) != 0)
    attempt_failed (c, EIO, nfs_get_error (c->nfs));
}

/* ---- the service loop ------------------------------------------------ */

static bool
window_allows (const struct dio_conn *c, const struct dio_job *job)
{
  if (c->inflight == 0)
    return true;
  return c->inflight < c->window_max
    && c->inflight_bytes + job->bytes <= c->window_bytes;
}

/* Could the first queued job start now?  (Caller holds lock.) */
static bool
window_has_room (const struct dio_conn *c)
{
  return c->state == CONN_UP && c->head != NULL && window_allows (c, c->head);
}

/* TCP_CORK on c's socket on or off.  libnfs sends each RPC with a
 * send() of its own, and TCP_NODELAY makes each its own segment.  A
 * pass that sends several RPCs of durable writes (job->durable: their
 * WRITEs and COMMITs) sends them under the cork, so they reach the
 * server together, one segment up to the MSS: durable 4 KiB writes
 * through NBD gained 4-9% so (bench/README.md, "Corked durable
 * writes").  Unstable writes gained nothing and cost ganesha about
 * 1.5 us more each; reads gained nothing; both go uncorked.  A failure
 * only costs the batching: ignored. */
static void
set_cork (struct dio_conn *c, int on)
{
  (void) setsockopt (nfs_get_fd (c->nfs), IPPROTO_TCP, TCP_CORK, &on,
                     sizeof on);
}

/* RPCs queued in libnfs in this pass (by the jobs just started, or by
 * callbacks that sent a follow-up RPC themselves) are written now, as
 * start_inline does, rather than after a poll() that would only say the
 * socket is writable (one system call a pass; libnfs also scans its
 * whole table of RPCs for timeouts on every nfs_service call).  What the
 * socket does not take stays queued, and serve_once polls for POLLOUT. */
static void
flush_queued (struct dio_conn *c, bool cork)
{
  if (c->state != CONN_UP || c->need_reset
      || !(nfs_which_events (c->nfs) & POLLOUT))
    return;
  if (cork)
    set_cork (c, 1);
  if (nfs_service (c->nfs, POLLOUT) < 0)
    c->need_reset = true;
  if (cork)
    set_cork (c, 0);            /* sends what the cork held */
}

/* Start queued jobs while the window has room; returns how many of
 * them are durable (job->durable). */
static unsigned
start_queued_jobs (struct dio_conn *c)
{
  uint64_t now = 0;             /* one clock reading for the batch */
  unsigned durable = 0;

  while (c->state == CONN_UP && !c->need_reset) {
    struct dio_job *job;
    int err;

    pthread_mutex_lock (&c->lock);
    job = c->head;
    if (job == NULL || !window_allows (c, job)) {
      pthread_mutex_unlock (&c->lock);
      break;
    }
    c->head = job->next;
    if (c->head == NULL)
      c->tail = NULL;
    pthread_mutex_unlock (&c->lock);

    job->next = NULL;
    job->conn = c;
    inflight_add (c, job);
    if (now == 0)
      now = dio_now_ns ();
    job->sent_ns = now;
    err = job->start (job, c);
    if (err == 0) {
      durable += job->durable;
      continue;
    }
    inflight_remove (c, job);
    if (dio_conn_lost (c)) {
      c->need_reset = true;
      queue_front (c, job);
      break;
    }
    dio_count (c->stats->errors, 1);
    dio_op_done (c->stats, job->op, job->bytes, 0, job->queued_ns, now, 1);
    job->fail (job, err);
  }
  return durable;
}

static void
start_ready_jobs (struct dio_conn *c)
{
  flush_queued (c, start_queued_jobs (c) > 1);
}

/* Wake the service thread if it sleeps in poll (caller holds lock). */
static void
wake_locked (struct dio_conn *c)
{
  uint64_t one = 1;

  if (c->sleeping) {
    c->sleeping = false;
    if (write (c->wakefd, &one, sizeof one) != sizeof one)
      abort ();                 /* an eventfd write cannot fail here */
    dio_count (c->stats->wakeups, 1);
  }
}

/* The service thread sleeps, maybe without a timeout, and job was just
 * sent: make it wake when the job's reply would be lost (a timer, not
 * a wake-up now, which would cost two context switches per request).
 * Caller holds lock. */
static void
arm_lost_timer (struct dio_conn *c, const struct dio_job *job)
{
  uint64_t due = job->sent_ns / 1000000 + 1 + (uint64_t) c->timeo_ms;
  struct itimerspec its = { { 0, 0 }, { 0, 0 } };

  if (due >= c->sleep_due_ms)
    return;
  its.it_value.tv_sec = (c->timeo_ms + 1) / 1000;
  its.it_value.tv_nsec = (long) ((c->timeo_ms + 1) % 1000) * 1000000;
  if (timerfd_settime (c->timerfd, 0, &its, NULL) != 0)
    abort ();                   /* valid arguments cannot fail */
  c->sleep_due_ms = due;
}

/* Any thread but c's service thread: start the job on this thread if
 * the context lock is free, the connection is up, no job is queued
 * before it and the window has room (see Threading above).  Returns
 * false, having done nothing, if not. */
static bool
start_inline (struct dio_conn *c, struct dio_job *job)
{
  bool ok, wake;
  int err;

  if (pthread_mutex_trylock (&c->ctx_lock) != 0)
    return false;
  ok = c->state == CONN_UP && !c->need_reset && c->nfs != NULL
    && window_allows (c, job);
  if (ok) {
    pthread_mutex_lock (&c->lock);
    ok = c->head == NULL;
    pthread_mutex_unlock (&c->lock);
  }
  if (!ok) {
    pthread_mutex_unlock (&c->ctx_lock);
    return false;
  }
  /* From here the job is the connection's: while we hold the context
   * lock its reply cannot be processed, so c stays alive. */
  job->conn = c;
  inflight_add (c, job);
  job->sent_ns = dio_now_ns ();
  err = job->start (job, c);
  if (err != 0) {
    /* Its failure is the service thread's to report, on its thread. */
    inflight_remove (c, job);
    if (dio_conn_lost (c))
      c->need_reset = true;
    queue_front (c, job);
  }
  else {
    dio_count (c->stats->caller_sends, 1);
    if (nfs_service (c->nfs, POLLOUT) < 0)
      c->need_reset = true;
  }
  pthread_mutex_lock (&c->lock);
  wake = err != 0 || c->need_reset
    || (nfs_which_events (c->nfs) & POLLOUT)
    || (c->timeout_ms > 0 && !c->sleep_scans);
  if (wake)
    wake_locked (c);
  else if (c->sleeping && err == 0 && c->timeo_ms > 0)
    arm_lost_timer (c, job);
  pthread_mutex_unlock (&c->lock);
  pthread_mutex_unlock (&c->ctx_lock);
  return true;
}

/* Soft mounts: fail queued jobs past their deadline; a job in flight past
 * it condemns the connection (its RPC may be half sent). */
static void
expire_jobs (struct dio_conn *c)
{
  uint64_t now = dio_now_ms ();
  struct dio_job *expired = NULL, **pp;

  if (c->timeout_ms <= 0)
    return;
  for (struct dio_job *j = c->inflight_list; j; j = j->inext)
    if (past_deadline (j, now)) {
      j->expired = true;
      c->need_reset = true;
    }
  pthread_mutex_lock (&c->lock);
  c->tail = NULL;
  for (pp = &c->head; *pp; ) {
    struct dio_job *j = *pp;
    if (past_deadline (j, now)) {
      *pp = j->next;
      j->next = expired;
      expired = j;
    }
    else {
      c->tail = j;
      pp = &j->next;
    }
  }
  pthread_mutex_unlock (&c->lock);
  while (expired) {
    struct dio_job *j = expired;
    expired = j->next;
    fail_timed_out (c, j);
  }
}

/* When the oldest RPC in flight is lost if its reply has not come
 * (ms, dio_now_ms's clock); UINT64_MAX: nothing in flight, or timeo
 * off. */
static uint64_t
lost_due_ms (const struct dio_conn *c)
{
  uint64_t due = UINT64_MAX;

  if (c->timeo_ms <= 0)
    return due;
  for (const struct dio_job *j = c->inflight_list; j; j = j->inext)
    due = DIO_MIN (due, j->sent_ns / 1000000 + 1 + (uint64_t) c->timeo_ms);
  return due;
}

/* An RPC in flight longer than timeo without its reply is lost (the
 * server or something on the way dropped it): replace the connection,
 * which sends it again (dio_conn_job_reclaimed), as Linux retransmits
 * after timeo.  Hard mounts do so for ever, soft ones until the
 * deadline. */
static void
resend_lost (struct dio_conn *c)
{
  if (!c->need_reset && c->state == CONN_UP
      && lost_due_ms (c) <= dio_now_ms ())
    c->need_reset = true;
}

static bool
should_stop (struct dio_conn *c)
{
  bool stop;

  pthread_mutex_lock (&c->lock);
  stop = c->stopping && c->head == NULL && c->inflight == 0
    && c->delayed == NULL;
  pthread_mutex_unlock (&c->lock);
  return stop;
}

static void
drain_wakefd (struct dio_conn *c)
{
  uint64_t v;
  if (read (c->wakefd, &v, sizeof v) == -1 && errno != EAGAIN)
    abort ();                   /* an eventfd read cannot otherwise fail */
}

static int
poll_timeout (struct dio_conn *c)
{
  int timeout = -1;

  if (c->state == CONN_DOWN) {
    uint64_t now = dio_now_ms ();
    timeout = c->retry_at_ms > now ? (int) (c->retry_at_ms - now) : 0;
  }
  if (c->state == CONN_CONNECTING
      || (c->timeout_ms > 0 && (c->inflight > 0 || c->head != NULL)))
    timeout = timeout == -1 ? DEADLINE_SCAN_MS
      : DIO_MIN (timeout, DEADLINE_SCAN_MS);
  if (c->inflight > 0 && c->timeo_ms > 0) {
    uint64_t now = dio_now_ms (), lost = lost_due_ms (c);
    int due = lost > now ? (int) DIO_MIN (lost - now, (uint64_t) INT_MAX) : 0;
    timeout = timeout == -1 ? due : DIO_MIN (timeout, due);
  }
  if (c->delayed) {
    uint64_t now = dio_now_ms ();
    int due = c->delayed->due_ms > now ? (int) (c->delayed->due_ms - now) : 0;
    timeout = timeout == -1 ? due : DIO_MIN (timeout, due);
  }
  return timeout;
}

/* The watched descriptor was ready: its callback runs here, on the
 * service thread with the context lock held (see dio_conn_watch). */
static void
run_watch (struct dio_conn *c, const struct pollfd *p)
{
  if (p->revents == 0 || c->watch_fn == NULL || p->fd != c->watch_fd)
    return;                     /* changed while we slept */
  if (!c->watch_fn (c->watch_arg)) {
    c->watch_fd = -1;
    c->watch_fn = NULL;
    c->watch_arg = NULL;
  }
}

/* Read replies and write calls.  Once up, the engine reads the replies
 * itself (replies.c) and libnfs only writes, and sees a hang-up or an
 * error; while mounting, libnfs does everything, and is serviced even
 * with nothing ready, since that runs its timeouts.  A failure means
 * the socket is gone (a submitter may have found that out already:
 * then maintain replaces the context). */
static void
service_socket (struct dio_conn *c, int fd, int revents)
{
  bool up = c->state == CONN_UP && dio_replies_supported ();

  if (up && (revents & POLLIN)) {
    if (dio_replies_read (&c->replies, dio_conn_rpc (c), fd) != 0) {
      c->need_reset = true;
      return;
    }
    revents &= ~POLLIN;
  }
  if ((revents || !up) && !c->need_reset && nfs_service (c->nfs, revents) < 0)
    c->need_reset = true;
}

/* The end of a pass (dio_conn_pass_hook): true if the hook kept work
 * back, which it may only while may_hold. */
static bool
run_pass_hook (bool may_hold)
{
  dio_conn_pass_fn hook = __atomic_load_n (&pass_hook, __ATOMIC_ACQUIRE);

  return hook && hook (may_hold) && may_hold;
}

/* Before the service thread sleeps: what the hook kept back. */
static void
release_held (void)
{
  run_pass_hook (false);
}

/* Replies are due and the thread will poll for them before it sleeps:
 * the pass hook may wait for more of them (dio_conn_pass_hook).  Not
 * on a connection that is going down: its replies will not come, and
 * a reconnect (a name lookup, a mount) may take seconds. */
static bool
may_hold (const struct dio_conn *c)
{
  return c->inflight > 0 && c->spin.budget_ns > 0 && c->state == CONN_UP
    && !c->need_reset;
}

static void
serve_once (struct dio_conn *c)
{
  struct pollfd p[4];
  uint64_t woke_ns;
  int timeout;
  bool busy, held;

  held = run_pass_hook (may_hold (c));  /* what this pass's work left */
  p[0].fd = c->wakefd;
  p[0].events = POLLIN;
  p[0].revents = 0;
  p[1].fd = c->nfs ? nfs_get_fd (c->nfs) : -1;
  p[1].events = c->nfs ? nfs_which_events (c->nfs) : 0;
  p[1].revents = 0;
  p[2].fd = c->timerfd;
  p[2].events = POLLIN;
  p[2].revents = 0;
  p[3].fd = c->watch_fn ? c->watch_fd : -1;
  p[3].events = POLLIN;
  p[3].revents = 0;

  /* Submitters write the eventfd only while we sleep on it: under load
   * the thread stays busy with replies and picks jobs up without it. */
  pthread_mutex_lock (&c->lock);
  timeout = poll_timeout (c);
  if (window_has_room (c) || (c->state == CONN_DOWN && c->kick))
    timeout = 0;
  c->sleeping = true;
  c->sleep_scans = timeout >= 0 && timeout <= DEADLINE_SCAN_MS;
  c->sleep_due_ms = timeout < 0 ? UINT64_MAX : dio_now_ms () + timeout;
  pthread_mutex_unlock (&c->lock);
  busy = c->inflight > 0;       /* replies are due: spin before sleeping */
  /* Waiting (spinning or asleep), the context is free for submitters
   * to send on; they wake a spinning thread as a sleeping one. */
  pthread_mutex_unlock (&c->ctx_lock);
  if (dio_spin_poll (&c->spin, p, 4, timeout, busy,
                     held ? release_held : NULL) == -1 && errno != EINTR)
    abort ();                   /* EFAULT/EINVAL/ENOMEM: nothing to retry */
  woke_ns = dio_now_ns ();
  pthread_mutex_lock (&c->lock);
  c->sleeping = false;
  pthread_mutex_unlock (&c->lock);
  /* A caller may be sending on the context (start_inline): counted,
   * since waiting for it costs this thread another sleep. */
  if (pthread_mutex_trylock (&c->ctx_lock) != 0) {
    dio_count (c->stats->lock_waits, 1);
    pthread_mutex_lock (&c->ctx_lock);
  }
  c->woke_ns = woke_ns;
  if (p[0].revents & POLLIN)
    drain_wakefd (c);
  if (p[2].revents & POLLIN) {
    uint64_t v;
    if (read (c->timerfd, &v, sizeof v) == -1 && errno != EAGAIN)
      abort ();                 /* a timerfd read cannot otherwise fail */
  }
  if (c->nfs && !c->need_reset)
    service_socket (c, p[1].fd, p[1].revents);
  /* What the replies' callbacks left goes out before the watch reads
   * more work (directio nbd: replies before the next payloads). */
  run_pass_hook (may_hold (c));
  run_watch (c, &p[3]);
}

/* Replace a broken context, and mount again when the time comes. */
static void
maintain (struct dio_conn *c)
{
  bool kick;

  check_attempt_deadline (c);
  if (c->mount_failed || (c->need_reset && c->state == CONN_CONNECTING))
    attempt_failed (c, c->start_err ? c->start_err : EIO,
                    c->start_msg[0] ? c->start_msg
                    : nfs_get_error (c->nfs));
  else if (c->need_reset) {
    destroy_context (c);
    c->state = CONN_DOWN;
    c->retry_at_ms = dio_now_ms ();         /* the first retry is immediate */
  }
  if (c->state != CONN_DOWN)
    return;
  pthread_mutex_lock (&c->lock);
  kick = c->kick && c->head != NULL;
  c->kick = false;
  pthread_mutex_unlock (&c->lock);
  if (kick || dio_now_ms () >= c->retry_at_ms)
    begin_mount (c);
}

/* One attempt at the first mount, to its end. */
static void
first_attempt (struct dio_conn *c)
{
  c->start_err = 0;
  c->start_msg[0] = '\0';
  c->attempt_timed_out = false;
  begin_mount (c);
  while (!c->ever_up && c->state != CONN_DOWN) {
    serve_once (c);
    check_attempt_deadline (c);
    if (c->need_reset && !c->mount_failed && c->start_err == 0)
      c->start_err = ECONNRESET;        /* the connection was lost */
    if (c->mount_failed || c->need_reset)
      attempt_failed (c, c->start_err ? c->start_err : EIO,
                      c->start_msg[0] ? c->start_msg
                      : nfs_get_error (c->nfs));
  }
}

/* Failures that say the server is down, restarting or paused, rather
 * than that it refused the mount. */
static bool
server_unreachable (int err)
{
  return err == ECONNREFUSED || err == ETIMEDOUT || err == EHOSTUNREACH
    || err == ENETUNREACH || err == ECONNRESET || err == ECONNABORTED
    || err == EPIPE || err == EHOSTDOWN || err == ENETDOWN;
}

/* The first mount behaves as if the mount already existed: while the
 * server cannot be reached it tries again, with backoff, for ever under
 * hard (saying so once on stderr, and once when the server answers),
 * until timeo x retrans under soft, and for retry= minutes if given
 * (retry=0: once).  A server that answers and refuses fails at once. */
static bool
first_mount (struct dio_conn *c)
{
  bool said = false;

  if (c->mount_retry_ms > 0)
    c->first_deadline_ms = dio_now_ms () + (uint64_t) c->mount_retry_ms;
  for (;;) {
    uint64_t now;

    first_attempt (c);
    if (c->ever_up)
      break;
    if (!c->attempt_timed_out)
      diagnose_mount (c);       /* which port failed, and why */
    if (c->mount_retry_ms == 0 || !server_unreachable (c->start_err)
        || (c->first_deadline_ms && c->retry_at_ms >= c->first_deadline_ms))
      break;
    if (!said && c->timeout_ms == 0) {
      dio_server_notice (c->server, c->export, false);
      said = true;
    }
    now = dio_now_ms ();
    if (c->retry_at_ms > now)
      poll (NULL, 0, (int) (c->retry_at_ms - now));
  }
  if (said && c->ever_up)
    dio_server_notice (c->server, c->export, true);
  return c->ever_up;
}

static void *
service_thread (void *arg)
{
  struct dio_conn *c = arg;

  serving = c;
  pthread_mutex_lock (&c->ctx_lock);
  c->backoff_ms = BACKOFF_MIN_MS;
  if (!first_mount (c)) {
    pthread_mutex_unlock (&c->ctx_lock);
    dio_waiter_signal (&c->started);    /* c is freed after this */
    return NULL;
  }
  dio_waiter_signal (&c->started);

  for (;;) {
    maintain (c);
    release_delayed (c);
    start_ready_jobs (c);
    resend_lost (c);
    expire_jobs (c);
    if (should_stop (c)) {
      run_pass_hook (false);    /* what the last pass left */
      break;
    }
    serve_once (c);
  }
  destroy_context (c);
  pthread_mutex_unlock (&c->ctx_lock);
  return NULL;
}

void
dio_conn_watch (struct dio_conn *c, int fd, dio_conn_watch_fn fn, void *arg)
{
  assert (serving != c);        /* its own thread holds the context lock */
  pthread_mutex_lock (&c->ctx_lock);
  c->watch_fd = fn ? fd : -1;
  c->watch_fn = fn;
  c->watch_arg = fn ? arg : NULL;
  /* A thread asleep in poll waits on the old set: wake it to take the
   * new one. */
  pthread_mutex_lock (&c->lock);
  wake_locked (c);
  pthread_mutex_unlock (&c->lock);
  pthread_mutex_unlock (&c->ctx_lock);
}

/* ---- start and stop ------------------------------------------------- */

static void
conn_free (struct dio_conn *c)
{
  if (c->wakefd >= 0)
    close (c->wakefd);
  if (c->timerfd >= 0)
    close (c->timerfd);
  dio_waiter_destroy (&c->started);
  pthread_mutex_destroy (&c->lock);
  pthread_mutex_destroy (&c->ctx_lock);
  dio_replies_free (&c->replies);
  free (c->url);
  free (c->server);
  free (c->export);
  free (c);
}

struct dio_conn *
dio_conn_start (const struct dio_conn_params *p)
{
  struct dio_conn *c;
  int err;

  c = calloc (1, sizeof *c);
  if (c == NULL) {
    dio_error (ENOMEM, "calloc");
    return NULL;
  }
  c->wakefd = -1;
  c->timerfd = -1;
  c->watch_fd = -1;
  pthread_mutex_init (&c->lock, NULL);
  pthread_mutex_init (&c->ctx_lock, NULL);
  dio_waiter_init (&c->started);
  c->url = strdup (p->url);
  c->server = strdup (p->server);
  c->export = strdup (p->export);
  c->mount_port = p->mount_port;
  c->nfs_port = p->nfs_port;
  c->timeout_ms = p->timeout_ms;
  c->timeo_ms = p->timeo_ms;
  c->mount_retry_ms = p->mount_retry_ms;
  c->window_bytes = p->window_bytes;
  c->window_max = p->window_max;
  dio_spin_init (&c->spin, p->spin_us);
  c->spin.stats = p->stats;
  c->stats = p->stats;
  if (!c->url || !c->server || !c->export) {
    dio_error (ENOMEM, "strdup");
    goto err;
  }
  c->wakefd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (c->wakefd == -1) {
    dio_error (errno, "eventfd");
    goto err;
  }
  c->timerfd = timerfd_create (CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (c->timerfd == -1) {
    dio_error (errno, "timerfd_create");
    goto err;
  }
  err = dio_thread_start (&c->thread, false, "dio-conn", service_thread, c);
  if (err != 0) {
    dio_error (err, "pthread_create");
    goto err;
  }
  dio_waiter_wait (&c->started);
  if (!c->ever_up) {
    pthread_join (c->thread, NULL);
    err = c->start_err ? c->start_err : EIO;
    dio_error_msg (err, "mount %s:%s failed: %s", c->server, c->export,
                   c->start_msg[0] ? c->start_msg : strerror (err));
    conn_free (c);
    errno = err;
    return NULL;
  }
  return c;

 err:
  err = errno;
  conn_free (c);
  errno = err;
  return NULL;
}

void
dio_conn_stop (struct dio_conn *c)
{
  uint64_t one = 1;

  if (c == NULL)
    return;
  pthread_mutex_lock (&c->lock);
  c->stopping = true;
  if (write (c->wakefd, &one, sizeof one) != sizeof one)
    abort ();                   /* an eventfd write cannot fail here */
  pthread_mutex_unlock (&c->lock);
  pthread_join (c->thread, NULL);
  conn_free (c);
}
