/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio() on kernel descriptors: ENOTTY for what cannot do direct
 * I/O, EBADF, EINVAL, and O_DIRECT set per file across descriptors. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_directio.h"
#include "engine_helpers.h"

START_TEST (test_enotty)
{
  int p[2], sv[2], null, proc;

  ck_assert_int_eq (pipe (p), 0);
  assert_fails (directio (p[0], DIRECTIO_ON), ENOTTY, "not a regular file");
  {
    char name[32];                /* a kernel descriptor's "file" */
    snprintf (name, sizeof name, "fd %d", p[0]);
    test_assert_message ("directio", name, "not a regular file");
  }
  assert_fails (directio (p[1], DIRECTIO_OFF), ENOTTY, "not a regular file");
  ck_assert_int_eq (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_fails (directio (sv[0], DIRECTIO_ON), ENOTTY, "not a regular file");
  null = open ("/dev/null", O_RDWR);
  ck_assert_int_ge (null, 0);
  assert_fails (directio (null, DIRECTIO_ON), ENOTTY, "not a regular file");
  /* A regular file on a filesystem without O_DIRECT (procfs). */
  proc = open ("/proc/self/status", O_RDONLY);
  ck_assert_int_ge (proc, 0);
  assert_fails (directio (proc, DIRECTIO_ON), ENOTTY, "refuses O_DIRECT");
  close (proc);
  /* As on Solaris, the file's kind is checked before the advice. */
  assert_fails (directio (p[0], 7), ENOTTY, "not a regular file");
  close (p[0]);
  close (p[1]);
  close (sv[0]);
  close (sv[1]);
  close (null);
}
END_TEST

START_TEST (test_ebadf)
{
  int fd = open ("/dev/null", O_RDONLY), path;

  ck_assert_int_ge (fd, 0);
  close (fd);
  assert_fails (directio (fd, DIRECTIO_ON), EBADF, "not an open");
  assert_fails (directio (-1, DIRECTIO_ON), EBADF, "not an open");
  assert_fails (directio (-1, 99), EBADF, "not an open");
  path = open ("/", O_PATH);
  ck_assert_int_ge (path, 0);
  assert_fails (directio (path, DIRECTIO_ON), EBADF, "not an open");
  close (path);
}
END_TEST

/* A regular file in a directory whose filesystem takes O_DIRECT, if
 * there is one here; *odirect says whether it does. */
static int
open_local_file (char *name, size_t len, bool *odirect)
{
  const char *dirs[] = { getenv ("builddir"), getenv ("TMPDIR"), "/var/tmp",
                         "/tmp", "." };
  int fd = -1;

  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    int probe;
    if (dirs[i] == NULL)
      continue;
    snprintf (name, len, "%s/dio-kernel-XXXXXX", dirs[i]);
    fd = mkstemp (name);
    if (fd == -1)
      continue;
    probe = open (name, O_RDONLY | O_DIRECT);
    *odirect = probe >= 0;
    if (probe >= 0)
      close (probe);
    if (*odirect)
      return fd;
    if (i + 1 < sizeof dirs / sizeof dirs[0]) {
      unlink (name);
      close (fd);
    }
  }
  return fd;
}

START_TEST (test_einval)
{
  char name[4096];
  bool odirect;
  int fd = open_local_file (name, sizeof name, &odirect);

  ck_assert_int_ge (fd, 0);
  assert_fails (directio (fd, 2), EINVAL, "bad advice 2");
  assert_fails (directio (fd, -1), EINVAL, "bad advice -1");
  ck_assert_int_eq (fcntl (fd, F_GETFL) & O_DIRECT, 0);
  unlink (name);
  close (fd);
}
END_TEST

/* The advice is the file's: two opens of one file (two open file
 * descriptions) both change; another file does not.  On a filesystem
 * without O_DIRECT the answer is ENOTTY. */
START_TEST (test_per_file)
{
  char name[4096], other_name[4096 + 8];
  bool odirect;
  int a = open_local_file (name, sizeof name, &odirect), b, other;

  ck_assert_int_ge (a, 0);
  if (!odirect) {
    assert_fails (directio (a, DIRECTIO_ON), ENOTTY, "refuses O_DIRECT");
    unlink (name);
    close (a);
    return;
  }
  b = open (name, O_RDWR);
  snprintf (other_name, sizeof other_name, "%s.other", name);
  other = open (other_name, O_RDWR | O_CREAT, 0600);
  ck_assert_int_ge (b, 0);
  ck_assert_int_ge (other, 0);
  ck_assert_int_eq (write (b, "cached", 6), 6);

  ck_assert_int_eq (directio (a, DIRECTIO_ON), 0);
  ck_assert_int_ne (fcntl (a, F_GETFL) & O_DIRECT, 0);
  ck_assert_int_ne (fcntl (b, F_GETFL) & O_DIRECT, 0);
  ck_assert_int_eq (fcntl (other, F_GETFL) & O_DIRECT, 0);

  ck_assert_int_eq (directio (b, DIRECTIO_OFF), 0);
  ck_assert_int_eq (fcntl (a, F_GETFL) & O_DIRECT, 0);
  ck_assert_int_eq (fcntl (b, F_GETFL) & O_DIRECT, 0);

  unlink (name);
  unlink (other_name);
  close (a);
  close (b);
  close (other);
}
END_TEST

Suite *
suite_directio_kernel (void)
{
  Suite *s = suite_create ("directio-kernel");
  TCase *tc = tcase_create ("kernel");

  tcase_add_test (tc, test_enotty);
  tcase_add_test (tc, test_ebadf);
  tcase_add_test (tc, test_einval);
  tcase_add_test (tc, test_per_file);
  suite_add_tcase (s, tc);
  return s;
}
