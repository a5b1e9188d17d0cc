/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* soak: many threads in several processes mixing direct and buffered I/O,
 * directio() switches, fsyncs and reopens over two nconnect=4 mounts,
 * checked against an in-memory model; no fd or memory growth; no hang.
 *
 *   soak            (run inside tests/with-ganesha.sh; see test-soak.sh)
 *
 * N_PROC processes each run N_THREAD threads for SOAK_SECONDS (default
 * 60, 10 under DIO_UNDER_TOOL).  Thread t of process p owns the file
 * soak-pP-tT on mount t % 2, so its model is exact: every read is
 * compared with it, and at the end the whole file is, through dio_pread
 * and on the server's disk.  Mount 0 is forcedirectio (the URL default),
 * mount 1 is noforcedirectio with other transfer sizes, so that both the
 * engine and the cache carry data and directio() moves files between
 * them.  SOAK_SEED=N replays the operation sequences.
 *
 * Each process counts its fds and VmRSS before the first open and after
 * the last close (the RSS part is skipped under DIO_UNDER_TOOL), and runs
 * a watchdog that aborts if no operation completes for WATCHDOG_S.  The
 * parent kills every child still running past the deadline.
 *
 * Exit status: 0 pass, 1 mismatch, error, leak or hang. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "directio.h"
#include "fault_helpers.h"

#define KiB 1024
#define MiB (1024 * 1024)
#define N_PROC 3
#define N_THREAD 6
#define MAX_IO (2 * MiB)
#define MAX_FILE (8 * MiB)      /* writes end below this */
#define WATCHDOG_S 60
#define FD_SETTLE_S 10.0        /* an idle mount lingers 2 s, then stops */
#define RSS_SLACK_KIB (32 * 1024)

static const char *const mount_extra[2] = {
  "&nconnect=4",
  "&nconnect=4&rsize=262144&wsize=262144&noforcedirectio",
};

/* One thread's file and model.  Buffers are allocated before the
 * baseline is measured so that only the library's memory is counted. */
struct worker {
  int proc, id;
  uint64_t rng;
  char name[64];
  char url[1024];
  char *model;                  /* MAX_FILE bytes */
  uint64_t len;                 /* file size in the model */
  char *wbuf, *rbuf;            /* MAX_IO bytes each */
  int fd;
  uint64_t ops, bytes, switches, reopens;
  bool failed;
};

/* Per-process state shared with the watchdog. */
static atomic_int_fast64_t last_progress_ns;
static atomic_bool stopping;
static double deadline_s;       /* end of the workers' run */

static double
now (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void
progress (void)
{
  atomic_store (&last_progress_ns, (int_fast64_t) (now () * 1e9));
}

static const char *
env_or_die (const char *name)
{
  const char *v = getenv (name);
  if (v == NULL || *v == '\0') {
    fprintf (stderr, "soak: %s is not set: run under tests/with-ganesha.sh\n",
             name);
    exit (1);
  }
  return v;
}

/* Report a failure of worker w and mark it; returns false. */
static bool __attribute__ ((format (printf, 2, 3)))
fail (struct worker *w, const char *fmt, ...)
{
  char msg[512];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  fprintf (stderr, "soak: FAIL: process %d thread %d file %s (mount %d) "
           "op %" PRIu64 ": %s\n", w->proc, w->id, w->name, w->id % 2,
           w->ops, msg);
  w->failed = true;
  return false;
}

/* ---- operations ------------------------------------------------------ */

static bool
do_open (struct worker *w, int flags)
{
  w->fd = dio_open (w->url, flags, 0644);
  if (w->fd == -1)
    return fail (w, "dio_open %s: %s", w->url, dio_last_error ());
  return true;
}

static bool
do_close (struct worker *w)
{
  int fd = w->fd;

  w->fd = -1;
  if (dio_close (fd) == -1)
    return fail (w, "dio_close: %s", dio_last_error ());
  return true;
}

static bool
do_write (struct worker *w)
{
  size_t n = fault_range (&w->rng, 4 * KiB, MAX_IO);
  uint64_t off = fault_range (&w->rng, 0, MAX_FILE - n);
  size_t done = 0;

  fault_fill (w->wbuf, n, off, fault_rand (&w->rng));
  while (done < n) {
    ssize_t r = dio_pwrite (w->fd, w->wbuf + done, n - done, off + done);
    if (r <= 0)
      return fail (w, "dio_pwrite %zu at %" PRIu64 " returned %zd: %s",
                   n - done, off + done, r, dio_last_error ());
    done += r;
  }
  memcpy (w->model + off, w->wbuf, n);
  if (off + n > w->len)
    w->len = off + n;
  w->bytes += n;
  return true;
}

static bool
do_read (struct worker *w)
{
  size_t n = fault_range (&w->rng, 4 * KiB, MAX_IO);
  uint64_t off = fault_range (&w->rng, 0, w->len + MiB);
  size_t want = off >= w->len ? 0 : w->len - off < n ? w->len - off : n;
  size_t got = 0;

  while (got < n) {
    ssize_t r = dio_pread (w->fd, w->rbuf + got, n - got, off + got);
    if (r < 0)
      return fail (w, "dio_pread %zu at %" PRIu64 ": %s", n - got,
                   off + got, dio_last_error ());
    if (r == 0)
      break;
    got += r;
  }
  if (got != want)
    return fail (w, "dio_pread %zu at %" PRIu64 " returned %zu bytes, the "
                 "model (size %" PRIu64 ") says %zu", n, off, got, w->len,
                 want);
  if (memcmp (w->rbuf, w->model + off, got) != 0) {
    size_t i = 0;
    while (w->rbuf[i] == w->model[off + i])
      i++;
    return fail (w, "dio_pread %zu at %" PRIu64 ": data differs from the "
                 "model at file offset %" PRIu64, n, off, off + i);
  }
  w->bytes += got;
  return true;
}

static bool
do_directio (struct worker *w)
{
  int advice = fault_rand (&w->rng) & 1 ? DIRECTIO_ON : DIRECTIO_OFF;

  if (directio (w->fd, advice) == -1)
    return fail (w, "directio (%s): %s",
                 advice == DIRECTIO_ON ? "DIRECTIO_ON" : "DIRECTIO_OFF",
                 dio_last_error ());
  w->switches++;
  return true;
}

static bool
do_fsync (struct worker *w)
{
  if (dio_fsync (w->fd) == -1)
    return fail (w, "dio_fsync: %s", dio_last_error ());
  return true;
}

/* One random operation; a close and reopen every 40-60 of them. */
static bool
one_op (struct worker *w, int *until_reopen)
{
  unsigned pick = fault_range (&w->rng, 0, 99);
  bool ok;

  if (--*until_reopen <= 0) {
    *until_reopen = fault_range (&w->rng, 40, 60);
    w->reopens++;
    ok = do_close (w) && do_open (w, O_RDWR);
  }
  else if (pick < 45)
    ok = do_write (w);
  else if (pick < 88)
    ok = do_read (w);
  else if (pick < 96)
    ok = do_directio (w);
  else
    ok = do_fsync (w);
  w->ops++;
  progress ();
  return ok;
}

/* Whole-file checks: through the engine, then (after close) on disk. */
static bool
final_check (struct worker *w, const char *local)
{
  int64_t d = fault_dio_diff (w->fd, w->model, w->len);

  if (d != -1)
    return fail (w, "final dio_pread check: %s at offset %" PRId64
                 " (size %" PRIu64 ")", d == -2 ? "read error" : "differs",
                 d, w->len);
  if (!do_close (w))
    return false;
  d = fault_local_diff (local, w->model, w->len);
  if (d != -1)
    return fail (w, "server-side file %s: %s at offset %" PRId64
                 " (size %" PRIu64 ")", local,
                 d == -2 ? "cannot read" : "differs", d, w->len);
  unlink (local);
  return true;
}

static void *
worker_main (void *arg)
{
  struct worker *w = arg;
  char local[1024];
  int until_reopen = fault_range (&w->rng, 40, 60);

  snprintf (local, sizeof local, "%s/%s", env_or_die ("DIO_TEST_DIR"),
            w->name);
  if (!do_open (w, O_RDWR | O_CREAT | O_TRUNC))
    return NULL;
  while (now () < deadline_s)
    if (!one_op (w, &until_reopen))
      goto out;
  final_check (w, local);
 out:
  if (w->fd != -1)
    dio_close (w->fd);
  return NULL;
}

/* ---- leak measurements and watchdog ---------------------------------- */

static int
count_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *e;
  int n = 0;

  if (d == NULL)
    return -1;
  while ((e = readdir (d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir (d);
  return n;
}

static long
rss_kib (void)
{
  FILE *f = fopen ("/proc/self/status", "r");
  char line[256];
  long kib = -1;

  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "VmRSS: %ld kB", &kib) == 1)
      break;
  if (f)
    fclose (f);
  return kib;
}

/* An idle mount stays connected for a while after the last dio_close
 * (libdirectio/mount.c: linger), then its threads close their sockets:
 * wait (bounded) for the count to come back. */
static int
settled_fds (int want)
{
  double end = now () + FD_SETTLE_S;
  int n;

  while ((n = count_fds ()) != want && now () < end) {
    struct timespec t = { 0, 10 * 1000 * 1000 };
    nanosleep (&t, NULL);
  }
  return n;
}

static void *
watchdog_main (void *arg)
{
  int proc = *(int *) arg;

  while (!atomic_load (&stopping)) {
    double idle = now () - atomic_load (&last_progress_ns) / 1e9;
    struct timespec t = { 0, 200 * 1000 * 1000 };

    if (idle > WATCHDOG_S) {
      fprintf (stderr, "soak: FAIL: process %d: no operation completed for "
               "%.0f s: deadlock or hang; aborting\n", proc, idle);
      abort ();
    }
    nanosleep (&t, NULL);
  }
  return NULL;
}

/* ---- one process ----------------------------------------------------- */

static void
touch_pages (char *p, size_t len)
{
  for (size_t i = 0; i < len; i += 4 * KiB)
    ((volatile char *) p)[i] = 0;
}

static bool
setup_workers (struct worker *ws, int proc, uint64_t seed)
{
  for (int t = 0; t < N_THREAD; t++) {
    struct worker *w = &ws[t];

    memset (w, 0, sizeof *w);
    w->proc = proc;
    w->id = t;
    w->fd = -1;
    w->rng = seed ^ ((uint64_t) (proc * N_THREAD + t + 1)
                     * 0x9e3779b97f4a7c15ull);
    snprintf (w->name, sizeof w->name, "soak-p%d-t%d", proc, t);
    snprintf (w->url, sizeof w->url, "nfs://%s%s/%s?%s%s",
              env_or_die ("DIO_TEST_SERVER"), env_or_die ("DIO_TEST_EXPORT"),
              w->name, env_or_die ("DIO_TEST_QUERY"), mount_extra[t % 2]);
    w->model = calloc (1, MAX_FILE);
    w->wbuf = calloc (1, MAX_IO);
    w->rbuf = calloc (1, MAX_IO);
    if (!w->model || !w->wbuf || !w->rbuf) {
      fprintf (stderr, "soak: process %d: out of memory\n", proc);
      return false;
    }
    /* Touch every page so that the baseline RSS includes them (through
     * volatile, or the compiler drops stores of zero into calloc'd
     * memory). */
    touch_pages (w->model, MAX_FILE);
    touch_pages (w->wbuf, MAX_IO);
    touch_pages (w->rbuf, MAX_IO);
  }
  return true;
}

static bool
run_workers (struct worker *ws, int proc)
{
  pthread_t th[N_THREAD];
  bool ok = true;
  int err;

  for (int t = 0; t < N_THREAD; t++)
    if ((err = pthread_create (&th[t], NULL, worker_main, &ws[t])) != 0) {
      fprintf (stderr, "soak: process %d: pthread_create: %s\n", proc,
               strerror (err));
      exit (1);
    }
  for (int t = 0; t < N_THREAD; t++) {
    pthread_join (th[t], NULL);
    ok &= !ws[t].failed;
  }
  return ok;
}

static bool
check_leaks (int proc, int fds0, long rss0)
{
  int fds1 = settled_fds (fds0);
  long rss1;
  bool ok = true;

  malloc_trim (0);
  rss1 = rss_kib ();
  if (fds1 != fds0) {
    fprintf (stderr, "soak: FAIL: process %d: %d fds open before the first "
             "dio_open, %d after the last dio_close (+%.1f s)\n", proc, fds0,
             fds1, FD_SETTLE_S);
    ok = false;
  }
  if (fault_under_tool ())
    fprintf (stderr, "soak: process %d: RSS check skipped (DIO_UNDER_TOOL)\n",
             proc);
  else if (rss1 - rss0 > RSS_SLACK_KIB) {
    fprintf (stderr, "soak: FAIL: process %d: VmRSS grew from %ld to %ld "
             "KiB (limit +%d KiB)\n", proc, rss0, rss1, RSS_SLACK_KIB);
    ok = false;
  }
  printf ("soak: process %d: fds %d -> %d, VmRSS %ld -> %ld KiB\n", proc,
          fds0, fds1, rss0, rss1);
  return ok;
}

static int
child_main (int proc, uint64_t seed, double seconds)
{
  struct worker ws[N_THREAD];
  pthread_t wd;
  uint64_t ops = 0, bytes = 0, switches = 0, reopens = 0;
  int fds0, err;
  long rss0;
  bool ok;

  if (!setup_workers (ws, proc, seed))
    return 1;
  progress ();
  if ((err = pthread_create (&wd, NULL, watchdog_main, &proc)) != 0) {
    fprintf (stderr, "soak: process %d: pthread_create: %s\n", proc,
             strerror (err));
    return 1;
  }
  fds0 = count_fds ();
  rss0 = rss_kib ();
  deadline_s = now () + seconds;

  ok = run_workers (ws, proc);
  ok &= check_leaks (proc, fds0, rss0);

  atomic_store (&stopping, true);
  pthread_join (wd, NULL);
  for (int t = 0; t < N_THREAD; t++) {
    ops += ws[t].ops;
    bytes += ws[t].bytes;
    switches += ws[t].switches;
    reopens += ws[t].reopens;
    free (ws[t].model);
    free (ws[t].wbuf);
    free (ws[t].rbuf);
  }
  printf ("soak: process %d: %s: %" PRIu64 " ops (%" PRIu64 " directio "
          "switches, %" PRIu64 " reopens), %.1f MiB moved\n", proc,
          ok ? "ok" : "FAILED", ops, switches, reopens, bytes / (double) MiB);
  return ok ? 0 : 1;
}

/* ---- parent ---------------------------------------------------------- */

static double
soak_seconds (void)
{
  const char *e = getenv ("SOAK_SECONDS");
  double s = fault_under_tool () ? 10 : 60;

  if (e && *e) {
    char *end;
    s = strtod (e, &end);
    if (*end != '\0' || s <= 0) {
      fprintf (stderr, "soak: SOAK_SECONDS=%s: expected a positive number\n",
               e);
      exit (2);
    }
  }
  return s;
}

/* Wait for every child until limit; kill the rest.  Returns failures. */
static int
reap (pid_t *pids, double limit)
{
  int left = N_PROC, failures = 0;

  while (left > 0) {
    int status;
    pid_t pid = waitpid (-1, &status, WNOHANG);

    if (pid > 0) {
      for (int p = 0; p < N_PROC; p++)
        if (pids[p] == pid) {
          pids[p] = 0;
          if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
            fprintf (stderr, "soak: FAIL: process %d %s %d\n", p,
                     WIFEXITED (status) ? "exited with status"
                     : "killed by signal",
                     WIFEXITED (status) ? WEXITSTATUS (status)
                     : WTERMSIG (status));
            failures++;
          }
        }
      left--;
      continue;
    }
    if (now () > limit) {
      for (int p = 0; p < N_PROC; p++)
        if (pids[p] > 0) {
          fprintf (stderr, "soak: FAIL: process %d (pid %d) still running "
                   "past the deadline: killed\n", p, (int) pids[p]);
          kill (pids[p], SIGKILL);
          waitpid (pids[p], NULL, 0);
          failures++;
        }
      return failures;
    }
    struct timespec t = { 0, 50 * 1000 * 1000 };
    nanosleep (&t, NULL);
  }
  return failures;
}

int
main (void)
{
  double seconds = soak_seconds ();
  uint64_t seed = fault_seed ("SOAK_SEED", "soak");
  pid_t pids[N_PROC];
  int failures;

  printf ("soak: %d processes x %d threads for %.0f s over 2 mounts\n",
          N_PROC, N_THREAD, seconds);
  fflush (stdout);
  for (int p = 0; p < N_PROC; p++) {
    pids[p] = fork ();
    if (pids[p] == -1) {
      perror ("soak: fork");
      exit (1);
    }
    if (pids[p] == 0) {
      /* exit, not _exit: LeakSanitizer checks at exit (stdout was
       * flushed before the fork, so nothing is written twice). */
      exit (child_main (p, seed, seconds));
    }
  }
  /* Run time, the final checks, and the watchdog's own limit. */
  failures = reap (pids, now () + seconds + WATCHDOG_S + 60);
  if (failures) {
    fprintf (stderr, "soak: FAIL: %d of %d processes failed\n", failures,
             N_PROC);
    return 1;
  }
  printf ("soak: PASS\n");
  return 0;
}
