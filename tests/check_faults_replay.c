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
 * success), and a replayed truncate must not cut what another client
 * wrote after the first one ran (it is guarded with the ctime the first
 * saw).
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

#include "directio.h"
#include "engine_helpers.h"
#include "nfsproxy-client.h"
#include "proxy_helpers.h"
#include "private.h"
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

struct truncator {
  int fd, r, err;
  bool at_open;                 /* O_TRUNC, not ftruncate to 4 KiB */
  char msg[512];
};

static void *
truncate_thread (void *arg)
{
  struct truncator *t = arg;

  if (t->at_open) {
    t->fd = dio_open (purl ("trunc"), O_RDWR | O_TRUNC);
    t->r = t->fd >= 0 ? 0 : -1;
  }
  else
    t->r = dio_ftruncate (t->fd, 4 * KiB);
  t->err = errno;
  snprintf (t->msg, sizeof t->msg, "%s", dio_last_error ());
  return NULL;
}

/* The first SETATTR ran and its reply was lost; before the replay
 * arrives (the new connection's MOUNT is held 1.5 s) another client
 * writes past the new end.  The replay must not cut that.  For
 * ftruncate and for open's O_TRUNC. */
static void
truncate_replay_guarded (bool at_open)
{
  size_t len = 64 * KiB;
  char *buf = malloc (len), *back = malloc (len);
  struct truncator t = { .r = -2, .fd = -1, .at_open = at_open };
  pthread_t th;
  struct stat st;
  int fd, other, id, fd_local;

  ck_assert_ptr_nonnull (buf);
  ck_assert_ptr_nonnull (back);
  test_fill (buf, len, 0, 7);
  fd_local = open (test_local ("trunc"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  ck_assert_int_ge (fd_local, 0);
  ck_assert_int_eq (write (fd_local, buf, len), len);
  ck_assert_int_eq (close (fd_local), 0);

  fd = dio_open (purl (at_open ? "keep" : "trunc"), O_RDWR | O_CREAT, 0644);
  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  test_proxy_arm (px, "MNT:delay=1500");
  id = test_proxy_arm (px, "SETATTR:fin-after");
  if (!at_open)
    t.fd = fd;
  ck_assert_int_eq (pthread_create (&th, NULL, truncate_thread, &t), 0);
  for (int i = 0; i < 2000 && nfsproxy_fired (px, id) < 1; i++)
    usleep (10000);
  assert_fired_once (id, "SETATTR");

  /* Another client, straight to the server. */
  other = dio_open (test_url ("trunc", NULL), O_RDWR);
  ck_assert_msg (other >= 0, "dio_open: %s", dio_last_error ());
  test_fill (buf, len, 8 * KiB, 8);
  ck_assert_int_eq (dio_pwrite (other, buf, len, 8 * KiB), len);
  ck_assert_int_eq (dio_close (other), 0);

  pthread_join (th, NULL);
  ck_assert_msg (t.r == 0, "%s: %s", at_open ? "open O_TRUNC" : "ftruncate",
                 t.msg);
  if (at_open)
    ck_assert_int_eq (dio_close (t.fd), 0);
  ck_assert_int_eq (stat (test_local ("trunc"), &st), 0);
  ck_assert_msg (st.st_size == (off_t) (8 * KiB + len), "the replayed "
                 "truncate cut the other client's data: size %lld",
                 (long long) st.st_size);
  fd_local = open (test_local ("trunc"), O_RDONLY);
  ck_assert_int_ge (fd_local, 0);
  ck_assert_int_eq (pread (fd_local, back, len, 8 * KiB), len);
  ck_assert (test_check (back, len, 8 * KiB, 8));
  close (fd_local);
  ck_assert_int_eq (dio_close (fd), 0);
  free (buf);
  free (back);
}

START_TEST (test_truncate_replay_guarded)
{
  truncate_replay_guarded (false);
}
END_TEST

START_TEST (test_open_trunc_replay_guarded)
{
  truncate_replay_guarded (true);
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
  tcase_add_test (tc, test_truncate_replay_guarded);
  tcase_add_test (tc, test_open_trunc_replay_guarded);
  suite_add_tcase (s, tc);
  tc = tcase_create ("errno");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_errno_at_open);
  tcase_add_test (tc, test_errno_commit_at_fsync);
  suite_add_tcase (s, tc);
  return s;
}
