/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iovec arithmetic (iov.h).  Pure memory handling: no threads, no I/O.
 *
 * Threading: none; the caller owns the iovec array and the buffers. */
#include "internal.h"

#include <string.h>

#include "iov.h"

/* Find the iov entry holding byte pos; *off is the offset inside it. */
static int
iov_seek (const struct iovec *iov, int iovcnt, uint64_t pos, size_t *off)
{
  int i;
  for (i = 0; i < iovcnt && pos >= iov[i].iov_len; i++)
    pos -= iov[i].iov_len;
  *off = pos;
  return i;
}

void
dio_iov_to_buf (const struct iovec *iov, int iovcnt, uint64_t pos,
                void *buf, size_t len)
{
  size_t off;
  char *p = buf;
  for (int i = iov_seek (iov, iovcnt, pos, &off); len > 0 && i < iovcnt;
       i++, off = 0) {
    size_t n = DIO_MIN (len, iov[i].iov_len - off);
    memcpy (p, (char *) iov[i].iov_base + off, n);
    p += n;
    len -= n;
  }
}

void
dio_buf_to_iov (const struct iovec *iov, int iovcnt, uint64_t pos,
                const void *buf, size_t len)
{
  size_t off;
  const char *p = buf;
  for (int i = iov_seek (iov, iovcnt, pos, &off); len > 0 && i < iovcnt;
       i++, off = 0) {
    size_t n = DIO_MIN (len, iov[i].iov_len - off);
    memcpy ((char *) iov[i].iov_base + off, p, n);
    p += n;
    len -= n;
  }
}

char *
dio_iov_contiguous (const struct iovec *iov, int iovcnt, uint64_t pos,
                    size_t len)
{
  size_t off;
  int i = iov_seek (iov, iovcnt, pos, &off);
  if (i < iovcnt && iov[i].iov_len - off >= len)
    return (char *) iov[i].iov_base + off;
  return NULL;
}
