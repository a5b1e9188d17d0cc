/* directio(3C): Solaris's advice call.
 *
 * On an engine fd it sets the file's direct flag (all descriptors of the
 * file see it).  On a kernel fd it sets or clears O_DIRECT. */
#include "internal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "directio.h"
#include "errors.h"
#include "fdtable.h"
#include "file.h"

static int
kernel_directio (int fd, int advice)
{
  struct stat st;
  int fl = fcntl (fd, F_GETFL);

  if (fl == -1)
    return dio_error (EBADF, "directio: fd %d", fd);
  if (fstat (fd, &st) == -1)
    return dio_error (errno, "directio: fd %d: fstat", fd);
  if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode))
    return dio_error_msg (ENOTTY, "directio: fd %d: not a regular file", fd);
  if (advice == DIRECTIO_ON) {
    /* Write back and drop cached pages first, as Solaris does. */
    if ((fl & O_ACCMODE) != O_RDONLY && fdatasync (fd) == -1)
      return dio_error (errno, "directio: fd %d: write-back", fd);
    posix_fadvise (fd, 0, 0, POSIX_FADV_DONTNEED);
    fl |= O_DIRECT;
  }
  else
    fl &= ~O_DIRECT;
  if (fcntl (fd, F_SETFL, fl) == -1)
    return dio_error (errno == EINVAL ? ENOTTY : errno,
                      "directio: fd %d: O_DIRECT", fd);
  return 0;
}

int
directio (int fd, int advice)
{
  struct dio_ofd *f;

  if (advice != DIRECTIO_ON && advice != DIRECTIO_OFF)
    return dio_error_msg (EINVAL, "directio: bad advice %d", advice);
  f = dio_fd_get (fd);
  if (f == NULL)
    return kernel_directio (fd, advice);
  __atomic_store_n (&f->ino->direct, advice == DIRECTIO_ON,
                    __ATOMIC_RELEASE);
  dio_ofd_put (f);
  return 0;
}
