/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nfs:// URL parsing.  Pure string handling: no threads, no I/O. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "url.h"

/* libnfs URL arguments we pass through untouched. */
static const char *const libnfs_args[] = {
  "uid", "gid", "tcp-syncnt", "readahead", "auto-traverse-mounts",
  "dircache", "if", NULL
};

static bool
is_libnfs_arg (const char *key, size_t len)
{
  for (size_t i = 0; libnfs_args[i]; i++)
    if (strlen (libnfs_args[i]) == len
        && memcmp (libnfs_args[i], key, len) == 0)
      return true;
  return false;
}

int
dio_path_normalise (char *path)
{
  char *out = path;
  const char *in = path;

  if (path[0] != '/')
    return -1;
  while (*in) {
    const char *end;
    size_t len;

    while (*in == '/')
      in++;
    end = strchrnul (in, '/');
    len = end - in;
    if (len == 2 && in[0] == '.' && in[1] == '.')
      return -1;
    if (len > 0 && !(len == 1 && in[0] == '.')) {
      *out++ = '/';
      memmove (out, in, len);
      out += len;
    }
    in = end;
  }
  if (out == path)
    *out++ = '/';
  *out = '\0';
  return 0;
}

/* One "key=value" (or "key") argument of the query. */
static int
apply_arg (const char *arg, size_t len,
           struct dio_options *opts, char **nfs_args, size_t *nfs_len)
{
  const char *eq = memchr (arg, '=', len);
  size_t klen = eq ? (size_t) (eq - arg) : len;
  char word[256], err[300];

  if (len == 0)
    return dio_error_msg (EINVAL, "empty URL argument");
  if (len >= sizeof word)
    return dio_error_msg (EINVAL, "URL argument too long");
  memcpy (word, arg, len);
  word[len] = '\0';

  if (is_libnfs_arg (arg, klen)) {
    char *p = realloc (*nfs_args, *nfs_len + len + 2);
    if (p == NULL)
      return dio_error (ENOMEM, "realloc");
    *nfs_args = p;
    if (*nfs_len > 0)
      p[(*nfs_len)++] = '&';
    memcpy (p + *nfs_len, arg, len);
    *nfs_len += len;
    p[*nfs_len] = '\0';
    return 0;
  }
  /* libnfs spells the NFS port and the version its own way. */
  if (klen == 7 && memcmp (arg, "nfsport", 7) == 0)
    snprintf (word, sizeof word, "port%.*s", (int) (len - klen), arg + klen);
  else if (klen == 7 && memcmp (arg, "version", 7) == 0)
    snprintf (word, sizeof word, "vers%.*s", (int) (len - klen), arg + klen);
  if (dio_options_set (opts, word, err, sizeof err) == -1)
    return dio_error_msg (EINVAL, "%s", err);
  return 0;
}

static int
parse_query (const char *q, struct dio_options *opts,
             char **nfs_args)
{
  size_t nfs_len = 0;

  *nfs_args = calloc (1, 1);
  if (*nfs_args == NULL)
    return dio_error (ENOMEM, "calloc");
  while (q && *q) {
    const char *end = strchrnul (q, '&');
    if (apply_arg (q, end - q, opts, nfs_args, &nfs_len) == -1)
      return -1;
    q = *end ? end + 1 : NULL;
  }
  return 0;
}

int
dio_url_parse (const char *url, struct dio_options *opts,
               struct dio_url *out)
{
  const char *host, *slash, *query;
  char *path = NULL;

  memset (out, 0, sizeof *out);
  if (strncmp (url, "nfs://", 6) != 0)
    return dio_error_msg (EINVAL, "not an nfs:// URL");
  host = url + 6;
  slash = strchr (host, '/');
  query = strchr (host, '?');
  if (*host == '\0' || host == slash || host == query)
    return dio_error_msg (EINVAL, "no server name");
  if (slash == NULL || (query && query < slash))
    return dio_error_msg (EINVAL, "no path after the server");
  out->server = strndup (host, slash - host);
  path = query ? strndup (slash, query - slash) : strdup (slash);
  if (out->server == NULL || path == NULL) {
    free (path);
    dio_url_free (out);
    return dio_error (ENOMEM, "strdup");
  }
  out->path = path;
  if (dio_path_normalise (out->path) == -1) {
    dio_url_free (out);
    return dio_error_msg (EINVAL, "path has a \"..\" component");
  }
  if (parse_query (query ? query + 1 : NULL, opts, &out->nfs_args) == -1) {
    int err = errno;
    dio_url_free (out);
    errno = err;
    return -1;
  }
  return 0;
}

void
dio_url_free (struct dio_url *u)
{
  free (u->server);
  free (u->path);
  free (u->nfs_args);
  memset (u, 0, sizeof *u);
}
