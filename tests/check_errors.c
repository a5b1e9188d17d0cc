/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The NFS status to errno table (errors.c): every nfsstat3 gives the
 * errno Linux's NFSv3 client gives, and the names libnfs's messages carry
 * lead to the same errno, not to libnfs's own (NFS3ERR_DQUOT is ERANGE
 * there, NFS3ERR_NOTSUPP EINVAL at open). */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>

#include "errors.h"

/* What Linux gives (fs/nfs: nfs_stat_to_errno), with its kernel-internal
 * codes replaced by their user-visible meaning. */
static const struct {
  int status, errnum;
} linux_errnos[] = {
  { NFS3_OK, 0 }, { NFS3ERR_PERM, EPERM }, { NFS3ERR_NOENT, ENOENT },
  { NFS3ERR_IO, EIO }, { NFS3ERR_NXIO, ENXIO }, { NFS3ERR_ACCES, EACCES },
  { NFS3ERR_EXIST, EEXIST }, { NFS3ERR_XDEV, EXDEV },
  { NFS3ERR_NODEV, ENODEV }, { NFS3ERR_NOTDIR, ENOTDIR },
  { NFS3ERR_ISDIR, EISDIR }, { NFS3ERR_INVAL, EINVAL },
  { NFS3ERR_FBIG, EFBIG }, { NFS3ERR_NOSPC, ENOSPC },
  { NFS3ERR_ROFS, EROFS }, { NFS3ERR_MLINK, EMLINK },
  { NFS3ERR_NAMETOOLONG, ENAMETOOLONG }, { NFS3ERR_NOTEMPTY, ENOTEMPTY },
  { NFS3ERR_DQUOT, EDQUOT }, { NFS3ERR_STALE, ESTALE },
  { NFS3ERR_REMOTE, EREMOTE }, { NFS3ERR_BADHANDLE, ESTALE },
  { NFS3ERR_NOT_SYNC, EIO }, { NFS3ERR_BAD_COOKIE, EIO },
  { NFS3ERR_NOTSUPP, EOPNOTSUPP }, { NFS3ERR_TOOSMALL, EIO },
  { NFS3ERR_SERVERFAULT, EREMOTEIO }, { NFS3ERR_BADTYPE, EINVAL },
  { NFS3ERR_JUKEBOX, EAGAIN },
};

#define N (sizeof linux_errnos / sizeof linux_errnos[0])

START_TEST (test_every_status)
{
  for (size_t i = 0; i < N; i++)
    ck_assert_msg (dio_nfsstat_errno (linux_errnos[i].status)
                   == linux_errnos[i].errnum, "nfsstat3 %d: errno %d, "
                   "not %d", linux_errnos[i].status,
                   dio_nfsstat_errno (linux_errnos[i].status),
                   linux_errnos[i].errnum);
  /* Values NFSv3 does not define are EIO, as in Linux. */
  ck_assert_int_eq (dio_nfsstat_errno (12345), EIO);
  ck_assert_int_eq (dio_nfsstat_errno (-1), EIO);
  ck_assert_ptr_null (dio_nfsstat_name (12345));
}
END_TEST

/* libnfs's message for a failed high-level call names the status with
 * nfsstat3_to_str; that name leads back to the same errno. */
START_TEST (test_messages)
{
  char msg[200];

  for (size_t i = 1; i < N; i++) {
    int st = linux_errnos[i].status;
    ck_assert_ptr_nonnull (dio_nfsstat_name (st));
    ck_assert_str_eq (dio_nfsstat_name (st), nfsstat3_to_str (st));
    snprintf (msg, sizeof msg, "NFS: CREATE of /d/f failed with %s(%d)",
              nfsstat3_to_str (st), nfsstat3_to_errno (st));
    ck_assert_int_eq (dio_nfsstat_in_message (msg), st);
    ck_assert_int_eq (dio_libnfs_errno (-nfsstat3_to_errno (st), msg),
                      linux_errnos[i].errnum);
  }
  /* Where libnfs and Linux differ. */
  ck_assert_int_eq (dio_libnfs_errno (ERANGE, "NFS: WRITE failed with "
                                      "NFS3ERR_DQUOT(-34)"), EDQUOT);
  /* Messages without a status keep libnfs's errno. */
  ck_assert_int_eq (dio_nfsstat_in_message ("RPC ERROR: Failed to "
                                            "reconnect async"), -1);
  ck_assert_int_eq (dio_libnfs_errno (EFAULT, "RPC ERROR: Failed to "
                                      "reconnect async"), EFAULT);
  ck_assert_int_eq (dio_nfsstat_in_message (NULL), -1);
  ck_assert_int_eq (dio_nfsstat_in_message ("NFS3ERR_BOGUS(-1)"), -1);
}
END_TEST

Suite *
suite_errors (void)
{
  Suite *s = suite_create ("errors");
  TCase *tc = tcase_create ("nfsstat");

  tcase_add_test (tc, test_every_status);
  tcase_add_test (tc, test_messages);
  suite_add_tcase (s, tc);
  return s;
}
