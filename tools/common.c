/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The directio tool: helpers its subcommands share (see common.h).
 *
 * Threading: side_read/side_write/side_size/side_sync may run on several
 * threads at once on one side; the only state they change is the
 * O_DIRECT flag of a local fd (through fcntl, which the kernel
 * serialises); error_msg may run on any thread.  Everything else runs
 * on the main thread. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>           /* BLKGETSIZE64 */

#include "directio.h"
#include "common.h"

const char *progname = "directio";

/* ---- messages --------------------------------------------------------- */

/* "PROGNAME: MESSAGE" on stderr, for the caller to end. */
static void __attribute__ ((format (printf, 1, 0)))
print_message (const char *fmt, va_list ap)
{
  fprintf (stderr, "%s: ", progname);
  vfprintf (stderr, fmt, ap);
}

void
error_msg (const char *fmt, ...)
{
  va_list ap;

  /* Whole lines: directio nbd's threads (handshakes, the engine) may
   * report at once, and each piece below is a call of its own. */
  flockfile (stderr);
  va_start (ap, fmt);
  print_message (fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  funlockfile (stderr);
}

int
usage_error (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  print_message (fmt, ap);
  va_end (ap);
  fprintf (stderr, "\nTry '%s --help' for more information.\n", progname);
  return EXIT_USAGE;
}

/* ---- numbers ---------------------------------------------------------- */

/* Decimal digits only (strtoull would take signs, spaces and 0x too). */
static const char *
parse_digits (const char *s, uint64_t *out)
{
  uint64_t v = 0;
  const char *p;

  for (p = s; *p >= '0' && *p <= '9'; p++) {
    unsigned d = *p - '0';
    if (v > (UINT64_MAX - d) / 10)
      return NULL;              /* overflow */
    v = v * 10 + d;
  }
  if (p == s)
    return NULL;
  *out = v;
  return p;
}

int
parse_size (const char *s, uint64_t *out)
{
  static const char units[] = "kmgtp";
  const char *p, *u;
  uint64_t v;
  unsigned shift = 0;

  if (s == NULL || (p = parse_digits (s, &v)) == NULL)
    return -1;
  if (*p != '\0') {
    char c = *p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p;
    u = strchr (units, c);
    if (c == '\0' || u == NULL)
      return -1;
    shift = 10 * (unsigned) (u - units + 1);
    p++;
    if (strcmp (p, "iB") == 0 || strcmp (p, "B") == 0)
      p += strlen (p);
    if (*p != '\0')
      return -1;
  }
  if (shift && v > (UINT64_MAX >> shift))
    return -1;
  *out = v << shift;
  return 0;
}

int
parse_uint (const char *s, unsigned min, unsigned max, unsigned *out)
{
  uint64_t v;
  const char *p;

  if (s == NULL || (p = parse_digits (s, &v)) == NULL || *p != '\0'
      || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

int
parse_uint_option (const char *option, const char *arg, unsigned min,
                   unsigned max, unsigned *out)
{
  if (parse_uint (arg, min, max, out) == -1) {
    usage_error ("--%s: '%s': need a number from %u to %u", option, arg,
                 min, max);
    return -1;
  }
  return 0;
}

int
parse_seconds (const char *s, double *out)
{
  char *end;
  double v;

  if (s == NULL || *s < '0' || *s > '9')
    return -1;
  errno = 0;
  v = strtod (s, &end);
  if (errno || *end != '\0' || !(v > 0) || v > 1e9)
    return -1;
  *out = v;
  return 0;
}

void
format_size (double bytes, char *buf, size_t len)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
                                       "PiB" };
  unsigned i = 0;

  while (bytes >= 1024 && i < sizeof units / sizeof units[0] - 1) {
    bytes /= 1024;
    i++;
  }
  if (i == 0)
    snprintf (buf, len, "%.0f B", bytes);
  else
    snprintf (buf, len, "%.2f %s", bytes, units[i]);
}

double
now_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint64_t
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
cond_init_monotonic (pthread_cond_t *cond)
{
  pthread_condattr_t attr;
  int err = pthread_condattr_init (&attr);

  if (err)
    return err;
  err = pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
  if (err == 0)
    err = pthread_cond_init (cond, &attr);
  pthread_condattr_destroy (&attr);
  return err;
}

/* now + ms on CLOCK_MONOTONIC (cond_init_monotonic's clock). */
static struct timespec
monotonic_after_ms (long ms)
{
  struct timespec t;

  clock_gettime (CLOCK_MONOTONIC, &t);
  t.tv_sec += ms / 1000;
  t.tv_nsec += (ms % 1000) * 1000000;
  if (t.tv_nsec >= 1000000000) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000;
  }
  return t;
}

static bool
before (const struct timespec *a, const struct timespec *b)
{
  return a->tv_sec < b->tv_sec
    || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* In slices of STOP_ASK_MS, so that give_up is asked while it waits. */
bool
wait_until_none (pthread_mutex_t *lock, pthread_cond_t *cond,
                 const unsigned *count, unsigned wait_s,
                 stop_ask_fn *give_up, void *arg)
{
  struct timespec until = monotonic_after_ms (wait_s * 1000L);
  bool stop = false;

  while (*count > 0 && !stop) {
    struct timespec slice = monotonic_after_ms (STOP_ASK_MS);
    unsigned left;

    if (!before (&slice, &until))
      slice = until;
    if (pthread_cond_timedwait (cond, lock, &slice) == 0 || *count == 0)
      continue;
    if (!before (&slice, &until))
      break;                    /* the deadline */
    left = *count;
    pthread_mutex_unlock (lock);
    stop = give_up && give_up (arg, left);
    pthread_mutex_lock (lock);
  }
  return *count == 0;
}

void
print_json_string (const char *s)
{
  putchar ('"');
  for (; *s; s++) {
    unsigned char c = *s;
    if (c == '"' || c == '\\')
      printf ("\\%c", c);
    else if (c < 0x20)
      printf ("\\u%04x", c);
    else
      putchar (c);
  }
  putchar ('"');
}

/* ---- sides: opening --------------------------------------------------- */

/* The engine's reason alone.  libdirectio's messages have one shape,
 * "call: file: reason", where the file is the name the call was given
 * (directio(3), ERRORS): what follows that exact prefix is the reason;
 * plain strerror if there is none. */
static const char *
dio_reason (const char *msg, const char *call, const char *name, int err)
{
  size_t c = strlen (call), n = strlen (name);

  if (strncmp (msg, call, c) == 0 && strncmp (msg + c, ": ", 2) == 0
      && strncmp (msg + c + 2, name, n) == 0
      && strncmp (msg + c + 2 + n, ": ", 2) == 0)
    msg += c + 2 + n + 2;
  return msg[0] ? msg : strerror (err);
}

/* The same for a dio_open that failed. */
static const char *
dio_detail (const char *msg, const char *name, int err)
{
  return dio_reason (msg, "dio_open", name, err);
}

static int
open_flags (int mode)
{
  switch (mode) {
  case SIDE_WRITE: return O_WRONLY | O_CREAT;
  case SIDE_RDWR: return O_RDWR | O_CREAT;
  default: return O_RDONLY;
  }
}

static int
open_stdio (struct side *s, int mode)
{
  struct stat st;

  s->kind = SIDE_STREAM;
  s->is_stdio = true;
  s->fd = mode == SIDE_READ ? STDIN_FILENO : STDOUT_FILENO;
  s->regular = fstat (s->fd, &st) == 0 && S_ISREG (st.st_mode);
  return 0;
}

/* An engine fd.  The engine applies no umask (the NFS server does not
 * either), so apply ours as the kernel would for a local file. */
static int
try_open_dio (struct side *s, int mode)
{
  mode_t mask = umask (0);

  umask (mask);
  s->fd = dio_open (s->name, open_flags (mode) | O_CLOEXEC, 0666 & ~mask);
  if (s->fd == -1)
    return -1;
  s->kind = SIDE_DIO;
  s->regular = true;
  return 0;
}

/* Turn O_DIRECT on where the filesystem has it; stay buffered elsewhere
 * (tmpfs, some FUSE filesystems refuse it with EINVAL). */
static void
try_direct (struct side *s)
{
  int fl = fcntl (s->fd, F_GETFL);

  s->direct = fl != -1 && fcntl (s->fd, F_SETFL, fl | O_DIRECT) == 0;
}

static int
open_local (struct side *s, int mode, char *why, size_t whylen,
            int dio_err, const char *dio_msg)
{
  struct stat st;

  s->fd = open (s->name, open_flags (mode) | O_CLOEXEC, 0666);
  if (s->fd == -1) {
    int err = errno;
    /* A profile path the engine knew but could not open says more than
     * the local ENOENT. */
    if (err == ENOENT && dio_err != 0 && dio_err != ENOENT && dio_msg[0])
      snprintf (why, whylen, "%s %s: %s", s->role, s->name,
                dio_detail (dio_msg, s->name, dio_err));
    else
      snprintf (why, whylen, "%s %s: %s", s->role, s->name, strerror (err));
    return -1;
  }
  if (fstat (s->fd, &st) == -1) {
    snprintf (why, whylen, "%s %s: fstat: %s", s->role, s->name,
              strerror (errno));
    close (s->fd);
    s->fd = -1;
    return -1;
  }
  if (S_ISDIR (st.st_mode)) {
    snprintf (why, whylen, "%s %s: is a directory", s->role, s->name);
    close (s->fd);
    s->fd = -1;
    return -1;
  }
  s->regular = S_ISREG (st.st_mode);
  s->blockdev = S_ISBLK (st.st_mode);
  if (s->regular || s->blockdev) {
    s->kind = SIDE_FILE;
    try_direct (s);
  }
  else
    s->kind = SIDE_STREAM;
  return 0;
}

int
side_open (struct side *s, const char *name, const char *role, int mode,
           char *why, size_t whylen)
{
  char dio_msg[512] = "";
  int dio_err;

  memset (s, 0, sizeof *s);
  s->name = name;
  s->role = role;
  s->fd = -1;
  if (strcmp (name, "-") == 0)
    return open_stdio (s, mode);
  if (try_open_dio (s, mode) == 0)
    return 0;
  dio_err = errno;
  snprintf (dio_msg, sizeof dio_msg, "%s", dio_last_error ());
  if (strncmp (name, "nfs://", 6) == 0) {
    snprintf (why, whylen, "%s %s: %s", role, name,
              dio_detail (dio_msg, name, dio_err));
    return -1;
  }
  return open_local (s, mode, why, whylen, dio_err, dio_msg);
}

int
side_close (struct side *s, char *why, size_t whylen)
{
  int r = 0;

  if (s->fd == -1 || s->is_stdio)
    return 0;
  if (s->kind == SIDE_DIO) {
    if (dio_close (s->fd) == -1) {
      snprintf (why, whylen, "%s %s: close: %s", s->role, s->name,
                dio_reason (dio_last_error (), "dio_close", s->name, errno));
      r = -1;
    }
  }
  else if (close (s->fd) == -1) {
    snprintf (why, whylen, "%s %s: close: %s", s->role, s->name,
              strerror (errno));
    r = -1;
  }
  s->fd = -1;
  return r;
}

/* ---- sides: data ------------------------------------------------------ */

/* The engine's reason for a failed read or write starts with "offset N: "
 * (directio(3)); the tools say the offset themselves. */
static const char *
skip_offset (const char *reason)
{
  const char *p;
  uint64_t offset;

  if (strncmp (reason, "offset ", 7) != 0)
    return reason;
  p = parse_digits (reason + 7 + (reason[7] == '-'), &offset);
  return p && strncmp (p, ": ", 2) == 0 ? p + 2 : reason;
}

static bool
ends_with (const char *s, const char *tail)
{
  size_t n = strlen (s), t = strlen (tail);

  return n >= t && strcmp (s + n - t, tail) == 0;
}

/* The reason for a failed call, with the engine's reason for engine fds
 * (call is the dio_* call that failed; dio_last_error is per thread:
 * call this on the failing thread): "strerror" alone, the engine's
 * reason when it ends in strerror, else "strerror (reason)". */
static void
set_why (struct side *s, const char *call, int err, char *why,
         size_t whylen)
{
  const char *detail = s->kind == SIDE_DIO && dio_last_error ()[0]
    ? skip_offset (dio_reason (dio_last_error (), call, s->name, err)) : "";

  if (detail[0] && ends_with (detail, strerror (err)))
    snprintf (why, whylen, "%s", detail);
  else if (detail[0])
    snprintf (why, whylen, "%s (%s)", strerror (err), detail);
  else
    snprintf (why, whylen, "%s", strerror (err));
}

/* O_DIRECT refused this buffer, offset or length (EINVAL: an unaligned
 * tail, or a --bs the device cannot do): continue buffered.  True if the
 * caller should retry. */
static bool
fall_back_buffered (struct side *s, int err, bool *tried)
{
  int fl;

  if (err != EINVAL || s->kind != SIDE_FILE || *tried)
    return false;
  *tried = true;
  fl = fcntl (s->fd, F_GETFL);
  if (fl != -1 && (fl & O_DIRECT))
    fcntl (s->fd, F_SETFL, fl & ~O_DIRECT);
  __atomic_store_n (&s->direct, false, __ATOMIC_RELAXED);
  return true;
}

static ssize_t
read_once (struct side *s, void *buf, size_t n, uint64_t off)
{
  switch (s->kind) {
  case SIDE_DIO: return dio_pread (s->fd, buf, n, off);
  case SIDE_FILE: return pread (s->fd, buf, n, off);
  case SIDE_STREAM: return read (s->fd, buf, n);
  }
  abort ();
}

static ssize_t
write_once (struct side *s, const void *buf, size_t n, uint64_t off)
{
  switch (s->kind) {
  case SIDE_DIO: return dio_pwrite (s->fd, buf, n, off);
  case SIDE_FILE: return pwrite (s->fd, buf, n, off);
  case SIDE_STREAM: return write (s->fd, buf, n);
  }
  abort ();
}

int
side_read (struct side *s, void *buf, size_t n, uint64_t off, size_t *got,
           char *why, size_t whylen)
{
  bool tried = false;
  size_t done = 0;

  while (done < n) {
    ssize_t r = read_once (s, (char *) buf + done, n - done, off + done);
    if (r == -1) {
      int err = errno;
      if (err == EINTR || fall_back_buffered (s, err, &tried))
        continue;
      *got = done;
      set_why (s, "dio_pread", err, why, whylen);
      return -1;
    }
    if (r == 0)
      break;                    /* end of file */
    done += r;
  }
  *got = done;
  return 0;
}

int
side_write (struct side *s, const void *buf, size_t n, uint64_t off,
            size_t *done_out, char *why, size_t whylen)
{
  bool tried = false;
  size_t done = 0;

  while (done < n) {
    ssize_t r = write_once (s, (const char *) buf + done, n - done,
                            off + done);
    if (r == -1) {
      int err = errno;
      if (err == EINTR || fall_back_buffered (s, err, &tried))
        continue;
      *done_out = done;
      set_why (s, "dio_pwrite", err, why, whylen);
      return -1;
    }
    if (r == 0) {
      /* Never loop on a file that takes nothing. */
      *done_out = done;
      snprintf (why, whylen, "the write transferred 0 bytes");
      return -1;
    }
    done += r;
  }
  *done_out = done;
  return 0;
}

int
side_size (struct side *s, uint64_t *size, char *why, size_t whylen)
{
  struct stat st;

  if (s->kind == SIDE_DIO) {
    if (dio_fstat (s->fd, &st) == -1) {
      set_why (s, "dio_fstat", errno, why, whylen);
      return -1;
    }
  }
  else if (s->blockdev) {
    if (ioctl (s->fd, BLKGETSIZE64, size) == -1) {
      snprintf (why, whylen, "BLKGETSIZE64: %s", strerror (errno));
      return -1;
    }
    return 0;
  }
  else if (fstat (s->fd, &st) == -1) {
    snprintf (why, whylen, "fstat: %s", strerror (errno));
    return -1;
  }
  *size = st.st_size;
  return 0;
}

bool
side_identity (struct side *s, dev_t *dev, ino_t *ino)
{
  struct stat st;
  int r;

  if (s->kind == SIDE_STREAM)
    return false;
  r = s->kind == SIDE_DIO ? dio_fstat (s->fd, &st) : fstat (s->fd, &st);
  if (r == -1)
    return false;
  *dev = st.st_dev;
  *ino = st.st_ino;
  return true;
}

int
side_truncate (struct side *s, uint64_t size, char *why, size_t whylen)
{
  int r;

  if (!s->regular || s->kind == SIDE_STREAM)
    return 0;
  r = s->kind == SIDE_DIO ? dio_ftruncate (s->fd, size)
    : ftruncate (s->fd, size);
  if (r == -1) {
    set_why (s, "dio_ftruncate", errno, why, whylen);
    return -1;
  }
  return 0;
}

int
side_sync (struct side *s, char *why, size_t whylen)
{
  int r;

  if (s->kind == SIDE_STREAM && !s->regular)
    return 0;                   /* a pipe or a terminal: nothing to sync */
  r = s->kind == SIDE_DIO ? dio_fsync (s->fd) : fsync (s->fd);
  if (r == -1) {
    set_why (s, "dio_fsync", errno, why, whylen);
    return -1;
  }
  return 0;
}

/* ---- progress --------------------------------------------------------- */

void
progress_init (struct progress *p, bool enabled, const char *label,
               uint64_t total)
{
  p->enabled = enabled;
  p->label = label;
  p->total = total;
  p->start = now_seconds ();
  p->last_len = 0;
}

static void
format_duration (double secs, char *buf, size_t len)
{
  unsigned long t = secs < 0 ? 0 : (unsigned long) (secs + 0.5);

  if (t >= 3600)
    snprintf (buf, len, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
  else
    snprintf (buf, len, "%lu:%02lu", t / 60, t % 60);
}

static void
draw (struct progress *p, uint64_t done, bool last)
{
  double elapsed = now_seconds () - p->start;
  double rate = elapsed > 0 ? done / elapsed : 0;
  char d[32], t[32], r[32], eta[32], bar[23], line[160];
  int n;

  format_size (done, d, sizeof d);
  format_size (rate, r, sizeof r);
  if (p->total > 0) {
    double frac = (double) done / p->total;
    int fill = frac * 20;

    if (frac > 1)
      frac = 1, fill = 20;
    memset (bar, ' ', sizeof bar - 1);
    memset (bar + 1, '=', fill);
    bar[0] = '[';
    bar[21] = ']';
    bar[22] = '\0';
    if (fill < 20)
      bar[1 + fill] = '>';
    format_size (p->total, t, sizeof t);
    if (last)
      format_duration (elapsed, eta, sizeof eta);
    else if (rate > 0)
      format_duration ((done < p->total ? p->total - done : 0) / rate,
                       eta, sizeof eta);
    else
      snprintf (eta, sizeof eta, "--:--");
    n = snprintf (line, sizeof line, "%s %s %s / %s %3d%% %s/s %s %s",
                  p->label, bar, d, t, (int) (frac * 100), r,
                  last ? "in" : "ETA", eta);
  }
  else {
    format_duration (elapsed, eta, sizeof eta);
    n = snprintf (line, sizeof line, "%s %s %s/s in %s", p->label, d, r,
                  eta);
  }
  fprintf (stderr, "\r%s%*s", line,
           p->last_len > n ? p->last_len - n : 0, "");
  p->last_len = n;
}

void
progress_show (struct progress *p, uint64_t done)
{
  if (p->enabled)
    draw (p, done, false);
}

void
progress_end (struct progress *p, uint64_t done)
{
  if (!p->enabled)
    return;
  draw (p, done, true);
  fputc ('\n', stderr);
}

int
start_thread (pthread_t *t, bool detached, void *(*fn) (void *), void *arg)
{
  pthread_attr_t attr;
  sigset_t all, old;
  int err;

  pthread_attr_init (&attr);
  if (detached)
    pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  sigfillset (&all);
  pthread_sigmask (SIG_BLOCK, &all, &old);    /* inherited by the thread */
  err = pthread_create (t, &attr, fn, arg);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  pthread_attr_destroy (&attr);
  return err;
}
