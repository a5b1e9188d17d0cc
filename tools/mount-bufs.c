/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio mount: the buffers large reads are answered from, and the
 * ones the workers receive requests into (mount-loop.c).
 *
 * A read of up to 1 MiB lands in one of these, and the kernel then copies
 * it into the program's pages, taking a reference on each of the
 * buffer's pages as it goes (fuse_copy_fill: one get_user_pages call per
 * 4 KiB page).  A fresh malloc'd megabyte each time costs page faults
 * and that page walk on 256 small pages; a kept buffer on one 2 MiB
 * transparent huge page (where the kernel allows it: THP "madvise" or
 * "always") costs neither, and stays warm in the cache between the
 * engine's copy into it and the kernel's copy out of it.
 *
 * Small reads (4 KiB random I/O) take malloc's memory: the pool is for
 * the sizes where the per-page costs show.  A worker holds its buffer
 * for its life (libfuse's loop keeps a malloc'd megabyte per worker
 * likewise), except that a large write keeps the one it came in until
 * it is durable, the worker taking another.  At most 64 are lent to
 * requests in flight (mount_buf_lend): past that a read takes malloc'd
 * memory and a write waits in its worker, as they did before the pool,
 * so memory stays bounded however many programs write at once.
 *
 * Threading: the free list is guarded by the pool's lock; a buffer
 * belongs to one read at a time. */
#include <config.h>

#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "mount-fs.h"

#define HUGE_SIZE (2 * 1024 * 1024)
#define POOL_KEEP 16            /* buffers kept free at most */
#define MAX_LENT 64             /* buffers of requests in flight */

struct mount_bufs {
  pthread_mutex_t lock;
  /* Guarded by lock. */
  void *free[POOL_KEEP];
  unsigned nfree;
  unsigned lent;                /* out through mount_buf_lend */
};

struct mount_bufs *
mount_bufs_new (void)
{
  struct mount_bufs *p = calloc (1, sizeof *p);

  if (p == NULL)
    return NULL;
  if (pthread_mutex_init (&p->lock, NULL) != 0) {
    free (p);
    return NULL;
  }
  return p;
}

void
mount_bufs_free (struct mount_bufs *p)
{
  if (p == NULL)
    return;
  for (unsigned i = 0; i < p->nfree; i++)
    free (p->free[i]);
  pthread_mutex_destroy (&p->lock);
  free (p);
}

void *
mount_buf_get (struct mount_bufs *p)
{
  void *b = NULL;

  pthread_mutex_lock (&p->lock);
  if (p->nfree)
    b = p->free[--p->nfree];
  pthread_mutex_unlock (&p->lock);
  if (b)
    return b;
  if (posix_memalign (&b, HUGE_SIZE, MOUNT_BUF_SIZE) != 0)
    return NULL;
  /* Advice only: without THP the buffer is small pages, kept. */
  (void) madvise (b, MOUNT_BUF_SIZE, MADV_HUGEPAGE);
  return b;
}

void
mount_buf_put (struct mount_bufs *p, void *b)
{
  pthread_mutex_lock (&p->lock);
  if (p->nfree < POOL_KEEP) {
    p->free[p->nfree++] = b;
    b = NULL;
  }
  pthread_mutex_unlock (&p->lock);
  free (b);
}

void *
mount_buf_lend (struct mount_bufs *p)
{
  void *b;

  pthread_mutex_lock (&p->lock);
  if (p->lent >= MAX_LENT) {
    pthread_mutex_unlock (&p->lock);
    return NULL;
  }
  p->lent++;
  pthread_mutex_unlock (&p->lock);
  b = mount_buf_get (p);
  if (b == NULL) {
    pthread_mutex_lock (&p->lock);
    p->lent--;
    pthread_mutex_unlock (&p->lock);
  }
  return b;
}

void
mount_buf_unlend (struct mount_bufs *p, void *b)
{
  pthread_mutex_lock (&p->lock);
  p->lent--;
  pthread_mutex_unlock (&p->lock);
  mount_buf_put (p, b);
}
