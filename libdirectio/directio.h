/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libdirectio: uncached ("direct") NFS I/O from user space.
 *
 * The one public header.  Solaris directio(3C) semantics, plus a POSIX-like
 * fd API over an uncached NFSv3 engine built on libnfs.  Every call returns
 * -1 (or NULL) with errno set on failure; dio_last_error() gives a
 * thread-local message naming the call, the target and the reason.
 */
#ifndef DIRECTIO_H
#define DIRECTIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Solaris <sys/fcntl.h> advice values for directio(). */
#define DIRECTIO_OFF 0
#define DIRECTIO_ON  1

/* Turn direct I/O on or off for the file behind fd (per file, not per
 * descriptor).  0, or -1 with EBADF, EINVAL, ENOTTY, or the error of the
 * write-back done before turning direct I/O on (ENOSPC, EDQUOT, EIO). */
extern int directio (int fd, int advice);

/* Open an nfs://server/export/path[?args] URL or a path under a profile's
 * mountpoint.  Flags: O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC,
 * O_DIRECT (direct from open), O_CLOEXEC (ignored); O_APPEND is EINVAL.
 * A mode_t follows when O_CREAT is given.  Returns a real, unique fd
 * number held by the library. */
extern int dio_open (const char *path, int flags, ...);

/* As dio_open, with mount options in the profile vocabulary
 * ("rsize=1048576,nconnect=4,soft,timeo=50") that override the URL's and
 * the profile's.  options may be NULL. */
extern int dio_open_options (const char *path, int flags, mode_t mode,
                             const char *options);

extern ssize_t dio_read (int fd, void *buf, size_t count);
extern ssize_t dio_write (int fd, const void *buf, size_t count);
extern ssize_t dio_pread (int fd, void *buf, size_t count, off_t offset);
extern ssize_t dio_pwrite (int fd, const void *buf, size_t count,
                           off_t offset);
extern ssize_t dio_readv (int fd, const struct iovec *iov, int iovcnt);
extern ssize_t dio_writev (int fd, const struct iovec *iov, int iovcnt);
extern ssize_t dio_preadv (int fd, const struct iovec *iov, int iovcnt,
                           off_t offset);
extern ssize_t dio_pwritev (int fd, const struct iovec *iov, int iovcnt,
                            off_t offset);
extern off_t dio_lseek (int fd, off_t offset, int whence);
extern int dio_fstat (int fd, struct stat *st);
extern int dio_fsync (int fd);
extern int dio_fdatasync (int fd);
extern int dio_ftruncate (int fd, off_t length);
extern int dio_close (int fd);

/* 1 if fd was returned by dio_open and is still open, else 0. */
extern int dio_is_dio_fd (int fd);

/* Flags for dio_pwrite2 and dio_aio_pwrite. */
#define DIO_WRITE_UNSTABLE 0x1 /* return once the server has the data in
                                  memory; dio_fsync() (or else dio_close())
                                  commits it and fails with EIO if the
                                  server restarted since. */

extern ssize_t dio_pwrite2 (int fd, const void *buf, size_t count,
                            off_t offset, int flags);

/* Asynchronous pread/pwrite.  fn runs once, on an engine thread, with the
 * result (bytes, or -1) and the errno; it must not call blocking dio_*
 * functions.  A zero-length request completes at once: fn runs in the
 * caller's thread before the call returns.  buf must stay valid until fn
 * runs.  Returns 0 when queued, or -1 with errno (and fn is not called). */
typedef void (*dio_complete_fn) (void *opaque, ssize_t result, int error);
extern int dio_aio_pread (int fd, void *buf, size_t count, off_t offset,
                          dio_complete_fn fn, void *opaque);
extern int dio_aio_pwrite (int fd, const void *buf, size_t count,
                           off_t offset, int flags,
                           dio_complete_fn fn, void *opaque);

/* Per-mount counters, like /proc/self/mountstats. */
struct dio_stats {
  uint64_t direct_read_bytes;   /* bytes returned by direct reads */
  uint64_t direct_write_bytes;  /* bytes acknowledged by direct writes */
  uint64_t read_rpcs;           /* READ calls sent */
  uint64_t write_rpcs;          /* WRITE calls sent (resends included) */
  uint64_t commit_rpcs;         /* COMMIT calls sent */
  uint64_t other_rpcs;          /* GETATTR, SETATTR, LOOKUP, ... */
  uint64_t resends;             /* writes resent FILE_SYNC after a verifier
                                   mismatch or a failed COMMIT */
  uint64_t verifier_mismatches; /* write verifier changes seen */
  uint64_t reconnects;          /* TCP connections re-established */
  uint64_t timeouts;            /* RPCs failed by a soft timeout */
  uint64_t errors;              /* RPCs that failed (any reason) */
  uint64_t cache_read_bytes;    /* bytes served from the buffered cache */
  uint64_t cache_write_bytes;   /* bytes written into the buffered cache */
  uint32_t rsize, wsize;        /* negotiated transfer sizes */
  uint32_t nconnect;            /* connections in the pool */
  uint32_t window;              /* RPCs in flight per connection */
  uint64_t commit_joins;        /* write requests made durable by a COMMIT
                                   (concurrent ones share a COMMIT) */
  uint64_t jukebox_delays;      /* RPCs sent again later because the
                                   server said NFS3ERR_JUKEBOX */
  uint64_t caller_sends;        /* RPCs sent by the calling thread itself
                                   (its connection idle), not handed to
                                   the connection's service thread */
  uint64_t wakeups;             /* times a caller woke a sleeping service
                                   thread (two context switches each) */
  uint64_t lock_waits;          /* times a service thread, woken by a
                                   reply, waited for a caller that was
                                   sending on the same connection */
  uint64_t reserved[7];
};

/* Counters of the mount behind fd. */
extern int dio_stats (int fd, struct dio_stats *st);

/* Thread-local message for the last failed call in this thread, or "". */
extern const char *dio_last_error (void);

#ifdef __cplusplus
}
#endif

#endif /* DIRECTIO_H */
