/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A program as it would be ported from Solaris, for
 * test-preload-solaris.sh: plain POSIX open/pwrite/pread/close, and
 * directio(3C) from <directio.h> where Solaris has <sys/fcntl.h>.  It
 * knows nothing of engines or profiles; run under `directio run` its path
 * lies under a profile mountpoint and the shim routes its calls.
 *
 *   preload-solaris FILE MIB
 *
 * Writes MIB MiB plus an odd tail with direct I/O on (DIRECTIO_ON), in
 * 1 MiB pwrites, reads it back direct and checks it; turns direct I/O off
 * and reads it back twice through the cache, checking again.  Byte i of
 * the file is (i * 131 + i / 4099) & 0xff.  Prints "OK" and exits 0, or
 * names the failed step and exits 1. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <directio.h>           /* Solaris: <sys/fcntl.h> */

#define CHUNK (1024 * 1024)
#define TAIL 12345

static const char *path;

static void
die (const char *what, long long off)
{
  fprintf (stderr, "preload-solaris: %s: %s at offset %lld: %s\n", path,
           what, off, strerror (errno));
  exit (1);
}

static void
fill (unsigned char *buf, long long off, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned long long b = off + i;
    buf[i] = (b * 131 + b / 4099) & 0xff;
  }
}

static void
read_and_check (int fd, long long size, unsigned char *buf,
                unsigned char *want)
{
  for (long long off = 0; off < size; off += CHUNK) {
    size_t n = size - off < CHUNK ? size - off : CHUNK;
    if (pread (fd, buf, CHUNK, off) != (ssize_t) n)
      die ("pread", off);
    fill (want, off, n);
    if (memcmp (buf, want, n) != 0) {
      errno = EIO;
      die ("data differs", off);
    }
  }
}

int
main (int argc, char *argv[])
{
  unsigned char *buf, *want;
  long long size;
  int fd;

  if (argc != 3) {
    fprintf (stderr, "usage: preload-solaris FILE MIB\n");
    return 2;
  }
  path = argv[1];
  size = atoll (argv[2]) * CHUNK + TAIL;
  buf = malloc (CHUNK);
  want = malloc (CHUNK);
  if (buf == NULL || want == NULL)
    die ("malloc", 0);

  fd = open (path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd == -1)
    die ("open", 0);
#ifdef DIRECTIO_ON
  if (directio (fd, DIRECTIO_ON) != 0)
    die ("directio (DIRECTIO_ON)", 0);
#endif
  for (long long off = 0; off < size; off += CHUNK) {
    size_t n = size - off < CHUNK ? size - off : CHUNK;
    fill (buf, off, n);
    if (pwrite (fd, buf, n, off) != (ssize_t) n)
      die ("pwrite", off);
  }
  read_and_check (fd, size, buf, want);
#ifdef DIRECTIO_OFF
  if (directio (fd, DIRECTIO_OFF) != 0)
    die ("directio (DIRECTIO_OFF)", 0);
#endif
  read_and_check (fd, size, buf, want);
  read_and_check (fd, size, buf, want);
  if (close (fd) != 0)
    die ("close", 0);
  printf ("OK\n");
  return 0;
}
