/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Write-back failures reported where Solaris and Linux report them: the
 * export is a 2 MiB tmpfs (test-directio-enospc.sh mounts it), so cached
 * writes of 3 MiB succeed and their write-back fails with ENOSPC. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_directio.h"
#include "engine_helpers.h"
#include "private.h"

#define MiB (1024 * 1024)

/* Remove a file through the server: ganesha keeps the files it served
 * open, so removing one behind its back frees no space. */
static void
remove_file (const char *name)
{
  char path[256];

  use_data_profile (NULL);
  snprintf (path, sizeof path, MNT "/%s", name);
  ck_assert_msg (dio__unlink (path) == 0 || errno == ENOENT, "%s",
                 dio_last_error ());
}

/* Open file and write 3 MiB to its cache. */
static int
open_and_fill (const char *name)
{
  char path[256];
  char *buf = malloc (3 * MiB);
  int fd;

  use_data_profile (NULL);
  snprintf (path, sizeof path, MNT "/%s", name);
  fd = dio_open (path, O_RDWR | O_CREAT, 0644);
  ck_assert_msg (fd >= 0, "%s", dio_last_error ());
  test_fill (buf, 3 * MiB, 0, 1);
  ck_assert_int_eq (dio_pwrite (fd, buf, 3 * MiB, 0), 3 * MiB);
  free (buf);
  return fd;
}

/* directio(ON) writes back first and returns its ENOSPC; the advice
 * stays off; asked again (the error now reported), it turns on. */
START_TEST (test_directio_on)
{
  int fd;
  char buf[4096];

  remove_file ("on.bin");
  fd = open_and_fill ("on.bin");
  assert_fails (directio (fd, DIRECTIO_ON), ENOSPC, "write-back");
  ck_assert_int_eq (dio_pread (fd, buf, sizeof buf, 0), sizeof buf);
  ck_assert_uint_eq (stats_of (fd).direct_read_bytes, 0);
  ck_assert_int_eq (directio (fd, DIRECTIO_ON), 0);
  ck_assert_int_eq (dio_pread (fd, buf, sizeof buf, 0), sizeof buf);
  ck_assert_uint_eq (stats_of (fd).direct_read_bytes, sizeof buf);
  ck_assert_int_eq (dio_close (fd), 0);
  remove_file ("on.bin");
}
END_TEST

/* fsync reports it once to each descriptor of the file. */
START_TEST (test_fsync)
{
  int other, fd;

  remove_file ("fsync.bin");
  other = dio_open (MNT "/fsync.bin", O_RDWR | O_CREAT, 0644);
  ck_assert_msg (other >= 0, "%s", dio_last_error ());
  fd = open_and_fill ("fsync.bin");
  assert_fails (dio_fsync (fd), ENOSPC, "write-back");
  test_assert_message ("dio_fsync", MNT "/fsync.bin", "write-back");
  ck_assert_int_eq (dio_fsync (fd), 0);
  assert_fails (dio_fsync (other), ENOSPC, "write-back");
  ck_assert_int_eq (dio_fsync (other), 0);
  ck_assert_int_eq (dio_close (fd), 0);
  ck_assert_int_eq (dio_close (other), 0);
  remove_file ("fsync.bin");
}
END_TEST

/* close writes back and reports; the descriptor is closed anyway. */
START_TEST (test_close)
{
  int fd;

  remove_file ("close.bin");
  fd = open_and_fill ("close.bin");
  assert_fails (dio_close (fd), ENOSPC, "write-back");
  test_assert_message ("dio_close", MNT "/close.bin", "write-back");
  ck_assert_int_eq (dio_is_dio_fd (fd), 0);
  remove_file ("close.bin");
}
END_TEST

Suite *
suite_directio_enospc (void)
{
  Suite *s = suite_create ("directio-enospc");
  TCase *tc = tcase_create ("enospc");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_directio_on);
  tcase_add_test (tc, test_fsync);
  tcase_add_test (tc, test_close);
  suite_add_tcase (s, tc);
  return s;
}
