/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio mount: the FUSE session's loop.
 *
 * The engine thread that completes the mount's requests also reads
 * them off /dev/fuse (dio__fs_watch: a non-blocking descriptor in its
 * poll set).  A READ it serves there and then, since a read only starts
 * the engine's asynchronous request and its reply comes from that same
 * thread; so do FORGETs (a table update).  Every other request may wait
 * for the engine, which that thread must never do, so it goes to a
 * worker: workers are started as all the others are busy, up to a
 * maximum, kept once started, and at the end woken and joined (a
 * worker whose call waits for a server that does not answer is waited
 * for a bounded time: struct mount_loop_end).
 *
 * Why: with workers reading /dev/fuse, a worker that had handed its
 * read to the engine went back to sleep on the device, and each new
 * read woke one, a context switch per request on top of the engine's
 * (bench/README.md, "The FUSE floor").  Read here, a request that
 * arrives while the engine thread is awake with replies costs no
 * wake-up at all, and one that arrives while it sleeps wakes only it.
 *
 * Buffers: the reader receives into a buffer of the pool
 * (mount-bufs.c), one 2 MiB huge page, instead of a malloc'd megabyte:
 * the kernel copies a write's data into it taking a page reference per
 * 4 KiB page (fuse_copy_fill), a short walk on a huge page.  A request
 * handed to a worker takes that buffer with it if it is large (a
 * write's data) and the reader takes another; a small one is copied.
 * With 64 large ones waiting the reader pauses (leaves /dev/fuse
 * unwatched) until workers have taken half, so memory stays bounded
 * however many programs write at once.
 *
 * Threading: the reader's buffer is the engine thread's alone.  The
 * queue, the workers' list and counts are guarded by the loop's lock.
 * Workers block all signals; a handler (cmd-mount.c) ends the session
 * and the main thread, which looks at least once a second, then ends
 * the loop. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <linux/fuse.h>         /* the headers, the opcodes */

#include "common.h"
#include "mount-fs.h"

/* Requests up to this size are copied when handed to a worker; larger
 * ones (a write's data) take the reader's pool buffer with them. */
#define COPY_MAX (64 * 1024)

/* Requests read per wake-up at most, so replies are not held up. */
#define READS_PER_WAKE 32

/* Requests waiting for a worker with a pool buffer each: at most this
 * many (128 MiB), then the reader pauses until half are taken. */
#define MAX_QUEUED_BUFS 64

struct queued_req {
  struct queued_req *next;
  void *buf;
  bool pooled;                  /* a pool buffer, else malloc'd */
  size_t size;
};

struct loop_worker {
  struct mount_loop *loop;
  pthread_t tid;
  void *buf;                    /* the request's buffer while serving */
  bool pooled;
  struct loop_worker *next;
};

struct mount_loop {
  struct fuse_session *se;
  struct dio__fs *fs;
  struct mount_bufs *bufs;
  unsigned max_threads;
  sem_t finish;                 /* the reader saw the session end */
  /* The engine thread's (the reader's). */
  struct fuse_buf rbuf;
  /* Taken to start the reader again, and by the main thread to stop
   * it for good (never by the reader: it runs with the engine's
   * context lock, which dio__fs_watch takes). */
  pthread_mutex_t watch_lock;
  bool stopped;                 /* guarded by watch_lock */
  pthread_mutex_t lock;
  pthread_cond_t work;
  /* Guarded by lock. */
  struct queued_req *head, *tail;
  unsigned nqueued, nqueued_bufs;
  bool paused;                  /* the reader, by too many nqueued_bufs */
  struct loop_worker *workers;
  unsigned nworkers, navail;    /* started; waiting for a request */
  unsigned nrunning;            /* workers whose thread has not ended */
  pthread_cond_t ended;         /* nrunning fell to 0 */
  bool exit;
  int error;                    /* a receive's -errno, or 0 */
};

static int start_worker (struct mount_loop *l);
static bool read_requests (void *arg);

/* The worker this thread is, if it is one. */
static __thread struct loop_worker *self;

void *
mount_loop_take_buf (void)
{
  void *b, *fresh;

  if (self == NULL || !self->pooled
      || (fresh = mount_buf_lend (self->loop->bufs)) == NULL)
    return NULL;
  b = self->buf;
  self->buf = fresh;
  return b;
}

/* Requests the engine thread serves itself: they never wait. */
static bool
serve_here (const struct fuse_buf *fbuf)
{
  const struct fuse_in_header *in = fbuf->mem;

  return in->opcode == FUSE_READ || in->opcode == FUSE_FORGET
    || in->opcode == FUSE_BATCH_FORGET;
}

static struct queued_req *
take_request (struct mount_loop *l)
{
  struct queued_req *q = l->head;

  l->head = q->next;
  if (l->head == NULL)
    l->tail = NULL;
  l->nqueued--;
  if (q->pooled)
    l->nqueued_bufs--;
  return q;
}

/* lock held, a request just taken: true if the reader paused and may
 * now be started again (the caller does it, without the lock). */
static bool
should_resume (struct mount_loop *l)
{
  if (!l->paused || l->nqueued_bufs > MAX_QUEUED_BUFS / 2)
    return false;
  l->paused = false;
  return true;
}

static void
resume_reader (struct mount_loop *l)
{
  pthread_mutex_lock (&l->watch_lock);
  if (!l->stopped)
    dio__fs_watch (l->fs, fuse_session_fd (l->se), read_requests, l);
  pthread_mutex_unlock (&l->watch_lock);
}

static void *
worker (void *arg)
{
  struct loop_worker *w = arg;
  struct mount_loop *l = w->loop;

  self = w;
  for (;;) {
    struct queued_req *q;
    struct fuse_buf fbuf = { .flags = 0 };
    bool resume;

    pthread_mutex_lock (&l->lock);
    while (!l->exit && l->head == NULL)
      pthread_cond_wait (&l->work, &l->lock);
    if (l->exit) {
      if (--l->nrunning == 0)
        pthread_cond_broadcast (&l->ended);
      pthread_mutex_unlock (&l->lock);
      break;
    }
    q = take_request (l);
    l->navail--;
    resume = should_resume (l);
    pthread_mutex_unlock (&l->lock);
    if (resume)
      resume_reader (l);

    w->buf = q->buf;
    w->pooled = q->pooled;
    fbuf.mem = q->buf;
    fbuf.size = q->size;
    free (q);
    fuse_session_process_buf (l->se, &fbuf);
    if (w->pooled)
      mount_buf_put (l->bufs, w->buf);
    else
      free (w->buf);
    w->buf = NULL;

    pthread_mutex_lock (&l->lock);
    l->navail++;
    pthread_mutex_unlock (&l->lock);
  }
  return NULL;
}

/* lock held.  0, or -1 (logged): the loop goes on with those it has. */
static int
start_worker (struct mount_loop *l)
{
  struct loop_worker *w = calloc (1, sizeof *w);
  int err;

  if (w == NULL) {
    mount_log (LOG_ERR, "cannot start a worker: out of memory");
    return -1;
  }
  w->loop = l;
  err = start_thread (&w->tid, false, worker, w);
  if (err) {
    mount_log (LOG_ERR, "cannot start a worker: %s", strerror (err));
    free (w);
    return -1;
  }
  w->next = l->workers;
  l->workers = w;
  l->nworkers++;
  l->nrunning++;
  l->navail++;
  return 0;
}

/* The request in the reader's buffer, size bytes, cannot be answered:
 * say so to the kernel (a program waits for it). */
static void
refuse (struct mount_loop *l, int err)
{
  const struct fuse_in_header *in = l->rbuf.mem;
  struct fuse_out_header out = {
    .len = sizeof out, .error = -err, .unique = in->unique
  };

  if (write (fuse_session_fd (l->se), &out, sizeof out) != sizeof out)
    mount_log (LOG_ERR, "cannot refuse a request: %s", strerror (errno));
}

/* Queue the request in the reader's buffer for a worker, starting one
 * if none is free for it.  0, or ENOMEM; *pause set if the reader must
 * stop until workers have taken some. */
static int
hand_over (struct mount_loop *l, size_t size, bool *pause)
{
  struct queued_req *q = malloc (sizeof *q);
  void *fresh = NULL;

  if (q == NULL)
    return ENOMEM;
  q->next = NULL;
  q->size = size;
  q->pooled = size > COPY_MAX;
  if (q->pooled) {
    if ((fresh = mount_buf_get (l->bufs)) == NULL) {
      free (q);
      return ENOMEM;
    }
    q->buf = l->rbuf.mem;
    l->rbuf.mem = fresh;
  }
  else {
    if ((q->buf = malloc (size)) == NULL) {
      free (q);
      return ENOMEM;
    }
    memcpy (q->buf, l->rbuf.mem, size);
  }
  pthread_mutex_lock (&l->lock);
  if (l->tail)
    l->tail->next = q;
  else
    l->head = q;
  l->tail = q;
  l->nqueued++;
  if (q->pooled && ++l->nqueued_bufs >= MAX_QUEUED_BUFS)
    *pause = l->paused = true;
  if (l->nqueued > l->navail && l->nworkers < l->max_threads)
    start_worker (l);
  pthread_cond_signal (&l->work);
  pthread_mutex_unlock (&l->lock);
  return 0;
}

/* The session has ended (unmounted), or receiving failed (-errno). */
static void
end_session (struct mount_loop *l, int res)
{
  if (res < 0) {
    pthread_mutex_lock (&l->lock);
    l->error = res;
    pthread_mutex_unlock (&l->lock);
  }
  fuse_session_exit (l->se);
  sem_post (&l->finish);
}

/* On the engine thread, /dev/fuse readable: serve or hand over what
 * has come.  False once the session has ended, or to pause. */
static bool
read_requests (void *arg)
{
  struct mount_loop *l = arg;
  bool pause = false;

  for (unsigned i = 0; i < READS_PER_WAKE && !pause; i++) {
    int res, err;

    l->rbuf.size = MOUNT_BUF_SIZE;
    res = fuse_session_receive_buf (l->se, &l->rbuf);
    if (res == -EAGAIN || res == -EINTR)
      return true;
    if (res <= 0) {
      end_session (l, res);
      return false;
    }
    if (serve_here (&l->rbuf))
      fuse_session_process_buf (l->se, &l->rbuf);
    else if ((err = hand_over (l, res, &pause)) != 0)
      refuse (l, err);
  }
  return !pause;
}

/* Until the reader posts, a signal arrives or a second has gone. */
static void
wait_a_while (sem_t *finish)
{
  struct timespec t;

  clock_gettime (CLOCK_REALTIME, &t);
  t.tv_sec++;
  sem_timedwait (finish, &t);
}

/* After the loop: the workers are joined, nothing is left queued; or,
 * when a worker still waits for the NFS server after end's wait, false
 * with everything left as it is (the caller exits). */
static bool
stop_workers (struct mount_loop *l, const struct mount_loop_end *end)
{
  struct loop_worker *w, *next;
  bool ended;

  pthread_mutex_lock (&l->lock);
  l->exit = true;
  pthread_cond_broadcast (&l->work);
  ended = wait_until_none (&l->lock, &l->ended, &l->nrunning, end->wait_s,
                           end->give_up, end->arg);
  pthread_mutex_unlock (&l->lock);
  if (!ended)
    return false;
  /* No worker starts another once exit is set, and the reader is
   * gone: the list is final. */
  for (w = l->workers; w; w = next) {
    next = w->next;
    pthread_join (w->tid, NULL);
    free (w);
  }
  while (l->head) {
    struct queued_req *q = take_request (l);
    if (q->pooled)
      mount_buf_put (l->bufs, q->buf);
    else
      free (q->buf);
    free (q);
  }
  return true;
}

static int
run (struct mount_loop *l, const struct mount_loop_end *end)
{
  int fd = fuse_session_fd (l->se);
  int flags = fcntl (fd, F_GETFL);

  if (flags == -1 || fcntl (fd, F_SETFL, flags | O_NONBLOCK) == -1)
    return -errno;
  dio__fs_watch (l->fs, fd, read_requests, l);
  /* A signal handler ends the session, in whichever thread the signal
   * lands: look again every second rather than count on sem_wait's
   * EINTR. */
  while (!fuse_session_exited (l->se))
    wait_a_while (&l->finish);
  pthread_mutex_lock (&l->watch_lock);
  l->stopped = true;
  dio__fs_watch (l->fs, -1, NULL, NULL);
  pthread_mutex_unlock (&l->watch_lock);
  if (end->ended)
    end->ended (end->arg);
  if (!stop_workers (l, end))
    return -EBUSY;
  return l->error;
}

/* A zeroed mutex or condition variable is a valid one to destroy, so
 * this also undoes a mount_loop that failed halfway. */
static void
loop_free (struct mount_loop *l)
{
  pthread_cond_destroy (&l->ended);
  pthread_cond_destroy (&l->work);
  pthread_mutex_destroy (&l->watch_lock);
  pthread_mutex_destroy (&l->lock);
  sem_destroy (&l->finish);
  free (l);
}

/* The loop's state is on the heap: when a worker is left waiting for
 * the NFS server (-EBUSY), it is left to that worker, whose process is
 * about to exit. */
int
mount_loop (struct fuse_session *se, struct dio__fs *fs,
            struct mount_bufs *bufs, unsigned max_threads,
            const struct mount_loop_end *end)
{
  struct mount_loop *l = calloc (1, sizeof *l);
  int r;

  if (l == NULL)
    return -ENOMEM;
  *l = (struct mount_loop) { .se = se, .fs = fs, .bufs = bufs,
                             .max_threads = max_threads };
  if (sem_init (&l->finish, 0, 0) == -1) {
    r = -errno;
    free (l);
    return r;
  }
  r = -pthread_mutex_init (&l->lock, NULL);
  if (r == 0)
    r = -pthread_mutex_init (&l->watch_lock, NULL);
  if (r == 0)
    r = -pthread_cond_init (&l->work, NULL);
  if (r == 0)
    r = -cond_init_monotonic (&l->ended);       /* wait_until_none's */
  if (r == 0 && (l->rbuf.mem = mount_buf_get (bufs)) == NULL)
    r = -ENOMEM;
  if (r == 0) {
    r = run (l, end);
    if (r == -EBUSY)
      return r;                 /* l is the waiting worker's now */
    mount_buf_put (bufs, l->rbuf.mem);
  }
  loop_free (l);
  fuse_session_reset (se);
  return r;
}
