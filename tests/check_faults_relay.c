/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Connections cut mid-request.  The engine reaches ganesha's NFS port
 * through a relay (relay.c) that cuts each TCP connection after a random
 * number of bytes.  libnfs reconnects and sends the requests in flight
 * again; on a hard mount every call succeeds, every read matches the
 * model, and the file on the server is the model at the end.
 *
 * Cuts inside requests only (replies always arrive whole), and cuts
 * anywhere, in the middle of a reply too, on a hard and on a soft mount.
 * A cut inside a reply is what libnfs 4.0.0's own reconnect gets wrong:
 * it keeps the half-read reply and takes the new connection's bytes for
 * its rest (fixed upstream in a38a321, libnfs 5.0.3), and the requests
 * on that connection then never complete.  The engine therefore runs
 * libnfs without autoreconnect and makes a fresh context itself
 * (conn.c); the "anywhere" tests keep it that way.
 *
 * FAULT_SEED replays the operations and the cut points (the timing of
 * two threads still varies); RELAY_OPS sets operations per thread. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include "directio.h"
#include "engine_helpers.h"
#include "fault_helpers.h"
#include "relay.h"
#include "check_faults.h"

#define KiB 1024
#define MiB (1024 * 1024)
#define NTHREADS 2
#define REGION (12 * MiB)       /* each thread owns one region */
#define MAX_IO (4 * MiB)
#define DEADLINE_S 600
#define MIN_DROPS 5             /* cuts a run must have seen */
/* No operation finishing for this long is a hang. */
#define STALL_S (fault_under_tool () ? 180 : 30)

/* Progress of all workers, for the stall watchdog. */
static pthread_mutex_t progress_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t progress_cond = PTHREAD_COND_INITIALIZER;
static unsigned progress, finished;

static void
note_progress (bool done)
{
  pthread_mutex_lock (&progress_lock);
  progress++;
  finished += done;
  pthread_cond_broadcast (&progress_cond);
  pthread_mutex_unlock (&progress_lock);
}

/* Wait until n workers have finished; fail if none makes progress for
 * STALL_S seconds (a lost request on a hard mount waits forever). */
static void
wait_workers (unsigned n, struct relay *r)
{
  pthread_mutex_lock (&progress_lock);
  while (finished < n) {
    unsigned seen = progress;
    struct timespec until;

    clock_gettime (CLOCK_REALTIME, &until);
    until.tv_sec += STALL_S;
    while (progress == seen)
      if (pthread_cond_timedwait (&progress_cond, &progress_lock, &until)
          == ETIMEDOUT)
        break;
    if (progress == seen) {
      pthread_mutex_unlock (&progress_lock);
      ck_abort_msg ("no operation finished for %d s: a request was lost "
                    "across a reconnect (relay: %u connections accepted, "
                    "%u cut)", STALL_S, relay_accepts (r), relay_drops (r));
    }
  }
  pthread_mutex_unlock (&progress_lock);
}

/* A port from DIO_TEST_QUERY ("nfsport=N&mountport=M"). */
static int
query_port (const char *key)
{
  const char *q = getenv ("DIO_TEST_QUERY");
  const char *p = q ? strstr (q, key) : NULL;

  ck_assert_msg (p != NULL, "DIO_TEST_QUERY lacks %s: run under "
                 "with-ganesha.sh", key);
  return atoi (p + strlen (key));
}

static char url_buf[1024];

static const char *
relay_url (const struct relay *r, const char *file, const char *extra)
{
  snprintf (url_buf, sizeof url_buf,
            "nfs://%s%s/%s?nfsport=%d&mountport=%d%s",
            getenv ("DIO_TEST_SERVER"), getenv ("DIO_TEST_EXPORT"), file,
            relay_port (r), query_port ("mountport="), extra ? extra : "");
  return url_buf;
}

struct worker {
  int fd, id;
  uint64_t rng;
  unsigned ops;                 /* at least; up to 4x until MIN_DROPS cuts */
  struct relay *r;
  char *model;                  /* this thread's region of the model */
  uint64_t base;                /* the region's file offset */
  unsigned writes, reads;
  char why[512];
};

/* Sizes from one byte to MAX_IO, spread over the orders of magnitude. */
static size_t
random_size (uint64_t *rng)
{
  unsigned bits = fault_range (rng, 0, 22);
  return fault_range (rng, 1, (size_t) 1 << bits);
}

static bool
do_write (struct worker *w, char *buf)
{
  size_t len = random_size (&w->rng);
  uint64_t rel = fault_range (&w->rng, 0, REGION - len);
  uint64_t off = w->base + rel;
  struct iovec iov[3];
  ssize_t r;

  fault_fill (buf, len, off, fault_rand (&w->rng));
  if (len >= 3 && (fault_rand (&w->rng) & 1)) {
    /* Uneven pieces: chunks that straddle iovecs take the bounce path. */
    size_t a = len / 3, b = len / 2;
    iov[0] = (struct iovec) { buf, a };
    iov[1] = (struct iovec) { buf + a, b - a };
    iov[2] = (struct iovec) { buf + b, len - b };
    r = dio_pwritev (w->fd, iov, 3, off);
  }
  else
    r = dio_pwrite (w->fd, buf, len, off);
  if (r != (ssize_t) len) {
    snprintf (w->why, sizeof w->why, "thread %d: write of %zu at %" PRIu64
              " returned %zd: %s", w->id, len, off, r,
              r < 0 ? dio_last_error () : "short");
    return false;
  }
  memcpy (w->model + rel, buf, len);
  w->writes++;
  return true;
}

static bool
do_read (struct worker *w, char *buf)
{
  size_t len = random_size (&w->rng);
  uint64_t rel = fault_range (&w->rng, 0, REGION - len);
  ssize_t r = dio_pread (w->fd, buf, len, w->base + rel);

  if (r != (ssize_t) len || memcmp (buf, w->model + rel, len) != 0) {
    snprintf (w->why, sizeof w->why, "thread %d: read of %zu at %" PRIu64
              " returned %zd%s%s", w->id, len, w->base + rel, r,
              r < 0 ? ": " : ", data differs from the model",
              r < 0 ? dio_last_error () : "");
    return false;
  }
  w->reads++;
  return true;
}

static void *
worker_thread (void *arg)
{
  struct worker *w = arg;
  char *buf = malloc (MAX_IO);
  double deadline = test_now () + DEADLINE_S;

  if (buf == NULL) {
    snprintf (w->why, sizeof w->why, "out of memory");
    note_progress (true);
    return NULL;
  }
  /* The cuts fall at random byte counts: a run of small requests may
   * see few of them, so it goes on (bounded) until it has seen enough. */
  for (unsigned i = 0;
       i < w->ops || (i < 4 * w->ops && relay_drops (w->r) < MIN_DROPS);
       i++) {
    bool ok = fault_range (&w->rng, 0, 9) < 6 ? do_write (w, buf)
                                             : do_read (w, buf);
    if (!ok)
      break;
    note_progress (false);
    if (test_now () > deadline) {
      snprintf (w->why, sizeof w->why, "thread %d: only %u operations in "
                "%d s", w->id, i + 1, DEADLINE_S);
      break;
    }
  }
  free (buf);
  note_progress (true);
  return NULL;
}

static unsigned
ops_wanted (void)
{
  const char *e = getenv ("RELAY_OPS");
  int n = e ? atoi (e) : fault_under_tool () ? 100 : 400;
  return n > 0 ? n : 1;
}

/* Open a file through a relay cutting connections where said, run the
 * workers against it, and check everything against the model. */
static void
run_with_cuts (enum relay_cut where, const char *file, const char *extra)
{
  uint64_t seed = fault_seed ("FAULT_SEED", "relay");
  struct relay *r = relay_start (query_port ("nfsport="), seed);
  struct worker w[NTHREADS];
  pthread_t t[NTHREADS];
  char *model = calloc (1, NTHREADS * REGION);
  struct dio_stats st;
  char query[128];
  unsigned drops;
  int64_t diff;
  int fd;

  ck_assert_msg (r != NULL, "relay_start: %s", strerror (errno));
  ck_assert_ptr_nonnull (model);
  snprintf (query, sizeof query, "&nconnect=2%s", extra);
  fd = dio_open (relay_url (r, file, query), O_RDWR | O_CREAT | O_TRUNC,
                 0644);
  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  ck_assert_int_eq (dio_ftruncate (fd, NTHREADS * REGION), 0);

  /* Only now: the mount itself is not what this test is about. */
  relay_set_drops (r, where, 8 * KiB, 2 * MiB, 80);
  for (int i = 0; i < NTHREADS; i++) {
    w[i] = (struct worker) { .fd = fd, .id = i, .ops = ops_wanted (),
                             .r = r, .rng = seed + i + 1, .base = i * REGION,
                             .model = model + i * REGION };
    ck_assert_int_eq (pthread_create (&t[i], NULL, worker_thread, &w[i]), 0);
  }
  wait_workers (NTHREADS, r);
  for (int i = 0; i < NTHREADS; i++)
    pthread_join (t[i], NULL);
  for (int i = 0; i < NTHREADS; i++)
    ck_assert_msg (w[i].why[0] == '\0', "%s", w[i].why);

  /* Through the engine while the cuts go on, then on the server. */
  diff = fault_dio_diff (fd, model, NTHREADS * REGION);
  ck_assert_msg (diff == -1, "read back differs at %" PRId64 ": %s", diff,
                 dio_last_error ());
  drops = relay_drops (r);
  relay_set_drops (r, where, 0, 0, 0);
  ck_assert_int_eq (dio_stats (fd, &st), 0);
  fprintf (stderr, "relay: %u+%u writes, %u+%u reads; %u connections "
           "accepted, %u cut; engine reconnects %" PRIu64 ", errors %"
           PRIu64 "\n", w[0].writes, w[1].writes, w[0].reads, w[1].reads,
           relay_accepts (r), drops, st.reconnects, st.errors);
  ck_assert_uint_ge (drops, MIN_DROPS);
  ck_assert_uint_gt (relay_accepts (r), drops);
  ck_assert_uint_ge (st.reconnects, 1);
  diff = fault_local_diff (test_local (file), model, NTHREADS * REGION);
  ck_assert_msg (diff == -1, "server file differs at %" PRId64, diff);
  ck_assert_int_eq (dio_close (fd), 0);
  relay_stop (r);
  free (model);
}

START_TEST (test_cut_inside_requests)
{
  run_with_cuts (RELAY_CUT_REQUESTS, "relayed", "");
}
END_TEST

START_TEST (test_cut_anywhere)
{
  run_with_cuts (RELAY_CUT_ANYWHERE, "relayed-anywhere", "");
}
END_TEST

/* A soft mount with a timeout far longer than a reconnect: a cut costs
 * a reconnect, not an error. */
START_TEST (test_cut_anywhere_soft)
{
  run_with_cuts (RELAY_CUT_ANYWHERE, "relayed-soft",
                 "&soft&timeo=100&retrans=3");
}
END_TEST

/* The server says NFS3ERR_JUKEBOX ("try again later"; the relay turns
 * successful replies into it): a direct write, a read, a COMMIT, a
 * GETATTR and a SETATTR wait and are sent again, 100 ms then 200 ms then
 * 400 ms later, and succeed; nothing reaches the caller but the delay. */
START_TEST (test_jukebox)
{
  struct relay *r = relay_start (query_port ("nfsport="), 1);
  size_t len = 64 * KiB;
  char *buf = malloc (len);
  struct dio_stats a, b, c;
  struct stat st;
  double t0, took;
  int fd;

  ck_assert_msg (r != NULL, "relay_start: %s", strerror (errno));
  fd = dio_open (relay_url (r, "jukebox", "&nconnect=1"),
                 O_RDWR | O_CREAT | O_TRUNC, 0644);
  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  ck_assert_int_eq (dio_stats (fd, &a), 0);

  /* A lone write: one FILE_SYNC WRITE, answered "later" three times. */
  test_fill (buf, len, 0, 41);
  relay_set_jukebox (r, 3);
  t0 = test_now ();
  ck_assert_int_eq (dio_pwrite (fd, buf, len, 0), len);
  took = test_now () - t0;
  ck_assert_int_eq (dio_stats (fd, &b), 0);
  ck_assert_uint_eq (b.jukebox_delays - a.jukebox_delays, 3);
  ck_assert_uint_eq (b.errors, a.errors);
  ck_assert_msg (took >= 0.65, "three delays took only %.2f s", took);
  ck_assert_uint_eq (relay_jukebox_left (r), 0);

  /* A read, twice. */
  memset (buf, 0, len);
  relay_set_jukebox (r, 2);
  ck_assert_int_eq (dio_pread (fd, buf, len, 0), len);
  ck_assert (test_check (buf, len, 0, 41));
  ck_assert_int_eq (dio_stats (fd, &c), 0);
  ck_assert_uint_eq (c.jukebox_delays - b.jukebox_delays, 2);

  /* An unstable write, then its COMMIT at fsync, once each. */
  test_fill (buf, len, len, 41);
  relay_set_jukebox (r, 2);
  ck_assert_int_eq (dio_pwrite2 (fd, buf, len, len, DIO_WRITE_UNSTABLE), len);
  ck_assert_int_eq (dio_fsync (fd), 0);
  ck_assert_int_eq (dio_stats (fd, &a), 0);
  ck_assert_uint_eq (a.jukebox_delays - c.jukebox_delays, 2);
  ck_assert_uint_eq (a.errors, b.errors);

  /* Metadata: GETATTR and SETATTR, once each. */
  relay_set_jukebox (r, 1);
  ck_assert_msg (dio_fstat (fd, &st) == 0, "%s", dio_last_error ());
  ck_assert_int_eq (st.st_size, 2 * len);
  relay_set_jukebox (r, 1);
  ck_assert_msg (dio_ftruncate (fd, 2 * len) == 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_stats (fd, &c), 0);
  ck_assert_uint_eq (c.jukebox_delays - a.jukebox_delays, 2);
  ck_assert_int_eq (dio_close (fd), 0);
  relay_stop (r);
  ck_assert (test_local_matches ("jukebox", 2 * len, 41));
  free (buf);
}
END_TEST

/* A soft mount whose server keeps saying NFS3ERR_JUKEBOX: the call fails
 * with ETIMEDOUT at the soft deadline, and its message says the server
 * kept answering "try again later" (not that it was silent). */
START_TEST (test_jukebox_soft_timeout)
{
  struct relay *r = relay_start (query_port ("nfsport="), 1);
  struct dio_stats a, b;
  struct stat st;
  int fd, got, err;

  ck_assert_msg (r != NULL, "relay_start: %s", strerror (errno));
  fd = dio_open (relay_url (r, "jukebox-soft",
                            "&nconnect=1&soft&timeo=5&retrans=1"),
                 O_RDWR | O_CREAT | O_TRUNC, 0644);
  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  ck_assert_int_eq (dio_stats (fd, &a), 0);
  relay_set_jukebox (r, 1000);  /* more than 0.5 s of delays can use */
  got = dio_ftruncate (fd, 4096);
  err = errno;
  relay_set_jukebox (r, 0);
  ck_assert_int_eq (got, -1);
  ck_assert_msg (err == ETIMEDOUT, "errno %d: %s", err, dio_last_error ());
  ck_assert_msg (strstr (dio_last_error (), "the soft timeout (timeo=5, "
                         "retrans=1: 0.5 s) ran out waiting for server ")
                 && strstr (dio_last_error (), ", which kept answering "
                            "NFS3ERR_JUKEBOX (try again later)"),
                 "%s", dio_last_error ());
  ck_assert_int_eq (dio_stats (fd, &b), 0);
  ck_assert_uint_gt (b.jukebox_delays, a.jukebox_delays);
  ck_assert_msg (dio_fstat (fd, &st) == 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_close (fd), 0);
  relay_stop (r);
}
END_TEST

/* Connections cut while dio_open's LOOKUPs are in flight (libnfs's
 * high-level calls, which libnfs 4.0 fails with EFAULT, "Failed to
 * reconnect async", before it marks the socket closed): on a hard mount
 * each open is sent again on the next connection and succeeds, never
 * "Bad address". */
START_TEST (test_cut_during_lookup)
{
  uint64_t seed = fault_seed ("FAULT_SEED", "relay lookups");
  struct relay *r = relay_start (query_port ("nfsport="), seed);
  unsigned opens = 0, drops;
  double deadline = test_now () + 300;
  char url[1024];
  int fd0, fd;

  ck_assert_msg (r != NULL, "relay_start: %s", strerror (errno));
  fd0 = dio_open (relay_url (r, "cut-lookup", "&nconnect=1"),
                  O_RDWR | O_CREAT | O_TRUNC, 0644);
  ck_assert_msg (fd0 >= 0, "dio_open: %s", dio_last_error ());
  snprintf (url, sizeof url, "%s", relay_url (r, "cut-lookup",
                                              "&nconnect=1"));
  /* A LOOKUP is about 150 bytes: cuts fall inside one of the first few
   * requests of each connection.  fd0 keeps the mount (and its
   * connection) while the opens come and go. */
  relay_set_drops (r, RELAY_CUT_REQUESTS, 100, 1500, 20);
  while (relay_drops (r) < 20 && test_now () < deadline) {
    fd = dio_open (url, O_RDONLY);
    ck_assert_msg (fd >= 0, "open %u after %u cuts: %s", opens,
                   relay_drops (r), dio_last_error ());
    ck_assert_int_eq (dio_close (fd), 0);
    opens++;
  }
  drops = relay_drops (r);
  relay_set_drops (r, RELAY_CUT_REQUESTS, 0, 0, 0);
  fprintf (stderr, "relay lookups: %u opens, %u cuts\n", opens, drops);
  ck_assert_uint_eq (drops, 20);
  ck_assert_int_eq (dio_close (fd0), 0);
  relay_stop (r);
}
END_TEST

Suite *
suite_faults_relay (void)
{
  Suite *s = suite_create ("faults_relay");
  TCase *tc = tcase_create ("relay");

  tcase_set_timeout (tc, 900);
  tcase_add_test (tc, test_cut_inside_requests);
  tcase_add_test (tc, test_jukebox);
  tcase_add_test (tc, test_jukebox_soft_timeout);
  suite_add_tcase (s, tc);
  tc = tcase_create ("relay_lookups");
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_cut_during_lookup);
  suite_add_tcase (s, tc);
  return s;
}

Suite *
suite_faults_relay_anywhere (void)
{
  Suite *s = suite_create ("faults_relay_anywhere");
  TCase *tc = tcase_create ("relay_anywhere");

  tcase_set_timeout (tc, 900);
  tcase_add_test (tc, test_cut_anywhere);
  tcase_add_test (tc, test_cut_anywhere_soft);
  suite_add_tcase (s, tc);
  return s;
}
