/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Buffered mode against the server: readahead, write-back at close and
 * fsync in large requests, the cache= bound on memory, many threads on
 * one descriptor, truncation and fstat of cached data. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_directio.h"
#include "engine_helpers.h"

#define KiB 1024
#define MiB (1024 * 1024)
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* A sequential reader in 4 KiB steps: a handful of large READs. */
START_TEST (test_readahead)
{
  char buf[4 * KiB];
  struct dio_stats st;
  int fd, reads = 0;

  use_data_profile (NULL);
  put_local ("seq.bin", 8 * MiB, 1);
  fd = dio_open (MNT "/seq.bin", O_RDONLY);
  ck_assert_msg (fd >= 0, "%s", dio_last_error ());
  for (uint64_t off = 0; off < 8 * MiB; off += sizeof buf, reads++) {
    ck_assert_int_eq (dio_read (fd, buf, sizeof buf), sizeof buf);
    ck_assert_msg (test_check (buf, sizeof buf, off, 1), "at %ju",
                   (uintmax_t) off);
  }
  ck_assert_int_eq (dio_read (fd, buf, sizeof buf), 0);
  st = stats_of (fd);
  /* Pages alone would take 128 READs (8 MiB in 64 KiB pages). */
  ck_assert_msg (st.read_rpcs * 64 <= (uint64_t) reads,
                 "%ju READs for %d reads", (uintmax_t) st.read_rpcs, reads);
  ck_assert_uint_eq (st.cache_read_bytes, 8 * MiB);
  ck_assert_uint_eq (st.direct_read_bytes, 0);
  ck_assert_int_eq (dio_close (fd), 0);
}
END_TEST

/* Random reads fetch their pages only: no READ beyond one per read. */
START_TEST (test_random_reads)
{
  char buf[4 * KiB];
  int fd;

  use_data_profile (NULL);
  put_local ("rand.bin", 8 * MiB, 2);
  fd = dio_open (MNT "/rand.bin", O_RDONLY);
  ck_assert_msg (fd >= 0, "%s", dio_last_error ());
  for (int i = 0; i < 20; i++) {
    uint64_t off = (uint64_t) ((i * 7919) % 2000) * 4096 + 100;
    ck_assert_int_eq (dio_pread (fd, buf, sizeof buf, off), sizeof buf);
    ck_assert (test_check (buf, sizeof buf, off, 2));
  }
  ck_assert_uint_le (stats_of (fd).read_rpcs, 20);
  ck_assert_int_eq (dio_close (fd), 0);
}
END_TEST

/* Small writes stay cached until close, which writes them back as a few
 * large requests. */
START_TEST (test_writeback_at_close)
{
  char *buf = malloc (3 * MiB);
  struct dio_stats st;
  int fd, keep;

  use_data_profile (NULL);
  test_fill (buf, 3 * MiB, 0, 3);
  /* Another descriptor keeps the mount (and its counters) alive. */
  put_local ("keep.bin", 1, 0);
  keep = dio_open (MNT "/keep.bin", O_RDONLY);
  fd = dio_open (MNT "/close.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
  ck_assert_msg (fd >= 0 && keep >= 0, "%s", dio_last_error ());
  for (uint64_t off = 0; off < 3 * MiB; off += 4 * KiB)
    ck_assert_int_eq (dio_write (fd, buf + off, 4 * KiB), 4 * KiB);
  ck_assert_uint_eq (stats_of (fd).write_rpcs, 0);
  ck_assert_int_eq (local_size ("close.bin"), 0);
  ck_assert_int_eq (dio_close (fd), 0);
  ck_assert (local_has ("close.bin", 0, 3 * MiB, 3));
  ck_assert_int_eq (local_size ("close.bin"), 3 * MiB);
  st = stats_of (keep);
  ck_assert_msg (st.write_rpcs <= 3 * MiB / st.wsize + 1,
                 "%ju WRITEs of %u bytes for 3 MiB",
                 (uintmax_t) st.write_rpcs, st.wsize);
  ck_assert_uint_eq (st.direct_write_bytes, 0);
  ck_assert_int_eq (dio_close (keep), 0);
  free (buf);
}
END_TEST

START_TEST (test_fsync)
{
  char *buf = malloc (MiB);
  int fd;

  use_data_profile (NULL);
  test_fill (buf, MiB, 0, 4);
  fd = dio_open (MNT "/fsync.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
  ck_assert_msg (fd >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_pwrite (fd, buf, MiB, 0), MiB);
  ck_assert_int_eq (local_size ("fsync.bin"), 0);
  ck_assert_int_eq (dio_fsync (fd), 0);
  ck_assert (local_has ("fsync.bin", 0, MiB, 4));
  ck_assert_int_eq (dio_close (fd), 0);
  free (buf);
}
END_TEST

/* With cache=4M, reading and writing 64 MiB keeps the process's memory
 * far below what caching all of it would take. */
START_TEST (test_memory_bounded)
{
  size_t bs = MiB;
  char *buf = malloc (bs);
  long before, after;
  int fd;

  use_data_profile ("cache=4M");
  put_local ("big.bin", 64 * MiB, 5);
  memset (buf, 0, bs);
  fd = dio_open (MNT "/big.bin", O_RDWR);
  ck_assert_msg (fd >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_pread (fd, buf, bs, 0), bs);  /* warm up */
  before = test_peak_rss_kib ();
  for (uint64_t off = 0; off < 64 * MiB; off += bs) {
    ck_assert_int_eq (dio_pread (fd, buf, bs, off), bs);
    ck_assert (test_check (buf, bs, off, 5));
  }
  for (uint64_t off = 0; off < 64 * MiB; off += bs) {
    test_fill (buf, bs, off, 6);
    ck_assert_int_eq (dio_pwrite (fd, buf, bs, off), bs);
  }
  after = test_peak_rss_kib ();
  ck_assert_int_eq (dio_close (fd), 0);
  ck_assert (local_has ("big.bin", 0, 64 * MiB, 6));
/* Not with ASan (its quarantine keeps freed memory) nor TSan (its shadow
 * of every byte touched counts in RSS). */
#if !defined __SANITIZE_ADDRESS__ && !defined __SANITIZE_THREAD__
  ck_assert_msg (after - before < 24 * 1024,
                 "peak RSS grew by %ld KiB with cache=4M", after - before);
#endif
  free (buf);
}
END_TEST

struct worker {
  int fd;
  uint64_t base, len;
  uint32_t seed;
  int failures;
};

static void *
worker_main (void *arg)
{
  struct worker *w = arg;
  char *buf = malloc (w->len), *got = malloc (w->len);
  uint64_t off = 0;

  test_fill (buf, w->len, w->base, w->seed);
  /* Uneven pieces, so that pages are shared with the neighbours. */
  for (unsigned n = 1000; off < w->len; n = n * 3 % 70000 + 1000) {
    uint64_t len = MIN (n, w->len - off);
    if (dio_pwrite (w->fd, buf + off, len, w->base + off) != (ssize_t) len)
      w->failures++;
    off += len;
  }
  if (dio_pread (w->fd, got, w->len, w->base) != (ssize_t) w->len
      || memcmp (got, buf, w->len) != 0)
    w->failures++;
  free (buf);
  free (got);
  return NULL;
}

/* Many threads on one descriptor, cached, each on its own bytes. */
START_TEST (test_threads)
{
  struct worker w[6];
  pthread_t t[6];
  int fd;

  use_data_profile ("cache=2M");
  fd = dio_open (MNT "/threads.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
  ck_assert_msg (fd >= 0, "%s", dio_last_error ());
  for (int i = 0; i < 6; i++) {
    w[i] = (struct worker) { fd, i * 1500 * KiB + 77, 1500 * KiB, 10 + i, 0 };
    ck_assert_int_eq (pthread_create (&t[i], NULL, worker_main, &w[i]), 0);
  }
  for (int i = 0; i < 6; i++) {
    pthread_join (t[i], NULL);
    ck_assert_int_eq (w[i].failures, 0);
  }
  ck_assert_int_eq (dio_close (fd), 0);
  for (int i = 0; i < 6; i++)
    ck_assert (local_has ("threads.bin", w[i].base, w[i].len, w[i].seed));
}
END_TEST

/* Truncating a file with cached data, and fstat of unwritten data. */
START_TEST (test_truncate_and_fstat)
{
  char *buf = malloc (MiB), c;
  struct stat st;
  int fd;

  use_data_profile (NULL);
  test_fill (buf, MiB, 0, 7);
  fd = dio_open (MNT "/trunc.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
  ck_assert_msg (fd >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_pwrite (fd, buf, 300 * KiB, 0), 300 * KiB);
  ck_assert_int_eq (dio_fstat (fd, &st), 0);
  ck_assert_int_eq (st.st_size, 300 * KiB);
  ck_assert_int_eq (dio_lseek (fd, 0, SEEK_END), 300 * KiB);
  ck_assert_int_eq (dio_pwrite (fd, buf, MiB, 0), MiB);
  ck_assert_int_eq (dio_ftruncate (fd, 100 * KiB), 0);
  ck_assert_int_eq (dio_pread (fd, &c, 1, 200 * KiB), 0);
  ck_assert_int_eq (dio_pread (fd, buf, MiB, 0), 100 * KiB);
  ck_assert (test_check (buf, 100 * KiB, 0, 7));
  ck_assert_int_eq (dio_close (fd), 0);
  ck_assert_int_eq (local_size ("trunc.bin"), 100 * KiB);
  free (buf);
}
END_TEST

/* ---- another client changes the file (attribute cache) ------------- */

/* Read fd from where it is to EOF; the bytes read. */
static uint64_t
read_to_eof (int fd)
{
  char buf[16 * KiB];
  uint64_t total = 0;
  ssize_t n;

  while ((n = dio_read (fd, buf, sizeof buf)) > 0)
    total += n;
  ck_assert_msg (n == 0, "dio_read: %s", dio_last_error ());
  return total;
}

/* Another client appends len bytes of pattern seed at off to file: a URL
 * open is direct, on a mount (and connections) of its own. */
static void
other_client_writes (const char *file, uint64_t off, size_t len,
                     uint32_t seed)
{
  char *buf = malloc (len);
  int w = dio_open (test_url (file, NULL), O_WRONLY);

  ck_assert_msg (w >= 0, "%s", dio_last_error ());
  test_fill (buf, len, off, seed);
  ck_assert_int_eq (dio_pwrite (w, buf, len, off), len);
  ck_assert_int_eq (dio_close (w), 0);
  free (buf);
}

/* Under the data profile opts (NULL: the defaults), a reader (open with
 * flags) of FILE, 100 KiB of the pattern seed, reads to the end; then
 * another client appends 50 KiB of it.  The reader's descriptor. */
static int
reader_at_eof_meets_append (const char *opts, const char *file, int flags,
                            uint32_t seed)
{
  char path[256];
  int r;

  use_data_profile (opts);
  put_local (file, 100 * KiB, seed);
  snprintf (path, sizeof path, MNT "/%s", file);
  r = dio_open (path, flags);
  ck_assert_msg (r >= 0, "%s", dio_last_error ());
  ck_assert_uint_eq (read_to_eof (r), 100 * KiB);
  other_client_writes (file, 100 * KiB, 50 * KiB, seed);
  return r;
}

/* tail -f, with the default attribute cache: once fstat has seen the
 * file grow, read() returns the new bytes (it used to return 0 for
 * ever: the cache kept the size it saw at open). */
START_TEST (test_tail_fstat)
{
  char buf[64 * KiB];
  struct stat st;
  int r;

  r = reader_at_eof_meets_append (NULL, "tail1.bin", O_RDONLY, 40);
  ck_assert_int_eq (dio_fstat (r, &st), 0);
  ck_assert_int_eq (st.st_size, 150 * KiB);
  ck_assert_int_eq (dio_read (r, buf, sizeof buf), 50 * KiB);
  ck_assert (test_check (buf, 50 * KiB, 100 * KiB, 40));
  ck_assert_int_eq (dio_read (r, buf, sizeof buf), 0);
  ck_assert_int_eq (dio_close (r), 0);
}
END_TEST

/* tail -f without fstat, actimeo=1: a reader at the cached EOF sees the
 * appended bytes once the attributes time out (bounded poll). */
START_TEST (test_tail_actimeo)
{
  char buf[64 * KiB];
  double start, deadline;
  ssize_t n;
  int r;

  r = reader_at_eof_meets_append ("actimeo=1", "tail2.bin", O_RDONLY, 41);
  start = test_now ();
  deadline = start + 30;
  while ((n = dio_read (r, buf, sizeof buf)) == 0) {
    ck_assert_msg (test_now () < deadline,
                   "the appended bytes never showed up");
    usleep (20 * 1000);
  }
  ck_assert_int_eq (n, 50 * KiB);
  ck_assert (test_check (buf, 50 * KiB, 100 * KiB, 41));
  ck_assert_int_eq (dio_close (r), 0);
}
END_TEST

/* noac: no attribute cache.  Appended bytes show at the very next read,
 * and so do bytes another client rewrote in place (the cached pages go
 * when mtime/ctime moved); writes are synchronous. */
START_TEST (test_noac)
{
  char buf[64 * KiB];
  struct stat before, after;
  int r, tries = 0;

  r = reader_at_eof_meets_append ("noac", "noac.bin", O_RDWR, 42);
  ck_assert_int_eq (dio_read (r, buf, sizeof buf), 50 * KiB);
  ck_assert (test_check (buf, 50 * KiB, 100 * KiB, 42));

  ck_assert_int_eq (dio_pread (r, buf, 4 * KiB, 0), 4 * KiB);
  ck_assert (test_check (buf, 4 * KiB, 0, 42));
  /* Rewrite in place until the server's clock shows it (timestamps
   * are as coarse as the export's file system). */
  ck_assert_int_eq (stat (test_local ("noac.bin"), &before), 0);
  do {
    ck_assert_int_lt (tries++, 1000);
    other_client_writes ("noac.bin", 0, 4 * KiB, 43);
    ck_assert_int_eq (stat (test_local ("noac.bin"), &after), 0);
  } while (after.st_mtim.tv_sec == before.st_mtim.tv_sec
           && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
  ck_assert_int_eq (dio_pread (r, buf, 4 * KiB, 0), 4 * KiB);
  ck_assert (test_check (buf, 4 * KiB, 0, 43));

  /* Every read asks the server (one GETATTR each). */
  {
    struct dio_stats st0 = stats_of (r);
    for (int i = 0; i < 10; i++)
      ck_assert_int_eq (dio_pread (r, buf, 100, 200), 100);
    ck_assert_uint_ge (stats_of (r).other_rpcs - st0.other_rpcs, 10);
  }

  /* Synchronous writes: on the server when the call returns. */
  test_fill (buf, 4 * KiB, 8 * KiB, 44);
  ck_assert_int_eq (dio_pwrite (r, buf, 4 * KiB, 8 * KiB), 4 * KiB);
  ck_assert (local_has ("noac.bin", 8 * KiB, 4 * KiB, 44));
  ck_assert_int_eq (dio_close (r), 0);
}
END_TEST

/* Within the attribute timeout, reads are served from the cache with no
 * GETATTR at all; an open fetches attributes once. */
START_TEST (test_attr_cache_holds)
{
  char buf[100], *all = malloc (256 * KiB);
  struct dio_stats st0, st;
  int r, again;

  use_data_profile ("actimeo=3600");
  put_local ("hold.bin", 256 * KiB, 46);
  r = dio_open (MNT "/hold.bin", O_RDONLY);
  ck_assert_msg (r >= 0, "%s", dio_last_error ());
  /* All of it cached, no readahead left in flight (a random read next). */
  ck_assert_int_eq (dio_pread (r, all, 256 * KiB, 0), 256 * KiB);
  ck_assert_int_eq (dio_pread (r, buf, sizeof buf, 1000), sizeof buf);
  free (all);
  st0 = stats_of (r);
  for (int i = 0; i < 100; i++)
    ck_assert_int_eq (dio_pread (r, buf, sizeof buf, i * 2000), sizeof buf);
  st = stats_of (r);
  ck_assert_uint_eq (st.other_rpcs, st0.other_rpcs);
  ck_assert_uint_eq (st.read_rpcs, st0.read_rpcs);
  /* A reopen: its LOOKUP and one GETATTR (the open's own), no more. */
  again = dio_open (MNT "/hold.bin", O_RDONLY);
  ck_assert_msg (again >= 0, "%s", dio_last_error ());
  ck_assert_uint_le (stats_of (r).other_rpcs - st.other_rpcs, 2);
  ck_assert_int_eq (dio_close (again), 0);
  ck_assert_int_eq (dio_close (r), 0);
}
END_TEST

/* ---- asynchronous I/O next to cached pages -------------------------- */

/* An aio read below cached dirty pages that extend the file: the dirty
 * pages are written back first (all of them, not only the read's
 * range), so the read finds the file's real size, not a false EOF. */
START_TEST (test_aio_read_below_dirty)
{
  struct test_aio w = TEST_AIO_INIT;
  char buf[4 * KiB], got[4 * KiB], zero[4 * KiB] = { 0 };
  int fd;

  use_data_profile (NULL);
  fd = dio_open (MNT "/aio-eof.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
  ck_assert_msg (fd >= 0, "%s", dio_last_error ());
  test_fill (buf, sizeof buf, MiB, 45);
  ck_assert_int_eq (dio_pwrite (fd, buf, sizeof buf, MiB), sizeof buf);
  ck_assert_int_eq (local_size ("aio-eof.bin"), 0);     /* still cached */
  memset (got, 1, sizeof got);
  ck_assert_int_eq (dio_aio_pread (fd, got, sizeof got, 0, test_aio_done,
                                   &w), 0);
  test_aio_wait (&w);
  ck_assert_int_eq (w.result, sizeof got);
  ck_assert (memcmp (got, zero, sizeof got) == 0);
  ck_assert (local_has ("aio-eof.bin", MiB, sizeof buf, 45));
  ck_assert_int_eq (dio_close (fd), 0);
}
END_TEST

Suite *
suite_directio_buffered (void)
{
  Suite *s = suite_create ("directio-buffered");
  TCase *tc = tcase_create ("buffered");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_readahead);
  tcase_add_test (tc, test_random_reads);
  tcase_add_test (tc, test_writeback_at_close);
  tcase_add_test (tc, test_fsync);
  tcase_add_test (tc, test_memory_bounded);
  tcase_add_test (tc, test_threads);
  tcase_add_test (tc, test_truncate_and_fstat);
  tcase_add_test (tc, test_tail_fstat);
  tcase_add_test (tc, test_tail_actimeo);
  tcase_add_test (tc, test_noac);
  tcase_add_test (tc, test_attr_cache_holds);
  tcase_add_test (tc, test_aio_read_below_dirty);
  suite_add_tcase (s, tc);
  return s;
}
