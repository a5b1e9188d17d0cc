/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libdirectio-preload.so: the engine's own descriptors kept out of the
 * program's way.
 *
 * A kernel NFS mount adds no descriptors to a process; the engine adds an
 * eventfd and a socket per connection.  Created as usual they take the
 * lowest free numbers, which programs believe they own: dash, given
 * "exec 3<FILE", closes whatever fd 3 is and puts the file there — and fd
 * 3 was the engine's eventfd.  So when the engine (or libnfs) creates one,
 * the shim moves it to a high number, below the descriptor limit, where
 * programs do not go; there the program's close, close_range and
 * closefrom pass it by, as they would pass by a descriptor that is not
 * open.  The file descriptors the program gets from open (the engine's
 * placeholders) are not moved: they are the lowest free ones, as open's
 * must be.
 *
 * Threading: hidden[] and cap are guarded by lock, held across fork;
 * base is set by the constructor. */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static int base = -1;           /* hide at or above this; -1: do not */

/* A program that dup2s onto one of those numbers still replaces the
 * engine's descriptor: nothing can renumber it behind libnfs's back.
 * Programs do not aim that high in practice. */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool *hidden;
static int cap;

DEFINE_REAL (fcntl);
DEFINE_REAL (close);

/* Held across fork, so that a child's copy is whole. */
static void lock_hidden (void) { pthread_mutex_lock (&lock); }
static void unlock_hidden (void) { pthread_mutex_unlock (&lock); }

void
shim_hide_init (void)
{
  struct rlimit rl;
  rlim_t top;

  pthread_atfork (lock_hidden, unlock_hidden, unlock_hidden);
  if (getrlimit (RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur < 256)
    return;
  /* The top of the usual 1024, whatever the limit: a larger table costs
   * the kernel memory for every number below. */
  top = rl.rlim_cur < 4096 ? rl.rlim_cur : 4096;
  base = (int) top - 192;
}

bool
shim_is_hidden (int fd)
{
  bool r;

  if (fd < base || base < 0)
    return false;
  pthread_mutex_lock (&lock);
  r = fd < cap && hidden[fd];
  pthread_mutex_unlock (&lock);
  return r;
}

static void
mark (int fd, bool on)
{
  pthread_mutex_lock (&lock);
  if (fd >= cap && on) {
    int ncap = cap ? cap : 1024;
    bool *n;

    while (ncap <= fd)
      ncap *= 2;
    n = realloc (hidden, ncap * sizeof *n);
    if (n == NULL) {
      pthread_mutex_unlock (&lock);
      return;                   /* then it is not protected: no worse */
    }
    memset (n + cap, 0, (ncap - cap) * sizeof *n);
    hidden = n;
    cap = ncap;
  }
  if (fd < cap)
    hidden[fd] = on;
  pthread_mutex_unlock (&lock);
}

void
shim_unhide (int fd)
{
  if (fd >= base && base >= 0)
    mark (fd, false);
}

/* Move a new engine descriptor up; on failure it stays where it is. */
static int
hide (int fd)
{
  int hi;

  if (fd < 0 || base < 0 || fd >= base)
    return fd;
  hi = REAL (fcntl) (fd, F_DUPFD_CLOEXEC, base);
  if (hi == -1)
    return fd;
  REAL (close) (fd);
  mark (hi, true);
  return hi;
}

DEFINE_REAL (socket);
int
socket (int domain, int type, int protocol)
{
  int fd = REAL (socket) (domain, type, protocol);
  return SHIM_BYPASS () ? hide (fd) : fd;
}

DEFINE_REAL (eventfd);
int
eventfd (unsigned initval, int flags)
{
  int fd = REAL (eventfd) (initval, flags);
  return SHIM_BYPASS () ? hide (fd) : fd;
}
