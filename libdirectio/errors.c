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

int
dio_nfsstat_errno (int status)
{
  switch (status) {
  case NFS3_OK: return 0;
  case NFS3ERR_PERM: return EPERM;
  case NFS3ERR_NOENT: return ENOENT;
  case NFS3ERR_IO: return EIO;
  case NFS3ERR_NXIO: return ENXIO;
  case NFS3ERR_ACCES: return EACCES;
  case NFS3ERR_EXIST: return EEXIST;
  case NFS3ERR_XDEV: return EXDEV;
  case NFS3ERR_NODEV: return ENODEV;
  case NFS3ERR_NOTDIR: return ENOTDIR;
  case NFS3ERR_ISDIR: return EISDIR;
  case NFS3ERR_INVAL: return EINVAL;
  case NFS3ERR_FBIG: return EFBIG;
  case NFS3ERR_NOSPC: return ENOSPC;
  case NFS3ERR_ROFS: return EROFS;
  case NFS3ERR_MLINK: return EMLINK;
  case NFS3ERR_NAMETOOLONG: return ENAMETOOLONG;
  case NFS3ERR_NOTEMPTY: return ENOTEMPTY;
  case NFS3ERR_DQUOT: return EDQUOT;
  case NFS3ERR_STALE: return ESTALE;
  case NFS3ERR_REMOTE: return EREMOTE;
  case NFS3ERR_BADHANDLE: return ESTALE;
  case NFS3ERR_NOT_SYNC: return EIO;
  case NFS3ERR_BAD_COOKIE: return EIO;
  case NFS3ERR_NOTSUPP: return EOPNOTSUPP;
  case NFS3ERR_TOOSMALL: return EIO;
  case NFS3ERR_SERVERFAULT: return EIO;
  case NFS3ERR_BADTYPE: return EINVAL;
  case NFS3ERR_JUKEBOX: return EAGAIN;
  default: return EIO;
  }
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
