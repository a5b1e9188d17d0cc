/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio run: run a program with the LD_PRELOAD shim and the profiles.
 *
 *   directio run [-f FILE] [-p PROFILE] [--] COMMAND [ARG...]
 *
 * The profile file is checked first (a bad line is reported with its
 * file, line and word, exit 2), so that the program does not start only
 * to find every profile path failing.  Then the environment is set —
 * LD_PRELOAD gains libdirectio-preload.so, DIRECTIO_PROFILES names the
 * file by its absolute path, DIRECTIO_PROFILE the one profile of -p — and
 * COMMAND replaces this process (exit 127 if it cannot be found, 126 if it
 * cannot be run, as env(1)).
 *
 * The shim is $DIRECTIO_PRELOAD if set; else the build tree's when this
 * program runs from a build tree (found beside the executable); else the
 * installed one in $(libdir).  A shim outside $(libdir) brings its
 * directory into LD_LIBRARY_PATH, so that the libdirectio.so.0 built
 * with it is the one loaded.
 *
 * Threading: single-threaded. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "profile.h"

#ifndef LIBDIR
#define LIBDIR "/usr/local/lib"
#endif

#define SHIM_NAME "libdirectio-preload.so"

struct run_opts {
  const char *file;             /* -f, or NULL: the default */
  const char *profile;          /* -p, or NULL: all of them */
  char **argv;                  /* COMMAND [ARG...] */
};

static void
usage (FILE *fp)
{
  fprintf (fp,
"Usage: directio run [-f FILE] [-p PROFILE] [--] COMMAND [ARG...]\n"
"\n"
"Run COMMAND with libdirectio-preload.so, so that the paths under the\n"
"profiles' mountpoints open through the uncached NFS engine.\n"
"\n"
"  -f, --file=FILE        the profile file (default: $DIRECTIO_PROFILES,\n"
"                         else %s)\n"
"  -p, --profile=PROFILE  only this profile's mountpoint\n"
"  -h, --help             print this help and exit\n"
"\n"
"Exit status: COMMAND's; 2 on a usage error or a bad profile file, 126\n"
"if COMMAND cannot be run, 127 if it cannot be found.\n",
           dio_profiles_default_path ());
}

/* Parse the command line.  -1 to exit with *status. */
static int
parse_args (int argc, char *argv[], struct run_opts *o, int *status)
{
  static const struct option long_options[] = {
    { "file", required_argument, NULL, 'f' },
    { "profile", required_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  *o = (struct run_opts) { 0 };
  *status = EXIT_USAGE;
  /* "+": options end at COMMAND, whose own options are its own. */
  while ((c = getopt_long (argc, argv, "+f:p:h", long_options, NULL)) != -1) {
    switch (c) {
    case 'f': o->file = optarg; break;
    case 'p': o->profile = optarg; break;
    case 'h':
      usage (stdout);
      *status = EXIT_SUCCESS;
      return -1;
    default:
      usage_error ("bad option");
      return -1;
    }
  }
  if (optind >= argc) {
    usage_error ("need a COMMAND to run");
    return -1;
  }
  if (o->file != NULL && *o->file == '\0') {
    usage_error ("--file: empty file name");
    return -1;
  }
  o->argv = &argv[optind];
  return 0;
}

/* Load and check the profile file, and -p's name in it. */
static int
check_profiles (const char *file, const char *profile)
{
  struct dio_profiles set;
  char err[1024];
  int r = 0;

  if (dio_profiles_load (file, &set, err, sizeof err) == -1) {
    error_msg ("%s", err);
    return -1;
  }
  if (set.n == 0)
    error_msg ("warning: %s: no profiles: no path will go to the engine",
               file);
  if (profile != NULL && dio_profiles_find (&set, profile) == NULL) {
    error_msg ("%s: no profile named '%s'", file, profile);
    r = -1;
  }
  dio_profiles_free (&set);
  return r;
}

static bool
exists (const char *path)
{
  return access (path, R_OK) == 0;
}

/* The shim to preload, as an absolute path into buf (PATH_MAX). */
static int
find_shim (char *buf)
{
  static const char *const rel[] = {
    "../preload/.libs/",        /* tools/directio, not libtool-wrapped */
    "../../preload/.libs/",     /* tools/.libs/directio or lt-directio */
  };
  const char *env = getenv ("DIRECTIO_PRELOAD");
  char exe[PATH_MAX], cand[PATH_MAX];
  const char *dir;
  ssize_t n;
  int len;

  if (env != NULL && *env != '\0') {
    if (realpath (env, buf) == NULL || !exists (buf)) {
      error_msg ("DIRECTIO_PRELOAD=%s: %s", env, strerror (errno));
      return -1;
    }
    return 0;
  }
  n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    dir = dirname (exe);
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
      len = snprintf (cand, sizeof cand, "%s/%s%s", dir, rel[i], SHIM_NAME);
      if (len > 0 && len < (int) sizeof cand && exists (cand)
          && realpath (cand, buf) != NULL)
        return 0;
    }
  }
  len = snprintf (buf, PATH_MAX, "%s/%s", LIBDIR, SHIM_NAME);
  if (len < 0 || len >= PATH_MAX || !exists (buf)) {
    error_msg ("%s/%s: %s (set DIRECTIO_PRELOAD to the shim's path)", LIBDIR,
               SHIM_NAME, strerror (errno));
    return -1;
  }
  return 0;
}

/* name=first, or name="first SEP old" when name is set and not empty. */
static int
prepend_env (const char *name, const char *first, char sep)
{
  const char *old = getenv (name);
  char *v;
  int r;

  if (old == NULL || *old == '\0')
    return setenv (name, first, 1);
  if (asprintf (&v, "%s%c%s", first, sep, old) == -1)
    return -1;
  r = setenv (name, v, 1);
  free (v);
  return r;
}

static int
set_environment (const char *shim, const char *file, const char *profile)
{
  char copy[PATH_MAX], dir[PATH_MAX], libdir[PATH_MAX];

  snprintf (copy, sizeof copy, "%s", shim);
  snprintf (dir, sizeof dir, "%s", dirname (copy));
  if (realpath (LIBDIR, libdir) == NULL)
    snprintf (libdir, sizeof libdir, "%s", LIBDIR);
  if (prepend_env ("LD_PRELOAD", shim, ' ') == -1
      || setenv ("DIRECTIO_PROFILES", file, 1) == -1
      || (profile ? setenv ("DIRECTIO_PROFILE", profile, 1)
          : unsetenv ("DIRECTIO_PROFILE")) == -1
      || (strcmp (dir, libdir) != 0
          && prepend_env ("LD_LIBRARY_PATH", dir, ':') == -1)) {
    error_msg ("setting the environment: %s", strerror (errno));
    return -1;
  }
  return 0;
}

int
cmd_run (int argc, char *argv[])
{
  struct run_opts o;
  char file[PATH_MAX], shim[PATH_MAX];
  const char *name;
  int status;

  if (parse_args (argc, argv, &o, &status) == -1)
    return status;
  name = o.file ? o.file : dio_profiles_default_path ();
  if (check_profiles (name, o.profile) == -1)
    return EXIT_USAGE;
  /* Absolute: the program may change directory before it needs it. */
  if (realpath (name, file) == NULL) {
    error_msg ("%s: %s", name, strerror (errno));
    return EXIT_USAGE;
  }
  if (find_shim (shim) == -1 || set_environment (shim, file, o.profile) == -1)
    return EXIT_FAILURE;
  fflush (NULL);
  execvp (o.argv[0], o.argv);
  status = errno == ENOENT ? 127 : 126;
  error_msg ("%s: %s", o.argv[0], strerror (errno));
  return status;
}
