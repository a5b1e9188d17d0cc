/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio mount: the FUSE session's loop, multithreaded.
 *
 * As libfuse's fuse_session_loop_mt (workers started as all the others
 * are busy, up to a maximum, kept once started; at the end the main
 * thread cancels those still waiting in read and joins them all), with
 * one difference: each worker receives into a buffer of the pool
 * (mount-bufs.c), one 2 MiB huge page, instead of a malloc'd megabyte.
 * The kernel copies a write's data into that buffer taking a page
 * reference per 4 KiB page of it (fuse_copy_fill): on a huge page that
 * walk is short and the copy's TLB misses few.
 *
 * Threading: the workers and the main thread share struct mount_loop,
 * its lists and counts guarded by its lock.  Workers block all signals;
 * a handler (cmd-mount.c) ends the session and the main thread, which
 * looks at least once a second, then ends the loop. */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <linux/fuse.h>         /* struct fuse_in_header, the opcodes */

#include "mount-fs.h"

struct loop_worker {
  struct mount_loop *loop;
  pthread_t tid;
  void *buf;
  /* Here, not on the worker's stack: a worker cancelled in read
   * unwinds past its frame, and a sanitizer's markings of an
   * address-taken local there would outlive it. */
  struct fuse_buf fbuf;
  struct loop_worker *next;
};

struct mount_loop {
  struct fuse_session *se;
  struct mount_bufs *bufs;
  unsigned max_threads;
  sem_t finish;                 /* a worker saw the session end */
  pthread_mutex_t lock;
  /* Guarded by lock. */
  struct loop_worker *workers;
  unsigned nworkers, navail;
  bool exit;
  int error;                    /* a receive's -errno, or 0 */
};

static int start_worker (struct mount_loop *l);

/* The worker this thread is, if it is one. */
static __thread struct loop_worker *self;

void *
mount_loop_take_buf (void)
{
  void *b, *fresh;

  if (self == NULL || (fresh = mount_buf_lend (self->loop->bufs)) == NULL)
    return NULL;
  b = self->buf;
  self->buf = self->fbuf.mem = fresh;
  return b;
}

/* FORGETs need no thread of their own (a burst of them would otherwise
 * start many). */
static bool
is_forget (const struct fuse_buf *fbuf)
{
  const struct fuse_in_header *in = fbuf->mem;

  if (fbuf->flags & FUSE_BUF_IS_FD)
    return false;
  return in->opcode == FUSE_FORGET || in->opcode == FUSE_BATCH_FORGET;
}

static void *
worker (void *arg)
{
  struct loop_worker *w = arg;
  struct mount_loop *l = w->loop;

  self = w;
  while (!fuse_session_exited (l->se)) {
    bool forget;
    int res;

    pthread_setcancelstate (PTHREAD_CANCEL_ENABLE, NULL);
    res = fuse_session_receive_buf (l->se, &w->fbuf);
    pthread_setcancelstate (PTHREAD_CANCEL_DISABLE, NULL);
    if (res == -EINTR)
      continue;
    if (res <= 0) {
      if (res < 0) {
        pthread_mutex_lock (&l->lock);
        l->error = res;
        pthread_mutex_unlock (&l->lock);
        fuse_session_exit (l->se);
      }
      break;
    }
    forget = is_forget (&w->fbuf);
    pthread_mutex_lock (&l->lock);
    if (l->exit) {
      pthread_mutex_unlock (&l->lock);
      return NULL;
    }
    if (!forget)
      l->navail--;
    if (l->navail == 0 && l->nworkers < l->max_threads)
      start_worker (l);         /* none left waiting: one more */
    pthread_mutex_unlock (&l->lock);
    fuse_session_process_buf (l->se, &w->fbuf);
    pthread_mutex_lock (&l->lock);
    if (!forget)
      l->navail++;
    pthread_mutex_unlock (&l->lock);
  }
  sem_post (&l->finish);
  return NULL;
}

/* lock held.  0, or -1 (logged): the loop goes on with those it has. */
static int
start_worker (struct mount_loop *l)
{
  struct loop_worker *w = calloc (1, sizeof *w);
  sigset_t all, old;
  int err;

  if (w == NULL || (w->buf = mount_buf_get (l->bufs)) == NULL) {
    free (w);
    mount_log (LOG_ERR, "cannot start a worker: out of memory");
    return -1;
  }
  w->loop = l;
  w->fbuf.mem = w->buf;
  w->fbuf.size = MOUNT_BUF_SIZE;
  sigfillset (&all);
  pthread_sigmask (SIG_BLOCK, &all, &old);
  err = pthread_create (&w->tid, NULL, worker, w);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  if (err) {
    mount_log (LOG_ERR, "cannot start a worker: %s", strerror (err));
    mount_buf_put (l->bufs, w->buf);
    free (w);
    return -1;
  }
  w->next = l->workers;
  l->workers = w;
  l->nworkers++;
  l->navail++;
  return 0;
}

/* Until a worker posts, a signal arrives or a second has gone. */
static void
wait_a_while (sem_t *finish)
{
  struct timespec t;

  clock_gettime (CLOCK_REALTIME, &t);
  t.tv_sec++;
  sem_timedwait (finish, &t);
}

int
mount_loop (struct fuse_session *se, struct mount_bufs *bufs,
            unsigned max_threads)
{
  struct mount_loop l = { .se = se, .bufs = bufs,
                          .max_threads = max_threads };
  struct loop_worker *w, *next;
  int r;

  if (sem_init (&l.finish, 0, 0) == -1)
    return -errno;
  if ((r = pthread_mutex_init (&l.lock, NULL)) != 0) {
    sem_destroy (&l.finish);
    return -r;
  }
  pthread_mutex_lock (&l.lock);
  r = start_worker (&l);
  pthread_mutex_unlock (&l.lock);
  if (r == 0) {
    /* A signal handler ends the session, in whichever thread the
     * signal lands (not the workers: they block them all): look again
     * every second rather than count on sem_wait's EINTR. */
    while (!fuse_session_exited (se))
      wait_a_while (&l.finish);
    pthread_mutex_lock (&l.lock);
    for (w = l.workers; w; w = w->next)
      pthread_cancel (w->tid);
    l.exit = true;
    pthread_mutex_unlock (&l.lock);
    /* No worker starts another once exit is set. */
    for (w = l.workers; w; w = next) {
      next = w->next;
      pthread_join (w->tid, NULL);
      mount_buf_put (bufs, w->buf);
      free (w);
    }
    r = l.error;
  }
  else
    r = -ENOMEM;
  pthread_mutex_destroy (&l.lock);
  sem_destroy (&l.finish);
  fuse_session_reset (se);
  return r;
}
