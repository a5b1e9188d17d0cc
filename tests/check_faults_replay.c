/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replays and errno fidelity through the RPC fault proxy (nfsproxy,
 * tests/nfsproxy.md).
 *
 * A connection closed under libnfs's high-level calls (LOOKUP, GETATTR
 * of stat): they are sent again, not failed with EFAULT.
 *
 * Replays: the proxy forwards a call, the server runs it, and the proxy
 * closes the connection (FIN) instead of forwarding the reply.  The
 * engine sends the call again on a new connection, with a new XID that
 * the server's duplicate request cache cannot match.  An O_EXCL create,
 * a REMOVE, RMDIR, RENAME and MKDIR must still succeed (EXCLUSIVE create
 * with a verifier; the replay's ENOENT/EEXIST is the first attempt's
 * success).  A replayed truncate is guarded with the ctime seen before
 * the first send; when the server refuses it (NFS3ERR_NOT_SYNC) the size
 * says whether the truncate was made, and if it was not (the first send
 * never arrived and another client wrote meanwhile: the tests' hook
 * writes just before each guarded send) it is sent again, guarded with
 * the new ctime, at most three times.
 *
 * errno: the proxy answers in the server's place with an NFS3ERR_*, and
 * the call fails with the errno Linux's NFSv3 client gives: EDQUOT (not
 * libnfs's ERANGE) at open, EOPNOTSUPP (not EINVAL), ENOSPC, EDQUOT and
 * ESTALE (not EIO) from a failed COMMIT at fsync, EREMOTEIO for
 * NFS3ERR_SERVERFAULT. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nfsc/libnfs.h>

#include "directio.h"
#include "engine_helpers.h"
#include "nfsproxy-client.h"
#include "proxy_helpers.h"
#include "private.h"
#include "test-hook.h"
#include "check_faults.h"

#define KiB 1024

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

/* A URL through the proxy, one connection (so a cut is that of the
 * call's connection). */
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

static void
assert_fired_once (int id, const char *what)
{
  ck_assert_msg (nfsproxy_fired (px, id) == 1, "%s: the rule fired %ld "
                 "times (log: %s)", what, nfsproxy_fired (px, id),
                 nfsproxy_log (px));
}

static void
make_local_file (const char *name)
{
  int fd = open (test_local (name), O_CREAT | O_WRONLY | O_TRUNC, 0644);

  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (close (fd), 0);
}

/* ---- replays -------------------------------------------------------- */

/* The connection closes (FIN) while libnfs's high-level calls are in
 * flight: the LOOKUP of an open (after the server ran it), the GETATTR
 * of the shim's stat (before).  libnfs 4.0 fails them with EFAULT
 * ("Failed to reconnect async") before it marks the socket closed; on a
 * hard mount they are sent again and succeed, never "Bad address". */
START_TEST (test_fin_during_highlevel_calls)
{
  int keep = keep_mount ();
  struct stat st;
  int id, fd;

  id = test_proxy_arm (px, "LOOKUP:fin-after");
  fd = dio_open (purl ("keep"), O_RDONLY);
  ck_assert_msg (fd >= 0, "open: %s", dio_last_error ());
  assert_fired_once (id, "LOOKUP");
  ck_assert_int_eq (dio_close (fd), 0);
  id = test_proxy_arm (px, "GETATTR:fin-before");
  ck_assert_msg (dio__stat (purl ("keep"), &st) == 0, "stat: %s",
                 dio_last_error ());
  assert_fired_once (id, "GETATTR");
  ck_assert (S_ISREG (st.st_mode));
  ck_assert_int_eq (dio_close (keep), 0);
}
END_TEST

/* With rule armed, an O_EXCL create of name (mode) succeeds, and the
 * rule fired once: the new descriptor.  what: the case, for a failure. */
static int
excl_create_under (const char *rule, const char *name, mode_t mode,
                   const char *what)
{
  int id = test_proxy_arm (px, rule);
  int fd = dio_open (purl (name), O_RDWR | O_CREAT | O_EXCL, mode);

  ck_assert_msg (fd >= 0, "O_EXCL create (%s): %s", what, dio_last_error ());
  assert_fired_once (id, "CREATE");
  return fd;
}

/* The server's name has the caller's mode (set after the EXCLUSIVE
 * create), and another O_EXCL create of it (another verifier) fails. */
static void
assert_excl_created (const char *name, mode_t mode)
{
  struct stat st;

  ck_assert_int_eq (stat (test_local (name), &st), 0);
  ck_assert_int_eq (st.st_mode & 07777, mode);
  ck_assert_int_eq (dio_open (purl (name), O_RDWR | O_CREAT | O_EXCL, mode),
                    -1);
  ck_assert_int_eq (errno, EEXIST);
}

START_TEST (test_excl_create_reply_lost)
{
  int keep = keep_mount ();
  int fd = excl_create_under ("CREATE:fin-after", "excl", 0640,
                              "its reply lost");
  struct stat st;

  ck_assert_int_eq (dio_pwrite (fd, "data", 4, 0), 4);
  ck_assert_int_eq (dio_close (fd), 0);
  assert_excl_created ("excl", 0640);
  ck_assert_int_eq (stat (test_local ("excl"), &st), 0);
  ck_assert_int_eq (st.st_size, 4);
  ck_assert_int_eq (dio_close (keep), 0);
}
END_TEST

/* A server without EXCLUSIVE create (NFS3ERR_NOTSUPP): GUARDED, as
 * Linux falls back. */
START_TEST (test_excl_create_notsupp_falls_back)
{
  int keep = keep_mount ();
  int fd = excl_create_under ("CREATE:error=NOTSUPP", "excl-guarded", 0604,
                              "no EXCLUSIVE");

  ck_assert_int_eq (dio_close (fd), 0);
  assert_excl_created ("excl-guarded", 0604);
  ck_assert_int_eq (dio_close (keep), 0);
}
END_TEST

START_TEST (test_remove_reply_lost)
{
  int keep = keep_mount ();
  int id;

  make_local_file ("rm-me");
  id = test_proxy_arm (px, "REMOVE:fin-after");
  ck_assert_msg (dio__unlink (purl ("rm-me")) == 0, "unlink: %s",
                 dio_last_error ());
  assert_fired_once (id, "REMOVE");
  ck_assert_int_eq (access (test_local ("rm-me"), F_OK), -1);
  /* Without a replay, ENOENT is ENOENT. */
  ck_assert_int_eq (dio__unlink (purl ("rm-me")), -1);
  ck_assert_int_eq (errno, ENOENT);
  ck_assert_int_eq (dio_close (keep), 0);
}
END_TEST

START_TEST (test_rmdir_reply_lost)
{
  int keep = keep_mount ();
  int id;

  ck_assert_int_eq (mkdir (test_local ("rmdir-me"), 0755), 0);
  id = test_proxy_arm (px, "RMDIR:fin-after");
  ck_assert_msg (dio__rmdir (purl ("rmdir-me")) == 0, "rmdir: %s",
                 dio_last_error ());
  assert_fired_once (id, "RMDIR");
  ck_assert_int_eq (access (test_local ("rmdir-me"), F_OK), -1);
  ck_assert_int_eq (dio_close (keep), 0);
}
END_TEST

START_TEST (test_mkdir_reply_lost)
{
  int keep = keep_mount ();
  int id = test_proxy_arm (px, "MKDIR:fin-after");
  struct stat st;

  ck_assert_msg (dio__mkdir (purl ("made"), 0750) == 0, "mkdir: %s",
                 dio_last_error ());
  assert_fired_once (id, "MKDIR");
  ck_assert_int_eq (stat (test_local ("made"), &st), 0);
  ck_assert (S_ISDIR (st.st_mode));
  /* Without a replay, EEXIST is EEXIST. */
  ck_assert_int_eq (dio__mkdir (purl ("made"), 0750), -1);
  ck_assert_int_eq (errno, EEXIST);
  ck_assert_int_eq (dio_close (keep), 0);
}
END_TEST

START_TEST (test_rename_reply_lost)
{
  int keep = keep_mount ();
  int id;

  make_local_file ("from");
  id = test_proxy_arm (px, "RENAME:fin-after");
  ck_assert_msg (dio__rename (purl ("from"), purl ("to")) == 0,
                 "rename: %s", dio_last_error ());
  assert_fired_once (id, "RENAME");
  ck_assert_int_eq (access (test_local ("from"), F_OK), -1);
  ck_assert_int_eq (access (test_local ("to"), F_OK), 0);
  ck_assert_int_eq (dio_close (keep), 0);
}
END_TEST

/* ---- truncate: a guarded replay ------------------------------------- */

/* Another client, straight to the server: a libnfs context of the
 * test's own.  It writes from the tests' hook (test-hook.h), on the
 * engine's service thread just before a guarded SETATTR is sent, so the
 * interleaving is exact; the hook cannot call the engine, nor fail the
 * test (it records). */
static struct {
  struct nfs_context *nfs;
  struct nfsfh *fh;
  char *buf;
  size_t len;
  uint64_t off;
  int writes, max_writes, failed;
} other;

static void
other_open (const char *file, size_t len, uint64_t off, int max_writes)
{
  struct nfs_url *u;
  char path[256];

  other.nfs = nfs_init_context ();
  ck_assert_ptr_nonnull (other.nfs);
  u = nfs_parse_url_dir (other.nfs, getenv ("DIO_TEST_URL"));
  ck_assert_msg (u != NULL, "%s", nfs_get_error (other.nfs));
  ck_assert_msg (nfs_mount (other.nfs, u->server, u->path) == 0,
                 "mount: %s", nfs_get_error (other.nfs));
  nfs_destroy_url (u);
  snprintf (path, sizeof path, "/%s", file);
  ck_assert_msg (nfs_open (other.nfs, path, O_WRONLY, &other.fh) == 0,
                 "open %s: %s", path, nfs_get_error (other.nfs));
  other.buf = malloc (len);
  ck_assert_ptr_nonnull (other.buf);
  test_fill (other.buf, len, off, 8);
  other.len = len;
  other.off = off;
  other.writes = other.failed = 0;
  other.max_writes = max_writes;
}

static void
other_close (void)
{
  nfs_close (other.nfs, other.fh);
  nfs_destroy_context (other.nfs);
  free (other.buf);
  ck_assert_msg (!other.failed, "the other client's write failed");
}

static void
other_writes_before_guarded_setattr (const char *point)
{
  if (strcmp (point, "setattr-guarded") != 0
      || other.writes >= other.max_writes)
    return;
  other.writes++;
  if (nfs_pwrite (other.nfs, other.fh, other.off, other.len, other.buf)
      != (int) other.len)
    other.failed = 1;
}

/* The file trunc: 64 KiB of seed 7 on the server's disk. */
#define TRUNC_LEN (64 * KiB)

static void
make_trunc_file (void)
{
  char *buf = malloc (TRUNC_LEN);
  int fd = open (test_local ("trunc"), O_CREAT | O_WRONLY | O_TRUNC, 0644);

  ck_assert_ptr_nonnull (buf);
  ck_assert_int_ge (fd, 0);
  test_fill (buf, TRUNC_LEN, 0, 7);
  ck_assert_int_eq (write (fd, buf, TRUNC_LEN), TRUNC_LEN);
  ck_assert_int_eq (close (fd), 0);
  free (buf);
}

/* trunc on the server: size bytes, the first head of them seed 7. */
static void
assert_trunc_file (off_t size, size_t head)
{
  char *back;
  struct stat st;
  int fd;

  ck_assert_int_eq (stat (test_local ("trunc"), &st), 0);
  ck_assert_msg (st.st_size == size, "trunc is %lld bytes, not %lld",
                 (long long) st.st_size, (long long) size);
  if (head == 0)
    return;
  back = malloc (head);
  ck_assert_ptr_nonnull (back);
  fd = open (test_local ("trunc"), O_RDONLY);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (pread (fd, back, head, 0), head);
  ck_assert (test_check (back, head, 0, 7));
  close (fd);
  free (back);
}

/* SETATTRs the last truncate_under sent. */
static long setattrs;

/* The first send and its replay, then one more after each write. */
static void
assert_setattrs (void)
{
  ck_assert_msg (setattrs == other.writes + 2, "%ld SETATTRs for %d "
                 "writes (log: %s)", setattrs, other.writes,
                 nfsproxy_log (px));
}

/* ftruncate to 4 KiB (at_open: dio_open with O_TRUNC, to 0) under rule
 * on its SETATTR, while the other client writes 64 KiB at 8 KiB before
 * each of the first writes guarded SETATTRs.  Returns the result and
 * leaves the error in errno and dio_last_error (). */
static int
truncate_under (const char *rule, bool at_open, int writes)
{
  int fd = -1, r, err, id, pass;

  make_trunc_file ();
  if (!at_open) {
    fd = dio_open (purl ("trunc"), O_RDWR);
    ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  }
  other_open ("trunc", TRUNC_LEN, 8 * KiB, writes);
  pass = test_proxy_arm (px, "SETATTR:pass");
  id = test_proxy_arm (px, rule);
  dio__set_test_hook (other_writes_before_guarded_setattr);
  if (at_open) {
    fd = dio_open (purl ("trunc"), O_RDWR | O_TRUNC);
    r = fd >= 0 ? 0 : -1;
  }
  else
    r = dio_ftruncate (fd, 4 * KiB);
  err = errno;
  dio__set_test_hook (NULL);
  other_close ();
  assert_fired_once (id, rule);
  setattrs = nfsproxy_fired (px, pass);
  if (fd >= 0)
    ck_assert_int_eq (dio_close (fd), 0);
  errno = err;
  return r;
}

/* The first SETATTR ran and its reply was lost; the replay, guarded with
 * the ctime seen before the first, is refused (NFS3ERR_NOT_SYNC) and the
 * size says the first was applied: done, not sent again.  For ftruncate
 * and for open's O_TRUNC. */
static void
truncate_reply_lost (bool at_open)
{
  ck_assert_msg (truncate_under ("SETATTR:fin-after", at_open, 0) == 0,
                 "%s", dio_last_error ());
  ck_assert_int_eq (other.writes, 0);
  assert_trunc_file (at_open ? 0 : 4 * KiB, at_open ? 0 : 4 * KiB);
  assert_setattrs ();
}

START_TEST (test_truncate_reply_lost)
{
  truncate_reply_lost (false);
}
END_TEST

START_TEST (test_open_trunc_reply_lost)
{
  truncate_reply_lost (true);
}
END_TEST

/* The first SETATTR never reached the server (FIN before it), and the
 * other client wrote before the replay: the replay is refused
 * (NFS3ERR_NOT_SYNC), but the file does not have the size asked for, so
 * the truncate was not made and is sent again guarded with the new
 * ctime (before: reported done, the file untouched).  The same when the
 * first ran (reply lost) and the other client wrote after it: the two
 * cannot be told apart, and the other client's write, made while the
 * truncate was in progress, goes as if it came first; the replay must
 * still never apply to a version of the file it has not seen. */
static void
truncate_replay_after_other_write (const char *rule, bool at_open)
{
  ck_assert_msg (truncate_under (rule, at_open, 1) == 0, "%s: %s", rule,
                 dio_last_error ());
  ck_assert_int_eq (other.writes, 1);
  assert_trunc_file (at_open ? 0 : 4 * KiB, at_open ? 0 : 4 * KiB);
  assert_setattrs ();
}

START_TEST (test_truncate_not_sent_other_wrote)
{
  truncate_replay_after_other_write ("SETATTR:fin-before", false);
}
END_TEST

START_TEST (test_open_trunc_not_sent_other_wrote)
{
  truncate_replay_after_other_write ("SETATTR:fin-before", true);
}
END_TEST

START_TEST (test_truncate_reply_lost_other_wrote)
{
  truncate_replay_after_other_write ("SETATTR:fin-after", false);
}
END_TEST

/* The other client writes before every guarded send: after the replay
 * and three more sends the truncate fails, saying why, and the file is
 * as the other client left it. */
START_TEST (test_truncate_file_keeps_changing)
{
  int r = truncate_under ("SETATTR:fin-before", false, 100);

  ck_assert_msg (r == -1 && errno == EIO, "ftruncate: returned %d, errno "
                 "%d (%s)", r, errno, strerror (errno));
  ck_assert_msg (strstr (dio_last_error (), "kept changing")
                 && strstr (dio_last_error (), "NFS3ERR_NOT_SYNC"), "%s",
                 dio_last_error ());
  ck_assert_int_eq (other.writes, 4);
  assert_trunc_file (8 * KiB + TRUNC_LEN, 8 * KiB);
}
END_TEST

/* ---- errno ---------------------------------------------------------- */

static void
assert_errno (int r, int want, const char *what)
{
  ck_assert_msg (r == -1 && errno == want, "%s: returned %d, errno %d (%s), "
                 "not %d (%s): %s", what, r, errno, strerror (errno), want,
                 strerror (want), dio_last_error ());
}

START_TEST (test_errno_at_open)
{
  int keep = keep_mount ();

  test_proxy_arm (px, "CREATE:error=DQUOT");
  assert_errno (dio_open (purl ("dquot"), O_RDWR | O_CREAT, 0644), EDQUOT,
                "CREATE answered NFS3ERR_DQUOT");
  test_proxy_arm (px, "LOOKUP:error=NOTSUPP");
  assert_errno (dio_open (purl ("keep"), O_RDONLY), EOPNOTSUPP,
                "LOOKUP answered NFS3ERR_NOTSUPP");
  test_proxy_arm (px, "REMOVE:error=SERVERFAULT");
  assert_errno (dio__unlink (purl ("keep")), EREMOTEIO,
                "REMOVE answered NFS3ERR_SERVERFAULT");
  ck_assert_int_eq (dio_close (keep), 0);
}
END_TEST

START_TEST (test_errno_commit_at_fsync)
{
  static const struct {
    const char *rule;
    int errnum;
  } cases[] = {
    { "COMMIT:error=NOSPC", ENOSPC },
    { "COMMIT:error=DQUOT", EDQUOT },
    { "COMMIT:error=STALE", ESTALE },
    { "COMMIT:error=IO", EIO },
  };
  size_t len = 64 * KiB;
  char *buf = malloc (len);
  int fd = dio_open (purl ("commit"), O_RDWR | O_CREAT | O_TRUNC, 0644);

  ck_assert_ptr_nonnull (buf);
  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  test_fill (buf, len, 0, 9);
  ck_assert_int_eq (dio_pwrite2 (fd, buf, len, 0, DIO_WRITE_UNSTABLE), len);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int id = test_proxy_arm (px, cases[i].rule);
    assert_errno (dio_fsync (fd), cases[i].errnum, cases[i].rule);
    assert_fired_once (id, cases[i].rule);
  }
  /* The writes are still owed a COMMIT: without a fault, it succeeds. */
  ck_assert_msg (dio_fsync (fd) == 0, "fsync: %s", dio_last_error ());
  ck_assert_int_eq (dio_close (fd), 0);
  ck_assert (test_local_matches ("commit", len, 9));
  free (buf);
}
END_TEST

Suite *
suite_faults_replay (void)
{
  Suite *s = suite_create ("faults_replay");
  TCase *tc = tcase_create ("replay");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_fin_during_highlevel_calls);
  tcase_add_test (tc, test_excl_create_reply_lost);
  tcase_add_test (tc, test_excl_create_notsupp_falls_back);
  tcase_add_test (tc, test_remove_reply_lost);
  tcase_add_test (tc, test_rmdir_reply_lost);
  tcase_add_test (tc, test_mkdir_reply_lost);
  tcase_add_test (tc, test_rename_reply_lost);
  tcase_add_test (tc, test_truncate_reply_lost);
  tcase_add_test (tc, test_open_trunc_reply_lost);
  tcase_add_test (tc, test_truncate_not_sent_other_wrote);
  tcase_add_test (tc, test_open_trunc_not_sent_other_wrote);
  tcase_add_test (tc, test_truncate_reply_lost_other_wrote);
  tcase_add_test (tc, test_truncate_file_keeps_changing);
  suite_add_tcase (s, tc);
  tc = tcase_create ("errno");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_errno_at_open);
  tcase_add_test (tc, test_errno_commit_at_fsync);
  suite_add_tcase (s, tc);
  return s;
}
