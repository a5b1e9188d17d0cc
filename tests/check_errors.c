/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The NFS status to errno table (errors.c): every nfsstat3 gives the
 * errno Linux's NFSv3 client gives, and the names libnfs's messages carry
 * lead to the same errno, not to libnfs's own (NFS3ERR_DQUOT is ERANGE
 * there, NFS3ERR_NOTSUPP EINVAL at open).  And the message's one shape:
 * the entry point's context, then the helper's reason. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>

#include "directio.h"
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

/* "call: file: reason", each part once; the context alone where the
 * file is not known; the reason alone for the few who rewrap it. */
START_TEST (test_context)
{
  char longname[2000];

  dio_error_context ("dio_pwrite", "nfs://h/e/f");
  ck_assert_int_eq (dio_error (EIO, "offset %d", 4096), -1);
  ck_assert_int_eq (errno, EIO);
  ck_assert_str_eq (dio_last_error (),
                    "dio_pwrite: nfs://h/e/f: offset 4096: "
                    "Input/output error");
  ck_assert_str_eq (dio_error_reason (), "offset 4096: Input/output error");

  /* A new call forgets the old context, not the old message. */
  dio_error_context ("dio_fsync", NULL);
  ck_assert_str_eq (dio_last_error (),
                    "dio_pwrite: nfs://h/e/f: offset 4096: "
                    "Input/output error");
  ck_assert_int_eq (dio_error_msg (EBADF, "fd %d: not open", 7), -1);
  ck_assert_str_eq (dio_last_error (), "dio_fsync: fd 7: not open");
  dio_error_file ("nfs://h/e/g");
  ck_assert_int_eq (dio_error_msg (EIO, "COMMIT failed"), -1);
  ck_assert_str_eq (dio_last_error (), "dio_fsync: nfs://h/e/g: COMMIT failed");

  /* A helper names its step before the reason below it; errno stays. */
  ck_assert_int_eq (dio_error_msg (ESTALE, "GETATTR: stale"), -1);
  errno = ESTALE;
  ck_assert_int_eq (dio_error_before ("SETATTR size=%d", 0), -1);
  ck_assert_int_eq (errno, ESTALE);
  ck_assert_str_eq (dio_last_error (),
                    "dio_fsync: nfs://h/e/g: SETATTR size=0: GETATTR: stale");

  /* A reason with no words is strerror alone. */
  ck_assert_int_eq (dio_error (ENOSPC, "%s", ""), -1);
  ck_assert_str_eq (dio_error_reason (), "No space left on device");

  /* No context: the reason alone. */
  dio_error_context (NULL, NULL);
  ck_assert_int_eq (dio_error_msg (EINVAL, "bad"), -1);
  ck_assert_str_eq (dio_last_error (), "bad");

  /* A name too long for the buffer loses its end, not the call. */
  memset (longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  dio_error_context ("dio_open", longname);
  ck_assert_int_eq (dio_error_msg (ENAMETOOLONG, "too long"), -1);
  ck_assert (strncmp (dio_last_error (), "dio_open: xxx", 13) == 0);
  ck_assert (strstr (dio_last_error (), ": too long") != NULL);

  dio_error_clear ();
  ck_assert_str_eq (dio_last_error (), "");
  ck_assert_str_eq (dio_error_reason (), "");
}
END_TEST

Suite *
suite_errors (void)
{
  Suite *s = suite_create ("errors");
  TCase *tc = tcase_create ("nfsstat");

  tcase_add_test (tc, test_every_status);
  tcase_add_test (tc, test_messages);
  tcase_add_test (tc, test_context);
  suite_add_tcase (s, tc);
  return s;
}
