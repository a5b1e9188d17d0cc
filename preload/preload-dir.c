/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libdirectio-preload.so: directory streams under a mountpoint.
 *
 * opendir of a managed path (and fdopendir of a path fd) returns a
 * struct shim_dir in place of glibc's DIR; readdir, closedir, dirfd,
 * rewinddir, telldir, seekdir and readdir_r tell ours from glibc's by the
 * magic number at its start.  That is safe because glibc's DIR starts
 * with its fd (never negative) and musl's with a non-negative offset,
 * while the magic is negative read either way.  Entries come from the
 * engine's dio__readdir; telldir positions are entry counts (seekdir
 * reopens and skips).
 *
 * Threading: as for glibc's DIR, one stream is not used by two threads at
 * once; nothing is shared between streams. */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

#define SHIM_DIR_MAGIC UINT64_C (0xd10d1d108badf00d)

_Static_assert (sizeof (struct dirent) == sizeof (struct dirent64)
                && offsetof (struct dirent, d_name)
                   == offsetof (struct dirent64, d_name),
                "struct dirent64 differs from struct dirent on this ABI");

struct shim_dir {
  uint64_t magic;               /* first: see above */
  DIR *d;                       /* dio__opendir's listing */
  int fd;                       /* its path fd (dirfd), or -1 */
  long pos;                     /* entries returned so far */
  char path[];                  /* absolute */
};

static struct shim_dir *
ours (DIR *dp)
{
  struct shim_dir *s = (struct shim_dir *) dp;
  return s != NULL && s->magic == SHIM_DIR_MAGIC ? s : NULL;
}

static DIR *
dir_open (const char *abspath, int fd)
{
  size_t len = strlen (abspath) + 1;
  struct shim_dir *s = malloc (sizeof *s + len);

  if (s == NULL)
    return NULL;
  s->d = ENGINE (dio__opendir (abspath));
  if (s->d == NULL) {
    int e = errno;
    free (s);
    errno = e;
    return NULL;
  }
  s->magic = SHIM_DIR_MAGIC;
  s->fd = fd;
  s->pos = 0;
  memcpy (s->path, abspath, len);
  return (DIR *) s;
}

/* Start again from the first entry (of the same listing: as with a
 * kernel directory, a rewind need not see later changes, but the engine
 * copy is re-read so that it does). */
static int
dir_reopen (struct shim_dir *s)
{
  DIR *d = ENGINE (dio__opendir (s->path));

  if (d == NULL)
    return -1;
  ENGINE (dio__closedir (s->d));
  s->d = d;
  s->pos = 0;
  return 0;
}

static struct dirent *
dir_read (struct shim_dir *s)
{
  struct dirent *e = ENGINE (dio__readdir (s->d));

  if (e != NULL)
    s->pos++;
  return e;
}

DEFINE_REAL (opendir);
DIR *
opendir (const char *path)
{
  char buf[PATH_MAX];

  if (SHIM_BYPASS ())
    return REAL (opendir) (path);
  switch (shim_where_path (path, buf)) {
  case SHIM_ENGINE:
    return dir_open (buf, -1);
  case SHIM_LIBC_ABS:
    return REAL (opendir) (buf);
  case SHIM_LIBC:
    return REAL (opendir) (path);
  default:
    return NULL;
  }
}

DEFINE_REAL (fdopendir);
DIR *
fdopendir (int fd)
{
  char path[PATH_MAX];
  bool is_dir;

  if (SHIM_BYPASS ())
    return REAL (fdopendir) (fd);
  if (shim_pathfd_path (fd, path, &is_dir)) {
    if (!is_dir) {
      errno = ENOTDIR;
      return NULL;
    }
    return dir_open (path, fd);         /* closedir closes fd */
  }
  if (shim_is_engine_fd (fd)) {
    errno = ENOTDIR;
    return NULL;
  }
  return REAL (fdopendir) (fd);
}

DEFINE_REAL (readdir);
struct dirent *
readdir (DIR *dp)
{
  struct shim_dir *s = ours (dp);
  return s ? dir_read (s) : REAL (readdir) (dp);
}

DEFINE_REAL (readdir64);
struct dirent64 *
readdir64 (DIR *dp)
{
  struct shim_dir *s = ours (dp);
  return s ? (struct dirent64 *) dir_read (s) : REAL (readdir64) (dp);
}

/* readdir_r: deprecated, but still called. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static int
dir_read_r (struct shim_dir *s, struct dirent *entry, struct dirent **result)
{
  int e = errno;
  struct dirent *d;

  errno = 0;
  d = dir_read (s);
  if (d == NULL) {
    int err = errno;
    errno = e;
    *result = NULL;
    return err;
  }
  memcpy (entry, d, sizeof *entry);
  *result = entry;
  errno = e;
  return 0;
}

DEFINE_REAL (readdir_r);
int
readdir_r (DIR *dp, struct dirent *entry, struct dirent **result)
{
  struct shim_dir *s = ours (dp);
  return s ? dir_read_r (s, entry, result)
    : REAL (readdir_r) (dp, entry, result);
}

DEFINE_REAL (readdir64_r);
int
readdir64_r (DIR *dp, struct dirent64 *entry, struct dirent64 **result)
{
  struct shim_dir *s = ours (dp);
  return s ? dir_read_r (s, (struct dirent *) entry, (struct dirent **) result)
    : REAL (readdir64_r) (dp, entry, result);
}

DEFINE_REAL (closedir);
int
closedir (DIR *dp)
{
  struct shim_dir *s = ours (dp);
  int r;

  if (s == NULL)
    return REAL (closedir) (dp);
  r = ENGINE (dio__closedir (s->d));
  if (s->fd >= 0)
    shim_pathfd_close (s->fd);
  s->magic = 0;
  free (s);
  return r;
}

DEFINE_REAL (dirfd);
int
dirfd (DIR *dp)
{
  struct shim_dir *s = ours (dp);

  if (s == NULL)
    return REAL (dirfd) (dp);
  if (s->fd < 0)
    s->fd = shim_pathfd_new (s->path, true, O_CLOEXEC);
  return s->fd;
}

DEFINE_REAL (rewinddir);
void
rewinddir (DIR *dp)
{
  struct shim_dir *s = ours (dp);

  if (s == NULL)
    REAL (rewinddir) (dp);
  else
    dir_reopen (s);             /* on failure the old stream goes on */
}

DEFINE_REAL (telldir);
long
telldir (DIR *dp)
{
  struct shim_dir *s = ours (dp);
  return s ? s->pos : REAL (telldir) (dp);
}

DEFINE_REAL (seekdir);
void
seekdir (DIR *dp, long pos)
{
  struct shim_dir *s = ours (dp);

  if (s == NULL) {
    REAL (seekdir) (dp, pos);
    return;
  }
  if (pos < s->pos && dir_reopen (s) == -1)
    return;
  while (s->pos < pos && dir_read (s) != NULL)
    ;                           /* bounded by pos and by the directory */
}
