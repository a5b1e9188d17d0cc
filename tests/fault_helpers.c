/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers for the fault tests and fsx (fault_helpers.h). */
#include <config.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "directio.h"
#include "fault_helpers.h"

#define CMP_BLOCK (1024 * 1024)

uint64_t
fault_rand (uint64_t *state)
{
  uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;

  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545f4914f6cdd1dull;
}

uint64_t
fault_range (uint64_t *state, uint64_t lo, uint64_t hi)
{
  if (hi <= lo)
    return lo;
  return lo + fault_rand (state) % (hi - lo + 1);
}

int
fault_under_tool (void)
{
  const char *e = getenv ("DIO_UNDER_TOOL");
  return e != NULL && *e != '\0';
}

uint64_t
fault_seed (const char *name, const char *what)
{
  const char *e = getenv (name);
  uint64_t seed;

  if (e && *e)
    seed = strtoull (e, NULL, 0);
  else {
    struct timespec t;
    clock_gettime (CLOCK_REALTIME, &t);
    seed = (uint64_t) t.tv_sec * 1000000007u + t.tv_nsec + getpid ();
    seed %= 1000000000000ull;   /* short enough to retype */
  }
  fprintf (stderr, "%s: seed %" PRIu64 " (%s=%" PRIu64 " replays it)\n",
           what, seed, name, seed);
  return seed;
}

void
fault_fill (char *buf, size_t len, uint64_t off, uint64_t tag)
{
  /* One 64-bit word per aligned 8 bytes of the file, mixed with the tag:
   * cheap enough for hundreds of MiB. */
  uint64_t t = tag * 0xff51afd7ed558ccdull;
  size_t i = 0;

  while (i < len) {
    uint64_t o = off + i;
    uint64_t w = ((o >> 3) + t) * 0x9e3779b97f4a7c15ull;

    w ^= w >> 29;
    for (unsigned b = o & 7; b < 8 && i < len; b++, i++)
      buf[i] = (char) (w >> (b * 8));
  }
}

static int64_t
first_diff (const char *a, const char *b, size_t n)
{
  if (memcmp (a, b, n) == 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i])
      return i;
  return -1;
}

/* Compare what read_fn returns block by block with the model. */
static int64_t
diff_with (ssize_t (*read_fn) (int, void *, size_t, off_t), int fd,
           const char *model, uint64_t len)
{
  char *buf = malloc (CMP_BLOCK);
  uint64_t off = 0;
  int64_t r = -1;

  if (buf == NULL)
    return -2;
  while (off < len) {
    size_t n = len - off < CMP_BLOCK ? len - off : CMP_BLOCK;
    ssize_t got = read_fn (fd, buf, n, off);
    int64_t d;

    if (got < 0) {
      r = -2;
      goto out;
    }
    d = first_diff (buf, model + off, got);
    if (d >= 0 || (size_t) got < n) {
      r = off + (d >= 0 ? d : got);
      goto out;
    }
    off += n;
  }
  if (read_fn (fd, buf, 1, len) != 0)   /* and nothing beyond */
    r = len;
 out:
  free (buf);
  return r;
}

int64_t
fault_local_diff (const char *path, const char *model, uint64_t len)
{
  int fd = open (path, O_RDONLY);
  int64_t r;

  if (fd == -1)
    return -2;
  r = diff_with (pread, fd, model, len);
  close (fd);
  return r;
}

int64_t
fault_dio_diff (int fd, const char *model, uint64_t len)
{
  return diff_with (dio_pread, fd, model, len);
}
