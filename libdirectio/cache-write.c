/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cached writes and write-back.
 *
 * A write into a page that is not cached does not read it first: the
 * page keeps only the written bytes (its dirty range), as Linux's NFS
 * client does; a second write that is not adjacent to the first, or a
 * read, writes the page back first.
 *
 * Write-back gathers a file's dirty pages in order and sends each run of
 * contiguous bytes as one transfer (the engine splits it into wsize
 * chunks, in parallel, committed before it completes), all runs at once.
 * A run that comes back short is continued; one that fails records the
 * error for fsync/close/directio(ON) (an errseq) and its pages are
 * dropped: the server has something else and the data cannot be kept
 * dirty for ever without blocking every writer behind it.
 *
 * Threading: see cache-int.h. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "cache-int.h"
#include "iov.h"

struct wb {
  struct dio_cache_file *cf;
  unsigned runs;                /* not finished yet */
  int err;                      /* first failure */
  bool waited;                  /* a flusher waits (and frees it) */
};

struct wb_run {
  struct wb *wb;
  uint64_t offset, len;         /* the run's bytes in the file */
  struct dio_cxfer xfer;        /* the pages, and the bytes written so far */
};

static void run_done (void *opaque, ssize_t result, int err);

static void
run_free (struct wb_run *r)
{
  if (r) {
    dio_cxfer_free (&r->xfer);
    free (r);
  }
}

static int
run_issue (struct wb_run *r)
{
  struct dio_cache_file *cf = r->wb->cf;
  return cf->cache->ops->start (cf, true, r->xfer.iov, r->xfer.iovcnt,
                                r->offset + r->xfer.done, run_done, r);
}

/* Lock held: the run is over, done bytes written. */
static void
run_finish_locked (struct wb_run *r, int err)
{
  struct dio_cache_file *cf = r->wb->cf;
  struct dio_cache *c = cf->cache;
  struct wb *wb = r->wb;
  uint64_t pos = 0;

  for (uint64_t i = 0; i < r->xfer.n; i++) {
    struct dio_cpage *p = r->xfer.pages[i];
    pos += p->whi - p->wlo;
    p->writeback = false;
    p->wlo = p->whi = 0;
    if (pos > r->xfer.done)
      p->stale = true;          /* not written: the server differs */
    dio_cpage_settle (c, p);
  }
  if (r->xfer.done < r->len) {
    dio_cache_record_error (cf, err);
    if (wb->err == 0)
      wb->err = cf->wb_err;
  }
  if (r->xfer.done > 0) {
    cf->srv_size = DIO_MAX (cf->srv_size, r->offset + r->xfer.done);
    dio_cache_moved (cf);       /* our write moved the server's mtime */
  }
  cf->writebacks--;
  if (--wb->runs == 0 && !wb->waited)
    free (wb);
  pthread_cond_broadcast (&c->cond);
  run_free (r);
}

static void
run_done (void *opaque, ssize_t result, int err)
{
  struct wb_run *r = opaque;
  struct dio_cache *c = r->wb->cf->cache;

  pthread_mutex_lock (&c->lock);
  if (result > 0) {
    dio_cxfer_advance (&r->xfer, result);
    if (r->xfer.done < r->len) {
      /* Short: send the rest; it either moves on or fails. */
      pthread_mutex_unlock (&c->lock);
      if (run_issue (r) == -1)
        run_done (r, -1, errno);
      return;
    }
  }
  run_finish_locked (r, result < 0 ? err : 0);
  pthread_mutex_unlock (&c->lock);
}

static int
cmp_index (const void *a, const void *b)
{
  const struct dio_cpage *x = *(struct dio_cpage *const *) a;
  const struct dio_cpage *y = *(struct dio_cpage *const *) b;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* Lock held: the file's dirty idle pages in [first, last], in order,
 * marked as being written back. */
static struct dio_cpage **
collect_locked (struct dio_cache_file *cf, uint64_t first, uint64_t last,
                uint64_t *n)
{
  struct dio_cache *c = cf->cache;
  struct dio_cpage **v, *p;

  *n = 0;
  v = malloc (DIO_MAX (cf->ndirty, 1u) * sizeof *v);
  if (v == NULL)
    return NULL;
  for (p = cf->pages; p; p = p->fnext)
    if (page_dirty (p) && !page_busy (p)
        && p->index >= first && p->index <= last)
      v[(*n)++] = p;
  qsort (v, *n, sizeof *v, cmp_index);
  for (uint64_t i = 0; i < *n; i++) {
    p = v[i];
    p->writeback = true;
    p->wlo = p->dlo;
    p->whi = p->dhi;
    p->dlo = p->dhi = 0;
    c->ndirty--;
    cf->ndirty--;
  }
  return v;
}

/* Does page b continue page a's bytes without a gap? */
static bool
contiguous (const struct dio_cache *c, const struct dio_cpage *a,
            const struct dio_cpage *b)
{
  return b->index == a->index + 1 && a->whi == c->page_size && b->wlo == 0;
}

static struct wb_run *
run_new (struct wb *wb, struct dio_cpage **v, uint64_t n)
{
  struct dio_cache *c = wb->cf->cache;
  struct wb_run *r = calloc (1, sizeof *r);

  if (r == NULL || dio_cxfer_alloc (&r->xfer, n) == -1) {
    run_free (r);
    return NULL;
  }
  r->wb = wb;
  memcpy (r->xfer.pages, v, n * sizeof *v);
  r->offset = (v[0]->index << c->shift) + v[0]->wlo;
  for (uint64_t i = 0; i < n; i++) {
    r->xfer.iovs[i].iov_base = v[i]->data + v[i]->wlo;
    r->xfer.iovs[i].iov_len = v[i]->whi - v[i]->wlo;
    r->len += r->xfer.iovs[i].iov_len;
  }
  dio_cxfer_set_pages (&r->xfer, n);
  return r;
}

/* Lock held (dropped while starting): write back the file's dirty pages
 * in [first, last].  Returns the write-back (NULL if there was nothing
 * to do, or no memory: then *err is set). */
static struct wb *
wb_start_locked (struct dio_cache_file *cf, uint64_t first, uint64_t last,
                 bool waited, int *err)
{
  struct dio_cache *c = cf->cache;
  struct dio_cpage **v;
  struct wb_run **runs;
  struct wb *wb;
  uint64_t n, i, j, nruns = 0;

  DIO_ASSERT_HELD (&c->lock);
  *err = 0;
  if (cf->ndirty == 0)
    return NULL;
  wb = calloc (1, sizeof *wb);
  runs = calloc (cf->ndirty, sizeof *runs);
  v = wb && runs ? collect_locked (cf, first, last, &n) : NULL;
  if (v == NULL || n == 0) {
    *err = v ? 0 : ENOMEM;
    free (wb);
    free (runs);
    free (v);
    return NULL;
  }
  wb->cf = cf;
  wb->waited = waited;
  for (i = 0; i < n; i = j) {
    for (j = i + 1; j < n && contiguous (c, v[j - 1], v[j]); j++)
      ;
    runs[nruns] = run_new (wb, v + i, j - i);
    if (runs[nruns] == NULL) {
      /* No memory for the bookkeeping: these pages stay dirty. */
      for (uint64_t k = i; k < j; k++) {
        v[k]->writeback = false;
        dio_cpage_set_dirty (c, v[k], v[k]->wlo, v[k]->whi);
      }
      *err = ENOMEM;
      continue;
    }
    nruns++;
  }
  free (v);
  wb->runs = nruns;
  cf->writebacks += nruns;
  if (nruns == 0) {
    free (wb);
    free (runs);
    return NULL;
  }
  pthread_mutex_unlock (&c->lock);
  for (i = 0; i < nruns; i++)
    if (run_issue (runs[i]) == -1)
      run_done (runs[i], -1, errno);
  free (runs);
  pthread_mutex_lock (&c->lock);
  return waited ? wb : NULL;
}

static bool
writeback_in_range (struct dio_cache_file *cf, uint64_t first,
                    uint64_t last)
{
  for (struct dio_cpage *p = cf->pages; p; p = p->fnext)
    if (p->writeback && p->index >= first && p->index <= last)
      return true;
  return false;
}

int
dio_cache_flush_locked (struct dio_cache_file *cf, uint64_t first,
                        uint64_t last)
{
  struct dio_cache *c = cf->cache;
  struct wb *wb;
  int err;

  wb = wb_start_locked (cf, first, last, true, &err);
  if (wb) {
    while (wb->runs > 0)
      pthread_cond_wait (&c->cond, &c->lock);
    err = wb->err;
    free (wb);
  }
  /* Write-backs others started must be on the server too. */
  while (writeback_in_range (cf, first, last))
    pthread_cond_wait (&c->cond, &c->lock);
  if (err) {
    errno = err;
    return -1;
  }
  return 0;
}

void
dio_cache_writeback_async (struct dio_cache_file *cf)
{
  int err;
  wb_start_locked (cf, 0, UINT64_MAX, false, &err);
}

int
dio_cache_flush (struct dio_cache_file *cf, uint64_t offset, uint64_t len)
{
  struct dio_cache *c = cf->cache;
  uint64_t last;
  int r;

  if (c == NULL)
    return 0;
  last = len == 0 || offset + len < offset
    ? UINT64_MAX : (offset + len - 1) >> c->shift;
  pthread_mutex_lock (&c->lock);
  r = dio_cache_flush_locked (cf, offset >> c->shift, last);
  pthread_mutex_unlock (&c->lock);
  return r;
}

/* ---- cached writes --------------------------------------------------- */

/* Lock held: a new page for a write of n bytes at poff. */
static void
init_page (struct dio_cache *c, struct dio_cache_file *cf,
           struct dio_cpage *p, uint32_t poff, uint64_t n)
{
  if ((p->index << c->shift) >= cf->srv_size) {
    /* Past the server's EOF: a hole until written. */
    memset (p->data, 0, c->page_size);
    p->uptodate = true;
  }
  else if (poff == 0 && n == c->page_size)
    p->uptodate = true;
}

/* Lock held: keep dirty pages within bounds; writers pay for it. */
static void
throttle_locked (struct dio_cache_file *cf)
{
  struct dio_cache *c = cf->cache;

  if (cf->ndirty == 0)
    return;
  if (c->ndirty >= c->dirty_hi)
    dio_cache_flush_locked (cf, 0, UINT64_MAX);
  else if (c->ndirty >= c->dirty_bg)
    dio_cache_writeback_async (cf);
}

ssize_t
dio_cache_write (struct dio_cache_file *cf, const struct iovec *iov,
                 int iovcnt, uint64_t offset)
{
  struct dio_cache *c = cf->cache;
  uint64_t len = 0, done = 0;
  int err = 0;

  for (int i = 0; i < iovcnt; i++)
    len += iov[i].iov_len;
  if (len == 0)
    return 0;
  if (dio_cache_ensure_attr (cf) == -1)
    return -1;
  pthread_mutex_lock (&c->lock);
  while (done < len) {
    uint64_t pos = offset + done, idx = pos >> c->shift;
    uint32_t poff = pos & (c->page_size - 1);
    uint64_t n = DIO_MIN ((uint64_t) c->page_size - poff, len - done);
    struct dio_cpage *p = dio_cpage_lookup (c, cf, idx);

    if (p && (page_busy (p) || p->stale)) {
      /* Being transferred, or dropped and about to go. */
      pthread_cond_wait (&c->cond, &c->lock);
      continue;
    }
    if (p == NULL) {
      p = dio_cpage_new (c, cf, idx);
      if (p == NULL && c->npages < c->max_pages) {
        err = ENOMEM;
        break;
      }
      if (p == NULL) {
        dio_cache_make_room (c, cf);
        continue;
      }
      init_page (c, cf, p, poff, n);
    }
    else if (!p->uptodate && page_dirty (p)
             && (poff > p->dhi || poff + n < p->dlo)) {
      /* Two separate pieces in a page we never read: send the first. */
      dio_cache_flush_locked (cf, idx, idx);
      continue;
    }
    dio_iov_to_buf (iov, iovcnt, done, p->data + poff, n);
    dio_cpage_set_dirty (c, p, poff, poff + n);
    dio_cpage_touch (c, p);
    cf->wr_end = DIO_MAX (cf->wr_end, pos + n);
    done += n;
  }
  throttle_locked (cf);
  pthread_mutex_unlock (&c->lock);
  if (c->stats && done > 0)
    dio_count (c->stats->cache_write_bytes, done);
  if (done == 0 && err) {
    errno = err;
    return -1;
  }
  return done;
}
