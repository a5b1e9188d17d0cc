/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error reporting and NFS status mapping.
 *
 * Threading: the error state (context, reason, message) is thread-local;
 * nothing is shared. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>

#include "directio.h"
#include "errors.h"
#include "stats.h"

/* The thread's error state (libnbd's lib/errors.c): the context the
 * public entry point set (its name, a string literal, and the file once
 * known), and the reason the helper below it gave.  The message that
 * dio_last_error returns is composed from both when the error is set, so
 * a later call's context never changes an earlier failure's message. */
static __thread struct {
  const char *call;             /* "dio_pwrite", or NULL */
  char file[1024];              /* "nfs://h/e/f", or "" */
  char reason[512];
  char message[2048];           /* "call: file: reason" */
} e;

void
dio_error_context (const char *call, const char *file)
{
  e.call = call;
  dio_error_file (file);
}

void
dio_error_file (const char *file)
{
  /* On every call's path: a copy, no formatting.  A name too long loses
   * its end (a message is not a path). */
  size_t n = file ? strnlen (file, sizeof e.file - 1) : 0;

  memcpy (e.file, file ? file : "", n);
  e.file[n] = '\0';
}

static void
compose (void)
{
  int n = snprintf (e.message, sizeof e.message, "%s%s%s%s%s",
                    e.call ? e.call : "", e.call ? ": " : "",
                    e.file, e.file[0] ? ": " : "", e.reason);
  if (n < 0)
    e.message[0] = '\0';
}

static void
vset (int errnum, bool with_strerror, const char *fmt, va_list ap)
{
  int n = vsnprintf (e.reason, sizeof e.reason, fmt, ap);
  if (n < 0)
    e.reason[0] = '\0';
  else if (with_strerror && (size_t) n < sizeof e.reason)
    snprintf (e.reason + n, sizeof e.reason - n, "%s%s",
              n > 0 ? ": " : "", strerror (errnum));
  compose ();
}

int
dio_error (int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vset (errnum, true, fmt, ap);
  va_end (ap);
  errno = errnum;
  return -1;
}

int
dio_error_msg (int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vset (errnum, false, fmt, ap);
  va_end (ap);
  errno = errnum;
  return -1;
}

int
dio_error_before (const char *fmt, ...)
{
  char words[256], rest[sizeof e.reason];
  int saved = errno;
  va_list ap;

  va_start (ap, fmt);
  if (vsnprintf (words, sizeof words, fmt, ap) < 0)
    words[0] = '\0';
  va_end (ap);
  memcpy (rest, e.reason, sizeof rest);
  /* A reason too long loses its end: the words say where it was. */
  if (snprintf (e.reason, sizeof e.reason, "%s: %s", words, rest) < 0)
    e.reason[0] = '\0';
  compose ();
  errno = saved;
  return -1;
}

void
dio_error_clear (void)
{
  e.reason[0] = '\0';
  e.message[0] = '\0';
}

const char *
dio_error_reason (void)
{
  return e.reason;
}

const char *
dio_last_error (void)
{
  return e.message;
}

/* Every nfsstat3 and the errno the Linux NFSv3 client gives for it
 * (nfs_stat_to_errno in fs/nfs: the same errno where it is one a program
 * can see).  Linux returns kernel-internal codes (EBADHANDLE,
 * ENOTSYNC, EBADCOOKIE, ENOTSUPP, ETOOSMALL, EBADTYPE, EJUKEBOX: 521 and
 * up, "never to be seen by user programs") for the last few; those get
 * the user errno Linux's own paths turn them into or mean: a handle the
 * server rejects is a stale one, ENOTSUPP becomes EOPNOTSUPP, JUKEBOX is
 * retried and never returned (conn.c).  Anything else is EIO, as in
 * Linux.  The names are nfsstat3_to_str's, which libnfs's high-level
 * calls put in their messages (see dio_nfsstat_in_message). */
static const struct {
  int status;
  const char *name;
  int errnum;
} nfsstat_table[] = {
  { NFS3_OK,               "NFS3_OK",               0 },
  { NFS3ERR_PERM,          "NFS3ERR_PERM",          EPERM },
  { NFS3ERR_NOENT,         "NFS3ERR_NOENT",         ENOENT },
  { NFS3ERR_IO,            "NFS3ERR_IO",            EIO },
  { NFS3ERR_NXIO,          "NFS3ERR_NXIO",          ENXIO },
  { NFS3ERR_ACCES,         "NFS3ERR_ACCES",         EACCES },
  { NFS3ERR_EXIST,         "NFS3ERR_EXIST",         EEXIST },
  { NFS3ERR_XDEV,          "NFS3ERR_XDEV",          EXDEV },
  { NFS3ERR_NODEV,         "NFS3ERR_NODEV",         ENODEV },
  { NFS3ERR_NOTDIR,        "NFS3ERR_NOTDIR",        ENOTDIR },
  { NFS3ERR_ISDIR,         "NFS3ERR_ISDIR",         EISDIR },
  { NFS3ERR_INVAL,         "NFS3ERR_INVAL",         EINVAL },
  { NFS3ERR_FBIG,          "NFS3ERR_FBIG",          EFBIG },
  { NFS3ERR_NOSPC,         "NFS3ERR_NOSPC",         ENOSPC },
  { NFS3ERR_ROFS,          "NFS3ERR_ROFS",          EROFS },
  { NFS3ERR_MLINK,         "NFS3ERR_MLINK",         EMLINK },
  { NFS3ERR_NAMETOOLONG,   "NFS3ERR_NAMETOOLONG",   ENAMETOOLONG },
  { NFS3ERR_NOTEMPTY,      "NFS3ERR_NOTEMPTY",      ENOTEMPTY },
  { NFS3ERR_DQUOT,         "NFS3ERR_DQUOT",         EDQUOT },
  { NFS3ERR_STALE,         "NFS3ERR_STALE",         ESTALE },
  { NFS3ERR_REMOTE,        "NFS3ERR_REMOTE",        EREMOTE },
  { NFS3ERR_BADHANDLE,     "NFS3ERR_BADHANDLE",     ESTALE },
  { NFS3ERR_NOT_SYNC,      "NFS3ERR_NOT_SYNC",      EIO },
  { NFS3ERR_BAD_COOKIE,    "NFS3ERR_BAD_COOKIE",    EIO },
  { NFS3ERR_NOTSUPP,       "NFS3ERR_NOTSUPP",       EOPNOTSUPP },
  { NFS3ERR_TOOSMALL,      "NFS3ERR_TOOSMALL",      EIO },
  { NFS3ERR_SERVERFAULT,   "NFS3ERR_SERVERFAULT",   EREMOTEIO },
  { NFS3ERR_BADTYPE,       "NFS3ERR_BADTYPE",       EINVAL },
  { NFS3ERR_JUKEBOX,       "NFS3ERR_JUKEBOX",       EAGAIN },
};

#define NR_NFSSTAT (sizeof nfsstat_table / sizeof nfsstat_table[0])

int
dio_nfsstat_errno (int status)
{
  for (size_t i = 0; i < NR_NFSSTAT; i++)
    if (nfsstat_table[i].status == status)
      return nfsstat_table[i].errnum;
  return EIO;
}

const char *
dio_nfsstat_name (int status)
{
  for (size_t i = 0; i < NR_NFSSTAT; i++)
    if (nfsstat_table[i].status == status)
      return nfsstat_table[i].name;
  return NULL;
}

int
dio_nfsstat_in_message (const char *msg)
{
  const char *p = msg ? strstr (msg, "NFS3ERR_") : NULL;

  if (p == NULL)
    return -1;
  for (size_t i = 1; i < NR_NFSSTAT; i++) {
    size_t n = strlen (nfsstat_table[i].name);
    /* Whole names only: NFS3ERR_NOTSUPP is not NFS3ERR_NOT_SYNC. */
    if (strncmp (p, nfsstat_table[i].name, n) == 0
        && !(p[n] == '_' || (p[n] >= 'A' && p[n] <= 'Z')))
      return nfsstat_table[i].status;
  }
  return -1;
}

int
dio_libnfs_errno (int err, const char *msg)
{
  int status = dio_nfsstat_in_message (msg);

  if (status > 0)
    return dio_nfsstat_errno (status);
  return err;
}

int
dio_rpcstatus_errno (int rpc_status)
{
  switch (rpc_status) {
  case RPC_STATUS_SUCCESS: return 0;
  case RPC_STATUS_TIMEOUT: return ETIMEDOUT;
  case RPC_STATUS_CANCEL: return ECANCELED;
  default: return EIO;
  }
}

int
dio_rpc_result_errno (struct dio_mount_stats *stats, int rpc_status,
                      const void *data)
{
  int err;

  if (rpc_status != RPC_STATUS_SUCCESS) {
    err = dio_rpcstatus_errno (rpc_status);
    if (err == ETIMEDOUT)
      dio_count (stats->timeouts, 1);
  }
  else if (*(const int *) data != NFS3_OK)
    err = dio_nfsstat_errno (*(const int *) data);
  else
    return 0;
  dio_count (stats->errors, 1);
  return err;
}

void
dio_server_notice (const char *server, const char *export, bool ok)
{
  /* The one place the library prints, as Linux logs these two events: a
   * program waiting for a hard first mount must not hang silently. */
  fprintf (stderr, "libdirectio: nfs://%s%s: server %s\n", server, export,
           ok ? "OK" : "not responding, still trying");
}
