/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the mount option words (options.c): any bytes,
 * as one word for dio_options_set or as a list for dio_options_parse,
 * must give valid options or an error that changes nothing, never a
 * crash, leak or hang.
 *
 * Built and run by tests/run-fuzzers.sh (`make -C tests fuzz`); the seed
 * corpus is tests/fuzz-corpus/options/.  The first byte picks the call:
 * even, dio_options_parse of the rest; odd, dio_options_set. */
#include <config.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Every field a successful call can leave is within its documented
 * range. */
static void
check_valid (const struct dio_options *o)
{
  if ((o->rsize != 0 && (o->rsize < DIO_MIN_XFER || o->rsize > DIO_MAX_XFER))
      || (o->wsize != 0 && (o->wsize < DIO_MIN_XFER || o->wsize > DIO_MAX_XFER))
      || o->nconnect < 1 || o->nconnect > DIO_MAX_NCONNECT
      || o->window < 1 || o->window > DIO_MAX_WINDOW
      || o->timeo < 1 || o->retrans > 100
      || o->vers != 3 || o->port > 65535 || o->mountport > 65535
      || o->cache_size < 1024 * 1024)
    abort ();
}

/* An error: -1, EINVAL (or ENOMEM), a message, and *o as it was. */
static void
check_error (int r, const struct dio_options *before,
             const struct dio_options *after, const char *err)
{
  if (r != -1 || (errno != EINVAL && errno != ENOMEM)
      || memchr (err, '\0', 256) == NULL || err[0] == '\0'
      || memcmp (before, after, sizeof *before) != 0)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct dio_options o, before, again;
  char err[256], tiny[4];
  char *s;
  int r;

  if (size == 0)
    return 0;
  s = malloc (size);
  if (s == NULL)
    return 0;
  memcpy (s, data + 1, size - 1);
  s[size - 1] = '\0';           /* text up to the first NUL */

  dio_options_init (&o);
  before = o;
  memset (err, 0x55, sizeof err);
  errno = 0;
  if (data[0] & 1) {
    r = dio_options_set (&o, s, err, sizeof err);
    if (r == 0) {
      /* A good word is a known key, and applies the same way twice. */
      char *eq = strchr (s, '=');
      if (eq)
        *eq = '\0';
      if (!dio_options_known (s))
        abort ();
      if (eq)
        *eq = '=';
      again = before;
      if (dio_options_set (&again, s, NULL, 0) != 0
          || memcmp (&again, &o, sizeof o) != 0)
        abort ();
    }
  }
  else {
    r = dio_options_parse (&o, s, err, sizeof err);
    /* The result does not depend on the error buffer. */
    again = before;
    if (dio_options_parse (&again, s, tiny, sizeof tiny) != r
        || memcmp (&again, &o, sizeof o) != 0
        || (r == -1 && memchr (tiny, '\0', sizeof tiny) == NULL))
      abort ();
  }
  if (r == 0)
    check_valid (&o);
  else
    check_error (r, &before, &o, err);
  free (s);
  return 0;
}
