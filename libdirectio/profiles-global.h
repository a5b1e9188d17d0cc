/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The process's mount profiles (profile.h), loaded once, and the
 * resolution of a path (nfs:// URL or a path under a profile's
 * mountpoint) into an export URL and mount options. */
#ifndef DIO_PROFILES_GLOBAL_H
#define DIO_PROFILES_GLOBAL_H

#include "options.h"
#include "url.h"

/* Resolve path (the caller's context names the call and the path):
 *  - "nfs://..." : the URL's arguments over the defaults, direct from
 *    open (forcedirectio) unless the URL says noforcedirectio;
 *  - otherwise a local path, made absolute with the working directory
 *    and normalised (".." lexically): the profile with the longest
 *    mountpoint prefix gives the URL (the rest of the path appended) and
 *    the options (its URL's arguments, then its options line).
 * options (may be NULL) applies last.  0, or -1 with dio_error: ENOENT
 * "no profile covers it", or the profile file's own error (EINVAL with
 * "FILE:LINE: WORD: reason", or why it could not be read). */
int dio_resolve (const char *path, const char *options,
                 struct dio_options *o, struct dio_url *u);

/* Make path absolute (relative to the working directory) and normalise
 * it lexically: no "//", ".", ".." or trailing '/'.  A new string, or
 * NULL with errno. */
char *dio_path_absolute (const char *path);

#endif /* DIO_PROFILES_GLOBAL_H */
