/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio: the operator's command.  main handles the global options and
 * hands the rest of the command line to a subcommand from the table.
 *
 *   directio [--help | --version]
 *   directio SUBCOMMAND [OPTION...] [ARG...]
 *
 * Threading: single-threaded until a subcommand starts threads. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

struct subcommand {
  const char *name;
  int (*fn) (int argc, char *argv[]);
  const char *summary;          /* one line for --help */
};

/* One row per subcommand, in the order --help lists them. */
static const struct subcommand subcommands[] = {
  { "cp", cmd_cp, "copy a file uncached, between local, NFS and stdio" },
  { "bench", cmd_bench, "measure direct (or cached) I/O to an NFS file" },
  { "run", cmd_run, "run a program with profile paths going to the engine" },
  { "profile", cmd_profile, "check or list a mount profile file" },
#ifdef HAVE_FUSE3
  { "mount", cmd_mount, "mount an export for every program (FUSE)" },
  { "umount", cmd_umount, "unmount what directio mount mounted" },
#endif
  { "nbd", cmd_nbd, "serve an NFS file as an NBD export, uncached" },
  { "stat", cmd_stat, "print running engine users' NFS counters (nfsiostat)" },
};

#define NR_SUBCOMMANDS (sizeof subcommands / sizeof subcommands[0])

static void
usage (FILE *fp)
{
  fprintf (fp,
           "Usage: directio SUBCOMMAND [OPTION...] [ARG...]\n"
           "       directio --help | --version\n"
           "\n"
           "Uncached (direct) I/O to NFS files from user space.\n"
           "\n"
           "Subcommands:\n");
  for (size_t i = 0; i < NR_SUBCOMMANDS; i++)
    fprintf (fp, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
  fprintf (fp,
           "\n"
           "'directio SUBCOMMAND --help' describes each one; see directio(1).\n");
}

static const struct subcommand *
find_subcommand (const char *name)
{
  for (size_t i = 0; i < NR_SUBCOMMANDS; i++)
    if (strcmp (subcommands[i].name, name) == 0)
      return &subcommands[i];
  return NULL;
}

int
main (int argc, char *argv[])
{
  static const struct option long_options[] = {
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  static char name[64];
  const struct subcommand *sub;
  int c;

  /* "+": stop at the subcommand; its options are its own. */
  while ((c = getopt_long (argc, argv, "+hV", long_options, NULL)) != -1) {
    switch (c) {
    case 'h':
      usage (stdout);
      return EXIT_SUCCESS;
    case 'V':
      printf ("directio %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    default:
      usage (stderr);
      return EXIT_USAGE;
    }
  }
  if (optind >= argc) {
    usage (stderr);
    return EXIT_USAGE;
  }
  sub = find_subcommand (argv[optind]);
#ifdef HAVE_FUSE3
  /* mount.fuse3 (fstab: "directio#PROFILE /mnt fuse ...") runs
   * "directio PROFILE /MOUNTPOINT -o OPTIONS": a mount, whose arguments
   * start at argv[optind]. */
  if (sub == NULL && argc - optind >= 2 && argv[optind + 1][0] == '/') {
    sub = find_subcommand ("mount");
    optind--;
  }
#endif
  if (sub == NULL)
    return usage_error ("unknown subcommand '%s'", argv[optind]);

  snprintf (name, sizeof name, "directio %s", sub->name);
  progname = name;
  /* Subcommands parse with getopt_long from a fresh start. */
  argv += optind;
  argc -= optind;
  optind = 0;
  return sub->fn (argc, argv);
}
