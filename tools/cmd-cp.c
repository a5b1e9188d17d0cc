/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio cp: copy one file, uncached, between local files, NFS files
 * (nfs:// URLs or profile paths) and stdin/stdout.
 *
 * A pass (the copy, then optionally the verify) is run by a pool of
 * --jobs workers, each owning one --bs buffer, so memory is jobs x bs
 * whatever the file's size and jobs requests are in flight on each side.
 * A worker claims the next block, reads it from the source, and writes
 * it to the same offset of the destination:
 *
 *   - a stream source (stdin, a pipe) is read under src_lock, so blocks
 *     are claimed in order and read whole;
 *   - a stream destination (stdout) is written in offset order: a worker
 *     waits until next_write reaches its block.  The earliest unwritten
 *     block is always held by a worker that is not waiting, so this
 *     cannot deadlock;
 *   - otherwise blocks go in parallel, and runs of zero bytes are not
 *     written at all (the destination was truncated, so they read back as
 *     zeros, and a sparse source makes a sparse copy); the final size is
 *     set at the end.
 *
 * The first error stops the pass and is the one reported, naming the
 * side, the offset and the reason.  Success means every byte of the
 * source was written and the destination synced to stable storage.
 *
 * Threading: the main thread opens, closes and shows progress; workers
 * touch only what "guarded by" comments allow. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

/* Defaults, chosen by measurement against the loopback ganesha: see the
 * man page's NOTES and bench/README.md. */
#define DEFAULT_BS (8u * 1024 * 1024)
#define DEFAULT_JOBS 4u
#define MAX_JOBS 64u
#define MIN_BS 4096u
#define MAX_BS (256u * 1024 * 1024)

/* Buffers suit O_DIRECT on any device. */
#define BUF_ALIGN 4096

/* Zero detection granule: a zero run this long or longer is left as a
 * hole; aligned, so that what is written stays O_DIRECT-aligned. */
#define ZERO_GRANULE (64u * 1024)

#define PROGRESS_INTERVAL 0.25  /* seconds between redraws */

struct pass {
  /* Immutable while workers run. */
  struct side *src, *dst;
  size_t bs;
  bool sized;                   /* the source's size is known */
  uint64_t size;                /* ... and this is it */
  bool skip_zeros;
  bool verify;                  /* compare instead of copy */

  /* Atomic when sized; guarded by src_lock for a stream source. */
  uint64_t next_off;
  pthread_mutex_t src_lock;
  bool src_eof;                 /* guarded by src_lock */

  uint64_t done;                /* atomic: bytes through, for progress */
  bool failed;                  /* atomic: stop claiming blocks */

  pthread_mutex_t lock;
  pthread_cond_t cond;          /* a worker exited or next_write moved */
  /* Guarded by lock. */
  uint64_t next_write;          /* stream destination: next offset due */
  unsigned running;
  char error[1024];
};

/* ---- errors ----------------------------------------------------------- */

static bool
pass_failed (struct pass *p)
{
  return __atomic_load_n (&p->failed, __ATOMIC_ACQUIRE);
}

/* Record the pass's first error and stop it.  Always returns -1. */
static int __attribute__ ((format (printf, 2, 3)))
pass_fail (struct pass *p, const char *fmt, ...)
{
  va_list ap;

  pthread_mutex_lock (&p->lock);
  if (!p->failed) {
    va_start (ap, fmt);
    vsnprintf (p->error, sizeof p->error, fmt, ap);
    va_end (ap);
    __atomic_store_n (&p->failed, true, __ATOMIC_RELEASE);
  }
  pthread_cond_broadcast (&p->cond);
  pthread_mutex_unlock (&p->lock);
  return -1;
}

/* ---- reading a block -------------------------------------------------- */

/* Claim and read the next block of a source of known size.  1 with the
 * block, 0 when there is none left, -1 on error. */
static int
claim_sized (struct pass *p, char *buf, uint64_t *off, size_t *n)
{
  char why[700];
  size_t got;

  *off = __atomic_fetch_add (&p->next_off, p->bs, __ATOMIC_RELAXED);
  if (*off >= p->size)
    return 0;
  *n = p->size - *off < p->bs ? p->size - *off : p->bs;
  if (side_read (p->src, buf, *n, *off, &got, why, sizeof why) == -1)
    return pass_fail (p, "source %s: read at offset %" PRIu64 ": %s",
                      p->src->name, *off + got, why);
  if (got < *n)
    return pass_fail (p, "source %s: unexpected end of file at offset %"
                      PRIu64 ": it was %" PRIu64 " bytes when the copy "
                      "started", p->src->name, *off + got, p->size);
  return 1;
}

/* Claim and read the next block of a stream, in order. */
static int
claim_stream (struct pass *p, char *buf, uint64_t *off, size_t *n)
{
  char why[700];
  int r = 1;

  pthread_mutex_lock (&p->src_lock);
  if (p->src_eof || pass_failed (p)) {
    pthread_mutex_unlock (&p->src_lock);
    return 0;
  }
  *off = p->next_off;
  if (side_read (p->src, buf, p->bs, *off, n, why, sizeof why) == -1) {
    p->src_eof = true;
    pthread_mutex_unlock (&p->src_lock);
    return pass_fail (p, "source %s: read at offset %" PRIu64 ": %s",
                      p->src->name, *off + *n, why);
  }
  p->next_off += *n;
  if (*n < p->bs)
    p->src_eof = true;
  if (*n == 0)
    r = 0;
  pthread_mutex_unlock (&p->src_lock);
  return r;
}

/* ---- writing a block -------------------------------------------------- */

static bool
is_zero (const char *buf, size_t n)
{
  /* Each byte equals the one before it, and the first is zero. */
  return n == 0 || (buf[0] == 0 && memcmp (buf, buf + 1, n - 1) == 0);
}

static int
write_at (struct pass *p, const char *buf, size_t n, uint64_t off)
{
  char why[700];
  size_t done;

  if (side_write (p->dst, buf, n, off, &done, why, sizeof why) == -1)
    return pass_fail (p, "destination %s: write at offset %" PRIu64 ": %s",
                      p->dst->name, off + done, why);
  return 0;
}

/* Write the non-zero runs of a block; zero runs stay holes. */
static int
write_sparse (struct pass *p, const char *buf, size_t n, uint64_t off)
{
  size_t pos, start = 0, run = 0;

  for (pos = 0; pos < n; pos += ZERO_GRANULE) {
    size_t len = n - pos < ZERO_GRANULE ? n - pos : ZERO_GRANULE;
    if (!is_zero (buf + pos, len)) {
      if (run == 0)
        start = pos;
      run += len;
    }
    else if (run > 0) {
      if (write_at (p, buf + start, run, off + start) == -1)
        return -1;
      run = 0;
    }
  }
  if (run > 0)
    return write_at (p, buf + start, run, off + start);
  return 0;
}

/* A stream destination takes blocks in order: wait for our turn. */
static int
write_in_order (struct pass *p, const char *buf, size_t n, uint64_t off)
{
  int r;

  pthread_mutex_lock (&p->lock);
  while (p->next_write != off && !p->failed)
    pthread_cond_wait (&p->cond, &p->lock);
  pthread_mutex_unlock (&p->lock);
  if (pass_failed (p))
    return -1;
  r = write_at (p, buf, n, off);
  pthread_mutex_lock (&p->lock);
  p->next_write += n;
  pthread_cond_broadcast (&p->cond);
  pthread_mutex_unlock (&p->lock);
  return r;
}

static int
put_block (struct pass *p, const char *buf, size_t n, uint64_t off)
{
  if (p->dst->kind == SIDE_STREAM)
    return write_in_order (p, buf, n, off);
  if (p->skip_zeros)
    return write_sparse (p, buf, n, off);
  return write_at (p, buf, n, off);
}

/* ---- verifying a block ------------------------------------------------ */

static int
compare_block (struct pass *p, const char *buf, char *dbuf, size_t n,
               uint64_t off)
{
  char why[700];
  size_t got, i;

  if (side_read (p->dst, dbuf, n, off, &got, why, sizeof why) == -1)
    return pass_fail (p, "verify: destination %s: read at offset %" PRIu64
                      ": %s", p->dst->name, off + got, why);
  if (got < n)
    return pass_fail (p, "verify: destination %s ends at offset %" PRIu64
                      ", before the source's end at %" PRIu64,
                      p->dst->name, off + got, p->size);
  if (memcmp (buf, dbuf, n) == 0)
    return 0;
  for (i = 0; i < n && buf[i] == dbuf[i]; i++)
    ;
  return pass_fail (p, "verify: destination %s differs from source %s at "
                    "offset %" PRIu64, p->dst->name, p->src->name, off + i);
}

/* ---- the pass --------------------------------------------------------- */

static void *
worker (void *arg)
{
  struct pass *p = arg;
  void *buf = NULL, *dbuf = NULL;

  if (posix_memalign (&buf, BUF_ALIGN, p->bs) != 0
      || (p->verify && posix_memalign (&dbuf, BUF_ALIGN, p->bs) != 0))
    pass_fail (p, "cannot allocate a %zu-byte buffer", p->bs);

  while (buf && (!p->verify || dbuf) && !pass_failed (p)) {
    uint64_t off = 0;
    size_t n = 0;
    int r = p->sized ? claim_sized (p, buf, &off, &n)
      : claim_stream (p, buf, &off, &n);
    if (r <= 0)
      break;
    r = p->verify ? compare_block (p, buf, dbuf, n, off)
      : put_block (p, buf, n, off);
    if (r == -1)
      break;
    __atomic_add_fetch (&p->done, n, __ATOMIC_RELAXED);
  }
  free (buf);
  free (dbuf);

  pthread_mutex_lock (&p->lock);
  p->running--;
  pthread_cond_broadcast (&p->cond);
  pthread_mutex_unlock (&p->lock);
  return NULL;
}

/* Wait for the workers, redrawing the progress line meanwhile. */
static void
wait_workers (struct pass *p, struct progress *prog)
{
  struct timespec ts;

  pthread_mutex_lock (&p->lock);
  while (p->running > 0) {
    if (!prog->enabled) {
      pthread_cond_wait (&p->cond, &p->lock);
      continue;
    }
    clock_gettime (CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += PROGRESS_INTERVAL * 1e9;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait (&p->cond, &p->lock, &ts);
    pthread_mutex_unlock (&p->lock);
    progress_show (prog, __atomic_load_n (&p->done, __ATOMIC_RELAXED));
    pthread_mutex_lock (&p->lock);
  }
  pthread_mutex_unlock (&p->lock);
}

static int
pass_init (struct pass *p)
{
  pthread_condattr_t ca;

  if (pthread_condattr_init (&ca) != 0
      || pthread_condattr_setclock (&ca, CLOCK_MONOTONIC) != 0
      || pthread_cond_init (&p->cond, &ca) != 0)
    return -1;
  pthread_condattr_destroy (&ca);
  pthread_mutex_init (&p->lock, NULL);
  pthread_mutex_init (&p->src_lock, NULL);
  return 0;
}

static void
pass_destroy (struct pass *p)
{
  pthread_cond_destroy (&p->cond);
  pthread_mutex_destroy (&p->lock);
  pthread_mutex_destroy (&p->src_lock);
}

/* Run the pass with jobs workers.  0, or -1 with p->error set. */
static int
pass_run (struct pass *p, unsigned jobs, struct progress *prog)
{
  pthread_t threads[MAX_JOBS];
  unsigned started = 0;
  int err = 0;

  if (pass_init (p) == -1) {
    snprintf (p->error, sizeof p->error, "cannot initialise a condition");
    return -1;
  }
  pthread_mutex_lock (&p->lock);
  for (; started < jobs; started++) {
    err = pthread_create (&threads[started], NULL, worker, p);
    if (err != 0)
      break;
    p->running++;
  }
  pthread_mutex_unlock (&p->lock);
  if (started == 0)
    pass_fail (p, "cannot start a worker thread: %s", strerror (err));

  wait_workers (p, prog);
  for (unsigned i = 0; i < started; i++)
    pthread_join (threads[i], NULL);
  pass_destroy (p);
  return pass_failed (p) ? -1 : 0;
}

/* ---- the command ------------------------------------------------------ */

struct cp_opts {
  bool progress, verify;
  uint64_t bs;
  unsigned jobs;
  const char *src, *dst;
};

static void
usage (FILE *fp)
{
  fprintf (fp,
"Usage: directio cp [OPTION...] SOURCE DESTINATION\n"
"\n"
"Copy SOURCE to DESTINATION without caching: each is a local path, an\n"
"nfs:// URL, a path under a profile's mountpoint, or - for stdin/stdout.\n"
"\n"
"  -b, --bs=SIZE    bytes per request (default %u MiB; K, M, G suffixes)\n"
"  -j, --jobs=N     requests in flight (default %u); memory is jobs x bs\n"
"  -p, --progress   show progress on stderr (default: when it is a tty)\n"
"      --verify     read the destination back and compare with the source\n"
"  -h, --help       print this help and exit\n"
"\n"
"Exit status: 0 when every byte is copied and on stable storage, 1 on\n"
"an error (the message names the side, the offset and the reason), 2 on\n"
"a usage error.\n",
           DEFAULT_BS / (1024 * 1024), DEFAULT_JOBS);
}

/* Parse the command line.  -1 to exit with *status. */
static int
parse_args (int argc, char *argv[], struct cp_opts *o, int *status)
{
  enum { OPT_VERIFY = 256 };
  static const struct option long_options[] = {
    { "bs", required_argument, NULL, 'b' },
    { "jobs", required_argument, NULL, 'j' },
    { "progress", no_argument, NULL, 'p' },
    { "verify", no_argument, NULL, OPT_VERIFY },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  *o = (struct cp_opts) { .bs = DEFAULT_BS, .jobs = DEFAULT_JOBS };
  *status = EXIT_USAGE;
  while ((c = getopt_long (argc, argv, "b:j:ph", long_options, NULL)) != -1) {
    switch (c) {
    case 'b':
      if (parse_size (optarg, &o->bs) == -1 || o->bs < MIN_BS
          || o->bs > MAX_BS) {
        usage_error ("--bs: '%s': need a size from 4K to 256M", optarg);
        return -1;
      }
      break;
    case 'j':
      if (parse_uint_option ("jobs", optarg, 1, MAX_JOBS, &o->jobs) == -1)
        return -1;
      break;
    case 'p': o->progress = true; break;
    case OPT_VERIFY: o->verify = true; break;
    case 'h':
      usage (stdout);
      *status = EXIT_SUCCESS;
      return -1;
    default:
      usage_error ("bad option");
      return -1;
    }
  }
  if (argc - optind != 2) {
    usage_error ("need a SOURCE and a DESTINATION");
    return -1;
  }
  o->src = argv[optind];
  o->dst = argv[optind + 1];
  if (o->verify && (strcmp (o->src, "-") == 0 || strcmp (o->dst, "-") == 0)) {
    usage_error ("--verify cannot read stdin again or read stdout back");
    return -1;
  }
  if (!o->progress)
    o->progress = isatty (STDERR_FILENO);
  return 0;
}

/* The destination must not be the source: truncating it would lose it. */
static int
check_distinct (struct side *src, struct side *dst)
{
  dev_t sd, dd;
  ino_t si, di;

  if (src->kind == dst->kind && side_identity (src, &sd, &si)
      && side_identity (dst, &dd, &di) && sd == dd && si == di) {
    error_msg ("source %s and destination %s are the same file", src->name,
               dst->name);
    return -1;
  }
  return 0;
}

/* Open both sides, empty the destination, learn the source's size. */
static int
open_sides (const struct cp_opts *o, struct side *src, struct side *dst,
            struct pass *p)
{
  char why[1024];

  if (side_open (src, o->src, "source", SIDE_READ, why, sizeof why) == -1) {
    error_msg ("%s", why);
    return -1;
  }
  if (side_open (dst, o->dst, "destination",
                 o->verify ? SIDE_RDWR : SIDE_WRITE, why, sizeof why) == -1) {
    error_msg ("%s", why);
    return -1;
  }
  if (check_distinct (src, dst) == -1)
    return -1;
  if (o->verify && dst->kind == SIDE_STREAM) {
    error_msg ("--verify: destination %s cannot be read back", dst->name);
    return -1;
  }
  if (o->verify && src->kind == SIDE_STREAM) {
    error_msg ("--verify: source %s cannot be read again", src->name);
    return -1;
  }
  p->sized = src->kind != SIDE_STREAM;
  if (p->sized && side_size (src, &p->size, why, sizeof why) == -1) {
    error_msg ("source %s: size: %s", src->name, why);
    return -1;
  }
  if (side_truncate (dst, 0, why, sizeof why) == -1) {
    error_msg ("destination %s: truncate: %s", dst->name, why);
    return -1;
  }
  /* Holes are only safe in a file we have just emptied. */
  p->skip_zeros = dst->regular && dst->kind != SIDE_STREAM;
  return 0;
}

/* After the copy: final size, stable storage. */
static int
finish_destination (struct side *dst, uint64_t total)
{
  char why[1024];

  if (side_truncate (dst, total, why, sizeof why) == -1) {
    error_msg ("destination %s: setting its size to %" PRIu64 ": %s",
               dst->name, total, why);
    return -1;
  }
  if (side_sync (dst, why, sizeof why) == -1) {
    error_msg ("destination %s: sync to stable storage: %s", dst->name, why);
    return -1;
  }
  return 0;
}

static int
verify (const struct cp_opts *o, struct side *src, struct side *dst,
        uint64_t total)
{
  struct pass v = { .src = src, .dst = dst, .sized = true, .size = total,
                    .verify = true };
  struct progress prog;
  uint64_t dsize;
  char why[1024];

  if (side_size (dst, &dsize, why, sizeof why) == -1) {
    error_msg ("verify: destination %s: size: %s", dst->name, why);
    return -1;
  }
  if (dst->regular && dsize != total) {
    error_msg ("verify: destination %s is %" PRIu64 " bytes, source %s %"
               PRIu64, dst->name, dsize, src->name, total);
    return -1;
  }
  /* Two buffers per worker: halve them to keep the copy's footprint. */
  v.bs = (o->bs / 2) & ~(uint64_t) (MIN_BS - 1);
  if (v.bs < MIN_BS)
    v.bs = MIN_BS;
  progress_init (&prog, o->progress, "verify", total);
  if (pass_run (&v, o->jobs, &prog) == -1) {
    if (prog.enabled)
      fputc ('\n', stderr);
    error_msg ("%s", v.error);
    return -1;
  }
  progress_end (&prog, total);
  return 0;
}

static int
copy (const struct cp_opts *o, struct side *src, struct side *dst,
      struct pass *p)
{
  struct progress prog;
  uint64_t total;

  p->src = src;
  p->dst = dst;
  p->bs = o->bs;
  progress_init (&prog, o->progress, "copy", p->sized ? p->size : 0);
  if (pass_run (p, o->jobs, &prog) == -1) {
    if (prog.enabled)
      fputc ('\n', stderr);
    error_msg ("%s", p->error);
    return -1;
  }
  total = p->sized ? p->size : p->next_off;
  if (finish_destination (dst, total) == -1)
    return -1;
  progress_end (&prog, total);
  if (o->verify)
    return verify (o, src, dst, total);
  return 0;
}

int
cmd_cp (int argc, char *argv[])
{
  struct cp_opts o;
  struct side src = { .fd = -1 }, dst = { .fd = -1 };
  struct pass p = { 0 };
  char why[1024];
  int status;

  if (parse_args (argc, argv, &o, &status) == -1)
    return status;

  status = EXIT_FAILURE;
  if (open_sides (&o, &src, &dst, &p) == 0 && copy (&o, &src, &dst, &p) == 0)
    status = EXIT_SUCCESS;
  if (side_close (&src, why, sizeof why) == -1)
    error_msg ("%s", why);
  if (side_close (&dst, why, sizeof why) == -1) {
    error_msg ("%s", why);
    status = EXIT_FAILURE;
  }
  return status;
}
