/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The page cache's insides, shared by cache.c (pages, table, eviction,
 * coherence), cache-read.c (fills and readahead) and cache-write.c
 * (cached writes and write-back).
 *
 * Threading: one lock per cache guards every page and every attached
 * file's struct dio_cache_file.  Transfers run unlocked; their pages are
 * marked loading or writeback meanwhile, which nobody evicts or writes
 * into, and their completions (on engine threads) take the lock, change
 * the pages and broadcast cond.  A page's data is touched only under the
 * lock or by the one transfer that owns it. */
#ifndef DIO_CACHE_INT_H
#define DIO_CACHE_INT_H

#include "cache.h"
#include "stats.h"

struct dio_cpage {
  struct dio_cache_file *cf;
  uint64_t index;               /* file offset / page_size */
  char *data;                   /* page_size bytes */
  struct dio_cpage *hnext;      /* hash chain */
  struct dio_cpage *lprev, *lnext; /* LRU list, most recent first */
  struct dio_cpage *fprev, *fnext; /* the file's pages */
  uint32_t dlo, dhi;            /* dirty bytes [dlo, dhi); equal: clean */
  uint32_t wlo, whi;            /* bytes being written back */
  unsigned pins;                /* a reader will copy out: keep it */
  bool uptodate;                /* every byte is valid (else only the
                                   dirty or written-back bytes are) */
  bool loading, writeback;      /* a transfer owns it */
  bool stale;                   /* free it as soon as it is idle */
};

struct dio_cache {
  pthread_mutex_t lock;
  pthread_cond_t cond;          /* a transfer ended or a page changed */
  const struct dio_cache_ops *ops;
  struct dio_mount_stats *stats;
  uint32_t page_size;
  unsigned shift;               /* log2 (page_size) */
  uint64_t max_pages, npages, ndirty;
  uint64_t dirty_bg;            /* dirty pages: start write-back */
  uint64_t dirty_hi;            /* dirty pages: writers wait for it */
  uint64_t max_run;             /* pages in one transfer */
  uint32_t ra_min, ra_max;      /* readahead window, pages */
  size_t nbuckets;              /* a power of two */
  struct dio_cpage **buckets;
  struct dio_cpage lru;         /* sentinel of the LRU list */
  uint64_t acmin_ms, acmax_ms;  /* attribute timeout bounds */
  bool noac, nocto;             /* attribute cache policy */
};

static inline bool
page_dirty (const struct dio_cpage *p)
{
  return p->dlo != p->dhi;
}

static inline bool
page_busy (const struct dio_cpage *p)
{
  return p->loading || p->writeback;
}

/* Lock held: our own write or truncation moved the server's file: the
 * pages' stamp is no longer the server's attributes. */
static inline void
dio_cache_moved (struct dio_cache_file *cf)
{
  cf->stamp_valid = false;
  cf->attr_gen++;
}

static inline uint64_t
cf_size (const struct dio_cache_file *cf)
{
  return DIO_MAX (cf->srv_size, cf->wr_end);
}

/* The pages one transfer moves and the iovec array over their bytes: a
 * fill (cache-read.c) or a write-back run (cache-write.c). */
struct dio_cxfer {
  uint64_t n;                   /* pages */
  uint64_t done;                /* bytes moved so far */
  struct dio_cpage **pages;
  struct iovec *iovs;           /* one per page */
  struct iovec *iov;            /* what is still to move, within iovs */
  int iovcnt;
};

/* cache.c: room for max pages in x, which starts zeroed; -1 if no
 * memory (dio_cxfer_free then frees what was allocated). */
int dio_cxfer_alloc (struct dio_cxfer *x, uint64_t max);
/* cache.c: the transfer covers the first n pages, their iovecs set;
 * all of it is still to move. */
void dio_cxfer_set_pages (struct dio_cxfer *x, uint64_t n);
/* cache.c: bytes more have moved. */
void dio_cxfer_advance (struct dio_cxfer *x, uint64_t bytes);
void dio_cxfer_free (struct dio_cxfer *x);

/* cache.c, all with the lock held. */
struct dio_cpage *dio_cpage_lookup (struct dio_cache *c,
                                    struct dio_cache_file *cf,
                                    uint64_t index);
/* A new, clean, not uptodate page, evicting a clean idle one if the cache
 * is full; NULL if none can be freed (or no memory). */
struct dio_cpage *dio_cpage_new (struct dio_cache *c,
                                 struct dio_cache_file *cf, uint64_t index);
/* Free p now if it is stale (or clean and not uptodate) and idle. */
void dio_cpage_settle (struct dio_cache *c, struct dio_cpage *p);
void dio_cpage_free (struct dio_cache *c, struct dio_cpage *p);
void dio_cpage_touch (struct dio_cache *c, struct dio_cpage *p);
void dio_cpage_set_dirty (struct dio_cache *c, struct dio_cpage *p,
                          uint32_t lo, uint32_t hi);
/* The cache is full of pages nobody can evict: write back the oldest
 * dirty file, or wait for a transfer; may drop the lock.  The caller
 * holds no pins. */
void dio_cache_make_room (struct dio_cache *c, struct dio_cache_file *self);
void dio_cache_drop_locked (struct dio_cache_file *cf, uint64_t first,
                            uint64_t last);
/* Fetch the attributes if unknown (ensure), or also if timed out
 * (revalidate).  0, or -1 with errno. */
int dio_cache_ensure_attr (struct dio_cache_file *cf);
int dio_cache_revalidate (struct dio_cache_file *cf);

/* cache-write.c, lock held (dropped while waiting). */
int dio_cache_flush_locked (struct dio_cache_file *cf, uint64_t first,
                            uint64_t last);
void dio_cache_writeback_async (struct dio_cache_file *cf);
void dio_cache_record_error (struct dio_cache_file *cf, int err);

#endif /* DIO_CACHE_INT_H */
