/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private definitions shared by the engine's files.  Nothing here is
 * installed.
 *
 * The map of the engine is libdirectio/README.md: its files in data-flow
 * order, its threads (dio-conn, dio-linger, dio-reaper, callers), the
 * order in which its locks may be taken, and who may touch a libnfs
 * context. */
#ifndef DIO_INTERNAL_H
#define DIO_INTERNAL_H

#include <config.h>

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define NFS3_VERF_SIZE 8
#define DIO_FH_MAX 64 /* NFS3_FHSIZE */

/* A file handle, copied out of libnfs so that any connection can use it. */
struct dio_fh {
  uint32_t len;
  char data[DIO_FH_MAX];
};

/* One-shot completion a caller thread waits on: the "wait" of
 * "sync = async + wait". */
struct dio_waiter {
  sem_t sem;
};

/* Milliseconds on the monotonic clock. */
static inline uint64_t
dio_now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Hold this leaf lock across fork (fork.c); call from a constructor. */
void dio_fork_hold (pthread_mutex_t *lock);

/* Run the tests' hook, if one is set, at a named point (test-hook.h
 * lists them; commit.c keeps the hook). */
void dio_test_point (const char *point);

void dio_waiter_init (struct dio_waiter *w);
void dio_waiter_destroy (struct dio_waiter *w);
void dio_waiter_wait (struct dio_waiter *w);
void dio_waiter_signal (struct dio_waiter *w);

/* Relaxed atomic counters for statistics. */
#define dio_count(ctr, n) __atomic_fetch_add (&(ctr), (n), __ATOMIC_RELAXED)
#define dio_load(ctr) __atomic_load_n (&(ctr), __ATOMIC_RELAXED)

#define DIO_MIN(a, b) ((a) < (b) ? (a) : (b))
#define DIO_MAX(a, b) ((a) > (b) ? (a) : (b))
/* n rounded up to a multiple of align, a power of two. */
#define DIO_ALIGN_UP(n, align) (((n) + (align) - 1) & ~((size_t) (align) - 1))

/* A "lock held" precondition (README.md, "Checked preconditions"): it
 * can only tell that some thread holds the mutex, not that this one
 * does.  For functions called once per request or transfer, not per
 * page or RPC. */
#define DIO_ASSERT_HELD(mutex) assert (pthread_mutex_trylock (mutex) == EBUSY)

#endif /* DIO_INTERNAL_H */
