/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libdirectio-preload.so: calls that take a descriptor.
 *
 * An engine fd goes to the dio_* calls; a path fd (preload-pathfd.c)
 * answers what a directory descriptor can; anything else is libc's.
 * fcntl on an engine fd: F_GETFL/F_SETFL (O_DIRECT switches direct mode
 * through directio(), as on Solaris it is per file), F_DUPFD,
 * F_DUPFD_CLOEXEC, F_GETFD/F_SETFD (on the placeholder); the rest is
 * EINVAL.  mmap is ENODEV; copy_file_range, sendfile and splice are
 * EXDEV/EINVAL so that programs fall back to read and write; fadvise is
 * accepted and ignored; fallocate is EOPNOTSUPP; ioctl is ENOTTY.
 *
 * Threading: no state of its own. */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#include "directio.h"
#include "private.h"

extern ssize_t __read_chk (int fd, void *buf, size_t n, size_t buflen);
extern ssize_t __pread_chk (int fd, void *buf, size_t n, off_t off,
                            size_t buflen);
extern ssize_t __pread64_chk (int fd, void *buf, size_t n, off64_t off,
                              size_t buflen);
extern void __chk_fail (void) __attribute__ ((noreturn));

/* The fd is the engine's (and the call is not the engine's own). */
#define ENGINE_FD(fd) (!SHIM_BYPASS () && shim_is_engine_fd (fd))

/* ---- data ------------------------------------------------------------- */

#define WRAP_FD(name, ret, params, args, engine_call)                   \
  DEFINE_REAL (name);                                                   \
  ret                                                                   \
  name params                                                           \
  {                                                                     \
    if (ENGINE_FD (fd))                                                 \
      return ENGINE (engine_call);                                      \
    return REAL (name) args;                                            \
  }

/* Reads: a directory's path fd says EISDIR, as a directory fd does. */
#define WRAP_READ(name, ret, params, args, engine_call)                 \
  DEFINE_REAL (name);                                                   \
  ret                                                                   \
  name params                                                           \
  {                                                                     \
    if (!SHIM_BYPASS ()) {                                              \
      if (shim_is_engine_fd (fd))                                       \
        return ENGINE (engine_call);                                    \
      if (shim_is_pathfd (fd))                                          \
        return pathfd_read_error (fd);                                  \
    }                                                                   \
    return REAL (name) args;                                            \
  }

static int
pathfd_read_error (int fd)
{
  char path[PATH_MAX];
  bool is_dir;

  errno = shim_pathfd_path (fd, path, &is_dir) && is_dir ? EISDIR : EBADF;
  return -1;
}

WRAP_READ (read, ssize_t, (int fd, void *b, size_t n), (fd, b, n),
         dio_read (fd, b, n))
WRAP_FD (write, ssize_t, (int fd, const void *b, size_t n), (fd, b, n),
         dio_write (fd, b, n))
WRAP_READ (pread, ssize_t, (int fd, void *b, size_t n, off_t o),
         (fd, b, n, o), dio_pread (fd, b, n, o))
WRAP_READ (pread64, ssize_t, (int fd, void *b, size_t n, off64_t o),
         (fd, b, n, o), dio_pread (fd, b, n, o))
WRAP_FD (pwrite, ssize_t, (int fd, const void *b, size_t n, off_t o),
         (fd, b, n, o), dio_pwrite (fd, b, n, o))
WRAP_FD (pwrite64, ssize_t, (int fd, const void *b, size_t n, off64_t o),
         (fd, b, n, o), dio_pwrite (fd, b, n, o))
WRAP_READ (readv, ssize_t, (int fd, const struct iovec *v, int c),
         (fd, v, c), dio_readv (fd, v, c))
WRAP_FD (writev, ssize_t, (int fd, const struct iovec *v, int c),
         (fd, v, c), dio_writev (fd, v, c))
WRAP_READ (preadv, ssize_t, (int fd, const struct iovec *v, int c, off_t o),
         (fd, v, c, o), dio_preadv (fd, v, c, o))
WRAP_READ (preadv64, ssize_t,
         (int fd, const struct iovec *v, int c, off64_t o),
         (fd, v, c, o), dio_preadv (fd, v, c, o))
WRAP_FD (pwritev, ssize_t, (int fd, const struct iovec *v, int c, off_t o),
         (fd, v, c, o), dio_pwritev (fd, v, c, o))
WRAP_FD (pwritev64, ssize_t,
         (int fd, const struct iovec *v, int c, off64_t o),
         (fd, v, c, o), dio_pwritev (fd, v, c, o))
WRAP_FD (lseek, off_t, (int fd, off_t o, int w), (fd, o, w),
         dio_lseek (fd, o, w))
WRAP_FD (lseek64, off64_t, (int fd, off64_t o, int w), (fd, o, w),
         dio_lseek (fd, o, w))
WRAP_FD (ftruncate, int, (int fd, off_t l), (fd, l), dio_ftruncate (fd, l))
WRAP_FD (ftruncate64, int, (int fd, off64_t l), (fd, l),
         dio_ftruncate (fd, l))

/* The fortified reads: the length check is theirs to keep. */
#define WRAP_CHK(name, params, args, engine_call)                       \
  DEFINE_REAL (name);                                                   \
  ssize_t                                                               \
  name params                                                           \
  {                                                                     \
    if (ENGINE_FD (fd)) {                                               \
      if (n > buflen)                                                   \
        __chk_fail ();                                                  \
      return ENGINE (engine_call);                                      \
    }                                                                   \
    return REAL (name) args;                                            \
  }

WRAP_CHK (__read_chk, (int fd, void *b, size_t n, size_t buflen),
          (fd, b, n, buflen), dio_read (fd, b, n))
WRAP_CHK (__pread_chk, (int fd, void *b, size_t n, off_t o, size_t buflen),
          (fd, b, n, o, buflen), dio_pread (fd, b, n, o))
WRAP_CHK (__pread64_chk,
          (int fd, void *b, size_t n, off64_t o, size_t buflen),
          (fd, b, n, o, buflen), dio_pread (fd, b, n, o))

/* preadv2/pwritev2: offset -1 means the file offset.  The RWF_ flags are
 * hints the engine need not act on, except RWF_NOWAIT, which it cannot
 * honour (every transfer may wait for the server) and RWF_APPEND, which
 * it refuses as it refuses O_APPEND. */
static int
rwf_check (int flags)
{
#ifdef RWF_NOWAIT
  if (flags & RWF_NOWAIT) {
    errno = EOPNOTSUPP;
    return -1;
  }
#endif
#ifdef RWF_APPEND
  if (flags & RWF_APPEND) {
    errno = EINVAL;
    return -1;
  }
#endif
  return 0;
}

static ssize_t
engine_rw2 (bool write, int fd, const struct iovec *v, int c, off_t o,
            int flags)
{
  ssize_t r;

  if (rwf_check (flags) == -1)
    return -1;
  if (o == -1)
    r = write ? dio_writev (fd, v, c) : dio_readv (fd, v, c);
  else
    r = write ? dio_pwritev (fd, v, c, o) : dio_preadv (fd, v, c, o);
#ifdef RWF_DSYNC
  if (write && r > 0 && (flags & (RWF_DSYNC | RWF_SYNC))
      && dio_fdatasync (fd) == -1)
    return -1;
#endif
  return r;
}

#if defined __GLIBC__ && __GLIBC_PREREQ (2, 26)
WRAP_FD (preadv2, ssize_t,
         (int fd, const struct iovec *v, int c, off_t o, int f),
         (fd, v, c, o, f), engine_rw2 (false, fd, v, c, o, f))
WRAP_FD (preadv64v2, ssize_t,
         (int fd, const struct iovec *v, int c, off64_t o, int f),
         (fd, v, c, o, f), engine_rw2 (false, fd, v, c, o, f))
WRAP_FD (pwritev2, ssize_t,
         (int fd, const struct iovec *v, int c, off_t o, int f),
         (fd, v, c, o, f), engine_rw2 (true, fd, v, c, o, f))
WRAP_FD (pwritev64v2, ssize_t,
         (int fd, const struct iovec *v, int c, off64_t o, int f),
         (fd, v, c, o, f), engine_rw2 (true, fd, v, c, o, f))
#endif

/* ---- sync ------------------------------------------------------------- */

/* fsync of a directory fd: NFSv3 directory operations are synchronous. */
#define WRAP_SYNC(name, engine_call)                                    \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name (int fd)                                                         \
  {                                                                     \
    if (!SHIM_BYPASS ()) {                                              \
      if (shim_is_engine_fd (fd))                                       \
        return ENGINE (engine_call);                                    \
      if (shim_is_pathfd (fd))                                          \
        return 0;                                                       \
    }                                                                   \
    return REAL (name) (fd);                                            \
  }

WRAP_SYNC (fsync, dio_fsync (fd))
WRAP_SYNC (fdatasync, dio_fdatasync (fd))

/* ---- close and dup ---------------------------------------------------- */

DEFINE_REAL (close);
int
close (int fd)
{
  if (SHIM_BYPASS ()) {
    shim_unhide (fd);
    return REAL (close) (fd);
  }
  if (shim_is_hidden (fd)) {
    errno = EBADF;              /* not open, as far as the program knows */
    return -1;
  }
  if (shim_is_engine_fd (fd)) {
    shim_stats_report (fd, "close");
    shim_forget_fd (fd);
    return ENGINE (dio_close (fd));
  }
  if (shim_is_pathfd (fd))
    return shim_pathfd_close (fd);
  return REAL (close) (fd);
}

DEFINE_REAL (dup);
int
dup (int fd)
{
  int r;

  if (!SHIM_BYPASS ()) {
    if (shim_is_engine_fd (fd)) {
      r = ENGINE (dio__dup (fd, 0));
      if (r >= 0)
        shim_note_fd (r);
      return r;
    }
    if (shim_is_pathfd (fd))
      return shim_pathfd_dup (fd, 0, -1, false);
  }
  return REAL (dup) (fd);
}

DEFINE_REAL (dup3);

/* dup2/dup3: newfd is replaced, whatever it was.  An engine or path fd at
 * newfd is dropped first when the kernel call will not replace it itself
 * (dio__dup2 does that for an engine oldfd). */
static int
shim_dup3 (int oldfd, int newfd, int flags)
{
  int r;

  if (shim_is_engine_fd (oldfd)) {
    shim_pathfd_forget (newfd);
    r = ENGINE (dio__dup2 (oldfd, newfd));
    if (r >= 0)
      shim_note_fd (r);
    return r;
  }
  if (shim_is_engine_fd (newfd)) {
    shim_forget_fd (newfd);
    ENGINE (dio_close (newfd)); /* then the kernel dup reuses the number */
  }
  if (shim_is_pathfd (oldfd)) {
    shim_pathfd_forget (newfd);
    return shim_pathfd_dup (oldfd, 0, newfd, flags & O_CLOEXEC);
  }
  shim_pathfd_forget (newfd);
  return REAL (dup3) (oldfd, newfd, flags);
}

DEFINE_REAL (dup2);
int
dup2 (int oldfd, int newfd)
{
  if (SHIM_BYPASS ())
    return REAL (dup2) (oldfd, newfd);
  if (oldfd == newfd) {
    if (shim_is_engine_fd (oldfd) || shim_is_pathfd (oldfd))
      return newfd;
    return REAL (dup2) (oldfd, newfd);
  }
  if (oldfd < 0 || newfd < 0)
    return REAL (dup2) (oldfd, newfd);  /* EBADF from the kernel */
  return shim_dup3 (oldfd, newfd, 0);
}

int
dup3 (int oldfd, int newfd, int flags)
{
  if (SHIM_BYPASS () || oldfd == newfd || oldfd < 0 || newfd < 0
      || (flags & ~O_CLOEXEC))
    return REAL (dup3) (oldfd, newfd, flags);     /* EINVAL, EBADF */
  return shim_dup3 (oldfd, newfd, flags);
}

/* close_range and closefrom: drop our entries before the kernel closes
 * the numbers, or a reused number would still be ours. */
static void
forget_range (unsigned first, unsigned last)
{
  for (unsigned fd = first; fd <= last && fd < (unsigned) INT_MAX; fd++) {
    if (shim_is_engine_fd (fd)) {
      shim_forget_fd (fd);
      ENGINE (dio_close (fd));
    }
    else
      shim_pathfd_forget (fd);
  }
}

/* The highest fd worth visiting: the soft limit, which bounds the loop. */
static unsigned
fd_limit (void)
{
  long m = sysconf (_SC_OPEN_MAX);

  return m > 0 ? (unsigned) m - 1 : 1023;
}

#if defined __GLIBC__ && __GLIBC_PREREQ (2, 34)
DEFINE_REAL (close_range);

/* close_range over [first, last] minus the engine's hidden descriptors
 * (preload-hide.c): the program does not know they are there. */
static int
close_range_around (unsigned first, unsigned last, int flags)
{
  unsigned lo = first, top = last < fd_limit () ? last : fd_limit ();
  int r = 0;

  /* top < UINT_MAX, so lo = fd + 1 never wraps. */
  for (unsigned fd = first; fd <= top; fd++) {
    if (!shim_is_hidden (fd))
      continue;
    if (fd > lo && REAL (close_range) (lo, fd - 1, flags) == -1)
      r = -1;
    lo = fd + 1;
  }
  if (lo <= last && REAL (close_range) (lo, last, flags) == -1)
    r = -1;
  return r;
}

int
close_range (unsigned first, unsigned last, int flags)
{
  if (SHIM_BYPASS () || first > last)
    return REAL (close_range) (first, last, flags);
  if (!(flags & CLOSE_RANGE_CLOEXEC))
    forget_range (first, last < fd_limit () ? last : fd_limit ());
  return close_range_around (first, last, flags);
}

DEFINE_REAL (closefrom);
void
closefrom (int lowfd)
{
  if (SHIM_BYPASS () || lowfd < 0) {
    REAL (closefrom) (lowfd);
    return;
  }
  forget_range (lowfd, fd_limit ());
  if (close_range_around (lowfd, ~0U, 0) == -1)
    REAL (closefrom) (lowfd);   /* no close_range: libc's own way */
}
#endif

/* ---- fcntl ------------------------------------------------------------ */

DEFINE_REAL (fcntl);

/* F_SETFL on an engine fd: O_DIRECT is the file's direct mode; O_APPEND
 * is refused as at open; the other status flags mean nothing here. */
static int
engine_setfl (int fd, int fl)
{
  int cur;

  if (fl & O_APPEND) {
    errno = EINVAL;
    return -1;
  }
  cur = dio__getfl (fd);
  if (cur == -1)
    return -1;
  if ((cur & O_DIRECT) == (fl & O_DIRECT))
    return 0;
  return directio (fd, (fl & O_DIRECT) ? DIRECTIO_ON : DIRECTIO_OFF);
}

static int
engine_fcntl (int fd, int cmd, void *arg)
{
  int a = (int) (intptr_t) arg, r;

  switch (cmd) {
  case F_GETFL:
    return dio__getfl (fd);
  case F_SETFL:
    return engine_setfl (fd, a);
  case F_DUPFD:
  case F_DUPFD_CLOEXEC:
    r = dio__dup (fd, a);
    if (r >= 0)
      shim_note_fd (r);
    return r;
  case F_GETFD:
  case F_SETFD:
    return REAL (fcntl) (fd, cmd, arg);
  default:
    shim_debug ("fcntl (%d, %d): not supported on an engine fd", fd, cmd);
    errno = EINVAL;
    return -1;
  }
}

static int
pathfd_fcntl (int fd, int cmd, void *arg)
{
  char path[PATH_MAX];
  bool is_dir;
  int a = (int) (intptr_t) arg;

  switch (cmd) {
  case F_GETFL:
    if (!shim_pathfd_path (fd, path, &is_dir)) {
      errno = EBADF;
      return -1;
    }
    return O_RDONLY | (is_dir ? O_DIRECTORY : 0);
  case F_SETFL:
    return 0;
  case F_DUPFD:
  case F_DUPFD_CLOEXEC:
    return shim_pathfd_dup (fd, a, -1, cmd == F_DUPFD_CLOEXEC);
  case F_GETFD:
  case F_SETFD:
    return REAL (fcntl) (fd, cmd, arg);
  default:
    errno = EINVAL;
    return -1;
  }
}

/* The third argument is an int or a pointer; glibc reads it as a pointer
 * too. */
#define WRAP_FCNTL(name)                                                \
  int                                                                   \
  name (int fd, int cmd, ...)                                           \
  {                                                                     \
    va_list ap;                                                         \
    void *arg;                                                          \
                                                                        \
    va_start (ap, cmd);                                                 \
    arg = va_arg (ap, void *);                                          \
    va_end (ap);                                                        \
    if (!SHIM_BYPASS ()) {                                              \
      if (shim_is_engine_fd (fd))                                       \
        return ENGINE (engine_fcntl (fd, cmd, arg));                    \
      if (shim_is_pathfd (fd))                                          \
        return pathfd_fcntl (fd, cmd, arg);                             \
    }                                                                   \
    return REAL (name) (fd, cmd, arg);                                  \
  }

WRAP_FCNTL (fcntl)
#if defined __GLIBC__ && __GLIBC_PREREQ (2, 28)
DEFINE_REAL (fcntl64);
WRAP_FCNTL (fcntl64)
#endif

/* ---- what an engine fd cannot do ------------------------------------- */

static bool
engine_or_path_fd (int fd)
{
  return shim_is_engine_fd (fd) || shim_is_pathfd (fd);
}

#define WRAP_MMAP(name, offtype)                                        \
  DEFINE_REAL (name);                                                   \
  void *                                                                \
  name (void *addr, size_t len, int prot, int flags, int fd, offtype off) \
  {                                                                     \
    if (!SHIM_BYPASS () && !(flags & MAP_ANONYMOUS) && fd >= 0          \
        && engine_or_path_fd (fd)) {                                    \
      shim_debug ("mmap of fd %d: engine files cannot be mapped "       \
                  "(they are uncached): ENODEV", fd);                   \
      errno = ENODEV;                                                   \
      return MAP_FAILED;                                                \
    }                                                                   \
    return REAL (name) (addr, len, prot, flags, fd, off);               \
  }

WRAP_MMAP (mmap, off_t)
WRAP_MMAP (mmap64, off64_t)

DEFINE_REAL (copy_file_range);
ssize_t
copy_file_range (int in, off64_t *inoff, int out, off64_t *outoff,
                 size_t len, unsigned flags)
{
  if (!SHIM_BYPASS () && (engine_or_path_fd (in) || engine_or_path_fd (out))) {
    errno = EXDEV;
    return -1;
  }
  return REAL (copy_file_range) (in, inoff, out, outoff, len, flags);
}

#define WRAP_SENDFILE(name, offtype)                                    \
  DEFINE_REAL (name);                                                   \
  ssize_t                                                               \
  name (int out, int in, offtype *off, size_t count)                    \
  {                                                                     \
    if (!SHIM_BYPASS ()                                                 \
        && (engine_or_path_fd (in) || engine_or_path_fd (out))) {       \
      errno = EINVAL;                                                   \
      return -1;                                                        \
    }                                                                   \
    return REAL (name) (out, in, off, count);                           \
  }

WRAP_SENDFILE (sendfile, off_t)
WRAP_SENDFILE (sendfile64, off64_t)

DEFINE_REAL (splice);
ssize_t
splice (int in, off64_t *inoff, int out, off64_t *outoff, size_t len,
        unsigned flags)
{
  if (!SHIM_BYPASS () && (engine_or_path_fd (in) || engine_or_path_fd (out))) {
    errno = EINVAL;
    return -1;
  }
  return REAL (splice) (in, inoff, out, outoff, len, flags);
}

/* posix_fadvise returns an error number, not -1. */
#define WRAP_FADVISE(name, offtype)                                     \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name (int fd, offtype off, offtype len, int advice)                   \
  {                                                                     \
    if (!SHIM_BYPASS () && shim_is_engine_fd (fd))                      \
      return 0;                                                         \
    return REAL (name) (fd, off, len, advice);                          \
  }

WRAP_FADVISE (posix_fadvise, off_t)
WRAP_FADVISE (posix_fadvise64, off64_t)

#define WRAP_FALLOCATE(name, offtype)                                   \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name (int fd, int mode, offtype off, offtype len)                     \
  {                                                                     \
    if (!SHIM_BYPASS () && shim_is_engine_fd (fd)) {                    \
      errno = EOPNOTSUPP;                                               \
      return -1;                                                        \
    }                                                                   \
    return REAL (name) (fd, mode, off, len);                            \
  }

WRAP_FALLOCATE (fallocate, off_t)
WRAP_FALLOCATE (fallocate64, off64_t)

#define WRAP_POSIX_FALLOCATE(name, offtype)                             \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name (int fd, offtype off, offtype len)                               \
  {                                                                     \
    if (!SHIM_BYPASS () && shim_is_engine_fd (fd))                      \
      return EOPNOTSUPP;                                                \
    return REAL (name) (fd, off, len);                                  \
  }

WRAP_POSIX_FALLOCATE (posix_fallocate, off_t)
WRAP_POSIX_FALLOCATE (posix_fallocate64, off64_t)

DEFINE_REAL (ioctl);
int
ioctl (int fd, unsigned long req, ...)
{
  va_list ap;
  void *arg;

  va_start (ap, req);
  arg = va_arg (ap, void *);
  va_end (ap);
  if (!SHIM_BYPASS () && engine_or_path_fd (fd)) {
    errno = ENOTTY;
    return -1;
  }
  return REAL (ioctl) (fd, req, arg);
}
