/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers for the engine's integration tests. */
#include <config.h>

#include <dirent.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "directio.h"
#include "engine_helpers.h"
#include "private.h"

static const char *
env (const char *name)
{
  const char *v = getenv (name);
  ck_assert_msg (v != NULL, "%s is not set: run under tests/with-ganesha.sh",
                 name);
  return v;
}

const char *
test_url (const char *file, const char *extra)
{
  static __thread char buf[4][1024];
  static __thread int slot;
  char *b = buf[slot++ % 4];

  snprintf (b, sizeof buf[0], "nfs://%s%s/%s?%s%s", env ("DIO_TEST_SERVER"),
            env ("DIO_TEST_EXPORT"), file, env ("DIO_TEST_QUERY"),
            extra ? extra : "");
  return b;
}

const char *
test_local (const char *file)
{
  static __thread char buf[4][1024];
  static __thread int slot;
  char *b = buf[slot++ % 4];

  snprintf (b, sizeof buf[0], "%s/%s", env ("DIO_TEST_DIR"), file);
  return b;
}

void
test_ganesha (const char *args)
{
  char cmd[1024];

  snprintf (cmd, sizeof cmd, "%s %s", env ("DIO_GANESHA"), args);
  ck_assert_msg (system (cmd) == 0, "'%s' failed", cmd);
}

/* 8 bytes per 8-byte-aligned word: offset ^ seed, so a misplaced block
 * never matches. */
static uint8_t
pattern_byte (uint64_t off, uint32_t seed)
{
  uint64_t w = (off & ~7ull) * 0x9e3779b97f4a7c15ull ^ seed;
  return (uint8_t) (w >> ((off & 7) * 8));
}

void
test_fill (char *buf, size_t len, uint64_t off, uint32_t seed)
{
  for (size_t i = 0; i < len; i++)
    buf[i] = pattern_byte (off + i, seed);
}

int
test_check (const char *buf, size_t len, uint64_t off, uint32_t seed)
{
  for (size_t i = 0; i < len; i++)
    if ((uint8_t) buf[i] != pattern_byte (off + i, seed))
      return 0;
  return 1;
}

bool
test_on_mem (void)
{
  const char *f = getenv ("DIO_TEST_FSAL");
  return f && strcmp (f, "MEM") == 0;
}

void
test_create (const char *file, mode_t mode)
{
  int fd;

  if (!test_on_mem ()) {
    fd = open (test_local (file), O_CREAT | O_WRONLY, mode);
    ck_assert_msg (fd >= 0, "%s: %m", test_local (file));
    close (fd);
    return;
  }
  /* linger=0: the next open mounts anew, as a separate client would. */
  fd = dio_open (test_url (file, "&linger=0"), O_CREAT | O_WRONLY, mode);
  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  ck_assert_int_eq (dio_close (fd), 0);
}

void
test_mkdir (const char *dir)
{
  if (!test_on_mem ())
    ck_assert_msg (mkdir (test_local (dir), 0755) == 0, "%s: %m",
                   test_local (dir));
  else
    ck_assert_msg (dio__mkdir (test_url (dir, "&linger=0"), 0755) == 0,
                   "dio__mkdir: %s", dio_last_error ());
}

bool
test_exists (const char *file)
{
  struct stat st;

  if (!test_on_mem ())
    return access (test_local (file), F_OK) == 0;
  return dio__stat (test_url (file, "&linger=0"), &st) == 0;
}

/* pread for a local fd or an engine fd. */
static ssize_t
read_at (bool engine, int fd, void *buf, size_t n, uint64_t off)
{
  return engine ? dio_pread (fd, buf, n, off) : pread (fd, buf, n, off);
}

int
test_local_matches (const char *file, uint64_t len, uint32_t seed)
{
  size_t bs = 1 << 20;
  char *buf = malloc (bs);
  bool engine = test_on_mem ();
  int fd = engine ? dio_open (test_url (file, "&linger=0"), O_RDONLY)
    : open (test_local (file), O_RDONLY);
  uint64_t off = 0;
  int ok = fd >= 0 && buf;

  while (ok && off < len) {
    size_t n = len - off < bs ? len - off : bs;
    ok = read_at (engine, fd, buf, n, off) == (ssize_t) n
      && test_check (buf, n, off, seed);
    off += n;
  }
  if (ok) {                     /* and nothing beyond */
    char c;
    ok = read_at (engine, fd, &c, 1, len) == 0;
  }
  if (fd >= 0 && engine)
    dio_close (fd);
  else if (fd >= 0)
    close (fd);
  free (buf);
  return ok;
}

long
test_peak_rss_kib (void)
{
  FILE *f = fopen ("/proc/self/status", "r");
  char line[256];
  long kib = -1;

  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "VmHWM: %ld kB", &kib) == 1)
      break;
  if (f)
    fclose (f);
  return kib;
}

/* Does the thread whose /proc status is at path have this name and,
 * unless sig is 0, block sig? */
static bool
thread_matches (const char *path, const char *name, int sig)
{
  FILE *f = fopen (path, "r");
  char line[256], comm[64] = "";
  unsigned long long blocked = 0;

  if (f == NULL)
    return false;               /* the thread has gone meanwhile */
  while (fgets (line, sizeof line, f)) {
    if (sscanf (line, "Name: %63s", comm) == 1)
      continue;
    sscanf (line, "SigBlk: %llx", &blocked);
  }
  fclose (f);
  return strcmp (comm, name) == 0
    && (sig == 0 || (blocked >> (sig - 1) & 1));
}

unsigned
test_threads_named (const char *name, int sig)
{
  DIR *d = opendir ("/proc/self/task");
  struct dirent *e;
  unsigned n = 0;

  while (d && (e = readdir (d)) != NULL) {
    char path[300];
    if (e->d_name[0] == '.')
      continue;
    snprintf (path, sizeof path, "/proc/self/task/%s/status", e->d_name);
    n += thread_matches (path, name, sig);
  }
  if (d)
    closedir (d);
  return n;
}

/* The voluntary context switches of the thread whose /proc status is
 * at path, if it is named name; 0 otherwise. */
static unsigned long
thread_sleeps (const char *path, const char *name)
{
  FILE *f = fopen (path, "r");
  char line[256], comm[64] = "";
  unsigned long n = 0;

  if (f == NULL)
    return 0;                   /* the thread has gone meanwhile */
  while (fgets (line, sizeof line, f)) {
    if (sscanf (line, "Name: %63s", comm) == 1)
      continue;
    sscanf (line, "voluntary_ctxt_switches: %lu", &n);
  }
  fclose (f);
  return strcmp (comm, name) == 0 ? n : 0;
}

/* Is the thread whose /proc status is at path named name, and running
 * or runnable (state R)? */
static bool
thread_running (const char *path, const char *name)
{
  FILE *f = fopen (path, "r");
  char line[256], comm[64] = "", state = 'S';

  if (f == NULL)
    return false;
  while (fgets (line, sizeof line, f)) {
    if (sscanf (line, "Name: %63s", comm) == 1)
      continue;
    sscanf (line, "State: %c", &state);
  }
  fclose (f);
  return strcmp (comm, name) == 0 && state == 'R';
}

void
test_threads_wait_asleep (const char *name)
{
  double deadline = test_now () + 10;

  for (;;) {
    DIR *d = opendir ("/proc/self/task");
    struct dirent *e;
    bool running = false;

    while (d && (e = readdir (d)) != NULL) {
      char path[300];
      if (e->d_name[0] == '.')
        continue;
      snprintf (path, sizeof path, "/proc/self/task/%s/status", e->d_name);
      running |= thread_running (path, name);
    }
    if (d)
      closedir (d);
    if (!running)
      return;
    ck_assert_msg (test_now () < deadline, "%s threads never slept", name);
    usleep (100);
  }
}

unsigned long
test_thread_sleeps (const char *name)
{
  DIR *d = opendir ("/proc/self/task");
  struct dirent *e;
  unsigned long n = 0;

  while (d && (e = readdir (d)) != NULL) {
    char path[300];
    if (e->d_name[0] == '.')
      continue;
    snprintf (path, sizeof path, "/proc/self/task/%s/status", e->d_name);
    n += thread_sleeps (path, name);
  }
  if (d)
    closedir (d);
  return n;
}

static unsigned
count_of (const char *s, const char *word)
{
  unsigned n = 0;

  for (const char *p = s; (p = strstr (p, word)) != NULL; p += strlen (word))
    n++;
  return n;
}

void
test_assert_message (const char *call, const char *file, const char *words)
{
  const char *msg = dio_last_error ();
  char prefix[1024];
  size_t n;

  snprintf (prefix, sizeof prefix, "%s: %s%s", call, file ? file : "",
            file ? ": " : "");
  n = strlen (prefix);
  ck_assert_msg (strncmp (msg, prefix, n) == 0,
                 "message \"%s\" does not start with \"%s\"", msg, prefix);
  ck_assert_msg (count_of (msg, call) == 1,
                 "message \"%s\" names %s more than once", msg, call);
  ck_assert_msg (file == NULL || count_of (msg, file) == 1,
                 "message \"%s\" names %s more than once", msg, file);
  ck_assert_msg (words == NULL || strstr (msg + n, words) != NULL,
                 "message \"%s\" lacks \"%s\"", msg, words);
}

double
test_now (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

struct writer {
  int fd;
  unsigned id, nthreads, count;
  size_t len;
  uint32_t seed;
  char msg[300];
};

static void *
writer_main (void *arg)
{
  struct writer *w = arg;
  char *buf = malloc (w->len);

  for (unsigned i = 0; buf && i < w->count && w->msg[0] == '\0'; i++) {
    uint64_t off = ((uint64_t) i * w->nthreads + w->id) * w->len;
    test_fill (buf, w->len, off, w->seed);
    if (dio_pwrite (w->fd, buf, w->len, off) != (ssize_t) w->len)
      snprintf (w->msg, sizeof w->msg, "thread %u: write at %ju: %s", w->id,
                (uintmax_t) off, dio_last_error ());
  }
  if (buf == NULL)
    snprintf (w->msg, sizeof w->msg, "thread %u: out of memory", w->id);
  free (buf);
  return NULL;
}

void
test_interleaved_writes (int fd, unsigned nthreads, unsigned count,
                         size_t len, uint32_t seed)
{
  struct writer w[16];
  pthread_t t[16];

  ck_assert_uint_le (nthreads, 16);
  for (unsigned i = 0; i < nthreads; i++) {
    w[i] = (struct writer) { .fd = fd, .id = i, .nthreads = nthreads,
                             .count = count, .len = len, .seed = seed };
    ck_assert_int_eq (pthread_create (&t[i], NULL, writer_main, &w[i]), 0);
  }
  for (unsigned i = 0; i < nthreads; i++)
    pthread_join (t[i], NULL);
  for (unsigned i = 0; i < nthreads; i++)
    ck_assert_msg (w[i].msg[0] == '\0', "%s", w[i].msg);
}

void
test_aio_done (void *opaque, ssize_t result, int err)
{
  struct test_aio *a = opaque;

  pthread_mutex_lock (&a->lock);
  a->result = result;
  a->err = err;
  a->done = true;
  pthread_cond_signal (&a->cond);
  pthread_mutex_unlock (&a->lock);
}

ssize_t
test_aio_wait (struct test_aio *a)
{
  pthread_mutex_lock (&a->lock);
  while (!a->done)
    pthread_cond_wait (&a->cond, &a->lock);
  pthread_mutex_unlock (&a->lock);
  errno = a->err;
  return a->result;
}
