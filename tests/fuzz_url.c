/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for nfs:// URLs (url.c): any bytes must give a
 * parsed URL that keeps its promises or an error with a message, never a
 * crash, leak or hang.  Also dio_path_normalise on its own.
 *
 * Built and run by tests/run-fuzzers.sh (`make -C tests fuzz`); the seed
 * corpus is tests/fuzz-corpus/url/. */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "directio.h"
#include "options.h"
#include "url.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* An absolute path with no empty, "." or ".." component and no trailing
 * slash (but "/" itself). */
static bool
normal_path (const char *p)
{
  const char *c = p;

  if (p[0] != '/')
    return false;
  if (strcmp (p, "/") == 0)
    return true;
  while (*c == '/') {
    const char *end = strchrnul (c + 1, '/');
    size_t len = end - (c + 1);

    if (len == 0 || (len == 1 && c[1] == '.')
        || (len == 2 && c[1] == '.' && c[2] == '.'))
      return false;
    c = end;
  }
  return *c == '\0';
}

static void
check_url (const char *s, const struct dio_url *u)
{
  size_t slen = strlen (s);

  if (u->server == NULL || u->path == NULL || u->nfs_args == NULL
      || u->server[0] == '\0' || strchr (u->server, '/') != NULL
      || strlen (u->server) > slen || strlen (u->path) > slen
      || strlen (u->nfs_args) > slen || !normal_path (u->path))
    abort ();
  /* Normalising a normal path changes nothing. */
  char *copy = strdup (u->path);
  if (copy && (dio_path_normalise (copy) != 0 || strcmp (copy, u->path)))
    abort ();
  free (copy);
}

/* dio_path_normalise alone: a result is normal, and a second pass keeps
 * it. */
static void
check_normalise (const char *s)
{
  char *p = strdup (s), *q;

  if (p == NULL)
    return;
  if (dio_path_normalise (p) == 0) {
    if (!normal_path (p) || strlen (p) > strlen (s) + 1)
      abort ();
    q = strdup (p);
    if (q && (dio_path_normalise (q) != 0 || strcmp (p, q) != 0))
      abort ();
    free (q);
  }
  free (p);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct dio_options o;
  struct dio_url u;
  char *s = malloc (size + 1);

  if (s == NULL)
    return 0;
  memcpy (s, data, size);
  s[size] = '\0';               /* text up to the first NUL */

  dio_options_init (&o);
  errno = 0;
  if (dio_url_parse (s, &o, &u) == 0)
    check_url (s, &u);
  else {
    const char *msg = dio_last_error ();
    if ((errno != EINVAL && errno != ENOMEM) || msg == NULL || msg[0] == '\0'
        || u.server != NULL || u.path != NULL || u.nfs_args != NULL)
      abort ();
  }
  dio_url_free (&u);
  dio_url_free (&u);            /* accepts a freed (zeroed) one */
  if (s[0] == '/')
    check_normalise (s);
  free (s);
  return 0;
}
