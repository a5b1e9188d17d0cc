/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Mount profiles: parse the INI file (profile.h; directio(3), MOUNT
 * PROFILES) into an immutable set, and find the profile a path falls under.
 *
 * The parser takes a byte buffer, not a C string, so that a file with a
 * NUL in it is reported rather than silently cut short, and so that
 * tests and the fuzzer (tests/fuzz_profile.c) drive exactly the code a
 * real file goes through.  Errors name FILE:LINE, the offending word and
 * why; the first error stops the parse.  No threads, no globals.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "profile.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

/* A profile file is a few lines per export; anything bigger is not one
 * (and /dev/zero must not exhaust memory). */
#define MAX_FILE_SIZE (16 * 1024 * 1024)

#define SECTION_CHARS \
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

enum { KEY_URL, KEY_MOUNTPOINT, KEY_OPTIONS, NR_KEYS };

struct parser {
  const char *file;             /* for messages */
  unsigned lineno;              /* of the line being parsed */
  struct dio_profiles *set;     /* being built; last entry is current */
  size_t cap;                   /* allocated entries of set->v */
  unsigned key_line[NR_KEYS];   /* line of each key in the current
                                 * section, 0 if not seen yet */
  char *err;
  size_t errlen;
};

static int __attribute__ ((format (printf, 3, 4)))
fail (struct parser *ps, unsigned line, const char *fmt, ...)
{
  va_list ap;
  int n;

  if (ps->err != NULL && ps->errlen > 0) {
    n = snprintf (ps->err, ps->errlen, "%s:%u: ", ps->file, line);
    if (n >= 0 && (size_t) n < ps->errlen) {
      va_start (ap, fmt);
      vsnprintf (ps->err + n, ps->errlen - n, fmt, ap);
      va_end (ap);
    }
  }
  errno = EINVAL;
  return -1;
}

/* "FILE: reason" for errors that are not about a line (errno kept). */
static int
fail_errno (const char *file, int e, char *err, size_t errlen)
{
  if (err != NULL && errlen > 0)
    snprintf (err, errlen, "%s: %s", file, strerror (e));
  errno = e;
  return -1;
}

static int
oom (struct parser *ps)
{
  return fail_errno (ps->file, ENOMEM, ps->err, ps->errlen);
}

static struct dio_profile *
current (struct parser *ps)
{
  return ps->set->n > 0 ? &ps->set->v[ps->set->n - 1] : NULL;
}

static bool
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trim in place; '\r' is space, which is all CRLF files need. */
static char *
trim (char *s)
{
  char *end;

  while (is_space (*s))
    ++s;
  end = s + strlen (s);
  while (end > s && is_space (end[-1]))
    --end;
  *end = '\0';
  return s;
}

/* The part of path below mountpoint mp ("" for mp itself), or NULL if
 * path is not under mp.  Component-wise: /u02/ora is not above
 * /u02/oradata2. */
static const char *
below (const char *path, const char *mp)
{
  size_t len = strlen (mp);

  if (strcmp (mp, "/") == 0)
    return path[0] == '/' ? path + 1 : NULL;
  if (strncmp (path, mp, len) != 0)
    return NULL;
  if (path[len] == '\0')
    return path + len;
  if (path[len] == '/')
    return path + len + 1;
  return NULL;
}

static int
save (struct parser *ps, char **field, const char *value, size_t len)
{
  *field = strndup (value, len);
  return *field ? 0 : oom (ps);
}

static int
set_url (struct parser *ps, struct dio_profile *prof, const char *value)
{
  if (strncmp (value, "nfs://", 6) != 0)
    return fail (ps, ps->lineno, "%s: url does not start with nfs://", value);
  return save (ps, &prof->url, value, strlen (value));
}

/* Why mp is not an acceptable mountpoint, or NULL.  Paths are matched
 * as strings, so only one spelling of each directory may be allowed. */
static const char *
mountpoint_problem (const char *mp)
{
  const char *p;

  if (mp[0] != '/')
    return "mountpoint is not an absolute path";
  if (strstr (mp, "//") != NULL)
    return "mountpoint has an empty component (//)";
  for (p = mp; p != NULL; p = strchr (p + 1, '/')) {
    size_t len = strcspn (p + 1, "/");

    if (len > 0 && len <= 2 && strncmp (p + 1, "..", len) == 0)
      return "mountpoint has a . or .. component";
  }
  return NULL;
}

static int
set_mountpoint (struct parser *ps, struct dio_profile *prof,
                const char *value)
{
  const char *why = mountpoint_problem (value);
  size_t len = strlen (value);

  if (why != NULL)
    return fail (ps, ps->lineno, "%s: %s", value, why);
  if (len > 1 && value[len - 1] == '/')
    --len;
  return save (ps, &prof->mountpoint, value, len);
}

static int
set_options (struct parser *ps, struct dio_profile *prof, const char *value)
{
  char msg[512];

  if (dio_options_parse (&prof->opts, value, msg, sizeof msg) == -1) {
    if (errno == ENOMEM)
      return oom (ps);
    return fail (ps, ps->lineno, "%s", msg);
  }
  return save (ps, &prof->options, value, strlen (value));
}

static const struct {
  const char *name;
  int (*set) (struct parser *, struct dio_profile *, const char *value);
} keys[NR_KEYS] = {
  [KEY_URL] = { "url", set_url },
  [KEY_MOUNTPOINT] = { "mountpoint", set_mountpoint },
  [KEY_OPTIONS] = { "options", set_options },
};

/* A section is checked for its required keys when the next one starts
 * (or the file ends), and reported at its [name] line. */
static int
finish_section (struct parser *ps)
{
  const struct dio_profile *prof = current (ps);

  if (prof == NULL)
    return 0;
  if (prof->url == NULL)
    return fail (ps, prof->line, "[%s]: missing url", prof->name);
  if (prof->mountpoint == NULL)
    return fail (ps, prof->line, "[%s]: missing mountpoint", prof->name);
  return 0;
}

static int
add_section (struct parser *ps, const char *name)
{
  struct dio_profiles *set = ps->set;
  struct dio_profile *prof;

  if (set->n == ps->cap) {
    size_t cap = ps->cap ? ps->cap * 2 : 8;
    struct dio_profile *v;

    if (cap > SIZE_MAX / sizeof *v)
      return oom (ps);
    v = realloc (set->v, cap * sizeof *v);
    if (v == NULL)
      return oom (ps);
    set->v = v;
    ps->cap = cap;
  }
  prof = &set->v[set->n];
  memset (prof, 0, sizeof *prof);
  prof->name = strdup (name);
  if (prof->name == NULL)
    return oom (ps);
  prof->line = ps->lineno;
  dio_options_init (&prof->opts);
  set->n++;
  memset (ps->key_line, 0, sizeof ps->key_line);
  return 0;
}

/* line is trimmed and starts with '['. */
static int
parse_header (struct parser *ps, char *line)
{
  size_t len = strlen (line);
  char *name;

  if (len < 2 || line[len - 1] != ']')
    return fail (ps, ps->lineno,
                 "%s: malformed section header (expected [name])", line);
  line[len - 1] = '\0';
  name = trim (line + 1);
  if (*name == '\0')
    return fail (ps, ps->lineno, "[]: empty section name");
  if (name[strspn (name, SECTION_CHARS)] != '\0')
    return fail (ps, ps->lineno,
                 "[%s]: invalid section name (use A-Z a-z 0-9 _ . -)", name);
  if (finish_section (ps) == -1)
    return -1;
  return add_section (ps, name);
}

static size_t
find_key (const char *key)
{
  size_t i;

  for (i = 0; i < NR_KEYS; ++i)
    if (strcmp (keys[i].name, key) == 0)
      break;
  return i;
}

/* line is trimmed, not empty, not a comment, not a header. */
static int
parse_keyval (struct parser *ps, char *line)
{
  struct dio_profile *prof = current (ps);
  char *eq = strchr (line, '=');
  char *key, *value;
  size_t i;

  if (eq == NULL)
    return fail (ps, ps->lineno, "%s: %s", line,
                 prof ? "expected key = value" : "outside a section");
  *eq = '\0';
  key = trim (line);
  value = trim (eq + 1);
  if (*key == '\0')
    return fail (ps, ps->lineno, "=%s: missing key before =", value);
  if (prof == NULL)
    return fail (ps, ps->lineno,
                 "%s: outside a section (no [name] above it)", key);
  i = find_key (key);
  if (i == NR_KEYS)
    return fail (ps, ps->lineno,
                 "%s: unknown key (expected url, mountpoint or options)", key);
  if (ps->key_line[i] != 0)
    return fail (ps, ps->lineno, "%s: duplicate key (first at line %u)",
                 key, ps->key_line[i]);
  if (*value == '\0')
    return fail (ps, ps->lineno, "%s: empty value", key);
  ps->key_line[i] = ps->lineno;
  return keys[i].set (ps, prof, value);
}

static int
parse_line (struct parser *ps, char *line)
{
  line = trim (line);
  if (*line == '\0' || *line == '#' || *line == ';')
    return 0;
  if (*line == '[')
    return parse_header (ps, line);
  return parse_keyval (ps, line);
}

/* Copy n bytes into the reusable NUL-terminated buffer *buf. */
static int
copy_line (char **buf, size_t *cap, const char *start, size_t n)
{
  if (n >= *cap) {
    char *p = realloc (*buf, n + 1);

    if (p == NULL)
      return -1;
    *buf = p;
    *cap = n + 1;
  }
  memcpy (*buf, start, n);
  (*buf)[n] = '\0';
  return 0;
}

static int
parse_lines (struct parser *ps, const char *text, size_t len)
{
  char *line = NULL;
  size_t pos = 0, cap = 0;
  int r = 0;

  /* Editors that write CRLF often write a UTF-8 byte order mark too. */
  if (len >= 3 && memcmp (text, "\xef\xbb\xbf", 3) == 0)
    pos = 3;
  while (r == 0 && pos < len) {
    const char *start = text + pos;
    const char *nl = memchr (start, '\n', len - pos);
    size_t n = nl ? (size_t) (nl - start) : len - pos;

    pos += n + (nl != NULL);
    ps->lineno++;
    if (memchr (start, '\0', n) != NULL)
      r = fail (ps, ps->lineno, "line contains a NUL byte");
    else if (copy_line (&line, &cap, start, n) == -1)
      r = oom (ps);
    else
      r = parse_line (ps, line);
  }
  free (line);
  return r;
}

/* Profiles sorted by cmp, or NULL (ENOMEM). */
static const struct dio_profile **
sorted (const struct dio_profiles *set,
        int (*cmp) (const void *, const void *))
{
  const struct dio_profile **s;
  size_t i;

  s = calloc (set->n, sizeof *s);
  if (s == NULL)
    return NULL;
  for (i = 0; i < set->n; ++i)
    s[i] = &set->v[i];
  qsort (s, set->n, sizeof *s, cmp);
  return s;
}

static int
cmp_line (const struct dio_profile *x, const struct dio_profile *y)
{
  return (x->line > y->line) - (x->line < y->line);
}

static int
cmp_name (const void *a, const void *b)
{
  const struct dio_profile *x = *(const struct dio_profile *const *) a;
  const struct dio_profile *y = *(const struct dio_profile *const *) b;
  int c = strcmp (x->name, y->name);

  return c != 0 ? c : cmp_line (x, y);
}

/* Duplicates sort together, in line order; report the earliest repeat. */
static int
check_duplicates (struct parser *ps)
{
  const struct dio_profile **s, *first = NULL, *dup = NULL;
  size_t i, n = ps->set->n;

  if (n < 2)
    return 0;
  s = sorted (ps->set, cmp_name);
  if (s == NULL)
    return oom (ps);
  for (i = 1; i < n; ++i)
    if (strcmp (s[i - 1]->name, s[i]->name) == 0 &&
        (dup == NULL || s[i]->line < dup->line)) {
      first = s[i - 1];
      dup = s[i];
    }
  free (s);
  if (dup != NULL)
    return fail (ps, dup->line, "[%s]: duplicate section (first at line %u)",
                 dup->name, first->line);
  return 0;
}

/* Order mountpoints with '/' below every other character, so that
 * everything under a mountpoint sorts right after it: /a, /a/b, /a-b. */
static int
cmp_mountpoint (const void *a, const void *b)
{
  const struct dio_profile *x = *(const struct dio_profile *const *) a;
  const struct dio_profile *y = *(const struct dio_profile *const *) b;
  const unsigned char *p = (const unsigned char *) x->mountpoint;
  const unsigned char *q = (const unsigned char *) y->mountpoint;
  int cp, cq;

  while (*p != '\0' && *p == *q) {
    ++p;
    ++q;
  }
  cp = *p == '\0' ? 0 : *p == '/' ? 1 : *p + 2;
  cq = *q == '\0' ? 0 : *q == '/' ? 1 : *q + 2;
  return cp != cq ? cp - cq : cmp_line (x, y);
}

/* Overlapping mountpoints would make a path's profile depend on the
 * order of the file.  In cmp_mountpoint order the mountpoints under s[i]
 * are the run right after it, so this is linear in the size of the file;
 * of all overlapping pairs, report the one whose later section is
 * earliest in the file. */
static int
check_overlaps (struct parser *ps)
{
  const struct dio_profile **s, *early = NULL, *late = NULL;
  size_t i, j, n = ps->set->n;

  if (n < 2)
    return 0;
  s = sorted (ps->set, cmp_mountpoint);
  if (s == NULL)
    return oom (ps);
  for (i = 0; i < n; ++i)
    for (j = i + 1; j < n && below (s[j]->mountpoint, s[i]->mountpoint); ++j) {
      bool swap = s[i]->line > s[j]->line;
      const struct dio_profile *l = swap ? s[i] : s[j];

      if (late == NULL || l->line < late->line) {
        late = l;
        early = swap ? s[j] : s[i];
      }
    }
  free (s);
  if (late != NULL)
    return fail (ps, late->line,
                 "[%s]: mountpoint %s overlaps %s of [%s] (line %u)",
                 late->name, late->mountpoint, early->mountpoint,
                 early->name, early->line);
  return 0;
}

int
dio_profiles_parse (const char *name, const char *text, size_t len,
                    struct dio_profiles *out, char *err, size_t errlen)
{
  struct dio_profiles set = { 0 };
  struct parser ps = {
    .file = name ? name : "(string)", .set = &set, .err = err, .errlen = errlen
  };
  int e;

  memset (out, 0, sizeof *out);
  set.file = strdup (ps.file);
  if (set.file == NULL)
    return oom (&ps);
  if (parse_lines (&ps, text, len) == -1 ||
      finish_section (&ps) == -1 ||
      check_duplicates (&ps) == -1 ||
      check_overlaps (&ps) == -1) {
    e = errno;
    dio_profiles_free (&set);
    errno = e;
    return -1;
  }
  *out = set;
  return 0;
}

/* Read all of file into a new buffer.  0, or -1 with errno. */
static int
read_all (const char *file, char **text, size_t *len)
{
  int fd, e;
  char *buf = NULL, *p;
  size_t cap = 0, n = 0;
  ssize_t r;

  fd = open (file, O_RDONLY | O_CLOEXEC);
  if (fd == -1)
    return -1;
  for (;;) {
    if (n == cap) {
      e = EFBIG;
      if (cap >= MAX_FILE_SIZE)
        goto err;
      cap = cap ? cap * 2 : 4096;
      e = ENOMEM;
      p = realloc (buf, cap);
      if (p == NULL)
        goto err;
      buf = p;
    }
    r = read (fd, buf + n, cap - n);
    if (r == 0)
      break;
    if (r > 0)
      n += (size_t) r;
    else if (errno != EINTR) {
      e = errno;
      goto err;
    }
  }
  close (fd);
  *text = buf;
  *len = n;
  return 0;

 err:
  free (buf);
  close (fd);
  errno = e;
  return -1;
}

int
dio_profiles_load (const char *file, struct dio_profiles *out,
                   char *err, size_t errlen)
{
  char *text;
  size_t len;
  int r, e;

  memset (out, 0, sizeof *out);
  if (read_all (file, &text, &len) == -1)
    return fail_errno (file, errno, err, errlen);
  r = dio_profiles_parse (file, text, len, out, err, errlen);
  e = errno;
  free (text);
  errno = e;
  return r;
}

void
dio_profiles_free (struct dio_profiles *p)
{
  size_t i;

  if (p == NULL)
    return;
  for (i = 0; i < p->n; ++i) {
    free (p->v[i].name);
    free (p->v[i].url);
    free (p->v[i].mountpoint);
    free (p->v[i].options);
  }
  free (p->v);
  free (p->file);
  memset (p, 0, sizeof *p);
}

const struct dio_profile *
dio_profiles_match (const struct dio_profiles *p, const char *path,
                    const char **rest)
{
  const struct dio_profile *best = NULL;
  const char *best_rest = NULL;
  size_t i, best_len = 0;

  for (i = 0; p != NULL && path != NULL && path[0] == '/' && i < p->n; ++i) {
    const char *r = below (path, p->v[i].mountpoint);
    size_t len = strlen (p->v[i].mountpoint);

    if (r != NULL && (best == NULL || len > best_len)) {
      best = &p->v[i];
      best_rest = r;
      best_len = len;
    }
  }
  if (rest != NULL)
    *rest = best_rest;
  return best;
}

const struct dio_profile *
dio_profiles_find (const struct dio_profiles *p, const char *name)
{
  size_t i;

  for (i = 0; p != NULL && name != NULL && i < p->n; ++i)
    if (strcmp (p->v[i].name, name) == 0)
      return &p->v[i];
  return NULL;
}

const char *
dio_profiles_default_path (void)
{
  const char *s;

#ifdef __GLIBC__
  /* A setuid program must not be pointed at another file by its caller. */
  s = secure_getenv ("DIRECTIO_PROFILES");
#else
  s = getenv ("DIRECTIO_PROFILES");
#endif
  return s != NULL && *s != '\0' ? s : SYSCONFDIR "/directio/profiles.conf";
}
