/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The process's mount profiles and path resolution.
 *
 * The profile file (DIRECTIO_PROFILES, else SYSCONFDIR/directio/
 * profiles.conf) is read once, on first need; a missing file at the
 * default place simply means no profiles, while a named file that cannot
 * be read, or any malformed line, makes every profile path fail with the
 * parser's "FILE:LINE: WORD: reason".  DIRECTIO_PROFILE (from `directio
 * run -p`) keeps one profile of the file, by name.
 * dio__profiles_reload() reads it again (for tests and tools).
 *
 * Threading: current and the reference counts are guarded by lock; a
 * loaded set is immutable, so readers use it unlocked while they hold a
 * reference. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "private.h"
#include "profile.h"
#include "profiles-global.h"

struct profset {
  unsigned refs;
  struct dio_profiles set;
  struct dio_profiles active;   /* the set, or a view of its one profile
                                   named by DIRECTIO_PROFILE */
  int err;                      /* 0, or why the file cannot be used */
  char msg[512];                /* its message */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct profset *current; /* holds a reference of its own */

/* Held across fork (fork.c). */
__attribute__ ((constructor))
static void
profiles_atfork (void)
{
  dio_fork_hold (&lock);
}

/* DIRECTIO_PROFILE (set by `directio run -p`): only that profile. */
static void
select_one (struct profset *ps)
{
  const char *name = secure_getenv ("DIRECTIO_PROFILE");
  const struct dio_profile *p;

  if (name == NULL || *name == '\0')
    return;
  p = dio_profiles_find (&ps->set, name);
  if (p == NULL) {
    ps->err = ENOENT;
    snprintf (ps->msg, sizeof ps->msg, "%s: DIRECTIO_PROFILE=%s: no such "
              "profile", ps->set.file ? ps->set.file
              : dio_profiles_default_path (), name);
    return;
  }
  ps->active.v = (struct dio_profile *) p;
  ps->active.n = 1;
}

static struct profset *
profset_load (void)
{
  const char *file = dio_profiles_default_path ();
  const char *env = secure_getenv ("DIRECTIO_PROFILES");
  struct profset *ps = calloc (1, sizeof *ps);

  if (ps == NULL)
    return NULL;
  ps->refs = 1;
  if (dio_profiles_load (file, &ps->set, ps->msg, sizeof ps->msg) == -1
      /* Nothing at the default place: no profiles, no error. */
      && !(errno == ENOENT && (env == NULL || *env == '\0')))
    ps->err = errno;
  ps->active = ps->set;
  if (ps->err == 0)
    select_one (ps);
  return ps;
}

static struct profset *
profset_acquire (void)
{
  struct profset *ps;

  pthread_mutex_lock (&lock);
  if (current == NULL)
    current = profset_load ();
  ps = current;
  if (ps)
    ps->refs++;
  pthread_mutex_unlock (&lock);
  return ps;
}

static void
profset_release (struct profset *ps)
{
  bool last;

  if (ps == NULL)
    return;
  pthread_mutex_lock (&lock);
  last = --ps->refs == 0;
  pthread_mutex_unlock (&lock);
  if (last) {
    dio_profiles_free (&ps->set);
    free (ps);
  }
}

int
dio__profiles_reload (void)
{
  struct profset *old, *ps;
  int r = 0;

  dio_error_context (NULL, NULL);       /* the profile set's own words */
  pthread_mutex_lock (&lock);
  old = current;
  current = NULL;
  pthread_mutex_unlock (&lock);
  profset_release (old);
  ps = profset_acquire ();
  if (ps == NULL)
    r = dio_error (ENOMEM, "profiles");
  else if (ps->err)
    r = dio_error_msg (ps->err, "%s", ps->msg);
  profset_release (ps);
  return r;
}

/* ---- paths ----------------------------------------------------------- */

/* Normalise an absolute path in place, resolving ".." lexically (profile
 * mountpoints are not directories the kernel could walk). */
static void
normalise_lexical (char *p)
{
  const char *in = p;
  size_t o = 0;

  while (*in) {
    const char *end;
    size_t len;

    while (*in == '/')
      in++;
    if (*in == '\0')
      break;
    end = strchrnul (in, '/');
    len = end - in;
    if (len == 2 && in[0] == '.' && in[1] == '.') {
      while (o > 0 && p[o - 1] != '/')
        o--;
      if (o > 0)
        o--;
    }
    else if (!(len == 1 && in[0] == '.')) {
      /* The output never overtakes the input: each component read
       * consumed at least its '/' and name. */
      p[o++] = '/';
      memmove (p + o, in, len);
      o += len;
    }
    in = end;
  }
  if (o == 0)
    p[o++] = '/';
  p[o] = '\0';
}

char *
dio_path_absolute (const char *path)
{
  char *s;

  if (path[0] == '/')
    s = strdup (path);
  else {
    char *cwd = getcwd (NULL, 0);
    if (cwd == NULL)
      return NULL;
    if (asprintf (&s, "%s/%s", cwd, path) == -1)
      s = NULL;
    free (cwd);
  }
  if (s)
    normalise_lexical (s);
  else
    errno = ENOMEM;
  return s;
}

/* ---- resolution ------------------------------------------------------ */

int
dio__path_is_managed (const char *path)
{
  struct profset *ps;
  char *abs;
  int r = 0;

  dio_error_context (NULL, NULL);       /* the profile set's own words */
  if (path == NULL || path[0] == '\0' || strncmp (path, "nfs://", 6) == 0)
    return 0;
  ps = profset_acquire ();
  if (ps == NULL)
    return dio_error (ENOMEM, "profiles");
  if (ps->err)
    r = dio_error_msg (ps->err, "%s", ps->msg);
  else if (ps->active.n > 0) {
    abs = dio_path_absolute (path);
    if (abs == NULL)
      r = dio_error (errno, "%s", path);
    else
      r = dio_profiles_match (&ps->active, abs, NULL) != NULL;
    free (abs);
  }
  profset_release (ps);
  return r;
}

int
dio__have_profiles (void)
{
  struct profset *ps;
  int r;

  dio_error_context (NULL, NULL);       /* the profile set's own words */
  ps = profset_acquire ();
  if (ps == NULL)
    return dio_error (ENOMEM, "profiles");
  if (ps->err)
    r = dio_error_msg (ps->err, "%s", ps->msg);
  else
    r = ps->active.n > 0;
  profset_release (ps);
  return r;
}

static int
resolve_url (const char *path, struct dio_options *o, struct dio_url *u)
{
  dio_options_init (o);
  /* A URL names one file of an export: direct, as this library is for,
   * unless the URL asks for noforcedirectio. */
  o->forcedirectio = true;
  return dio_url_parse (path, o, u);
}

/* u->path += "/" rest. */
static int
append_rest (struct dio_url *u, const char *rest)
{
  char *s;

  if (*rest == '\0')
    return 0;
  if (asprintf (&s, "%s/%s", strcmp (u->path, "/") ? u->path : "", rest)
      == -1)
    return -1;
  free (u->path);
  u->path = s;
  return 0;
}

static int
resolve_profile (const struct dio_profile *prof, const char *rest,
                 struct dio_options *o, struct dio_url *u)
{
  char err[300];

  dio_options_init (o);
  if (dio_url_parse (prof->url, o, u) == -1)
    return dio_error_before ("profile [%s]: %s", prof->name, prof->url);
  if (prof->options
      && dio_options_parse (o, prof->options, err, sizeof err) == -1) {
    dio_url_free (u);
    return dio_error_msg (EINVAL, "profile [%s]: %s", prof->name, err);
  }
  if (append_rest (u, rest) == -1) {
    dio_url_free (u);
    return dio_error (ENOMEM, "profile [%s]", prof->name);
  }
  return 0;
}

static int
resolve_path (const char *path, struct dio_options *o, struct dio_url *u)
{
  struct profset *ps = profset_acquire ();
  const struct dio_profile *prof;
  const char *rest;
  char *abs = NULL;
  int r = -1;

  if (ps == NULL)
    return dio_error (ENOMEM, "profiles");
  if (ps->err)
    dio_error_msg (ps->err, "%s", ps->msg);
  else if ((abs = dio_path_absolute (path)) == NULL)
    dio_error (errno, "absolute path");
  else if ((prof = dio_profiles_match (&ps->active, abs, &rest)) == NULL)
    dio_error_msg (ENOENT, "not an nfs:// URL, and no profile covers it "
                   "(profiles: %s)",
                   ps->set.file ? ps->set.file : dio_profiles_default_path ());
  else
    r = resolve_profile (prof, rest, o, u);
  free (abs);
  profset_release (ps);
  return r;
}

int
dio_resolve (const char *path, const char *options,
             struct dio_options *o, struct dio_url *u)
{
  char err[300];

  if (path[0] == '\0')
    return dio_error_msg (ENOENT, "empty path");
  if (strncmp (path, "nfs://", 6) == 0) {
    if (resolve_url (path, o, u) == -1)
      return -1;
  }
  else if (resolve_path (path, o, u) == -1)
    return -1;
  if (options && dio_options_parse (o, options, err, sizeof err) == -1) {
    dio_url_free (u);
    return dio_error_msg (EINVAL, "options: %s", err);
  }
  return 0;
}
