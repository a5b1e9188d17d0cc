/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A block store as a Solaris program writes it: <directio.h>,
 * "#if defined(DIRECTIO_ON)" as InnoDB tests for the call, and the POSIX
 * file calls.  The port changes nothing but the names of those calls,
 * with the #defines below (or not even that, under `directio run`). */
#include <config.h>

#include <directio.h>
#include <fcntl.h>
#include <sys/types.h>

#include "solaris_port.h"

#define open dio_open
#define close dio_close
#define pread dio_pread
#define pwrite dio_pwrite
#define fsync dio_fsync

int
store_open (const char *path, int direct)
{
  int fd = open (path, O_RDWR | O_CREAT, 0644);

  if (fd == -1)
    return -1;
#if defined(DIRECTIO_ON)
  if (direct && directio (fd, DIRECTIO_ON) == -1) {
    close (fd);
    return -1;
  }
#endif
  return fd;
}

int
store_put_get (int fd, const char *blocks, char *back, size_t bsize,
               int nblocks)
{
  int i;

  for (i = 0; i < nblocks; i++)
    if (pwrite (fd, blocks + i * bsize, bsize, (off_t) i * bsize)
        != (ssize_t) bsize)
      return -1;
  if (fsync (fd) == -1)
    return -1;
  for (i = 0; i < nblocks; i++)
    if (pread (fd, back + i * bsize, bsize, (off_t) i * bsize)
        != (ssize_t) bsize)
      return -1;
  return 0;
}

int
store_close (int fd)
{
  return close (fd);
}
