/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An unmodified stdio program, for test-preload-stdio.sh: run under the
 * LD_PRELOAD shim it copies SRC to DST with fopen/fread/fwrite in odd
 * chunk sizes, then checks fseek/ftell/fread, fileno + fstat, fdopen,
 * that fopen "a" is refused with EINVAL (no atomic append over NFS), that
 * mmap of the file fails with ENODEV, and that fcntl(F_SETFL) toggles
 * O_DIRECT.  Nothing here knows about libdirectio: that is the point.
 *
 *   preload-stdio SRC DST     (DST under a profile mountpoint)
 *
 * Prints "OK" and exits 0, or names the failed step and exits 1. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SIZE (64 * 1024 * 1024)

static const char *dst;

static void __attribute__ ((noreturn, format (printf, 1, 2)))
fail (const char *fmt, ...)
{
  va_list ap;
  int e = errno;

  fprintf (stderr, "preload-stdio: %s: ", dst);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, " (errno: %s)\n", strerror (e));
  exit (EXIT_FAILURE);
}

/* The whole of a local file, through stdio. */
static char *
slurp (const char *path, size_t *len)
{
  FILE *fp = fopen (path, "rb");
  char *buf = malloc (MAX_SIZE);

  if (fp == NULL || buf == NULL)
    fail ("%s: cannot read it", path);
  *len = fread (buf, 1, MAX_SIZE, fp);
  if (ferror (fp) || !feof (fp))
    fail ("%s: read error or over %d bytes", path, MAX_SIZE);
  fclose (fp);
  return buf;
}

/* Write in chunks of 1, 7, 4093, 65537... bytes: every stdio path. */
static void
write_odd (FILE *fp, const char *data, size_t len)
{
  static const size_t sizes[] = { 1, 7, 4093, 65537, 300001 };
  size_t off = 0;

  for (unsigned i = 0; off < len; i = (i + 1) % 5) {
    size_t n = sizes[i] < len - off ? sizes[i] : len - off;
    if (fwrite (data + off, 1, n, fp) != n)
      fail ("fwrite at %zu", off);
    off += n;
  }
}

static void
check_readback (FILE *fp, const char *data, size_t len)
{
  char *back = malloc (len + 1);
  long mid = (long) len / 3;

  if (back == NULL)
    fail ("malloc");
  if (fseek (fp, 0, SEEK_SET) != 0 || fread (back, 1, len + 1, fp) != len
      || memcmp (back, data, len) != 0)
    fail ("read back from the start differs");
  if (fseek (fp, mid, SEEK_SET) != 0 || ftell (fp) != mid
      || fread (back, 1, 100, fp) != (len - mid < 100 ? len - mid : 100)
      || memcmp (back, data + mid, len - mid < 100 ? len - mid : 100) != 0)
    fail ("fseek to %ld and read", mid);
  if (fseek (fp, 0, SEEK_END) != 0 || ftell (fp) != (long) len)
    fail ("fseek to the end: ftell %ld, size %zu", ftell (fp), len);
  free (back);
}

static void
check_fileno (FILE *fp, size_t len)
{
  struct stat st;

  if (fileno (fp) < 0 || fstat (fileno (fp), &st) != 0)
    fail ("fstat (fileno)");
  if (!S_ISREG (st.st_mode) || (size_t) st.st_size != len)
    fail ("fstat (fileno): mode 0%o size %jd, want a file of %zu",
          (unsigned) st.st_mode, (intmax_t) st.st_size, len);
}

static void
check_fdopen (const char *data, size_t len)
{
  int fd = open (dst, O_RDONLY);
  FILE *fp;
  char buf[64];
  size_t n = len < sizeof buf ? len : sizeof buf;

  if (fd == -1 || (fp = fdopen (fd, "r")) == NULL)
    fail ("open + fdopen");
  if (fread (buf, 1, n, fp) != n || memcmp (buf, data, n) != 0)
    fail ("fread after fdopen");
  if (fclose (fp) != 0)
    fail ("fclose after fdopen");
}

static void
check_refusals (void)
{
  FILE *fp;
  void *p;
  int fd;

  errno = 0;
  fp = fopen (dst, "a");
  if (fp != NULL || errno != EINVAL)
    fail ("fopen \"a\" should fail with EINVAL");
  fd = open (dst, O_RDONLY);
  if (fd == -1)
    fail ("open");
  errno = 0;
  p = mmap (NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
  if (p != MAP_FAILED || errno != ENODEV)
    fail ("mmap should fail with ENODEV");
  close (fd);
}

static void
check_o_direct (void)
{
  int fd = open (dst, O_RDONLY | O_DIRECT), fl;

  if (fd == -1 || (fl = fcntl (fd, F_GETFL)) == -1 || !(fl & O_DIRECT))
    fail ("open O_DIRECT: F_GETFL lacks O_DIRECT");
  if (fcntl (fd, F_SETFL, fl & ~O_DIRECT) == -1
      || (fcntl (fd, F_GETFL) & O_DIRECT))
    fail ("F_SETFL without O_DIRECT: still direct");
  if (fcntl (fd, F_SETFL, fl | O_DIRECT) == -1
      || !(fcntl (fd, F_GETFL) & O_DIRECT))
    fail ("F_SETFL with O_DIRECT: not direct");
  close (fd);
}

int
main (int argc, char *argv[])
{
  size_t len;
  char *data;
  FILE *fp;

  if (argc != 3) {
    fprintf (stderr, "usage: preload-stdio SRC DST\n");
    return 2;
  }
  dst = argv[2];
  data = slurp (argv[1], &len);
  fp = fopen (dst, "w+");
  if (fp == NULL)
    fail ("fopen \"w+\"");
  write_odd (fp, data, len);
  if (fflush (fp) != 0)
    fail ("fflush");
  check_readback (fp, data, len);
  check_fileno (fp, len);
  if (fclose (fp) != 0)
    fail ("fclose");
  check_fdopen (data, len);
  check_refusals ();
  check_o_direct ();
  free (data);
  printf ("OK\n");
  return EXIT_SUCCESS;
}
