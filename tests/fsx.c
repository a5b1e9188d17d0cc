/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fsx: random file operations checked against an in-memory model, after
 * the fsx of BSD and xfstests, through the dio_* API or through plain
 * POSIX calls (for the LD_PRELOAD shim).
 *
 *   fsx [-N OPS] [-T SECONDS] [-S SEED] [-m MAXLEN] [-l LOCALFILE] [-P] [-d]
 *       [-g] FILE
 *
 * Operations: reads and writes (unaligned, 1 byte to a few MiB, some
 * across EOF), truncates that grow and shrink, close and reopen (with
 * other mount options), directio() switches, fsync, and (engine only)
 * UNSTABLE writes committed by a later fsync.  Every read is compared
 * with the model, and after every operation the size and a sampled region
 * are too; at the end the whole file, and with -l the file on the
 * server's disk.
 *
 * The seed is printed first ("fsx: seed N") and again on failure, with
 * the last operations; FSX_SEED=N (or -S N) replays the same sequence.
 * FSX_OPS (default 3000, 600 under DIO_UNDER_TOOL) and FSX_SECONDS
 * (default 300) bound the run, whichever comes first.
 *
 * -P uses open/pread/pwrite/ftruncate/fstat/fsync/close and
 * fcntl(F_SETFL, O_DIRECT) instead of dio_* and directio(), for a path
 * the LD_PRELOAD shim serves.  -d never turns direct I/O on (with -P on a
 * local file, a check of fsx itself: the kernel's O_DIRECT wants aligned
 * I/O).  -g makes truncates only grow the file: ganesha's MEM FSAL keeps
 * the bytes a shrinking truncate cut off and shows them again when the
 * file grows back over them (its bug; tests/test-fsx.sh).  -m below 3 MiB
 * bounds each read and write by MAXLEN too.  Exit status: 0 pass, 1 mismatch or error,
 * 2 usage. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "directio.h"
#include "fault_helpers.h"

#define KiB 1024
#define MiB (1024 * 1024)
#define MAX_IO (3 * MiB)
#define SAMPLE_MAX (64 * KiB)
#define HISTORY 24

/* ---- two ways to reach the file -------------------------------------- */

struct backend {
  const char *name;
  int (*open) (const char *path, int flags, const char *options);
  ssize_t (*pread) (int fd, void *buf, size_t n, off_t off);
  ssize_t (*pwrite) (int fd, const void *buf, size_t n, off_t off,
                     bool unstable);
  int (*ftruncate) (int fd, off_t len);
  int (*fstat) (int fd, struct stat *st);
  int (*fsync) (int fd);
  int (*close) (int fd);
  int (*direct) (int fd, bool on);
  const char *(*error) (void);
};

static int
eng_open (const char *path, int flags, const char *options)
{
  return dio_open_options (path, flags, 0644, options);
}

static ssize_t
eng_pwrite (int fd, const void *buf, size_t n, off_t off, bool unstable)
{
  return dio_pwrite2 (fd, buf, n, off, unstable ? DIO_WRITE_UNSTABLE : 0);
}

static int
eng_direct (int fd, bool on)
{
  return directio (fd, on ? DIRECTIO_ON : DIRECTIO_OFF);
}

static const struct backend engine = {
  "dio", eng_open, dio_pread, eng_pwrite, dio_ftruncate, dio_fstat,
  dio_fsync, dio_close, eng_direct, dio_last_error,
};

static int
px_open (const char *path, int flags, const char *options)
{
  return open (path, flags, 0644);
}

static ssize_t
px_pwrite (int fd, const void *buf, size_t n, off_t off, bool unstable)
{
  return pwrite (fd, buf, n, off);
}

static int
px_direct (int fd, bool on)
{
  int fl = fcntl (fd, F_GETFL);

  if (fl == -1)
    return -1;
  return fcntl (fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT);
}

static const char *
px_error (void)
{
  return strerror (errno);
}

static const struct backend posix = {
  "posix", px_open, pread, px_pwrite, ftruncate, fstat, fsync, close,
  px_direct, px_error,
};

/* ---- state ----------------------------------------------------------- */

struct fsx {
  const struct backend *be;
  const char *path, *local;
  bool never_direct;
  uint64_t seed, rng;
  unsigned long op, ops;
  double deadline;
  uint64_t maxlen;
  int fd;
  bool direct;
  char *model;                  /* maxlen bytes; valid up to size */
  uint64_t size;
  char *buf, *got;              /* MAX_IO each */
  bool grow_only;               /* -g: truncates never shrink the file */
  size_t max_io;                /* the largest read or write: MAX_IO, or
                                   maxlen if that is smaller */
  char history[HISTORY][120];
  unsigned long counts[16];
};

static void
note (struct fsx *f, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

static void
note (struct fsx *f, const char *fmt, ...)
{
  char *h = f->history[f->op % HISTORY];
  int n = snprintf (h, sizeof f->history[0], "#%lu ", f->op);
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (h + n, sizeof f->history[0] - n, fmt, ap);
  va_end (ap);
}

static void __attribute__ ((noreturn, format (printf, 2, 3)))
fail (struct fsx *f, const char *fmt, ...)
{
  va_list ap;
  unsigned long first = f->op >= HISTORY ? f->op - HISTORY + 1 : 1;

  fprintf (stderr, "fsx: FAIL at operation #%lu: ", f->op);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, "\nfsx: file size per model %" PRIu64 ", direct %s; "
           "last operations:\n", f->size, f->direct ? "on" : "off");
  for (unsigned long i = first; i <= f->op; i++)
    fprintf (stderr, "  %s\n", f->history[i % HISTORY]);
  fprintf (stderr, "fsx: seed %" PRIu64 " (FSX_SEED=%" PRIu64
           " replays it)\n", f->seed, f->seed);
  exit (EXIT_FAILURE);
}

static double
now (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* Sizes from 1 byte to max, spread over the orders of magnitude. */
static size_t
random_size (struct fsx *f, size_t max)
{
  unsigned bits = fault_range (&f->rng, 0, 22);
  size_t hi = (size_t) 1 << bits;
  return fault_range (&f->rng, 1, hi < max ? hi : max);
}

/* ---- checks ---------------------------------------------------------- */

/* Read [off, off+len) and compare with the model; what = the caller. */
static void
check_range (struct fsx *f, uint64_t off, size_t len, const char *what)
{
  uint64_t want = off >= f->size ? 0 : f->size - off < len ? f->size - off
                                                           : len;
  ssize_t r = f->be->pread (f->fd, f->got, len, off);

  if (r < 0)
    fail (f, "%s: read of %zu at %" PRIu64 " failed: %s", what, len, off,
          f->be->error ());
  if ((uint64_t) r != want)
    fail (f, "%s: read of %zu at %" PRIu64 " returned %zd, the model says "
          "%" PRIu64, what, len, off, r, want);
  if (memcmp (f->got, f->model + off, want) != 0) {
    size_t i = 0;
    while (f->got[i] == f->model[off + i])
      i++;
    fail (f, "%s: read of %zu at %" PRIu64 ": byte %" PRIu64 " is 0x%02x, "
          "the model says 0x%02x", what, len, off, off + i,
          (unsigned char) f->got[i], (unsigned char) f->model[off + i]);
  }
}

static void
check_size (struct fsx *f, const char *what)
{
  struct stat st;

  if (f->be->fstat (f->fd, &st) == -1)
    fail (f, "%s: fstat failed: %s", what, f->be->error ());
  if ((uint64_t) st.st_size != f->size)
    fail (f, "%s: fstat says size %jd, the model %" PRIu64, what,
          (intmax_t) st.st_size, f->size);
}

/* After every operation: the size, and a sampled region near the end of
 * the file and one anywhere. */
static void
check_sample (struct fsx *f)
{
  uint64_t len = fault_range (&f->rng, 1, SAMPLE_MAX);
  uint64_t tail = f->size > len ? f->size - len : 0;

  check_size (f, "after it");
  check_range (f, tail, len, "sample at EOF");
  check_range (f, fault_range (&f->rng, 0, f->maxlen), len, "sample");
}

/* ---- operations ------------------------------------------------------ */

enum op { OP_READ, OP_WRITE, OP_UNSTABLE, OP_TRUNCATE, OP_REOPEN,
          OP_DIRECTIO, OP_FSYNC, OP_NR };

static const char *const op_names[OP_NR] = {
  "read", "write", "unstable write", "truncate", "reopen", "directio",
  "fsync",
};

static void
op_read (struct fsx *f)
{
  size_t len = random_size (f, f->max_io);
  /* A tenth of the reads start at or past EOF. */
  uint64_t off = fault_range (&f->rng, 0, 9) == 0
    ? f->size + fault_range (&f->rng, 0, 4 * KiB)
    : fault_range (&f->rng, 0, f->size);

  note (f, "read %zu at %" PRIu64, len, off);
  check_range (f, off, len, "read");
}

static void
op_write (struct fsx *f, bool unstable)
{
  size_t len = random_size (f, f->max_io);
  uint64_t off = fault_range (&f->rng, 0, f->maxlen - len);
  uint64_t tag = fault_rand (&f->rng);
  ssize_t r;

  note (f, "%s %zu at %" PRIu64, unstable ? "unstable write" : "write", len,
        off);
  fault_fill (f->buf, len, off, tag);
  r = f->be->pwrite (f->fd, f->buf, len, off, unstable);
  if (r != (ssize_t) len)
    fail (f, "write of %zu at %" PRIu64 " returned %zd: %s", len, off, r,
          r < 0 ? f->be->error () : "short");
  /* Bytes between the old EOF and off read as zeros (the model's are). */
  memcpy (f->model + off, f->buf, len);
  if (off + len > f->size)
    f->size = off + len;
}

static void
op_truncate (struct fsx *f)
{
  uint64_t len = fault_range (&f->rng, 0, 1) && !f->grow_only
    ? fault_range (&f->rng, 0, f->size)
    : fault_range (&f->rng, f->size, f->maxlen);

  note (f, "truncate %" PRIu64 " -> %" PRIu64, f->size, len);
  if (f->be->ftruncate (f->fd, len) == -1)
    fail (f, "truncate to %" PRIu64 " failed: %s", len, f->be->error ());
  if (len > f->size)
    memset (f->model + f->size, 0, len - f->size);
  else
    memset (f->model + len, 0, f->size - len);
  f->size = len;
}

/* Other mount options on reopen: other chunk sizes and pools. */
static const char *const reopen_options[] = {
  NULL, NULL, "rsize=64K,wsize=64K", "rsize=4K,wsize=16K,nconnect=1",
  "nconnect=4,window=4", "wsize=256K,rsize=1M,nconnect=1,window=1",
};

static void
op_reopen (struct fsx *f)
{
  const char *opts = NULL;

  if (f->be == &engine)
    opts = reopen_options[fault_range (&f->rng, 0, 5)];
  note (f, "close and reopen%s%s", opts ? " with " : "", opts ? opts : "");
  if (f->be->close (f->fd) == -1)
    fail (f, "close failed: %s", f->be->error ());
  f->fd = f->be->open (f->path, O_RDWR, opts);
  if (f->fd == -1)
    fail (f, "reopen of %s failed: %s", f->path, f->be->error ());
  /* directio() advice lives with the open file: a new open starts over
   * (per mount or profile defaults); make it known again. */
  if (f->be->direct (f->fd, f->direct) == -1)
    fail (f, "directio %s after reopen failed: %s", f->direct ? "on" : "off",
          f->be->error ());
}

static void
op_directio (struct fsx *f)
{
  bool on = (fault_rand (&f->rng) & 1) && !f->never_direct;

  note (f, "directio %s (was %s)", on ? "on" : "off", f->direct ? "on" : "off");
  if (f->be->direct (f->fd, on) == -1)
    fail (f, "directio %s failed: %s", on ? "on" : "off", f->be->error ());
  f->direct = on;
}

static void
op_fsync (struct fsx *f)
{
  note (f, "fsync");
  if (f->be->fsync (f->fd) == -1)
    fail (f, "fsync failed: %s", f->be->error ());
}

static enum op
pick (struct fsx *f)
{
  /* Weights: reads and writes most, the rest now and then. */
  static const unsigned weight[OP_NR] = { 30, 30, 5, 8, 5, 8, 4 };
  unsigned total = 0, x;

  for (int i = 0; i < OP_NR; i++)
    total += weight[i];
  x = fault_range (&f->rng, 0, total - 1);
  for (int i = 0; i < OP_NR; i++) {
    if (x < weight[i])
      return i;
    x -= weight[i];
  }
  return OP_READ;
}

static void
run_op (struct fsx *f)
{
  enum op op = pick (f);

  if (op == OP_UNSTABLE && f->be != &engine)
    op = OP_WRITE;
  f->counts[op]++;
  switch (op) {
  case OP_READ: op_read (f); break;
  case OP_WRITE: op_write (f, false); break;
  case OP_UNSTABLE: op_write (f, true); break;
  case OP_TRUNCATE: op_truncate (f); break;
  case OP_REOPEN: op_reopen (f); break;
  case OP_DIRECTIO: op_directio (f); break;
  case OP_FSYNC: op_fsync (f); break;
  case OP_NR: abort ();
  }
  check_sample (f);
}

/* ---- the whole run --------------------------------------------------- */

static void
final_checks (struct fsx *f)
{
  int64_t diff;

  note (f, "final: whole file");
  for (uint64_t off = 0; off < f->size; off += MAX_IO)
    check_range (f, off, MAX_IO, "final read");
  check_size (f, "final");
  if (f->be->fsync (f->fd) == -1)
    fail (f, "final fsync failed: %s", f->be->error ());
  if (f->be->close (f->fd) == -1)
    fail (f, "final close failed: %s", f->be->error ());
  f->fd = -1;
  if (f->local) {
    note (f, "final: %s on the server", f->local);
    diff = fault_local_diff (f->local, f->model, f->size);
    if (diff == -2)
      fail (f, "cannot read %s: %s", f->local, strerror (errno));
    if (diff >= 0)
      fail (f, "%s (the server's file) differs from the model at byte %"
            PRId64, f->local, diff);
  }
}

static unsigned long
env_number (const char *name, unsigned long dflt)
{
  const char *e = getenv (name);
  return e && *e ? strtoul (e, NULL, 0) : dflt;
}

static void __attribute__ ((noreturn))
usage (int status)
{
  fprintf (status ? stderr : stdout,
           "usage: fsx [-N OPS] [-T SECONDS] [-S SEED] [-m MAXLEN] "
           "[-l LOCALFILE] [-P] [-d] [-g] FILE\n");
  exit (status);
}

int
main (int argc, char **argv)
{
  struct fsx f = { .be = &engine, .fd = -1, .maxlen = 16 * MiB };
  double seconds = env_number ("FSX_SECONDS", 300), t0;
  int c;

  bool have_seed = false;

  /* Under valgrind a fifth of the work. */
  f.ops = env_number ("FSX_OPS", fault_under_tool () ? 600 : 3000);
  while ((c = getopt (argc, argv, "N:T:S:m:l:Pdgh")) != -1)
    switch (c) {
    case 'N': f.ops = strtoul (optarg, NULL, 0); break;
    case 'T': seconds = strtod (optarg, NULL); break;
    case 'S': f.seed = strtoull (optarg, NULL, 0); have_seed = true; break;
    case 'm': f.maxlen = strtoull (optarg, NULL, 0); break;
    case 'l': f.local = optarg; break;
    case 'P': f.be = &posix; break;
    case 'd': f.never_direct = true; break;
    case 'g': f.grow_only = true; break;
    case 'h': usage (0);
    default: usage (2);
    }
  if (optind != argc - 1 || f.maxlen < 64 * KiB || f.maxlen > (1ull << 32))
    usage (2);
  f.max_io = f.maxlen < MAX_IO ? f.maxlen : MAX_IO;
  f.path = argv[optind];
  /* "fsx: seed N (FSX_SEED=N replays it)" on stderr. */
  if (have_seed)
    fprintf (stderr, "fsx: seed %" PRIu64 " (FSX_SEED=%" PRIu64
             " replays it)\n", f.seed, f.seed);
  else
    f.seed = fault_seed ("FSX_SEED", "fsx");
  f.rng = f.seed;
  printf ("fsx: %lu operations, at most %.0f s, through %s, on %s\n",
          f.ops, seconds, f.be->name, f.path);
  fflush (stdout);

  f.model = calloc (1, f.maxlen);
  f.buf = malloc (MAX_IO);
  f.got = malloc (MAX_IO);
  if (!f.model || !f.buf || !f.got) {
    perror ("fsx: malloc");
    return EXIT_FAILURE;
  }
  f.fd = f.be->open (f.path, O_RDWR | O_CREAT | O_TRUNC, NULL);
  if (f.fd == -1) {
    fprintf (stderr, "fsx: %s: %s\n", f.path, f.be->error ());
    return EXIT_FAILURE;
  }
  f.direct = !f.never_direct;
  if (f.be->direct (f.fd, f.direct) == -1)
    fail (&f, "directio %s failed: %s", f.direct ? "on" : "off",
          f.be->error ());

  t0 = now ();
  f.deadline = t0 + seconds;
  for (f.op = 1; f.op <= f.ops; f.op++) {
    run_op (&f);
    if (now () > f.deadline) {
      printf ("fsx: time limit: stopping after %lu operations\n", f.op);
      break;
    }
  }
  if (f.op > f.ops)
    f.op = f.ops;
  final_checks (&f);
  printf ("fsx: passed: %lu operations in %.1f s (", f.op, now () - t0);
  for (int i = 0; i < OP_NR; i++)
    printf ("%s%s %lu", i ? ", " : "", op_names[i], f.counts[i]);
  printf ("); final size %" PRIu64 "\n", f.size);
  free (f.model);
  free (f.buf);
  free (f.got);
  return EXIT_SUCCESS;
}
