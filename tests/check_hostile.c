/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hostile arguments to every public call of directio.h: NULL buffers,
 * negative, huge and overflowing counts and offsets, bad flags, whence
 * and advice, closed fds, kernel fds (0, a pipe, a file) and numbers
 * that were never fds (-1, INT_MAX).  Each must fail with the errno a
 * kernel call would give (EINVAL, EBADF, EFAULT, ...) and a message,
 * never crash, and leave every descriptor, ours and the kernel's, as it
 * was.
 *
 * Table-driven.  The rows that need no open engine file run anywhere
 * (check_hostile is a plain test); under with-ganesha.sh
 * (test-hostile.sh) the rows on an open engine file run too. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "directio.h"

#define ANY (-2)                /* any result; a failure still needs a message */

enum call {
  C_READ, C_WRITE, C_PREAD, C_PWRITE, C_PWRITE2, C_READV, C_WRITEV,
  C_PREADV, C_PWRITEV, C_LSEEK, C_FSTAT, C_FSYNC, C_FDATASYNC, C_FTRUNCATE,
  C_CLOSE, C_IS_DIO_FD, C_AIO_PREAD, C_AIO_PWRITE, C_STATS, C_DIRECTIO,
  NCALLS
};

static const char *const call_names[NCALLS] = {
  "dio_read", "dio_write", "dio_pread", "dio_pwrite", "dio_pwrite2",
  "dio_readv", "dio_writev", "dio_preadv", "dio_pwritev", "dio_lseek",
  "dio_fstat", "dio_fsync", "dio_fdatasync", "dio_ftruncate", "dio_close",
  "dio_is_dio_fd", "dio_aio_pread", "dio_aio_pwrite", "dio_stats",
  "directio",
};

/* Which descriptor a row passes. */
enum fdk {
  FD_ENGINE,                    /* an open engine file, read-write */
  FD_ENGINE_RO,                 /* the same file, read-only */
  FD_CLOSED,                    /* a number that was an fd and is closed */
  FD_NEG,                       /* -1 */
  FD_INTMAX,                    /* INT_MAX */
  FD_STDIN,                     /* 0, whatever it is */
  FD_KFILE,                     /* a kernel fd of a regular file */
  FD_PIPE,                      /* a kernel fd of a pipe */
  NFDKS
};

static const char *const fd_names[NFDKS] = {
  "engine fd", "read-only engine fd", "closed fd", "fd -1", "fd INT_MAX",
  "fd 0", "kernel file fd", "pipe fd",
};

/* What the buffer arguments are. */
enum bufk {
  B_OK,                         /* a real buffer of BUF_SIZE bytes */
  B_NULL,                       /* NULL buf, iov or st */
  B_NULL_CB,                    /* a real buffer, a NULL callback */
  B_IOV_NULL_BASE,              /* iov[0].iov_base NULL, iov_len 16 */
  B_IOV_HUGE,                   /* iov lengths summing past SSIZE_MAX */
};

struct row {
  enum call call;
  enum fdk fd;
  enum bufk buf;
  size_t count;                 /* count, or iovcnt for vector calls */
  int64_t off;                  /* offset, or length for ftruncate */
  int arg;                      /* flags, whence, advice */
  long ret;                     /* -1, a value, or ANY */
  int err, err2;                /* errno wanted when ret is -1 */
};

#define BUF_SIZE 4096
#define HUGE ((size_t) SSIZE_MAX + 1)

/* Rows on an open engine file (need the test server). */
static const struct row engine_rows[] = {
  /* NULL buffers. */
  { C_PREAD, FD_ENGINE, B_NULL, 16, 0, 0, -1, EFAULT, 0 },
  { C_PREAD, FD_ENGINE, B_NULL, 0, 0, 0, 0, 0, 0 },
  { C_PWRITE, FD_ENGINE, B_NULL, 16, 0, 0, -1, EFAULT, 0 },
  { C_PWRITE2, FD_ENGINE, B_NULL, 16, 0, DIO_WRITE_UNSTABLE, -1, EFAULT, 0 },
  { C_READ, FD_ENGINE, B_NULL, 16, 0, 0, -1, EFAULT, 0 },
  { C_WRITE, FD_ENGINE, B_NULL, 16, 0, 0, -1, EFAULT, 0 },
  { C_READV, FD_ENGINE, B_NULL, 1, 0, 0, -1, EFAULT, 0 },
  { C_WRITEV, FD_ENGINE, B_NULL, 1, 0, 0, -1, EFAULT, 0 },
  { C_PREADV, FD_ENGINE, B_NULL, 1, 0, 0, -1, EFAULT, 0 },
  { C_PREADV, FD_ENGINE, B_NULL, 0, 0, 0, 0, 0, 0 },
  { C_PWRITEV, FD_ENGINE, B_NULL, 2, 0, 0, -1, EFAULT, 0 },
  { C_PREADV, FD_ENGINE, B_IOV_NULL_BASE, 1, 0, 0, -1, EFAULT, 0 },
  { C_PWRITEV, FD_ENGINE, B_IOV_NULL_BASE, 1, 0, 0, -1, EFAULT, 0 },
  { C_FSTAT, FD_ENGINE, B_NULL, 0, 0, 0, -1, EFAULT, 0 },
  { C_STATS, FD_ENGINE, B_NULL, 0, 0, 0, -1, EFAULT, 0 },
  { C_AIO_PREAD, FD_ENGINE, B_NULL, 16, 0, 0, -1, EFAULT, EINVAL },
  { C_AIO_PWRITE, FD_ENGINE, B_NULL, 16, 0, 0, -1, EFAULT, EINVAL },
  { C_AIO_PREAD, FD_ENGINE, B_NULL_CB, 16, 0, 0, -1, EINVAL, 0 },
  { C_AIO_PWRITE, FD_ENGINE, B_NULL_CB, 16, 0, 0, -1, EINVAL, 0 },
  /* Negative, huge and overflowing offsets and counts. */
  { C_PREAD, FD_ENGINE, B_OK, 16, -1, 0, -1, EINVAL, 0 },
  { C_PREAD, FD_ENGINE, B_OK, 16, INT64_MIN, 0, -1, EINVAL, 0 },
  { C_PREAD, FD_ENGINE, B_OK, SIZE_MAX, 0, 0, -1, EINVAL, 0 },
  { C_PREAD, FD_ENGINE, B_OK, HUGE, 0, 0, -1, EINVAL, 0 },
  { C_PREAD, FD_ENGINE, B_OK, 16, INT64_MAX, 0, -1, EINVAL, 0 },
  { C_PREAD, FD_ENGINE, B_OK, 16, INT64_C (1) << 62, 0, 0, 0, 0 },
  { C_READ, FD_ENGINE, B_OK, SIZE_MAX, 0, 0, -1, EINVAL, 0 },
  { C_WRITE, FD_ENGINE, B_OK, HUGE, 0, 0, -1, EINVAL, 0 },
  { C_PWRITE, FD_ENGINE, B_OK, 16, -5, 0, -1, EINVAL, 0 },
  { C_PWRITE, FD_ENGINE, B_OK, 16, INT64_MIN, 0, -1, EINVAL, 0 },
  { C_PWRITE, FD_ENGINE, B_OK, 16, INT64_MAX - 4, 0, -1, EFBIG, 0 },
  { C_PWRITE, FD_ENGINE, B_OK, 1, INT64_MAX, 0, -1, EFBIG, 0 },
  { C_PWRITE, FD_ENGINE, B_OK, SIZE_MAX, 0, 0, -1, EINVAL, 0 },
  { C_PWRITE, FD_ENGINE, B_OK, 0, INT64_MAX, 0, 0, 0, 0 },
  { C_PREADV, FD_ENGINE, B_OK, 1, -1, 0, -1, EINVAL, 0 },
  { C_PWRITEV, FD_ENGINE, B_OK, 1, INT64_MAX, 0, -1, EFBIG, 0 },
  { C_AIO_PREAD, FD_ENGINE, B_OK, 16, -1, 0, -1, EINVAL, 0 },
  { C_AIO_PWRITE, FD_ENGINE, B_OK, 16, INT64_MAX - 4, 0, -1, EFBIG, 0 },
  { C_FTRUNCATE, FD_ENGINE, B_OK, 0, -1, 0, -1, EINVAL, 0 },
  { C_FTRUNCATE, FD_ENGINE, B_OK, 0, INT64_MIN, 0, -1, EINVAL, 0 },
  /* Bad iovec counts and lengths. */
  { C_PREADV, FD_ENGINE, B_OK, (size_t) -1, 0, 0, -1, EINVAL, 0 },
  { C_PREADV, FD_ENGINE, B_OK, IOV_MAX + 1, 0, 0, -1, EINVAL, 0 },
  { C_PREADV, FD_ENGINE, B_OK, (size_t) INT_MIN, 0, 0, -1, EINVAL, 0 },
  { C_PWRITEV, FD_ENGINE, B_OK, (size_t) -1, 0, 0, -1, EINVAL, 0 },
  { C_READV, FD_ENGINE, B_OK, (size_t) -1, 0, 0, -1, EINVAL, 0 },
  { C_WRITEV, FD_ENGINE, B_OK, IOV_MAX + 1, 0, 0, -1, EINVAL, 0 },
  { C_PREADV, FD_ENGINE, B_IOV_HUGE, 2, 0, 0, -1, EINVAL, 0 },
  { C_PWRITEV, FD_ENGINE, B_IOV_HUGE, 2, 0, 0, -1, EINVAL, 0 },
  { C_WRITEV, FD_ENGINE, B_IOV_HUGE, 2, 0, 0, -1, EINVAL, 0 },
  /* Bad flags, whence and advice. */
  { C_PWRITE2, FD_ENGINE, B_OK, 16, 0, 0x100, -1, EINVAL, 0 },
  { C_PWRITE2, FD_ENGINE, B_OK, 16, 0, -1, -1, EINVAL, 0 },
  { C_AIO_PWRITE, FD_ENGINE, B_OK, 16, 0, INT_MIN, -1, EINVAL, 0 },
  { C_LSEEK, FD_ENGINE, B_OK, 0, 0, 42, -1, EINVAL, 0 },
  { C_LSEEK, FD_ENGINE, B_OK, 0, 0, -1, -1, EINVAL, 0 },
  { C_LSEEK, FD_ENGINE, B_OK, 0, -1, SEEK_SET, -1, EINVAL, 0 },
  { C_LSEEK, FD_ENGINE, B_OK, 0, INT64_MIN, SEEK_CUR, -1, EINVAL, 0 },
  { C_LSEEK, FD_ENGINE, B_OK, 0, INT64_MAX, SEEK_END, -1, EINVAL, EOVERFLOW },
  { C_LSEEK, FD_ENGINE, B_OK, 0, INT64_C (1) << 40, SEEK_DATA, -1, ENXIO, 0 },
  { C_LSEEK, FD_ENGINE, B_OK, 0, -1, SEEK_HOLE, -1, EINVAL, ENXIO },
  { C_DIRECTIO, FD_ENGINE, B_OK, 0, 0, 2, -1, EINVAL, 0 },
  { C_DIRECTIO, FD_ENGINE, B_OK, 0, 0, -1, -1, EINVAL, 0 },
  { C_DIRECTIO, FD_ENGINE, B_OK, 0, 0, INT_MAX, -1, EINVAL, 0 },
  /* Writes through a read-only descriptor. */
  { C_PWRITE, FD_ENGINE_RO, B_OK, 16, 0, 0, -1, EBADF, 0 },
  { C_WRITE, FD_ENGINE_RO, B_OK, 16, 0, 0, -1, EBADF, 0 },
  { C_PWRITEV, FD_ENGINE_RO, B_OK, 1, 0, 0, -1, EBADF, 0 },
  { C_AIO_PWRITE, FD_ENGINE_RO, B_OK, 16, 0, 0, -1, EBADF, 0 },
  { C_FTRUNCATE, FD_ENGINE_RO, B_OK, 0, 0, 0, -1, EINVAL, EBADF },
};

/* ---- making the arguments -------------------------------------------- */

struct fds {
  int fd[NFDKS];
  int pipe_w;
  char kpath[64];
};

static char buf[BUF_SIZE];
static struct iovec iov[IOV_MAX + 1];
static struct stat stbuf;
static struct dio_stats dstats;
static int aio_calls;

static void
aio_cb (void *opaque, ssize_t result, int err)
{
  __atomic_fetch_add (&aio_calls, 1, __ATOMIC_RELAXED);
}

/* The iovec argument of a vector call. */
static const struct iovec *
make_iov (const struct row *r)
{
  for (int i = 0; i <= IOV_MAX; i++)
    iov[i] = (struct iovec) { buf, 1 };
  switch (r->buf) {
  case B_NULL: return NULL;
  case B_IOV_NULL_BASE: iov[0] = (struct iovec) { NULL, 16 }; break;
  case B_IOV_HUGE:
    iov[0] = (struct iovec) { buf, SSIZE_MAX };
    iov[1] = (struct iovec) { buf, 16 };
    break;
  case B_OK: case B_NULL_CB: break;
  }
  return iov;
}

static long
do_call (const struct row *r, int fd)
{
  void *b = r->buf == B_NULL ? NULL : buf;
  const struct iovec *v = make_iov (r);
  dio_complete_fn cb = r->buf == B_NULL_CB ? NULL : aio_cb;
  int n = (int) r->count;

  switch (r->call) {
  case C_READ: return dio_read (fd, b, r->count);
  case C_WRITE: return dio_write (fd, b, r->count);
  case C_PREAD: return dio_pread (fd, b, r->count, r->off);
  case C_PWRITE: return dio_pwrite (fd, b, r->count, r->off);
  case C_PWRITE2: return dio_pwrite2 (fd, b, r->count, r->off, r->arg);
  case C_READV: return dio_readv (fd, v, n);
  case C_WRITEV: return dio_writev (fd, v, n);
  case C_PREADV: return dio_preadv (fd, v, n, r->off);
  case C_PWRITEV: return dio_pwritev (fd, v, n, r->off);
  case C_LSEEK: return dio_lseek (fd, r->off, r->arg);
  case C_FSTAT: return dio_fstat (fd, r->buf == B_NULL ? NULL : &stbuf);
  case C_FSYNC: return dio_fsync (fd);
  case C_FDATASYNC: return dio_fdatasync (fd);
  case C_FTRUNCATE: return dio_ftruncate (fd, r->off);
  case C_CLOSE: return dio_close (fd);
  case C_IS_DIO_FD: return dio_is_dio_fd (fd);
  case C_AIO_PREAD:
    return dio_aio_pread (fd, b, r->count, r->off, cb, NULL);
  case C_AIO_PWRITE:
    return dio_aio_pwrite (fd, b, r->count, r->off, r->arg, cb, NULL);
  case C_STATS: return dio_stats (fd, r->buf == B_NULL ? NULL : &dstats);
  case C_DIRECTIO: return directio (fd, r->arg);
  case NCALLS: break;
  }
  abort ();
}

/* Does the message start with the call's own name, as every failure's
 * does ("call: file: reason", errors.h)?  No call reports under another's
 * name (dio_pwrite2, dio_fdatasync and dio_close each name themselves). */
static bool
names_call (enum call c, const char *msg)
{
  const char *name = call_names[c];
  size_t n = strlen (name);

  return strncmp (msg, name, n) == 0 && strncmp (msg + n, ": ", 2) == 0;
}

static void
describe (const struct row *r, char *out, size_t len)
{
  snprintf (out, len, "%s on %s (buf %d, count %zu, offset %lld, arg %d)",
            call_names[r->call], fd_names[r->fd], r->buf, r->count,
            (long long) r->off, r->arg);
}

/* Run one row and check its result, errno and message. */
static void
check_row (const struct row *r, const struct fds *f)
{
  char what[200];
  long ret;
  int err;

  describe (r, what, sizeof what);
  aio_calls = 0;
  errno = 0;
  ret = do_call (r, f->fd[r->fd]);
  err = errno;
  if (r->ret == ANY)
    ck_assert_msg (ret != -1 || dio_last_error ()[0] != '\0',
                   "%s: failed (%s) without a message", what, strerror (err));
  else if (r->ret != -1)
    ck_assert_msg (ret == r->ret, "%s returned %ld (%s), wanted %ld", what,
                   ret, ret == -1 ? strerror (err) : "-", r->ret);
  else {
    ck_assert_msg (ret == -1, "%s returned %ld, wanted -1 (%s)", what, ret,
                   strerror (r->err));
    ck_assert_msg (err == r->err || (r->err2 && err == r->err2),
                   "%s: errno %d (%s), wanted %s; message: %s", what, err,
                   strerror (err), strerror (r->err), dio_last_error ());
    ck_assert_msg (names_call (r->call, dio_last_error ()),
                   "%s: the message \"%s\" does not name the call", what,
                   dio_last_error ());
    ck_assert_msg (aio_calls == 0, "%s: failed, yet called back", what);
  }
}

/* ---- the descriptors ------------------------------------------------- */

static bool have_server;

static void
open_fds (struct fds *f)
{
  int p[2];

  for (int i = 0; i < NFDKS; i++)
    f->fd[i] = -1;
  f->fd[FD_NEG] = -1;
  f->fd[FD_INTMAX] = INT_MAX;
  f->fd[FD_STDIN] = 0;
  snprintf (f->kpath, sizeof f->kpath, "/tmp/check_hostile.XXXXXX");
  f->fd[FD_KFILE] = mkstemp (f->kpath);
  ck_assert_int_ge (f->fd[FD_KFILE], 0);
  unlink (f->kpath);            /* the descriptor is all we need */
  ck_assert_int_eq (write (f->fd[FD_KFILE], "kernel file", 11), 11);
  ck_assert_int_eq (pipe (p), 0);
  f->fd[FD_PIPE] = p[0];
  f->pipe_w = p[1];
  f->fd[FD_CLOSED] = open ("/dev/null", O_RDONLY);
  ck_assert_int_ge (f->fd[FD_CLOSED], 0);
  close (f->fd[FD_CLOSED]);
}

static void
close_fds (struct fds *f)
{
  close (f->fd[FD_KFILE]);
  close (f->fd[FD_PIPE]);
  close (f->pipe_w);
}

/* The kernel's descriptors are as they were: open, and the file not
 * written or truncated. */
static void
check_kernel_fds (const struct fds *f, const char *after)
{
  char got[32];

  ck_assert_msg (fcntl (f->fd[FD_KFILE], F_GETFD) != -1,
                 "after %s the kernel file fd is closed", after);
  ck_assert_msg (fcntl (f->fd[FD_PIPE], F_GETFD) != -1,
                 "after %s the pipe fd is closed", after);
  ck_assert_msg (pread (f->fd[FD_KFILE], got, sizeof got, 0) == 11
                 && memcmp (got, "kernel file", 11) == 0,
                 "after %s the kernel file changed", after);
  ck_assert_int_eq (dio_is_dio_fd (f->fd[FD_KFILE]), 0);
}

/* Every call on every descriptor that is not ours: EBADF (directio()
 * works on kernel files, so its rows differ). */
START_TEST (test_foreign_fds)
{
  static const enum fdk foreign[] = {
    FD_CLOSED, FD_NEG, FD_INTMAX, FD_STDIN, FD_KFILE, FD_PIPE,
  };
  struct fds f;
  bool stdin_open = fcntl (0, F_GETFD) != -1;

  open_fds (&f);
  for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++)
    for (int c = 0; c < NCALLS; c++) {
      struct row r = { c, foreign[i], B_OK, 16, 0, 0, -1, EBADF, 0 };
      char what[200];

      if (c == C_IS_DIO_FD)
        r.ret = 0;
      else if (c == C_DIRECTIO) {
        r.arg = DIRECTIO_OFF;   /* ON would set O_DIRECT on a kernel fd */
        if (foreign[i] == FD_PIPE)
          r.err = ENOTTY;
        else if (foreign[i] == FD_STDIN || foreign[i] == FD_KFILE)
          r.ret = ANY;          /* a kernel file: the kernel decides */
      }
      else if (c == C_LSEEK)
        r.arg = SEEK_SET;
      check_row (&r, &f);
      describe (&r, what, sizeof what);
      check_kernel_fds (&f, what);
      ck_assert_msg (stdin_open == (fcntl (0, F_GETFD) != -1),
                     "%s changed fd 0", what);
    }
  close_fds (&f);
}
END_TEST

/* directio() with bad advice, whatever the descriptor. */
START_TEST (test_bad_advice)
{
  static const int advice[] = { 2, -1, INT_MAX, INT_MIN };
  struct fds f;

  open_fds (&f);
  for (size_t i = 0; i < sizeof advice / sizeof advice[0]; i++)
    for (int k = FD_CLOSED; k < NFDKS; k++) {
      /* EINVAL; or first the reason the descriptor takes no advice at
       * all: EBADF, or ENOTTY for a pipe (and fd 0 if not a file). */
      struct row r = { C_DIRECTIO, k, B_OK, 0, 0, advice[i], -1, EINVAL,
                       k == FD_PIPE || k == FD_STDIN ? ENOTTY : EBADF };
      check_row (&r, &f);
    }
  check_kernel_fds (&f, "directio with bad advice");
  close_fds (&f);
}
END_TEST

/* A number the engine gave out and took back, reused by the kernel, is
 * the kernel's. */
START_TEST (test_engine_fd_number_reused)
{
  int keep, fd, k, null;
  char b[4];

  if (!have_server)
    return;
  keep = dio_open (getenv ("HOSTILE_URL"), O_RDWR | O_CREAT, 0644);
  ck_assert_msg (keep >= 0, "dio_open: %s", dio_last_error ());
  fd = dio_open (getenv ("HOSTILE_URL"), O_RDWR);
  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  ck_assert_int_eq (dio_close (fd), 0);
  ck_assert_int_eq (dio_close (fd), -1);
  ck_assert_int_eq (errno, EBADF);
  null = open ("/dev/null", O_RDONLY);
  ck_assert_int_ge (null, 0);
  k = dup2 (null, fd);
  ck_assert_int_eq (k, fd);
  ck_assert_int_eq (dio_is_dio_fd (k), 0);
  ck_assert_int_eq (dio_pread (k, b, sizeof b, 0), -1);
  ck_assert_int_eq (errno, EBADF);
  ck_assert_int_eq (dio_close (k), -1);
  ck_assert_msg (fcntl (k, F_GETFD) != -1, "dio_close closed a kernel fd");
  /* The other descriptor of the file is untouched. */
  ck_assert_int_eq (dio_pwrite (keep, "abcd", 4, 0), 4);
  ck_assert_int_eq (dio_close (keep), 0);
  close (k);
  close (null);
}
END_TEST

/* ---- opens ----------------------------------------------------------- */

struct open_row {
  const char *path;
  int flags;
  const char *options;          /* NULL: dio_open */
  int err, err2;
};

/* None of these reaches the network: each fails while parsing. */
static const struct open_row bad_opens[] = {
  { NULL, O_RDONLY, NULL, EFAULT, 0 },
  { NULL, O_RDWR | O_CREAT, "soft", EFAULT, 0 },
  { "", O_RDONLY, NULL, ENOENT, EINVAL },
  { "nfs:", O_RDONLY, NULL, ENOENT, EINVAL },
  { "nfs:/", O_RDONLY, NULL, ENOENT, EINVAL },
  { "nfs://", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h?rsize=1M", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs:///e/f", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/../f", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/..", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/f?&", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/f?&&rsize=1M", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/f?rsize=", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/f?rsize=-1", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/f?rsize=99999999999999999999999", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/f?rsize=1T", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/f?nconnect=0", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/f?nconnect=4294967297", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/f?nfsport=70000", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/f?nfsport=0x10", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/f?timeo=0", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/f?vers=4", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/f?soft=1", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/f?=1", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/f?%00", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/f?rsize=1M", O_ACCMODE, NULL, EINVAL, 0 },
  { "nfs://h/e/f?rsize=1M", O_WRONLY | O_APPEND, NULL, EINVAL, 0 },
  { "nfs://h/e/f?rsize=1M", O_RDONLY | O_DIRECTORY, NULL, EINVAL, 0 },
  { "nfs://h/e/f?rsize=1M", O_PATH, NULL, EINVAL, 0 },
  { "nfs://h/e/f?bogus", O_RDONLY, NULL, EINVAL, 0 },
  { "nfs://h/e/f", O_RDONLY, "rsize=abc", EINVAL, 0 },
  { "nfs://h/e/f", O_RDONLY, ",", EINVAL, 0 },
  { "nfs://h/e/f", O_RDONLY, "soft,,hard", EINVAL, 0 },
  { "nfs://h/e/f", O_RDONLY, "frobnicate", EINVAL, 0 },
  { "nfs://h/e/f", O_RDONLY, "rsize=1M,wsize", EINVAL, 0 },
  { "nfs://h/e/f", O_RDONLY, "cache=1", EINVAL, 0 },
  { "nfs://h/e/f", O_RDONLY, "window=0", EINVAL, 0 },
  { "nfs://h/e/f", O_RDONLY, "=", EINVAL, 0 },
  { "nfs://h/e/f", O_RDONLY, "\x01\xff", EINVAL, 0 },
};

static void
check_open (const char *path, int flags, const char *options, int err,
            int err2)
{
  int fd;

  errno = 0;
  fd = options ? dio_open_options (path, flags, 0644, options)
               : dio_open (path, flags, 0644);
  ck_assert_msg (fd == -1, "dio_open (\"%.60s\", 0%o, %s) returned %d",
                 path ? path : "(null)", flags, options ? options : "-", fd);
  ck_assert_msg (errno == err || (err2 && errno == err2),
                 "dio_open (\"%.60s\", 0%o, %s): errno %d (%s), wanted %s; "
                 "message: %s", path ? path : "(null)", flags,
                 options ? options : "-", errno, strerror (errno),
                 strerror (err), dio_last_error ());
  ck_assert_msg (dio_last_error ()[0] != '\0', "dio_open (\"%.60s\"): no "
                 "message", path ? path : "(null)");
}

START_TEST (test_bad_opens)
{
  for (size_t i = 0; i < sizeof bad_opens / sizeof bad_opens[0]; i++)
    check_open (bad_opens[i].path, bad_opens[i].flags, bad_opens[i].options,
                bad_opens[i].err, bad_opens[i].err2);
}
END_TEST

/* Very long URLs, query words and option lists: refused, no overflow of
 * the message buffer. */
START_TEST (test_long_inputs)
{
  size_t n = 1 << 20;
  char *s = malloc (n + 64), *o = malloc (n + 1);

  ck_assert_ptr_nonnull (s);
  ck_assert_ptr_nonnull (o);
  /* A host name of a megabyte, and a bad query so nothing connects. */
  memcpy (s, "nfs://", 6);
  memset (s + 6, 'h', n);
  strcpy (s + 6 + n, "/e/f?bogus");
  check_open (s, O_RDONLY, NULL, EINVAL, ENAMETOOLONG);
  /* A path of a megabyte. */
  strcpy (s, "nfs://h/");
  memset (s + 8, 'p', n);
  strcpy (s + 8 + n, "?bogus");
  check_open (s, O_RDONLY, NULL, EINVAL, ENAMETOOLONG);
  /* One query word of a megabyte. */
  strcpy (s, "nfs://h/e/f?rsize=");
  memset (s + 18, '1', n);
  s[18 + n] = '\0';
  check_open (s, O_RDONLY, NULL, EINVAL, 0);
  /* An option list of a megabyte: many good words then a bad one. */
  for (size_t i = 0; i + 6 < n; i += 5)
    memcpy (o + i, "soft,", 5);
  strcpy (o + (n / 5 - 2) * 5, "bogus");
  check_open ("nfs://h/e/f", O_RDONLY, o, EINVAL, 0);
  free (s);
  free (o);
}
END_TEST

/* ---- rows on an open engine file ------------------------------------- */

START_TEST (test_engine_rows)
{
  const char *url = getenv ("HOSTILE_URL");
  char before[BUF_SIZE], after[BUF_SIZE];
  struct fds f;

  if (!have_server)
    return;
  open_fds (&f);
  f.fd[FD_ENGINE] = dio_open (url, O_RDWR | O_CREAT | O_TRUNC, 0644);
  ck_assert_msg (f.fd[FD_ENGINE] >= 0, "dio_open: %s", dio_last_error ());
  f.fd[FD_ENGINE_RO] = dio_open (url, O_RDONLY);
  ck_assert_msg (f.fd[FD_ENGINE_RO] >= 0, "dio_open: %s", dio_last_error ());
  for (size_t i = 0; i < sizeof before; i++)
    before[i] = (char) (i * 7 + 1);
  ck_assert_int_eq (dio_pwrite (f.fd[FD_ENGINE], before, sizeof before, 0),
                    sizeof before);
  memcpy (buf, before, sizeof buf);

  for (size_t i = 0; i < sizeof engine_rows / sizeof engine_rows[0]; i++) {
    check_row (&engine_rows[i], &f);
    /* The file offset may have moved (lseek rows): back to 0. */
    ck_assert_int_eq (dio_lseek (f.fd[FD_ENGINE], 0, SEEK_SET), 0);
  }
  check_kernel_fds (&f, "the engine rows");

  /* Both descriptors still work, and nothing was written. */
  ck_assert_int_eq (dio_pread (f.fd[FD_ENGINE_RO], after, sizeof after, 0),
                    sizeof after);
  ck_assert_msg (memcmp (before, after, sizeof after) == 0,
                 "a refused call changed the file");
  ck_assert_int_eq (dio_fstat (f.fd[FD_ENGINE], &stbuf), 0);
  ck_assert_int_eq (stbuf.st_size, sizeof before);
  ck_assert_int_eq (dio_close (f.fd[FD_ENGINE_RO]), 0);
  ck_assert_int_eq (dio_close (f.fd[FD_ENGINE]), 0);
  close_fds (&f);
}
END_TEST

/* read/write at a file position near the end of the offset range. */
START_TEST (test_position_at_limit)
{
  int fd;

  if (!have_server)
    return;
  fd = dio_open (getenv ("HOSTILE_URL"), O_RDWR | O_CREAT, 0644);
  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  ck_assert_int_eq (dio_lseek (fd, INT64_MAX, SEEK_SET), INT64_MAX);
  ck_assert_int_eq (dio_lseek (fd, 1, SEEK_CUR), -1);
  ck_assert_int_eq (errno, EINVAL);
  ck_assert_int_eq (dio_write (fd, buf, 16), -1);
  ck_assert_int_eq (errno, EFBIG);
  ck_assert_int_eq (dio_read (fd, buf, 16), -1);
  ck_assert_int_eq (errno, EINVAL);
  ck_assert_int_eq (dio_lseek (fd, 0, SEEK_CUR), INT64_MAX);
  ck_assert_int_eq (dio_close (fd), 0);
}
END_TEST

static Suite *
hostile_suite (void)
{
  Suite *s = suite_create ("hostile");
  TCase *tc = tcase_create ("hostile");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_foreign_fds);
  tcase_add_test (tc, test_bad_advice);
  tcase_add_test (tc, test_bad_opens);
  tcase_add_test (tc, test_long_inputs);
  tcase_add_test (tc, test_engine_fd_number_reused);
  tcase_add_test (tc, test_engine_rows);
  tcase_add_test (tc, test_position_at_limit);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  const char *server = getenv ("DIO_TEST_SERVER");
  static char url[1024];
  SRunner *sr;
  int failed;

  have_server = server && getenv ("DIO_TEST_EXPORT")
    && getenv ("DIO_TEST_QUERY");
  if (have_server) {
    snprintf (url, sizeof url, "nfs://%s%s/hostile?%s", server,
              getenv ("DIO_TEST_EXPORT"), getenv ("DIO_TEST_QUERY"));
    setenv ("HOSTILE_URL", url, 1);
  }
  else
    fprintf (stderr, "check_hostile: no test server: only the rows that "
             "need no open engine file run (test-hostile.sh runs all)\n");
  sr = srunner_create (hostile_suite ());
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
