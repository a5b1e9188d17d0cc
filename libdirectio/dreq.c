/* The direct request state machine (after Linux fs/nfs/direct.c).
 *
 * A request issues chunks lazily from a cursor, at most nslots at a time,
 * so its memory is bounded by the window whatever its length.  Chunks
 * complete in any order on the connections' service threads; the lowest
 * position where one stopped short (EOF, short write, error) bounds the
 * result: the contiguous prefix.
 *
 * Writes: a write of at most wsize goes FILE_SYNC.  A larger one goes as
 * UNSTABLE chunks whose verifiers must all match, then one COMMIT whose
 * verifier must match too; otherwise the prefix is resent once FILE_SYNC,
 * and a mismatch after that is EIO.  The request completes only when
 * every byte it reports is on stable storage.
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

#include "conn.h"
#include "directio.h"
#include "dreq.h"
#include "errors.h"
#include "file.h"
#include "mount.h"
#include "private.h"

enum chunk_kind { CHUNK_READ, CHUNK_WRITE, CHUNK_COMMIT };

struct dio_chunk {
  struct dio_job job;           /* first: a job is a chunk */
  struct dio_dreq *dreq;
  struct dio_conn *conn;        /* set by start() */
  enum chunk_kind kind;
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
  uint32_t xfer;
  dio_dreq_done_fn fn;
  void *opaque;
  int iovcnt;
  struct iovec *iov;
  unsigned nslots;
  struct dio_chunk *slots;
  struct dio_chunk commit;

  pthread_mutex_t lock;
  /* Guarded by lock. */
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

/* ---- iovec copies ---------------------------------------------------- */

/* Find the iov entry holding byte pos; *off is the offset inside it. */
static int
iov_seek (const struct iovec *iov, int iovcnt, uint64_t pos, size_t *off)
{
  int i;
  for (i = 0; i < iovcnt && pos >= iov[i].iov_len; i++)
    pos -= iov[i].iov_len;
  *off = pos;
  return i;
}

void
dio_iov_to_buf (const struct iovec *iov, int iovcnt, uint64_t pos,
                void *buf, size_t len)
{
  size_t off;
  char *p = buf;
  for (int i = iov_seek (iov, iovcnt, pos, &off); len > 0 && i < iovcnt;
       i++, off = 0) {
    size_t n = DIO_MIN (len, iov[i].iov_len - off);
    memcpy (p, (char *) iov[i].iov_base + off, n);
    p += n;
    len -= n;
  }
}

void
dio_buf_to_iov (const struct iovec *iov, int iovcnt, uint64_t pos,
                const void *buf, size_t len)
{
  size_t off;
  const char *p = buf;
  for (int i = iov_seek (iov, iovcnt, pos, &off); len > 0 && i < iovcnt;
       i++, off = 0) {
    size_t n = DIO_MIN (len, iov[i].iov_len - off);
    memcpy ((char *) iov[i].iov_base + off, p, n);
    p += n;
    len -= n;
  }
}

/* A pointer to [pos, pos+len) if one iov entry holds it all, else NULL. */
static char *
iov_contiguous (const struct iovec *iov, int iovcnt, uint64_t pos,
                size_t len)
{
  size_t off;
  int i = iov_seek (iov, iovcnt, pos, &off);
  if (i < iovcnt && iov[i].iov_len - off >= len)
    return (char *) iov[i].iov_base + off;
  return NULL;
}

/* ---- completion bookkeeping ------------------------------------------ */

static void issue_locked (struct dio_dreq *d, struct dio_chunk **batch);
static bool pass_end_locked (struct dio_dreq *d, struct dio_chunk **batch,
                             ssize_t *result, int *err);

static void
submit_batch (struct dio_dreq *d, struct dio_chunk *batch)
{
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
  free (d->slots);
  free (d->iov);
  free (d);
}

static void
finish (struct dio_dreq *d, ssize_t result, int err)
{
  dio_dreq_done_fn fn = d->fn;
  void *opaque = d->opaque;

  if (result > 0) {
    if (d->write)
      dio_count (d->m->stats.direct_write_bytes, result);
    else
      dio_count (d->m->stats.direct_read_bytes, result);
  }
  /* Free first: once fn runs, the caller may close the last descriptor,
   * and that close must find no reference of ours left on the mount. */
  dreq_free (d);
  fn (opaque, result, err);
}

/* A chunk has completed: done bytes moved, err its errno (0 if none). */
static void
chunk_complete (struct dio_chunk *c, uint32_t done, int err,
                int committed, const char *verf)
{
  struct dio_dreq *d = c->dreq;
  struct dio_chunk *batch = NULL;
  bool finished = false;
  ssize_t result = 0;
  int rerr = 0;

  free (c->bounce);
  c->bounce = NULL;

  pthread_mutex_lock (&d->lock);
  d->inflight--;
  if (c->kind == CHUNK_WRITE && done > 0 && committed != FILE_SYNC) {
    d->need_commit = true;
    if (!d->have_verf) {
      memcpy (d->verf, verf, NFS3_VERF_SIZE);
      d->have_verf = true;
    }
    else if (memcmp (d->verf, verf, NFS3_VERF_SIZE) != 0)
      d->mismatch = true;
  }
  if ((done < c->count || err) && c->pos + done < d->stop_pos) {
    d->stop_pos = c->pos + done;
    d->stop_err = err;
  }
  c->next_free = d->free_slots;
  d->free_slots = c;

  issue_locked (d, &batch);
  if (d->inflight == 0 && batch == NULL)
    finished = pass_end_locked (d, &batch, &result, &rerr);
  pthread_mutex_unlock (&d->lock);

  submit_batch (d, batch);
  if (finished)
    finish (d, result, rerr);
}

/* Take free slots for the next chunks of this pass. */
static void
issue_locked (struct dio_dreq *d, struct dio_chunk **batch)
{
  uint64_t limit = DIO_MIN (d->end, d->stop_pos);

  while (d->free_slots && d->next_pos < limit) {
    struct dio_chunk *c = d->free_slots;
    d->free_slots = c->next_free;
    c->kind = d->write ? CHUNK_WRITE : CHUNK_READ;
    c->pos = d->next_pos;
    c->count = DIO_MIN ((uint64_t) d->xfer, limit - d->next_pos);
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
static bool
resend_or_fail_locked (struct dio_dreq *d, uint64_t prefix,
                       struct dio_chunk **batch, ssize_t *result, int *err)
{
  dio_count (d->m->stats.verifier_mismatches, 1);
  if (d->resent || prefix == 0) {
    *result = -1;
    *err = EIO;
    return true;
  }
  d->resent = true;
  dio_count (d->m->stats.resends, (prefix + d->xfer - 1) / d->xfer);
  start_pass_locked (d, FILE_SYNC, prefix, batch);
  return false;
}

static void
queue_commit_locked (struct dio_dreq *d, uint64_t prefix,
                     struct dio_chunk **batch)
{
  struct dio_chunk *c = &d->commit;
  c->kind = CHUNK_COMMIT;
  c->pos = 0;
  c->count = prefix > UINT32_MAX ? 0 : (uint32_t) prefix;
  c->job.bytes = 0;
  d->inflight++;
  c->job.next = NULL;
  *batch = c;
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

/* Every chunk of the pass is in: decide what comes next.  Returns true
 * when the request is finished, with *result and *err set. */
static bool
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
    queue_commit_locked (d, prefix, batch);
    return false;
  }
  result_of_prefix (d, prefix, result, err);
  return true;
}

/* The COMMIT is in: its verifier must match the writes'. */
static void
commit_complete (struct dio_chunk *c, int err, const char *verf)
{
  struct dio_dreq *d = c->dreq;
  struct dio_chunk *batch = NULL;
  uint64_t prefix;
  bool finished;
  ssize_t result = 0;
  int rerr = 0;

  pthread_mutex_lock (&d->lock);
  d->inflight--;
  prefix = DIO_MIN (d->stop_pos, d->end);
  if (err || memcmp (verf, d->verf, NFS3_VERF_SIZE) != 0)
    finished = resend_or_fail_locked (d, prefix, &batch, &result, &rerr);
  else {
    finished = true;
    result_of_prefix (d, prefix, &result, &rerr);
  }
  pthread_mutex_unlock (&d->lock);

  submit_batch (d, batch);
  if (finished)
    finish (d, result, rerr);
}

/* ---- RPCs (service threads) ----------------------------------------- */

static int
rpc_failure_errno (struct dio_chunk *c, int status)
{
  int err = dio_rpcstatus_errno (status);
  if (err == ETIMEDOUT)
    dio_count (c->dreq->m->stats.timeouts, 1);
  dio_count (c->dreq->m->stats.errors, 1);
  return err;
}

static int
nfs_failure_errno (struct dio_chunk *c, int nfsstat)
{
  dio_count (c->dreq->m->stats.errors, 1);
  return dio_nfsstat_errno (nfsstat);
}

static void
read_cb (struct rpc_context *rpc, int status, void *data, void *priv)
{
  struct dio_chunk *c = priv;
  READ3res *res = data;
  uint32_t done = 0;
  int err = 0;

  if (dio_conn_job_done (c->conn, &c->job, status, data))
    return;                     /* sent again, or timed out */
  if (status != RPC_STATUS_SUCCESS)
    err = rpc_failure_errno (c, status);
  else if (res->status != NFS3_OK)
    err = nfs_failure_errno (c, res->status);
  else {
    done = DIO_MIN (res->READ3res_u.resok.count,
                    res->READ3res_u.resok.data.data_len);
    done = DIO_MIN (done, c->count);
    dio_buf_to_iov (c->dreq->iov, c->dreq->iovcnt, c->pos,
                    res->READ3res_u.resok.data.data_val, done);
  }
  chunk_complete (c, done, err, 0, NULL);
}

static void
write_cb (struct rpc_context *rpc, int status, void *data, void *priv)
{
  struct dio_chunk *c = priv;
  WRITE3res *res = data;
  uint32_t done = 0;
  int err = 0, committed = 0;
  const char *verf = NULL;

  if (dio_conn_job_done (c->conn, &c->job, status, data))
    return;
  if (status != RPC_STATUS_SUCCESS)
    err = rpc_failure_errno (c, status);
  else if (res->status != NFS3_OK)
    err = nfs_failure_errno (c, res->status);
  else {
    done = DIO_MIN (res->WRITE3res_u.resok.count, c->count);
    committed = res->WRITE3res_u.resok.committed;
    verf = res->WRITE3res_u.resok.verf;
  }
  chunk_complete (c, done, err, committed, verf);
}

static void
commit_cb (struct rpc_context *rpc, int status, void *data, void *priv)
{
  struct dio_chunk *c = priv;
  COMMIT3res *res = data;
  int err = 0;
  const char *verf = NULL;

  if (dio_conn_job_done (c->conn, &c->job, status, data))
    return;
  if (status != RPC_STATUS_SUCCESS)
    err = rpc_failure_errno (c, status);
  else if (res->status != NFS3_OK)
    err = nfs_failure_errno (c, res->status);
  else
    verf = res->COMMIT3res_u.resok.verf;
  commit_complete (c, err, verf);
}

static void
set_fh (nfs_fh3 *to, const struct dio_inode *ino)
{
  to->data.data_len = ino->fh.len;
  to->data.data_val = (char *) ino->fh.data;
}

static int
start_read (struct dio_chunk *c, struct rpc_context *rpc)
{
  struct dio_dreq *d = c->dreq;
  READ3args a;

  memset (&a, 0, sizeof a);
  set_fh (&a.file, d->ino);
  a.offset = d->offset + c->pos;
  a.count = c->count;
  dio_count (d->m->stats.read_rpcs, 1);
  return rpc_nfs3_read_async (rpc, read_cb, &a, c) == 0 ? 0 : EIO;
}

static int
start_write (struct dio_chunk *c, struct rpc_context *rpc)
{
  struct dio_dreq *d = c->dreq;
  WRITE3args a;
  char *data = iov_contiguous (d->iov, d->iovcnt, c->pos, c->count);

  free (c->bounce);             /* sent before, and queued again */
  c->bounce = NULL;
  if (data == NULL) {
    c->bounce = malloc (c->count);
    if (c->bounce == NULL)
      return ENOMEM;
    dio_iov_to_buf (d->iov, d->iovcnt, c->pos, c->bounce, c->count);
    data = c->bounce;
  }
  memset (&a, 0, sizeof a);
  set_fh (&a.file, d->ino);
  a.offset = d->offset + c->pos;
  a.count = c->count;
  a.stable = d->stable;
  a.data.data_len = c->count;
  a.data.data_val = data;
  dio_count (d->m->stats.write_rpcs, 1);
  return rpc_nfs3_write_async (rpc, write_cb, &a, c) == 0 ? 0 : EIO;
}

/* Tests set this to act between the UNSTABLE replies and the COMMIT
 * (restart the server, say).  NULL in normal use. */
static void (*test_hook) (const char *point);

void
dio__set_test_hook (void (*fn) (const char *point))
{
  __atomic_store_n (&test_hook, fn, __ATOMIC_RELEASE);
}

static int
start_commit (struct dio_chunk *c, struct rpc_context *rpc)
{
  struct dio_dreq *d = c->dreq;
  void (*hook) (const char *) = __atomic_load_n (&test_hook, __ATOMIC_ACQUIRE);
  COMMIT3args a;

  if (hook)
    hook ("before-commit");

  memset (&a, 0, sizeof a);
  set_fh (&a.file, d->ino);
  a.offset = d->offset;
  a.count = c->count;
  dio_count (d->m->stats.commit_rpcs, 1);
  return rpc_nfs3_commit_async (rpc, commit_cb, &a, c) == 0 ? 0 : EIO;
}

static int
chunk_start (struct dio_job *job, struct dio_conn *conn)
{
  struct dio_chunk *c = (struct dio_chunk *) job;
  struct rpc_context *rpc = dio_conn_rpc (conn);

  c->conn = conn;
  switch (c->kind) {
  case CHUNK_READ: return start_read (c, rpc);
  case CHUNK_WRITE: return start_write (c, rpc);
  case CHUNK_COMMIT: return start_commit (c, rpc);
  }
  return EINVAL;
}

static void
chunk_fail (struct dio_job *job, int err)
{
  struct dio_chunk *c = (struct dio_chunk *) job;

  if (c->kind == CHUNK_COMMIT)
    commit_complete (c, err, NULL);
  else
    chunk_complete (c, 0, err, 0, NULL);
}

/* ---- requests -------------------------------------------------------- */

static struct dio_dreq *
dreq_new (struct dio_inode *ino, bool write, int flags,
          const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t len)
{
  struct dio_mount *m = ino->mount;
  struct dio_dreq *d = calloc (1, sizeof *d);
  uint64_t nchunks;

  if (d == NULL)
    return NULL;
  d->ino = ino;
  d->m = m;
  d->write = write;
  d->flags = flags;
  d->offset = offset;
  d->len = len;
  d->xfer = write ? m->wsize : m->rsize;
  nchunks = (len + d->xfer - 1) / d->xfer;
  /* Enough chunks to fill every connection's window, and one more batch
   * queued behind it so the pipe never drains between completions. */
  d->nslots = DIO_MIN (nchunks, 2u * m->nconn * m->opts.window);
  d->nslots = DIO_MAX (d->nslots, 1u);
  d->iovcnt = iovcnt;
  d->iov = malloc (iovcnt * sizeof *iov);
  d->slots = calloc (d->nslots, sizeof *d->slots);
  if (d->iov == NULL || d->slots == NULL) {
    free (d->iov);
    free (d->slots);
    free (d);
    return NULL;
  }
  memcpy (d->iov, iov, iovcnt * sizeof *iov);
  pthread_mutex_init (&d->lock, NULL);
  for (unsigned i = 0; i <= d->nslots; i++) {
    struct dio_chunk *c = i < d->nslots ? &d->slots[i] : &d->commit;
    c->dreq = d;
    c->job.start = chunk_start;
    c->job.fail = chunk_fail;
    if (i < d->nslots) {
      c->next_free = d->free_slots;
      d->free_slots = c;
    }
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
  /* A single RPC is made stable by the server itself: no COMMIT. */
  stable = (!write || (flags & DIO_WRITE_UNSTABLE) || len > d->xfer)
    ? UNSTABLE : FILE_SYNC;
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
