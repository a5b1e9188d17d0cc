/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error reporting: errno plus a thread-local message (libnbd's errors.c
 * model), and the NFS status to errno map. */
#ifndef DIO_ERRORS_H
#define DIO_ERRORS_H

#include <stdarg.h>
#include <stdbool.h>

/* One rule for context (libnbd's): the public entry point names the
 * call and, once known, the file; the helpers below it give the reason
 * only.  dio_last_error () is then "call: file: reason", each once:
 *
 *   dio_pwrite: nfs://h/e/f: offset 4096: Input/output error
 *
 * Every public entry point (and each private dio__* one that can fail)
 * calls dio_error_context first, which also forgets the previous call's
 * context; a helper never takes the call's name as a parameter, nor
 * writes a call's or the file's name into its reason. */

/* Set the thread's context: call is the entry point's name (a string
 * literal, kept as a pointer), file the path or URL it works on, or NULL
 * when not known yet (the text is copied).  Messages set before are
 * kept. */
void dio_error_context (const char *call, const char *file);

/* Set the file once it is known (after a descriptor's lookup). */
void dio_error_file (const char *file);

/* Set errno to errnum and the thread's reason to the formatted text
 * followed by ": strerror(errnum)" (strerror alone if the text is "");
 * the message is the context plus the reason.  Always returns -1. */
int dio_error (int errnum, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

/* As dio_error, but the text is used as is (no strerror appended). */
int dio_error_msg (int errnum, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

/* Put "words: " before the thread's reason, for a helper that says which
 * of its steps failed (the context is unchanged); errno is kept.  Returns
 * -1. */
int dio_error_before (const char *fmt, ...)
  __attribute__ ((format (printf, 1, 2)));

/* The last failure's reason alone, without the context: for a helper
 * that keeps a failure to report it again later (a mount another thread
 * is waiting for), and for the unit tests. */
const char *dio_error_reason (void);

/* libnfs's error text (nfs_get_error, rpc_get_error, a callback's data
 * on failure), or "" where libnfs gives NULL. */
static inline const char *
dio_text (const void *libnfs_text)
{
  return libnfs_text ? (const char *) libnfs_text : "";
}

/* Forget the thread's message (successful calls do not clear it; callers
 * read it only after a failure, as with errno). */
void dio_error_clear (void);

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
