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
  struct dio_ofd *f = dio_fd_get (oldfd);
  int fd;

  if (f == NULL)
    return dio_error_msg (EBADF, "dup: fd %d: not a libdirectio descriptor",
                          oldfd);
  fd = fcntl (oldfd, F_DUPFD_CLOEXEC, minfd < 0 ? 0 : minfd);
  if (fd == -1) {
    dio_ofd_put (f);
    return dio_error (errno, "dup: fd %d", oldfd);
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
  struct dio_ofd *f;

  if (oldfd == newfd)
    return dio_is_dio_fd (oldfd) ? newfd
      : dio_error_msg (EBADF, "dup2: fd %d: not open", oldfd);
  f = dio_fd_get (oldfd);
  if (f == NULL)
    return dio_error_msg (EBADF, "dup2: fd %d: not a libdirectio descriptor",
                          oldfd);
  /* newfd may be an engine fd itself: it is closed first, as dup2 does. */
  if (dio_is_dio_fd (newfd))
    dio_fd_remove (newfd);
  if (dup3 (oldfd, newfd, O_CLOEXEC) == -1) {
    dio_ofd_put (f);
    return dio_error (errno, "dup2: fd %d to %d", oldfd, newfd);
  }
  if (dio_fd_install_at (newfd, f) == -1) {
    dio_ofd_put (f);
    return -1;
  }
  return newfd;
}

int
dio__getfl (int fd)
{
  struct dio_ofd *f = dio_fd_get (fd);
  int fl;

  if (f == NULL)
    return dio_error_msg (EBADF, "fcntl: fd %d: not open", fd);
  fl = f->flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY);
  if (__atomic_load_n (&f->ino->direct, __ATOMIC_ACQUIRE))
    fl |= O_DIRECT;
  else
    fl &= ~O_DIRECT;
  dio_ofd_put (f);
  return fl;
}
