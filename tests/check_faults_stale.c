/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ESTALE during a path walk (through the RPC fault proxy, nfsproxy,
 * tests/nfsproxy.md, and against ganesha itself).
 *
 * Linux's VFS walks a path once more (LOOKUP_REVAL) when a step of the
 * walk, or the first call on the handle it found, answers ESTALE: a
 * directory was removed and made again by another client in between.
 * The engine does the same for dio_open, the shim's path calls (stat,
 * unlink, mkdir, rmdir, rename, access, opendir, truncate) and the walk
 * of `directio mount` to its directory (dio__fs_new): one
 * NFS3ERR_STALE is walked past, a second is ESTALE with a message that
 * says so.
 *
 * Threading: the race test runs the walk on a second thread while the
 * test's thread plays the other client. */
#include <config.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "directio.h"
#include "engine_helpers.h"
#include "fsops.h"
#include "nfsproxy-client.h"
#include "proxy_helpers.h"
#include "private.h"
#include "check_faults.h"

static struct nfsproxy *px;

static void
setup (void)
{
  px = test_proxy_start ();
}

static void
teardown (void)
{
  nfsproxy_stop (px);
  px = NULL;
}

/* A URL through the proxy, one connection. */
static const char *
purl (const char *file)
{
  return test_proxy_url (px, file, "&nconnect=1");
}

/* Mount through the proxy before arming a rule (a descriptor keeps the
 * mount), so that the rule meets the call under test, not the mount's. */
static int
keep_mount (void)
{
  int fd = dio_open (purl ("keep"), O_RDWR | O_CREAT, 0644);

  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  return fd;
}

/* A file on the server's disk of size bytes. */
static void
make_local_file (const char *name, off_t size)
{
  int fd = open (test_local (name), O_CREAT | O_WRONLY | O_TRUNC, 0644);

  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (ftruncate (fd, size), 0);
  ck_assert_int_eq (close (fd), 0);
}

static off_t
local_size (const char *name)
{
  struct stat st;

  if (stat (test_local (name), &st) == -1)
    return -1;
  return st.st_size;
}

static void
assert_fired (int id, long times, const char *what)
{
  ck_assert_msg (nfsproxy_fired (px, id) == times, "%s: the rule fired %ld "
                 "times, not %ld (log: %s)", what, nfsproxy_fired (px, id),
                 times, nfsproxy_log (px));
}

/* ---- one NFS3ERR_STALE: walked past ---------------------------------- */

/* Each path call, with one NFS3ERR_STALE answered to a LOOKUP of its
 * walk or to its own RPC, succeeds and does what it should (before:
 * -1 ESTALE).  r: the call's result; what: the case. */
static void
assert_walked_past (int id, int r, const char *what)
{
  ck_assert_msg (r == 0, "%s: %s", what, dio_last_error ());
  assert_fired (id, 1, what);
}

START_TEST (test_open_stale_once)
{
  int keep = keep_mount ();
  struct stat st;
  int id, fd;

  ck_assert_int_eq (mkdir (test_local ("od"), 0755), 0);
  make_local_file ("od/f", 8192);

  id = test_proxy_arm (px, "LOOKUP:error=STALE");
  fd = dio_open (purl ("od/f"), O_RDONLY);
  assert_walked_past (id, fd >= 0 ? 0 : -1, "open, a LOOKUP stale");
  ck_assert_int_eq (dio_close (fd), 0);

  /* libnfs's open checks access on the handle it found. */
  id = test_proxy_arm (px, "ACCESS:error=STALE");
  fd = dio_open (purl ("od/f"), O_RDWR);
  assert_walked_past (id, fd >= 0 ? 0 : -1, "open, its ACCESS stale");
  ck_assert_int_eq (dio_close (fd), 0);

  /* The open's GETATTR (the first call of the engine's own on the
   * handle), then its O_TRUNC. */
  id = test_proxy_arm (px, "GETATTR:error=STALE");
  fd = dio_open (purl ("od/f"), O_RDWR | O_TRUNC);
  assert_walked_past (id, fd >= 0 ? 0 : -1, "open O_TRUNC, GETATTR stale");
  ck_assert_int_eq (dio_close (fd), 0);
  ck_assert_int_eq (local_size ("od/f"), 0);
  make_local_file ("od/f", 8192);
  id = test_proxy_arm (px, "SETATTR:error=STALE");
  fd = dio_open (purl ("od/f"), O_RDWR | O_TRUNC);
  assert_walked_past (id, fd >= 0 ? 0 : -1, "open O_TRUNC, SETATTR stale");
  ck_assert_int_eq (dio_close (fd), 0);
  ck_assert_int_eq (local_size ("od/f"), 0);

  /* The parent's handle stale at the CREATE of O_EXCL. */
  id = test_proxy_arm (px, "CREATE:error=STALE");
  fd = dio_open (purl ("od/new"), O_RDWR | O_CREAT | O_EXCL, 0640);
  assert_walked_past (id, fd >= 0 ? 0 : -1, "O_EXCL create, CREATE stale");
  ck_assert_int_eq (dio_close (fd), 0);
  ck_assert_int_eq (stat (test_local ("od/new"), &st), 0);
  ck_assert_int_eq (st.st_mode & 07777, 0640);
  ck_assert_int_eq (dio_close (keep), 0);
}
END_TEST

START_TEST (test_namespace_stale_once)
{
  int keep = keep_mount ();
  struct stat st;
  DIR *dir;
  int id;

  ck_assert_int_eq (mkdir (test_local ("nd"), 0755), 0);
  make_local_file ("nd/f", 4096);

  id = test_proxy_arm (px, "LOOKUP:error=STALE");
  assert_walked_past (id, dio__stat (purl ("nd/f"), &st), "stat, LOOKUP");
  ck_assert_int_eq (st.st_size, 4096);
  id = test_proxy_arm (px, "GETATTR:error=STALE");
  assert_walked_past (id, dio__stat (purl ("nd/f"), &st), "stat, GETATTR");
  ck_assert_int_eq (st.st_size, 4096);
  id = test_proxy_arm (px, "LOOKUP:error=STALE");
  assert_walked_past (id, dio__access (purl ("nd/f"), R_OK | W_OK),
                      "access");
  id = test_proxy_arm (px, "LOOKUP:error=STALE");
  dir = dio__opendir (purl ("nd"));
  assert_walked_past (id, dir ? 0 : -1, "opendir");
  ck_assert_int_eq (dio__closedir (dir), 0);
  id = test_proxy_arm (px, "LOOKUP:error=STALE");
  assert_walked_past (id, dio__truncate (purl ("nd/f"), 100), "truncate");
  ck_assert_int_eq (local_size ("nd/f"), 100);

  id = test_proxy_arm (px, "LOOKUP:error=STALE");
  assert_walked_past (id, dio__rename (purl ("nd/f"), purl ("nd/g")),
                      "rename, LOOKUP");
  ck_assert_int_eq (local_size ("nd/g"), 100);
  id = test_proxy_arm (px, "RENAME:error=STALE");
  assert_walked_past (id, dio__rename (purl ("nd/g"), purl ("nd/f")),
                      "rename, RENAME");
  ck_assert_int_eq (local_size ("nd/f"), 100);
  id = test_proxy_arm (px, "MKDIR:error=STALE");
  assert_walked_past (id, dio__mkdir (purl ("nd/sub"), 0750), "mkdir");
  ck_assert_int_eq (stat (test_local ("nd/sub"), &st), 0);
  ck_assert (S_ISDIR (st.st_mode));
  id = test_proxy_arm (px, "RMDIR:error=STALE");
  assert_walked_past (id, dio__rmdir (purl ("nd/sub")), "rmdir");
  ck_assert_int_eq (access (test_local ("nd/sub"), F_OK), -1);
  id = test_proxy_arm (px, "REMOVE:error=STALE");
  assert_walked_past (id, dio__unlink (purl ("nd/f")), "unlink, REMOVE");
  ck_assert_int_eq (access (test_local ("nd/f"), F_OK), -1);
  ck_assert_int_eq (dio_close (keep), 0);
}
END_TEST

/* `directio mount`'s walk to the URL's directory (dio__fs_new). */
START_TEST (test_fs_root_stale_once)
{
  int keep = keep_mount ();
  struct dio__fs *fs = NULL;
  int id;

  ck_assert_int_eq (mkdir (test_local ("fd"), 0755), 0);
  ck_assert_int_eq (mkdir (test_local ("fd/sub"), 0755), 0);
  id = test_proxy_arm (px, "LOOKUP:error=STALE");
  assert_walked_past (id, dio__fs_new (purl ("fd/sub"), NULL, &fs),
                      "directio mount's root");
  dio__fs_free (fs);
  id = test_proxy_arm (px, "LOOKUP:error=STALE:times=2");
  ck_assert_int_eq (dio__fs_new (purl ("fd/sub"), NULL, &fs), -1);
  ck_assert_int_eq (errno, ESTALE);
  ck_assert_msg (strstr (dio_last_error (), "again after a fresh lookup"),
                 "%s", dio_last_error ());
  assert_fired (id, 2, "directio mount's root, twice");
  ck_assert_int_eq (dio_close (keep), 0);
}
END_TEST

/* ---- twice: ESTALE --------------------------------------------------- */

static void
assert_stale_twice (int id, int r, const char *what)
{
  ck_assert_msg (r == -1 && errno == ESTALE, "%s: returned %d, errno %d "
                 "(%s), not ESTALE", what, r, errno, strerror (errno));
  ck_assert_msg (strstr (dio_last_error (), "again after a fresh lookup")
                 && strstr (dio_last_error (), "Stale file handle"),
                 "%s: message %s", what, dio_last_error ());
  assert_fired (id, 2, what);
}

START_TEST (test_stale_twice)
{
  int keep = keep_mount ();
  struct stat st;
  int id;

  ck_assert_int_eq (mkdir (test_local ("td"), 0755), 0);
  make_local_file ("td/f", 4096);
  id = test_proxy_arm (px, "LOOKUP:error=STALE:times=2");
  assert_stale_twice (id, dio_open (purl ("td/f"), O_RDWR | O_TRUNC),
                      "open");
  ck_assert_int_eq (local_size ("td/f"), 4096);
  id = test_proxy_arm (px, "GETATTR:error=STALE:times=2");
  assert_stale_twice (id, dio_open (purl ("td/f"), O_RDWR | O_TRUNC),
                      "open, GETATTR");
  ck_assert_int_eq (local_size ("td/f"), 4096);
  id = test_proxy_arm (px, "LOOKUP:error=STALE:times=2");
  assert_stale_twice (id, dio__stat (purl ("td/f"), &st), "stat");
  id = test_proxy_arm (px, "REMOVE:error=STALE:times=2");
  assert_stale_twice (id, dio__unlink (purl ("td/f")), "unlink");
  ck_assert_int_eq (local_size ("td/f"), 4096);
  ck_assert_int_eq (dio_close (keep), 0);
}
END_TEST

/* ---- the real thing: a directory made again between two steps -------- */

struct walker {
  int r, err;
  struct stat st;
  char msg[512];
};

static void *
stat_thread (void *arg)
{
  struct walker *w = arg;

  w->r = dio__stat (purl ("dir/file"), &w->st);
  w->err = errno;
  snprintf (w->msg, sizeof w->msg, "%s", dio_last_error ());
  return NULL;
}

/* stat of dir/file: the reply to the LOOKUP of dir is held while another
 * client (straight to ganesha) removes dir and makes it again with a new
 * file, so the walk's LOOKUP of file goes to the removed directory's
 * handle and ganesha answers NFS3ERR_STALE.  The stat walks the path
 * again and finds the new file (before: -1 ESTALE). */
START_TEST (test_directory_made_again)
{
  int keep = keep_mount ();
  struct walker w = { .r = -2 };
  pthread_t th;
  int hold, count, fd, i;

  ck_assert_int_eq (mkdir (test_local ("dir"), 0755), 0);
  make_local_file ("dir/file", 1000);
  count = test_proxy_arm (px, "LOOKUP:pass");
  hold = test_proxy_arm (px, "LOOKUP:delay=1500");
  ck_assert_int_eq (pthread_create (&th, NULL, stat_thread, &w), 0);
  for (i = 0; i < 3000 && nfsproxy_fired (px, hold) < 1; i++)
    usleep (10000);
  assert_fired (hold, 1, "LOOKUP of dir held");

  /* The other client. */
  ck_assert_msg (dio__unlink (test_url ("dir/file", NULL)) == 0, "%s",
                 dio_last_error ());
  ck_assert_msg (dio__rmdir (test_url ("dir", NULL)) == 0, "%s",
                 dio_last_error ());
  ck_assert_msg (dio__mkdir (test_url ("dir", NULL), 0755) == 0, "%s",
                 dio_last_error ());
  fd = dio_open (test_url ("dir/file", NULL), O_RDWR | O_CREAT, 0644);
  ck_assert_msg (fd >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_ftruncate (fd, 2000), 0);
  ck_assert_int_eq (dio_close (fd), 0);

  pthread_join (th, NULL);
  ck_assert_msg (w.r == 0, "stat: %s", w.msg);
  ck_assert_int_eq (w.st.st_size, 2000);
  /* dir, file (stale), then dir and file again. */
  ck_assert_msg (nfsproxy_fired (px, count) == 4, "%ld LOOKUPs, not 4: "
                 "the walk did not meet the removed directory (log: %s)",
                 nfsproxy_fired (px, count), nfsproxy_log (px));
  ck_assert_int_eq (dio_close (keep), 0);
}
END_TEST

Suite *
suite_faults_stale (void)
{
  Suite *s = suite_create ("faults_stale");
  TCase *tc = tcase_create ("stale");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_open_stale_once);
  tcase_add_test (tc, test_namespace_stale_once);
  tcase_add_test (tc, test_fs_root_stale_once);
  tcase_add_test (tc, test_stale_twice);
  tcase_add_test (tc, test_directory_made_again);
  suite_add_tcase (s, tc);
  return s;
}
