/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine's own threads: named, and deaf to signals. */
#include "internal.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thread.h"

struct start {
  void *(*fn) (void *);
  void *arg;
  char name[16];
};

/* The thread names itself: a detached one may be gone before its
 * creator could. */
static void *
trampoline (void *p)
{
  struct start s = *(struct start *) p;

  free (p);
  pthread_setname_np (pthread_self (), s.name);
  return s.fn (s.arg);
}

int
dio_thread_start (pthread_t *t, bool detached, const char *name,
                  void *(*fn) (void *), void *arg)
{
  struct start *s = malloc (sizeof *s);
  pthread_attr_t attr;
  sigset_t all, old;
  int err;

  assert (t != NULL && fn != NULL);
  assert (strlen (name) < sizeof s->name);
  if (s == NULL)
    return ENOMEM;
  *s = (struct start) { .fn = fn, .arg = arg };
  snprintf (s->name, sizeof s->name, "%s", name);
  pthread_attr_init (&attr);
  if (detached)
    pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  /* A new thread inherits its creator's mask. */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  err = pthread_create (t, &attr, trampoline, s);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  pthread_attr_destroy (&attr);
  if (err != 0)
    free (s);
  return err;
}
