/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error reporting: errno plus a thread-local message (libnbd's errors.c
 * model), and the NFS status to errno map. */
#ifndef DIO_ERRORS_H
#define DIO_ERRORS_H

#include <stdarg.h>
#include <stdbool.h>

/* Set errno to errnum and the thread's message to the formatted text
 * followed by ": strerror(errnum)".  Always returns -1. */
int dio_error (int errnum, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

/* As dio_error, but the text is used as is (no strerror appended). */
int dio_error_msg (int errnum, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

/* Forget the thread's message (successful calls do not clear it; callers
 * read it only after a failure, as with errno). */
void dio_error_clear (void);

/* Put "prefix: " before the thread's message (the caller's context, e.g.
 * the call and the file name); errno is kept.  Returns -1. */
int dio_error_prefix (const char *fmt, ...)
  __attribute__ ((format (printf, 1, 2)));

/* Map an nfsstat3 value to the errno Linux's NFSv3 client gives (the
 * one table: errors.c); EIO for a value NFSv3 does not define. */
int dio_nfsstat_errno (int nfsstat3);

/* "NFS3ERR_NOENT" for NFS3ERR_NOENT; NULL for a value NFSv3 does not
 * define. */
const char *dio_nfsstat_name (int nfsstat3);

/* The nfsstat3 named in a libnfs high-level call's message ("NFS:
 * REMOVE of /x failed with NFS3ERR_NOENT(-2)"), or -1 if none is. */
int dio_nfsstat_in_message (const char *msg);

/* The errno for a libnfs high-level call's failure: from the NFS status
 * its message names when it names one (libnfs's own errno differs from
 * Linux's for some: NFS3ERR_DQUOT is ERANGE there), else err. */
int dio_libnfs_errno (int err, const char *msg);

/* Map a libnfs rpc_cb status (RPC_STATUS_*) to an errno. */
int dio_rpcstatus_errno (int rpc_status);

/* The errno of a raw NFSv3 RPC's outcome (status and the callback's
 * data, whose result starts with its nfsstat3): 0 for success, else the
 * failure, counted in stats (errors, and timeouts). */
struct dio_mount_stats;
int dio_rpc_result_errno (struct dio_mount_stats *stats, int rpc_status,
                          const void *data);

/* Say on stderr that the server of a first mount under hard does not
 * answer (ok false: "server not responding, still trying") or answers
 * again (ok true: "server OK").  The only output of the library. */
void dio_server_notice (const char *server, const char *export, bool ok);

#endif /* DIO_ERRORS_H */
