/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Direct requests: one caller's read or write, split into rsize/wsize
 * chunks sent in parallel over the mount's connections, with the
 * UNSTABLE + COMMIT + verifier protocol for writes. */
#ifndef DIO_DREQ_H
#define DIO_DREQ_H

#include <sys/types.h>
#include <sys/uio.h>

#include "directio.h"
#include "internal.h"

struct dio_inode;

typedef void (*dio_dreq_done_fn) (void *opaque, ssize_t result, int err);

/* flags, beside the public DIO_WRITE_UNSTABLE (which api.c lets through
 * alone): a transfer of the page cache's, whose bytes are not direct
 * I/O, so not counted in direct_read_bytes/direct_write_bytes (its RPCs
 * still are). */
#define DIO_DREQ_CACHE 0x100
_Static_assert ((DIO_DREQ_CACHE & DIO_WRITE_UNSTABLE) == 0,
                "DIO_DREQ_CACHE is a public flag's bit");

/* Start a direct read (write = false) or write of the bytes described by
 * iov at offset.  flags: DIO_WRITE_UNSTABLE, DIO_DREQ_CACHE.  The iovec array is copied;
 * the buffers it points to must stay valid until fn runs (once, on an
 * engine thread, with the contiguous prefix transferred, or -1 and the
 * errno of the first failed chunk; at once, in the caller's thread, for
 * zero bytes).  Returns 0, or -1 with dio_error set
 * and fn not called. */
int dio_dreq_start (struct dio_inode *ino, bool write, int flags,
                    const struct iovec *iov, int iovcnt, uint64_t offset,
                    dio_dreq_done_fn fn, void *opaque);

/* The same, waiting for the result: sync = async + wait. */
ssize_t dio_dreq_run (struct dio_inode *ino, bool write, int flags,
                      const struct iovec *iov, int iovcnt, uint64_t offset);

#endif /* DIO_DREQ_H */
