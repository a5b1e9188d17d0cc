/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The public dio_* entry points: argument checks, descriptor lookup, and
 * the dispatch to the engine.  Every failure sets errno and a message
 * naming the call and the descriptor or path.
 *
 * Paths resolve through profiles-global.c (URL or profile path).  Data
 * goes direct (dreq.c) or through the mount's page cache (cache.h) by
 * the file's directio() advice; direct I/O on a file with cached pages
 * keeps both views coherent.
 *
 * Threading: no state of its own; see fdtable.c and file.h. */
#include "internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "buffered.h"
#include "directio.h"
#include "dreq.h"
#include "errors.h"
#include "fdtable.h"
#include "conn.h"
#include "file.h"
#include "fsops.h"
#include "mount.h"
#include "options.h"
#include "profiles-global.h"
#include "url.h"

/* Linux's MAX_RW_COUNT: larger requests are shortened, as the kernel
 * shortens them. */
#define MAX_RW_COUNT ((size_t) (INT_MAX & ~4095))

/* ---- open ------------------------------------------------------------ */

static int
check_open_flags (int flags)
{
  if ((flags & O_ACCMODE) == O_ACCMODE)
    return dio_error_msg (EINVAL, "invalid access mode");
  if (flags & O_APPEND)
    return dio_error_msg (EINVAL, "O_APPEND is not supported: "
                          "NFS has no atomic append");
  if (flags & (O_DIRECTORY | O_PATH))
    return dio_error_msg (EINVAL, "only regular files");
  return 0;
}

/* libnfs opens directories as if they were files: only regular files
 * (and devices, as the kernel allows) are engine files.  The GETATTR is
 * also the open's close-to-open one (*attr, asked for under *asked).
 * Then O_TRUNC, as one SETATTR whose replay is guarded with the ctime
 * seen here (libnfs's own would be sent again unguarded). */
static int
refuse_directory_truncate (struct dio_ofd *f, struct dio_cache_attr *attr,
                           struct dio_cache_asked *asked)
{
  struct stat st;

  dio_cache_attr_ask (&f->ino->cf, asked);
  if (dio_inode_getattr (f->ino, &st) == -1)
    return dio_error (errno, "GETATTR");
  if (S_ISDIR (st.st_mode))
    return dio_error_msg (EISDIR, "is a directory");
  if ((f->flags & O_TRUNC) && (f->flags & O_ACCMODE) != O_RDONLY
      && S_ISREG (st.st_mode)) {
    if (dio_inode_truncate_seen (f->ino, 0, &st) == -1)
      return dio_error_before ("O_TRUNC");
    st.st_size = 0;             /* the times moved too: the next
                                   revalidation sees that */
  }
  *attr = dio_cache_attr_of_stat (&st);
  return 0;
}

/* One walk of the path to a started open file description in *out.  -1
 * with dio_error (errno ESTALE: a handle it looked up went stale). */
static int
open_walk (const struct dio_url *u, const struct dio_options *o,
           const char *path, int flags, mode_t mode, struct dio_ofd **out)
{
  struct dio_mount *m;
  struct dio_ofd *f;
  struct dio_cache_attr attr;
  struct dio_cache_asked asked;
  const char *rel;

  if (dio_mount_get (u, o, &m, &rel) == -1)
    return -1;
  /* The export itself, found through a mount made for a file in it: the
   * same answer as when the mount is made for this path. */
  if (strcmp (rel, "/") == 0) {
    dio_error_msg (EISDIR, "%s is an exported directory, not a file",
                   m->export);
    dio_mount_put (m);
    return -1;
  }
  if (dio_file_open (m, rel, path, flags, mode, &f) == -1) {
    int err = errno;
    dio_mount_put (m);
    errno = err;
    return -1;
  }
  if (refuse_directory_truncate (f, &attr, &asked) == -1
      || dio_ofd_start (f, &attr, &asked) == -1) {
    int err = errno;
    dio_ofd_put (f);
    errno = err;
    return -1;
  }
  *out = f;
  return 0;
}

/* ESTALE from the walk (a LOOKUP, the CREATE, or the first calls on the
 * handle it found: the GETATTR, O_TRUNC's SETATTR) walks the path once
 * more from the export's root, as Linux's VFS does (LOOKUP_REVAL): a
 * directory or the file was removed and made again by another client
 * between two steps.  The engine keeps no handle but the export root's
 * (each walk starts there; the stale descriptor's inode goes with it),
 * so a second ESTALE is the answer. */
static int
open_file (const char *path, int flags, mode_t mode, const char *options)
{
  struct dio_options o;
  struct dio_url u;
  struct dio_ofd *f;
  int fd, r;

  if (path == NULL)
    return dio_error_msg (EFAULT, "path is NULL");
  if (check_open_flags (flags) == -1)
    return -1;
  if (dio_resolve (path, options, &o, &u) == -1)
    return -1;
  if (o.readonly && (flags & O_ACCMODE) != O_RDONLY) {
    dio_url_free (&u);
    return dio_error_msg (EROFS, "mounted read-only (ro)");
  }
  r = open_walk (&u, &o, path, flags, mode, &f);
  if (r == -1 && errno == ESTALE) {
    r = open_walk (&u, &o, path, flags, mode, &f);
    if (r == -1 && errno == ESTALE)
      dio_error_before ("again after a fresh lookup");
  }
  if (r == -1) {
    int err = errno;
    dio_url_free (&u);
    errno = err;
    return -1;
  }
  dio_url_free (&u);
  fd = dio_fd_install (f);
  if (fd == -1)
    dio_ofd_put (f);
  return fd;
}

int
dio_open (const char *path, int flags, ...)
{
  mode_t mode = 0;

  if (flags & (O_CREAT | __O_TMPFILE)) {
    va_list ap;
    va_start (ap, flags);
    mode = va_arg (ap, int);
    va_end (ap);
  }
  dio_error_context ("dio_open", path);
  return open_file (path, flags, mode, NULL);
}

int
dio_open_options (const char *path, int flags, mode_t mode,
                  const char *options)
{
  dio_error_context ("dio_open_options", path);
  return open_file (path, flags, mode, options);
}

/* ---- descriptor checks ----------------------------------------------- */

static struct dio_ofd *
lookup (int fd)
{
  struct dio_ofd *f = dio_fd_get (fd);
  if (f == NULL)
    dio_error_msg (EBADF, "fd %d: not an open libdirectio descriptor", fd);
  else
    dio_error_file (f->name);
  return f;
}

static int
check_access (struct dio_ofd *f, bool write)
{
  int acc = f->flags & O_ACCMODE;
  if (write && acc == O_RDONLY)
    return dio_error_msg (EBADF, "not open for writing");
  if (!write && acc == O_WRONLY)
    return dio_error_msg (EBADF, "not open for reading");
  if (write && f->ino->mount->opts.readonly)
    return dio_error_msg (EROFS, "mounted read-only");
  return 0;
}

/* Sum an iovec array, refusing what POSIX refuses. */
static int
iov_total (const struct iovec *iov, int iovcnt, size_t *total)
{
  size_t sum = 0;

  if (iovcnt < 0 || iovcnt > IOV_MAX)
    return dio_error_msg (EINVAL, "iovcnt %d out of range 0..%d",
                          iovcnt, IOV_MAX);
  if (iovcnt > 0 && iov == NULL)
    return dio_error_msg (EFAULT, "iov is NULL");
  for (int i = 0; i < iovcnt; i++) {
    if (iov[i].iov_len > SSIZE_MAX - sum)
      return dio_error_msg (EINVAL, "total length over SSIZE_MAX");
    if (iov[i].iov_len > 0 && iov[i].iov_base == NULL)
      return dio_error_msg (EFAULT, "iov[%d].iov_base is NULL", i);
    sum += iov[i].iov_len;
  }
  *total = sum;
  return 0;
}

static int
check_range (off_t offset, size_t count, bool write)
{
  if (offset < 0)
    return dio_error_msg (EINVAL, "negative offset %jd",
                          (intmax_t) offset);
  if (count > 0 && (uint64_t) offset > (uint64_t) INT64_MAX - count)
    return dio_error_msg (write ? EFBIG : EINVAL,
                          "offset %jd + count %zu overflows",
                          (intmax_t) offset, count);
  return 0;
}

/* ---- data path ------------------------------------------------------- */

/* Shorten an iovec array to at most max bytes (the kernel's cap). */
static int
cap_iov (const struct iovec *iov, int iovcnt, size_t total,
         struct iovec **out)
{
  size_t left = MAX_RW_COUNT;
  int n;

  *out = NULL;
  if (total <= MAX_RW_COUNT)
    return iovcnt;
  *out = malloc (iovcnt * sizeof **out);
  if (*out == NULL)
    return -1;
  for (n = 0; n < iovcnt && left > 0; n++) {
    (*out)[n] = iov[n];
    (*out)[n].iov_len = DIO_MIN (iov[n].iov_len, left);
    left -= (*out)[n].iov_len;
  }
  return n;
}

/* Direct I/O, coherent with whatever the file has cached. */
static ssize_t
direct_io (struct dio_inode *ino, bool write, int flags,
           const struct iovec *iov, int iovcnt, off_t offset, size_t total)
{
  ssize_t r;

  if (dio_cache_before_direct (&ino->cf, write, offset, total) == -1)
    return -1;
  r = dio_dreq_run (ino, write, flags, iov, iovcnt, offset);
  if (write)
    dio_cache_after_direct_write (&ino->cf, offset, total, r);
  return r;
}

/* A cached write; under noac written back before it returns, as Linux
 * makes writes synchronous there, its failure reported to this
 * description (once). */
static ssize_t
cached_write (struct dio_ofd *f, const struct iovec *iov, int iovcnt,
              off_t offset)
{
  struct dio_cache_file *cf = &f->ino->cf;
  ssize_t r = dio_cache_write (cf, iov, iovcnt, offset);

  if (r > 0 && dio_cache_sync_writes (cf)) {
    dio_cache_flush (cf, offset, r);
    if (dio_cache_check_error (cf, &f->wb_seen) == -1)
      return -1;
  }
  return r;
}

/* Direct or buffered, by the file's advice.  Cached I/O holds the mode
 * lock shared so that directio(ON) cannot switch under it. */
static ssize_t
dispatch (struct dio_ofd *f, bool write, int flags, const struct iovec *iov,
          int iovcnt, off_t offset, size_t total)
{
  struct dio_inode *ino = f->ino;
  ssize_t r;

  if (!dio_inode_is_direct (ino)) {
    pthread_rwlock_rdlock (&ino->mode_lock);
    if (!dio_inode_is_direct (ino)) {
      r = write ? cached_write (f, iov, iovcnt, offset)
        : dio_cache_read (&ino->cf, &f->ra, iov, iovcnt, offset);
      pthread_rwlock_unlock (&ino->mode_lock);
      return r;
    }
    pthread_rwlock_unlock (&ino->mode_lock);
  }
  return direct_io (ino, write, flags, iov, iovcnt, offset, total);
}

/* A failed read's or write's reason: the offset and, for a soft mount's
 * timeout, which server and how long (errno alone says only "Connection
 * timed out"; whether the server was silent or kept answering JUKEBOX is
 * not known here). */
static void
io_error (const struct dio_ofd *f, off_t offset, int err)
{
  char why[256];

  if (dio_mount_timeout_reason (f->ino->mount, err, false, why, sizeof why))
    dio_error (err, "offset %jd: %s", (intmax_t) offset, why);
  else
    dio_error (err, "offset %jd", (intmax_t) offset);
}

static ssize_t
do_io (struct dio_ofd *f, bool write, int flags,
       const struct iovec *iov, int iovcnt, off_t offset)
{
  struct iovec *capped;
  size_t total = 0;
  ssize_t r;
  int n;

  if (check_access (f, write) == -1
      || iov_total (iov, iovcnt, &total) == -1
      || check_range (offset, total, write) == -1)
    return -1;
  if (total == 0)
    return 0;
  n = cap_iov (iov, iovcnt, total, &capped);
  if (n == -1)
    return dio_error (ENOMEM, "offset %jd", (intmax_t) offset);
  r = dispatch (f, write, flags, capped ? capped : iov, n, offset,
                DIO_MIN (total, MAX_RW_COUNT));
  if (r == -1)
    io_error (f, offset, errno);
  free (capped);
  return r;
}

static ssize_t
positional (int fd, bool write, int flags,
            const struct iovec *iov, int iovcnt, off_t offset)
{
  struct dio_ofd *f = lookup (fd);
  ssize_t r;

  if (f == NULL)
    return -1;
  r = do_io (f, write, flags, iov, iovcnt, offset);
  dio_ofd_put (f);
  return r;
}

/* read/write/readv/writev: at the file offset, which they advance. */
static ssize_t
sequential (int fd, bool write, const struct iovec *iov, int iovcnt)
{
  struct dio_ofd *f = lookup (fd);
  ssize_t r;

  if (f == NULL)
    return -1;
  pthread_mutex_lock (&f->pos_lock);
  if (f->pos > INT64_MAX) {
    pthread_mutex_unlock (&f->pos_lock);
    dio_ofd_put (f);
    return dio_error_msg (EINVAL, "file offset out of range");
  }
  r = do_io (f, write, 0, iov, iovcnt, (off_t) f->pos);
  if (r > 0)
    f->pos += r;
  pthread_mutex_unlock (&f->pos_lock);
  dio_ofd_put (f);
  return r;
}

static ssize_t
pwrite_flags (int fd, const void *buf, size_t count, off_t offset, int flags)
{
  struct iovec v = { (void *) buf, count };
  if (buf == NULL && count > 0)
    return dio_error_msg (EFAULT, "buf is NULL");
  if (flags & ~DIO_WRITE_UNSTABLE)
    return dio_error_msg (EINVAL, "unknown flags 0x%x", flags);
  return positional (fd, true, flags, &v, 1, offset);
}

ssize_t
dio_pread (int fd, void *buf, size_t count, off_t offset)
{
  struct iovec v = { buf, count };
  dio_error_context ("dio_pread", NULL);
  if (buf == NULL && count > 0)
    return dio_error_msg (EFAULT, "buf is NULL");
  return positional (fd, false, 0, &v, 1, offset);
}

ssize_t
dio_pwrite (int fd, const void *buf, size_t count, off_t offset)
{
  dio_error_context ("dio_pwrite", NULL);
  return pwrite_flags (fd, buf, count, offset, 0);
}

ssize_t
dio_pwrite2 (int fd, const void *buf, size_t count, off_t offset, int flags)
{
  dio_error_context ("dio_pwrite2", NULL);
  return pwrite_flags (fd, buf, count, offset, flags);
}

ssize_t
dio_preadv (int fd, const struct iovec *iov, int iovcnt, off_t offset)
{
  dio_error_context ("dio_preadv", NULL);
  return positional (fd, false, 0, iov, iovcnt, offset);
}

ssize_t
dio_pwritev (int fd, const struct iovec *iov, int iovcnt, off_t offset)
{
  dio_error_context ("dio_pwritev", NULL);
  return positional (fd, true, 0, iov, iovcnt, offset);
}

ssize_t
dio_read (int fd, void *buf, size_t count)
{
  struct iovec v = { buf, count };
  dio_error_context ("dio_read", NULL);
  if (buf == NULL && count > 0)
    return dio_error_msg (EFAULT, "buf is NULL");
  return sequential (fd, false, &v, 1);
}

ssize_t
dio_write (int fd, const void *buf, size_t count)
{
  struct iovec v = { (void *) buf, count };
  dio_error_context ("dio_write", NULL);
  if (buf == NULL && count > 0)
    return dio_error_msg (EFAULT, "buf is NULL");
  return sequential (fd, true, &v, 1);
}

ssize_t
dio_readv (int fd, const struct iovec *iov, int iovcnt)
{
  dio_error_context ("dio_readv", NULL);
  return sequential (fd, false, iov, iovcnt);
}

ssize_t
dio_writev (int fd, const struct iovec *iov, int iovcnt)
{
  dio_error_context ("dio_writev", NULL);
  return sequential (fd, true, iov, iovcnt);
}

/* ---- asynchronous ---------------------------------------------------- */

/* Asynchronous I/O is always direct: before it, the file's dirty pages
 * are written back (all of them: a read below pages that extend the file
 * must not find a false EOF); around a write, the cached pages of its
 * range are dropped. */
struct aio_write {
  struct dio_inode *ino;        /* the request holds a reference */
  uint64_t offset, len;
  dio_complete_fn cb;
  void *opaque;
};

static void
aio_write_done (void *opaque, ssize_t result, int err)
{
  struct aio_write *a = opaque;
  dio_complete_fn cb = a->cb;
  void *arg = a->opaque;

  dio_cache_after_direct_write (&a->ino->cf, a->offset, a->len, result);
  dio_inode_put (a->ino);
  free (a);
  cb (arg, result, err);
}

static int
aio_start (struct dio_ofd *f, bool write, int flags, const struct iovec *v,
           off_t offset, dio_complete_fn cb, void *opaque)
{
  struct dio_inode *ino = f->ino;
  struct aio_write *a;

  if (dio_cache_before_direct (&ino->cf, write, offset, v->iov_len) == -1)
    return dio_error (errno, "write-back");
  if (!write || ino->cf.cache == NULL)
    return dio_dreq_start (ino, write, flags, v, 1, offset, cb, opaque);
  a = malloc (sizeof *a);
  if (a == NULL)
    return dio_error (ENOMEM, "asynchronous write");
  *a = (struct aio_write) { ino, offset, v->iov_len, cb, opaque };
  /* Ours: the caller may close the descriptor before the write ends. */
  dio_inode_get (ino);
  if (dio_dreq_start (ino, write, flags, v, 1, offset, aio_write_done, a)
      == -1) {
    dio_inode_put (ino);
    free (a);
    return -1;
  }
  return 0;
}

static int
aio (int fd, bool write, int flags, void *buf, size_t count,
     off_t offset, dio_complete_fn cb, void *opaque)
{
  struct iovec v = { buf, count };
  struct dio_ofd *f;
  int r = -1;

  if (cb == NULL)
    return dio_error_msg (EINVAL, "callback is NULL");
  if (buf == NULL && count > 0)
    return dio_error_msg (EFAULT, "buf is NULL");
  if (count > MAX_RW_COUNT)
    v.iov_len = MAX_RW_COUNT;
  f = lookup (fd);
  if (f == NULL)
    return -1;
  if (check_access (f, write) == 0
      && check_range (offset, count, write) == 0)
    /* The request holds the inode; the descriptor may close meanwhile. */
    r = aio_start (f, write, flags, &v, offset, cb, opaque);
  dio_ofd_put (f);
  return r;
}

int
dio_aio_pread (int fd, void *buf, size_t count, off_t offset,
               dio_complete_fn fn, void *opaque)
{
  dio_error_context ("dio_aio_pread", NULL);
  return aio (fd, false, 0, buf, count, offset, fn, opaque);
}

int
dio_aio_pwrite (int fd, const void *buf, size_t count, off_t offset,
                int flags, dio_complete_fn fn, void *opaque)
{
  dio_error_context ("dio_aio_pwrite", NULL);
  if (flags & ~DIO_WRITE_UNSTABLE)
    return dio_error_msg (EINVAL, "unknown flags 0x%x", flags);
  return aio (fd, true, flags, (void *) buf, count, offset, fn, opaque);
}

int
dio__fd_watch (int fd, int watch_fd, dio__fs_watch_fn fn, void *arg)
{
  struct dio_ofd *f;

  dio_error_context ("watch", NULL);
  f = lookup (fd);
  if (f == NULL)
    return -1;
  dio_conn_watch (f->ino->mount->conns[0], watch_fd, fn, arg);
  dio_ofd_put (f);
  return 0;
}

void
dio__engine_pass_hook (dio__pass_fn fn)
{
  dio_conn_pass_hook (fn);
}

bool
dio__engine_thread (void)
{
  return dio_conn_on_service_thread ();
}

void
dio__engine_spin (uint32_t us)
{
  dio_conn_set_spin_default (DIO_MIN (us, (uint32_t) DIO_MAX_SPIN_US));
}

/* ---- metadata -------------------------------------------------------- */

/* GETATTR after writing back cached data, so that size and mtime count
 * it (as Linux's nfs_getattr does); the cache revalidates with what it
 * says (a reader at the cached EOF then sees what fstat saw). */
static int
getattr (struct dio_ofd *f, struct stat *st)
{
  struct dio_cache_file *cf = &f->ino->cf;
  struct dio_cache_asked asked;
  struct dio_cache_attr attr;

  dio_cache_flush (cf, 0, 0);
  dio_cache_attr_ask (cf, &asked);
  if (dio_inode_getattr (f->ino, st) == -1)
    return -1;
  attr = dio_cache_attr_of_stat (st);
  dio_cache_attr_update (cf, &attr, &asked);
  return 0;
}

off_t
dio_lseek (int fd, off_t offset, int whence)
{
  struct dio_ofd *f;
  struct stat st;
  int64_t base = 0, pos;

  dio_error_context ("dio_lseek", NULL);
  f = lookup (fd);
  if (f == NULL)
    return -1;
  pthread_mutex_lock (&f->pos_lock);
  switch (whence) {
  case SEEK_SET: base = 0; break;
  case SEEK_CUR: base = f->pos; break;
  case SEEK_END: case SEEK_DATA: case SEEK_HOLE:
    if (getattr (f, &st) == -1)
      goto err;
    base = whence == SEEK_END ? st.st_size : 0;
    break;
  default:
    dio_error_msg (EINVAL, "bad whence %d", whence);
    goto err;
  }
  if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0) {
    dio_error_msg (EINVAL, "offset out of range");
    goto err;
  }
  pos = base + offset;
  /* NFSv3 cannot tell holes: all data up to EOF, one hole at EOF. */
  if ((whence == SEEK_DATA || whence == SEEK_HOLE) && pos >= st.st_size) {
    dio_error_msg (ENXIO, "offset at or past EOF");
    goto err;
  }
  if (whence == SEEK_HOLE)
    pos = st.st_size;
  f->pos = pos;
  pthread_mutex_unlock (&f->pos_lock);
  dio_ofd_put (f);
  return pos;

 err:
  pthread_mutex_unlock (&f->pos_lock);
  dio_ofd_put (f);
  return -1;
}

int
dio_fstat (int fd, struct stat *st)
{
  struct dio_ofd *f;
  int r;

  dio_error_context ("dio_fstat", NULL);
  if (st == NULL)
    return dio_error_msg (EFAULT, "st is NULL");
  f = lookup (fd);
  if (f == NULL)
    return -1;
  r = getattr (f, st);
  dio_ofd_put (f);
  return r;
}

/* Write back the cached data and report a failure of it (or of an
 * earlier write-back) that this description has not seen yet. */
static int
writeback_and_check (struct dio_ofd *f)
{
  struct dio_cache_file *cf = &f->ino->cf;

  dio_cache_flush (cf, 0, 0);
  if (dio_cache_check_error (cf, &f->wb_seen) == -1)
    return dio_error (errno, "write-back of cached data");
  return 0;
}

static int
sync_fd (int fd)
{
  struct dio_ofd *f = lookup (fd);
  int r;

  if (f == NULL)
    return -1;
  r = writeback_and_check (f);
  if (dio_ofd_sync (f) == -1)
    r = -1;
  dio_ofd_put (f);
  return r;
}

int
dio_fsync (int fd)
{
  dio_error_context ("dio_fsync", NULL);
  return sync_fd (fd);
}

int
dio_fdatasync (int fd)
{
  dio_error_context ("dio_fdatasync", NULL);
  return sync_fd (fd);
}

/* Cached pages go first (written back, so that nothing lands past the
 * new end later); cached I/O waits meanwhile. */
static int
truncate_file (struct dio_inode *ino, off_t length)
{
  int r;

  pthread_rwlock_wrlock (&ino->mode_lock);
  dio_cache_truncate_begin (&ino->cf);
  r = dio_inode_truncate (ino, length);
  if (r == 0)
    dio_cache_truncate_end (&ino->cf, length);
  pthread_rwlock_unlock (&ino->mode_lock);
  return r;
}

int
dio_ftruncate (int fd, off_t length)
{
  struct dio_ofd *f;
  int r = -1;

  dio_error_context ("dio_ftruncate", NULL);
  f = lookup (fd);
  if (f == NULL)
    return -1;
  if (length < 0)
    dio_error_msg (EINVAL, "negative length");
  else if ((f->flags & O_ACCMODE) == O_RDONLY)
    dio_error_msg (EINVAL, "not open for writing");
  else if (f->ino->mount->opts.readonly)
    dio_error_msg (EROFS, "mounted read-only");
  else
    r = truncate_file (f->ino, length);
  dio_ofd_put (f);
  return r;
}

/* As on Linux NFS, every close writes back and COMMITs what was written
 * DIO_WRITE_UNSTABLE, and reports a failure of either (EIO if the
 * server restarted since the unstable writes, as fsync does); the
 * descriptor is closed either way. */
int
dio_close (int fd)
{
  struct dio_ofd *f;
  int r = 0, err = 0;

  dio_error_context ("dio_close", NULL);
  f = dio_fd_get (fd);
  if (f) {
    char msg[512] = "";

    dio_error_file (f->name);
    r = writeback_and_check (f);
    err = errno;
    if (r == -1)
      snprintf (msg, sizeof msg, "%s", dio_error_reason ());
    if (dio_ofd_sync (f) == -1 && r == 0) {
      r = -1;
      err = errno;
    }
    else if (r == -1)
      dio_error_msg (err, "%s", msg);   /* the first failure's words */
    dio_ofd_put (f);
  }
  if (dio_fd_remove (fd) == -1)
    return -1;
  if (r == -1)
    errno = err;
  return r;
}

int
dio_is_dio_fd (int fd)
{
  struct dio_ofd *f = dio_fd_get (fd);   /* no failure: no context */
  dio_ofd_put (f);
  return f != NULL;
}

int
dio_stats (int fd, struct dio_stats *st)
{
  struct dio_ofd *f;
  struct dio_mount *m;

  dio_error_context ("dio_stats", NULL);
  if (st == NULL)
    return dio_error_msg (EFAULT, "st is NULL");
  f = lookup (fd);
  if (f == NULL)
    return -1;
  m = f->ino->mount;
  dio_mount_stats_copy (m->stats, st);
  st->rsize = m->rsize;
  st->wsize = m->wsize;
  st->nconnect = m->nconn;
  st->window = m->opts.window;
  dio_ofd_put (f);
  return 0;
}
