/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A process using the engine for test-directio-stat.sh: known I/O, then
 * it waits, so that `directio stat` can read its counters.
 *
 *   stat-user URL WRITES READS SIZE [CACHED]
 *
 * Writes WRITES blocks of SIZE bytes (one after another, from offset 0),
 * reads READS blocks of SIZE bytes back, then CACHED (default 0) times
 * the first 4096 bytes in buffered mode (directio DIRECTIO_OFF), prints
 * "ready PID" and waits until its standard input ends (writing SIZE bytes
 * at offset 0 again, and printing "wrote", for each "w" it reads there);
 * then closes the file and exits 0 (or,
 * with STAT_USER_EXEC set, runs that shell command in its place, without
 * closing or exiting: a process that calls exec).  Any
 * failure: a message and exit 1. */
#include <config.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "directio.h"

int
main (int argc, char *argv[])
{
  long writes, reads, size;
  char *buf, c;
  int fd, cfd = -1;

  if (argc != 5 && argc != 6) {
    fprintf (stderr, "usage: stat-user URL WRITES READS SIZE [CACHED]\n");
    return 2;
  }
  writes = atol (argv[2]);
  reads = atol (argv[3]);
  size = atol (argv[4]);
  buf = malloc (size > 0 ? size : 1);
  if (buf == NULL)
    return 1;
  memset (buf, 'x', size);
  fd = dio_open (argv[1], O_RDWR | O_CREAT | O_DIRECT, 0644);
  if (fd == -1) {
    fprintf (stderr, "stat-user: %s\n", dio_last_error ());
    return 1;
  }
  for (long i = 0; i < writes; i++)
    if (dio_pwrite (fd, buf, size, i * size) != size) {
      fprintf (stderr, "stat-user: write: %s\n", dio_last_error ());
      return 1;
    }
  for (long i = 0; i < reads; i++)
    if (dio_pread (fd, buf, size, (i % (writes ? writes : 1)) * size)
        != size) {
      fprintf (stderr, "stat-user: read: %s\n", dio_last_error ());
      return 1;
    }
  if (argc == 6 && atol (argv[5]) > 0) {
    /* A descriptor without O_DIRECT, the file switched to buffered. */
    cfd = dio_open (argv[1], O_RDONLY);
    if (cfd == -1 || directio (cfd, DIRECTIO_OFF) == -1) {
      fprintf (stderr, "stat-user: buffered: %s\n", dio_last_error ());
      return 1;
    }
  }
  for (long i = 0; argc == 6 && i < atol (argv[5]); i++)
    if (dio_pread (cfd, buf, 4096, 0) != 4096) {
      fprintf (stderr, "stat-user: cached read: %s\n", dio_last_error ());
      return 1;
    }
  printf ("ready %d\n", (int) getpid ());
  fflush (stdout);
  /* Each "w" on stdin: one more write of SIZE bytes at 0, then "wrote". */
  while (read (0, &c, 1) > 0)
    if (c == 'w') {
      if (dio_pwrite (fd, buf, size, 0) != size) {
        fprintf (stderr, "stat-user: write: %s\n", dio_last_error ());
        return 1;
      }
      printf ("wrote\n");
      fflush (stdout);
    }
  if (getenv ("STAT_USER_EXEC")) {
    /* Become another program without exiting: the stats file stays. */
    execlp ("sh", "sh", "-c", getenv ("STAT_USER_EXEC"), (char *) NULL);
    perror ("stat-user: exec sh");
    return 1;
  }
  if (cfd != -1 && dio_close (cfd) == -1) {
    fprintf (stderr, "stat-user: close: %s\n", dio_last_error ());
    return 1;
  }
  if (dio_close (fd) == -1) {
    fprintf (stderr, "stat-user: close: %s\n", dio_last_error ());
    return 1;
  }
  free (buf);
  return 0;
}
