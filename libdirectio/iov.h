/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iovec arithmetic: copies between an iovec array and a flat buffer.
 * Pure memory handling, shared by the direct requests (dreq.c) and the
 * page cache (cache*.c), which must not depend on each other. */
#ifndef DIO_IOV_H
#define DIO_IOV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Copy between an iovec array, starting pos bytes into it, and a flat
 * buffer. */
void dio_iov_to_buf (const struct iovec *iov, int iovcnt, uint64_t pos,
                     void *buf, size_t len);
void dio_buf_to_iov (const struct iovec *iov, int iovcnt, uint64_t pos,
                     const void *buf, size_t len);

/* A pointer to [pos, pos+len) if one iov entry holds it all, else NULL. */
char *dio_iov_contiguous (const struct iovec *iov, int iovcnt, uint64_t pos,
                          size_t len);

#endif /* DIO_IOV_H */
