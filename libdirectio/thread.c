/* The engine's own threads: named, and deaf to signals. */
#include "internal.h"

#include <signal.h>

#include "thread.h"

int
dio_thread_start (pthread_t *t, bool detached, const char *name,
                  void *(*fn) (void *), void *arg)
{
  pthread_attr_t attr;
  sigset_t all, old;
  int err;

  pthread_attr_init (&attr);
  if (detached)
    pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  /* A new thread inherits its creator's mask. */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  err = pthread_create (t, &attr, fn, arg);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  pthread_attr_destroy (&attr);
  if (err == 0)
    pthread_setname_np (*t, name);
  return err;
}
