/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Buffered mode's link to the engine.
 *
 * Page size, measured on the loopback ganesha (3 interleaved runs, 64 KiB
 * / 256 KiB / 1 MiB pages; the machine is noisy): random 4 KiB reads
 * 9.8-15.7k / 3.5-6.9k / 1.9-2.3k IOPS (direct: 7.6-15.2k); sequential
 * 128 KiB reads 0.7-1.7 / 1.0-2.4 / 0.8-1.9 GiB/s, sequential 64 KiB
 * writes 170-260 / 320-450 / 150-330 MiB/s, no size clearly ahead.  So
 * 64 KiB: random reads fetch little more than they need, and streams
 * still move in rsize requests because fills and write-backs span runs
 * of pages.
 *
 * Each mount that may cache owns one struct dio_cache (m->cache), made
 * when its first inode is made and freed with its last, so it never
 * outlives the mount (inodes hold mount references).  The cache moves pages with
 * direct requests (dreq.h) and reads attributes with GETATTR.
 *
 * Threading: each mount's cache pointer and count are guarded by
 * cache_lock; caches have their own lock (cache-int.h). */
#include "internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "buffered.h"
#include "dreq.h"
#include "file.h"
#include "mount.h"

/* Guards every mount's cache and cache_refs (mount.h).  The cache is
 * the mount's but lives only while inodes are attached, so that the last
 * close frees its pages, as it always has. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* Held across fork (fork.c). */
__attribute__ ((constructor))
static void
buffered_atfork (void)
{
  dio_fork_hold (&cache_lock);
}

static struct dio_inode *
inode_of (struct dio_cache_file *cf)
{
  return (struct dio_inode *) ((char *) cf - offsetof (struct dio_inode, cf));
}

/* ---- the engine as the cache's backend ------------------------------- */

static int
engine_start (struct dio_cache_file *cf, bool write, const struct iovec *iov,
              int iovcnt, uint64_t offset, dio_cache_done_fn done,
              void *opaque)
{
  /* Cache traffic is not direct I/O: DIO_DREQ_CACHE keeps it out of the
   * direct byte counters (its RPCs stay counted).  The callbacks have
   * one signature. */
  return dio_dreq_start (inode_of (cf), write, DIO_DREQ_CACHE, iov, iovcnt,
                         offset, done, opaque);
}

static int
engine_getattr (struct dio_cache_file *cf, struct dio_cache_attr *attr)
{
  struct stat st;

  if (dio_inode_getattr (inode_of (cf), &st) == -1)
    return -1;
  *attr = dio_cache_attr_of_stat (&st);
  return 0;
}

static bool
engine_hold (struct dio_cache_file *cf)
{
  return dio_inode_tryget (inode_of (cf));
}

static void
engine_release (struct dio_cache_file *cf)
{
  dio_inode_put (inode_of (cf));
}

static const struct dio_cache_ops engine_ops = {
  .start = engine_start,
  .getattr = engine_getattr,
  .hold = engine_hold,
  .release = engine_release,
};

/* ---- the mount's cache ---------------------------------------------- */

struct dio_cache *
dio_buffered_attach (struct dio_mount *m)
{
  struct dio_cache *c;

  if (m->opts.forcedirectio)
    return NULL;
  pthread_mutex_lock (&cache_lock);
  if (m->cache == NULL) {
    m->cache = dio_cache_new (m->opts.cache_size, DIO_CACHE_PAGE,
                              &engine_ops, m->stats);
    if (m->cache)
      dio_cache_set_attr_policy (m->cache, m->opts.acregmin,
                                 m->opts.acregmax, m->opts.noac,
                                 m->opts.nocto);
  }
  c = m->cache;
  if (c)
    m->cache_refs++;
  pthread_mutex_unlock (&cache_lock);
  return c;
}

void
dio_buffered_detach (struct dio_mount *m)
{
  struct dio_cache *c = NULL;

  pthread_mutex_lock (&cache_lock);
  assert (m->cache != NULL && m->cache_refs > 0);
  if (--m->cache_refs == 0) {
    c = m->cache;
    m->cache = NULL;
  }
  pthread_mutex_unlock (&cache_lock);
  dio_cache_free (c);
}
