/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libdirectio-preload.so: stdio on engine files.
 *
 * glibc's fopen opens with its internal open, and its FILE reads and
 * writes with internal read and write: the shim sees neither.  So fopen
 * of a managed path, and fdopen of an engine fd, build the FILE with
 * fopencookie over the dio_* calls.  The stream's _fileno is set to the
 * engine fd, so that fileno() works (sha256sum fadvises it; others fstat
 * it); glibc uses _fileno of a cookie stream only to tell it is open, and
 * does its I/O through the cookie functions.  fclose closes the fd.
 *
 * freopen onto a managed path is refused (EOPNOTSUPP): the FILE it must
 * reuse is glibc's own, which cannot be turned into a cookie stream.
 *
 * Threading: a cookie belongs to its FILE, which glibc locks. */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "directio.h"

/* ---- cookie functions ------------------------------------------------- */

static ssize_t
ck_read (void *cookie, char *buf, size_t n)
{
  return ENGINE (dio_read ((int) (intptr_t) cookie, buf, n));
}

/* Must write everything or report an error with a short count (0). */
static ssize_t
ck_write (void *cookie, const char *buf, size_t n)
{
  size_t done = 0;

  while (done < n) {
    ssize_t r = ENGINE (dio_write ((int) (intptr_t) cookie, buf + done,
                                   n - done));
    if (r <= 0)
      break;                    /* errno is the engine's; r == 0 is ENOSPC */
    done += r;
  }
  return done;
}

static int
ck_seek (void *cookie, off64_t *pos, int whence)
{
  off_t r = ENGINE (dio_lseek ((int) (intptr_t) cookie, *pos, whence));

  if (r == -1)
    return -1;
  *pos = r;
  return 0;
}

static int
ck_close (void *cookie)
{
  shim_stats_report ((int) (intptr_t) cookie, "close");
  shim_forget_fd ((int) (intptr_t) cookie);
  return ENGINE (dio_close ((int) (intptr_t) cookie));
}

static const cookie_io_functions_t engine_io = {
  .read = ck_read, .write = ck_write, .seek = ck_seek, .close = ck_close,
};

/* ---- modes ------------------------------------------------------------ */

/* fopen's mode string as open flags; -1 with EINVAL if it is not one.
 * cmode receives what fopencookie understands ("r", "w+", ...). */
static int
mode_flags (const char *mode, char cmode[4])
{
  int flags;
  size_t n = 0;

  switch (mode[0]) {
  case 'r': flags = O_RDONLY; break;
  case 'w': flags = O_WRONLY | O_CREAT | O_TRUNC; break;
  case 'a': flags = O_WRONLY | O_CREAT | O_APPEND; break;
  default: errno = EINVAL; return -1;
  }
  cmode[n++] = mode[0];
  for (const char *p = mode + 1; *p && *p != ','; p++) {
    switch (*p) {
    case '+':
      flags = (flags & ~O_ACCMODE) | O_RDWR;
      if (n < 2)
        cmode[n++] = '+';
      break;
    case 'x': flags |= O_EXCL; break;
    case 'e': flags |= O_CLOEXEC; break;
    default: break;             /* b, m, c: nothing to do here */
    }
  }
  cmode[n] = '\0';
  return flags;
}

/* A stream over engine fd; on failure the fd is left open. */
static FILE *
engine_stream (int fd, const char *cmode)
{
  FILE *fp = fopencookie ((void *) (intptr_t) fd, cmode, engine_io);

  if (fp != NULL)
    fp->_fileno = fd;
  return fp;
}

/* fopen of a managed path. */
static FILE *
engine_fopen (const char *abspath, const char *mode)
{
  char cmode[4];
  int flags = mode_flags (mode, cmode), fd, e;
  FILE *fp;

  if (flags == -1)
    return NULL;
  if (flags & O_APPEND) {
    shim_debug ("fopen %s \"%s\": no append mode: NFS has no atomic append",
                abspath, mode);
    errno = EINVAL;
    return NULL;
  }
  fd = shim_engine_open (abspath, flags, 0666);
  if (fd == -1)
    return NULL;
  fp = engine_stream (fd, cmode);
  if (fp == NULL) {
    e = errno;
    ENGINE (dio_close (fd));
    errno = e;
  }
  return fp;
}

/* ---- wrappers --------------------------------------------------------- */

#define WRAP_FOPEN(name)                                                \
  DEFINE_REAL (name);                                                   \
  FILE *                                                                \
  name (const char *path, const char *mode)                             \
  {                                                                     \
    char buf[PATH_MAX];                                                 \
                                                                        \
    if (SHIM_BYPASS () || mode == NULL)                                 \
      return REAL (name) (path, mode);                                  \
    switch (shim_where_path (path, buf)) {                              \
    case SHIM_ENGINE: return engine_fopen (buf, mode);                  \
    case SHIM_LIBC_ABS: return REAL (name) (buf, mode);                 \
    case SHIM_LIBC: return REAL (name) (path, mode);                    \
    default: return NULL;                                               \
    }                                                                   \
  }

WRAP_FOPEN (fopen)
WRAP_FOPEN (fopen64)

DEFINE_REAL (fdopen);
FILE *
fdopen (int fd, const char *mode)
{
  char cmode[4];

  if (SHIM_BYPASS () || mode == NULL || !shim_is_engine_fd (fd))
    return REAL (fdopen) (fd, mode);
  if (mode_flags (mode, cmode) == -1)
    return NULL;
  return engine_stream (fd, cmode);
}

#define WRAP_FREOPEN(name)                                              \
  DEFINE_REAL (name);                                                   \
  FILE *                                                                \
  name (const char *path, const char *mode, FILE *fp)                   \
  {                                                                     \
    char buf[PATH_MAX];                                                 \
    int w;                                                              \
                                                                        \
    if (SHIM_BYPASS ())                                                 \
      return REAL (name) (path, mode, fp);                              \
    w = path != NULL ? shim_where_path (path, buf) : SHIM_LIBC;         \
    if (w == SHIM_LIBC_ABS)                                             \
      path = buf;                                                       \
    if (w == SHIM_ENGINE                                                \
        || (path == NULL && shim_is_engine_fd (fileno (fp)))) {         \
      shim_debug ("freopen %s: not supported on engine files",         \
                  path ? buf : "(stream)");                             \
      fclose (fp);                                                      \
      errno = EOPNOTSUPP;                                               \
      return NULL;                                                      \
    }                                                                   \
    return REAL (name) (path, mode, fp);                                \
  }

WRAP_FREOPEN (freopen)
WRAP_FREOPEN (freopen64)
