/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio bench: measure I/O to one NFS file through the engine.
 *
 * --jobs threads share one engine fd; each keeps --iodepth asynchronous
 * requests (dio_aio_pread/dio_aio_pwrite) in flight.  A completion runs
 * on an engine thread: it records the latency in its job's histogram and
 * issues the job's next request from the same slot, so the depth stays
 * constant without a round trip through the job's thread.  The job
 * thread only starts the first requests and waits for the last.
 *
 * Sequential jobs each stream their own slice of [0, --size); random
 * jobs pick --bs-aligned offsets anywhere in it.  The run ends after
 * --time seconds (slices wrap around), or else when --size bytes have
 * been moved in all.
 *
 * Threading: a job's fields below "guarded by lock" are shared between
 * its thread and the engine threads that complete its requests; the
 * struct bench is immutable while jobs run. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "directio.h"
#include "common.h"
#include "histogram.h"

#define MAX_JOBS 256u
#define MAX_IODEPTH 1024u
#define MAX_BS (64u * 1024 * 1024)
#define DEFAULT_SEQ_BS (1024u * 1024)
#define DEFAULT_RAND_BS 4096u
#define DEFAULT_SIZE (UINT64_C (1) << 30)
#define FILL_CHUNK (8u * 1024 * 1024)
/* The buffers of all requests together (jobs x iodepth x bs). */
#define MAX_MEMORY (UINT64_C (4) << 30)
#define BUF_ALIGN 4096

enum rw { RW_READ, RW_WRITE, RW_RANDREAD, RW_RANDWRITE };
static const char *const rw_names[] = {
  [RW_READ] = "read", [RW_WRITE] = "write",
  [RW_RANDREAD] = "randread", [RW_RANDWRITE] = "randwrite",
};

struct bench_opts {
  const char *target;
  enum rw rw;
  uint64_t bs, size;            /* 0 = default */
  unsigned jobs, iodepth;
  double time;                  /* 0 = size-based */
  bool cached, json;
};

struct bench {
  struct bench_opts o;
  int fd;
  bool write, random;
  uint64_t nblocks;             /* size / bs */
  uint64_t deadline;            /* ns, monotonic; 0 = size-based */
};

struct job;

struct slot {
  struct job *job;
  char *buf;
  uint64_t off;
  uint64_t t0;                  /* ns when issued */
};

struct job {
  struct bench *b;
  pthread_t thread;
  struct slot *slots;
  char *mem;

  pthread_mutex_t lock;
  pthread_cond_t cond;          /* inflight reached 0 */
  /* Guarded by lock. */
  uint64_t rng;
  uint64_t first, last, pos;    /* sequential: slice [first, last), cursor */
  uint64_t left;                /* size-based: requests still to issue */
  unsigned inflight;
  bool stop;
  struct histogram hist;        /* latencies, ns */
  uint64_t bytes, ios;
  int err;                      /* first failure: errno, */
  uint64_t err_off;             /* its offset, */
  ssize_t err_result;           /* and its result (short transfers) */
};

/* xorshift64*: plenty for spreading offsets, and deterministic per job. */
static uint64_t
rng_next (uint64_t *s)
{
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * UINT64_C (0x2545F4914F6CDD1D);
}

/* ---- the I/O loop ----------------------------------------------------- */

/* The offset of the job's next request; false when the run is over.
 * Called with j->lock held. */
static bool
next_offset (struct job *j, uint64_t *off)
{
  struct bench *b = j->b;

  if (j->stop)
    return false;
  if (b->deadline) {
    if (now_ns () >= b->deadline)
      return false;
  }
  else if (j->left-- == 0) {
    j->left = 0;
    return false;
  }
  if (b->random)
    *off = rng_next (&j->rng) % b->nblocks * b->o.bs;
  else {
    *off = j->pos;
    j->pos += b->o.bs;
    if (j->pos >= j->last)
      j->pos = j->first;
  }
  return true;
}

/* Record a failure (the first one wins) and stop the job. */
static void
fail_locked (struct job *j, int err, uint64_t off, ssize_t result)
{
  if (j->err == 0 && j->err_result == 0) {
    j->err = err;
    j->err_off = off;
    j->err_result = result;
  }
  j->stop = true;
}

static void io_done (void *opaque, ssize_t result, int err);

/* Issue the slot's request; on failure account for it as completed. */
static void
submit (struct slot *s)
{
  struct job *j = s->job;
  struct bench *b = j->b;
  int r, err;

  s->t0 = now_ns ();
  if (b->write)
    r = dio_aio_pwrite (b->fd, s->buf, b->o.bs, s->off, 0, io_done, s);
  else
    r = dio_aio_pread (b->fd, s->buf, b->o.bs, s->off, io_done, s);
  if (r == 0)
    return;
  err = errno;
  pthread_mutex_lock (&j->lock);
  fail_locked (j, err, s->off, -1);
  if (--j->inflight == 0)
    pthread_cond_signal (&j->cond);
  pthread_mutex_unlock (&j->lock);
}

/* Runs on an engine thread: record, then reuse the slot. */
static void
io_done (void *opaque, ssize_t result, int err)
{
  struct slot *s = opaque;
  struct job *j = s->job;
  uint64_t t = now_ns ();
  bool more;

  pthread_mutex_lock (&j->lock);
  if (result == (ssize_t) j->b->o.bs) {
    hist_add (&j->hist, t - s->t0);
    j->bytes += result;
    j->ios++;
  }
  else
    fail_locked (j, result == -1 ? err : 0, s->off, result);
  more = next_offset (j, &s->off);
  if (!more && --j->inflight == 0)
    pthread_cond_signal (&j->cond);
  pthread_mutex_unlock (&j->lock);
  if (more)
    submit (s);
}

static void *
job_thread (void *arg)
{
  struct job *j = arg;
  unsigned depth = j->b->o.iodepth;

  pthread_mutex_lock (&j->lock);
  for (unsigned i = 0; i < depth; i++) {
    struct slot *s = &j->slots[i];
    if (!next_offset (j, &s->off))
      break;
    j->inflight++;
    pthread_mutex_unlock (&j->lock);
    submit (s);
    pthread_mutex_lock (&j->lock);
  }
  while (j->inflight > 0)
    pthread_cond_wait (&j->cond, &j->lock);
  pthread_mutex_unlock (&j->lock);
  return NULL;
}

/* ---- set-up ----------------------------------------------------------- */

static int
job_init (struct bench *b, struct job *j, unsigned id)
{
  unsigned depth = b->o.iodepth;
  uint64_t nb = b->nblocks, jobs = b->o.jobs;

  memset (j, 0, sizeof *j);
  j->b = b;
  if (posix_memalign ((void **) &j->mem, BUF_ALIGN, depth * b->o.bs) != 0
      || (j->slots = calloc (depth, sizeof *j->slots)) == NULL) {
    free (j->mem);
    error_msg ("cannot allocate %u buffers of %" PRIu64 " bytes", depth,
               b->o.bs);
    return -1;
  }
  /* Not zeros, which some servers and disks store cheaply. */
  for (uint64_t i = 0; i < depth * b->o.bs; i++)
    j->mem[i] = (char) (i * 131 + id * 7 + 1);
  for (unsigned i = 0; i < depth; i++) {
    j->slots[i].job = j;
    j->slots[i].buf = j->mem + (uint64_t) i * b->o.bs;
  }
  pthread_mutex_init (&j->lock, NULL);
  pthread_cond_init (&j->cond, NULL);
  hist_init (&j->hist);
  j->rng = (id + 1) * UINT64_C (0x9E3779B97F4A7C15);
  /* Blocks [nb * id / jobs, nb * (id + 1) / jobs) are this job's. */
  j->first = nb * id / jobs * b->o.bs;
  j->last = nb * (id + 1) / jobs * b->o.bs;
  j->pos = j->first;
  j->left = nb * (id + 1) / jobs - nb * id / jobs;
  return 0;
}

static void
job_free (struct job *j)
{
  pthread_mutex_destroy (&j->lock);
  pthread_cond_destroy (&j->cond);
  free (j->slots);
  free (j->mem);
}

/* Reads need data to read: write it where the file is short. */
static int
extend_for_reading (struct bench *b)
{
  struct stat st;
  char sz[32], want[32];
  char *buf;
  uint64_t off;

  if (dio_fstat (b->fd, &st) == -1) {
    error_msg ("%s", dio_last_error ());
    return -1;
  }
  if ((uint64_t) st.st_size >= b->o.size)
    return 0;
  format_size (st.st_size, sz, sizeof sz);
  format_size (b->o.size, want, sizeof want);
  fprintf (stderr, "%s: %s is %s, shorter than --size %s: writing the "
           "rest first\n", progname, b->o.target, sz, want);
  if (posix_memalign ((void **) &buf, BUF_ALIGN, FILL_CHUNK) != 0) {
    error_msg ("cannot allocate %u bytes", FILL_CHUNK);
    return -1;
  }
  for (uint64_t i = 0; i < FILL_CHUNK; i++)
    buf[i] = (char) (i * 251 + 17);
  for (off = st.st_size; off < b->o.size; ) {
    uint64_t n = b->o.size - off < FILL_CHUNK ? b->o.size - off : FILL_CHUNK;
    ssize_t r = dio_pwrite (b->fd, buf, n, off);
    if (r <= 0) {
      if (r == 0)
        error_msg ("%s: extending for reading, at offset %" PRIu64
                   ": the write transferred 0 bytes", b->o.target, off);
      else
        error_msg ("extending for reading: %s", dio_last_error ());
      free (buf);
      return -1;
    }
    off += r;
  }
  free (buf);
  return 0;
}

static int
open_target (struct bench *b)
{
  struct stat st;

  /* Read tests may need to write the file first, but a read-only file
   * that is long enough will do. */
  b->fd = dio_open (b->o.target, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (b->fd == -1 && !b->write
      && (errno == EROFS || errno == EACCES || errno == EPERM))
    b->fd = dio_open (b->o.target, O_RDONLY | O_CLOEXEC);
  if (b->fd == -1) {
    error_msg ("%s", dio_last_error ());
    return -1;
  }
  if (b->o.size == 0) {
    if (dio_fstat (b->fd, &st) == -1) {
      error_msg ("%s", dio_last_error ());
      return -1;
    }
    b->o.size = st.st_size > 0 ? (uint64_t) st.st_size : DEFAULT_SIZE;
  }
  /* Buffered mode where the engine has it; direct otherwise. */
  if (directio (b->fd, b->o.cached ? DIRECTIO_OFF : DIRECTIO_ON) == -1) {
    error_msg ("directio(%s): %s", b->o.cached ? "DIRECTIO_OFF"
               : "DIRECTIO_ON", dio_last_error ());
    return -1;
  }
  return 0;
}

/* ---- results ---------------------------------------------------------- */

struct result {
  double seconds;
  uint64_t bytes, ios;
  struct histogram hist;
  struct dio_stats st0, st1;
  struct rusage ru0, ru1;       /* the whole process: jobs and engine */
};

static double
tv_us (const struct timeval *tv)
{
  return tv->tv_sec * 1e6 + tv->tv_usec;
}

/* CPU (user + system) microseconds of the process per request. */
static double
cpu_us_per_io (const struct result *r)
{
  double cpu = tv_us (&r->ru1.ru_utime) - tv_us (&r->ru0.ru_utime)
    + tv_us (&r->ru1.ru_stime) - tv_us (&r->ru0.ru_stime);
  return r->ios ? cpu / r->ios : 0;
}

/* Context switches (voluntary + involuntary) of the process per request. */
static double
ctxsw_per_io (const struct result *r)
{
  double n = (r->ru1.ru_nvcsw - r->ru0.ru_nvcsw)
    + (r->ru1.ru_nivcsw - r->ru0.ru_nivcsw);
  return r->ios ? n / r->ios : 0;
}

static double
us (uint64_t ns)
{
  return ns / 1000.0;
}

static void
print_text (const struct bench *b, const struct result *r)
{
  const struct histogram *h = &r->hist;
  char bs[32], size[32], moved[32];

  format_size (b->o.bs, bs, sizeof bs);
  format_size (b->o.size, size, sizeof size);
  format_size (r->bytes, moved, sizeof moved);
  printf ("%s %s: bs %s, size %s, jobs %u, iodepth %u, %s\n",
          rw_names[b->o.rw], b->o.target, bs, size, b->o.jobs, b->o.iodepth,
          b->o.cached ? "cached" : "direct");
  printf ("  %.1f MiB/s, %.0f IOPS (%s in %.2f s)\n",
          r->bytes / r->seconds / (1024 * 1024), r->ios / r->seconds, moved,
          r->seconds);
  printf ("  latency (us): min %.1f, mean %.1f, p50 %.1f, p99 %.1f, "
          "p99.9 %.1f, max %.1f\n",
          us (h->count ? h->min : 0), h->count ? us (h->sum / h->count) : 0,
          us (hist_quantile (h, 0.50)), us (hist_quantile (h, 0.99)),
          us (hist_quantile (h, 0.999)), us (h->max));
  printf ("  per request: %.1f us CPU, %.2f context switches "
          "(the whole process)\n", cpu_us_per_io (r), ctxsw_per_io (r));
  printf ("  rpcs: %" PRIu64 " READ, %" PRIu64 " WRITE, %" PRIu64
          " COMMIT (for %" PRIu64 " writes); rsize %u, wsize %u, "
          "nconnect %u, window %u\n",
          r->st1.read_rpcs - r->st0.read_rpcs,
          r->st1.write_rpcs - r->st0.write_rpcs,
          r->st1.commit_rpcs - r->st0.commit_rpcs,
          r->st1.commit_joins - r->st0.commit_joins,
          r->st1.rsize, r->st1.wsize, r->st1.nconnect, r->st1.window);
}

static void
print_json (const struct bench *b, const struct result *r)
{
  const struct histogram *h = &r->hist;

  printf ("{\n  \"target\": ");
  print_json_string (b->o.target);
  printf (",\n  \"rw\": \"%s\",\n  \"bs\": %" PRIu64 ",\n  \"size\": %" PRIu64
          ",\n  \"jobs\": %u,\n  \"iodepth\": %u,\n  \"cached\": %s,\n"
          "  \"time_based\": %s,\n",
          rw_names[b->o.rw], b->o.bs, b->o.size, b->o.jobs, b->o.iodepth,
          b->o.cached ? "true" : "false", b->deadline ? "true" : "false");
  printf ("  \"seconds\": %.6f,\n  \"bytes\": %" PRIu64 ",\n  \"ios\": %"
          PRIu64 ",\n  \"mib_per_s\": %.3f,\n  \"iops\": %.1f,\n",
          r->seconds, r->bytes, r->ios,
          r->bytes / r->seconds / (1024 * 1024), r->ios / r->seconds);
  printf ("  \"latency_us\": {\"min\": %.1f, \"mean\": %.1f, \"p50\": %.1f, "
          "\"p99\": %.1f, \"p99_9\": %.1f, \"max\": %.1f},\n",
          us (h->count ? h->min : 0), h->count ? us (h->sum / h->count) : 0,
          us (hist_quantile (h, 0.50)), us (hist_quantile (h, 0.99)),
          us (hist_quantile (h, 0.999)), us (h->max));
  printf ("  \"cpu_us_per_io\": %.2f,\n  \"ctxsw_per_io\": %.3f,\n",
          cpu_us_per_io (r), ctxsw_per_io (r));
  printf ("  \"rpcs\": {\"read\": %" PRIu64 ", \"write\": %" PRIu64
          ", \"commit\": %" PRIu64 ", \"commit_joins\": %" PRIu64 "},\n",
          r->st1.read_rpcs - r->st0.read_rpcs,
          r->st1.write_rpcs - r->st0.write_rpcs,
          r->st1.commit_rpcs - r->st0.commit_rpcs,
          r->st1.commit_joins - r->st0.commit_joins);
  printf ("  \"mount\": {\"rsize\": %u, \"wsize\": %u, \"nconnect\": %u, "
          "\"window\": %u}\n}\n",
          r->st1.rsize, r->st1.wsize, r->st1.nconnect, r->st1.window);
}

/* ---- running ---------------------------------------------------------- */

/* The first error of any job, reported; -1 if there was one. */
static int
check_errors (const struct bench *b, struct job *jobs)
{
  for (unsigned i = 0; i < b->o.jobs; i++) {
    struct job *j = &jobs[i];
    if (j->err == 0 && j->err_result == 0)
      continue;
    if (j->err)
      error_msg ("%s: %s at offset %" PRIu64 ": %s", b->o.target,
                 b->write ? "write" : "read", j->err_off, strerror (j->err));
    else
      error_msg ("%s: short %s at offset %" PRIu64 ": %zd of %" PRIu64
                 " bytes", b->o.target, b->write ? "write" : "read",
                 j->err_off, j->err_result, b->o.bs);
    return -1;
  }
  return 0;
}

static int
run (struct bench *b, struct job *jobs, struct result *r)
{
  unsigned started = 0;
  double t0;
  int err = 0;

  memset (r, 0, sizeof *r);
  hist_init (&r->hist);
  dio_stats (b->fd, &r->st0);
  if (getrusage (RUSAGE_SELF, &r->ru0) == -1) {
    error_msg ("getrusage: %s", strerror (errno));
    return -1;
  }
  t0 = now_seconds ();
  if (b->o.time > 0)
    b->deadline = now_ns () + (uint64_t) (b->o.time * 1e9);
  for (; started < b->o.jobs; started++) {
    err = pthread_create (&jobs[started].thread, NULL, job_thread,
                          &jobs[started]);
    if (err != 0)
      break;
  }
  for (unsigned i = 0; i < started; i++)
    pthread_join (jobs[i].thread, NULL);
  r->seconds = now_seconds () - t0;
  if (getrusage (RUSAGE_SELF, &r->ru1) == -1) {
    error_msg ("getrusage: %s", strerror (errno));
    return -1;
  }
  dio_stats (b->fd, &r->st1);
  if (started < b->o.jobs) {
    error_msg ("cannot start job %u: %s", started, strerror (err));
    return -1;
  }
  if (check_errors (b, jobs) == -1)
    return -1;
  for (unsigned i = 0; i < b->o.jobs; i++) {
    hist_merge (&r->hist, &jobs[i].hist);
    r->bytes += jobs[i].bytes;
    r->ios += jobs[i].ios;
  }
  return 0;
}

/* ---- the command ------------------------------------------------------ */

static void
usage (FILE *fp)
{
  fprintf (fp,
"Usage: directio bench [OPTION...] TARGET\n"
"\n"
"Measure I/O to TARGET, an nfs:// URL or a path under a profile's\n"
"mountpoint, through the engine: throughput, IOPS, latency percentiles.\n"
"\n"
"  -w, --rw=MODE      read, write, randread or randwrite (default read)\n"
"  -b, --bs=SIZE      bytes per request (default 1M sequential, 4K random)\n"
"  -s, --size=SIZE    bytes of the file to use (default: its size, or 1G)\n"
"  -j, --jobs=N       threads (default 1)\n"
"  -d, --iodepth=N    asynchronous requests in flight per job (default 1)\n"
"  -t, --time=SECONDS run this long (default: until SIZE bytes are moved)\n"
"      --cached       buffered mode (directio DIRECTIO_OFF), not direct\n"
"      --json         print the results as a JSON object\n"
"  -h, --help         print this help and exit\n"
"\n"
"Sizes take K, M, G suffixes (powers of 1024).  Read tests first write\n"
"the file up to SIZE if it is shorter.  Write tests overwrite it.\n");
}

static int
parse_rw (const char *s, enum rw *rw)
{
  for (unsigned i = 0; i < sizeof rw_names / sizeof rw_names[0]; i++)
    if (strcmp (s, rw_names[i]) == 0) {
      *rw = i;
      return 0;
    }
  return -1;
}

/* Check the combination; fill in the defaults that need no file. */
static int
check_args (struct bench_opts *o)
{
  if (o->bs == 0)
    o->bs = o->rw == RW_RANDREAD || o->rw == RW_RANDWRITE
      ? DEFAULT_RAND_BS : DEFAULT_SEQ_BS;
  if ((uint64_t) o->jobs * o->iodepth * o->bs > MAX_MEMORY)
    return usage_error ("jobs x iodepth x bs is over %" PRIu64 " GiB",
                        MAX_MEMORY >> 30);
  return 0;
}

static int
parse_args (int argc, char *argv[], struct bench_opts *o, int *status)
{
  enum { OPT_CACHED = 256, OPT_JSON };
  static const struct option long_options[] = {
    { "rw", required_argument, NULL, 'w' },
    { "bs", required_argument, NULL, 'b' },
    { "size", required_argument, NULL, 's' },
    { "jobs", required_argument, NULL, 'j' },
    { "iodepth", required_argument, NULL, 'd' },
    { "time", required_argument, NULL, 't' },
    { "cached", no_argument, NULL, OPT_CACHED },
    { "json", no_argument, NULL, OPT_JSON },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  *o = (struct bench_opts) { .rw = RW_READ, .jobs = 1, .iodepth = 1 };
  *status = EXIT_USAGE;
  while ((c = getopt_long (argc, argv, "w:b:s:j:d:t:h", long_options,
                           NULL)) != -1) {
    switch (c) {
    case 'w':
      if (parse_rw (optarg, &o->rw) == -1) {
        usage_error ("--rw: '%s': need read, write, randread or randwrite",
                     optarg);
        return -1;
      }
      break;
    case 'b':
      if (parse_size (optarg, &o->bs) == -1 || o->bs == 0
          || o->bs > MAX_BS) {
        usage_error ("--bs: '%s': need a size from 1 byte to 64M", optarg);
        return -1;
      }
      break;
    case 's':
      if (parse_size (optarg, &o->size) == -1 || o->size == 0) {
        usage_error ("--size: '%s': need a size above 0", optarg);
        return -1;
      }
      break;
    case 'j':
      if (parse_uint_option ("jobs", optarg, 1, MAX_JOBS, &o->jobs) == -1)
        return -1;
      break;
    case 'd':
      if (parse_uint_option ("iodepth", optarg, 1, MAX_IODEPTH,
                             &o->iodepth) == -1)
        return -1;
      break;
    case 't':
      if (parse_seconds (optarg, &o->time) == -1) {
        usage_error ("--time: '%s': need a number of seconds above 0",
                     optarg);
        return -1;
      }
      break;
    case OPT_CACHED: o->cached = true; break;
    case OPT_JSON: o->json = true; break;
    case 'h':
      usage (stdout);
      *status = EXIT_SUCCESS;
      return -1;
    default:
      usage_error ("bad option");
      return -1;
    }
  }
  if (argc - optind != 1) {
    usage_error ("need one TARGET");
    return -1;
  }
  o->target = argv[optind];
  if (check_args (o) != 0)
    return -1;
  return 0;
}

/* Derived settings once the file's size is known. */
static int
plan (struct bench *b)
{
  b->write = b->o.rw == RW_WRITE || b->o.rw == RW_RANDWRITE;
  b->random = b->o.rw == RW_RANDREAD || b->o.rw == RW_RANDWRITE;
  b->nblocks = b->o.size / b->o.bs;
  if (b->nblocks < b->o.jobs) {
    error_msg ("--size %" PRIu64 " holds %" PRIu64 " blocks of --bs %"
               PRIu64 ": fewer than --jobs %u", b->o.size, b->nblocks,
               b->o.bs, b->o.jobs);
    return -1;
  }
  return 0;
}

int
cmd_bench (int argc, char *argv[])
{
  struct bench b = { .fd = -1 };
  struct job *jobs = NULL;
  struct result r;
  unsigned ready = 0;
  int status;

  if (parse_args (argc, argv, &b.o, &status) == -1)
    return status;
  status = EXIT_FAILURE;
  b.write = b.o.rw == RW_WRITE || b.o.rw == RW_RANDWRITE;
  if (open_target (&b) == -1 || plan (&b) == -1
      || (!b.write && extend_for_reading (&b) == -1))
    goto out;
  jobs = calloc (b.o.jobs, sizeof *jobs);
  if (jobs == NULL) {
    error_msg ("cannot allocate %u jobs", b.o.jobs);
    goto out;
  }
  for (; ready < b.o.jobs; ready++)
    if (job_init (&b, &jobs[ready], ready) == -1)
      goto out;
  if (run (&b, jobs, &r) == -1)
    goto out;
  if (b.o.json)
    print_json (&b, &r);
  else
    print_text (&b, &r);
  status = fflush (stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;

 out:
  for (unsigned i = 0; i < ready; i++)
    job_free (&jobs[i]);
  free (jobs);
  if (b.fd >= 0 && dio_close (b.fd) == -1) {
    error_msg ("%s", dio_last_error ());
    status = EXIT_FAILURE;
  }
  return status;
}
