/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libdirectio-preload.so: which paths the engine serves.
 *
 * A path is the engine's when dio__path_is_managed says so (it lies under
 * a profile's mountpoint).  Relative paths are resolved the way the
 * kernel would: against the working directory (the shim's own when the
 * program has chdir'd under a mountpoint, preload-cwd.c), or against the
 * dirfd of an *at call.  A dirfd that is one of the shim's path fds names a
 * directory under a mountpoint by its absolute path; a kernel dirfd is
 * turned into a path through /proc/self/fd only when some profile could
 * match, so a process without profiles pays no system call.
 *
 * Paths are normalised lexically ("a//b/./c/../d" is "a/b/d"): below a
 * mountpoint there are no kernel symlinks to make ".." mean anything
 * else.
 *
 * Threading: no state. */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

/* The shim's own wrappers of these would only look at the path again. */
DEFINE_REAL (readlink);
DEFINE_REAL (getcwd);

int
shim_normalise (const char *path, char *out)
{
  size_t len = 0;
  const char *p = path;

  out[len++] = '/';
  while (*p) {
    const char *c;
    size_t n;

    while (*p == '/')
      p++;
    c = p;
    while (*p && *p != '/')
      p++;
    n = p - c;
    if (n == 0 || (n == 1 && c[0] == '.'))
      continue;
    if (n == 2 && c[0] == '.' && c[1] == '.') {
      while (len > 1 && out[len - 1] != '/')
        len--;
      if (len > 1)
        len--;                  /* the '/' before the dropped component */
      continue;
    }
    if (len + (len > 1) + n >= PATH_MAX) {
      errno = ENAMETOOLONG;
      return -1;
    }
    if (len > 1)
      out[len++] = '/';
    memcpy (out + len, c, n);
    len += n;
  }
  out[len] = '\0';
  return 0;
}

/* dir + "/" + rel, normalised, into out. */
static int
join (const char *dir, const char *rel, char *out)
{
  char tmp[PATH_MAX];
  int n = snprintf (tmp, sizeof tmp, "%s/%s", dir, rel);

  if (n < 0 || n >= (int) sizeof tmp) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return shim_normalise (tmp, out);
}

/* An unusable profile file makes no path managed; say so once. */
static bool
managed (const char *path)
{
  static bool told;
  int r = ENGINE (dio__path_is_managed (path));

  if (r == -1 && !told) {
    told = true;
    shim_debug ("no profiles: %s", ENGINE (dio_last_error ()));
  }
  return r == 1;
}

/* The directory a kernel dirfd refers to, via /proc. */
static int
kernel_dir_path (int dirfd, char *out)
{
  char link[64];
  ssize_t n;

  snprintf (link, sizeof link, "/proc/self/fd/%d", dirfd);
  n = REAL (readlink) (link, out, PATH_MAX - 1);
  if (n <= 0 || out[0] != '/')
    return -1;                  /* no /proc, or not a path: not ours */
  out[n] = '\0';
  return 0;
}

/* Could a kernel directory contain a mountpoint?  Only if profiles are
 * loaded at all (an unusable profile file counts as none). */
static bool
have_profiles (void)
{
  return ENGINE (dio__have_profiles ()) > 0;
}

bool
shim_is_mountpoint (const char *abspath)
{
  char parent[PATH_MAX];
  char *slash;

  strcpy (parent, abspath);
  slash = strrchr (parent, '/');
  if (slash == NULL || slash == parent)
    return slash != NULL && parent[1] != '\0' && !managed ("/");
  *slash = '\0';
  return !managed (parent);
}

static int
where (int dirfd, const char *path, char *buf)
{
  char dir[PATH_MAX];
  bool is_dir;

  if (path == NULL)
    return SHIM_LIBC;           /* libc reports EFAULT */
  if (path[0] == '/') {
    if (shim_normalise (path, buf) == -1)
      return -1;
    return managed (buf) ? SHIM_ENGINE : SHIM_LIBC;
  }
  if (dirfd == AT_FDCWD) {
    if (shim_vcwd (dir)) {      /* a working directory under a mountpoint */
      if (join (dir, path, buf) == -1)
        return -1;
      return managed (buf) ? SHIM_ENGINE : SHIM_LIBC_ABS;
    }
    if (!managed (path))
      return SHIM_LIBC;
    if (REAL (getcwd) (dir, sizeof dir) == NULL)
      return -1;
    return join (dir, path, buf) == -1 ? -1 : SHIM_ENGINE;
  }
  if (shim_pathfd_path (dirfd, dir, &is_dir)) {
    if (!is_dir) {
      errno = ENOTDIR;
      return -1;
    }
    if (join (dir, path, buf) == -1)
      return -1;
    return managed (buf) ? SHIM_ENGINE : SHIM_LIBC_ABS;
  }
  if (shim_is_engine_fd (dirfd)) {
    errno = ENOTDIR;            /* a file, as the kernel says */
    return -1;
  }
  if (!have_profiles () || kernel_dir_path (dirfd, dir) == -1)
    return SHIM_LIBC;
  if (join (dir, path, buf) == -1)
    return SHIM_LIBC;           /* let the kernel judge the original */
  return managed (buf) ? SHIM_ENGINE : SHIM_LIBC;
}

/* Looking does not change errno: a call that then succeeds in libc must
 * leave it as libc would. */
int
shim_where (int dirfd, const char *path, char *buf)
{
  int e = errno, r = where (dirfd, path, buf);

  if (r != -1)
    errno = e;
  return r;
}
