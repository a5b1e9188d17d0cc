/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libdirectio-preload.so: the stat family.
 *
 * stat/lstat/fstat/fstatat and their *64 twins, statx, and glibc's
 * __xstat family (what binaries linked before glibc 2.33 call).  A managed
 * path asks dio__stat; an engine fd dio_fstat; a path fd the stat of its
 * path; lstat and AT_SYMLINK_NOFOLLOW ask dio__lstat.  On x86_64 and the other LP64 ABIs struct stat64 is
 * struct stat (checked below), so one conversion serves both.
 *
 * Threading: no state of its own. */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "directio.h"
#include "private.h"

_Static_assert (sizeof (struct stat) == sizeof (struct stat64),
                "struct stat64 differs from struct stat on this ABI");

/* Binaries built before glibc 2.33 (no header declares these now). */
extern int __xstat (int ver, const char *path, struct stat *st);
extern int __lxstat (int ver, const char *path, struct stat *st);
extern int __fxstat (int ver, int fd, struct stat *st);
extern int __fxstatat (int ver, int dirfd, const char *path,
                       struct stat *st, int flags);
extern int __xstat64 (int ver, const char *path, struct stat64 *st);
extern int __lxstat64 (int ver, const char *path, struct stat64 *st);
extern int __fxstat64 (int ver, int fd, struct stat64 *st);
extern int __fxstatat64 (int ver, int dirfd, const char *path,
                         struct stat64 *st, int flags);

/* The struct stat layout those calls were built for. */
#ifndef _STAT_VER
#define _STAT_VER 1             /* _STAT_VER_LINUX on x86_64 */
#endif

/* stat of an fd: 1 if handled (*r set), 0 if it is libc's. */
static int
fd_stat (int fd, struct stat *st, int *r)
{
  char path[PATH_MAX];
  bool is_dir;

  if (shim_is_engine_fd (fd)) {
    *r = ENGINE (dio_fstat (fd, st));
    return 1;
  }
  if (shim_pathfd_path (fd, path, &is_dir)) {
    *r = shim_stat_path (path, st);
    return 1;
  }
  return 0;
}

/* fstatat semantics: 1 if handled (*r set), 0 if libc's with (*dirfd,
 * *path) possibly rewritten to an absolute path in buf. */
static int
at_stat (int *dirfd, const char **path, int flags, struct stat *st,
         char *buf, int *r)
{
  if ((flags & AT_EMPTY_PATH) && *path != NULL && (*path)[0] == '\0')
    return *dirfd == AT_FDCWD ? 0 : fd_stat (*dirfd, st, r);
  switch (shim_where (*dirfd, *path, buf)) {
  case SHIM_ENGINE:
    *r = (flags & AT_SYMLINK_NOFOLLOW) ? ENGINE (dio__lstat (buf, st))
      : shim_stat_path (buf, st);
    return 1;
  case SHIM_LIBC_ABS:
    *dirfd = AT_FDCWD;
    *path = buf;
    return 0;
  case SHIM_LIBC:
    return 0;
  default:
    *r = -1;
    return 1;
  }
}

/* ---- POSIX names ------------------------------------------------------ */

#define WRAP_STAT(name, sttype, flags)                                  \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name (const char *path, sttype *st)                                   \
  {                                                                     \
    char buf[PATH_MAX];                                                 \
    int dirfd = AT_FDCWD, r;                                            \
                                                                        \
    if (SHIM_BYPASS ()                                                  \
        || !at_stat (&dirfd, &path, flags, (struct stat *) st, buf, &r)) \
      return REAL (name) (path, st);                                    \
    return r;                                                           \
  }

#define WRAP_FSTAT(name, sttype)                                        \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name (int fd, sttype *st)                                             \
  {                                                                     \
    int r;                                                              \
                                                                        \
    if (SHIM_BYPASS () || !fd_stat (fd, (struct stat *) st, &r))        \
      return REAL (name) (fd, st);                                      \
    return r;                                                           \
  }

#define WRAP_FSTATAT(name, sttype)                                      \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name (int dirfd, const char *path, sttype *st, int flags)             \
  {                                                                     \
    char buf[PATH_MAX];                                                 \
    int r;                                                              \
                                                                        \
    if (SHIM_BYPASS ()                                                  \
        || !at_stat (&dirfd, &path, flags, (struct stat *) st, buf, &r)) \
      return REAL (name) (dirfd, path, st, flags);                      \
    return r;                                                           \
  }

WRAP_STAT (stat, struct stat, 0)
WRAP_STAT (stat64, struct stat64, 0)
WRAP_STAT (lstat, struct stat, AT_SYMLINK_NOFOLLOW)
WRAP_STAT (lstat64, struct stat64, AT_SYMLINK_NOFOLLOW)
WRAP_FSTAT (fstat, struct stat)
WRAP_FSTAT (fstat64, struct stat64)
WRAP_FSTATAT (fstatat, struct stat)
WRAP_FSTATAT (fstatat64, struct stat64)

/* ---- glibc's versioned names ------------------------------------------ */

#define WRAP_XSTAT(name, sttype, flags)                                 \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name (int ver, const char *path, sttype *st)                          \
  {                                                                     \
    char buf[PATH_MAX];                                                 \
    int dirfd = AT_FDCWD, r;                                            \
                                                                        \
    if (SHIM_BYPASS () || ver != _STAT_VER                              \
        || !at_stat (&dirfd, &path, flags, (struct stat *) st, buf, &r)) \
      return REAL (name) (ver, path, st);                               \
    return r;                                                           \
  }

#define WRAP_FXSTAT(name, sttype)                                       \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name (int ver, int fd, sttype *st)                                    \
  {                                                                     \
    int r;                                                              \
                                                                        \
    if (SHIM_BYPASS () || ver != _STAT_VER                              \
        || !fd_stat (fd, (struct stat *) st, &r))                       \
      return REAL (name) (ver, fd, st);                                 \
    return r;                                                           \
  }

#define WRAP_FXSTATAT(name, sttype)                                     \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name (int ver, int dirfd, const char *path, sttype *st, int flags)    \
  {                                                                     \
    char buf[PATH_MAX];                                                 \
    int r;                                                              \
                                                                        \
    if (SHIM_BYPASS () || ver != _STAT_VER                              \
        || !at_stat (&dirfd, &path, flags, (struct stat *) st, buf, &r)) \
      return REAL (name) (ver, dirfd, path, st, flags);                 \
    return r;                                                           \
  }

WRAP_XSTAT (__xstat, struct stat, 0)
WRAP_XSTAT (__xstat64, struct stat64, 0)
WRAP_XSTAT (__lxstat, struct stat, AT_SYMLINK_NOFOLLOW)
WRAP_XSTAT (__lxstat64, struct stat64, AT_SYMLINK_NOFOLLOW)
WRAP_FXSTAT (__fxstat, struct stat)
WRAP_FXSTAT (__fxstat64, struct stat64)
WRAP_FXSTATAT (__fxstatat, struct stat)
WRAP_FXSTATAT (__fxstatat64, struct stat64)

/* ---- statx ------------------------------------------------------------ */

#if defined __GLIBC__ && __GLIBC_PREREQ (2, 28)
static void
to_statx (const struct stat *st, struct statx *sx)
{
  memset (sx, 0, sizeof *sx);
  sx->stx_mask = STATX_BASIC_STATS;
  sx->stx_blksize = st->st_blksize;
  sx->stx_nlink = st->st_nlink;
  sx->stx_uid = st->st_uid;
  sx->stx_gid = st->st_gid;
  sx->stx_mode = st->st_mode;
  sx->stx_ino = st->st_ino;
  sx->stx_size = st->st_size;
  sx->stx_blocks = st->st_blocks;
  sx->stx_atime.tv_sec = st->st_atim.tv_sec;
  sx->stx_atime.tv_nsec = st->st_atim.tv_nsec;
  sx->stx_mtime.tv_sec = st->st_mtim.tv_sec;
  sx->stx_mtime.tv_nsec = st->st_mtim.tv_nsec;
  sx->stx_ctime.tv_sec = st->st_ctim.tv_sec;
  sx->stx_ctime.tv_nsec = st->st_ctim.tv_nsec;
  sx->stx_rdev_major = major (st->st_rdev);
  sx->stx_rdev_minor = minor (st->st_rdev);
  sx->stx_dev_major = major (st->st_dev);
  sx->stx_dev_minor = minor (st->st_dev);
}

DEFINE_REAL (statx);
int
statx (int dirfd, const char *path, int flags, unsigned mask,
       struct statx *sx)
{
  char buf[PATH_MAX];
  struct stat st;
  int r;

  if (SHIM_BYPASS () || !at_stat (&dirfd, &path, flags, &st, buf, &r))
    return REAL (statx) (dirfd, path, flags, mask, sx);
  if (r == 0)
    to_statx (&st, sx);
  return r;
}
#endif
