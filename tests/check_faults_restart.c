/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Server restarts during one long stream of large direct writes, during
 * a stream of large reads, and between DIO_WRITE_UNSTABLE writes and
 * their fsync.
 *
 * A writer thread writes 8–32 MiB at random unaligned offsets of one
 * file, each write with its own pattern, reads every write back, and
 * keeps a model of what the file must hold.  Meanwhile the test's own
 * thread kills ganesha (SIGKILL or SIGTERM) a few milliseconds after a
 * write has begun, so that the server goes away between the UNSTABLE
 * replies and the COMMIT or in the middle of the chunks, and starts it
 * again with a new write verifier; several times.  On a hard mount no
 * call may fail; at the end the server's file is exactly the model: a
 * write that returned success was never lost.
 *
 * DIO_FAULT_RESTARTS sets the number of restarts (default 5);
 * FAULT_SEED replays the offsets and sizes. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "directio.h"
#include "engine_helpers.h"
#include "fault_helpers.h"
#include "check_faults.h"

#define MiB (1024 * 1024)
#define FILE_SIZE (96 * MiB)
#define MAX_OPS 2000            /* bounds the loop whatever the clock says */
#define DEADLINE_S 600
/* An operation takes well under a second (tens of seconds under
 * valgrind): this long without one is a hang. */
#define STALL_S (fault_under_tool () ? 180 : 30)

struct stream {
  int fd;
  uint64_t rng;                 /* stream thread only */
  uint64_t ctl_rng;             /* controller only */
  bool reads;                   /* a stream of reads, not of writes */
  char *model;                  /* stream thread only, until joined */
  uint64_t size;                /* the same: the file's length */

  pthread_mutex_t lock;
  pthread_cond_t cond;
  /* Guarded by lock. */
  unsigned started, completed;  /* operations begun and finished */
  double op_s;                  /* how long the last operation took */
  bool stop;                    /* the controller is done */
  bool failed;
  char why[512];
};

static void
stream_fail (struct stream *s, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

static void
stream_fail (struct stream *s, const char *fmt, ...)
{
  va_list ap;

  pthread_mutex_lock (&s->lock);
  va_start (ap, fmt);
  vsnprintf (s->why, sizeof s->why, fmt, ap);
  va_end (ap);
  s->failed = true;
  pthread_cond_broadcast (&s->cond);
  pthread_mutex_unlock (&s->lock);
}

static void
stream_note (struct stream *s, unsigned *counter)
{
  pthread_mutex_lock (&s->lock);
  ++*counter;
  pthread_cond_broadcast (&s->cond);
  pthread_mutex_unlock (&s->lock);
}

/* One write and its read-back.  Returns false when the stream must end. */
static bool
one_write (struct stream *s, unsigned i, char *buf, char *back)
{
  size_t len = fault_range (&s->rng, 8 * MiB, 32 * MiB);
  uint64_t off = fault_range (&s->rng, 0, FILE_SIZE - len);
  ssize_t r;

  double t0;

  fault_fill (buf, len, off, i + 1);
  stream_note (s, &s->started);
  t0 = test_now ();
  r = dio_pwrite (s->fd, buf, len, off);
  pthread_mutex_lock (&s->lock);
  s->op_s = test_now () - t0;
  pthread_mutex_unlock (&s->lock);
  if (r != (ssize_t) len) {
    stream_fail (s, "write %u (%zu bytes at %" PRIu64 ") returned %zd: %s",
                 i, len, off, r, r < 0 ? dio_last_error () : "short");
    return false;
  }
  /* Acknowledged: from now on the server must have it. */
  memcpy (s->model + off, buf, len);
  if (off + len > s->size)
    s->size = off + len;
  r = dio_pread (s->fd, back, len, off);
  if (r != (ssize_t) len || memcmp (back, buf, len) != 0) {
    stream_fail (s, "read-back of write %u (%zu bytes at %" PRIu64
                 ") returned %zd%s%s", i, len, off, r,
                 r < 0 ? ": " : ", data differs",
                 r < 0 ? dio_last_error () : "");
    return false;
  }
  stream_note (s, &s->completed);
  return true;
}

/* One large read, checked against the model. */
static bool
one_read (struct stream *s, unsigned i, char *back)
{
  size_t len = fault_range (&s->rng, 8 * MiB, 32 * MiB);
  uint64_t off = fault_range (&s->rng, 0, s->size - len);
  ssize_t r;
  double t0;

  stream_note (s, &s->started);
  t0 = test_now ();
  r = dio_pread (s->fd, back, len, off);
  pthread_mutex_lock (&s->lock);
  s->op_s = test_now () - t0;
  pthread_mutex_unlock (&s->lock);
  if (r != (ssize_t) len || memcmp (back, s->model + off, len) != 0) {
    stream_fail (s, "read %u (%zu bytes at %" PRIu64 ") returned %zd%s%s",
                 i, len, off, r, r < 0 ? ": " : ", data differs",
                 r < 0 ? dio_last_error () : "");
    return false;
  }
  stream_note (s, &s->completed);
  return true;
}

/* The stream thread: writes (each read back) or reads, until told to
 * stop. */
static void *
stream_thread (void *arg)
{
  struct stream *s = arg;
  char *buf = malloc (32 * MiB), *back = malloc (32 * MiB);
  double deadline = test_now () + DEADLINE_S;

  if (buf == NULL || back == NULL)
    stream_fail (s, "out of memory");
  for (unsigned i = 0; buf && back && i < MAX_OPS; i++) {
    bool stop;

    pthread_mutex_lock (&s->lock);
    stop = s->stop;
    pthread_mutex_unlock (&s->lock);
    if (stop)
      break;
    if (test_now () > deadline) {
      stream_fail (s, "still going after %d s", DEADLINE_S);
      break;
    }
    if (!(s->reads ? one_read (s, i, back) : one_write (s, i, buf, back)))
      break;
  }
  free (buf);
  free (back);
  return NULL;
}

/* Wait until *counter exceeds target (or the stream failed); false on
 * timeout or failure. */
static bool
wait_count (struct stream *s, const unsigned *counter, unsigned target,
            int seconds)
{
  struct timespec until;
  bool ok;

  clock_gettime (CLOCK_REALTIME, &until);
  until.tv_sec += seconds;
  pthread_mutex_lock (&s->lock);
  while (*counter <= target && !s->failed)
    if (pthread_cond_timedwait (&s->cond, &s->lock, &until) == ETIMEDOUT)
      break;
  ok = *counter > target && !s->failed;
  pthread_mutex_unlock (&s->lock);
  return ok;
}

static unsigned
count_of (struct stream *s, const unsigned *counter)
{
  unsigned v;

  pthread_mutex_lock (&s->lock);
  v = *counter;
  pthread_mutex_unlock (&s->lock);
  return v;
}

static unsigned
restarts_wanted (void)
{
  const char *e = getenv ("DIO_FAULT_RESTARTS");
  int n = e ? atoi (e) : fault_under_tool () ? 3 : 5;
  return n > 0 ? n : 1;
}

/* The server's pid. */
static pid_t
ganesha_pid (void)
{
  char cmd[1024];
  FILE *p;
  long pid = 0;

  snprintf (cmd, sizeof cmd, "%s pid", getenv ("DIO_GANESHA"));
  p = popen (cmd, "r");
  ck_assert_msg (p != NULL, "%s: %s", cmd, strerror (errno));
  ck_assert_msg (fscanf (p, "%ld", &pid) == 1 && pid > 1,
                 "'%s' printed no pid", cmd);
  ck_assert_int_eq (pclose (p), 0);
  return pid;
}

/* Kill the server a few milliseconds into a write (a large write takes
 * 10-40 ms here), then start a new one with a new verifier.  Going
 * through "$DIO_GANESHA restart" alone would take too long to stop it:
 * the write would be over. */
static void
crash_and_restart (struct stream *s)
{
  pid_t pid = ganesha_pid ();
  unsigned c = count_of (s, &s->completed);
  uint64_t span_us;

  ck_assert_msg (wait_count (s, &s->started, c, STALL_S),
                 "stream stalled: %s", s->why);
  /* A schedule, not a synchronisation: land somewhere inside it.  An
   * operation takes ~10 ms here but far longer under valgrind or TSan;
   * the last one's length keeps the kill inside this one there too.
   * Its first half: operations vary (a write after a restart is slower
   * than the next one), and a kill after a write ends lands in its
   * read-back, which shows nothing (a CI run under valgrind once had all
   * nine restarts land so). */
  pthread_mutex_lock (&s->lock);
  span_us = (uint64_t) (s->op_s * 1e6 / 2);
  pthread_mutex_unlock (&s->lock);
  if (span_us < 8000)
    span_us = 8000;
  if (span_us > 2000000)
    span_us = 2000000;
  usleep (fault_range (&s->ctl_rng, 0, span_us));
  ck_assert_int_eq (kill (pid, fault_rand (&s->ctl_rng) & 1 ? SIGKILL
                                                         : SIGTERM), 0);
  test_ganesha ("restart --new-verifier");
}

/* Restart the server k times, each time inside an operation; for writes
 * go on (up to 3k restarts) until at least one restart has hit a write in
 * flight, which the verifier counters show. */
static void
restart_during_stream (struct stream *s, unsigned k, unsigned *done)
{
  struct dio_stats st;

  for (*done = 0; *done < 3 * k; ++*done) {
    unsigned c = count_of (s, &s->completed);

    ck_assert_int_eq (dio_stats (s->fd, &st), 0);
    if (*done >= k && (s->reads || st.verifier_mismatches > 0))
      break;
    /* Two operations finished since the last restart: a stream, not a
     * series of restarts. */
    ck_assert_msg (wait_count (s, &s->completed, c + 1, STALL_S),
                   "no %s completed within %d s of a restart (%u restarts "
                   "so far): %s", s->reads ? "read" : "write", STALL_S,
                   *done, s->why);
    crash_and_restart (s);
  }
}

START_TEST (test_restarts_during_write_stream)
{
  struct stream s = { .fd = -1 };
  struct dio_stats st;
  unsigned k = restarts_wanted (), restarts = 0, c;
  pthread_t t;
  int64_t diff;
  double t0 = test_now ();

  s.rng = fault_seed ("FAULT_SEED", "restart stream");
  s.ctl_rng = s.rng ^ 0x5bd1e995;
  s.model = calloc (1, FILE_SIZE);
  ck_assert_ptr_nonnull (s.model);
  pthread_mutex_init (&s.lock, NULL);
  pthread_cond_init (&s.cond, NULL);
  s.fd = dio_open (test_url ("stream", NULL), O_RDWR | O_CREAT | O_TRUNC,
                   0644);
  ck_assert_msg (s.fd >= 0, "dio_open: %s", dio_last_error ());

  ck_assert_int_eq (pthread_create (&t, NULL, stream_thread, &s), 0);
  restart_during_stream (&s, k, &restarts);
  /* Two more writes against the last server, then stop. */
  c = count_of (&s, &s.completed);
  ck_assert_msg (wait_count (&s, &s.completed, c + 1, STALL_S),
                 "no write completed after the last restart: %s", s.why);
  pthread_mutex_lock (&s.lock);
  s.stop = true;
  pthread_mutex_unlock (&s.lock);
  pthread_join (t, NULL);
  ck_assert_msg (!s.failed, "%s", s.why);

  ck_assert_int_eq (dio_stats (s.fd, &st), 0);
  fprintf (stderr, "restart stream: %u writes, %u restarts in %.1f s; "
           "verifier mismatches %" PRIu64 ", resends %" PRIu64
           ", reconnects %" PRIu64 ", write RPCs %" PRIu64 "\n",
           s.completed, restarts, test_now () - t0, st.verifier_mismatches,
           st.resends, st.reconnects, st.write_rpcs);
  ck_assert_uint_ge (restarts, k);
  ck_assert_uint_ge (st.verifier_mismatches, 1);
  ck_assert_uint_ge (st.resends, 1);
  ck_assert_uint_ge (st.reconnects, k);
  ck_assert_uint_eq (st.errors, 0);

  /* Every acknowledged byte, on the server's disk and through the
   * engine. */
  diff = fault_local_diff (test_local ("stream"), s.model, s.size);
  ck_assert_msg (diff == -1, "server file differs from the model at %"
                 PRId64 " (size %" PRIu64 ")", diff, s.size);
  diff = fault_dio_diff (s.fd, s.model, s.size);
  ck_assert_msg (diff == -1, "read back differs from the model at %"
                 PRId64, diff);
  ck_assert_int_eq (dio_close (s.fd), 0);
  pthread_cond_destroy (&s.cond);
  pthread_mutex_destroy (&s.lock);
  free (s.model);
}
END_TEST

/* The same with a stream of large reads: the reads in flight when the
 * server goes are sent again to the new one and every byte matches.
 * (A reply cut in half is check_faults_relay.c's "anywhere" case: a
 * killed ganesha's kernel still sends what it had queued, so here replies
 * arrive whole or not at all.) */
START_TEST (test_restarts_during_reads)
{
  struct stream s = { .fd = -1, .reads = true, .size = FILE_SIZE };
  unsigned k = restarts_wanted (), restarts = 0, c;
  struct dio_stats st;
  pthread_t t;
  int64_t diff;
  double t0 = test_now ();

  s.rng = fault_seed ("FAULT_SEED", "restart reads");
  s.ctl_rng = s.rng ^ 0x5bd1e995;
  s.model = malloc (FILE_SIZE);
  ck_assert_ptr_nonnull (s.model);
  fault_fill (s.model, FILE_SIZE, 0, 77);
  pthread_mutex_init (&s.lock, NULL);
  pthread_cond_init (&s.cond, NULL);
  s.fd = dio_open (test_url ("reads", NULL), O_RDWR | O_CREAT | O_TRUNC,
                   0644);
  ck_assert_msg (s.fd >= 0, "dio_open: %s", dio_last_error ());
  ck_assert_int_eq (dio_pwrite (s.fd, s.model, FILE_SIZE, 0), FILE_SIZE);

  ck_assert_int_eq (pthread_create (&t, NULL, stream_thread, &s), 0);
  restart_during_stream (&s, k, &restarts);
  c = count_of (&s, &s.completed);
  ck_assert_msg (wait_count (&s, &s.completed, c + 1, STALL_S),
                 "no read completed after the last restart: %s", s.why);
  pthread_mutex_lock (&s.lock);
  s.stop = true;
  pthread_mutex_unlock (&s.lock);
  pthread_join (t, NULL);
  ck_assert_msg (!s.failed, "%s", s.why);
  ck_assert_int_eq (dio_stats (s.fd, &st), 0);
  fprintf (stderr, "restart reads: %u reads, %u restarts in %.1f s; "
           "reconnects %" PRIu64 ", read RPCs %" PRIu64 "\n", s.completed,
           restarts, test_now () - t0, st.reconnects, st.read_rpcs);
  diff = fault_dio_diff (s.fd, s.model, FILE_SIZE);
  ck_assert_msg (diff == -1, "read back differs from the model at %"
                 PRId64, diff);
  ck_assert_int_eq (dio_close (s.fd), 0);
  pthread_cond_destroy (&s.cond);
  pthread_mutex_destroy (&s.lock);
  free (s.model);
}
END_TEST

/* DIO_WRITE_UNSTABLE leaves the COMMIT to dio_fsync, which must fail
 * with EIO when the server restarted in between (it may have lost the
 * data, as a crashed filer does), whether or not more writes came after
 * the restart; and succeed when it did not. */
START_TEST (test_unstable_writes_then_restart)
{
  size_t len = 4 * MiB;
  char *buf = malloc (len);
  int fd = dio_open (test_url ("unstable", NULL), O_RDWR | O_CREAT | O_TRUNC,
                     0644);

  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  fault_fill (buf, len, 0, 61);
  /* No restart: committed, on the server. */
  ck_assert_int_eq (dio_pwrite2 (fd, buf, len, 0, DIO_WRITE_UNSTABLE), len);
  ck_assert_msg (dio_fsync (fd) == 0, "%s", dio_last_error ());
  ck_assert_int_eq (fault_local_diff (test_local ("unstable"), buf, len), -1);
  /* A restart between the write and the fsync. */
  ck_assert_int_eq (dio_pwrite2 (fd, buf, len, 0, DIO_WRITE_UNSTABLE), len);
  test_ganesha ("restart --new-verifier");
  ck_assert_int_eq (dio_fsync (fd), -1);
  ck_assert_int_eq (errno, EIO);
  test_assert_message ("dio_fsync", test_url ("unstable", NULL), "verifier");
  /* A restart between two writes, then the fsync. */
  ck_assert_int_eq (dio_pwrite2 (fd, buf, len / 2, 0, DIO_WRITE_UNSTABLE),
                    len / 2);
  test_ganesha ("restart --new-verifier");
  ck_assert_int_eq (dio_pwrite2 (fd, buf + len / 2, len / 2, len / 2,
                                 DIO_WRITE_UNSTABLE), len / 2);
  ck_assert_int_eq (dio_fsync (fd), -1);
  ck_assert_int_eq (errno, EIO);
  /* Written again and committed: on the server. */
  ck_assert_int_eq (dio_pwrite2 (fd, buf, len, 0, DIO_WRITE_UNSTABLE), len);
  ck_assert_msg (dio_fsync (fd) == 0, "%s", dio_last_error ());
  ck_assert_int_eq (fault_local_diff (test_local ("unstable"), buf, len), -1);
  ck_assert_int_eq (dio_close (fd), 0);
  free (buf);
}
END_TEST

Suite *
suite_faults_restart (void)
{
  Suite *s = suite_create ("faults_restart");
  TCase *tc = tcase_create ("restart");

  tcase_set_timeout (tc, 900);
  tcase_add_test (tc, test_restarts_during_write_stream);
  tcase_add_test (tc, test_restarts_during_reads);
  tcase_add_test (tc, test_unstable_writes_then_restart);
  suite_add_tcase (s, tc);
  return s;
}
