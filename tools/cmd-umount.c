/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio umount MOUNTPOINT: unmount what directio mount mounted (as
 * fusermount3 -u does; through it when not root), saying which
 * mountpoint is busy when it is.  The daemon then exits.
 *
 * Threading: single-threaded. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static void
umount_usage (FILE *fp)
{
  fprintf (fp,
"Usage: directio umount MOUNTPOINT\n"
"\n"
"Unmount MOUNTPOINT, mounted by directio mount; its daemon then exits.\n"
"A mount in use is left mounted, and the error says so.\n"
"\n"
"  -h, --help   print this help and exit\n"
"\n"
"Exit status: 0 unmounted, 1 failure, 2 usage error.\n");
}

static int
fusermount_u (const char *mp)
{
  int st;
  pid_t pid = fork ();

  if (pid == -1) {
    error_msg ("fork: %s", strerror (errno));
    return EXIT_FAILURE;
  }
  if (pid == 0) {
    execlp ("fusermount3", "fusermount3", "-u", "--", mp, (char *) NULL);
    fprintf (stderr, "%s: fusermount3: %s\n", progname, strerror (errno));
    _exit (127);
  }
  if (waitpid (pid, &st, 0) == -1)
    return EXIT_FAILURE;
  return WIFEXITED (st) && WEXITSTATUS (st) == 0 ? EXIT_SUCCESS
    : EXIT_FAILURE;
}

int
cmd_umount (int argc, char *argv[])
{
  static const struct option long_options[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *mp;
  int c;

  while ((c = getopt_long (argc, argv, "h", long_options, NULL)) != -1)
    switch (c) {
    case 'h':
      umount_usage (stdout);
      return EXIT_SUCCESS;
    default:
      return usage_error ("bad option");
    }
  if (argc - optind != 1)
    return usage_error ("need one MOUNTPOINT");
  mp = argv[optind];
  if (umount2 (mp, UMOUNT_NOFOLLOW) == 0)
    return EXIT_SUCCESS;
  switch (errno) {
  case EBUSY:
    error_msg ("%s: busy: a process has a file, a directory or its working "
               "directory open there (see fuser -m %s)", mp, mp);
    return EXIT_FAILURE;
  case EINVAL:
    error_msg ("%s: not a mountpoint", mp);
    return EXIT_FAILURE;
  case EPERM:
    return fusermount_u (mp);   /* not root: the setuid helper */
  default:
    error_msg ("%s: %s", mp, strerror (errno));
    return EXIT_FAILURE;
  }
}
