/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One-shot completion a caller thread waits on.
 *
 * A semaphore rather than a mutex and condition variable: signalling a
 * condition variable under its mutex wakes the waiter straight into that
 * mutex, held by the signaller, so every completion cost two sleeps and
 * two wake-ups (measured: ~5.6 context switches per 4 KiB NBD request).
 * sem_post is one atomic operation, plus one futex wake when the waiter
 * already sleeps, and glibc's semaphores allow the owner to destroy one
 * as soon as sem_wait returns (POSIX: no thread blocked on it). */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

#include "conn.h"

void
dio_waiter_init (struct dio_waiter *w)
{
  if (sem_init (&w->sem, 0, 0) == -1)
    abort ();                   /* EINVAL only, for a value over SEM_VALUE_MAX */
}

void
dio_waiter_destroy (struct dio_waiter *w)
{
  sem_destroy (&w->sem);
}

/* Never on a service thread: only a service thread could signal it
 * (README.md, "Threads"). */
void
dio_waiter_wait (struct dio_waiter *w)
{
  assert (!dio_conn_on_service_thread ());
  while (sem_wait (&w->sem) == -1)
    if (errno != EINTR)
      abort ();                 /* EINVAL: not a semaphore */
}

/* After this returns the waiter may already be destroyed by its owner:
 * touch nothing of it afterwards. */
void
dio_waiter_signal (struct dio_waiter *w)
{
  if (sem_post (&w->sem) == -1)
    abort ();                   /* EOVERFLOW: cannot happen for one post */
}
