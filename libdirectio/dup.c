/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dup() and friends for engine descriptors, for the LD_PRELOAD shim.
 * A duplicate shares the open file description (offset, flags), as the
 * kernel's does; its number is a kernel dup of the O_PATH placeholder. */
#include "internal.h"

#include <fcntl.h>
#include <unistd.h>

#include "errors.h"
#include "fdtable.h"
#include "file.h"
#include "private.h"

int
dio__dup (int oldfd, int minfd)
{
  struct dio_ofd *f;
  int fd;

  dio_error_context ("dup", NULL);
  f = dio_fd_get (oldfd);
  if (f == NULL)
    return dio_error_msg (EBADF, "fd %d: not a libdirectio descriptor",
                          oldfd);
  dio_error_file (f->name);
  fd = fcntl (oldfd, F_DUPFD_CLOEXEC, minfd < 0 ? 0 : minfd);
  if (fd == -1) {
    dio_ofd_put (f);
    return dio_error (errno, "fd %d", oldfd);
  }
  if (dio_fd_install_at (fd, f) == -1) {
    dio_ofd_put (f);
    return -1;
  }
  return fd;                    /* the table keeps our reference */
}

int
dio__dup2 (int oldfd, int newfd)
{
  dio_error_context ("dup2", NULL);
  if (oldfd == newfd)
    return dio_is_dio_fd (oldfd) ? newfd
      : dio_error_msg (EBADF, "fd %d: not open", oldfd);
  /* One step under the table's lock: newfd (an engine fd or not) is
   * replaced as dup2 replaces it, and no other thread's open can take the
   * number in between. */
  return dio_fd_dup2 (oldfd, newfd);
}

int
dio__getfl (int fd)
{
  struct dio_ofd *f;
  int fl;

  dio_error_context ("fcntl", NULL);
  f = dio_fd_get (fd);
  if (f == NULL)
    return dio_error_msg (EBADF, "fd %d: not open", fd);
  fl = f->flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY);
  if (__atomic_load_n (&f->ino->direct, __ATOMIC_ACQUIRE))
    fl |= O_DIRECT;
  else
    fl &= ~O_DIRECT;
  dio_ofd_put (f);
  return fl;
}
