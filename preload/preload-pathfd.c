/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libdirectio-preload.so: descriptors for directories under a mountpoint.
 *
 * The engine opens only regular files, but programs open directories too:
 * fts (rm -r, cp -r) opens each one with O_DIRECTORY and works below it
 * with openat, fstatat, unlinkat and fdopendir.  Such an open gets a
 * "path fd": a kernel O_PATH descriptor of /dev/null holds the number (a
 * call that bypasses the shim fails with EBADF instead of touching another
 * file) and this table maps it to the absolute path.  O_PATH opens of
 * files under a mountpoint get one too (fstat works on it, I/O does not).
 *
 * Threading: the table is guarded by lock, which is also held across
 * fork; count (atomic) lets every fd call skip the lock while no path fd
 * exists, which is always in a process that never opens a managed
 * directory.  As in the engine's fd
 * table, an entry is removed before its kernel descriptor is closed, both
 * under the lock. */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pathfd {
  char *path;
  bool is_dir;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct pathfd *table;
static int cap;
static int count;               /* atomic: entries in use */

DEFINE_REAL (open);
DEFINE_REAL (close);
DEFINE_REAL (fcntl);
DEFINE_REAL (dup3);

bool
shim_is_pathfd (int fd)
{
  bool r;

  if (fd < 0 || __atomic_load_n (&count, __ATOMIC_ACQUIRE) == 0)
    return false;
  pthread_mutex_lock (&lock);
  r = fd < cap && table[fd].path != NULL;
  pthread_mutex_unlock (&lock);
  return r;
}

static int
grow_locked (int fd)
{
  int ncap = cap ? cap : 64;
  struct pathfd *n;

  while (ncap <= fd)
    ncap *= 2;
  n = realloc (table, ncap * sizeof *n);
  if (n == NULL)
    return -1;
  memset (n + cap, 0, (ncap - cap) * sizeof *n);
  table = n;
  cap = ncap;
  return 0;
}

/* Map fd (a kernel descriptor we own) to path; on failure fd is closed. */
static int
install (int fd, const char *path, bool is_dir)
{
  char *copy = strdup (path);

  pthread_mutex_lock (&lock);
  if (copy == NULL || (fd >= cap && grow_locked (fd) == -1)) {
    pthread_mutex_unlock (&lock);
    free (copy);
    REAL (close) (fd);
    errno = ENOMEM;
    return -1;
  }
  free (table[fd].path);        /* a stale entry: the kernel reused fd */
  if (table[fd].path == NULL)
    __atomic_add_fetch (&count, 1, __ATOMIC_RELEASE);
  table[fd].path = copy;
  table[fd].is_dir = is_dir;
  pthread_mutex_unlock (&lock);
  return fd;
}

int
shim_pathfd_new (const char *abspath, bool is_dir, int flags)
{
  int fd = REAL (open) ("/dev/null", O_PATH | (flags & O_CLOEXEC));

  if (fd == -1)
    return -1;
  return install (fd, abspath, is_dir);
}

bool
shim_pathfd_path (int fd, char *buf, bool *is_dir)
{
  bool r = false;

  if (fd < 0 || __atomic_load_n (&count, __ATOMIC_ACQUIRE) == 0)
    return false;
  pthread_mutex_lock (&lock);
  if (fd < cap && table[fd].path != NULL) {
    strcpy (buf, table[fd].path);       /* < PATH_MAX: normalised on entry */
    *is_dir = table[fd].is_dir;
    r = true;
  }
  pthread_mutex_unlock (&lock);
  return r;
}

int
shim_pathfd_dup (int fd, int minfd, int newfd, bool cloexec)
{
  char path[PATH_MAX];
  bool is_dir;
  int r;

  if (!shim_pathfd_path (fd, path, &is_dir)) {
    errno = EBADF;
    return -1;
  }
  if (newfd < 0)
    r = REAL (fcntl) (fd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, minfd);
  else
    r = REAL (dup3) (fd, newfd, cloexec ? O_CLOEXEC : 0);
  if (r == -1)
    return -1;
  return install (r, path, is_dir);
}

bool
shim_pathfd_forget (int fd)
{
  char *path = NULL;

  if (fd < 0 || __atomic_load_n (&count, __ATOMIC_ACQUIRE) == 0)
    return false;
  pthread_mutex_lock (&lock);
  if (fd < cap && (path = table[fd].path) != NULL) {
    table[fd].path = NULL;
    __atomic_sub_fetch (&count, 1, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock (&lock);
  free (path);
  return path != NULL;
}

int
shim_pathfd_close (int fd)
{
  char *path = NULL;
  int r = -1;

  pthread_mutex_lock (&lock);
  if (fd >= 0 && fd < cap && (path = table[fd].path) != NULL) {
    table[fd].path = NULL;
    __atomic_sub_fetch (&count, 1, __ATOMIC_RELEASE);
    r = REAL (close) (fd);
  }
  pthread_mutex_unlock (&lock);
  free (path);
  if (path == NULL)
    errno = EBADF;
  return r;
}

/* Held across fork, so that a child's copy of the table is whole. */
static void lock_table (void) { pthread_mutex_lock (&lock); }
static void unlock_table (void) { pthread_mutex_unlock (&lock); }

static void __attribute__ ((constructor))
pathfd_init (void)
{
  pthread_atfork (lock_table, unlock_table, unlock_table);
}
