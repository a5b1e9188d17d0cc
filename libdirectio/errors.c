/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error reporting and NFS status mapping.
 *
 * Threading: the message buffer is thread-local; nothing is shared. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>

#include "directio.h"
#include "errors.h"
#include "stats.h"

static __thread char last_error[512];

static void
vset (int errnum, bool with_strerror, const char *fmt, va_list ap)
{
  int n = vsnprintf (last_error, sizeof last_error, fmt, ap);
  if (n >= 0 && with_strerror && (size_t) n < sizeof last_error)
    snprintf (last_error + n, sizeof last_error - n, ": %s",
              strerror (errnum));
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
dio_error_prefix (const char *fmt, ...)
{
  char prefix[256], rest[sizeof last_error];
  int saved = errno;
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (prefix, sizeof prefix, fmt, ap);
  va_end (ap);
  snprintf (rest, sizeof rest, "%s", last_error);
  /* A message too long loses its end: the prefix says where it was. */
  if (snprintf (last_error, sizeof last_error, "%s: %s", prefix, rest) < 0)
    last_error[0] = '\0';
  errno = saved;
  return -1;
}

void
dio_error_clear (void)
{
  last_error[0] = '\0';
}

const char *
dio_last_error (void)
{
  return last_error;
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
