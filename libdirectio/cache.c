/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The page cache: pages, their table and LRU list, eviction, and the
 * coherence rules between cached and direct I/O (after Linux's NFS
 * client: close-to-open, write-back before a direct read, invalidation
 * around a direct write).
 *
 * Memory: page data never exceeds the cache's size; a page is allocated
 * when first used and freed when evicted, so an idle cache holds nothing.
 *
 * Threading: see cache-int.h. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "cache-int.h"

/* ---- the cache ------------------------------------------------------- */

static unsigned
log2_of (uint32_t v)
{
  unsigned s = 0;
  while ((1u << s) < v)
    s++;
  return s;
}

struct dio_cache *
dio_cache_new (uint64_t size, uint32_t page_size,
               const struct dio_cache_ops *ops,
               struct dio_mount_stats *stats)
{
  struct dio_cache *c;

  if (page_size < 4096 || (page_size & (page_size - 1)) || size < page_size) {
    errno = EINVAL;
    return NULL;
  }
  c = calloc (1, sizeof *c);
  if (c == NULL)
    return NULL;
  c->ops = ops;
  c->stats = stats;
  c->page_size = page_size;
  c->shift = log2_of (page_size);
  c->max_pages = size / page_size;
  /* Start writing back at a quarter of the cache dirty; make writers
   * wait at half, so that clean pages remain for reading. */
  c->dirty_bg = DIO_MAX (c->max_pages / 4, 1u);
  c->dirty_hi = DIO_MAX (c->max_pages / 2, 1u);
  /* One transfer takes at most half the cache, and 16 MiB. */
  c->max_run = DIO_MAX (DIO_MIN (c->max_pages / 2,
                                 (16u << 20) >> c->shift), 1u);
  c->ra_min = DIO_MAX ((256u << 10) >> c->shift, 1u);
  c->ra_max = DIO_MAX (DIO_MIN (c->max_pages / 4,
                                (uint64_t) (8u << 20) >> c->shift), 1u);
  c->ra_min = DIO_MIN (c->ra_min, c->ra_max);
  c->nbuckets = 16;
  while (c->nbuckets < c->max_pages)
    c->nbuckets *= 2;
  c->buckets = calloc (c->nbuckets, sizeof *c->buckets);
  if (c->buckets == NULL) {
    free (c);
    errno = ENOMEM;
    return NULL;
  }
  c->lru.lnext = c->lru.lprev = &c->lru;
  dio_cache_set_attr_policy (c, 3, 60, false, false);
  pthread_mutex_init (&c->lock, NULL);
  pthread_cond_init (&c->cond, NULL);
  return c;
}

void
dio_cache_free (struct dio_cache *c)
{
  if (c == NULL)
    return;
  pthread_cond_destroy (&c->cond);
  pthread_mutex_destroy (&c->lock);
  free (c->buckets);
  free (c);
}

uint64_t
dio_cache_max_pages (const struct dio_cache *c)
{
  return c->max_pages;
}

uint64_t
dio_cache_npages (struct dio_cache *c)
{
  uint64_t n;

  pthread_mutex_lock (&c->lock);
  n = c->npages;
  pthread_mutex_unlock (&c->lock);
  return n;
}

/* ---- transfers' pages ------------------------------------------------ */

int
dio_cxfer_alloc (struct dio_cxfer *x, uint64_t max)
{
  if ((x->pages = calloc (max, sizeof *x->pages)) == NULL
      || (x->iovs = calloc (max, sizeof *x->iovs)) == NULL)
    return -1;
  return 0;
}

void
dio_cxfer_set_pages (struct dio_cxfer *x, uint64_t n)
{
  x->n = n;
  x->iov = x->iovs;
  x->iovcnt = n;
}

/* Drop the first bytes of an iovec array (moved already). */
static void
iov_advance (struct iovec **iov, int *iovcnt, uint64_t bytes)
{
  while (*iovcnt > 0 && bytes >= (*iov)->iov_len) {
    bytes -= (*iov)->iov_len;
    (*iov)++;
    (*iovcnt)--;
  }
  if (*iovcnt > 0 && bytes > 0) {
    (*iov)->iov_base = (char *) (*iov)->iov_base + bytes;
    (*iov)->iov_len -= bytes;
  }
}

void
dio_cxfer_advance (struct dio_cxfer *x, uint64_t bytes)
{
  x->done += bytes;
  iov_advance (&x->iov, &x->iovcnt, bytes);
}

void
dio_cxfer_free (struct dio_cxfer *x)
{
  free (x->pages);
  free (x->iovs);
}

/* ---- pages ----------------------------------------------------------- */

static size_t
bucket_of (const struct dio_cache *c, const struct dio_cache_file *cf,
           uint64_t index)
{
  uint64_t h = ((uint64_t) (uintptr_t) cf >> 4) * UINT64_C (0x9E3779B97F4A7C15)
    ^ index * UINT64_C (0xff51afd7ed558ccd);
  return (h ^ (h >> 29)) & (c->nbuckets - 1);
}

struct dio_cpage *
dio_cpage_lookup (struct dio_cache *c, struct dio_cache_file *cf,
                  uint64_t index)
{
  struct dio_cpage *p = c->buckets[bucket_of (c, cf, index)];

  while (p && !(p->cf == cf && p->index == index))
    p = p->hnext;
  return p;
}

static void
lru_unlink (struct dio_cpage *p)
{
  p->lprev->lnext = p->lnext;
  p->lnext->lprev = p->lprev;
}

static void
lru_push (struct dio_cache *c, struct dio_cpage *p)
{
  p->lnext = c->lru.lnext;
  p->lprev = &c->lru;
  c->lru.lnext->lprev = p;
  c->lru.lnext = p;
}

void
dio_cpage_touch (struct dio_cache *c, struct dio_cpage *p)
{
  lru_unlink (p);
  lru_push (c, p);
}

void
dio_cpage_free (struct dio_cache *c, struct dio_cpage *p)
{
  struct dio_cache_file *cf = p->cf;
  struct dio_cpage **pp = &c->buckets[bucket_of (c, cf, p->index)];

  while (*pp != p)
    pp = &(*pp)->hnext;
  *pp = p->hnext;
  lru_unlink (p);
  if (p->fprev)
    p->fprev->fnext = p->fnext;
  else
    cf->pages = p->fnext;
  if (p->fnext)
    p->fnext->fprev = p->fprev;
  if (page_dirty (p)) {
    c->ndirty--;
    cf->ndirty--;
  }
  cf->npages--;
  c->npages--;
  free (p->data);
  free (p);
}

static bool
evictable (const struct dio_cpage *p)
{
  return !page_busy (p) && !page_dirty (p) && p->pins == 0;
}

/* Free the least recently used page nobody needs. */
static bool
evict_one (struct dio_cache *c)
{
  for (struct dio_cpage *p = c->lru.lprev; p != &c->lru; p = p->lprev)
    if (evictable (p)) {
      dio_cpage_free (c, p);
      return true;
    }
  return false;
}

struct dio_cpage *
dio_cpage_new (struct dio_cache *c, struct dio_cache_file *cf,
               uint64_t index)
{
  struct dio_cpage *p;
  size_t b;

  if (c->npages >= c->max_pages && !evict_one (c))
    return NULL;
  p = calloc (1, sizeof *p);
  if (p == NULL || (p->data = malloc (c->page_size)) == NULL) {
    free (p);
    return NULL;
  }
  p->cf = cf;
  p->index = index;
  b = bucket_of (c, cf, index);
  p->hnext = c->buckets[b];
  c->buckets[b] = p;
  lru_push (c, p);
  p->fnext = cf->pages;
  if (cf->pages)
    cf->pages->fprev = p;
  cf->pages = p;
  cf->npages++;
  c->npages++;
  return p;
}

void
dio_cpage_settle (struct dio_cache *c, struct dio_cpage *p)
{
  if (page_busy (p) || page_dirty (p) || p->pins > 0)
    return;
  /* A clean page that is not uptodate holds nothing worth reading. */
  if (p->stale || !p->uptodate)
    dio_cpage_free (c, p);
}

void
dio_cpage_set_dirty (struct dio_cache *c, struct dio_cpage *p,
                     uint32_t lo, uint32_t hi)
{
  if (!page_dirty (p)) {
    p->dlo = lo;
    p->dhi = hi;
    c->ndirty++;
    p->cf->ndirty++;
  }
  else {
    p->dlo = DIO_MIN (p->dlo, lo);
    p->dhi = DIO_MAX (p->dhi, hi);
  }
  p->stale = false;
}

void
dio_cache_make_room (struct dio_cache *c, struct dio_cache_file *self)
{
  if (evict_one (c))
    return;
  /* Write back the file of the oldest dirty page that is not in
   * transfer; another file is held meanwhile (hold() takes the file's own
   * lock, never ours; release() may destroy it, which takes ours, so it
   * runs unlocked).  A file that cannot be held is being destroyed: its
   * pages are about to go anyway. */
  for (struct dio_cpage *p = c->lru.lprev; p != &c->lru; p = p->lprev) {
    struct dio_cache_file *victim = p->cf;
    if (!page_dirty (p) || page_busy (p))
      continue;
    if (victim == self) {
      dio_cache_flush_locked (self, 0, UINT64_MAX);
      return;
    }
    if (c->ops->hold (victim)) {
      dio_cache_flush_locked (victim, 0, UINT64_MAX);
      pthread_mutex_unlock (&c->lock);
      c->ops->release (victim);
      pthread_mutex_lock (&c->lock);
      return;
    }
  }
  /* Everything is in transfer (or going): one of them will end. */
  pthread_cond_wait (&c->cond, &c->lock);
}

/* ---- files ----------------------------------------------------------- */

void
dio_cache_file_init (struct dio_cache_file *cf, struct dio_cache *c)
{
  memset (cf, 0, sizeof *cf);
  cf->cache = c;
  if (c)
    cf->attrtimeo = c->acmin_ms;
}

void
dio_cache_file_destroy (struct dio_cache_file *cf)
{
  struct dio_cache *c = cf->cache;

  if (c == NULL)
    return;
  pthread_mutex_lock (&c->lock);
  while (cf->loads > 0 || cf->writebacks > 0)
    pthread_cond_wait (&c->cond, &c->lock);
  while (cf->pages)
    dio_cpage_free (c, cf->pages);
  pthread_cond_broadcast (&c->cond);    /* room for whoever waits */
  pthread_mutex_unlock (&c->lock);
}

unsigned
dio_cache_errseq (struct dio_cache_file *cf)
{
  unsigned seq = 0;

  if (cf->cache) {
    pthread_mutex_lock (&cf->cache->lock);
    seq = cf->wb_seq;
    pthread_mutex_unlock (&cf->cache->lock);
  }
  return seq;
}

int
dio_cache_check_error (struct dio_cache_file *cf, unsigned *seen)
{
  int err = 0;

  if (cf->cache == NULL)
    return 0;
  pthread_mutex_lock (&cf->cache->lock);
  if (*seen != cf->wb_seq) {
    *seen = cf->wb_seq;
    err = cf->wb_err;
  }
  pthread_mutex_unlock (&cf->cache->lock);
  if (err) {
    errno = err;
    return -1;
  }
  return 0;
}

void
dio_cache_record_error (struct dio_cache_file *cf, int err)
{
  cf->wb_err = err ? err : EIO;
  cf->wb_seq++;
}

/* Drop the clean pages of pages [first, last]: dirty ones stay; busy or
 * pinned ones go when they settle. */
void
dio_cache_drop_locked (struct dio_cache_file *cf, uint64_t first,
                       uint64_t last)
{
  struct dio_cache *c = cf->cache;
  struct dio_cpage *p = cf->pages, *next;

  DIO_ASSERT_HELD (&c->lock);
  for (; p; p = next) {
    next = p->fnext;
    if (p->index < first || p->index > last || page_dirty (p))
      continue;
    p->stale = true;
    dio_cpage_settle (c, p);
  }
}

static void
range_pages (const struct dio_cache *c, uint64_t offset, uint64_t len,
             uint64_t *first, uint64_t *last)
{
  *first = offset >> c->shift;
  if (len == 0 || offset + len < offset)
    *last = UINT64_MAX;
  else
    *last = (offset + len - 1) >> c->shift;
}

void
dio_cache_drop (struct dio_cache_file *cf, uint64_t offset, uint64_t len)
{
  struct dio_cache *c = cf->cache;
  uint64_t first, last;

  if (c == NULL)
    return;
  range_pages (c, offset, len, &first, &last);
  pthread_mutex_lock (&c->lock);
  dio_cache_drop_locked (cf, first, last);
  pthread_mutex_unlock (&c->lock);
}

/* ---- attributes: close-to-open and the attribute cache ---------------
 *
 * As Linux's NFS client (fs/nfs/inode.c): attributes fetched at open
 * (close-to-open), on fstat, and before a read once they are older than
 * the file's timeout; when they differ from those the cached pages
 * belong to, the clean pages go and the timeout starts again at
 * acregmin, else it doubles towards acregmax. */

void
dio_cache_set_attr_policy (struct dio_cache *c, uint32_t acregmin,
                           uint32_t acregmax, bool noac, bool nocto)
{
  c->acmax_ms = noac ? 0 : (uint64_t) acregmax * 1000;
  c->acmin_ms = DIO_MIN (noac ? 0 : (uint64_t) acregmin * 1000, c->acmax_ms);
  c->noac = noac;
  c->nocto = nocto;
}

bool
dio_cache_sync_writes (const struct dio_cache_file *cf)
{
  return cf->cache != NULL && cf->cache->noac;
}

static bool
ts_equal (const struct timespec *a, const struct timespec *b)
{
  return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static bool
attr_equal (const struct dio_cache_attr *a, const struct dio_cache_attr *b)
{
  return a->size == b->size && ts_equal (&a->mtime, &b->mtime)
    && ts_equal (&a->ctime, &b->ctime);
}

/* Lock held: take attributes asked for under t. */
static void
attr_apply_locked (struct dio_cache_file *cf, const struct dio_cache_attr *a,
                   const struct dio_cache_asked *t)
{
  struct dio_cache *c = cf->cache;
  bool changed = !cf->stamp_valid || !attr_equal (&cf->stamp, a);

  DIO_ASSERT_HELD (&c->lock);
  if (cf->attr_valid && t->ms < cf->attr_time)
    return;                     /* newer ones came first */
  /* Pages read under other attributes may be stale: another client
   * wrote (or we did, through write-back).  Our dirty data stays. */
  if (changed)
    dio_cache_drop_locked (cf, 0, UINT64_MAX);
  if (changed || t->gen != cf->attr_gen)
    cf->attrtimeo = c->acmin_ms;
  else if (t->ms >= cf->attr_time + cf->attrtimeo)
    cf->attrtimeo = DIO_MIN (cf->attrtimeo * 2, c->acmax_ms);
  cf->attr_time = t->ms;
  if (t->gen != cf->attr_gen) {
    /* Our own write ended while the GETATTR was out: the server may
     * have answered before it, so the size may be too small and the
     * stamp is not the pages'.  Keep the larger size. */
    cf->srv_size = cf->attr_valid ? DIO_MAX (cf->srv_size, a->size)
      : a->size;
    cf->stamp_valid = false;
  }
  else {
    cf->srv_size = a->size;
    cf->stamp = *a;
    cf->stamp_valid = true;
  }
  cf->attr_valid = true;
}

void
dio_cache_attr_ask (struct dio_cache_file *cf, struct dio_cache_asked *t)
{
  t->ms = dio_now_ms ();
  t->gen = 0;
  if (cf->cache) {
    pthread_mutex_lock (&cf->cache->lock);
    t->gen = cf->attr_gen;
    pthread_mutex_unlock (&cf->cache->lock);
  }
}

void
dio_cache_attr_update (struct dio_cache_file *cf,
                       const struct dio_cache_attr *attr,
                       const struct dio_cache_asked *t)
{
  struct dio_cache *c = cf->cache;

  if (c == NULL)
    return;
  pthread_mutex_lock (&c->lock);
  attr_apply_locked (cf, attr, t);
  pthread_mutex_unlock (&c->lock);
}

/* Lock held: are the attributes unknown, or (when_old) timed out at
 * now? */
static bool
attr_stale_locked (const struct dio_cache_file *cf, bool when_old,
                   uint64_t now)
{
  return !cf->attr_valid
    || (when_old && now - cf->attr_time >= cf->attrtimeo);
}

/* Fetch the attributes if they are stale (attr_stale_locked), or always
 * (force), and take them. */
static int
revalidate (struct dio_cache_file *cf, bool when_old, bool force)
{
  struct dio_cache *c = cf->cache;
  struct dio_cache_attr a;
  struct dio_cache_asked t;
  bool need;

  dio_cache_attr_ask (cf, &t);
  pthread_mutex_lock (&c->lock);
  need = force || attr_stale_locked (cf, when_old, t.ms);
  pthread_mutex_unlock (&c->lock);
  if (!need)
    return 0;
  if (c->ops->getattr (cf, &a) == -1)
    return -1;
  dio_cache_attr_update (cf, &a, &t);
  return 0;
}

int
dio_cache_ensure_attr (struct dio_cache_file *cf)
{
  return revalidate (cf, false, false);
}

int
dio_cache_revalidate (struct dio_cache_file *cf)
{
  return revalidate (cf, true, false);
}

void
dio_cache_open_attr (struct dio_cache_file *cf,
                     const struct dio_cache_attr *attr,
                     const struct dio_cache_asked *t)
{
  struct dio_cache *c = cf->cache;

  if (c == NULL)
    return;
  pthread_mutex_lock (&c->lock);
  if (!c->nocto || attr_stale_locked (cf, true, dio_now_ms ()))
    attr_apply_locked (cf, attr, t);
  pthread_mutex_unlock (&c->lock);
}

int
dio_cache_open (struct dio_cache_file *cf)
{
  struct dio_cache *c = cf->cache;

  if (c == NULL)
    return 0;
  return revalidate (cf, true, !c->nocto);
}

/* ---- direct I/O next to the cache ------------------------------------ */

int
dio_cache_before_direct (struct dio_cache_file *cf, bool write,
                         uint64_t offset, uint64_t len)
{
  struct dio_cache *c = cf->cache;
  uint64_t first, last;
  int r = 0;

  if (c == NULL)
    return 0;
  range_pages (c, offset, len, &first, &last);
  pthread_mutex_lock (&c->lock);
  if (cf->npages > 0) {
    r = dio_cache_flush_locked (cf, 0, UINT64_MAX);
    if (write)
      dio_cache_drop_locked (cf, first, last);
  }
  pthread_mutex_unlock (&c->lock);
  return r;
}

void
dio_cache_after_direct_write (struct dio_cache_file *cf, uint64_t offset,
                              uint64_t len, ssize_t result)
{
  struct dio_cache *c = cf->cache;
  uint64_t first, last;

  if (c == NULL)
    return;
  range_pages (c, offset, len, &first, &last);
  pthread_mutex_lock (&c->lock);
  if (cf->npages > 0)
    dio_cache_drop_locked (cf, first, last);
  if (result > 0) {
    cf->srv_size = DIO_MAX (cf->srv_size, offset + (uint64_t) result);
    dio_cache_moved (cf);
  }
  pthread_mutex_unlock (&c->lock);
}

/* Write back and drop everything; forget the attributes. */
static int
empty_locked (struct dio_cache_file *cf)
{
  int r = dio_cache_flush_locked (cf, 0, UINT64_MAX);

  dio_cache_drop_locked (cf, 0, UINT64_MAX);
  dio_cache_moved (cf);
  cf->attr_valid = false;
  cf->wr_end = 0;
  return r;
}

/* Write back everything, and wait for readahead still in flight: it
 * would outlive the description. */
static int
close_locked (struct dio_cache_file *cf)
{
  int r = dio_cache_flush_locked (cf, 0, UINT64_MAX);

  while (cf->loads > 0 || cf->writebacks > 0)
    pthread_cond_wait (&cf->cache->cond, &cf->cache->lock);
  return r;
}

/* For the calls that take only the file: without a cache there is
 * nothing to do; else op, with the lock held. */
static int
with_lock (struct dio_cache_file *cf, int (*op) (struct dio_cache_file *))
{
  struct dio_cache *c = cf->cache;
  int r;

  if (c == NULL)
    return 0;
  pthread_mutex_lock (&c->lock);
  r = op (cf);
  pthread_mutex_unlock (&c->lock);
  return r;
}

int
dio_cache_make_direct (struct dio_cache_file *cf)
{
  return with_lock (cf, empty_locked);
}

int
dio_cache_truncate_begin (struct dio_cache_file *cf)
{
  return dio_cache_make_direct (cf);
}

void
dio_cache_truncate_end (struct dio_cache_file *cf, uint64_t size)
{
  struct dio_cache *c = cf->cache;

  if (c == NULL)
    return;
  pthread_mutex_lock (&c->lock);
  /* Pages cached since truncate_begin may lie past the new end. */
  dio_cache_drop_locked (cf, 0, UINT64_MAX);
  cf->srv_size = size;
  cf->wr_end = DIO_MIN (cf->wr_end, size);
  dio_cache_moved (cf);
  pthread_mutex_unlock (&c->lock);
}

void
dio_cache_discard (struct dio_cache_file *cf)
{
  struct dio_cache *c = cf->cache;
  struct dio_cpage *p, *next;

  if (c == NULL)
    return;
  pthread_mutex_lock (&c->lock);
  for (p = cf->pages; p; p = next) {
    next = p->fnext;
    if (page_busy (p) || p->pins > 0)
      p->stale = true;
    else
      dio_cpage_free (c, p);
  }
  dio_cache_moved (cf);
  cf->attr_valid = false;
  cf->wr_end = 0;
  pthread_cond_broadcast (&c->cond);
  pthread_mutex_unlock (&c->lock);
}

int
dio_cache_close (struct dio_cache_file *cf)
{
  return with_lock (cf, close_locked);
}
