/* One-shot completion a caller thread waits on.
 *
 * Threading: done is guarded by lock; the signaller touches nothing after
 * unlocking, so the owner may destroy the waiter as soon as it wakes. */
#include "internal.h"

void
dio_waiter_init (struct dio_waiter *w)
{
  pthread_mutex_init (&w->lock, NULL);
  pthread_cond_init (&w->cond, NULL);
  w->done = false;
}

void
dio_waiter_destroy (struct dio_waiter *w)
{
  pthread_cond_destroy (&w->cond);
  pthread_mutex_destroy (&w->lock);
}

void
dio_waiter_wait (struct dio_waiter *w)
{
  pthread_mutex_lock (&w->lock);
  while (!w->done)
    pthread_cond_wait (&w->cond, &w->lock);
  pthread_mutex_unlock (&w->lock);
}

/* After this returns the waiter may already be destroyed by its owner:
 * touch nothing of it afterwards. */
void
dio_waiter_signal (struct dio_waiter *w)
{
  pthread_mutex_lock (&w->lock);
  w->done = true;
  pthread_cond_signal (&w->cond);
  pthread_mutex_unlock (&w->lock);
}
