/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio mount: the FUSE low-level operations, each one or a few NFSv3
 * RPCs through fsops.h.
 *
 * Data: every read and write is a direct request of the engine (parallel
 * chunks, UNSTABLE + COMMIT + verifier, durable when the write returns).
 * Under forcedirectio every open is FOPEN_DIRECT_IO, so the kernel keeps
 * no pages and each read(2)/write(2) of a program arrives here (up to
 * 1 MiB per request).  Otherwise the kernel's page cache serves reads,
 * with close-to-open: an open that finds the file changed since its last
 * open drops the cached pages (no keep_cache); an O_DIRECT open is
 * direct_io for that open.
 *
 * Threading: libfuse's workers call these at once; state is in the
 * request, the node table (locked) and the immutable mount_state. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>

#include "common.h"
#include "directio.h"
#include "mount-fs.h"

#define MAX_IO (1024 * 1024)

static struct mount_state *
state (fuse_req_t req)
{
  return fuse_req_userdata (req);
}

/* Reply with err, logging the engine's detail for failures that are
 * not a program's everyday answers. */
static void
reply_err (fuse_req_t req, int err)
{
  if (err == EIO || err == ETIMEDOUT || err == EPROTO || err == ENOMEM)
    mount_log (LOG_WARNING, "%s", dio_last_error ());
  fuse_reply_err (req, err);
}

#define FH_OR_REPLY(req, id, fh)                \
  do {                                          \
    int e_ = node_fh ((id), (fh));              \
    if (e_) {                                   \
      fuse_reply_err ((req), e_);               \
      return;                                   \
    }                                           \
  } while (0)

/* Reply with an entry for fh/st, counting the lookup. */
static void
reply_entry (fuse_req_t req, const struct dio__fh *fh, const struct stat *st)
{
  struct mount_state *s = state (req);
  struct fuse_entry_param e = {
    .attr = *st,
    .attr_timeout = s->attr_timeout,
    .entry_timeout = s->entry_timeout,
  };

  e.ino = node_remember (fh);
  if (e.ino == 0) {
    fuse_reply_err (req, ENOMEM);
    return;
  }
  if (fuse_reply_entry (req, &e) != 0)
    node_forget (e.ino, 1);     /* the kernel never saw it */
}

/* The attributes new objects get: the caller's mode, and (for a root
 * daemon) the caller's owner. */
static struct dio__fs_sattr
new_attrs (fuse_req_t req, mode_t mode)
{
  const struct fuse_ctx *ctx = fuse_req_ctx (req);
  struct dio__fs_sattr sa = { .valid = DIO_FS_SET_MODE, .mode = mode };

  if (state (req)->set_owner) {
    sa.valid |= DIO_FS_SET_UID | DIO_FS_SET_GID;
    sa.uid = ctx->uid;
    sa.gid = ctx->gid;
  }
  return sa;
}

/* ---- names ----------------------------------------------------------- */

static void
op_lookup (fuse_req_t req, fuse_ino_t parent, const char *name)
{
  struct dio__fh dir, fh;
  struct stat st;
  int err;

  FH_OR_REPLY (req, parent, &dir);
  err = dio__fs_lookup (state (req)->fs, &dir, name, &fh, &st);
  if (err == ENOENT) {
    /* A negative entry, cached as long as a positive one. */
    struct fuse_entry_param e = {
      .entry_timeout = state (req)->entry_timeout,
    };
    fuse_reply_entry (req, &e);
    return;
  }
  if (err)
    reply_err (req, err);
  else
    reply_entry (req, &fh, &st);
}

static void
op_forget (fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
  node_forget (ino, nlookup);
  fuse_reply_none (req);
}

static void
op_forget_multi (fuse_req_t req, size_t count,
                 struct fuse_forget_data *forgets)
{
  for (size_t i = 0; i < count; i++)
    node_forget (forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none (req);
}

static void
op_mkdir (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
  struct dio__fh dir, fh;
  struct dio__fs_sattr sa = new_attrs (req, mode);
  struct stat st;
  int err;

  FH_OR_REPLY (req, parent, &dir);
  err = dio__fs_mkdir (state (req)->fs, &dir, name, &sa, &fh, &st);
  if (err)
    reply_err (req, err);
  else
    reply_entry (req, &fh, &st);
}

static void
op_mknod (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
          dev_t rdev)
{
  struct dio__fh dir, fh;
  struct dio__fs_sattr sa = new_attrs (req, mode);
  struct stat st;
  int err;

  FH_OR_REPLY (req, parent, &dir);
  err = dio__fs_mknod (state (req)->fs, &dir, name, mode, rdev, &sa, &fh,
                       &st);
  if (err)
    reply_err (req, err);
  else
    reply_entry (req, &fh, &st);
}

static void
op_symlink (fuse_req_t req, const char *target, fuse_ino_t parent,
            const char *name)
{
  struct dio__fh dir, fh;
  struct dio__fs_sattr sa = new_attrs (req, 0777);
  struct stat st;
  int err;

  FH_OR_REPLY (req, parent, &dir);
  err = dio__fs_symlink (state (req)->fs, &dir, name, target, &sa, &fh, &st);
  if (err)
    reply_err (req, err);
  else
    reply_entry (req, &fh, &st);
}

static void
op_link (fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
         const char *newname)
{
  struct dio__fh fh, dir;
  struct stat st;
  int err;

  FH_OR_REPLY (req, ino, &fh);
  FH_OR_REPLY (req, newparent, &dir);
  err = dio__fs_link (state (req)->fs, &fh, &dir, newname, &st);
  if (err)
    reply_err (req, err);
  else
    reply_entry (req, &fh, &st);
}

static void
op_unlink (fuse_req_t req, fuse_ino_t parent, const char *name)
{
  struct dio__fh dir;

  FH_OR_REPLY (req, parent, &dir);
  fuse_reply_err (req, dio__fs_unlink (state (req)->fs, &dir, name));
}

static void
op_rmdir (fuse_req_t req, fuse_ino_t parent, const char *name)
{
  struct dio__fh dir;

  FH_OR_REPLY (req, parent, &dir);
  fuse_reply_err (req, dio__fs_rmdir (state (req)->fs, &dir, name));
}

static void
op_rename (fuse_req_t req, fuse_ino_t parent, const char *name,
           fuse_ino_t newparent, const char *newname, unsigned int flags)
{
  struct dio__fh dir, newdir, fh;
  struct stat st;
  int err;

  FH_OR_REPLY (req, parent, &dir);
  FH_OR_REPLY (req, newparent, &newdir);
  if (flags & ~RENAME_NOREPLACE) {
    fuse_reply_err (req, EINVAL);      /* RENAME_EXCHANGE, WHITEOUT */
    return;
  }
  if (flags & RENAME_NOREPLACE) {
    /* NFSv3 has no such RENAME: a LOOKUP first (another client could
     * create the name between the two). */
    err = dio__fs_lookup (state (req)->fs, &newdir, newname, &fh, &st);
    if (err == 0) {
      fuse_reply_err (req, EEXIST);
      return;
    }
    if (err != ENOENT) {
      reply_err (req, err);
      return;
    }
  }
  fuse_reply_err (req, dio__fs_rename (state (req)->fs, &dir, name, &newdir,
                                       newname));
}

static void
op_readlink (fuse_req_t req, fuse_ino_t ino)
{
  struct dio__fh fh;
  char *target;
  int err;

  FH_OR_REPLY (req, ino, &fh);
  err = dio__fs_readlink (state (req)->fs, &fh, &target);
  if (err)
    reply_err (req, err);
  else
    fuse_reply_readlink (req, target);
  free (target);
}

/* ---- attributes ------------------------------------------------------ */

static void
op_getattr (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  struct dio__fh fh;
  struct stat st;
  int err;

  FH_OR_REPLY (req, ino, &fh);
  err = dio__fs_getattr (state (req)->fs, &fh, &st);
  if (err)
    reply_err (req, err);
  else
    fuse_reply_attr (req, &st, state (req)->attr_timeout);
}

static void
op_setattr (fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
            struct fuse_file_info *fi)
{
  struct dio__fs_sattr sa = {
    .mode = attr->st_mode, .uid = attr->st_uid, .gid = attr->st_gid,
    .size = attr->st_size, .atime = attr->st_atim, .mtime = attr->st_mtim,
  };
  struct dio__fh fh;
  struct stat st;
  int err;

  FH_OR_REPLY (req, ino, &fh);
  if (to_set & FUSE_SET_ATTR_MODE)
    sa.valid |= DIO_FS_SET_MODE;
  if (to_set & FUSE_SET_ATTR_UID)
    sa.valid |= DIO_FS_SET_UID;
  if (to_set & FUSE_SET_ATTR_GID)
    sa.valid |= DIO_FS_SET_GID;
  if (to_set & FUSE_SET_ATTR_SIZE)
    sa.valid |= DIO_FS_SET_SIZE;
  if (to_set & FUSE_SET_ATTR_ATIME_NOW)
    sa.valid |= DIO_FS_SET_ATIME_NOW;
  else if (to_set & FUSE_SET_ATTR_ATIME)
    sa.valid |= DIO_FS_SET_ATIME;
  if (to_set & FUSE_SET_ATTR_MTIME_NOW)
    sa.valid |= DIO_FS_SET_MTIME_NOW;
  else if (to_set & FUSE_SET_ATTR_MTIME)
    sa.valid |= DIO_FS_SET_MTIME;
  if (sa.valid == 0)
    err = dio__fs_getattr (state (req)->fs, &fh, &st);   /* ctime only */
  else
    err = dio__fs_setattr (state (req)->fs, &fh, &sa, &st);
  if (err)
    reply_err (req, err);
  else
    fuse_reply_attr (req, &st, state (req)->attr_timeout);
}

static void
op_access (fuse_req_t req, fuse_ino_t ino, int mask)
{
  struct dio__fh fh;
  struct stat st;
  uint32_t want = 0, granted;
  int err;

  FH_OR_REPLY (req, ino, &fh);
  if (mask == F_OK) {
    fuse_reply_err (req, 0);
    return;
  }
  err = dio__fs_getattr (state (req)->fs, &fh, &st);
  if (err) {
    reply_err (req, err);
    return;
  }
  if (mask & R_OK)
    want |= ACCESS3_READ;
  if (mask & W_OK)
    want |= S_ISDIR (st.st_mode) ? ACCESS3_MODIFY | ACCESS3_EXTEND
      | ACCESS3_DELETE : ACCESS3_MODIFY | ACCESS3_EXTEND;
  if (mask & X_OK)
    want |= S_ISDIR (st.st_mode) ? ACCESS3_LOOKUP : ACCESS3_EXECUTE;
  err = dio__fs_access (state (req)->fs, &fh, want, &granted);
  if (err)
    reply_err (req, err);
  else
    fuse_reply_err (req, (granted & want) == want ? 0 : EACCES);
}

static void
op_statfs (fuse_req_t req, fuse_ino_t ino)
{
  struct statvfs sv;
  int err = dio__fs_statfs (state (req)->fs, &sv);

  if (err)
    reply_err (req, err);
  else
    fuse_reply_statfs (req, &sv);
}

/* ---- files ----------------------------------------------------------- */

/* After an open or create: the engine's inode, and how the kernel is to
 * cache. */
static int
open_file (fuse_req_t req, fuse_ino_t ino, const struct dio__fh *fh,
           const struct stat *st, struct fuse_file_info *fi)
{
  struct mount_state *s = state (req);
  struct dio_inode *f;
  int err = dio__fs_open (s->fs, fh, &f);

  if (err)
    return err;
  fi->fh = (uintptr_t) f;
  if (s->forcedirectio || (fi->flags & O_DIRECT))
    fi->direct_io = 1;
  else
    fi->keep_cache = s->nocto || node_same_version (ino, st);
  return 0;
}

static void
op_open (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  struct mount_state *s = state (req);
  struct dio__fh fh;
  struct stat st;
  int err;

  FH_OR_REPLY (req, ino, &fh);
  /* Close-to-open: fresh attributes at an open that may use the page
   * cache. */
  memset (&st, 0, sizeof st);
  err = 0;
  if (!s->forcedirectio && !s->nocto && !(fi->flags & O_DIRECT))
    err = dio__fs_getattr (s->fs, &fh, &st);
  if (err == 0)
    err = open_file (req, ino, &fh, &st, fi);
  if (err) {
    reply_err (req, err);
    return;
  }
  if (fuse_reply_open (req, fi) != 0)
    dio__fs_close ((struct dio_inode *) (uintptr_t) fi->fh);
}

static void
op_create (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
           struct fuse_file_info *fi)
{
  struct mount_state *s = state (req);
  struct dio__fs_sattr sa = new_attrs (req, mode);
  struct fuse_entry_param e = {
    .attr_timeout = s->attr_timeout, .entry_timeout = s->entry_timeout,
  };
  struct dio__fh dir, fh;
  int err;

  FH_OR_REPLY (req, parent, &dir);
  err = dio__fs_create (s->fs, &dir, name, &sa, (fi->flags & O_EXCL) != 0,
                        &fh, &e.attr);
  if (err) {
    reply_err (req, err);
    return;
  }
  e.ino = node_remember (&fh);
  if (e.ino == 0) {
    fuse_reply_err (req, ENOMEM);
    return;
  }
  err = open_file (req, e.ino, &fh, &e.attr, fi);
  if (err) {
    node_forget (e.ino, 1);
    reply_err (req, err);
    return;
  }
  if (fuse_reply_create (req, &e, fi) != 0) {
    node_forget (e.ino, 1);
    dio__fs_close ((struct dio_inode *) (uintptr_t) fi->fh);
  }
}

/* A read in flight: the reply goes from the engine thread that
 * completes it, so no worker waits (a program's queue of reads is
 * served by the engine's parallelism, not by a thread each).  A small
 * read's buffer follows this header; a large one is a pool buffer
 * (mount-bufs.c). */
struct read_req {
  fuse_req_t req;
  struct mount_bufs *pool;      /* NULL: buf is small[] */
  char *buf;
  char small[];
};

/* Reads up to this size take malloc'd memory, writes up to it wait in
 * their worker. */
#define SMALL_IO (64 * 1024)

/* An asynchronous request starts: its reply will come from an engine
 * thread. */
static void
io_begin (struct mount_state *st)
{
  pthread_mutex_lock (&st->io_lock);
  st->io_inflight++;
  pthread_mutex_unlock (&st->io_lock);
}

/* Its reply is sent and its buffers are back. */
static void
io_end (struct mount_state *st)
{
  pthread_mutex_lock (&st->io_lock);
  if (--st->io_inflight == 0)
    pthread_cond_broadcast (&st->io_drained);
  pthread_mutex_unlock (&st->io_lock);
}

bool
mount_io_drain (struct mount_state *st, unsigned seconds,
                stop_ask_fn *give_up, void *arg)
{
  bool drained;

  pthread_mutex_lock (&st->io_lock);
  drained = wait_until_none (&st->io_lock, &st->io_drained,
                             &st->io_inflight, seconds, give_up, arg);
  pthread_mutex_unlock (&st->io_lock);
  return drained;
}

static void
read_done (void *opaque, ssize_t result, int err)
{
  struct read_req *r = opaque;
  struct mount_state *st = state (r->req);  /* the reply frees req */

  if (result < 0)
    reply_err (r->req, err);
  else
    fuse_reply_buf (r->req, r->buf, result);
  if (r->pool)
    mount_buf_unlend (r->pool, r->buf);
  free (r);
  io_end (st);
}

/* A read's request and buffer: a pool buffer for a large read while
 * fewer than 64 are lent, else malloc'd memory after the header. */
static struct read_req *
read_req_new (struct mount_bufs *pool, size_t size)
{
  void *b = size > SMALL_IO ? mount_buf_lend (pool) : NULL;
  struct read_req *r = malloc (sizeof *r + (b ? 0 : size));

  if (r == NULL) {
    if (b)
      mount_buf_unlend (pool, b);
    return NULL;
  }
  r->pool = b ? pool : NULL;
  r->buf = b ? b : r->small;
  return r;
}

static void
op_read (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
         struct fuse_file_info *fi)
{
  struct dio_inode *f = (struct dio_inode *) (uintptr_t) fi->fh;
  struct read_req *r;
  int err;

  if (size > MAX_IO)
    size = MAX_IO;
  r = read_req_new (state (req)->bufs, size);
  if (r == NULL) {
    fuse_reply_err (req, ENOMEM);
    return;
  }
  r->req = req;
  io_begin (state (req));
  err = dio__fs_pread_async (f, r->buf, size, off, read_done, r);
  if (err) {
    if (r->pool)
      mount_buf_unlend (r->pool, r->buf);
    free (r);
    io_end (state (req));
    reply_err (req, err);
  }
}

/* A write in flight: the reply goes from the engine thread that
 * completes it (durable), and the worker serves on.  The data stays in
 * the buffer it was received into, taken from the worker (mount-loop.c)
 * until then. */
struct write_req {
  fuse_req_t req;
  struct mount_bufs *pool;
  void *owner;                  /* the buffer holding the data */
};

static void
write_done (void *opaque, ssize_t result, int err)
{
  struct write_req *w = opaque;
  struct mount_state *st = state (w->req);  /* the reply frees req */

  if (result < 0)
    reply_err (w->req, err);
  else
    fuse_reply_write (w->req, result);
  mount_buf_unlend (w->pool, w->owner);
  free (w);
  io_end (st);
}

static void
op_write (fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
          off_t off, struct fuse_file_info *fi)
{
  struct dio_inode *f = (struct dio_inode *) (uintptr_t) fi->fh;
  struct write_req *w = size > SMALL_IO ? malloc (sizeof *w) : NULL;
  ssize_t r;
  int err;

  /* A large write lends the worker's buffer; a small one keeps the
   * worker (a fresh 2 MiB buffer per 4 KiB write would cost more than
   * the wait). */
  if (w && (w->owner = mount_loop_take_buf ()) != NULL) {
    w->req = req;
    w->pool = state (req)->bufs;
    io_begin (state (req));
    err = dio__fs_pwrite_async (f, buf, size, off, write_done, w);
    if (err == 0)
      return;
    mount_buf_unlend (w->pool, w->owner);
    free (w);
    io_end (state (req));
    reply_err (req, err);
    return;
  }
  free (w);
  /* Small, or no buffer to spare: in this worker, waiting. */
  r = dio__fs_pwrite (f, buf, size, off);
  if (r < 0)
    reply_err (req, -r);
  else
    fuse_reply_write (req, r);
}

static void
op_flush (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  /* Every write was durable when it returned: nothing to write back. */
  fuse_reply_err (req, 0);
}

static void
op_release (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  dio__fs_close ((struct dio_inode *) (uintptr_t) fi->fh);
  fuse_reply_err (req, 0);
}

static void
op_fsync (fuse_req_t req, fuse_ino_t ino, int datasync,
          struct fuse_file_info *fi)
{
  struct dio__fh fh;

  FH_OR_REPLY (req, ino, &fh);
  fuse_reply_err (req, dio__fs_commit (state (req)->fs, &fh));
}

/* ---- directories ----------------------------------------------------- */

static void
op_opendir (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  struct dio__fs_dir *d;
  struct dio__fh fh;
  int err;

  FH_OR_REPLY (req, ino, &fh);
  d = calloc (1, sizeof *d);
  if (d == NULL) {
    fuse_reply_err (req, ENOMEM);
    return;
  }
  /* The whole listing now: offsets are then indexes into one snapshot,
   * as POSIX wants of an open directory stream. */
  err = dio__fs_readdir (state (req)->fs, &fh, d);
  if (err) {
    free (d);
    reply_err (req, err);
    return;
  }
  fi->fh = (uintptr_t) d;
  if (fuse_reply_open (req, fi) != 0) {
    dio__fs_dir_free (d);
    free (d);
  }
}

/* Entry i of the listing: 0 ".", 1 "..", then the server's. */
static void
dir_reply (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
           struct fuse_file_info *fi, bool plus)
{
  struct dio__fs_dir *d = (struct dio__fs_dir *) (uintptr_t) fi->fh;
  struct mount_state *s = state (req);
  char *buf = malloc (size);
  size_t pos = 0;

  if (buf == NULL) {
    fuse_reply_err (req, ENOMEM);
    return;
  }
  for (size_t i = off; i < d->n + 2; i++) {
    struct fuse_entry_param e = { .attr_timeout = s->attr_timeout,
                                  .entry_timeout = s->entry_timeout };
    struct dio__fs_dirent *de = i >= 2 ? &d->v[i - 2] : NULL;
    const char *name = de ? de->name : i == 0 ? "." : "..";
    size_t need;

    if (de) {
      e.attr = de->st;
      e.attr.st_ino = de->fileid;
      if (!de->has_attr)
        e.attr.st_mode = 0;     /* unknown type */
    }
    else {
      e.attr.st_ino = i == 0 ? ino : FUSE_ROOT_ID;
      e.attr.st_mode = S_IFDIR;
    }
    need = plus ? fuse_add_direntry_plus (req, NULL, 0, name, NULL, 0)
      : fuse_add_direntry (req, NULL, 0, name, NULL, 0);
    if (pos + need > size)
      break;
    if (plus && de && de->has_fh && de->has_attr) {
      /* The kernel counts this lookup (not for "." and ".."). */
      e.ino = node_remember (&de->fh);
    }
    if (plus)
      fuse_add_direntry_plus (req, buf + pos, size - pos, name, &e, i + 1);
    else
      fuse_add_direntry (req, buf + pos, size - pos, name, &e.attr, i + 1);
    pos += need;
  }
  fuse_reply_buf (req, buf, pos);
  free (buf);
}

static void
op_readdir (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
            struct fuse_file_info *fi)
{
  dir_reply (req, ino, size, off, fi, false);
}

static void
op_readdirplus (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                struct fuse_file_info *fi)
{
  dir_reply (req, ino, size, off, fi, true);
}

static void
op_releasedir (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  struct dio__fs_dir *d = (struct dio__fs_dir *) (uintptr_t) fi->fh;

  dio__fs_dir_free (d);
  free (d);
  fuse_reply_err (req, 0);
}

static void
op_fsyncdir (fuse_req_t req, fuse_ino_t ino, int datasync,
             struct fuse_file_info *fi)
{
  fuse_reply_err (req, 0);      /* NFSv3 namespace calls are synchronous */
}

/* ---- the session ----------------------------------------------------- */

static void
op_init (void *userdata, struct fuse_conn_info *conn)
{
  conn->max_write = MAX_IO;
  conn->max_read = MAX_IO;
  conn->max_readahead = MAX_IO;
  /* The kernel's write-back cache would hold writes past their
   * write(2): never. */
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
  if (conn->capable & FUSE_CAP_ASYNC_DIO)
    conn->want |= FUSE_CAP_ASYNC_DIO;
  /* Let a program's queue of asynchronous requests reach the engine
   * (the kernel's default keeps 12 in flight). */
  conn->max_background = 64;
  conn->congestion_threshold = 48;
}

const struct fuse_lowlevel_ops mount_ops = {
  .init = op_init,
  .lookup = op_lookup,
  .forget = op_forget,
  .forget_multi = op_forget_multi,
  .getattr = op_getattr,
  .setattr = op_setattr,
  .readlink = op_readlink,
  .mknod = op_mknod,
  .mkdir = op_mkdir,
  .unlink = op_unlink,
  .rmdir = op_rmdir,
  .symlink = op_symlink,
  .rename = op_rename,
  .link = op_link,
  .open = op_open,
  .read = op_read,
  .write = op_write,
  .flush = op_flush,
  .release = op_release,
  .fsync = op_fsync,
  .opendir = op_opendir,
  .readdir = op_readdir,
  .readdirplus = op_readdirplus,
  .releasedir = op_releasedir,
  .fsyncdir = op_fsyncdir,
  .statfs = op_statfs,
  .access = op_access,
  .create = op_create,
};
