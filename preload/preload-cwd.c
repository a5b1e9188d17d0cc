/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libdirectio-preload.so: a working directory under a mountpoint.
 *
 * The kernel cannot make a directory it does not have the working
 * directory, yet programs chdir into the directories they work in: mkdir
 * -p creates each component and chdirs into it, tar -C and find -execdir
 * change directory, shells cd.  So chdir (or fchdir of a path fd) into a
 * managed directory sets a "virtual" working directory: getcwd reports
 * it, and every relative path the shim sees resolves against it (to the
 * engine below a mountpoint, else to libc with the absolute path).  chdir
 * anywhere else, or fchdir of a kernel fd, goes to libc and ends it.
 *
 * While it is set the kernel's working directory stays where it was, so
 * what the shim does not see — a relative path given to a call the shim
 * does not wrap — still resolves against the kernel's.  A forked child
 * inherits it with the rest of memory; a new program gets it through
 * DIRECTIO_CWD, which the shim keeps in the environment while it is set
 * and puts into the environment execve and execvpe pass (shells pass
 * their own), and which the new program's shim takes up at start.
 *
 * Threading: cwd is guarded by lock (a process has one working
 * directory), held across fork; active (atomic) lets the common case skip
 * the lock. */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ENV_NAME "DIRECTIO_CWD"

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static char cwd[PATH_MAX];
static bool active;             /* atomic: cwd is set */

bool
shim_vcwd (char *buf)
{
  bool r = false;

  if (!__atomic_load_n (&active, __ATOMIC_ACQUIRE))
    return false;
  pthread_rwlock_rdlock (&lock);
  if (active) {
    strcpy (buf, cwd);
    r = true;
  }
  pthread_rwlock_unlock (&lock);
  return r;
}

static void
set_vcwd (const char *abspath)
{
  pthread_rwlock_wrlock (&lock);
  if (abspath != NULL)
    strcpy (cwd, abspath);      /* < PATH_MAX: normalised */
  __atomic_store_n (&active, abspath != NULL, __ATOMIC_RELEASE);
  /* For programs this one runs with its own environment. */
  if (abspath != NULL)
    setenv (ENV_NAME, abspath, 1);
  else
    unsetenv (ENV_NAME);
  pthread_rwlock_unlock (&lock);
}

/* Held across fork, so that a child's copy is whole.  The child has
 * another thread id than the writer it inherits the lock from, so it
 * starts a fresh lock instead of unlocking that one. */
static void lock_cwd (void) { pthread_rwlock_wrlock (&lock); }
static void unlock_cwd (void) { pthread_rwlock_unlock (&lock); }
static void reset_cwd (void) { pthread_rwlock_init (&lock, NULL); }

void
shim_cwd_init (void)
{
  const char *d = getenv (ENV_NAME);
  char norm[PATH_MAX];

  if (d != NULL && d[0] == '/' && shim_normalise (d, norm) == 0) {
    strcpy (cwd, norm);
    active = true;
  }
  pthread_atfork (lock_cwd, unlock_cwd, reset_cwd);
}

/* Enter a managed directory. */
static int
enter (const char *abspath)
{
  struct stat st;

  if (shim_stat_path (abspath, &st) == -1)
    return -1;
  if (!S_ISDIR (st.st_mode)) {
    errno = ENOTDIR;
    return -1;
  }
  set_vcwd (abspath);
  return 0;
}

DEFINE_REAL (chdir);
int
chdir (const char *path)
{
  char buf[PATH_MAX];

  if (SHIM_BYPASS ())
    return REAL (chdir) (path);
  switch (shim_where_path (path, buf)) {
  case SHIM_ENGINE:
    return enter (buf);
  case SHIM_LIBC_ABS:
    path = buf;                 /* relative to the virtual directory */
    /* fall through */
  case SHIM_LIBC:
    if (REAL (chdir) (path) == -1)
      return -1;
    if (__atomic_load_n (&active, __ATOMIC_ACQUIRE))
      set_vcwd (NULL);
    return 0;
  default:
    return -1;
  }
}

DEFINE_REAL (fchdir);
int
fchdir (int fd)
{
  char path[PATH_MAX];
  bool is_dir;

  if (SHIM_BYPASS ())
    return REAL (fchdir) (fd);
  if (shim_pathfd_path (fd, path, &is_dir)) {
    if (!is_dir) {
      errno = ENOTDIR;
      return -1;
    }
    set_vcwd (path);
    return 0;
  }
  if (shim_is_engine_fd (fd)) {
    errno = ENOTDIR;
    return -1;
  }
  if (REAL (fchdir) (fd) == -1)
    return -1;
  if (__atomic_load_n (&active, __ATOMIC_ACQUIRE))
    set_vcwd (NULL);
  return 0;
}

/* getcwd's contract: buf of size, or (glibc) a malloc'd one when buf is
 * NULL. */
static char *
vcwd_copy (const char *path, char *buf, size_t size)
{
  size_t len = strlen (path) + 1;

  if (buf == NULL) {
    buf = malloc (size > len ? size : len);
    if (buf == NULL) {
      errno = ENOMEM;
      return NULL;
    }
    return memcpy (buf, path, len);
  }
  if (size == 0) {
    errno = EINVAL;
    return NULL;
  }
  if (size < len) {
    errno = ERANGE;
    return NULL;
  }
  return memcpy (buf, path, len);
}

DEFINE_REAL (getcwd);
char *
getcwd (char *buf, size_t size)
{
  char path[PATH_MAX];

  if (SHIM_BYPASS () || !shim_vcwd (path))
    return REAL (getcwd) (buf, size);
  return vcwd_copy (path, buf, size);
}

extern char *__getcwd_chk (char *buf, size_t size, size_t buflen);
extern void __chk_fail (void) __attribute__ ((noreturn));

DEFINE_REAL (__getcwd_chk);
char *
__getcwd_chk (char *buf, size_t size, size_t buflen)
{
  char path[PATH_MAX];

  if (SHIM_BYPASS () || !shim_vcwd (path))
    return REAL (__getcwd_chk) (buf, size, buflen);
  if (size > buflen)
    __chk_fail ();
  return vcwd_copy (path, buf, size);
}

DEFINE_REAL (get_current_dir_name);
char *
get_current_dir_name (void)
{
  char path[PATH_MAX];

  if (SHIM_BYPASS () || !shim_vcwd (path))
    return REAL (get_current_dir_name) ();
  return vcwd_copy (path, NULL, 0);
}

/* ---- exec ------------------------------------------------------------- */

/* Does envp name a working directory? */
static bool
env_has_cwd (char *const envp[])
{
  size_t len = strlen (ENV_NAME);

  for (size_t i = 0; envp != NULL && envp[i] != NULL; i++)
    if (strncmp (envp[i], ENV_NAME, len) == 0 && envp[i][len] == '=')
      return true;
  return false;
}

/* envp without DIRECTIO_CWD, plus DIRECTIO_CWD=cwd when it is set; NULL
 * (errno ENOMEM) on failure.  Freed by the caller if exec fails. */
static char **
exec_env (char *const envp[], char **var)
{
  char path[PATH_MAX];
  size_t n = 0, len = strlen (ENV_NAME);
  char **e;

  *var = NULL;
  while (envp != NULL && envp[n] != NULL)
    n++;
  e = malloc ((n + 2) * sizeof *e);
  if (e == NULL)
    return NULL;
  n = 0;
  for (size_t i = 0; envp != NULL && envp[i] != NULL; i++)
    if (strncmp (envp[i], ENV_NAME, len) != 0 || envp[i][len] != '=')
      e[n++] = envp[i];
  if (shim_vcwd (path)) {
    *var = malloc (len + 1 + strlen (path) + 1);
    if (*var == NULL) {
      free (e);
      return NULL;
    }
    strcpy (*var, ENV_NAME "=");
    strcat (*var, path);
    e[n++] = *var;
  }
  e[n] = NULL;
  return e;
}

#define WRAP_EXEC(name)                                                 \
  DEFINE_REAL (name);                                                   \
  int                                                                   \
  name (const char *file, char *const argv[], char *const envp[])       \
  {                                                                     \
    char **e, *var;                                                     \
    int err;                                                            \
                                                                        \
    if (SHIM_BYPASS ()                                                  \
        || (!__atomic_load_n (&active, __ATOMIC_ACQUIRE)                \
            && !env_has_cwd (envp))                                     \
        || (e = exec_env (envp, &var)) == NULL)                         \
      return REAL (name) (file, argv, envp);                            \
    REAL (name) (file, argv, e);                                        \
    err = errno;                                                        \
    free (var);                                                         \
    free (e);                                                           \
    errno = err;                                                        \
    return -1;                                                          \
  }

WRAP_EXEC (execve)
WRAP_EXEC (execvpe)
