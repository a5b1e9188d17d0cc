/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio(3C): Solaris's advice call.
 *
 * The advice belongs to the file, not the descriptor: the last caller
 * sets it for every descriptor of the file in the process.
 *
 * On an engine fd it switches the file's inode between the cache and the
 * engine (file.c: dio_inode_set_direct), writing back first.  On a kernel
 * fd it sets or clears O_DIRECT on every descriptor of the process open
 * on the same file (same st_dev and st_ino, found in /proc/self/fd),
 * after writing back and dropping the kernel's cached pages; a file whose
 * filesystem refuses O_DIRECT, and anything that is not a regular file or
 * block device, answers ENOTTY as on Solaris.
 *
 * Threading: no state of its own. */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "directio.h"
#include "errors.h"
#include "fdtable.h"
#include "file.h"

static int
bad_advice (int advice)
{
  return dio_error_msg (EINVAL, "bad advice %d (DIRECTIO_ON is %d, "
                        "DIRECTIO_OFF %d)", advice, DIRECTIO_ON, DIRECTIO_OFF);
}

/* ---- kernel descriptors ---------------------------------------------- */

static int
set_odirect (int fd, bool on)
{
  int fl = fcntl (fd, F_GETFL);

  if (fl == -1)
    return -1;
  if (fl & O_PATH)
    return 0;                   /* no I/O through it */
  if (!!(fl & O_DIRECT) == on)
    return 0;
  return fcntl (fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT);
}

/* The other descriptors of the file behind st.  Failures are ignored:
 * a descriptor may close meanwhile, and the file's own one succeeded. */
static void
set_odirect_siblings (int fd, const struct stat *st, bool on)
{
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *e;

  if (d == NULL)
    return;
  while ((e = readdir (d)) != NULL) {
    char *end;
    long other = strtol (e->d_name, &end, 10);
    struct stat ost;

    if (*end != '\0' || end == e->d_name || other == fd
        || other == dirfd (d) || dio_is_dio_fd (other))
      continue;
    if (fstat (other, &ost) == 0 && ost.st_dev == st->st_dev
        && ost.st_ino == st->st_ino && ost.st_mode == st->st_mode)
      set_odirect (other, on);
  }
  closedir (d);
}

/* The checks in Solaris's order (it is an ioctl): the descriptor, then
 * whether its file takes the advice, then the advice. */
static int
kernel_directio (int fd, int advice)
{
  bool on = advice == DIRECTIO_ON;
  struct stat st;
  int fl = fcntl (fd, F_GETFL);

  if (fl == -1 || (fl & O_PATH))
    return dio_error_msg (EBADF, "not an open file descriptor");
  if (fstat (fd, &st) == -1)
    return dio_error (errno, "fstat");
  if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode))
    return dio_error_msg (ENOTTY, "not a regular file or block device: "
                          "no direct I/O");
  if (!on && advice != DIRECTIO_OFF)
    return bad_advice (advice);
  if (on) {
    /* Write back and drop cached pages first, as Solaris does; a
     * filesystem that cannot sync has nothing to write back. */
    if (fdatasync (fd) == -1 && errno != EINVAL && errno != EROFS)
      return dio_error (errno, "write-back");
    posix_fadvise (fd, 0, 0, POSIX_FADV_DONTNEED);
  }
  if (set_odirect (fd, on) == -1) {
    if (errno == EINVAL)
      return dio_error_msg (ENOTTY, "the filesystem refuses O_DIRECT");
    return dio_error (errno, "O_DIRECT");
  }
  set_odirect_siblings (fd, &st, on);
  return 0;
}

/* ---- engine descriptors ---------------------------------------------- */

static int
engine_directio (struct dio_ofd *f, int advice)
{
  if (dio_inode_set_direct (f->ino, f, advice == DIRECTIO_ON) == -1)
    return dio_error (errno, "write-back of cached data");
  return 0;
}

int
directio (int fd, int advice)
{
  struct dio_ofd *f;
  char name[32];
  int r;

  dio_error_context ("directio", NULL);
  f = dio_fd_get (fd);
  if (f == NULL) {
    /* A kernel descriptor's file is named by its number. */
    snprintf (name, sizeof name, "fd %d", fd);
    dio_error_file (name);
    return kernel_directio (fd, advice);
  }
  dio_error_file (f->name);
  if (advice != DIRECTIO_ON && advice != DIRECTIO_OFF)
    r = bad_advice (advice);
  else
    r = engine_directio (f, advice);
  dio_ofd_put (f);
  return r;
}
