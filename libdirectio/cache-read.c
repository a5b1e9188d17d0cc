/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cached reads: hits, fills of missing pages, and sequential readahead.
 *
 * A miss starts one fill for the run of missing pages from the first one
 * needed, extended by the readahead window when the description reads
 * sequentially; the reader pins the run's pages, waits, copies and
 * unpins.  After each sequential read, if less than half a window is
 * already asked for ahead of the reader, another fill for the rest of the
 * window starts without waiting, so the next reads find their pages
 * (Linux's async readahead, mm/readahead.c, in miniature).
 *
 * A fill that comes back short before the size the cache expected (a
 * chunk failed, or another client truncated the file) asks again for the
 * rest: an empty answer is a real EOF, an error is an error.  (The
 * direct requests under it already ask again after a short READ reply
 * that is not at EOF, and make an empty one without EOF EIO: a fill sees
 * 0 only where the server said EOF, and never shrinks the file on a
 * server's whim; dreq.c.)
 *
 * Threading: see cache-int.h. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "cache-int.h"
#include "iov.h"

struct fill {
  struct dio_cache *c;
  struct dio_cache_file *cf;
  uint64_t first;               /* index of the first page */
  struct dio_cxfer xfer;        /* the pages, and the bytes read so far */
  bool waited;                  /* a reader waits (and frees it) */
  bool finished;
  int err;
};

static void fill_done (void *opaque, ssize_t result, int err);

static void
fill_free (struct fill *f)
{
  if (f) {
    dio_cxfer_free (&f->xfer);
    free (f);
  }
}

/* Lock held: every page of the fill has its bytes, or err. */
static void
fill_finish_locked (struct fill *f, int err)
{
  struct dio_cache *c = f->c;
  struct dio_cache_file *cf = f->cf;
  uint64_t done = f->xfer.done;
  uint64_t total = f->xfer.n << c->shift;
  uint64_t end = (f->first << c->shift) + done;

  if (err == 0)
    cf->srv_size = done < total ? end : DIO_MAX (cf->srv_size, end);
  for (uint64_t i = 0; i < f->xfer.n; i++) {
    struct dio_cpage *p = f->xfer.pages[i];
    uint64_t start = i << c->shift;
    uint64_t have = done > start ? DIO_MIN (done - start,
                                            (uint64_t) c->page_size) : 0;

    p->loading = false;
    if (err == 0 || have == c->page_size) {
      /* Past the server's EOF the file reads as zeros. */
      memset (p->data + have, 0, c->page_size - have);
      p->uptodate = true;
    }
    else
      p->stale = true;
    if (!f->waited)
      dio_cpage_settle (c, p);
  }
  cf->loads--;
  f->err = err;
  f->finished = true;
  pthread_cond_broadcast (&c->cond);
}

/* Ask the backend for what the fill still lacks. */
static int
fill_issue (struct fill *f)
{
  uint64_t offset = (f->first << f->c->shift) + f->xfer.done;
  return f->c->ops->start (f->cf, false, f->xfer.iov, f->xfer.iovcnt,
                           offset, fill_done, f);
}

static void
fill_done (void *opaque, ssize_t result, int err)
{
  struct fill *f = opaque;
  struct dio_cache *c = f->c;
  bool again;

  pthread_mutex_lock (&c->lock);
  if (result > 0)
    dio_cxfer_advance (&f->xfer, result);
  /* Short before the EOF we know of: ask once more to tell an EOF (an
   * empty answer) from an error. */
  again = result > 0 && f->xfer.done < (f->xfer.n << c->shift)
    && (f->first << c->shift) + f->xfer.done < f->cf->srv_size;
  if (!again) {
    bool waited = f->waited;
    fill_finish_locked (f, result < 0 ? (err ? err : EIO) : 0);
    pthread_mutex_unlock (&c->lock);
    if (!waited)
      fill_free (f);
    return;
  }
  pthread_mutex_unlock (&c->lock);
  if (fill_issue (f) == -1)
    fill_done (f, -1, errno);
}

/* Lock held: make pages [first, first+max) that are missing, stopping at
 * one that is present or when the cache is full.  NULL if not even the
 * first page could be made. */
static struct fill *
fill_make_locked (struct dio_cache *c, struct dio_cache_file *cf,
                  uint64_t first, uint64_t max, bool waited)
{
  struct fill *f = calloc (1, sizeof *f);
  uint64_t n;

  max = DIO_MIN (max, c->max_run);
  if (f == NULL || dio_cxfer_alloc (&f->xfer, max) == -1) {
    fill_free (f);
    return NULL;
  }
  for (n = 0; n < max; n++) {
    struct dio_cpage *p;
    if (dio_cpage_lookup (c, cf, first + n))
      break;
    p = dio_cpage_new (c, cf, first + n);
    if (p == NULL)
      break;
    p->loading = true;
    p->pins += waited;
    f->xfer.pages[n] = p;
    f->xfer.iovs[n].iov_base = p->data;
    f->xfer.iovs[n].iov_len = c->page_size;
  }
  if (n == 0) {
    fill_free (f);
    return NULL;
  }
  f->c = c;
  f->cf = cf;
  f->first = first;
  dio_cxfer_set_pages (&f->xfer, n);
  f->waited = waited;
  cf->loads++;
  return f;
}

/* Lock held (dropped meanwhile): start the fill.  A fill nobody waits
 * for may be finished and freed when this returns. */
static void
fill_launch_locked (struct fill *f)
{
  struct dio_cache *c = f->c;

  DIO_ASSERT_HELD (&c->lock);
  pthread_mutex_unlock (&c->lock);
  if (fill_issue (f) == -1)
    fill_done (f, -1, errno);
  pthread_mutex_lock (&c->lock);
}

/* Lock held: copy what the request wants from page p (uptodate); false
 * at EOF. */
static bool
copy_out (struct dio_cache *c, struct dio_cache_file *cf,
          struct dio_cpage *p, const struct iovec *iov, int iovcnt,
          uint64_t offset, uint64_t len, uint64_t *done)
{
  uint64_t pos = offset + *done;
  uint64_t size = cf_size (cf);
  uint32_t poff = pos & (c->page_size - 1);
  uint64_t n;

  if (pos >= size)
    return false;
  n = DIO_MIN ((uint64_t) c->page_size - poff, len - *done);
  n = DIO_MIN (n, size - pos);
  dio_buf_to_iov (iov, iovcnt, *done, p->data + poff, n);
  dio_cpage_touch (c, p);
  *done += n;
  return true;
}

static void readahead_locked (struct dio_cache *c, struct dio_cache_file *cf,
                              struct dio_cache_ra *ra, uint64_t pos);

/* Lock held: the page at idx is missing.  Fill it and the missing pages
 * after it that the request needs (and start the readahead window after
 * them, not waited for), copy what the request wants, and unpin.  1 when
 * done; -1 with errno if the fill failed (what it gave first is copied);
 * 0 if no page could be made (the cache is full, or no memory). */
static int
read_miss (struct dio_cache *c, struct dio_cache_file *cf,
           struct dio_cache_ra *ra, uint64_t idx, uint64_t last_needed,
           const struct iovec *iov, int iovcnt, uint64_t offset,
           uint64_t len, uint64_t *done)
{
  uint64_t last_data = (cf->srv_size - 1) >> c->shift;
  struct fill *f;
  int err;

  f = fill_make_locked (c, cf, idx,
                        DIO_MIN (last_needed, last_data) - idx + 1, true);
  if (f == NULL)
    return 0;
  fill_launch_locked (f);
  if (ra->window) {
    ra->ahead = DIO_MAX (ra->ahead, idx + f->xfer.n);
    readahead_locked (c, cf, ra, offset + len);
  }
  while (!f->finished)
    pthread_cond_wait (&c->cond, &c->lock);
  err = f->err;
  for (uint64_t i = 0; i < f->xfer.n; i++) {
    struct dio_cpage *p = f->xfer.pages[i];
    bool more = *done < len && p->uptodate
      && ((offset + *done) >> c->shift) == p->index;
    if (more && !copy_out (c, cf, p, iov, iovcnt, offset, len, done))
      len = *done;              /* EOF: copy no more */
    p->pins--;
    dio_cpage_settle (c, p);
  }
  /* Others may wait for a stale page we held to go. */
  pthread_cond_broadcast (&c->cond);
  fill_free (f);
  if (err) {
    errno = err;
    return -1;
  }
  return 1;
}

/* Lock held: past the server's EOF but inside our own writes: a hole. */
static struct dio_cpage *
zero_page (struct dio_cache *c, struct dio_cache_file *cf, uint64_t idx)
{
  struct dio_cpage *p = dio_cpage_new (c, cf, idx);

  if (p) {
    memset (p->data, 0, c->page_size);
    p->uptodate = true;
  }
  return p;
}

/* Lock held: keep a window of pages asked for ahead of pos. */
static void
readahead_locked (struct dio_cache *c, struct dio_cache_file *cf,
                  struct dio_cache_ra *ra, uint64_t pos)
{
  uint64_t cur = pos >> c->shift, start, end, last_data;
  struct fill *f;

  if (ra->window == 0 || pos >= cf->srv_size)
    return;
  last_data = (cf->srv_size - 1) >> c->shift;
  ra->ahead = DIO_MAX (ra->ahead, cur);
  if (ra->ahead > last_data || ra->ahead - cur > ra->window / 2)
    return;
  end = DIO_MIN (cur + ra->window, last_data + 1);
  for (start = ra->ahead; start < end; start++)
    if (dio_cpage_lookup (c, cf, start) == NULL)
      break;
  ra->ahead = start;
  if (start >= end)
    return;
  f = fill_make_locked (c, cf, start, end - start, false);
  if (f == NULL)
    return;
  ra->ahead = start + f->xfer.n;
  /* Not waited for: fill_done frees it, perhaps before this returns. */
  fill_launch_locked (f);
}

static void
update_window (struct dio_cache *c, struct dio_cache_ra *ra,
               uint64_t offset)
{
  if (offset == ra->next)
    ra->window = ra->window ? DIO_MIN (ra->window * 2, c->ra_max) : c->ra_min;
  else {
    ra->window = 0;
    ra->ahead = 0;
  }
}

ssize_t
dio_cache_read (struct dio_cache_file *cf, struct dio_cache_ra *ra,
                const struct iovec *iov, int iovcnt, uint64_t offset)
{
  struct dio_cache *c = cf->cache;
  uint64_t len = 0, done = 0;
  int err = 0;
  bool missed = false;          /* for the hit and miss counters */

  for (int i = 0; i < iovcnt; i++)
    len += iov[i].iov_len;
  if (len == 0)
    return 0;
  if (dio_cache_revalidate (cf) == -1)
    return -1;
  pthread_mutex_lock (&c->lock);
  update_window (c, ra, offset);
  while (done < len && offset + done < cf_size (cf)) {
    uint64_t idx = (offset + done) >> c->shift;
    uint64_t last = (offset + len - 1) >> c->shift;
    struct dio_cpage *p = dio_cpage_lookup (c, cf, idx);

    if (p == NULL) {
      int r;

      missed |= (idx << c->shift) < cf->srv_size;
      r = (idx << c->shift) >= cf->srv_size
        ? zero_page (c, cf, idx) != NULL
        : read_miss (c, cf, ra, idx, last, iov, iovcnt, offset, len, &done);
      if (r == 0 && c->npages < c->max_pages) {
        err = ENOMEM;           /* room, but no memory */
        break;
      }
      if (r == 0)
        dio_cache_make_room (c, cf);
      else if (r == -1) {
        err = errno;
        break;
      }
      continue;
    }
    if (p->loading || p->stale || (!p->uptodate && p->writeback)) {
      missed = true;
      pthread_cond_wait (&c->cond, &c->lock);
      continue;
    }
    if (!p->uptodate) {
      /* Only our own partial write is here: write it back, then read. */
      if (dio_cache_flush_locked (cf, idx, idx) == -1) {
        err = errno;
        break;
      }
      continue;
    }
    copy_out (c, cf, p, iov, iovcnt, offset, len, &done);
  }
  ra->next = offset + done;
  if (err == 0)
    readahead_locked (c, cf, ra, offset + done);
  pthread_mutex_unlock (&c->lock);
  if (c->stats && done > 0)
    dio_count (c->stats->cache_read_bytes, done);
  if (c->stats && missed)
    dio_count (c->stats->cache_misses, 1);
  else if (c->stats)
    dio_count (c->stats->cache_hits, 1);
  if (done == 0 && err) {
    errno = err;
    return -1;
  }
  return done;
}
