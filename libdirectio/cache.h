/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Buffered mode: a bounded page cache per mount for files whose direct
 * I/O advice is off (Solaris's default), with sequential readahead,
 * write-back (at fsync, close, cache pressure and before a switch to
 * direct), close-to-open consistency and an attribute cache (acregmin,
 * acregmax, noac, nocto), as Linux's NFS client has.
 *
 * The cache knows nothing of NFS: it moves pages through a backend (the
 * engine's direct requests, see buffered.c, or a fake in the unit tests).
 * A file's cache state is a struct dio_cache_file embedded in its inode. */
#ifndef DIO_CACHE_H
#define DIO_CACHE_H

#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include "internal.h"

struct dio_cache;
struct dio_cache_file;
struct dio_cpage;
struct dio_mount_stats;

/* What the cache compares of a file's attributes on the server (NFSv3
 * has no change attribute: ctime stands for it, as in Linux's client). */
struct dio_cache_attr {
  uint64_t size;
  struct timespec mtime, ctime;
};

/* Completion of a backend transfer: bytes moved (the contiguous prefix)
 * or -1 with err. */
typedef void (*dio_cache_done_fn) (void *opaque, ssize_t result, int err);

struct dio_cache_ops {
  /* Start reading (write = false) or writing the bytes of iov at offset.
   * done runs exactly once, on any thread, perhaps before start returns;
   * the cache lock is not held then.  0, or -1 with errno if nothing was
   * started (done is not called). */
  int (*start) (struct dio_cache_file *cf, bool write,
                const struct iovec *iov, int iovcnt, uint64_t offset,
                dio_cache_done_fn done, void *opaque);

  /* The file's attributes on the server.  0, or -1 with errno. */
  int (*getattr) (struct dio_cache_file *cf, struct dio_cache_attr *attr);

  /* Keep cf alive while another file's caller writes it back under
   * cache pressure: false if cf is being destroyed (then skip it). */
  bool (*hold) (struct dio_cache_file *cf);
  void (*release) (struct dio_cache_file *cf);
};

/* One file's cache state.  All fields are guarded by cache->lock. */
struct dio_cache_file {
  struct dio_cache *cache;      /* immutable; NULL: the file is never
                                   cached (forcedirectio) */
  struct dio_cpage *pages;      /* this file's pages, unordered */
  uint64_t npages, ndirty;
  unsigned loads, writebacks;   /* transfers in flight */

  bool attr_valid;              /* srv_size and the stamp are known */
  uint64_t srv_size;            /* the server's size, as last seen */
  uint64_t wr_end;              /* end of the furthest cached write */

  /* The attributes the cached pages belong to (close-to-open and the
   * attribute cache); invalid once our own writes moved the server's. */
  bool stamp_valid;
  struct dio_cache_attr stamp;

  /* The attribute cache: attributes asked for at attr_time (dio_now_ms)
   * hold for attrtimeo ms, which doubles from acregmin towards acregmax
   * while the file does not change.  attr_gen counts our own changes of
   * the server's file (write-backs, direct writes, truncation), so that
   * a GETATTR that raced with one is not taken for the whole truth. */
  uint64_t attr_time;
  uint64_t attrtimeo;
  unsigned attr_gen;

  /* Write-back errors, reported once per open file description (an
   * errseq, as Linux does): wb_seq counts failures, wb_err is the last. */
  unsigned wb_seq;
  int wb_err;
};

/* Sequential readahead state of one open file description (guarded by
 * the cache lock while the cache uses it). */
struct dio_cache_ra {
  uint64_t next;                /* offset the next sequential read starts */
  uint64_t ahead;               /* first page not yet asked for */
  uint32_t window;              /* readahead pages; 0: random access */
};

/* A cache of at most size bytes of pages of page_size bytes (a power of
 * two, at least 4096).  stats (may be NULL) gets cache_read_bytes and
 * cache_write_bytes.  NULL with errno on failure. */
struct dio_cache *dio_cache_new (uint64_t size, uint32_t page_size,
                                 const struct dio_cache_ops *ops,
                                 struct dio_mount_stats *stats);

/* The attribute cache's policy (mount options, seconds): attributes
 * hold acregmin seconds at first, growing towards acregmax while the
 * file does not change; noac: not at all, and cached writes are written
 * back before they return (dio_cache_sync_writes); nocto: an open
 * revalidates only if they timed out.  The default is Linux's:
 * 3, 60, ac, cto.  Call before attaching files. */
void dio_cache_set_attr_policy (struct dio_cache *c, uint32_t acregmin,
                                uint32_t acregmax, bool noac, bool nocto);

/* noac: writes are synchronous. */
bool dio_cache_sync_writes (const struct dio_cache_file *cf);

/* No file may still be attached.  Accepts NULL. */
void dio_cache_free (struct dio_cache *c);

/* Pages the cache may hold, and holds now (for tests). */
uint64_t dio_cache_max_pages (const struct dio_cache *c);
uint64_t dio_cache_npages (struct dio_cache *c);

/* Attach cf (zeroed storage) to c, which may be NULL. */
void dio_cache_file_init (struct dio_cache_file *cf, struct dio_cache *c);

/* Wait for cf's transfers, then free its pages; dirty data still there
 * is lost (callers write back first: dio_cache_close). */
void dio_cache_file_destroy (struct dio_cache_file *cf);

/* The current error sequence, to start an open file description's. */
unsigned dio_cache_errseq (struct dio_cache_file *cf);

/* Report a write-back failure the description behind *seen has not seen
 * yet: -1 with errno, and *seen catches up; else 0. */
int dio_cache_check_error (struct dio_cache_file *cf, unsigned *seen);


/* Attributes fetched by someone else (fstat's GETATTR): note when and
 * in which state they were asked for (ask, before the GETATTR), then
 * revalidate with them as dio_cache_open does (update).  Nothing to do
 * without a cache. */
struct dio_cache_asked {
  uint64_t ms;                  /* dio_now_ms () */
  unsigned gen;                 /* cf->attr_gen */
};
void dio_cache_attr_ask (struct dio_cache_file *cf,
                         struct dio_cache_asked *t);
void dio_cache_attr_update (struct dio_cache_file *cf,
                            const struct dio_cache_attr *attr,
                            const struct dio_cache_asked *t);

/* Open (close-to-open): revalidate with the attributes the open fetched
 * (attr, asked for under t), or fetch them (dio_cache_open); under
 * nocto only if they timed out.  If they changed since the cached pages
 * were read, the clean ones go.  dio_cache_open: 0, or -1 with errno. */
void dio_cache_open_attr (struct dio_cache_file *cf,
                          const struct dio_cache_attr *attr,
                          const struct dio_cache_asked *t);
int dio_cache_open (struct dio_cache_file *cf);

/* Buffered read and write at offset.  A read first revalidates the
 * attributes if they timed out (so that a reader at the cached EOF sees
 * what another client appended).  The result is the bytes moved, or -1
 * with errno (reads: a failed fill or GETATTR; writes: no memory). */
ssize_t dio_cache_read (struct dio_cache_file *cf, struct dio_cache_ra *ra,
                        const struct iovec *iov, int iovcnt,
                        uint64_t offset);
ssize_t dio_cache_write (struct dio_cache_file *cf, const struct iovec *iov,
                         int iovcnt, uint64_t offset);

/* Write back the dirty pages overlapping [offset, offset+len) (len 0:
 * to the end) and wait for them.  0, or -1 with the errno of this
 * write-back's first failure (which is also recorded for
 * dio_cache_check_error). */
int dio_cache_flush (struct dio_cache_file *cf, uint64_t offset,
                     uint64_t len);

/* Drop the clean pages overlapping the range (len 0: to the end); pages
 * being read are dropped when their read ends.  Dirty pages stay. */
void dio_cache_drop (struct dio_cache_file *cf, uint64_t offset,
                     uint64_t len);

/* Direct I/O on a file that may have cached pages, so that both views
 * agree: before a direct read or write, write back all the file's dirty
 * pages (those past the range may extend the file: a read below them
 * must not find a false EOF), and before a write drop the range; after a
 * direct write of result bytes (or -1), drop the range again (pages read
 * meanwhile are stale) and note the new size.  The "before" calls return
 * -1 with errno if the write-back failed. */
int dio_cache_before_direct (struct dio_cache_file *cf, bool write,
                             uint64_t offset, uint64_t len);
void dio_cache_after_direct_write (struct dio_cache_file *cf,
                                   uint64_t offset, uint64_t len,
                                   ssize_t result);

/* Switching to direct I/O: write back everything, drop every page, and
 * forget the attributes (they are fetched again if the file goes back to
 * buffered).  0, or -1 with the write-back's errno. */
int dio_cache_make_direct (struct dio_cache_file *cf);

/* Truncation: before SETATTR, write back and drop everything (as
 * dio_cache_make_direct); after it succeeds, note the size. */
int dio_cache_truncate_begin (struct dio_cache_file *cf);
void dio_cache_truncate_end (struct dio_cache_file *cf, uint64_t size);

/* The file was truncated to nothing behind the cache (an open with
 * O_TRUNC): drop every page, dirty ones too, as Linux's truncate does;
 * pages in transfer go when it ends. */
void dio_cache_discard (struct dio_cache_file *cf);

/* Close of a description: write back everything and wait for the file's
 * readahead.  0, or -1 with the write-back's errno. */
int dio_cache_close (struct dio_cache_file *cf);

#endif /* DIO_CACHE_H */
