/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Open files: opening through libnfs, inodes shared per file handle,
 * open file descriptions, and the metadata RPCs on an open file.
 *
 * Threading: see file.h for which lock guards which field.  Metadata RPCs
 * run on service threads through dio_call (call.h). */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>

#include "buffered.h"
#include "call.h"
#include "errors.h"
#include "file.h"
#include "mount.h"

/* libnfs 4.0 hands out file handles only as struct nfs_fh, whose
 * definition is private; this is its layout there (libnfs-private.h).
 * configure checks nfs_get_fh exists; open_cb checks the length. */
struct libnfs4_fh {
  int len;
  char *val;
};

/* ---- inodes ---------------------------------------------------------- */

void
dio_inode_get (struct dio_inode *ino)
{
  pthread_mutex_lock (&ino->mount->inode_lock);
  ino->refs++;
  pthread_mutex_unlock (&ino->mount->inode_lock);
}

void
dio_inode_put (struct dio_inode *ino)
{
  struct dio_mount *m;
  struct dio_inode **pp;

  if (ino == NULL)
    return;
  m = ino->mount;
  pthread_mutex_lock (&m->inode_lock);
  if (--ino->refs > 0) {
    pthread_mutex_unlock (&m->inode_lock);
    return;
  }
  for (pp = &m->inodes; *pp != ino; pp = &(*pp)->next)
    ;
  *pp = ino->next;
  pthread_mutex_unlock (&m->inode_lock);
  /* Descriptors wrote back at close; anything dirty now is lost. */
  dio_cache_file_destroy (&ino->cf);
  if (ino->cf.cache)
    dio_buffered_detach (m);
  pthread_rwlock_destroy (&ino->mode_lock);
  pthread_mutex_destroy (&ino->lock);
  pthread_mutex_destroy (&ino->sync_lock);
  dio_commit_group_destroy (&ino->commit);
  free (ino);
  dio_mount_put (m);
}

bool
dio_inode_tryget (struct dio_inode *ino)
{
  bool ok;

  pthread_mutex_lock (&ino->mount->inode_lock);
  ok = ino->refs > 0;
  if (ok)
    ino->refs++;
  pthread_mutex_unlock (&ino->mount->inode_lock);
  return ok;
}

static void
inode_init (struct dio_inode *ino, struct dio_mount *m,
            const struct dio_fh *fh)
{
  pthread_rwlockattr_t attr;

  ino->mount = m;
  ino->fh = *fh;
  ino->refs = 1;
  pthread_mutex_init (&ino->lock, NULL);
  pthread_mutex_init (&ino->sync_lock, NULL);
  dio_commit_group_init (&ino->commit, ino);
  /* Writers first: directio(ON) must not starve behind a stream of
   * cached reads. */
  pthread_rwlockattr_init (&attr);
  pthread_rwlockattr_setkind_np (&attr,
                                 PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init (&ino->mode_lock, &attr);
  pthread_rwlockattr_destroy (&attr);
  dio_cache_file_init (&ino->cf, dio_buffered_attach (m));
  /* Solaris: buffered until directio(ON), unless forcedirectio (which
   * has no cache). */
  ino->direct = ino->cf.cache == NULL;
}

/* The inode for fh on m, shared with other opens of the same file.  A
 * new inode takes over the caller's mount reference; *created says so. */
static struct dio_inode *
inode_find_or_add (struct dio_mount *m, const struct dio_fh *fh,
                   bool *created)
{
  struct dio_inode *ino;

  pthread_mutex_lock (&m->inode_lock);
  for (ino = m->inodes; ino; ino = ino->next)
    if (ino->fh.len == fh->len && memcmp (ino->fh.data, fh->data, fh->len) == 0)
      break;
  *created = ino == NULL;
  if (ino)
    ino->refs++;
  else if ((ino = calloc (1, sizeof *ino)) != NULL) {
    inode_init (ino, m, fh);
    ino->next = m->inodes;
    m->inodes = ino;
  }
  pthread_mutex_unlock (&m->inode_lock);
  return ino;
}

struct dio_inode *
dio_inode_of_fh (struct dio_mount *m, const struct dio_fh *fh)
{
  bool created;
  struct dio_inode *ino = inode_find_or_add (m, fh, &created);

  if (ino && !created)
    dio_mount_put (m);          /* the inode already holds one */
  return ino;
}

/* ---- open ------------------------------------------------------------ */

struct open_args {
  const char *rel;
  int flags;
  mode_t mode;
  struct dio_fh fh;
  /* O_EXCL: an EXCLUSIVE CREATE in the parent directory. */
  char *dir;                    /* the parent's path in the export */
  const char *name;             /* the file's name in it */
  struct dio_fh dirfh;
  char verf[NFS3_CREATEVERFSIZE]; /* the same for every replay */
  bool guarded;                 /* the server has no EXCLUSIVE create */
};

static void
close_cb (int err, struct nfs_context *nfs, void *data, void *priv)
{
}

static void
open_cb (int err, struct nfs_context *nfs, void *data, void *priv)
{
  struct dio_call *call = priv;
  struct open_args *a = call->arg;

  if (err < 0) {
    snprintf (call->msg, sizeof call->msg, "%s", dio_text (data));
    dio_call_done (call, dio_libnfs_errno (-err, call->msg));
    return;
  }
  struct nfsfh *nfsfh = data;
  struct libnfs4_fh *fh = (struct libnfs4_fh *) nfs_get_fh (nfsfh);
  if (fh->len <= 0 || fh->len > DIO_FH_MAX) {
    snprintf (call->msg, sizeof call->msg, "bad file handle length %d",
              fh->len);
    err = -EPROTO;
  }
  else {
    a->fh.len = fh->len;
    memcpy (a->fh.data, fh->val, fh->len);
  }
  /* We keep only the handle; libnfs's file object is not needed. */
  nfs_close_async (nfs, nfsfh, close_cb, NULL);
  dio_call_done (call, -err);
}

/* ---- O_EXCL: EXCLUSIVE create ----------------------------------------
 *
 * libnfs creates GUARDED, so when a CREATE's reply is lost and the call
 * is sent again on a new connection (a new XID: the server's duplicate
 * request cache cannot tell), the replay says EEXIST for the file this
 * very call created.  An EXCLUSIVE CREATE with a verifier is what the
 * protocol offers instead (RFC 1813, 3.3.8): its replay finds the file
 * with our verifier and succeeds.  The server may keep the verifier in
 * the file's times, so a SETATTR then sets the mode and the times.  The
 * three steps (the parent's handle, CREATE, SETATTR) start again from
 * the first on a replay; each is idempotent with the same verifier. */

static bool
copy_fh (struct dio_fh *to, const char *data, int len)
{
  if (len <= 0 || len > DIO_FH_MAX)
    return false;
  to->len = len;
  memcpy (to->data, data, len);
  return true;
}

static void
excl_setattr_cb (struct rpc_context *rpc, int status, void *data,
                 void *priv)
{
  struct dio_call *call = priv;

  dio_call_rpc_done (call, status, data,
                     dio_call_rpc_errno (call, status, data));
}

static void
excl_create_cb (struct rpc_context *rpc, int status, void *data,
                void *priv)
{
  struct dio_call *call = priv;
  struct open_args *a = call->arg;
  CREATE3res *res = data;
  post_op_fh3 *obj;
  int err = dio_call_rpc_errno (call, status, data);
  SETATTR3args args;

  if (err == EOPNOTSUPP && res->status == NFS3ERR_NOTSUPP) {
    /* As Linux does: GUARDED then, through libnfs, from now on. */
    a->guarded = true;
    if (nfs_open2_async (dio_conn_nfs (call->job.conn), a->rel,
                         a->flags & (O_ACCMODE | O_CREAT | O_EXCL),
                         a->mode, open_cb, call) != 0)
      dio_call_done (call, EIO);
    return;
  }
  if (err) {
    dio_call_rpc_done (call, status, data, err);
    return;
  }
  obj = &res->CREATE3res_u.resok.obj;
  if (!obj->handle_follows
      || !copy_fh (&a->fh, obj->post_op_fh3_u.handle.data.data_val,
                   obj->post_op_fh3_u.handle.data.data_len)) {
    snprintf (call->msg, sizeof call->msg, "CREATE returned no usable "
              "file handle");
    dio_call_rpc_done (call, status, data, EPROTO);
    return;
  }
  args = (SETATTR3args) {
    .object = { .data = { .data_len = a->fh.len,
                          .data_val = (char *) a->fh.data } },
    .new_attributes = {
      .mode = { .set_it = 1, .set_mode3_u.mode = a->mode & 07777 },
      .atime = { .set_it = SET_TO_SERVER_TIME },
      .mtime = { .set_it = SET_TO_SERVER_TIME },
    },
  };
  if (rpc_nfs3_setattr_async (rpc, excl_setattr_cb, &args, call) != 0)
    dio_call_rpc_done (call, status, data, EIO);
}

static void
excl_dir_cb (int err, struct nfs_context *nfs, void *data, void *priv)
{
  struct dio_call *call = priv;
  struct open_args *a = call->arg;
  struct libnfs4_fh *fh;
  CREATE3args args;

  if (err < 0) {
    snprintf (call->msg, sizeof call->msg, "%s", dio_text (data));
    dio_call_done (call, dio_libnfs_errno (-err, call->msg));
    return;
  }
  fh = (struct libnfs4_fh *) nfs_get_fh (data);
  if (!copy_fh (&a->dirfh, fh->val, fh->len)) {
    nfs_close_async (nfs, data, close_cb, NULL);
    snprintf (call->msg, sizeof call->msg, "bad file handle length %d",
              fh->len);
    dio_call_done (call, EPROTO);
    return;
  }
  nfs_close_async (nfs, data, close_cb, NULL);
  args = (CREATE3args) {
    .where = {
      .dir = { .data = { .data_len = a->dirfh.len,
                         .data_val = (char *) a->dirfh.data } },
      .name = (char *) a->name,
    },
    .how = { .mode = EXCLUSIVE },
  };
  memcpy (args.how.createhow3_u.verf, a->verf, sizeof a->verf);
  if (rpc_nfs3_create_async (nfs_get_rpc_context (nfs), excl_create_cb,
                             &args, call) != 0)
    dio_call_done (call, EIO);
}

static int
issue_open (struct dio_call *call, struct dio_conn *conn)
{
  struct open_args *a = call->arg;
  /* O_TRUNC is a SETATTR of ours after the open (api.c), guarded when
   * it is replayed; libnfs's would be sent again unguarded. */
  int flags = a->flags & (O_ACCMODE | O_CREAT | O_EXCL);

  /* libnfs opens directories as files: that gives the parent's handle. */
  if (a->dir && !a->guarded)
    return nfs_open2_async (dio_conn_nfs (conn), a->dir, O_RDONLY, 0,
                            excl_dir_cb, call) != 0 ? EIO : 0;
  if (nfs_open2_async (dio_conn_nfs (conn), a->rel, flags, a->mode,
                       open_cb, call) != 0)
    return EIO;
  return 0;
}

/* A verifier no other create of this or another client is likely to
 * use: the time, the process and a counter. */
static void
make_verifier (char *verf)
{
  static uint32_t counter;
  struct timespec ts;
  uint32_t w[2];

  clock_gettime (CLOCK_REALTIME, &ts);
  w[0] = (uint32_t) ts.tv_sec ^ ((uint32_t) getpid () << 16);
  w[1] = (uint32_t) ts.tv_nsec
    ^ (__atomic_fetch_add (&counter, 1, __ATOMIC_RELAXED) << 20);
  memcpy (verf, w, NFS3_CREATEVERFSIZE);
}

/* O_CREAT | O_EXCL: split rel into its parent and name for the
 * EXCLUSIVE create.  0, or an errno. */
static int
prepare_exclusive (struct open_args *a)
{
  const char *slash = strrchr (a->rel, '/');

  if (slash == NULL || slash[1] == '\0')
    return 0;                   /* nothing to split: let libnfs say */
  a->dir = slash == a->rel ? strdup ("/") : strndup (a->rel, slash - a->rel);
  if (a->dir == NULL)
    return ENOMEM;
  a->name = slash + 1;
  make_verifier (a->verf);
  return 0;
}

int
dio_file_open (struct dio_mount *m, const char *rel, const char *name,
               int flags, mode_t mode, struct dio_ofd **out)
{
  struct open_args a = { .rel = rel, .flags = flags, .mode = mode };
  struct dio_call call;
  struct dio_ofd *f;
  bool created;
  int err = 0;

  if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
    err = prepare_exclusive (&a);
  if (err == 0)
    err = dio_call_run (m, &call, issue_open, &a);
  else
    call.msg[0] = '\0';
  free (a.dir);
  if (err)
    return dio_error_msg (err, "%s%s%s", strerror (err),
                          call.msg[0] ? ": " : "", call.msg);
  f = calloc (1, sizeof *f);
  if (f == NULL || (f->name = strdup (name)) == NULL) {
    free (f);
    return dio_error (ENOMEM, "open file description");
  }
  f->ino = inode_find_or_add (m, &a.fh, &created);
  if (f->ino == NULL) {
    free (f->name);
    free (f);
    return dio_error (ENOMEM, "inode");
  }
  if (!created)
    dio_mount_put (m);          /* the inode already holds one */
  f->flags = flags;
  f->refs = 1;
  pthread_mutex_init (&f->pos_lock, NULL);
  *out = f;
  return 0;
}

int
dio_ofd_start (struct dio_ofd *f, const struct dio_cache_attr *attr,
               const struct dio_cache_asked *asked)
{
  struct dio_inode *ino = f->ino;

  f->wb_seen = dio_cache_errseq (&ino->cf);
  pthread_mutex_lock (&ino->lock);
  f->loss_seen = ino->loss_seq;
  pthread_mutex_unlock (&ino->lock);
  /* The server truncated the file: cached data (other descriptors')
   * must not come back at write-back. */
  if ((f->flags & O_TRUNC) && (f->flags & O_ACCMODE) != O_RDONLY)
    dio_cache_discard (&ino->cf);
  if (f->flags & O_DIRECT) {
    /* A write-back failure here belongs to the other descriptors, whose
     * fsync or close will report it: the open itself succeeds. */
    dio_inode_set_direct (ino, NULL, true);
    return 0;
  }
  if (dio_inode_is_direct (ino))
    return 0;
  /* Close-to-open: cached pages of an older version go. */
  dio_cache_open_attr (&ino->cf, attr, asked);
  return 0;
}

int
dio_inode_set_direct (struct dio_inode *ino, struct dio_ofd *f, bool on)
{
  int r = 0;

  if (ino->cf.cache == NULL)
    return 0;                   /* forcedirectio: always direct */
  pthread_rwlock_wrlock (&ino->mode_lock);
  if (on) {
    r = dio_cache_make_direct (&ino->cf);
    if (f) {
      /* Report the failure once: this one, or an earlier one. */
      int err = errno;
      if (dio_cache_check_error (&ino->cf, &f->wb_seen) == -1 && r == 0)
        r = -1;
      else if (r == -1)
        errno = err;
    }
    else
      r = 0;
    if (r == 0)
      __atomic_store_n (&ino->direct, true, __ATOMIC_RELEASE);
  }
  else
    __atomic_store_n (&ino->direct, false, __ATOMIC_RELEASE);
  pthread_rwlock_unlock (&ino->mode_lock);
  return r;
}

void
dio_ofd_get (struct dio_ofd *f)
{
  __atomic_fetch_add (&f->refs, 1, __ATOMIC_RELAXED);
}

void
dio_ofd_put (struct dio_ofd *f)
{
  if (f == NULL || __atomic_sub_fetch (&f->refs, 1, __ATOMIC_ACQ_REL) > 0)
    return;
  /* dio_close wrote back and reported errors; a description dropped
   * another way (dup2 over it) still writes back, and its readahead
   * must not outlive it. */
  dio_cache_close (&f->ino->cf);
  pthread_mutex_destroy (&f->pos_lock);
  dio_inode_put (f->ino);
  free (f->name);
  free (f);
}

/* ---- GETATTR --------------------------------------------------------- */

void
dio_fattr_to_stat (const struct fattr3 *a, struct stat *st)
{
  static const mode_t types[] = {
    [NF3REG] = S_IFREG, [NF3DIR] = S_IFDIR, [NF3BLK] = S_IFBLK,
    [NF3CHR] = S_IFCHR, [NF3LNK] = S_IFLNK, [NF3SOCK] = S_IFSOCK,
    [NF3FIFO] = S_IFIFO,
  };

  memset (st, 0, sizeof *st);
  st->st_dev = a->fsid;
  st->st_ino = a->fileid;
  st->st_mode = (a->mode & 07777)
    | (a->type <= NF3FIFO ? types[a->type] : S_IFREG);
  st->st_nlink = a->nlink;
  st->st_uid = a->uid;
  st->st_gid = a->gid;
  st->st_rdev = makedev (a->rdev.specdata1, a->rdev.specdata2);
  st->st_size = a->size;
  st->st_blksize = 1024 * 1024;
  st->st_blocks = (a->used + 511) / 512;
  st->st_atim.tv_sec = a->atime.seconds;
  st->st_atim.tv_nsec = a->atime.nseconds;
  st->st_mtim.tv_sec = a->mtime.seconds;
  st->st_mtim.tv_nsec = a->mtime.nseconds;
  st->st_ctim.tv_sec = a->ctime.seconds;
  st->st_ctim.tv_nsec = a->ctime.nseconds;
}

struct fh_args {
  struct dio_inode *ino;
  uint64_t size;                /* SETATTR */
  nfstime3 ctime;               /* SETATTR: the ctime before it */
  bool guard;                   /* SETATTR: guarded from its first send */
  bool not_sync;                /* SETATTR: refused, NFS3ERR_NOT_SYNC */
  struct stat *st;              /* GETATTR */
};

struct nfs_fh3
dio_inode_fh3 (const struct dio_inode *ino)
{
  return (struct nfs_fh3) {
    .data = { .data_len = ino->fh.len, .data_val = (char *) ino->fh.data },
  };
}

static void
getattr_cb (struct rpc_context *rpc, int status, void *data, void *priv)
{
  struct dio_call *call = priv;
  struct fh_args *a = call->arg;
  GETATTR3res *res = data;
  int err = dio_call_rpc_errno (call, status, data);

  if (err == 0)
    dio_fattr_to_stat (&res->GETATTR3res_u.resok.obj_attributes, a->st);
  dio_call_rpc_done (call, status, data, err);
}

static int
issue_getattr (struct dio_call *call, struct dio_conn *conn)
{
  struct fh_args *a = call->arg;
  GETATTR3args args = { .object = dio_inode_fh3 (a->ino) };

  return rpc_nfs3_getattr_async (dio_conn_rpc (conn), getattr_cb, &args,
                                 call) == 0 ? 0 : EIO;
}

int
dio_inode_getattr (struct dio_inode *ino, struct stat *st)
{
  struct fh_args a = { .ino = ino, .st = st };
  struct dio_call call;
  int err = dio_call_run (ino->mount, &call, issue_getattr, &a);

  return err ? dio_error_msg (err, "GETATTR: %s%s%s", strerror (err),
                              call.msg[0] ? ": " : "", call.msg) : 0;
}

/* ---- SETATTR size ---------------------------------------------------- */

/* How many times a truncate is sent again over a file that another
 * client changed between our GETATTR and our SETATTR. */
#define TRUNCATE_RESENDS 3

/* A SETATTR of the size sent again on a new connection (its reply was
 * lost: a new XID, which the server's duplicate request cache cannot
 * match) is guarded with the ctime seen before the first was sent, so
 * that it is never applied over a version of the file we have not seen.
 * The server refuses it (NFS3ERR_NOT_SYNC) if the first ran, or if
 * another client changed the file meanwhile: which of the two is told
 * by the size (dio_inode_truncate_seen). */
static void
setattr_cb (struct rpc_context *rpc, int status, void *data, void *priv)
{
  struct dio_call *call = priv;
  struct fh_args *a = call->arg;
  SETATTR3res *res = data;
  int err = dio_call_rpc_errno (call, status, data);

  if (err && status == RPC_STATUS_SUCCESS
      && res->status == NFS3ERR_NOT_SYNC) {
    a->not_sync = true;         /* not a failure: the caller looks */
    err = 0;
  }
  dio_call_rpc_done (call, status, data, err);
}

static int
issue_setattr (struct dio_call *call, struct dio_conn *conn)
{
  struct fh_args *a = call->arg;
  SETATTR3args args = {
    .object = dio_inode_fh3 (a->ino),
    .new_attributes.size = { .set_it = 1, .set_size3_u.size = a->size },
  };

  if (a->guard || call->job.replays > 0) {
    dio_test_point ("setattr-guarded");
    args.guard = (sattrguard3) { .check = 1,
                                 .sattrguard3_u.obj_ctime = a->ctime };
  }
  a->not_sync = false;
  return rpc_nfs3_setattr_async (dio_conn_rpc (conn), setattr_cb, &args,
                                 call) == 0 ? 0 : EIO;
}

int
dio_inode_truncate (struct dio_inode *ino, uint64_t size)
{
  struct stat st;

  /* The ctime a replay is guarded with (see setattr_cb). */
  if (dio_inode_getattr (ino, &st) == -1)
    return dio_error_before ("SETATTR size=%" PRIu64, size);
  return dio_inode_truncate_seen (ino, size, &st);
}

static nfstime3
ctime_of (const struct stat *st)
{
  return (nfstime3) { .seconds = st->st_ctim.tv_sec,
                      .nseconds = st->st_ctim.tv_nsec };
}

/* The SETATTR, sent until it is applied or found applied.  NOT_SYNC
 * means the file changed since the ctime it was guarded with: by our own
 * first send (reply lost), or by another client before a send of ours
 * reached the server.  A GETATTR tells: the size asked for is done;
 * another is a truncate not made, sent again guarded with the ctime just
 * seen (what another client wrote meanwhile goes, as if it came before
 * the truncate: the call was in progress).  A file that keeps changing
 * fails the truncate after TRUNCATE_RESENDS such sends. */
int
dio_inode_truncate_seen (struct dio_inode *ino, uint64_t size,
                         const struct stat *before)
{
  struct fh_args a = { .ino = ino, .size = size,
                       .ctime = ctime_of (before) };
  struct dio_call call;
  struct stat now;
  int err;

  for (int sends = 0; ; sends++) {
    err = dio_call_run (ino->mount, &call, issue_setattr, &a);
    if (err)
      return dio_error_msg (err, "SETATTR size=%" PRIu64 ": %s%s%s", size,
                            strerror (err), call.msg[0] ? ": " : "",
                            call.msg);
    if (!a.not_sync)
      return 0;
    if (dio_inode_getattr (ino, &now) == -1)
      return dio_error_before ("SETATTR size=%" PRIu64 " refused "
                               "(NFS3ERR_NOT_SYNC), then", size);
    if ((uint64_t) now.st_size == size)
      return 0;
    if (sends == TRUNCATE_RESENDS)
      return dio_error_msg (EIO, "SETATTR size=%" PRIu64 ": the file kept "
                            "changing (another client writing?): refused "
                            "%d times (NFS3ERR_NOT_SYNC), its size is %lld",
                            size, sends + 1, (long long) now.st_size);
    a.ctime = ctime_of (&now);
    a.guard = true;
  }
}

/* ---- COMMIT and the unstable-write ledger ---------------------------- */

/* A COMMIT of the whole file, through the file's commit group (so it
 * shares one with durable writes in progress), waited for. */
struct ledger_commit {
  struct dio_commit_waiter w;
  struct dio_waiter done;
  int err;
  char verf[NFS3_VERF_SIZE];
};

static void
ledger_commit_done (struct dio_commit_waiter *w, int err, const char *verf)
{
  struct ledger_commit *lc = (struct ledger_commit *) w;

  lc->err = err;
  if (err == 0)
    memcpy (lc->verf, verf, NFS3_VERF_SIZE);
  dio_waiter_signal (&lc->done);
}

static int
commit_file (struct dio_inode *ino, char *verf)
{
  struct ledger_commit lc = { .w = { .offset = 0, .count = 0,
                                     .done = ledger_commit_done } };

  dio_waiter_init (&lc.done);
  dio_commit_join (&ino->commit, &lc.w);
  dio_waiter_wait (&lc.done);
  dio_waiter_destroy (&lc.done);
  memcpy (verf, lc.verf, NFS3_VERF_SIZE);
  return lc.err;
}

void
dio_inode_note_unstable (struct dio_inode *ino, const char *verf,
                         bool mismatch)
{
  pthread_mutex_lock (&ino->lock);
  if (!ino->unstable_pending) {
    memcpy (ino->unstable_verf, verf, NFS3_VERF_SIZE);
    ino->unstable_pending = true;
  }
  else if (memcmp (ino->unstable_verf, verf, NFS3_VERF_SIZE) != 0)
    mismatch = true;
  if (mismatch)
    ino->unstable_broken = true;
  pthread_mutex_unlock (&ino->lock);
}

/* COMMIT the ledger of UNSTABLE writes (sync_lock held).  A loss bumps
 * loss_seq; a failed COMMIT keeps the ledger for the next try. */
static int
commit_ledger (struct dio_inode *ino)
{
  bool pending, broken;
  char verf[NFS3_VERF_SIZE], committed[NFS3_VERF_SIZE];
  int err;

  /* Take the ledger: writes sent from now on start a new one. */
  pthread_mutex_lock (&ino->lock);
  pending = ino->unstable_pending;
  broken = ino->unstable_broken;
  memcpy (verf, ino->unstable_verf, NFS3_VERF_SIZE);
  ino->unstable_pending = ino->unstable_broken = false;
  pthread_mutex_unlock (&ino->lock);
  if (!pending)
    return 0;                   /* direct writes are stable on return */

  err = commit_file (ino, committed);
  if (err) {
    /* Nothing is known lost yet: keep the ledger for the next try. */
    dio_inode_note_unstable (ino, verf, broken);
    /* The server's reason, as Linux's fsync gives it (ENOSPC, EDQUOT,
     * ESTALE, EIO...). */
    return dio_error_msg (err, "COMMIT failed (%s): unstable writes may "
                          "be lost", strerror (err));
  }
  if (broken || memcmp (verf, committed, NFS3_VERF_SIZE) != 0) {
    dio_count (ino->mount->stats->verifier_mismatches, 1);
    pthread_mutex_lock (&ino->lock);
    ino->loss_seq++;
    pthread_mutex_unlock (&ino->lock);
  }
  return 0;
}

int
dio_ofd_sync (struct dio_ofd *f)
{
  struct dio_inode *ino = f->ino;
  bool lost;
  int r;

  pthread_mutex_lock (&ino->sync_lock);
  r = commit_ledger (ino);
  pthread_mutex_unlock (&ino->sync_lock);
  if (r == -1)
    return -1;
  pthread_mutex_lock (&ino->lock);
  lost = f->loss_seen != ino->loss_seq;
  f->loss_seen = ino->loss_seq;
  pthread_mutex_unlock (&ino->lock);
  if (lost)
    return dio_error_msg (EIO, "COMMIT: the server restarted since the "
                          "writes were sent (write verifier changed): "
                          "unstable writes may be lost");
  return 0;
}
