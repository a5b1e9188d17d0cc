/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Mount options: the Solaris mount_nfs vocabulary plus nconnect and the
 * engine's own tunables.
 *
 * Every word is one row of a table (name, kind, range, field), so adding a
 * word is adding a row, and the parser is the same few lines for all of
 * them.  No threads, no I/O, no globals but the constant table.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

#define KiB UINT64_C(1024)
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)

enum kind {
  K_FLAG,                       /* no value; stores .flag into a bool */
  K_NUM,                        /* decimal number into a uint32_t */
  K_SIZE,                       /* number with K/M/G suffix, uint32_t */
  K_SIZE64,                     /* number with K/M/G suffix, uint64_t */
  K_NUM_BOTH,                   /* decimal number into acregmin and
                                   acregmax (actimeo) */
};

struct word {
  const char *name;
  enum kind kind;
  bool flag;                    /* K_FLAG: the value it stores */
  uint64_t min, max;            /* others: inclusive range */
  size_t offset;                /* of the field in struct dio_options */
  const char *why;              /* replaces the generic value messages */
};

#define FIELD(f) offsetof (struct dio_options, f)

static const struct word words[] = {
  { "forcedirectio",   K_FLAG, true,  0, 0, FIELD (forcedirectio), NULL },
  { "noforcedirectio", K_FLAG, false, 0, 0, FIELD (forcedirectio), NULL },
  { "hard",            K_FLAG, false, 0, 0, FIELD (soft), NULL },
  { "soft",            K_FLAG, true,  0, 0, FIELD (soft), NULL },
  { "ro",              K_FLAG, true,  0, 0, FIELD (readonly), NULL },
  { "rw",              K_FLAG, false, 0, 0, FIELD (readonly), NULL },
  { "rsize",     K_SIZE,   false, DIO_MIN_XFER, DIO_MAX_XFER, FIELD (rsize),
    NULL },
  { "wsize",     K_SIZE,   false, DIO_MIN_XFER, DIO_MAX_XFER, FIELD (wsize),
    NULL },
  { "timeo",     K_NUM,    false, 1, 36000, FIELD (timeo), NULL },
  { "retrans",   K_NUM,    false, 0, 100, FIELD (retrans), NULL },
  { "vers",      K_NUM,    false, 3, 3, FIELD (vers),
    "only NFS version 3 is supported" },
  { "port",      K_NUM,    false, 1, 65535, FIELD (port), NULL },
  { "mountport", K_NUM,    false, 1, 65535, FIELD (mountport), NULL },
  { "nconnect",  K_NUM,    false, 1, DIO_MAX_NCONNECT, FIELD (nconnect),
    NULL },
  { "window",    K_NUM,    false, 1, DIO_MAX_WINDOW, FIELD (window), NULL },
  { "cache",     K_SIZE64, false, 1 * MiB, 64 * GiB, FIELD (cache_size),
    NULL },
  { "linger",    K_NUM,    false, 0, 3600, FIELD (linger), NULL },
  { "acregmin",  K_NUM,    false, 0, DIO_MAX_ACTIMEO, FIELD (acregmin), NULL },
  { "acregmax",  K_NUM,    false, 0, DIO_MAX_ACTIMEO, FIELD (acregmax), NULL },
  { "actimeo",   K_NUM_BOTH, false, 0, DIO_MAX_ACTIMEO, FIELD (acregmin),
    NULL },
  { "noac",      K_FLAG,   true,  0, 0, FIELD (noac), NULL },
  { "ac",        K_FLAG,   false, 0, 0, FIELD (noac), NULL },
  { "nocto",     K_FLAG,   true,  0, 0, FIELD (nocto), NULL },
  { "cto",       K_FLAG,   false, 0, 0, FIELD (nocto), NULL },
  { "retry",     K_NUM,    false, 0, 10000, FIELD (retry), NULL },
  { "spin",      K_NUM,    false, 0, DIO_MAX_SPIN_US, FIELD (spin), NULL },
};

#define NR_WORDS (sizeof words / sizeof words[0])

/* snprintf that accepts a NULL or empty buffer: callers may not care. */
static void __attribute__ ((format (printf, 3, 4)))
set_err (char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;

  if (err == NULL || errlen == 0)
    return;
  va_start (ap, fmt);
  vsnprintf (err, errlen, fmt, ap);
  va_end (ap);
}

void
dio_options_init (struct dio_options *o)
{
  memset (o, 0, sizeof *o);
  o->nconnect = 2;
  o->window = 1;               /* bench/README.md, 2026-12-07 05:30 */
  o->timeo = 600;
  o->retrans = 2;
  o->soft = false;
  o->readonly = false;
  o->forcedirectio = false;
  o->vers = 3;
  o->cache_size = 64 * MiB;
  o->linger = 2;
  o->acregmin = 3;              /* Linux's NFS_DEF_ACREGMIN */
  o->acregmax = 60;             /* and NFS_DEF_ACREGMAX */
  o->retry = DIO_RETRY_UNSET;
  o->spin = DIO_SPIN_UNSET;
}

static const struct word *
lookup (const char *key, size_t keylen)
{
  size_t i;

  for (i = 0; i < NR_WORDS; ++i)
    if (strncmp (words[i].name, key, keylen) == 0 &&
        words[i].name[keylen] == '\0')
      return &words[i];
  return NULL;
}

bool
dio_options_known (const char *key)
{
  return key != NULL && lookup (key, strlen (key)) != NULL;
}

/* Decimal digits only: strtoull would also take spaces, signs and 0x.
 * Overflow saturates at UINT64_MAX, which no range admits, so a huge
 * number is reported as out of range rather than as not a number.
 * Returns the first character after the digits, or NULL if none. */
static const char *
parse_digits (const char *s, uint64_t *v)
{
  uint64_t n = 0;
  const char *p;

  for (p = s; *p >= '0' && *p <= '9'; ++p) {
    unsigned d = (unsigned) (*p - '0');

    n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
  }
  *v = n;
  return p == s ? NULL : p;
}

static unsigned
suffix_shift (char c)
{
  switch (c) {
  case 'k': case 'K': return 10;
  case 'm': case 'M': return 20;
  case 'g': case 'G': return 30;
  default: return 0;
  }
}

static bool
is_size (const struct word *w)
{
  return w->kind == K_SIZE || w->kind == K_SIZE64;
}

/* Parse the value of a numeric word.  0, or -1 if it is not a number. */
static int
parse_value (const struct word *w, const char *s, uint64_t *v)
{
  const char *end = parse_digits (s, v);
  unsigned shift;

  if (end == NULL)
    return -1;
  if (*end != '\0' && is_size (w) && (shift = suffix_shift (*end))) {
    *v = *v > (UINT64_MAX >> shift) ? UINT64_MAX : *v << shift;
    ++end;
  }
  return *end == '\0' ? 0 : -1;
}

/* Bounds as the user would write them: sizes with the largest exact
 * suffix ("4K..16M"), counts as plain numbers. */
static void
format_bound (const struct word *w, uint64_t v, char *buf, size_t len)
{
  static const char suffix[] = "GMK";
  unsigned i;

  for (i = 0; is_size (w) && v != 0 && i < 3; ++i) {
    unsigned shift = 30 - 10 * i;

    if (v % (UINT64_C(1) << shift) == 0) {
      snprintf (buf, len, "%" PRIu64 "%c", v >> shift, suffix[i]);
      return;
    }
  }
  snprintf (buf, len, "%" PRIu64, v);
}

static void
store (struct dio_options *o, const struct word *w, uint64_t v)
{
  char *field = (char *) o + w->offset;

  switch (w->kind) {
  case K_FLAG: *(bool *) field = w->flag; break;
  case K_NUM:
  case K_SIZE: *(uint32_t *) field = (uint32_t) v; break; /* max fits */
  case K_SIZE64: *(uint64_t *) field = v; break;
  case K_NUM_BOTH:
    o->acregmin = o->acregmax = (uint32_t) v;
    break;
  }
}

/* Check the value part of word (after '=', or NULL if there was none).
 * 0 and *v, or -1 with err set. */
static int
check_value (const struct word *w, const char *word, const char *value,
             uint64_t *v, char *err, size_t errlen)
{
  char lo[32], hi[32];

  if (w->kind == K_FLAG) {
    if (value == NULL)
      return 0;
    set_err (err, errlen, "%s: takes no value", word);
    return -1;
  }
  if (value == NULL || *value == '\0') {
    set_err (err, errlen, "%s: needs a value", word);
    return -1;
  }
  if (parse_value (w, value, v) == -1) {
    set_err (err, errlen, "%s: %s", word, w->why ? w->why : "not a number");
    return -1;
  }
  if (*v < w->min || *v > w->max) {
    format_bound (w, w->min, lo, sizeof lo);
    format_bound (w, w->max, hi, sizeof hi);
    if (w->why)
      set_err (err, errlen, "%s: %s", word, w->why);
    else
      set_err (err, errlen, "%s: out of range %s..%s", word, lo, hi);
    return -1;
  }
  return 0;
}

int
dio_options_set (struct dio_options *o, const char *word,
                 char *err, size_t errlen)
{
  const char *eq = strchr (word, '=');
  size_t keylen = eq ? (size_t) (eq - word) : strlen (word);
  const struct word *w = lookup (word, keylen);
  uint64_t v = 0;

  if (w == NULL) {
    set_err (err, errlen, "%s: unknown option", word);
    errno = EINVAL;
    return -1;
  }
  if (check_value (w, word, eq ? eq + 1 : NULL, &v, err, errlen) == -1) {
    errno = EINVAL;
    return -1;
  }
  store (o, w, v);
  return 0;
}

static bool
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

/* Trim blanks in place, so that "hard, rsize=1M" reads naturally in a
 * profile file. */
static char *
trim (char *s)
{
  char *end;

  while (is_blank (*s))
    ++s;
  end = s + strlen (s);
  while (end > s && is_blank (end[-1]))
    --end;
  *end = '\0';
  return s;
}

/* Words apply to a copy that replaces *o only if every word is good, so
 * a caller never sees half a list applied. */
int
dio_options_parse (struct dio_options *o, const char *list,
                   char *err, size_t errlen)
{
  struct dio_options tmp = *o;
  char *copy, *p, *comma;
  int r = -1;

  copy = strdup (list);
  if (copy == NULL) {
    set_err (err, errlen, "%s", strerror (errno));
    return -1;
  }
  if (*trim (copy) == '\0') {   /* no words at all */
    free (copy);
    return 0;
  }
  for (p = copy; p != NULL; p = comma ? comma + 1 : NULL) {
    char *word;

    comma = strchr (p, ',');
    if (comma)
      *comma = '\0';
    word = trim (p);
    if (*word == '\0') {
      set_err (err, errlen, "%s: empty option in list", list);
      errno = EINVAL;
      goto out;
    }
    if (dio_options_set (&tmp, word, err, errlen) == -1)
      goto out;
  }
  *o = tmp;
  r = 0;
 out:
  free (copy);
  return r;
}
