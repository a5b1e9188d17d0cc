/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Server faults: a restart between the UNSTABLE replies and the COMMIT
 * (the resend), soft timeouts on a paused server, hard mounts riding out
 * a stopped server. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "directio.h"
#include "test-hook.h"
#include "engine_helpers.h"
#include "check_engine.h"

#define MiB (1024 * 1024)

static int hook_calls;

static void
restart_before_commit (const char *point)
{
  if (strcmp (point, "before-commit") == 0 && hook_calls++ == 0)
    test_ganesha ("restart --new-verifier");
}

/* The server restarts after acknowledging UNSTABLE writes and before the
 * COMMIT: the verifier changes, the engine resends everything FILE_SYNC,
 * and the data on the server is complete. */
START_TEST (test_resend_after_restart)
{
  TEST_SKIP_ON_MEM ("a restart loses every file: MEM keeps them in the server's memory");
  size_t len = 32 * MiB;
  char *buf = malloc (len);
  struct dio_stats st;
  int fd = dio_open (test_url ("resend", NULL), O_RDWR | O_CREAT, 0644);

  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  test_fill (buf, len, 0, 11);
  dio__set_test_hook (restart_before_commit);
  ck_assert_int_eq (dio_pwrite (fd, buf, len, 0), len);
  dio__set_test_hook (NULL);
  ck_assert_int_ge (hook_calls, 1);   /* the COMMIT may be sent again */
  ck_assert_int_eq (dio_stats (fd, &st), 0);
  ck_assert_uint_ge (st.verifier_mismatches, 1);
  ck_assert_uint_eq (st.resends, len / st.wsize);
  ck_assert_uint_ge (st.reconnects, 1);
  ck_assert (test_local_matches ("resend", len, 11));
  memset (buf, 0, len);
  ck_assert_int_eq (dio_pread (fd, buf, len, 0), len);
  ck_assert (test_check (buf, len, 0, 11));
  dio_close (fd);
  free (buf);
}
END_TEST

/* The same for a COMMIT shared by concurrent writers: the server restarts
 * before it, every request of its cohort sees the new verifier and
 * resends its own data FILE_SYNC, and every write returns complete. */
#define COHORT_THREADS 4
#define COHORT_WRITES 8
#define COHORT_BLOCK (256 * 1024)

START_TEST (test_group_resend_after_restart)
{
  TEST_SKIP_ON_MEM ("a restart loses every file: MEM keeps them in the server's memory");
  struct dio_stats st;
  int fd = dio_open (test_url ("cohort", NULL), O_RDWR | O_CREAT | O_TRUNC,
                     0644);

  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  hook_calls = 0;
  dio__set_test_hook (restart_before_commit);
  test_interleaved_writes (fd, COHORT_THREADS, COHORT_WRITES, COHORT_BLOCK,
                           13);
  dio__set_test_hook (NULL);
  ck_assert_int_ge (hook_calls, 1);
  ck_assert_int_eq (dio_stats (fd, &st), 0);
  ck_assert_uint_ge (st.verifier_mismatches, 1);
  ck_assert_uint_ge (st.resends, 1);
  dio_close (fd);
  ck_assert (test_local_matches ("cohort", (uint64_t) COHORT_THREADS
                                 * COHORT_WRITES * COHORT_BLOCK, 13));
}
END_TEST

/* soft,timeo=10,retrans=1: a paused server fails I/O and metadata calls
 * with ETIMEDOUT in about a second, and the message says which server
 * did not answer and the soft timeout's length; the descriptor works
 * again once the server is back. */
START_TEST (test_soft_timeout)
{
  char buf[4096], words[256], msg[1024];
  struct stat st;
  double t0, took;
  ssize_t got;
  int err;
  int fd = dio_open (test_url ("soft", "&soft&timeo=10&retrans=1"),
                     O_RDWR | O_CREAT, 0644);

  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  test_fill (buf, sizeof buf, 0, 12);
  ck_assert_int_eq (dio_pwrite (fd, buf, sizeof buf, 0), sizeof buf);
  test_ganesha ("pause");
  t0 = test_now ();
  got = dio_pread (fd, buf, sizeof buf, 0);
  err = errno;
  took = test_now () - t0;
  /* Resumed before any assertion: the suite's later tests share this
   * server, and a paused one would hang them. */
  test_ganesha ("resume");
  ck_assert_int_eq (got, -1);
  ck_assert_msg (err == ETIMEDOUT, "errno %d", err);
  ck_assert_msg (took >= 0.9 && took < 3.0, "timed out after %.2f s", took);
  snprintf (words, sizeof words, "offset 0: the soft timeout (timeo=10, "
            "retrans=1: 1.0 s) ran out waiting for server %s: %s",
            getenv ("DIO_TEST_SERVER"), strerror (ETIMEDOUT));
  test_assert_message ("dio_pread",
                       test_url ("soft", "&soft&timeo=10&retrans=1"), words);
  /* A metadata call says the same after the RPC's name and strerror. */
  test_ganesha ("pause");
  got = dio_fstat (fd, &st);
  err = errno;
  snprintf (msg, sizeof msg, "%s", dio_last_error ());
  test_ganesha ("resume");
  ck_assert_int_eq (got, -1);
  ck_assert_msg (err == ETIMEDOUT, "errno %d", err);
  snprintf (words, sizeof words, ": GETATTR: %s: the soft timeout "
            "(timeo=10, retrans=1: 1.0 s) ran out waiting for server %s",
            strerror (ETIMEDOUT), getenv ("DIO_TEST_SERVER"));
  ck_assert_msg (strstr (msg, words) != NULL, "\"%s\" lacks \"%s\"", msg,
                 words);
  memset (buf, 0, sizeof buf);
  ck_assert_int_eq (dio_pread (fd, buf, sizeof buf, 0), sizeof buf);
  ck_assert (test_check (buf, sizeof buf, 0, 12));
  dio_close (fd);
}
END_TEST

struct writer {
  int fd;
  size_t total, bs;
  size_t done;                  /* atomic: bytes acknowledged */
  int failed;
};

static void *
writer_thread (void *arg)
{
  struct writer *w = arg;
  char *buf = malloc (w->bs);

  for (size_t off = 0; off < w->total; off += w->bs) {
    test_fill (buf, w->bs, off, 13);
    if (dio_pwrite (w->fd, buf, w->bs, off) != (ssize_t) w->bs) {
      w->failed = errno;
      break;
    }
    __atomic_store_n (&w->done, off + w->bs, __ATOMIC_RELEASE);
  }
  free (buf);
  return NULL;
}

/* hard (the default): the server stops for a while mid-stream; writes in
 * flight and new ones wait, then complete; no error reaches the caller. */
START_TEST (test_hard_outage)
{
  TEST_SKIP_ON_MEM ("a stop and start loses every file: MEM keeps them in the server's memory");
  const char *e = getenv ("DIO_HARD_OUTAGE_S");
  unsigned outage = e ? atoi (e) : 20;
  struct writer w = { .total = 64 * MiB, .bs = 4 * MiB };
  pthread_t t;
  double deadline = test_now () + 60;
  size_t done_while_down;

  w.fd = dio_open (test_url ("hard", NULL), O_RDWR | O_CREAT, 0644);
  ck_assert_msg (w.fd >= 0, "dio_open: %s", dio_last_error ());
  ck_assert_int_eq (pthread_create (&t, NULL, writer_thread, &w), 0);
  while (__atomic_load_n (&w.done, __ATOMIC_ACQUIRE) < 2 * w.bs
         && test_now () < deadline)
    usleep (1000);
  test_ganesha ("stop");
  sleep (outage);               /* the outage itself, not a synchronisation */
  done_while_down = __atomic_load_n (&w.done, __ATOMIC_ACQUIRE);
  test_ganesha ("start");       /* before asserting: later tests need it */
  ck_assert_msg (done_while_down < w.total,
                 "the writer finished while the server was down");
  pthread_join (t, NULL);
  ck_assert_int_eq (w.failed, 0);
  ck_assert_int_eq (w.done, w.total);
  ck_assert (test_local_matches ("hard", w.total, 13));
  dio_close (w.fd);
}
END_TEST

/* Unstable writes lost to a restart: every open file description hears of
 * it once, at its next fsync; a concurrent fsync cannot return success
 * over the loss. */
START_TEST (test_unstable_loss_each_ofd)
{
  TEST_SKIP_ON_MEM ("a restart loses every file: MEM keeps them in the server's memory");
  char buf[65536];
  int fd1 = dio_open (test_url ("lossy", NULL), O_RDWR | O_CREAT, 0644);
  int fd2 = dio_open (test_url ("lossy", NULL), O_RDWR);

  ck_assert_msg (fd1 >= 0 && fd2 >= 0, "dio_open: %s", dio_last_error ());
  test_fill (buf, sizeof buf, 0, 14);
  ck_assert_int_eq (dio_pwrite2 (fd1, buf, sizeof buf, 0, DIO_WRITE_UNSTABLE),
                    sizeof buf);
  ck_assert_int_eq (dio_pwrite2 (fd2, buf, sizeof buf, sizeof buf,
                                 DIO_WRITE_UNSTABLE), sizeof buf);
  test_ganesha ("restart --new-verifier");
  ck_assert_int_eq (dio_fsync (fd2), -1);
  ck_assert_int_eq (errno, EIO);
  /* The COMMIT's failure names the call and the file, once each. */
  test_assert_message ("dio_fsync", test_url ("lossy", NULL),
                       "COMMIT: the server restarted");
  ck_assert_ptr_nonnull (strstr (dio_last_error (), "verifier changed"));
  ck_assert_int_eq (dio_fsync (fd1), -1);       /* told too, once */
  ck_assert_int_eq (errno, EIO);
  ck_assert_int_eq (dio_fsync (fd1), 0);
  ck_assert_int_eq (dio_fsync (fd2), 0);
  dio_close (fd1);
  dio_close (fd2);
}
END_TEST

/* dio_close COMMITs what was written DIO_WRITE_UNSTABLE (as Linux's
 * close does), and fails with EIO, as fsync would, if the server
 * restarted since the writes: they may be lost. */
START_TEST (test_close_commits_unstable)
{
  char buf[65536];
  struct dio_stats st0, st;
  int keep = dio_open (test_url ("close-keep", NULL), O_RDWR | O_CREAT, 0644);
  int fd = dio_open (test_url ("close-commit", NULL), O_RDWR | O_CREAT, 0644);

  ck_assert_msg (fd >= 0 && keep >= 0, "dio_open: %s", dio_last_error ());
  test_fill (buf, sizeof buf, 0, 15);
  ck_assert_int_eq (dio_pwrite2 (fd, buf, sizeof buf, 0, DIO_WRITE_UNSTABLE),
                    sizeof buf);
  /* keep holds the mount, and its counters, across the close. */
  ck_assert_int_eq (dio_stats (keep, &st0), 0);
  ck_assert_msg (dio_close (fd) == 0, "dio_close: %s", dio_last_error ());
  ck_assert_int_eq (dio_stats (keep, &st), 0);
  ck_assert_uint_eq (st.commit_rpcs, st0.commit_rpcs + 1);
  ck_assert (test_local_matches ("close-commit", sizeof buf, 15));
  ck_assert_int_eq (dio_close (keep), 0);
}
END_TEST

START_TEST (test_close_reports_lost_unstable)
{
  char buf[65536];
  int fd;

  TEST_SKIP_ON_MEM ("a restart loses every file: MEM keeps them in the server's memory");
  fd = dio_open (test_url ("close-lost", NULL), O_RDWR | O_CREAT, 0644);

  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  test_fill (buf, sizeof buf, 0, 16);
  ck_assert_int_eq (dio_pwrite2 (fd, buf, sizeof buf, 0, DIO_WRITE_UNSTABLE),
                    sizeof buf);
  test_ganesha ("restart --new-verifier");
  errno = 0;
  ck_assert_int_eq (dio_close (fd), -1);
  ck_assert_int_eq (errno, EIO);
  test_assert_message ("dio_close", test_url ("close-lost", NULL),
                       "verifier changed");
  /* Closed all the same. */
  ck_assert_int_eq (dio_close (fd), -1);
  ck_assert_int_eq (errno, EBADF);
}
END_TEST

Suite *
suite_engine_faults (void)
{
  Suite *s = suite_create ("engine_faults");
  TCase *tc = tcase_create ("faults");

  tcase_set_timeout (tc, 180);
  tcase_add_test (tc, test_resend_after_restart);
  tcase_add_test (tc, test_group_resend_after_restart);
  tcase_add_test (tc, test_soft_timeout);
  tcase_add_test (tc, test_unstable_loss_each_ofd);
  tcase_add_test (tc, test_close_commits_unstable);
  tcase_add_test (tc, test_close_reports_lost_unstable);
  tcase_add_test (tc, test_hard_outage);
  suite_add_tcase (s, tc);
  return s;
}
