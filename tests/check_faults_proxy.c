/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Short and empty READ and WRITE replies (issue 12, items 1 and 2),
 * through nfsproxy (the RPC fault proxy) in front of the test's ganesha.
 *
 * A server may answer a READ with fewer bytes than asked without being
 * at EOF, or a WRITE with a smaller count.  As Linux does (fs/nfs/read.c
 * and write.c), the engine sends the rest again; a READ answered with
 * zero bytes and no EOF, or a WRITE with count zero, is EIO, never a
 * return of 0 (which every caller takes as end of file).  The same holds
 * for the page cache's fills and write-back (buffered mode), which go
 * through the same direct requests.
 *
 * And a WRITE reply held back: a durable write's COMMIT waits for the
 * other small durable writes still sending (libdirectio/commit.h). */
#include <config.h>

#include <pthread.h>
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "directio.h"
#include "engine_helpers.h"
#include "nfsproxy-client.h"
#include "proxy_helpers.h"
#include "check_faults.h"

#define KiB 1024
#define MiB (1024 * 1024)

static struct nfsproxy *proxy;

static void
setup (void)
{
  proxy = test_proxy_start ();
}

static void
teardown (void)
{
  nfsproxy_stop (proxy);
  proxy = NULL;
}

/* The server's file holds len bytes of the pattern seed. */
static void
put_local (const char *file, size_t len, uint32_t seed)
{
  char *buf = malloc (len);
  int fd = open (test_local (file), O_WRONLY | O_CREAT | O_TRUNC, 0644);

  ck_assert (buf != NULL && fd >= 0);
  test_fill (buf, len, 0, seed);
  ck_assert_int_eq (write (fd, buf, len), len);
  ck_assert_int_eq (close (fd), 0);
  free (buf);
}

/* Rule id fired exactly n times, and the log says so with what. */
static void
assert_fired (int id, long n, const char *what)
{
  char text[64];

  ck_assert_int_eq (nfsproxy_fired (proxy, id), n);
  snprintf (text, sizeof text, "rule=%d %s", id, what);
  ck_assert_msg (nfsproxy_log_count (proxy, text) == n,
                 "'%s' not logged %ld times (%s)", text, n,
                 nfsproxy_log (proxy));
}

/* Open file through the proxy; buffered: through the page cache. */
static int
open_file (const char *file, int flags, bool buffered)
{
  int fd = dio_open (test_proxy_url (proxy, file, NULL), flags, 0644);

  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  if (buffered)
    ck_assert_int_eq (directio (fd, DIRECTIO_OFF), 0);
  return fd;
}

/* A call (r its result, errno cleared before it) failed with EIO. */
static void
assert_eio (ssize_t r)
{
  ck_assert_int_eq (r, -1);
  ck_assert_msg (errno == EIO, "errno %d (%s)", errno, strerror (errno));
}

/* The server's file holds len bytes of the pattern seed; a read of them
 * all, with rule armed, still returns every byte, and the rule fired n
 * times (logged with what). */
static void
assert_read_completes (const char *file, size_t len, uint32_t seed,
                       bool buffered, const char *rule, long n,
                       const char *what)
{
  char *buf = malloc (len);
  int fd, id;

  put_local (file, len, seed);
  fd = open_file (file, O_RDONLY, buffered);
  id = test_proxy_arm (proxy, rule);
  ck_assert_int_eq (dio_pread (fd, buf, len, 0), len);
  ck_assert (test_check (buf, len, 0, seed));
  assert_fired (id, n, what);
  ck_assert_int_eq (dio_close (fd), 0);
  free (buf);
}

/* A direct write of len bytes of the pattern seed to a new file, with
 * rule armed, returns the whole count, the rule fired n times (logged
 * with what), and the server has every byte. */
static void
assert_write_completes (const char *file, size_t len, uint32_t seed,
                        const char *rule, long n, const char *what)
{
  char *buf = malloc (len);
  int fd, id;

  fd = open_file (file, O_RDWR | O_CREAT | O_TRUNC, false);
  test_fill (buf, len, 0, seed);
  id = test_proxy_arm (proxy, rule);
  ck_assert_int_eq (dio_pwrite (fd, buf, len, 0), len);
  assert_fired (id, n, what);
  ck_assert_int_eq (dio_close (fd), 0);
  ck_assert (test_local_matches (file, len, seed));
  free (buf);
}

/* A READ answered with half its bytes and no EOF: the rest is asked for
 * again, and the caller gets the whole range. */
START_TEST (test_read_short_continued)
{
  assert_read_completes ("short.bin", 64 * KiB, 1, false, "READ:short", 1,
                         "short count 65536->32768");
}
END_TEST

/* The same inside a large request (a later chunk short), and two short
 * answers in a row for the same chunk. */
START_TEST (test_read_short_in_large_request)
{
  assert_read_completes ("large.bin", 6 * MiB, 2, false,
                         "READ:short=1000:nth=2:times=3", 3, "short count");
}
END_TEST

/* A READ answered with no bytes and no EOF is EIO, not end of file. */
START_TEST (test_read_zero_is_eio)
{
  size_t len = 64 * KiB;
  char *buf = malloc (len);
  int fd, id;

  put_local ("zero.bin", len, 3);
  fd = open_file ("zero.bin", O_RDONLY, false);
  id = test_proxy_arm (proxy, "READ:zero");
  errno = 0;
  assert_eio (dio_pread (fd, buf, len, 0));
  assert_fired (id, 1, "zero count 65536->0");
  /* Once the server answers properly, the data is all there. */
  ck_assert_int_eq (dio_pread (fd, buf, len, 0), len);
  ck_assert (test_check (buf, len, 0, 3));
  ck_assert_int_eq (dio_close (fd), 0);
  free (buf);
}
END_TEST

/* A short reply at the real EOF is the end: nothing more is asked. */
START_TEST (test_read_eof_not_continued)
{
  size_t len = 100000;
  char *buf = malloc (64 * KiB);
  int fd, id;

  put_local ("eof.bin", len, 4);
  fd = open_file ("eof.bin", O_RDONLY, false);
  id = test_proxy_arm (proxy, "READ:pass");
  ck_assert_int_eq (dio_pread (fd, buf, 64 * KiB, 60000), len - 60000);
  ck_assert (test_check (buf, len - 60000, 60000, 4));
  ck_assert_int_eq (nfsproxy_fired (proxy, id), 1);
  ck_assert_int_eq (dio_close (fd), 0);
  free (buf);
}
END_TEST

/* A WRITE answered with a smaller count: the rest is sent again, the
 * caller gets the whole count, the server has every byte. */
START_TEST (test_write_short_continued)
{
  assert_write_completes ("wshort.bin", 64 * KiB, 5, "WRITE:short", 1,
                          "short count 65536->32768");
}
END_TEST

/* The same for UNSTABLE chunks of a large write (then COMMIT). */
START_TEST (test_write_short_in_large_request)
{
  assert_write_completes ("wlarge.bin", 6 * MiB, 6,
                          "WRITE:short=4096:nth=2:times=3", 3, "short count");
}
END_TEST

/* A WRITE answered with count 0 is EIO. */
START_TEST (test_write_zero_is_eio)
{
  size_t len = 64 * KiB;
  char *buf = malloc (len);
  int fd, id;

  fd = open_file ("wzero.bin", O_RDWR | O_CREAT | O_TRUNC, false);
  test_fill (buf, len, 0, 7);
  id = test_proxy_arm (proxy, "WRITE:zero");
  errno = 0;
  assert_eio (dio_pwrite (fd, buf, len, 0));
  assert_fired (id, 1, "zero count 65536->0");
  ck_assert_int_eq (dio_close (fd), 0);
  free (buf);
}
END_TEST

/* Buffered mode: a fill whose READ comes back short is completed; one
 * that comes back empty without EOF is EIO, and the file keeps its
 * size (it used to be taken as EOF, and the file shrank). */
START_TEST (test_buffered_read_short)
{
  assert_read_completes ("bshort.bin", 256 * KiB, 8, true, "READ:short", 1,
                         "short count");
}
END_TEST

START_TEST (test_buffered_read_zero)
{
  size_t len = 256 * KiB;
  char *buf = malloc (len);
  struct stat st;
  int fd, id;

  put_local ("bzero.bin", len, 8);
  fd = open_file ("bzero.bin", O_RDONLY, true);
  id = test_proxy_arm (proxy, "READ:zero");
  errno = 0;
  assert_eio (dio_pread (fd, buf, 4096, 0));
  assert_fired (id, 1, "zero count");
  ck_assert_int_eq (dio_fstat (fd, &st), 0);
  ck_assert_int_eq (st.st_size, len);
  ck_assert_int_eq (dio_pread (fd, buf, len, 0), len);
  ck_assert (test_check (buf, len, 0, 8));
  ck_assert_int_eq (dio_close (fd), 0);
  free (buf);
}
END_TEST

/* Buffered mode: write-back whose WRITE comes back short completes. */
START_TEST (test_buffered_write_short)
{
  size_t len = 256 * KiB;
  char *buf = malloc (len);
  int fd, id;

  fd = open_file ("bwrite.bin", O_RDWR | O_CREAT | O_TRUNC, true);
  test_fill (buf, len, 0, 9);
  id = test_proxy_arm (proxy, "WRITE:short:times=2");
  ck_assert_int_eq (dio_pwrite (fd, buf, len, 0), len);
  ck_assert_msg (dio_fsync (fd) == 0, "fsync: %s", dio_last_error ());
  ck_assert_int_ge (nfsproxy_fired (proxy, id), 1);
  ck_assert_int_eq (dio_close (fd), 0);
  ck_assert (test_local_matches ("bwrite.bin", len, 9));
  free (buf);
}
END_TEST

struct writer {
  int fd;
  off_t offset;
  ssize_t r;
  char msg[256];
};

/* 64 KiB of the pattern 10 at w->offset, durable. */
static void *
write_thread (void *arg)
{
  struct writer *w = arg;
  char *buf = malloc (64 * KiB);

  test_fill (buf, 64 * KiB, w->offset, 10);
  w->r = dio_pwrite (w->fd, buf, 64 * KiB, w->offset);
  snprintf (w->msg, sizeof w->msg, "%s", dio_last_error ());
  free (buf);
  return NULL;
}

/* Two durable 64 KiB writes of two 32 KiB WRITEs each (wsize=32768, so
 * both go UNSTABLE and need a COMMIT).  The first's first WRITE reply is
 * held 2 s (long enough for the second to start, even under valgrind);
 * the second's WRITEs answer meanwhile.  Its COMMIT waits for the first
 * to join, and one COMMIT makes both durable (before: two, the second's
 * sent at once). */
START_TEST (test_commit_waits_for_small_writes)
{
  const char *url = test_proxy_url (proxy, "held.bin", "&wsize=32768");
  struct writer first = { .offset = 0 }, second = { .offset = 64 * KiB };
  struct dio_stats a, b;
  pthread_t th;
  int hold, i;

  first.fd = second.fd = dio_open (url, O_RDWR | O_CREAT | O_TRUNC, 0644);
  ck_assert_msg (first.fd >= 0, "dio_open: %s", dio_last_error ());
  ck_assert_int_eq (dio_stats (first.fd, &a), 0);
  hold = test_proxy_arm (proxy, "WRITE:delay=2000");
  ck_assert_int_eq (pthread_create (&th, NULL, write_thread, &first), 0);
  for (i = 0; i < 300 && nfsproxy_fired (proxy, hold) < 1; i++)
    usleep (10000);
  assert_fired (hold, 1, "delay");
  write_thread (&second);
  pthread_join (th, NULL);
  ck_assert_msg (first.r == 64 * KiB, "first write: %s", first.msg);
  ck_assert_msg (second.r == 64 * KiB, "second write: %s", second.msg);
  ck_assert_int_eq (dio_stats (first.fd, &b), 0);
  ck_assert_uint_eq (b.commit_joins - a.commit_joins, 2);
  ck_assert_msg (b.commit_rpcs - a.commit_rpcs == 1, "%ju COMMITs for two "
                 "writes: the second did not wait for the first",
                 (uintmax_t) (b.commit_rpcs - a.commit_rpcs));
  ck_assert_int_eq (dio_close (first.fd), 0);
  ck_assert (test_local_matches ("held.bin", 128 * KiB, 10));
}
END_TEST

Suite *
suite_faults_proxy (void)
{
  Suite *s = suite_create ("faults-proxy");
  TCase *tc = tcase_create ("short");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_read_short_continued);
  tcase_add_test (tc, test_read_short_in_large_request);
  tcase_add_test (tc, test_read_zero_is_eio);
  tcase_add_test (tc, test_read_eof_not_continued);
  tcase_add_test (tc, test_write_short_continued);
  tcase_add_test (tc, test_write_short_in_large_request);
  tcase_add_test (tc, test_write_zero_is_eio);
  tcase_add_test (tc, test_buffered_read_short);
  tcase_add_test (tc, test_buffered_read_zero);
  tcase_add_test (tc, test_buffered_write_short);
  suite_add_tcase (s, tc);
  tc = tcase_create ("commit");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_commit_waits_for_small_writes);
  suite_add_tcase (s, tc);
  return s;
}
