/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The direct request state machine (after Linux fs/nfs/direct.c).
 *
 * A request issues chunks lazily from a cursor, at most nslots at a time,
 * so its memory is bounded by the window whatever its length.  Chunks
 * complete in any order on the connections' service threads; the lowest
 * position where one stopped short (EOF, short write, error) bounds the
 * result: the contiguous prefix.
 *
 * Writes: a lone durable write that is one RPC goes as a FILE_SYNC
 * WRITE (a lone one of 512 KiB x nconnect or more is first split over
 * the connections: chunk_size).  Others go as UNSTABLE chunks whose
 * verifiers must all match, then join the file's next COMMIT (commit.h:
 * concurrent writes share COMMITs), whose verifier must match too;
 * otherwise the prefix is resent once FILE_SYNC, and a mismatch after
 * that is EIO.  The request completes only when every byte it reports is
 * on stable storage.
 *
 * Threading: everything under "guarded by lock" is touched by whichever
 * service thread completes a chunk; jobs are submitted after unlocking
 * and the completion callback runs unlocked, after which the request is
 * freed. */
#include "internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>

#include "commit.h"
#include "conn.h"
#include "directio.h"
#include "dreq.h"
#include "errors.h"
#include "file.h"
#include "iov.h"
#include "mount.h"

struct dio_chunk {
  struct dio_job job;           /* first: a job is a chunk */
  struct dio_dreq *dreq;
  uint64_t pos;                 /* relative to the request's offset */
  uint32_t count;
  char *bounce;                 /* write data gathered from several iovs */
  struct dio_chunk *next_free;
};

struct dio_dreq {
  /* Immutable. */
  struct dio_inode *ino;
  struct dio_mount *m;
  bool write;
  int flags;
  uint64_t offset, len;
  uint32_t chunk_bytes;         /* each chunk's size (the last: less) */
  dio_dreq_done_fn fn;
  void *opaque;
  int iovcnt;
  struct iovec *iov;
  unsigned nslots;
  struct dio_chunk *slots;
  bool writer;                  /* counted in the group's writers */
  struct dio_commit_waiter commit; /* in the file's commit group */

  pthread_mutex_t lock;
  /* Guarded by lock. */
  bool writing;                 /* counted in the group's writing: a
                                   small UNSTABLE pass, not yet joined */
  int stable;                   /* stable_how of this pass */
  bool resent;                  /* the FILE_SYNC resend pass has begun */
  uint64_t next_pos, end;       /* issue cursor and end of this pass */
  uint64_t stop_pos;            /* lowest position a chunk stopped at */
  int stop_err;                 /* its errno, 0 for EOF or short */
  unsigned inflight;
  bool need_commit, have_verf, mismatch;
  char verf[NFS3_VERF_SIZE];
  struct dio_chunk *free_slots;
};

/* ---- completion bookkeeping ------------------------------------------ */

/* What a request does when the last chunk of a pass is in. */
enum pass_next { PASS_MORE, PASS_COMMIT, PASS_DONE };

static void issue_locked (struct dio_dreq *d, struct dio_chunk **batch);
static enum pass_next pass_end_locked (struct dio_dreq *d,
                                       struct dio_chunk **batch,
                                       ssize_t *result, int *err);
static void result_of_prefix (struct dio_dreq *d, uint64_t prefix,
                              ssize_t *result, int *err);

static void
submit_batch (struct dio_dreq *d, struct dio_chunk *batch)
{
  if (batch && batch->job.next == NULL
      && batch->job.bytes <= DIO_MOUNT_NEAR_MAX) {
    dio_mount_submit_near (d->m, &batch->job);
    return;
  }
  while (batch) {
    struct dio_chunk *next = (struct dio_chunk *) batch->job.next;
    dio_mount_submit (d->m, &batch->job);
    batch = next;
  }
}

static void
dreq_free (struct dio_dreq *d)
{
  pthread_mutex_destroy (&d->lock);
  dio_inode_put (d->ino);
  free (d);                     /* slots and iov live in the same block */
}

static void
finish (struct dio_dreq *d, ssize_t result, int err)
{
  dio_dreq_done_fn fn = d->fn;
  void *opaque = d->opaque;

  if (d->writing)
    dio_commit_writing_end (&d->ino->commit);
  if (d->writer)
    dio_commit_writer_end (&d->ino->commit);
  __atomic_fetch_sub (&d->m->active[d->write], 1, __ATOMIC_RELAXED);
  if (result > 0 && !(d->flags & DIO_DREQ_CACHE)) {
    if (d->write)
      dio_count (d->m->stats->direct_write_bytes, result);
    else
      dio_count (d->m->stats->direct_read_bytes, result);
  }
  /* Free first: once fn runs, the caller may close the last descriptor,
   * and that close must find no reference of ours left on the mount. */
  dreq_free (d);
  fn (opaque, result, err);
}

/* Lock held: done bytes of a write chunk are in, with the server's
 * committed and verifier: note what the pass must COMMIT and check. */
static void
note_written_locked (struct dio_dreq *d, uint32_t done, int committed,
                     const char *verf)
{
  if (!d->write || done == 0 || committed == FILE_SYNC)
    return;
  d->need_commit = true;
  if (!d->have_verf) {
    memcpy (d->verf, verf, NFS3_VERF_SIZE);
    d->have_verf = true;
  }
  else if (memcmp (d->verf, verf, NFS3_VERF_SIZE) != 0)
    d->mismatch = true;
}

/* A chunk has completed: done bytes moved, err its errno (0 if none). */
static void
chunk_complete (struct dio_chunk *c, uint32_t done, int err,
                int committed, const char *verf)
{
  struct dio_dreq *d = c->dreq;
  struct dio_chunk *batch = NULL;
  enum pass_next next = PASS_MORE;
  ssize_t result = 0;
  int rerr = 0;

  free (c->bounce);
  c->bounce = NULL;

  pthread_mutex_lock (&d->lock);
  d->inflight--;
  note_written_locked (d, done, committed, verf);
  if ((done < c->count || err) && c->pos + done < d->stop_pos) {
    d->stop_pos = c->pos + done;
    d->stop_err = err;
  }
  c->next_free = d->free_slots;
  d->free_slots = c;

  issue_locked (d, &batch);
  if (d->inflight == 0 && batch == NULL)
    next = pass_end_locked (d, &batch, &result, &rerr);
  pthread_mutex_unlock (&d->lock);

  submit_batch (d, batch);
  if (next == PASS_COMMIT)
    dio_commit_join (&d->ino->commit, &d->commit);
  else if (next == PASS_DONE)
    finish (d, result, rerr);
}

/* The server moved done bytes of the chunk, fewer than asked, and the
 * rest is not past EOF: send the rest as a new RPC from the same slot
 * (as Linux's nfs_readpage_retry and nfs_writeback_result do; no
 * allocation).  The chunk stays in flight. */
static void
chunk_continue (struct dio_chunk *c, uint32_t done, int committed,
                const char *verf)
{
  struct dio_dreq *d = c->dreq;

  if (d->write) {
    pthread_mutex_lock (&d->lock);
    note_written_locked (d, done, committed, verf);
    pthread_mutex_unlock (&d->lock);
  }
  c->pos += done;
  c->count -= done;
  c->job.bytes = c->count;
  dio_mount_submit (d->m, &c->job);
}

/* Take free slots for the next chunks of this pass. */
static void
issue_locked (struct dio_dreq *d, struct dio_chunk **batch)
{
  uint64_t limit = DIO_MIN (d->end, d->stop_pos);

  while (d->free_slots && d->next_pos < limit) {
    struct dio_chunk *c = d->free_slots;
    d->free_slots = c->next_free;
    c->pos = d->next_pos;
    c->count = DIO_MIN ((uint64_t) d->chunk_bytes, limit - d->next_pos);
    c->job.bytes = c->count;
    d->next_pos += c->count;
    d->inflight++;
    c->job.next = *batch ? &(*batch)->job : NULL;
    *batch = c;
  }
}

static void
start_pass_locked (struct dio_dreq *d, int stable, uint64_t end,
                   struct dio_chunk **batch)
{
  DIO_ASSERT_HELD (&d->lock);
  d->stable = stable;
  d->next_pos = 0;
  d->end = end;
  d->stop_pos = end;
  d->stop_err = 0;
  d->need_commit = d->have_verf = d->mismatch = false;
  issue_locked (d, batch);
}

/* The verifiers disagreed or the COMMIT failed: the server may have lost
 * data it acknowledged.  Resend it all FILE_SYNC once; the second time,
 * give up with EIO rather than loop. */
static enum pass_next
resend_or_fail_locked (struct dio_dreq *d, uint64_t prefix,
                       struct dio_chunk **batch, ssize_t *result, int *err)
{
  DIO_ASSERT_HELD (&d->lock);
  dio_count (d->m->stats->verifier_mismatches, 1);
  if (prefix == 0) {                  /* nothing to make durable */
    result_of_prefix (d, prefix, result, err);
    return PASS_DONE;
  }
  if (d->resent) {
    *result = -1;
    *err = EIO;
    return PASS_DONE;
  }
  d->resent = true;
  dio_count (d->m->stats->resends,
             (prefix + d->chunk_bytes - 1) / d->chunk_bytes);
  start_pass_locked (d, FILE_SYNC, prefix, batch);
  return PASS_MORE;
}

static void
result_of_prefix (struct dio_dreq *d, uint64_t prefix,
                  ssize_t *result, int *err)
{
  if (prefix > 0)
    *result = prefix;
  else if (d->stop_err) {
    *result = -1;
    *err = d->stop_err;
  }
  else if (d->write && d->len > 0) {
    *result = -1;               /* the server accepted nothing, silently */
    *err = EIO;
  }
  else
    *result = 0;                /* EOF */
}

/* Every chunk of the pass is in: decide what comes next.  PASS_DONE
 * sets *result and *err; PASS_COMMIT means join the file's next COMMIT
 * (after unlocking). */
static enum pass_next
pass_end_locked (struct dio_dreq *d, struct dio_chunk **batch,
                 ssize_t *result, int *err)
{
  uint64_t prefix = DIO_MIN (d->stop_pos, d->end);

  if (d->write && d->mismatch && !(d->flags & DIO_WRITE_UNSTABLE))
    return resend_or_fail_locked (d, prefix, batch, result, err);
  if (d->write && (d->flags & DIO_WRITE_UNSTABLE) && d->have_verf)
    dio_inode_note_unstable (d->ino, d->verf, d->mismatch);
  else if (d->write && d->need_commit && prefix > 0) {
    d->need_commit = false;
    d->commit.offset = d->offset;
    d->commit.count = prefix;
    d->inflight++;
    d->commit.writer = d->writing;      /* the join tells the group */
    d->writing = false;
    return PASS_COMMIT;
  }
  result_of_prefix (d, prefix, result, err);
  return PASS_DONE;
}

/* The file's COMMIT is in: its verifier must match the writes'. */
static void
commit_done (struct dio_commit_waiter *w, int err, const char *verf)
{
  struct dio_dreq *d = (struct dio_dreq *)
    ((char *) w - offsetof (struct dio_dreq, commit));
  struct dio_chunk *batch = NULL;
  uint64_t prefix;
  enum pass_next next;
  ssize_t result = 0;
  int rerr = 0;

  pthread_mutex_lock (&d->lock);
  d->inflight--;
  prefix = DIO_MIN (d->stop_pos, d->end);
  if (err || memcmp (verf, d->verf, NFS3_VERF_SIZE) != 0)
    next = resend_or_fail_locked (d, prefix, &batch, &result, &rerr);
  else {
    next = PASS_DONE;
    result_of_prefix (d, prefix, &result, &rerr);
  }
  pthread_mutex_unlock (&d->lock);

  submit_batch (d, batch);
  if (next == PASS_DONE)
    finish (d, result, rerr);
}

/* ---- RPCs (started under a context lock; callbacks on service threads) */

/* A READ reply: a short one that is not at EOF is continued; an empty
 * one without EOF is EIO (Linux: fs/nfs/read.c), never an EOF. */
static void
read_cb (struct rpc_context *rpc, int status, void *data, void *priv)
{
  struct dio_chunk *c = priv;
  READ3res *res = data;
  uint32_t done = 0;
  int err = 0;

  if (dio_conn_job_reclaimed (c->job.conn, &c->job, status, data))
    return;                     /* sent again, delayed, or timed out */
  err = dio_rpc_result_errno (c->dreq->m->stats, status, data);
  if (err == 0) {
    done = DIO_MIN (res->READ3res_u.resok.count,
                    res->READ3res_u.resok.data.data_len);
    done = DIO_MIN (done, c->count);
    dio_buf_to_iov (c->dreq->iov, c->dreq->iovcnt, c->pos,
                    res->READ3res_u.resok.data.data_val, done);
    if (done < c->count && !res->READ3res_u.resok.eof) {
      if (done == 0)
        err = EIO;
      else {
        chunk_continue (c, done, 0, NULL);
        return;
      }
    }
  }
  chunk_complete (c, done, err, 0, NULL);
}

/* A WRITE reply: a short count is continued; count 0 is EIO (Linux:
 * fs/nfs/write.c). */
static void
write_cb (struct rpc_context *rpc, int status, void *data, void *priv)
{
  struct dio_chunk *c = priv;
  WRITE3res *res = data;
  uint32_t done = 0;
  int err = 0, committed = 0;
  const char *verf = NULL;

  if (dio_conn_job_reclaimed (c->job.conn, &c->job, status, data))
    return;
  err = dio_rpc_result_errno (c->dreq->m->stats, status, data);
  if (err == 0) {
    done = DIO_MIN (res->WRITE3res_u.resok.count, c->count);
    committed = res->WRITE3res_u.resok.committed;
    verf = res->WRITE3res_u.resok.verf;
    if (done == 0)
      err = EIO;
    else if (done < c->count) {
      chunk_continue (c, done, committed, verf);
      return;
    }
  }
  chunk_complete (c, done, err, committed, verf);
}

static int
start_read (struct dio_chunk *c, struct rpc_context *rpc)
{
  struct dio_dreq *d = c->dreq;
  READ3args a = {
    .file = dio_inode_fh3 (d->ino),
    .offset = d->offset + c->pos,
    .count = c->count,
  };

  c->job.op = DIO_OP_READ;
  dio_count (d->m->stats->read_rpcs, 1);
  return rpc_nfs3_read_async (rpc, read_cb, &a, c) == 0 ? 0 : EIO;
}

static int
start_write (struct dio_chunk *c, struct rpc_context *rpc)
{
  struct dio_dreq *d = c->dreq;
  WRITE3args a;
  char *data = dio_iov_contiguous (d->iov, d->iovcnt, c->pos, c->count);

  free (c->bounce);             /* sent before, and queued again */
  c->bounce = NULL;
  if (data == NULL) {
    c->bounce = malloc (c->count);
    if (c->bounce == NULL)
      return ENOMEM;
    dio_iov_to_buf (d->iov, d->iovcnt, c->pos, c->bounce, c->count);
    data = c->bounce;
  }
  a = (WRITE3args) {
    .file = dio_inode_fh3 (d->ino),
    .offset = d->offset + c->pos,
    .count = c->count,
    .stable = d->stable,
    .data = { .data_len = c->count, .data_val = data },
  };
  c->job.op = DIO_OP_WRITE;
  c->job.durable = d->writer;
  dio_count (d->m->stats->write_rpcs, 1);
  return rpc_nfs3_write_async (rpc, write_cb, &a, c) == 0 ? 0 : EIO;
}

static int
chunk_start (struct dio_job *job, struct dio_conn *conn)
{
  struct dio_chunk *c = (struct dio_chunk *) job;
  struct rpc_context *rpc = dio_conn_rpc (conn);

  return c->dreq->write ? start_write (c, rpc) : start_read (c, rpc);
}

static void
chunk_fail (struct dio_job *job, int err)
{
  chunk_complete ((struct dio_chunk *) job, 0, err, 0, NULL);
}

/* ---- requests -------------------------------------------------------- */

/* The request, its slots and its copy of the iovec array in one block:
 * one allocation per request, which matters at 4 KiB. */
static struct dio_dreq *
dreq_alloc (unsigned nslots, int iovcnt)
{
  size_t slots_at = DIO_ALIGN_UP (sizeof (struct dio_dreq),
                                  _Alignof (struct dio_chunk));
  size_t iov_at = DIO_ALIGN_UP (slots_at + nslots * sizeof (struct dio_chunk),
                                _Alignof (struct iovec));
  char *block = calloc (1, iov_at + iovcnt * sizeof (struct iovec));
  struct dio_dreq *d = (struct dio_dreq *) block;

  if (d == NULL)
    return NULL;
  d->nslots = nslots;
  d->slots = (struct dio_chunk *) (block + slots_at);
  d->iovcnt = iovcnt;
  d->iov = (struct iovec *) (block + iov_at);
  return d;
}

/* Smallest part a lone request is split into.  Reads gain from 128 KiB
 * parts.  A durable write split needs a COMMIT after its parts, where
 * one write goes as a single FILE_SYNC WRITE: measured against the
 * loopback ganesha, a 1 MiB write split in two was 7-13% faster, a 256
 * KiB one 5% slower (bench/README.md). */
#define READ_SPLIT_MIN (128u * 1024)
#define WRITE_SPLIT_MIN (512u * 1024)

/* The chunk size of a request.  A request alone on the mount (in its
 * direction) that would be one or a few RPCs is spread over every
 * connection instead: the server works on the parts in parallel, and a
 * lone caller (iodepth 1) is answered sooner.  Beside other requests the
 * connections are busy anyway, and full-size chunks cost fewer RPCs. */
static uint32_t
chunk_size (struct dio_mount *m, bool write, uint64_t len, bool alone)
{
  uint32_t full = write ? m->wsize : m->rsize;
  uint64_t part;

  if (!alone || m->nconn < 2 || len >= (uint64_t) full * m->nconn)
    return full;
  part = DIO_ALIGN_UP ((len + m->nconn - 1) / m->nconn, 4096);
  if (write)
    return part < WRITE_SPLIT_MIN ? full : DIO_MIN (part, full);
  return DIO_MIN (DIO_MAX (part, READ_SPLIT_MIN), full);
}

static struct dio_dreq *
dreq_new (struct dio_inode *ino, bool write, int flags,
          const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t len)
{
  struct dio_mount *m = ino->mount;
  bool alone = __atomic_fetch_add (&m->active[write], 1, __ATOMIC_RELAXED) == 0;
  uint32_t chunk_bytes = chunk_size (m, write, len, alone);
  uint64_t nchunks = (len + chunk_bytes - 1) / chunk_bytes;
  /* Enough chunks to fill every connection's window, and one more batch
   * queued behind it so the pipe never drains between completions. */
  unsigned nslots = DIO_MAX (DIO_MIN (nchunks, 2u * m->nconn * m->opts.window),
                             1u);
  struct dio_dreq *d = dreq_alloc (nslots, iovcnt);

  if (d == NULL) {
    __atomic_fetch_sub (&m->active[write], 1, __ATOMIC_RELAXED);
    return NULL;
  }
  d->ino = ino;
  d->m = m;
  d->write = write;
  d->flags = flags;
  d->offset = offset;
  d->len = len;
  d->chunk_bytes = chunk_bytes;
  memcpy (d->iov, iov, iovcnt * sizeof *iov);
  pthread_mutex_init (&d->lock, NULL);
  d->commit.done = commit_done;
  for (unsigned i = 0; i < d->nslots; i++) {
    struct dio_chunk *c = &d->slots[i];
    c->dreq = d;
    c->job.start = chunk_start;
    c->job.fail = chunk_fail;
    c->next_free = d->free_slots;
    d->free_slots = c;
  }
  return d;
}

int
dio_dreq_start (struct dio_inode *ino, bool write, int flags,
                const struct iovec *iov, int iovcnt, uint64_t offset,
                dio_dreq_done_fn fn, void *opaque)
{
  struct dio_dreq *d;
  struct dio_chunk *batch = NULL;
  uint64_t len = 0;
  int stable;

  for (int i = 0; i < iovcnt; i++)
    len += iov[i].iov_len;
  if (len == 0) {
    fn (opaque, 0, 0);
    return 0;
  }
  d = dreq_new (ino, write, flags, iov, iovcnt, offset, len);
  if (d == NULL)
    return dio_error (ENOMEM, "direct request");
  d->fn = fn;
  d->opaque = opaque;
  dio_inode_get (ino);
  stable = UNSTABLE;
  if (write && !(flags & DIO_WRITE_UNSTABLE)) {
    /* A lone single-RPC write is made stable by the server itself, in
     * one round trip; beside other writes, sharing their COMMIT flushes
     * less (commit.h). */
    d->writer = true;
    if (dio_commit_writer_begin (&ino->commit) == 0 && len <= d->chunk_bytes)
      stable = FILE_SYNC;
    /* A small UNSTABLE pass is what a COMMIT may wait for (commit.h);
     * a FILE_SYNC one needs no COMMIT, and the FILE_SYNC resend after a
     * verifier change is not counted. */
    if (stable == UNSTABLE && len <= DIO_COMMIT_SMALL) {
      d->writing = true;
      dio_commit_writing_begin (&ino->commit);
    }
  }
  pthread_mutex_lock (&d->lock);
  start_pass_locked (d, stable, len, &batch);
  pthread_mutex_unlock (&d->lock);
  submit_batch (d, batch);
  return 0;
}

struct sync_result {
  struct dio_waiter w;
  ssize_t result;
  int err;
};

static void
sync_done (void *opaque, ssize_t result, int err)
{
  struct sync_result *r = opaque;
  r->result = result;
  r->err = err;
  dio_waiter_signal (&r->w);
}

ssize_t
dio_dreq_run (struct dio_inode *ino, bool write, int flags,
              const struct iovec *iov, int iovcnt, uint64_t offset)
{
  struct sync_result r;

  dio_waiter_init (&r.w);
  if (dio_dreq_start (ino, write, flags, iov, iovcnt, offset,
                      sync_done, &r) == -1) {
    dio_waiter_destroy (&r.w);
    return -1;
  }
  dio_waiter_wait (&r.w);
  dio_waiter_destroy (&r.w);
  if (r.result == -1)
    errno = r.err;
  return r.result;
}
