/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Calls exported for the LD_PRELOAD shim and the tool only, under the
 * LIBDIRECTIO_PRIVATE symbol version: not a stable interface. */
#ifndef DIO_PRIVATE_H
#define DIO_PRIVATE_H

#include <dirent.h>
#include <sys/stat.h>

#include "directio.h"
#include "test-hook.h"

/* dup(2)/F_DUPFD and dup2(2)/dup3(2) of an engine fd (dup.c). */
int dio__dup (int oldfd, int minfd);
int dio__dup2 (int oldfd, int newfd);

/* F_GETFL of an engine fd: access mode, status flags, and O_DIRECT when
 * the file is direct.  (F_SETFL with O_DIRECT maps to directio().) */
int dio__getfl (int fd);

/* Tests only: dio__set_test_hook (test-hook.h). */

/* Mount profiles (profiles-global.c).  The profile file is read once,
 * on first need.
 *
 * dio__path_is_managed: 1 if path (absolute, or relative to the working
 * directory; ".." taken lexically) lies under a profile's mountpoint, 0
 * if not (always 0 for "nfs://" strings and when there are no profiles),
 * -1 if the profile file is unusable (malformed, or DIRECTIO_PROFILES
 * names a file that cannot be read): dio_last_error() has the parser's
 * "FILE:LINE: WORD: reason".
 * dio__have_profiles: 1 if any profile is loaded, 0 if none, -1 as
 * above.  With DIRECTIO_PROFILE set (directio run -p), only the profile
 * of that name counts (none of that name: -1, "no such profile").
 * dio__profiles_reload: read the file again (DIRECTIO_PROFILES as it is
 * now); 0, or -1 with the error. */
int dio__path_is_managed (const char *path);
int dio__have_profiles (void);
int dio__profiles_reload (void);

/* The namespace under mountpoints (namespace.c), for paths as dio_open
 * takes them (profile paths or nfs:// URLs): 0 or -1 with errno and
 * dio_last_error(), as the POSIX calls.  Writes under an "ro" profile are
 * EROFS; a rename between two mounts is EXDEV.  Each call takes the
 * export's mount for its duration (mounting it if no file is open on
 * it).  A DIR from dio__opendir is a complete copy of the listing, not a
 * libc DIR: use only these calls on it. */
int dio__stat (const char *path, struct stat *st);
int dio__lstat (const char *path, struct stat *st);
int dio__unlink (const char *path);
int dio__rename (const char *from, const char *to);
int dio__mkdir (const char *path, mode_t mode);
int dio__rmdir (const char *path);
int dio__access (const char *path, int mode);
int dio__truncate (const char *path, off_t length);
DIR *dio__opendir (const char *path);
struct dirent *dio__readdir (DIR *dir);     /* NULL at the end */
void dio__rewinddir (DIR *dir);
int dio__closedir (DIR *dir);
int dio__is_dir (DIR *dir);                 /* 1 if from dio__opendir */

#endif /* DIO_PRIVATE_H */
