/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nfs:// URLs: split into server, path, libnfs arguments and our mount
 * options. */
#ifndef DIO_URL_H
#define DIO_URL_H

#include "options.h"

struct dio_url {
  char *server;       /* host name or address */
  char *path;         /* absolute, normalised path on the server */
  char *nfs_args;     /* libnfs arguments other than ports ("uid=1&gid=1"),
                         possibly "" */
};

/* Parse url; mount-option arguments (rsize=, nconnect=, soft, ...) and the
 * ports (nfsport=, mountport=) are applied to opts.  On error -1 with
 * dio_error's reason "what: why" (the caller's context names the URL). */
int dio_url_parse (const char *url, struct dio_options *opts,
                   struct dio_url *out);

/* Accepts a zeroed struct. */
void dio_url_free (struct dio_url *u);

/* Normalise an absolute path in place: collapse "//" and "/./", drop a
 * trailing "/"; returns -1 if it is not absolute or has a ".." component. */
int dio_path_normalise (char *path);

#endif /* DIO_URL_H */
