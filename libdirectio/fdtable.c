/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fd table.
 *
 * Threading: slots and cap are guarded by table_lock (readers take it
 * shared).  A slot is cleared before its kernel descriptor is closed, and
 * both happen under the write lock, so a number the kernel hands out
 * again is never still mapped to the old file.
 *
 * Fork: the child forgets the inherited engine descriptors (their mounts
 * do not work there: mount.c), so calls on them fail with EBADF, as on
 * descriptors that did not survive; their O_PATH placeholders stay open
 * until the child closes them.  The old table stays reachable in
 * `inherited`; table_lock is held (shared) across fork. */
#include "internal.h"

#include <assert.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "errors.h"
#include "fdtable.h"
#include "file.h"

static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct dio_ofd **slots;
static int cap;

/* Tables inherited across forks (a few generations are kept), only to
 * keep them reachable: volatile, or the compiler drops the stores. */
static struct dio_ofd **volatile inherited[8];
static unsigned ninherited;

/* Shared, not exclusive: that keeps writers out, so the child's copy is
 * whole; and a reader's unlock works in the child, while glibc tells a
 * writer's unlock by the thread id, which the child's thread does not
 * have.  The child is alone when it then clears the table. */
static void
fork_prepare (void)
{
  pthread_rwlock_rdlock (&table_lock);
}

static void
fork_parent (void)
{
  pthread_rwlock_unlock (&table_lock);
}

static bool
table_empty (void)
{
  for (int i = 0; i < cap; i++)
    if (slots[i])
      return false;
  return true;
}

static void
fork_child (void)
{
  if (table_empty ())
    free (slots);               /* nothing of the parent's to keep */
  else
    inherited[ninherited++ % 8] = slots;
  slots = NULL;
  cap = 0;
  pthread_rwlock_unlock (&table_lock);
}

__attribute__ ((constructor))
static void
fdtable_atfork (void)
{
  pthread_atfork (fork_prepare, fork_parent, fork_child);
}

static int
grow_locked (int fd)
{
  int ncap = cap ? cap : 64;
  struct dio_ofd **n;

  /* table_lock is held exclusive: no reader gets in. */
  assert (pthread_rwlock_tryrdlock (&table_lock) == EBUSY);
  assert (fd >= cap);
  while (ncap <= fd)
    ncap *= 2;
  n = realloc (slots, ncap * sizeof *n);
  if (n == NULL)
    return -1;
  for (int i = cap; i < ncap; i++)
    n[i] = NULL;
  slots = n;
  cap = ncap;
  return 0;
}

/* When the library is unloaded (dlclose by nbdkit, say), free the table.
 * Any descriptors still open then are the caller's leak. */
__attribute__ ((destructor))
static void
free_table (void)
{
  free (slots);
  slots = NULL;
  cap = 0;
  for (unsigned i = 0; i < 8; i++) {
    free (inherited[i]);
    inherited[i] = NULL;
  }
}

int
dio_fd_install (struct dio_ofd *f)
{
  int fd = open ("/dev/null", O_PATH | O_CLOEXEC);

  if (fd == -1)
    return dio_error (errno, "reserving a descriptor");
  return dio_fd_install_at (fd, f);
}

int
dio_fd_install_at (int fd, struct dio_ofd *f)
{
  assert (fd >= 0 && f != NULL);
  pthread_rwlock_wrlock (&table_lock);
  if (fd >= cap && grow_locked (fd) == -1) {
    pthread_rwlock_unlock (&table_lock);
    close (fd);
    return dio_error (ENOMEM, "fd table");
  }
  slots[fd] = f;
  pthread_rwlock_unlock (&table_lock);
  return fd;
}

int
dio_fd_dup2 (int oldfd, int newfd)
{
  struct dio_ofd *f = NULL, *prev = NULL;

  if (newfd < 0)
    return dio_error_msg (EBADF, "fd %d: out of range", newfd);
  pthread_rwlock_wrlock (&table_lock);
  if (oldfd >= 0 && oldfd < cap)
    f = slots[oldfd];
  if (f == NULL) {
    pthread_rwlock_unlock (&table_lock);
    return dio_error_msg (EBADF, "fd %d: not a libdirectio descriptor",
                          oldfd);
  }
  if ((newfd >= cap && grow_locked (newfd) == -1)
      || dup3 (oldfd, newfd, O_CLOEXEC) == -1) {
    int err = errno ? errno : ENOMEM;
    pthread_rwlock_unlock (&table_lock);
    return dio_error (err, "fd %d to %d", oldfd, newfd);
  }
  dio_ofd_get (f);
  prev = slots[newfd];
  slots[newfd] = f;
  pthread_rwlock_unlock (&table_lock);
  dio_ofd_put (prev);           /* the description newfd had, if ours */
  return newfd;
}

struct dio_ofd *
dio_fd_get (int fd)
{
  struct dio_ofd *f = NULL;

  if (fd < 0)
    return NULL;
  pthread_rwlock_rdlock (&table_lock);
  if (fd < cap && (f = slots[fd]) != NULL)
    dio_ofd_get (f);
  pthread_rwlock_unlock (&table_lock);
  return f;
}

int
dio_fd_remove (int fd)
{
  struct dio_ofd *f = NULL;

  if (fd < 0)
    return dio_error_msg (EBADF, "fd %d: not open", fd);
  pthread_rwlock_wrlock (&table_lock);
  if (fd < cap && (f = slots[fd]) != NULL) {
    slots[fd] = NULL;
    close (fd);
  }
  pthread_rwlock_unlock (&table_lock);
  if (f == NULL)
    return dio_error_msg (EBADF, "fd %d: not a libdirectio descriptor", fd);
  dio_ofd_put (f);
  return 0;
}
