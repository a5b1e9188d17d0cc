/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio profile: check and list a mount profile file.
 *
 *   directio profile check [FILE]   parse it; "FILE: OK, N profiles"
 *   directio profile list [FILE]    a table: name, url, mountpoint, options
 *
 * FILE defaults to $DIRECTIO_PROFILES, else the installed default.  The
 * parser is the library's own (profile.c, compiled in as for the nbdkit
 * plugin), so an error names the file, the line and the word exactly as a
 * program using the profiles would see it.
 *
 * Threading: single-threaded. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "profile.h"

static void
usage (FILE *fp)
{
  fprintf (fp,
"Usage: directio profile check [FILE]\n"
"       directio profile list [FILE]\n"
"\n"
"check parses the mount profile file and reports the first error with\n"
"its file, line and word; list prints each profile's name, URL,\n"
"mountpoint and options.\n"
"\n"
"FILE defaults to $DIRECTIO_PROFILES, else %s.\n"
"\n"
"  -h, --help   print this help and exit\n"
"\n"
"Exit status: 0 if the file is good, 1 if not, 2 on a usage error.\n",
           dio_profiles_default_path ());
}

/* Load FILE (or the default); the parser's message on failure. */
static int
load (const char *file, struct dio_profiles *set)
{
  char err[1024];

  if (dio_profiles_load (file, set, err, sizeof err) == -1) {
    error_msg ("%s", err);
    return -1;
  }
  return 0;
}

static int
check (const char *file)
{
  struct dio_profiles set;

  if (load (file, &set) == -1)
    return EXIT_FAILURE;
  printf ("%s: OK, %zu profile%s\n", file, set.n, set.n == 1 ? "" : "s");
  dio_profiles_free (&set);
  return EXIT_SUCCESS;
}

static int
max_width (int w, const char *s)
{
  size_t n = strlen (s);
  return n > (size_t) w ? (int) n : w;
}

static int
list (const char *file)
{
  struct dio_profiles set;
  int wn = 4, wu = 3, wm = 10;  /* the titles' widths */

  if (load (file, &set) == -1)
    return EXIT_FAILURE;
  for (size_t i = 0; i < set.n; i++) {
    wn = max_width (wn, set.v[i].name);
    wu = max_width (wu, set.v[i].url);
    wm = max_width (wm, set.v[i].mountpoint);
  }
  printf ("%-*s  %-*s  %-*s  %s\n", wn, "NAME", wu, "URL", wm, "MOUNTPOINT",
          "OPTIONS");
  for (size_t i = 0; i < set.n; i++) {
    const struct dio_profile *p = &set.v[i];
    printf ("%-*s  %-*s  %-*s  %s\n", wn, p->name, wu, p->url, wm,
            p->mountpoint,
            p->options != NULL && *p->options != '\0' ? p->options : "-");
  }
  dio_profiles_free (&set);
  return EXIT_SUCCESS;
}

int
cmd_profile (int argc, char *argv[])
{
  static const struct option long_options[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *action, *file;
  int c;

  while ((c = getopt_long (argc, argv, "+h", long_options, NULL)) != -1) {
    switch (c) {
    case 'h':
      usage (stdout);
      return EXIT_SUCCESS;
    default:
      return usage_error ("bad option");
    }
  }
  if (optind >= argc)
    return usage_error ("need an action: check or list");
  action = argv[optind++];
  /* Options may follow the action too: "profile check --help". */
  while ((c = getopt_long (argc, argv, "h", long_options, NULL)) != -1) {
    switch (c) {
    case 'h':
      usage (stdout);
      return EXIT_SUCCESS;
    default:
      return usage_error ("bad option");
    }
  }
  if (argc - optind > 1)
    return usage_error ("%s: one FILE at most", action);
  file = optind < argc ? argv[optind] : dio_profiles_default_path ();
  if (strcmp (action, "check") == 0)
    return check (file);
  if (strcmp (action, "list") == 0)
    return list (file);
  return usage_error ("unknown action '%s': check or list", action);
}
