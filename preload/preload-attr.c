/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libdirectio-preload.so: attributes and links, which the engine does
 * not do.
 *
 * The engine sets a file's size (ftruncate) and nothing else: no mode,
 * owner or times.  Left to libc, these calls would fail on an engine fd
 * with a misleading EBADF (its placeholder is an O_PATH descriptor) or on
 * a managed path with ENOENT; they fail with ENOTSUP instead, which
 * programs such as mv and cp --preserve report as "not supported" and
 * carry on.  (touch creates a file, then fails to set its times.)
 *
 * Nor does it make or read symlinks and hard links: symlink and link
 * fail with ENOTSUP (EXDEV for a link across the mountpoint), and
 * readlink of a managed path says EINVAL, "not a symlink", as it is for
 * everything the engine shows (so realpath-style walks, readlink -f,
 * work through mountpoints).
 *
 * Threading: no state. */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#include "private.h"

static int
not_supported (const char *call, const char *what)
{
  shim_debug ("%s %s: the engine sets no mode, owner or times: ENOTSUP",
              call, what);
  errno = ENOTSUP;
  return -1;
}

#define WRAP_ATTR_PATH(name, params, args)                              \
  WRAP_PATH (name, int, params, args, not_supported (#name, buf))

/* An empty path (AT_EMPTY_PATH) means dirfd itself. */
#define WRAP_ATTR_AT(name, params, args)                                \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name params                                                           \
  {                                                                     \
    if (!SHIM_BYPASS () && path[0] == '\0'                              \
        && (shim_is_engine_fd (dirfd) || shim_is_pathfd (dirfd)))       \
      return not_supported (#name, "fd");                               \
    PATH_CALL (dirfd, path, not_supported (#name, buf), REAL (name) args); \
  }

#define WRAP_ATTR_FD(name, params, args)                                \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name params                                                           \
  {                                                                     \
    if (!SHIM_BYPASS () && (shim_is_engine_fd (fd) || shim_is_pathfd (fd))) \
      return not_supported (#name, "fd");                               \
    return REAL (name) args;                                            \
  }

WRAP_ATTR_PATH (chmod, (const char *path, mode_t m), (path, m))
WRAP_ATTR_PATH (chown, (const char *path, uid_t u, gid_t g), (path, u, g))
WRAP_ATTR_PATH (lchown, (const char *path, uid_t u, gid_t g), (path, u, g))
WRAP_ATTR_PATH (utime, (const char *path, const struct utimbuf *t),
                (path, t))
WRAP_ATTR_PATH (utimes, (const char *path, const struct timeval t[2]),
                (path, t))
WRAP_ATTR_PATH (lutimes, (const char *path, const struct timeval t[2]),
                (path, t))
WRAP_ATTR_AT (fchmodat, (int dirfd, const char *path, mode_t m, int f),
              (dirfd, path, m, f))
WRAP_ATTR_AT (fchownat,
              (int dirfd, const char *path, uid_t u, gid_t g, int f),
              (dirfd, path, u, g, f))
WRAP_ATTR_AT (utimensat,
              (int dirfd, const char *path, const struct timespec t[2],
               int f), (dirfd, path, t, f))
WRAP_ATTR_AT (futimesat,
              (int dirfd, const char *path, const struct timeval t[2]),
              (dirfd, path, t))
WRAP_ATTR_FD (fchmod, (int fd, mode_t m), (fd, m))
WRAP_ATTR_FD (fchown, (int fd, uid_t u, gid_t g), (fd, u, g))
WRAP_ATTR_FD (futimens, (int fd, const struct timespec t[2]), (fd, t))
WRAP_ATTR_FD (futimes, (int fd, const struct timeval t[2]), (fd, t))

/* ---- links ------------------------------------------------------------ */

DEFINE_REAL (symlink);
int
symlink (const char *target, const char *path)
{
  int at = AT_FDCWD;
  PATH_CALL (at, path, not_supported ("symlink", buf),
             REAL (symlink) (target, path));
}

DEFINE_REAL (symlinkat);
int
symlinkat (const char *target, int dirfd, const char *path)
{
  PATH_CALL (dirfd, path, not_supported ("symlinkat", buf),
             REAL (symlinkat) (target, dirfd, path));
}

/* A hard link: ENOTSUP within the engine, EXDEV across its edge. */
static int
link_managed (int *olddirfd, const char **oldpath, char *ob, int *newdirfd,
              const char **newpath, char *nb, int *res)
{
  int wo = shim_where (*olddirfd, *oldpath, ob);
  int wn = wo == -1 ? -1 : shim_where (*newdirfd, *newpath, nb);

  if (wo == -1 || wn == -1) {
    *res = -1;
    return true;
  }
  if (wo == SHIM_ENGINE || wn == SHIM_ENGINE) {
    *res = wo == wn ? not_supported ("link", nb) : -1;
    if (wo != wn)
      errno = EXDEV;
    return true;
  }
  if (wo == SHIM_LIBC_ABS) {
    *olddirfd = AT_FDCWD;
    *oldpath = ob;
  }
  if (wn == SHIM_LIBC_ABS) {
    *newdirfd = AT_FDCWD;
    *newpath = nb;
  }
  return false;
}

DEFINE_REAL (link);
int
link (const char *oldpath, const char *newpath)
{
  char ob[PATH_MAX], nb[PATH_MAX];
  int od = AT_FDCWD, nd = AT_FDCWD, r;

  if (SHIM_BYPASS ()
      || !link_managed (&od, &oldpath, ob, &nd, &newpath, nb, &r))
    return REAL (link) (oldpath, newpath);
  return r;
}

DEFINE_REAL (linkat);
int
linkat (int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
        int flags)
{
  char ob[PATH_MAX], nb[PATH_MAX];
  int r;

  if (SHIM_BYPASS ()
      || !link_managed (&olddirfd, &oldpath, ob, &newdirfd, &newpath, nb, &r))
    return REAL (linkat) (olddirfd, oldpath, newdirfd, newpath, flags);
  return r;
}

/* readlink of a managed path: it exists and is no symlink the engine
 * shows, or the lstat error. */
static ssize_t
not_a_link (const char *abspath)
{
  struct stat st;

  if (ENGINE (dio__lstat (abspath, &st)) == -1)
    return -1;
  if (S_ISLNK (st.st_mode))
    return not_supported ("readlink", abspath);
  errno = EINVAL;
  return -1;
}

DEFINE_REAL (readlink);
ssize_t
readlink (const char *path, char *b, size_t n)
{
  int at = AT_FDCWD;
  PATH_CALL (at, path, not_a_link (buf), REAL (readlink) (path, b, n));
}

DEFINE_REAL (readlinkat);
ssize_t
readlinkat (int dirfd, const char *path, char *b, size_t n)
{
  PATH_CALL (dirfd, path, not_a_link (buf),
             REAL (readlinkat) (dirfd, path, b, n));
}

/* The fortified ones (their length check cannot matter: nothing is
 * copied). */
extern ssize_t __readlink_chk (const char *path, char *b, size_t n,
                               size_t blen);
extern ssize_t __readlinkat_chk (int dirfd, const char *path, char *b,
                                 size_t n, size_t blen);

DEFINE_REAL (__readlink_chk);
ssize_t
__readlink_chk (const char *path, char *b, size_t n, size_t blen)
{
  int at = AT_FDCWD;
  PATH_CALL (at, path, not_a_link (buf),
             REAL (__readlink_chk) (path, b, n, blen));
}

DEFINE_REAL (__readlinkat_chk);
ssize_t
__readlinkat_chk (int dirfd, const char *path, char *b, size_t n,
                  size_t blen)
{
  PATH_CALL (dirfd, path, not_a_link (buf),
             REAL (__readlinkat_chk) (dirfd, path, b, n, blen));
}
