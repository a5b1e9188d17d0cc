/* One connection and its service thread.
 *
 * Threading: the libnfs context (nfs) and the in-flight counters belong to
 * the service thread alone; it is created, mounted, driven and destroyed
 * there.  The job queue and the stopping and sleeping flags are guarded
 * by lock and
 * shared with submitters.  Fields set before the thread starts (params)
 * and the mount results read after `started` is signalled are immutable. */
#include "internal.h"

#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>

#include "conn.h"
#include "errors.h"
#include "probe.h"
#include "stats.h"

/* While a soft RPC is in flight the thread wakes this often, because
 * libnfs checks its timeouts only inside nfs_service(). */
#define TIMEOUT_SCAN_MS 100

/* Reconnect attempts to a server that refuses connections fail at once and
 * libnfs starts the next one immediately; pause between attempts. */
#define RECONNECT_BACKOFF_MS 100

/* How often a busy connection looks for a new socket (a syscall). */
#define RECONNECT_CHECK_MS 20

struct dio_conn {
  /* Immutable after start. */
  pthread_t thread;
  int wakefd;
  char *url, *server, *export;
  unsigned mount_port, nfs_port;
  int timeout_ms;
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
  bool sleeping;                /* in poll with an empty queue: wake it */

  /* Service thread only. */
  struct nfs_context *nfs;
  uint32_t inflight, inflight_bytes;
  struct sockaddr_storage last_local;  /* our end of the TCP connection */
  uint64_t last_reconnect_ms;
  uint64_t next_reconnect_check_ms;
};

static __thread bool on_service_thread;

bool
dio_conn_on_service_thread (void)
{
  return on_service_thread;
}

static uint64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

static void
local_address (struct dio_conn *c, struct sockaddr_storage *ss)
{
  socklen_t len = sizeof *ss;

  memset (ss, 0, sizeof *ss);
  if (getsockname (nfs_get_fd (c->nfs), (struct sockaddr *) ss, &len) == -1)
    memset (ss, 0, sizeof *ss);   /* between sockets: "no address" */
}

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

/* Runs on the service thread: create the context and mount the export. */
static int
conn_mount (struct dio_conn *c)
{
  struct nfs_url *u;
  int r;

  c->nfs = nfs_init_context ();
  if (c->nfs == NULL) {
    c->start_err = ENOMEM;
    snprintf (c->start_msg, sizeof c->start_msg, "nfs_init_context failed");
    return -1;
  }
  /* Parsing the URL applies its libnfs arguments (nfsport, mountport,
   * uid, gid, ...) to the context. */
  u = nfs_parse_url_dir (c->nfs, c->url);
  if (u == NULL) {
    c->start_err = EINVAL;
    snprintf (c->start_msg, sizeof c->start_msg, "%s", nfs_get_error (c->nfs));
    return -1;
  }
  nfs_destroy_url (u);
  /* A server that accepts the connection and never answers must not hang
   * the mount: bound it by the RPC timeout, or a minute when hard. */
  nfs_set_timeout (c->nfs, c->timeout_ms > 0 ? c->timeout_ms : 60000);
  r = nfs_mount (c->nfs, c->server, c->export);
  if (r != 0) {
    c->start_err = libnfs_errno (r);
    snprintf (c->start_msg, sizeof c->start_msg, "%s", nfs_get_error (c->nfs));
    diagnose_mount (c);
    return -1;
  }
  /* Hard and soft both reconnect forever: a soft mount fails requests by
   * their timeouts, and must work again once the server is back. */
  nfs_set_autoreconnect (c->nfs, -1);
  nfs_set_timeout (c->nfs, c->timeout_ms);
  c->readmax = nfs_get_readmax (c->nfs);
  c->writemax = nfs_get_writemax (c->nfs);
  local_address (c, &c->last_local);
  return 0;
}

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
  return c->head != NULL && window_allows (c, c->head);
}

/* Start queued jobs while the window has room. */
static void
start_ready_jobs (struct dio_conn *c)
{
  for (;;) {
    struct dio_job *job;
    int err;

    pthread_mutex_lock (&c->lock);
    job = c->head;
    if (job == NULL || !window_allows (c, job)) {
      pthread_mutex_unlock (&c->lock);
      return;
    }
    c->head = job->next;
    if (c->head == NULL)
      c->tail = NULL;
    pthread_mutex_unlock (&c->lock);

    job->next = NULL;
    c->inflight++;
    c->inflight_bytes += job->bytes;
    err = job->start (job, c);
    if (err != 0) {
      c->inflight--;
      c->inflight_bytes -= job->bytes;
      dio_count (c->stats->errors, 1);
      job->fail (job, err);
    }
  }
}

void
dio_conn_job_done (struct dio_conn *c, struct dio_job *job)
{
  c->inflight--;
  c->inflight_bytes -= job->bytes;
}

static bool
should_stop (struct dio_conn *c)
{
  bool stop;

  pthread_mutex_lock (&c->lock);
  stop = c->stopping && c->head == NULL && c->inflight == 0;
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

/* libnfs reconnects behind the same descriptor number (it dup2s the new
 * socket over the old one), so a reconnect shows as a new local address. */
static void
note_reconnect (struct dio_conn *c)
{
  struct sockaddr_storage now;

  local_address (c, &now);
  if (memcmp (&now, &c->last_local, sizeof now) != 0) {
    c->last_local = now;
    c->last_reconnect_ms = now_ms ();
    dio_count (c->stats->reconnects, 1);
  }
}

static void
serve_once (struct dio_conn *c)
{
  struct pollfd p[2];
  int timeout = -1;
  bool backoff;

  backoff = c->last_reconnect_ms != 0
    && now_ms () - c->last_reconnect_ms < RECONNECT_BACKOFF_MS;
  p[0].fd = backoff ? -1 : nfs_get_fd (c->nfs);
  p[0].events = nfs_which_events (c->nfs);
  p[0].revents = 0;
  p[1].fd = c->wakefd;
  p[1].events = POLLIN;
  p[1].revents = 0;
  if (backoff)
    timeout = RECONNECT_BACKOFF_MS;
  else if (c->timeout_ms > 0 && c->inflight > 0)
    timeout = TIMEOUT_SCAN_MS;

  /* Submitters write the eventfd only while we sleep on it: under load
   * the thread stays busy with replies and picks jobs up without it. */
  pthread_mutex_lock (&c->lock);
  if (window_has_room (c))
    timeout = 0;
  c->sleeping = true;
  pthread_mutex_unlock (&c->lock);
  if (poll (p, 2, timeout) == -1 && errno != EINTR)
    abort ();                   /* EFAULT/EINVAL/ENOMEM: nothing to retry */
  pthread_mutex_lock (&c->lock);
  c->sleeping = false;
  pthread_mutex_unlock (&c->lock);
  if (p[1].revents & POLLIN)
    drain_wakefd (c);
  if (!backoff) {
    /* Always service: with no events this still runs the timeout scan.
     * A failure here has already failed the RPCs it concerns. */
    nfs_service (c->nfs, p[0].revents);
    /* Only an event on the socket can have replaced it; look at most
     * every RECONNECT_CHECK_MS, not once per reply. */
    if (p[0].revents && now_ms () >= c->next_reconnect_check_ms) {
      note_reconnect (c);
      c->next_reconnect_check_ms = now_ms () + RECONNECT_CHECK_MS;
    }
  }
}

static void *
service_thread (void *arg)
{
  struct dio_conn *c = arg;

  on_service_thread = true;
  if (conn_mount (c) == -1) {
    dio_waiter_signal (&c->started);
    return NULL;
  }
  dio_waiter_signal (&c->started);

  for (;;) {
    start_ready_jobs (c);
    if (should_stop (c))
      break;
    serve_once (c);
  }
  return NULL;
}

static void
conn_free (struct dio_conn *c)
{
  if (c->nfs)
    nfs_destroy_context (c->nfs);
  if (c->wakefd >= 0)
    close (c->wakefd);
  dio_waiter_destroy (&c->started);
  pthread_mutex_destroy (&c->lock);
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
  pthread_mutex_init (&c->lock, NULL);
  dio_waiter_init (&c->started);
  c->url = strdup (p->url);
  c->server = strdup (p->server);
  c->export = strdup (p->export);
  c->mount_port = p->mount_port;
  c->nfs_port = p->nfs_port;
  c->timeout_ms = p->timeout_ms;
  c->window_bytes = p->window_bytes;
  c->window_max = p->window_max;
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
  err = pthread_create (&c->thread, NULL, service_thread, c);
  if (err != 0) {
    dio_error (err, "pthread_create");
    goto err;
  }
  dio_waiter_wait (&c->started);
  if (c->start_err != 0) {
    pthread_join (c->thread, NULL);
    dio_error_msg (c->start_err, "mount %s:%s failed: %s",
                   c->server, c->export, c->start_msg);
    err = errno;
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
  pthread_mutex_unlock (&c->lock);
  if (write (c->wakefd, &one, sizeof one) != sizeof one)
    abort ();                   /* an eventfd write cannot fail here */
  pthread_join (c->thread, NULL);
  conn_free (c);
}

void
dio_conn_submit (struct dio_conn *c, struct dio_job *job)
{
  uint64_t one = 1;
  bool wake;

  job->next = NULL;
  pthread_mutex_lock (&c->lock);
  if (c->tail)
    c->tail->next = job;
  else
    c->head = job;
  c->tail = job;
  /* One wake-up per sleep is enough; an awake thread looks at the queue
   * before it next sleeps. */
  wake = c->sleeping;
  c->sleeping = false;
  pthread_mutex_unlock (&c->lock);
  if (wake && write (c->wakefd, &one, sizeof one) != sizeof one)
    abort ();
}
