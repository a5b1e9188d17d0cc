/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine's data path against a real ganesha: chunking, FILE_SYNC vs
 * UNSTABLE+COMMIT, EOF, the fd calls, mount sharing, memory bounds. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "directio.h"
#include "engine_helpers.h"
#include "check_engine.h"

#define MiB (1024 * 1024)

static int
open_new (const char *file, const char *extra)
{
  int fd = dio_open (test_url (file, extra), O_RDWR | O_CREAT | O_TRUNC, 0644);
  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  return fd;
}

static void
get_stats (int fd, struct dio_stats *st)
{
  ck_assert_int_eq (dio_stats (fd, st), 0);
}

/* The acceptance case: 256 MiB in 8 MiB calls, read back, and the
 * server's own copy, all identical. */
START_TEST (test_roundtrip_256m)
{
  /* Under valgrind every byte costs: a quarter of it proves the same. */
  size_t bs = 8 * MiB, total = getenv ("DIO_UNDER_TOOL") ? 64 * MiB : 256 * MiB;
  char *buf;

  if (test_on_mem ()) {         /* all that FSAL MEM keeps of a file */
    bs = TEST_MEM_FILE_MAX / 4;
    total = TEST_MEM_FILE_MAX;
  }
  buf = malloc (bs);
  int fd = open_new ("rt256", NULL);

  for (size_t off = 0; off < total; off += bs) {
    test_fill (buf, bs, off, 1);
    ck_assert_int_eq (dio_pwrite (fd, buf, bs, off), bs);
  }
  for (size_t off = 0; off < total; off += bs) {
    memset (buf, 0, bs);
    ck_assert_int_eq (dio_pread (fd, buf, bs, off), bs);
    ck_assert_msg (test_check (buf, bs, off, 1), "data differs at %zu", off);
  }
  ck_assert (test_local_matches ("rt256", total, 1));
  ck_assert_int_eq (dio_close (fd), 0);
  free (buf);
}
END_TEST

/* Memory stays bounded whatever the file size: 1 GiB in 8 MiB calls. */
START_TEST (test_peak_rss_1g)
{
  size_t bs = 8 * MiB, total = 1024 * MiB;
  char *buf = malloc (bs);
  int fd = open_new ("rss1g", NULL);

  if (getenv ("DIO_UNDER_TOOL")) {
    dio_close (fd);
    free (buf);
    return;                     /* sanitizers and valgrind inflate RSS */
  }
  memset (buf, 'x', bs);
  for (size_t off = 0; off < total; off += bs)
    ck_assert_int_eq (dio_pwrite (fd, buf, bs, off), bs);
  for (size_t off = 0; off < total; off += bs)
    ck_assert_int_eq (dio_pread (fd, buf, bs, off), bs);
  ck_assert_int_eq (dio_close (fd), 0);
  ck_assert_msg (test_peak_rss_kib () < 64 * 1024, "peak RSS %ld KiB",
                 test_peak_rss_kib ());
  free (buf);
}
END_TEST

/* Reads split at rsize, all chunks counted; rsize option lowers it. */
START_TEST (test_read_split_rsize)
{
  size_t len = 3 * 65536 + 100;
  char *buf = malloc (len);
  struct dio_stats a, b;
  int fd = open_new ("split", "&rsize=65536&wsize=65536");

  test_fill (buf, len, 0, 2);
  ck_assert_int_eq (dio_pwrite (fd, buf, len, 0), len);
  get_stats (fd, &a);
  ck_assert_uint_eq (a.rsize, 65536);
  ck_assert_uint_eq (a.wsize, 65536);
  memset (buf, 0, len);
  ck_assert_int_eq (dio_pread (fd, buf, len, 0), len);
  get_stats (fd, &b);
  ck_assert_uint_eq (b.read_rpcs - a.read_rpcs, 4);
  ck_assert (test_check (buf, len, 0, 2));
  dio_close (fd);
  free (buf);
}
END_TEST

/* A lone read of at most rsize x nconnect is spread over every
 * connection (one chunk each, at least 128 KiB); a larger one goes in
 * rsize chunks. */
START_TEST (test_read_split_lone)
{
  size_t len = 1024 * 1024 + 4096;
  char *buf = malloc (len);
  struct dio_stats a, b, c;
  int fd = open_new ("lone", "&nconnect=2&rsize=1048576");

  test_fill (buf, len, 0, 3);
  ck_assert_int_eq (dio_pwrite (fd, buf, len, 0), len);
  get_stats (fd, &a);
  ck_assert_uint_eq (a.nconnect, 2);
  memset (buf, 0, len);
  ck_assert_int_eq (dio_pread (fd, buf, 1024 * 1024, 0), 1024 * 1024);
  get_stats (fd, &b);
  ck_assert_uint_eq (b.read_rpcs - a.read_rpcs, 2);     /* 2 x 512 KiB */
  ck_assert_int_eq (dio_pread (fd, buf, 200 * 1024, 0), 200 * 1024);
  get_stats (fd, &c);
  ck_assert_uint_eq (c.read_rpcs - b.read_rpcs, 2);     /* 2 x 128 KiB */
  ck_assert_int_eq (dio_pread (fd, buf, len, 0), len);
  ck_assert (test_check (buf, len, 0, 3));
  dio_close (fd);
  free (buf);
}
END_TEST

/* fork: the child has none of the parent's service threads.  An
 * inherited descriptor fails at once with EBADF (it would otherwise wait
 * for ever), and the child's own open makes a mount of its own that
 * works; the parent's descriptor goes on working and sees the child's
 * write.
 *
 * The child reports which step failed (0: none) through a pipe and then
 * kills itself: an exit would run valgrind's leak check in it, which
 * finds what only the parent's threads' stacks pointed to (a reply
 * being freed as the parent forked), a report about the parent, not a
 * leak.  A hang ends in SIGALRM with nothing in the pipe. */
static unsigned char
forked_child (int fd)
{
  char buf[4096], got[4096];
  int fd2;

  if (dio_pread (fd, got, sizeof got, 0) != -1 || errno != EBADF)
    return 1;
  fd2 = dio_open (test_url ("forked", NULL), O_RDWR);
  if (fd2 < 0)
    return 2;
  if (dio_pread (fd2, got, sizeof got, 0) != sizeof got
      || !test_check (got, sizeof got, 0, 51))
    return 3;
  test_fill (buf, sizeof buf, sizeof buf, 52);
  if (dio_pwrite (fd2, buf, sizeof buf, sizeof buf) != sizeof buf)
    return 4;
  return dio_close (fd2) == 0 ? 0 : 5;
}

START_TEST (test_fork_child_starts_afresh)
{
  char buf[4096], got[4096];
  unsigned char step = 0xff;
  int fd, status, p[2];
  pid_t pid;

  /* TSan kills a child of a threaded process that starts threads. */
  if (getenv ("DIO_TSAN")) {
    fprintf (stderr, "test_fork_child_starts_afresh: not under TSan\n");
    return;
  }
  fd = open_new ("forked", NULL);
  test_fill (buf, sizeof buf, 0, 51);
  ck_assert_int_eq (dio_pwrite (fd, buf, sizeof buf, 0), sizeof buf);
  ck_assert_int_eq (pipe (p), 0);
  pid = fork ();
  ck_assert_int_ge (pid, 0);
  if (pid == 0) {
    alarm (60);
    step = forked_child (fd);
    if (write (p[1], &step, 1) != 1)
      _exit (1);
    raise (SIGKILL);
  }
  close (p[1]);
  ck_assert_int_eq (waitpid (pid, &status, 0), pid);
  if (read (p[0], &step, 1) != 1)
    step = 0xff;
  close (p[0]);
  ck_assert_msg (step == 0, "child: step %d failed (ended by %s %d)", step,
                 WIFEXITED (status) ? "exit" : "signal",
                 WIFEXITED (status) ? WEXITSTATUS (status)
                 : WTERMSIG (status));
  ck_assert_int_eq (dio_pread (fd, got, sizeof got, sizeof buf), sizeof got);
  ck_assert (test_check (got, sizeof got, sizeof buf, 52));
  dio_close (fd);
}
END_TEST

/* A write of at most wsize goes FILE_SYNC: no COMMIT.  A larger one goes
 * UNSTABLE with exactly one COMMIT. */
START_TEST (test_write_stability)
{
  char *buf = malloc (4 * 65536);
  struct dio_stats a, b, c;
  int fd = open_new ("stab", "&wsize=65536");

  memset (buf, 's', 4 * 65536);
  get_stats (fd, &a);
  ck_assert_int_eq (dio_pwrite (fd, buf, 65536, 0), 65536);
  get_stats (fd, &b);
  ck_assert_uint_eq (b.write_rpcs - a.write_rpcs, 1);
  ck_assert_uint_eq (b.commit_rpcs - a.commit_rpcs, 0);
  ck_assert_int_eq (dio_pwrite (fd, buf, 4 * 65536, 0), 4 * 65536);
  get_stats (fd, &c);
  ck_assert_uint_eq (c.write_rpcs - b.write_rpcs, 4);
  ck_assert_uint_eq (c.commit_rpcs - b.commit_rpcs, 1);
  ck_assert_uint_eq (c.resends, 0);
  dio_close (fd);
  free (buf);
}
END_TEST

/* A lone write of at least 512 KiB x nconnect (up to wsize x nconnect)
 * is split over the connections: a durable one then needs a COMMIT.  A
 * smaller lone write stays one FILE_SYNC WRITE. */
START_TEST (test_write_split_lone)
{
  size_t len = 1024 * 1024;
  char *buf = malloc (len);
  struct dio_stats a, b, c, d;
  int fd = open_new ("lonew", "&nconnect=2&wsize=1048576");

  test_fill (buf, len, 0, 4);
  get_stats (fd, &a);
  ck_assert_uint_eq (a.nconnect, 2);
  ck_assert_int_eq (dio_pwrite (fd, buf, len, 0), len);
  get_stats (fd, &b);
  ck_assert_uint_eq (b.write_rpcs - a.write_rpcs, 2);   /* 2 x 512 KiB */
  ck_assert_uint_eq (b.commit_rpcs - a.commit_rpcs, 1);
  ck_assert_int_eq (dio_pwrite (fd, buf, 256 * 1024, 0), 256 * 1024);
  get_stats (fd, &c);
  ck_assert_uint_eq (c.write_rpcs - b.write_rpcs, 1);   /* FILE_SYNC */
  ck_assert_uint_eq (c.commit_rpcs - b.commit_rpcs, 0);
  ck_assert_int_eq (dio_pwrite2 (fd, buf, len, 0, DIO_WRITE_UNSTABLE), len);
  get_stats (fd, &d);
  ck_assert_uint_eq (d.write_rpcs - c.write_rpcs, 2);
  ck_assert_uint_eq (d.commit_rpcs - c.commit_rpcs, 0);
  ck_assert_int_eq (dio_fsync (fd), 0);
  memset (buf, 0, len);
  ck_assert_int_eq (dio_pread (fd, buf, len, 0), len);
  ck_assert (test_check (buf, len, 0, 4));
  ck_assert_uint_eq (d.resends, 0);
  dio_close (fd);
  free (buf);
}
END_TEST

/* EOF: the server decides; a read across it returns the prefix. */
START_TEST (test_eof)
{
  char buf[300000];
  int fd = open_new ("eof", "&rsize=65536");

  test_fill (buf, 100000, 0, 3);
  ck_assert_int_eq (dio_pwrite (fd, buf, 100000, 0), 100000);
  ck_assert_int_eq (dio_pread (fd, buf, sizeof buf, 0), 100000);
  ck_assert (test_check (buf, 100000, 0, 3));
  ck_assert_int_eq (dio_pread (fd, buf, 10, 100000), 0);
  ck_assert_int_eq (dio_pread (fd, buf, 10, 1 << 30), 0);
  ck_assert_int_eq (dio_pread (fd, buf, 20, 99990), 10);
  dio_close (fd);
}
END_TEST

/* Zero-length I/O transfers nothing and sends nothing. */
START_TEST (test_zero_length)
{
  struct dio_stats a, b;
  int fd = open_new ("zero", NULL);
  char c;

  get_stats (fd, &a);
  ck_assert_int_eq (dio_pread (fd, &c, 0, 0), 0);
  ck_assert_int_eq (dio_pwrite (fd, &c, 0, 0), 0);
  ck_assert_int_eq (dio_pread (fd, NULL, 0, 5), 0);
  get_stats (fd, &b);
  ck_assert_uint_eq (b.read_rpcs + b.write_rpcs, a.read_rpcs + a.write_rpcs);
  dio_close (fd);
}
END_TEST

/* read/write/lseek/fstat/ftruncate/fsync and the vector forms. */
START_TEST (test_fd_calls)
{
  char a[1000], b[3000];
  struct iovec v[3] = { { a, 1000 }, { b, 3000 }, { a, 0 } };
  struct stat st;
  int fd = open_new ("calls", NULL);

  test_fill (a, sizeof a, 0, 4);
  test_fill (b, sizeof b, 1000, 4);
  ck_assert_int_eq (dio_writev (fd, v, 3), 4000);
  ck_assert_int_eq (dio_lseek (fd, 0, SEEK_CUR), 4000);
  ck_assert_int_eq (dio_write (fd, a, 10), 10);
  ck_assert_int_eq (dio_fstat (fd, &st), 0);
  ck_assert_int_eq (st.st_size, 4010);
  ck_assert (S_ISREG (st.st_mode));
  ck_assert_int_eq (dio_lseek (fd, 0, SEEK_END), 4010);
  ck_assert_int_eq (dio_lseek (fd, 0, SEEK_SET), 0);
  memset (a, 0, sizeof a);
  memset (b, 0, sizeof b);
  ck_assert_int_eq (dio_readv (fd, v, 3), 4000);
  ck_assert (test_check (a, 1000, 0, 4) && test_check (b, 3000, 1000, 4));
  ck_assert_int_eq (dio_preadv (fd, v, 2, 3000), 1010);
  ck_assert (test_check (a, 1000, 3000, 4));
  ck_assert_int_eq (dio_ftruncate (fd, 100), 0);
  ck_assert_int_eq (dio_fstat (fd, &st), 0);
  ck_assert_int_eq (st.st_size, 100);
  ck_assert_int_eq (dio_fsync (fd), 0);
  ck_assert_int_eq (dio_fdatasync (fd), 0);
  ck_assert_int_eq (dio_lseek (fd, 0, SEEK_DATA), 0);
  ck_assert_int_eq (dio_lseek (fd, 0, SEEK_HOLE), 100);
  ck_assert_int_eq (dio_lseek (fd, 100, SEEK_DATA), -1);
  ck_assert_int_eq (errno, ENXIO);
  ck_assert_int_eq (dio_close (fd), 0);
}
END_TEST

/* O_CREAT|O_EXCL, O_TRUNC, access modes. */
START_TEST (test_open_flags)
{
  char buf[100] = "hello";
  int fd = open_new ("flags", NULL), fd2;

  ck_assert_int_eq (dio_pwrite (fd, buf, 100, 0), 100);
  dio_close (fd);
  fd = dio_open (test_url ("flags", NULL), O_RDWR | O_CREAT | O_EXCL, 0644);
  ck_assert_int_eq (fd, -1);
  ck_assert_int_eq (errno, EEXIST);
  fd = dio_open (test_url ("flags", NULL), O_RDONLY);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (dio_pwrite (fd, buf, 1, 0), -1);
  ck_assert_int_eq (errno, EBADF);
  ck_assert_ptr_nonnull (strstr (dio_last_error (), "not open for writing"));
  fd2 = dio_open (test_url ("flags", NULL), O_WRONLY | O_TRUNC);
  ck_assert_int_ge (fd2, 0);
  ck_assert_int_ne (fd, fd2);
  ck_assert_int_eq (dio_pread (fd2, buf, 1, 0), -1);
  ck_assert_int_eq (errno, EBADF);
  ck_assert_int_eq (dio_pread (fd, buf, 100, 0), 0);    /* truncated */
  dio_close (fd);
  dio_close (fd2);
}
END_TEST

/* Files on one export share one mount, whatever their directory. */
START_TEST (test_mount_shared)
{
  struct dio_stats a, b;
  char buf[10] = "x";
  int fd1, fd2;

  test_mkdir ("sub");
  fd1 = open_new ("top", NULL);
  fd2 = open_new ("sub/deeper", NULL);
  get_stats (fd1, &a);
  ck_assert_int_eq (dio_pwrite (fd2, buf, 10, 0), 10);
  get_stats (fd1, &b);
  ck_assert_uint_eq (b.write_rpcs - a.write_rpcs, 1);
  dio_close (fd1);
  dio_close (fd2);
}
END_TEST

static void
open_close_linger (struct dio_stats *st)
{
  int fd = dio_open (test_url ("linger", "&nconnect=3"), O_RDONLY);

  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  get_stats (fd, st);
  ck_assert_int_eq (dio_close (fd), 0);
}

/* A mount outlives its last file for a while (libdirectio/mount.c:
 * linger): an open meanwhile shares it, its counters going on, and its
 * service threads (named, blocking signals: thread.c) go when the time
 * is up; with linger=0, at once. */
START_TEST (test_mount_lingers)
{
  struct dio_stats a, b;
  char buf[10] = "x";
  double deadline;
  int fd = open_new ("linger0", "&linger=0");

  ck_assert_uint_eq (test_threads_named ("dio-conn", 0), 2);
  ck_assert_int_eq (dio_close (fd), 0);
  ck_assert_uint_eq (test_threads_named ("dio-conn", 0), 0);

  fd = open_new ("linger", "&nconnect=3");
  ck_assert_int_eq (dio_pwrite (fd, buf, 10, 0), 10);
  get_stats (fd, &a);
  ck_assert_int_eq (dio_close (fd), 0);
  ck_assert_uint_eq (test_threads_named ("dio-conn", 0), 3);
  /* The engine's threads leave signals to the application's. */
  ck_assert_uint_eq (test_threads_named ("dio-conn", SIGINT), 3);
  ck_assert_uint_eq (test_threads_named ("dio-conn", SIGALRM), 3);
  open_close_linger (&b);
  ck_assert_uint_eq (b.write_rpcs, a.write_rpcs);       /* the same mount */
  ck_assert_uint_eq (test_threads_named ("dio-conn", 0), 3);

  deadline = test_now () + 10;
  while (test_threads_named ("dio-conn", 0) > 0) {
    ck_assert_msg (test_now () < deadline, "the idle mount was never stopped");
    usleep (10000);
  }
  open_close_linger (&b);
  ck_assert_uint_eq (b.write_rpcs, 0);                  /* a new mount */
}
END_TEST

/* A request on an idle connection is sent by its caller (conn.c:
 * start_inline), not queued for the service thread and woken through
 * the eventfd.  For each of 200 sequential reads, each made once the
 * service thread sleeps, the caller sends (caller_sends) and wakes no
 * service thread (wakeups: the old hand-off woke one per read).  The
 * service thread still wakes for each reply, and sleeps again: one
 * sleep per read, 200-268 in all on a quiet machine, 403-594 before.
 * The sleeps are not asserted: a reply that comes while the caller is
 * still sending (preempted, say) makes the thread wait for the context
 * lock (lock_waits), a sleep more; a CI machine saw 400 so.  They are
 * printed if the test fails. */
START_TEST (test_idle_send_inline)
{
  char buf[4096] = "x";
  unsigned long before, sleeps;
  struct dio_stats a, b;
  int fd;

  fd = open_new ("inline", "&nconnect=1");
  ck_assert_int_eq (dio_pwrite (fd, buf, sizeof buf, 0), sizeof buf);
  before = test_thread_sleeps ("dio-conn");
  get_stats (fd, &a);
  for (int i = 0; i < 200; i++) {
    test_threads_wait_asleep ("dio-conn");
    ck_assert_int_eq (dio_pread (fd, buf, sizeof buf, 0), sizeof buf);
  }
  get_stats (fd, &b);
  sleeps = test_thread_sleeps ("dio-conn") - before;
  ck_assert_msg (b.caller_sends - a.caller_sends == 200
                 && b.wakeups == a.wakeups,
                 "200 reads on an idle connection: the caller sent %" PRIu64
                 ", woke the service thread %" PRIu64 " times (it slept %lu"
                 " times, %" PRIu64 " of them waiting for a caller's send)",
                 b.caller_sends - a.caller_sends, b.wakeups - a.wakeups,
                 sleeps, b.lock_waits - a.lock_waits);
  ck_assert_int_eq (dio_close (fd), 0);
}
END_TEST

/* The asynchronous form calls back once with the result. */
struct aio_result { int calls; ssize_t result; int err; };

static void
aio_done (void *opaque, ssize_t result, int err)
{
  struct aio_result *r = opaque;
  __atomic_store_n (&r->result, result, __ATOMIC_RELAXED);
  __atomic_store_n (&r->err, err, __ATOMIC_RELAXED);
  __atomic_fetch_add (&r->calls, 1, __ATOMIC_RELEASE);
}

static void
aio_wait (struct aio_result *r)
{
  double deadline = test_now () + 30;
  while (__atomic_load_n (&r->calls, __ATOMIC_ACQUIRE) == 0) {
    ck_assert_msg (test_now () < deadline, "async request never completed");
    usleep (1000);
  }
}

START_TEST (test_async)
{
  size_t len = test_on_mem () ? TEST_MEM_FILE_MAX : 3 * MiB;
  char *buf = malloc (len);
  struct aio_result w = { 0 }, r = { 0 };
  int fd = open_new ("async", NULL);

  test_fill (buf, len, 0, 5);
  ck_assert_int_eq (dio_aio_pwrite (fd, buf, len, 0, 0, aio_done, &w), 0);
  aio_wait (&w);
  ck_assert_int_eq (w.result, len);
  memset (buf, 0, len);
  ck_assert_int_eq (dio_aio_pread (fd, buf, len, 0, aio_done, &r), 0);
  aio_wait (&r);
  ck_assert_int_eq (r.result, len);
  ck_assert_int_eq (r.calls, 1);
  ck_assert (test_check (buf, len, 0, 5));
  ck_assert_int_eq (dio_aio_pread (fd, buf, len, 0, NULL, NULL), -1);
  ck_assert_int_eq (errno, EINVAL);
  dio_close (fd);
  free (buf);
}
END_TEST

Suite *
suite_engine_io (void)
{
  Suite *s = suite_create ("engine_io");
  TCase *tc = tcase_create ("io");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_roundtrip_256m);
  tcase_add_test (tc, test_peak_rss_1g);
  tcase_add_test (tc, test_read_split_rsize);
  tcase_add_test (tc, test_read_split_lone);
  tcase_add_test (tc, test_write_split_lone);
  tcase_add_test (tc, test_fork_child_starts_afresh);
  tcase_add_test (tc, test_write_stability);
  tcase_add_test (tc, test_eof);
  tcase_add_test (tc, test_zero_length);
  tcase_add_test (tc, test_fd_calls);
  tcase_add_test (tc, test_open_flags);
  tcase_add_test (tc, test_mount_shared);
  tcase_add_test (tc, test_mount_lingers);
  tcase_add_test (tc, test_async);
  tcase_add_test (tc, test_idle_send_inline);
  suite_add_tcase (s, tc);
  return s;
}
