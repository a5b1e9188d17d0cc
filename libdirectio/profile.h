/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Mount profiles: the INI file that maps local-looking mountpoints to NFS
 * exports and their mount options (directio(3), MOUNT PROFILES).
 *
 *   # comment
 *   ; comment
 *   [oradata]
 *   url        = nfs://filer1/vol/oradata
 *   mountpoint = /u02/oradata
 *   options    = forcedirectio,rsize=1048576,nconnect=4,hard
 *
 * A loaded set is immutable: read it from any number of threads.  No
 * globals; the caller owns the set and frees it.
 */
#ifndef DIO_PROFILE_H
#define DIO_PROFILE_H

#include <stddef.h>

#include "options.h"

struct dio_profile {
  char *name;                   /* section name, [A-Za-z0-9_.-]+ */
  char *url;                    /* starts with nfs:// */
  char *mountpoint;             /* absolute; no "//", "." or ".."
                                 * components; no trailing slash but "/" */
  char *options;                /* raw options text, or NULL if none */
  struct dio_options opts;      /* defaults with options applied */
  unsigned line;                /* line of [name] */
};

struct dio_profiles {
  char *file;                   /* name used in messages */
  struct dio_profile *v;        /* in file order */
  size_t n;
};

/* Read and parse FILE.  0, or -1 with errno and a message in err:
 * "FILE:LINE: WORD: reason" for a bad file (errno EINVAL), "FILE: reason"
 * if it cannot be read (errno from open/read, ENOENT if missing) or on
 * ENOMEM.  *out is overwritten (not freed) and on error left empty, so
 * dio_profiles_free is always safe on it. */
extern int dio_profiles_load (const char *file, struct dio_profiles *out,
                              char *err, size_t errlen);

/* Parse len bytes of text (any bytes: NULs are reported, not trusted)
 * as if read from a file called name.  As dio_profiles_load otherwise. */
extern int dio_profiles_parse (const char *name, const char *text,
                               size_t len, struct dio_profiles *out,
                               char *err, size_t errlen);

/* Free the contents of p and zero it.  Accepts NULL and zeroed sets. */
extern void dio_profiles_free (struct dio_profiles *p);

/* The profile whose mountpoint is the longest component-wise prefix of
 * path (an absolute, normalised path: /u02/ora does not match
 * /u02/oradata2), or NULL.  If rest is not NULL it is set to the part of
 * path below the mountpoint, without a leading '/': "" if path is the
 * mountpoint itself. */
extern const struct dio_profile *dio_profiles_match
  (const struct dio_profiles *p, const char *path, const char **rest);

/* The profile called name, or NULL. */
extern const struct dio_profile *dio_profiles_find
  (const struct dio_profiles *p, const char *name);

/* $DIRECTIO_PROFILES if set and not empty (ignored in setuid programs),
 * else SYSCONFDIR "/directio/profiles.conf". */
extern const char *dio_profiles_default_path (void);

#endif /* DIO_PROFILE_H */
