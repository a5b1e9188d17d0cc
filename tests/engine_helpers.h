/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers for the engine's integration tests (Check programs run inside
 * with-ganesha.sh). */
#ifndef ENGINE_HELPERS_H
#define ENGINE_HELPERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* nfs:// URL of FILE in the test export; extra is appended to the query
 * ("&rsize=65536") or NULL.  Returns a static buffer per call slot. */
const char *test_url (const char *file, const char *extra);

/* Local path of FILE in the export directory (what the server stores).
 * Under FSAL MEM there is none: use the helpers below. */
const char *test_local (const char *file);

/* Is the server ganesha's MEM FSAL (DIO_TEST_FSAL=MEM, tests/ganesha.sh)?
 * Then files live in the server's memory, at most TEST_MEM_FILE_MAX bytes
 * of data each (past that it keeps the size and reads back "a"s), and a
 * stop or restart loses them all. */
bool test_on_mem (void);
#define TEST_MEM_FILE_MAX (2u * 1024 * 1024)

/* End the test here under FSAL MEM, saying why on stderr. */
#define TEST_SKIP_ON_MEM(why)                                           \
  do {                                                                  \
    if (test_on_mem ()) {                                               \
      fprintf (stderr, "%s: not run under FSAL MEM: %s\n", __func__, why); \
      return;                                                           \
    }                                                                   \
  } while (0)

/* Make an empty FILE (mode) or a directory on the server behind the
 * engine's back: in the export directory, or under FSAL MEM through the
 * engine.  Fail the test on error. */
void test_create (const char *file, mode_t mode);
void test_mkdir (const char *dir);

/* Does FILE exist on the server? */
bool test_exists (const char *file);

/* Run "$DIO_GANESHA ARGS"; fails the test if it fails. */
void test_ganesha (const char *args);

/* A deterministic byte pattern: the byte at absolute file offset off. */
void test_fill (char *buf, size_t len, uint64_t off, uint32_t seed);
int test_check (const char *buf, size_t len, uint64_t off, uint32_t seed);

/* Compare the server's file's bytes [0,len) with the pattern, and check
 * that it ends there: in the export directory, or under FSAL MEM read
 * back through the engine (a fresh mount, nothing cached). */
int test_local_matches (const char *file, uint64_t len, uint32_t seed);

/* Peak resident set (VmHWM) of this process, in KiB. */
long test_peak_rss_kib (void);

/* nthreads threads write the pattern (seed) to fd at once, with durable
 * dio_pwrite calls of len bytes, interleaved: thread t writes blocks t,
 * t + nthreads, t + 2 nthreads, ..., count blocks each (at most 16
 * threads).  Fails the test, naming the thread and the offset, if a
 * write does not return len. */
void test_interleaved_writes (int fd, unsigned nthreads, unsigned count,
                              size_t len, uint32_t seed);

/* The last failure's message has libdirectio's one shape: it starts with
 * "call: file: " (file NULL: "call: "), names the call and the file once
 * each, and its reason contains words (NULL: anything).  Fails the test,
 * quoting the message, if not. */
void test_assert_message (const char *call, const char *file,
                          const char *words);

/* One asynchronous call's completion: pass test_aio_done and &a to
 * dio_aio_pread or dio_aio_pwrite, and once it started, test_aio_wait. */
struct test_aio {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool done;                    /* guarded by lock, as are: */
  ssize_t result;
  int err;
};
#define TEST_AIO_INIT \
  { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0, 0 }
void test_aio_done (void *opaque, ssize_t result, int err);

/* Wait until the call completed (the tcase timeout bounds this); set
 * errno to its error and return its result. */
ssize_t test_aio_wait (struct test_aio *a);

/* Monotonic seconds. */
double test_now (void);

/* How many of this process's threads are named name (and, unless sig
 * is 0, block the signal sig). */
unsigned test_threads_named (const char *name, int sig);

/* The voluntary context switches (sleeps) of this process's threads
 * named name, so far. */
unsigned long test_thread_sleeps (const char *name);

/* Wait (10 s at most) until no thread named name is running. */
void test_threads_wait_asleep (const char *name);

#endif
