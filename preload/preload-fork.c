/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libdirectio-preload.so: engine descriptors across fork and exit.
 *
 * The engine lives in the process that opened its files: its service
 * threads do not exist in a forked child, so a child that used an
 * inherited engine fd would wait forever.  The shim therefore records
 * which process each engine fd it hands out belongs to, and in a child
 * those fds are not the engine's: calls on them reach libc, where the
 * placeholder behind the number fails with EBADF (and close or dup2 over
 * it simply drops it), as an fd that did not survive would.  Shells do
 * exactly this between fork and exec.
 *
 * exit() and _exit() do not close descriptors, and the engine's
 * buffered mode holds written data until fsync or close: so at exit the
 * shim writes back every engine fd of this process (stdio streams first
 * on exit(), as exit flushes them), as the kernel keeps a dead process's
 * writes.  dash, for one, ends with _exit.  A vfork child (same memory,
 * another pid) writes back nothing.
 *
 * Threading: owner, cap and max_fd are guarded by lock, which the fork
 * handlers hold across fork so that the child's copy is consistent; self
 * and forked change only in the child handler, before the child has
 * other threads. */
#include "preload.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "directio.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t *owner;            /* owner[fd]: pid that opened it, or 0 */
static int cap;
static int max_fd = -1;

static pid_t self;              /* this process */
static bool forked;             /* this process is a forked child */

bool
shim_is_engine_fd (int fd)
{
  pid_t o;

  if (fd < 0 || !dio_is_dio_fd (fd))
    return false;
  pthread_mutex_lock (&lock);
  o = fd < cap ? owner[fd] : 0;
  pthread_mutex_unlock (&lock);
  /* 0: opened by the program calling dio_open itself. */
  return o == self || (o == 0 && !forked);
}

void
shim_note_fd (int fd)
{
  pthread_mutex_lock (&lock);
  if (fd >= cap) {
    int ncap = cap ? cap : 64;
    pid_t *n;

    while (ncap <= fd)
      ncap *= 2;
    n = realloc (owner, ncap * sizeof *n);
    if (n == NULL) {            /* then fd counts as the program's own */
      pthread_mutex_unlock (&lock);
      return;
    }
    memset (n + cap, 0, (ncap - cap) * sizeof *n);
    owner = n;
    cap = ncap;
  }
  owner[fd] = self;
  if (fd > max_fd)
    max_fd = fd;
  pthread_mutex_unlock (&lock);
}

void
shim_forget_fd (int fd)
{
  pthread_mutex_lock (&lock);
  if (fd >= 0 && fd < cap)
    owner[fd] = 0;
  pthread_mutex_unlock (&lock);
}

/* fsync every engine fd this process opened. */
static void
write_back (const char *when)
{
  int n = 0, *fds;

  if (getpid () != self)
    return;                     /* a vfork child */
  pthread_mutex_lock (&lock);
  fds = max_fd >= 0 ? malloc ((max_fd + 1) * sizeof *fds) : NULL;
  for (int fd = 0; fds != NULL && fd <= max_fd; fd++)
    if (owner[fd] == self)
      fds[n++] = fd;
  pthread_mutex_unlock (&lock);
  for (int i = 0; i < n; i++) {
    if (!dio_is_dio_fd (fds[i]))
      continue;
    if (ENGINE (dio_fsync (fds[i])) == -1)
      shim_debug ("%s: write-back of fd %d failed: %s", when, fds[i],
                  ENGINE (dio_last_error ()));
    shim_stats_report (fds[i], when);
  }
  free (fds);
}

/* Runs after the program's own atexit handlers (registered before main),
 * before exit flushes stdio: so flush the streams here, since cookie
 * streams write through engine fds. */
static void
write_back_at_exit (void)
{
  fflush (NULL);
  write_back ("exit");
}

DEFINE_REAL (_exit);
void
_exit (int status)
{
  if (!SHIM_BYPASS ())
    write_back ("_exit");
  REAL (_exit) (status);
  abort ();                     /* not reached: _exit does not return */
}

DEFINE_REAL (_Exit);
void
_Exit (int status)
{
  if (!SHIM_BYPASS ())
    write_back ("_Exit");
  REAL (_Exit) (status);
  abort ();
}

static void
before_fork (void)
{
  pthread_mutex_lock (&lock);
}

static void
after_fork_parent (void)
{
  pthread_mutex_unlock (&lock);
}

static void
after_fork_child (void)
{
  self = getpid ();
  forked = true;
  pthread_mutex_unlock (&lock);
}

void
shim_fork_init (void)
{
  self = getpid ();
  if (pthread_atfork (before_fork, after_fork_parent, after_fork_child) != 0)
    shim_debug ("pthread_atfork failed: forked children may hang on "
                "inherited engine fds");
  if (atexit (write_back_at_exit) != 0)
    shim_debug ("atexit failed: no write-back at exit");
}
