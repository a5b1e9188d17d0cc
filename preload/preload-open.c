/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libdirectio-preload.so: calls that take a path — the open family, and
 * unlink/rename/mkdir/rmdir/access/truncate/realpath and the xattr calls
 * (NFSv3 has no extended attributes: ENOTSUP, as from a kernel NFSv3
 * mount).
 *
 * A managed regular file opens through dio_open (O_DIRECT at open means
 * direct from open); a managed directory, or any O_PATH open, gets a path
 * fd (preload-pathfd.c).  glibc's fortified __open_2 family is covered
 * too: it calls the kernel without going through open.
 *
 * Threading: no state of its own. */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "private.h"

/* glibc's fortified entry points (bits/fcntl2.h declares them only under
 * _FORTIFY_SOURCE). */
extern int __open_2 (const char *path, int flags);
extern int __open64_2 (const char *path, int flags);
extern int __openat_2 (int dirfd, const char *path, int flags);
extern int __openat64_2 (int dirfd, const char *path, int flags);

#ifndef __OPEN_NEEDS_MODE
#define __OPEN_NEEDS_MODE(fl) \
  (((fl) & O_CREAT) != 0 || ((fl) & __O_TMPFILE) == __O_TMPFILE)
#endif

/* Flags that mean nothing to the engine and that it need not see. */
#define IGNORED_FLAGS \
  (O_NOCTTY | O_NONBLOCK | O_NOFOLLOW | O_NOATIME | O_ASYNC | O_LARGEFILE)

int
shim_stat_path (const char *abspath, struct stat *st)
{
  return ENGINE (dio__stat (abspath, st));
}

/* A directory, or an O_PATH open: a path fd. */
static int
open_pathfd (const char *abspath, int flags, const struct stat *st)
{
  if ((flags & O_DIRECTORY) && !S_ISDIR (st->st_mode)) {
    errno = ENOTDIR;
    return -1;
  }
  if (!(flags & O_PATH) && S_ISDIR (st->st_mode)
      && ((flags & O_ACCMODE) != O_RDONLY || (flags & O_CREAT))) {
    errno = EISDIR;
    return -1;
  }
  return shim_pathfd_new (abspath, S_ISDIR (st->st_mode), flags);
}

int
shim_engine_open (const char *abspath, int flags, mode_t mode)
{
  struct stat st;
  int fd;

  if ((flags & __O_TMPFILE) == __O_TMPFILE) {
    shim_debug ("open %s: O_TMPFILE is not supported", abspath);
    errno = EOPNOTSUPP;
    return -1;
  }
  if (flags & (O_PATH | O_DIRECTORY)) {
    if (shim_stat_path (abspath, &st) == -1)
      return -1;
    return open_pathfd (abspath, flags, &st);
  }
  if (flags & O_CREAT)
    mode &= ~shim_umask ();
  fd = ENGINE (dio_open (abspath, flags & ~IGNORED_FLAGS, mode));
  if (fd == -1) {
    int e = errno;
    /* A directory: a path fd, as a kernel directory fd would be (or
     * EISDIR for writing). */
    if (!(flags & O_CREAT)
        && shim_stat_path (abspath, &st) == 0 && S_ISDIR (st.st_mode))
      return open_pathfd (abspath, flags, &st);
    shim_debug ("open %s: %s", abspath, ENGINE (dio_last_error ()));
    errno = e;
    return -1;
  }
  /* The engine opens a directory as if it were a file: ask.  (Not for a
   * file O_EXCL has just created.) */
  if ((flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL)
      && ENGINE (dio_fstat (fd, &st)) == 0 && S_ISDIR (st.st_mode)) {
    ENGINE (dio_close (fd));
    return open_pathfd (abspath, flags, &st);
  }
  shim_note_fd (fd);
  return fd;
}

/* Resolve and, if managed, open; true with *res set when handled.  Else
 * the caller passes (*dirfd, *path) — rewritten if dirfd was a path fd —
 * to libc. */
static bool
open_managed (int *dirfd, const char **path, char *buf, int flags,
              mode_t mode, int *res)
{
  switch (shim_where (*dirfd, *path, buf)) {
  case SHIM_LIBC:
    return false;
  case SHIM_LIBC_ABS:
    *dirfd = AT_FDCWD;
    *path = buf;
    return false;
  case SHIM_ENGINE:
    *res = shim_engine_open (buf, flags, mode);
    return true;
  default:
    *res = -1;
    return true;
  }
}

#define OPEN_MODE(flags, mode)                  \
  do {                                          \
    if (__OPEN_NEEDS_MODE (flags)) {            \
      va_list ap;                               \
      va_start (ap, flags);                     \
      mode = va_arg (ap, int);                  \
      va_end (ap);                              \
    }                                           \
  } while (0)

/* One wrapper per libc name: each passes through to its own libc symbol,
 * which may check more (the fortified ones abort on a missing mode). */
#define WRAP_OPEN(name)                                                 \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name (const char *path, int flags, ...)                               \
  {                                                                     \
    char buf[PATH_MAX];                                                 \
    mode_t mode = 0;                                                    \
    int dirfd = AT_FDCWD, r;                                            \
                                                                        \
    OPEN_MODE (flags, mode);                                            \
    if (SHIM_BYPASS ()                                                  \
        || !open_managed (&dirfd, &path, buf, flags, mode, &r))         \
      return REAL (name) (path, flags, mode);                           \
    return r;                                                           \
  }

#define WRAP_OPENAT(name)                                               \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name (int dirfd, const char *path, int flags, ...)                    \
  {                                                                     \
    char buf[PATH_MAX];                                                 \
    mode_t mode = 0;                                                    \
    int r;                                                              \
                                                                        \
    OPEN_MODE (flags, mode);                                            \
    if (SHIM_BYPASS ()                                                  \
        || !open_managed (&dirfd, &path, buf, flags, mode, &r))         \
      return REAL (name) (dirfd, path, flags, mode);                    \
    return r;                                                           \
  }

#define WRAP_OPEN_2(name)                                               \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name (const char *path, int flags)                                    \
  {                                                                     \
    char buf[PATH_MAX];                                                 \
    int dirfd = AT_FDCWD, r;                                            \
                                                                        \
    if (SHIM_BYPASS () || __OPEN_NEEDS_MODE (flags)                     \
        || !open_managed (&dirfd, &path, buf, flags, 0, &r))            \
      return REAL (name) (path, flags);                                 \
    return r;                                                           \
  }

#define WRAP_OPENAT_2(name)                                             \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name (int dirfd, const char *path, int flags)                         \
  {                                                                     \
    char buf[PATH_MAX];                                                 \
    int r;                                                              \
                                                                        \
    if (SHIM_BYPASS () || __OPEN_NEEDS_MODE (flags)                     \
        || !open_managed (&dirfd, &path, buf, flags, 0, &r))            \
      return REAL (name) (dirfd, path, flags);                          \
    return r;                                                           \
  }

#define WRAP_CREAT(name)                                                \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name (const char *path, mode_t mode)                                  \
  {                                                                     \
    char buf[PATH_MAX];                                                 \
    int dirfd = AT_FDCWD, r;                                            \
                                                                        \
    if (SHIM_BYPASS ()                                                  \
        || !open_managed (&dirfd, &path, buf,                           \
                          O_CREAT | O_WRONLY | O_TRUNC, mode, &r))      \
      return REAL (name) (path, mode);                                  \
    return r;                                                           \
  }

WRAP_OPEN (open)
WRAP_OPEN (open64)
WRAP_OPENAT (openat)
WRAP_OPENAT (openat64)
WRAP_OPEN_2 (__open_2)
WRAP_OPEN_2 (__open64_2)
WRAP_OPENAT_2 (__openat_2)
WRAP_OPENAT_2 (__openat64_2)
WRAP_CREAT (creat)
WRAP_CREAT (creat64)

/* ---- the namespace ---------------------------------------------------- */

/* A mountpoint is a directory that exists and stays: what the kernel
 * says of a mounted-on directory. */
static int
mountpoint_error (int e)
{
  errno = e;
  return -1;
}

static int
engine_unlink (const char *abspath)
{
  if (shim_is_mountpoint (abspath))
    return mountpoint_error (EISDIR);
  return ENGINE (dio__unlink (abspath));
}

static int
engine_rmdir (const char *abspath)
{
  if (shim_is_mountpoint (abspath))
    return mountpoint_error (EBUSY);
  return ENGINE (dio__rmdir (abspath));
}

static int
engine_mkdir (const char *abspath, mode_t mode)
{
  if (shim_is_mountpoint (abspath))
    return mountpoint_error (EEXIST);
  return ENGINE (dio__mkdir (abspath, mode & ~shim_umask ()));
}

/* Calls on a path from the working directory. */
WRAP_PATH (unlink, int, (const char *path), (path), engine_unlink (buf))
WRAP_PATH (mkdir, int, (const char *path, mode_t mode), (path, mode),
           engine_mkdir (buf, mode))
WRAP_PATH (rmdir, int, (const char *path), (path), engine_rmdir (buf))
WRAP_PATH (access, int, (const char *path, int mode), (path, mode),
           ENGINE (dio__access (buf, mode)))
WRAP_PATH (euidaccess, int, (const char *path, int mode), (path, mode),
           ENGINE (dio__access (buf, mode)))
WRAP_PATH (eaccess, int, (const char *path, int mode), (path, mode),
           ENGINE (dio__access (buf, mode)))
WRAP_PATH (truncate, int, (const char *path, off_t length), (path, length),
           ENGINE (dio__truncate (buf, length)))
WRAP_PATH (truncate64, int, (const char *path, off64_t length),
           (path, length), ENGINE (dio__truncate (buf, length)))

/* The *at calls, from a directory fd. */
DEFINE_REAL (unlinkat);
int
unlinkat (int dirfd, const char *path, int flags)
{
  PATH_CALL (dirfd, path,
             (flags & AT_REMOVEDIR) ? engine_rmdir (buf) : engine_unlink (buf),
             REAL (unlinkat) (dirfd, path, flags));
}

DEFINE_REAL (mkdirat);
int
mkdirat (int dirfd, const char *path, mode_t mode)
{
  PATH_CALL (dirfd, path, engine_mkdir (buf, mode),
             REAL (mkdirat) (dirfd, path, mode));
}

DEFINE_REAL (faccessat);
int
faccessat (int dirfd, const char *path, int mode, int flags)
{
  PATH_CALL (dirfd, path, ENGINE (dio__access (buf, mode)),
             REAL (faccessat) (dirfd, path, mode, flags));
}

/* rename family: both managed, the engine; one managed, EXDEV (so mv
 * falls back to copy and unlink); neither, libc. */
static int
rename_managed (int *olddirfd, const char **oldpath, char *oldbuf,
                int *newdirfd, const char **newpath, char *newbuf,
                unsigned flags, int *res)
{
  int wo = shim_where (*olddirfd, *oldpath, oldbuf);
  int wn = wo == -1 ? -1 : shim_where (*newdirfd, *newpath, newbuf);
  struct stat st;

  if (wo == -1 || wn == -1) {
    *res = -1;
    return true;
  }
  if (wo == SHIM_ENGINE && wn == SHIM_ENGINE) {
    if (shim_is_mountpoint (oldbuf) || shim_is_mountpoint (newbuf)) {
      errno = EBUSY;
      *res = -1;
    }
    else if (flags & ~RENAME_NOREPLACE) {
      errno = EINVAL;           /* RENAME_EXCHANGE, RENAME_WHITEOUT */
      *res = -1;
    }
    else if ((flags & RENAME_NOREPLACE) && shim_stat_path (newbuf, &st) == 0) {
      errno = EEXIST;
      *res = -1;
    }
    else
      *res = ENGINE (dio__rename (oldbuf, newbuf));
    return true;
  }
  if (wo == SHIM_ENGINE || wn == SHIM_ENGINE) {
    errno = EXDEV;
    *res = -1;
    return true;
  }
  if (wo == SHIM_LIBC_ABS) {
    *olddirfd = AT_FDCWD;
    *oldpath = oldbuf;
  }
  if (wn == SHIM_LIBC_ABS) {
    *newdirfd = AT_FDCWD;
    *newpath = newbuf;
  }
  return false;
}

DEFINE_REAL (rename);
int
rename (const char *oldpath, const char *newpath)
{
  char ob[PATH_MAX], nb[PATH_MAX];
  int od = AT_FDCWD, nd = AT_FDCWD, r;

  if (SHIM_BYPASS ()
      || !rename_managed (&od, &oldpath, ob, &nd, &newpath, nb, 0, &r))
    return REAL (rename) (oldpath, newpath);
  return r;
}

DEFINE_REAL (renameat);
int
renameat (int olddirfd, const char *oldpath, int newdirfd,
          const char *newpath)
{
  char ob[PATH_MAX], nb[PATH_MAX];
  int r;

  if (SHIM_BYPASS ()
      || !rename_managed (&olddirfd, &oldpath, ob, &newdirfd, &newpath, nb,
                          0, &r))
    return REAL (renameat) (olddirfd, oldpath, newdirfd, newpath);
  return r;
}

DEFINE_REAL (renameat2);
int
renameat2 (int olddirfd, const char *oldpath, int newdirfd,
           const char *newpath, unsigned flags)
{
  char ob[PATH_MAX], nb[PATH_MAX];
  int r;

  if (SHIM_BYPASS ()
      || !rename_managed (&olddirfd, &oldpath, ob, &newdirfd, &newpath, nb,
                          flags, &r))
    return REAL (renameat2) (olddirfd, oldpath, newdirfd, newpath, flags);
  return r;
}

/* ---- realpath --------------------------------------------------------- */

/* Below a mountpoint the normalised path is the real one (the engine
 * follows no symlinks); it must exist, as for realpath(3). */
static char *
engine_realpath (const char *abspath, char *resolved)
{
  struct stat st;
  char *r;

  if (shim_stat_path (abspath, &st) == -1)
    return NULL;
  if (resolved != NULL)
    return strcpy (resolved, abspath);
  r = strdup (abspath);
  if (r == NULL)
    errno = ENOMEM;
  return r;
}

DEFINE_REAL (realpath);
char *
realpath (const char *path, char *resolved)
{
  char buf[PATH_MAX];

  if (SHIM_BYPASS ())
    return REAL (realpath) (path, resolved);
  switch (shim_where_path (path, buf)) {
  case SHIM_ENGINE: return engine_realpath (buf, resolved);
  case SHIM_LIBC_ABS: return REAL (realpath) (buf, resolved);
  case SHIM_LIBC: return REAL (realpath) (path, resolved);
  default: return NULL;
  }
}

DEFINE_REAL (canonicalize_file_name);
char *
canonicalize_file_name (const char *path)
{
  char buf[PATH_MAX];

  if (SHIM_BYPASS ())
    return REAL (canonicalize_file_name) (path);
  switch (shim_where_path (path, buf)) {
  case SHIM_ENGINE: return engine_realpath (buf, NULL);
  case SHIM_LIBC_ABS: return REAL (canonicalize_file_name) (buf);
  case SHIM_LIBC: return REAL (canonicalize_file_name) (path);
  default: return NULL;
  }
}

/* The fortified realpath: the buffer-size check is glibc's rule. */
extern char *__realpath_chk (const char *path, char *resolved, size_t len);
extern void __chk_fail (void) __attribute__ ((noreturn));

DEFINE_REAL (__realpath_chk);
char *
__realpath_chk (const char *path, char *resolved, size_t len)
{
  char buf[PATH_MAX];

  if (SHIM_BYPASS ())
    return REAL (__realpath_chk) (path, resolved, len);
  switch (shim_where_path (path, buf)) {
  case SHIM_ENGINE:
    if (len < PATH_MAX)
      __chk_fail ();
    return engine_realpath (buf, resolved);
  case SHIM_LIBC_ABS:
    return REAL (__realpath_chk) (buf, resolved, len);
  case SHIM_LIBC:
    return REAL (__realpath_chk) (path, resolved, len);
  default: return NULL;
  }
}

/* ---- extended attributes: none ---------------------------------------- */

static int
no_xattrs (const char *path)
{
  shim_debug ("%s: no extended attributes over NFSv3", path);
  errno = ENOTSUP;
  return -1;
}

#define WRAP_XATTR_PATH(name, ret, params, args, empty)                 \
  WRAP_PATH (name, ret, params, args, (empty) ? 0 : no_xattrs (buf))

#define WRAP_XATTR_FD(name, ret, params, args, empty)                   \
  DEFINE_REAL (name);                                                   \
  ret                                                                   \
  name params                                                           \
  {                                                                     \
    if (!SHIM_BYPASS () && (shim_is_engine_fd (fd) || shim_is_pathfd (fd))) \
      return (empty) ? 0 : no_xattrs ("fd");                            \
    return REAL (name) args;                                            \
  }

/* Listing gives the empty list, as for a file without attributes. */
WRAP_XATTR_PATH (getxattr, ssize_t,
                 (const char *path, const char *n, void *v, size_t s),
                 (path, n, v, s), false)
WRAP_XATTR_PATH (lgetxattr, ssize_t,
                 (const char *path, const char *n, void *v, size_t s),
                 (path, n, v, s), false)
WRAP_XATTR_PATH (setxattr, int,
                 (const char *path, const char *n, const void *v, size_t s,
                  int f), (path, n, v, s, f), false)
WRAP_XATTR_PATH (lsetxattr, int,
                 (const char *path, const char *n, const void *v, size_t s,
                  int f), (path, n, v, s, f), false)
WRAP_XATTR_PATH (removexattr, int, (const char *path, const char *n),
                 (path, n), false)
WRAP_XATTR_PATH (lremovexattr, int, (const char *path, const char *n),
                 (path, n), false)
WRAP_XATTR_PATH (listxattr, ssize_t,
                 (const char *path, char *l, size_t s), (path, l, s), true)
WRAP_XATTR_PATH (llistxattr, ssize_t,
                 (const char *path, char *l, size_t s), (path, l, s), true)
WRAP_XATTR_FD (fgetxattr, ssize_t,
               (int fd, const char *n, void *v, size_t s), (fd, n, v, s),
               false)
WRAP_XATTR_FD (fsetxattr, int,
               (int fd, const char *n, const void *v, size_t s, int f),
               (fd, n, v, s, f), false)
WRAP_XATTR_FD (fremovexattr, int, (int fd, const char *n), (fd, n), false)
WRAP_XATTR_FD (flistxattr, ssize_t, (int fd, char *l, size_t s),
               (fd, l, s), true)
