/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Leaf locks held across fork, so that a child's copy of what each one
 * guards is whole; mount.c and fdtable.c say what a child keeps of its
 * parent's engine.  Modules register their locks from constructors,
 * which run before any thread of ours exists.  None of these locks is
 * ever held while another is taken, so any order is deadlock-free. */
#include "internal.h"

#include <stdlib.h>

#define MAX_HELD 8

static pthread_mutex_t *held[MAX_HELD];
static unsigned nheld;

static void
lock_all (void)
{
  for (unsigned i = 0; i < nheld; i++)
    pthread_mutex_lock (held[i]);
}

static void
unlock_all (void)
{
  for (unsigned i = nheld; i-- > 0; )
    pthread_mutex_unlock (held[i]);
}

void
dio_fork_hold (pthread_mutex_t *lock)
{
  if (nheld == MAX_HELD)
    abort ();                   /* a build-time constant: raise it */
  if (nheld == 0 && pthread_atfork (lock_all, unlock_all, unlock_all) != 0)
    abort ();                   /* ENOMEM at load time */
  held[nheld++] = lock;
}
