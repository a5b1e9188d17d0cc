/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Mount profiles in dio_open and the namespace calls: bad files named by
 * file, line and word; paths covered or not; options applied; and
 * stat/mkdir/rename/unlink/rmdir/access/opendir under a mountpoint. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_directio.h"
#include "engine_helpers.h"
#include "private.h"

/* Every kind of bad profile file: dio_open of a profile path fails with
 * EINVAL and "dio_open: PATH: FILE:LINE: WORD: reason". */
static const struct {
  const char *text;
  const char *where;            /* "LINE: WORD: reason" */
} bad[] = {
  { "[a]\nurl = @URL@\nmountpoint = /x\nthis is not a key value\n",
    "4: this is not a key value: expected key = value" },
  { "[a]\nurl = @URL@\nmountpoint = /x\ncolour = red\n",
    "4: colour: unknown key" },
  { "[a]\nurl = @URL@\nmountpoint = /x\noptions = hard,frobnicate\n",
    "4: frobnicate: unknown option" },
  { "[a]\nurl = @URL@\nmountpoint = /x\noptions = rsize=lots\n",
    "4: rsize=lots: not a number" },
  { "[a]\nurl = @URL@\nmountpoint = /x\noptions = nconnect=99\n",
    "4: nconnect=99: out of range" },
  { "[a]\nurl = @URL@\nmountpoint = /x\n[a]\nurl = @URL@\nmountpoint = /y\n",
    "4: [a]: duplicate section (first at line 1)" },
  { "[a]\nurl = @URL@\nmountpoint = /x\n[b]\nurl = @URL@\n"
    "mountpoint = /x/y\n",
    "4: [b]: mountpoint /x/y overlaps /x of [a] (line 1)" },
  { "[a]\nurl = http://h/e\nmountpoint = /x\n",
    "2: http://h/e: url does not start with nfs://" },
};

START_TEST (test_bad_file)
{
  const char *file;
  char want[1024];

  ck_assert_int_eq (use_profiles (bad[_i].text, &file), -1);
  ck_assert_int_eq (errno, EINVAL);
  snprintf (want, sizeof want, "dio_open: /x/f: %s:%s", file, bad[_i].where);
  assert_fails (dio_open ("/x/f", O_RDONLY), EINVAL, want);
  /* Paths under no mountpoint cannot be told apart: the shim asks. */
  ck_assert_int_eq (dio__path_is_managed ("/elsewhere"), -1);
  ck_assert_ptr_nonnull (strstr (dio_last_error (), file));
  /* URLs do not need the profiles. */
  ck_assert_int_eq (dio__path_is_managed ("nfs://h/e/f"), 0);
}
END_TEST

/* DIRECTIO_PROFILES naming a missing file is an error naming it; the
 * default file missing is no profiles at all. */
START_TEST (test_missing_file)
{
  setenv ("DIRECTIO_PROFILES", "/nonexistent/dio/profiles.conf", 1);
  ck_assert_int_eq (dio__profiles_reload (), -1);
  assert_fails (dio_open ("/x/f", O_RDONLY), ENOENT,
                "/nonexistent/dio/profiles.conf");
  unsetenv ("DIRECTIO_PROFILES");
  if (access (SYSCONFDIR "/directio/profiles.conf", F_OK) == 0)
    return;                     /* installed here: nothing to assert */
  ck_assert_int_eq (dio__profiles_reload (), 0);
  ck_assert_int_eq (dio__have_profiles (), 0);
  ck_assert_int_eq (dio__path_is_managed ("/x/f"), 0);
  assert_fails (dio_open ("/x/f", O_RDONLY), ENOENT, "no profile covers it");
}
END_TEST

/* Covered or not, component by component; relative paths and ".." are
 * taken from the working directory, lexically. */
START_TEST (test_coverage)
{
  int fd;

  use_data_profile (NULL);
  ck_assert_int_eq (dio__have_profiles (), 1);
  ck_assert_int_eq (dio__path_is_managed (MNT), 1);
  ck_assert_int_eq (dio__path_is_managed (MNT "/a/b"), 1);
  ck_assert_int_eq (dio__path_is_managed (MNT "2/a"), 0);
  ck_assert_int_eq (dio__path_is_managed ("/dio-test"), 0);
  ck_assert_int_eq (dio__path_is_managed (MNT "/../data/x"), 1);
  ck_assert_int_eq (dio__path_is_managed (MNT "/../x"), 0);
  assert_fails (dio_open (MNT "2/f", O_RDONLY), ENOENT,
                "no profile covers it");
  assert_fails (dio_open ("/dio-test/f", O_RDONLY), ENOENT,
                "no profile covers it");

  ck_assert_int_eq (chdir ("/"), 0);
  ck_assert_int_eq (dio__path_is_managed ("dio-test/data/x"), 1);
  fd = dio_open ("dio-test/./data/../data//rel.bin", O_RDWR | O_CREAT, 0644);
  ck_assert_msg (fd >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_write (fd, "relative", 8), 8);
  ck_assert_int_eq (dio_close (fd), 0);
  ck_assert_int_eq (local_size ("rel.bin"), 8);
}
END_TEST

/* Two mountpoints, one a prefix of the other's name: each path goes to
 * its own profile (and its own place on the server), and the profile's
 * options apply. */
START_TEST (test_profiles_apply)
{
  struct dio_stats st;
  int a, b;

  ck_assert_int_eq (mkdir (test_local ("sub"), 0755), 0);
  ck_assert_msg (use_profiles ("[a]\nurl = @URL@\nmountpoint = /m/a\n"
                               "[b]\nurl = @URL@\nmountpoint = /m/a2\n"
                               "options = rsize=64K,nconnect=3\n", NULL) == 0,
                 "%s", dio_last_error ());
  a = dio_open ("/m/a/sub/one", O_RDWR | O_CREAT, 0644);
  b = dio_open ("/m/a2/sub/two", O_RDWR | O_CREAT, 0644);
  ck_assert_msg (a >= 0 && b >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (local_size ("sub/one"), 0);
  ck_assert_int_eq (local_size ("sub/two"), 0);
  st = stats_of (b);
  ck_assert_uint_eq (st.rsize, 64 * 1024);
  ck_assert_uint_eq (st.nconnect, 3);
  ck_assert_uint_ne (stats_of (a).rsize, 64 * 1024);
  ck_assert_int_eq (dio_close (a), 0);
  ck_assert_int_eq (dio_close (b), 0);
}
END_TEST

/* The namespace calls the shim uses, checked against the server's
 * directory. */
START_TEST (test_namespace)
{
  struct stat st;
  struct dirent *e;
  DIR *d;
  int fd, seen = 0;

  use_data_profile (NULL);
  ck_assert_msg (dio__stat (MNT, &st) == 0, "%s", dio_last_error ());
  ck_assert (S_ISDIR (st.st_mode));
  ck_assert_msg (dio__mkdir (MNT "/d1", 0750) == 0, "%s", dio_last_error ());
  ck_assert_int_eq (stat (test_local ("d1"), &st), 0);
  ck_assert (S_ISDIR (st.st_mode));
  assert_fails (dio__mkdir (MNT "/d1", 0750), EEXIST, MNT "/d1");

  fd = dio_open (MNT "/d1/f", O_RDWR | O_CREAT, 0644);
  ck_assert_msg (fd >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_write (fd, "0123456789", 10), 10);
  ck_assert_int_eq (dio_close (fd), 0);
  ck_assert_int_eq (dio__stat (MNT "/d1/f", &st), 0);
  ck_assert (S_ISREG (st.st_mode));
  ck_assert_int_eq (st.st_size, 10);
  ck_assert_int_eq (dio__lstat (MNT "/d1/f", &st), 0);
  ck_assert_int_eq (dio__access (MNT "/d1/f", R_OK | W_OK), 0);
  ck_assert_int_eq (dio__access (MNT "/d1/f", F_OK), 0);
  assert_fails (dio__access (MNT "/d1/nope", F_OK), ENOENT, "nope");
  assert_fails (dio__stat (MNT "/d1/nope", &st), ENOENT, MNT "/d1/nope");

  d = dio__opendir (MNT "/d1");
  ck_assert_msg (d != NULL, "%s", dio_last_error ());
  ck_assert (dio__is_dir (d));
  while ((e = dio__readdir (d)) != NULL)
    if (strcmp (e->d_name, "f") == 0) {
      ck_assert_int_eq (e->d_type, DT_REG);
      seen++;
    }
  ck_assert_int_eq (seen, 1);
  ck_assert_int_eq (dio__closedir (d), 0);
  ck_assert (!dio__is_dir (d));

  ck_assert_int_eq (dio__rename (MNT "/d1/f", MNT "/d1/g"), 0);
  ck_assert_int_eq (local_size ("d1/g"), 10);
  ck_assert_int_eq (local_size ("d1/f"), -1);
  ck_assert_int_eq (dio__truncate (MNT "/d1/g", 4), 0);
  ck_assert_int_eq (local_size ("d1/g"), 4);
  assert_fails (dio__rmdir (MNT "/d1"), ENOTEMPTY, MNT "/d1");
  ck_assert_int_eq (dio__unlink (MNT "/d1/g"), 0);
  ck_assert_int_eq (local_size ("d1/g"), -1);
  ck_assert_int_eq (dio__rmdir (MNT "/d1"), 0);
  ck_assert_int_ne (stat (test_local ("d1"), &st), 0);
  assert_fails (dio__opendir (MNT "/d1") == NULL ? -1 : 0, ENOENT,
                MNT "/d1");
}
END_TEST

/* DIRECTIO_PROFILE (directio run -p) keeps one profile of the file. */
START_TEST (test_one_profile)
{
  static const char text[] = "[a]\nurl = @URL@\nmountpoint = /m/a\n"
    "[b]\nurl = @URL@\nmountpoint = /m/b\n";
  const char *file;
  char want[512];

  setenv ("DIRECTIO_PROFILE", "b", 1);
  ck_assert_msg (use_profiles (text, NULL) == 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio__path_is_managed ("/m/a/x"), 0);
  ck_assert_int_eq (dio__path_is_managed ("/m/b/x"), 1);
  assert_fails (dio_open ("/m/a/x", O_RDONLY), ENOENT, "no profile covers");
  setenv ("DIRECTIO_PROFILE", "c", 1);
  ck_assert_int_eq (use_profiles (text, &file), -1);
  snprintf (want, sizeof want, "%s: DIRECTIO_PROFILE=c: no such profile",
            file);
  assert_fails (dio_open ("/m/b/x", O_RDONLY), ENOENT, want);
  unsetenv ("DIRECTIO_PROFILE");
  ck_assert_int_eq (dio__profiles_reload (), 0);
  ck_assert_int_eq (dio__path_is_managed ("/m/a/x"), 1);
}
END_TEST

/* A rename between two mounts is EXDEV, as between filesystems. */
START_TEST (test_rename_exdev)
{
  int fd;

  ck_assert_msg (use_profiles ("[a]\nurl = @URL@\nmountpoint = /m/a\n"
                               "[b]\nurl = @URL@\nmountpoint = /m/b\n"
                               "options = nconnect=3\n", NULL) == 0,
                 "%s", dio_last_error ());
  fd = dio_open ("/m/a/x", O_RDWR | O_CREAT, 0644);
  ck_assert_msg (fd >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_close (fd), 0);
  assert_fails (dio__rename ("/m/a/x", "/m/b/y"), EXDEV, "same mount");
  ck_assert_int_eq (local_size ("x"), 0);
}
END_TEST

Suite *
suite_directio_profiles (void)
{
  Suite *s = suite_create ("directio-profiles");
  TCase *tc = tcase_create ("profiles");

  tcase_set_timeout (tc, 60);
  tcase_add_loop_test (tc, test_bad_file, 0, sizeof bad / sizeof bad[0]);
  tcase_add_test (tc, test_missing_file);
  tcase_add_test (tc, test_coverage);
  tcase_add_test (tc, test_profiles_apply);
  tcase_add_test (tc, test_namespace);
  tcase_add_test (tc, test_rename_exdev);
  tcase_add_test (tc, test_one_profile);
  suite_add_tcase (s, tc);
  return s;
}
