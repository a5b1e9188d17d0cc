/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runner for the directio integration suites, and their helpers.  Run
 * inside with-ganesha.sh:  check_directio SUITE...  (all if none; enospc
 * only when named, as it needs a tiny export: test-directio-enospc.sh). */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_directio.h"
#include "engine_helpers.h"
#include "private.h"

static const struct {
  const char *name;
  Suite *(*make) (void);
  bool by_name_only;
} suites[] = {
  { "advice", suite_directio_advice, false },
  { "buffered", suite_directio_buffered, false },
  { "kernel", suite_directio_kernel, false },
  { "profiles", suite_directio_profiles, false },
  { "enospc", suite_directio_enospc, true },
};

#define NSUITES (sizeof suites / sizeof suites[0])

const char *
export_url (void)
{
  static char buf[512];

  snprintf (buf, sizeof buf, "nfs://%s%s?%s", getenv ("DIO_TEST_SERVER"),
            getenv ("DIO_TEST_EXPORT"), getenv ("DIO_TEST_QUERY"));
  return buf;
}

int
use_profiles (const char *text, const char **file)
{
  static char name[1024];
  FILE *f;
  int fd;

  /* Beside the export, in the server's state directory, which
   * with-ganesha.sh removes at the end. */
  snprintf (name, sizeof name, "%s/../profiles-XXXXXX",
            test_local (""));
  fd = mkstemp (name);
  ck_assert_int_ge (fd, 0);
  f = fdopen (fd, "w");
  ck_assert_ptr_nonnull (f);
  for (const char *p = text; *p; ) {
    const char *at = strstr (p, "@URL@");
    size_t n = at ? (size_t) (at - p) : strlen (p);
    fwrite (p, 1, n, f);
    if (at)
      fputs (export_url (), f);
    p += n + (at ? 5 : 0);
  }
  ck_assert_int_eq (fclose (f), 0);
  setenv ("DIRECTIO_PROFILES", name, 1);
  if (file)
    *file = name;
  return dio__profiles_reload ();
}

void
use_data_profile (const char *options)
{
  char text[512];

  snprintf (text, sizeof text, "[data]\nurl = @URL@\nmountpoint = " MNT
            "\n%s%s\n", options ? "options = " : "", options ? options : "");
  ck_assert_msg (use_profiles (text, NULL) == 0, "%s", dio_last_error ());
}

struct dio_stats
stats_of (int fd)
{
  struct dio_stats st;

  ck_assert_msg (dio_stats (fd, &st) == 0, "%s", dio_last_error ());
  return st;
}

void
put_local (const char *file, uint64_t len, uint32_t seed)
{
  size_t bs = 1 << 20;
  char *buf = malloc (bs);
  int fd = open (test_local (file), O_WRONLY | O_CREAT | O_TRUNC, 0644);

  ck_assert_int_ge (fd, 0);
  for (uint64_t off = 0; off < len; off += bs) {
    size_t n = len - off < bs ? len - off : bs;
    test_fill (buf, n, off, seed);
    ck_assert_int_eq (pwrite (fd, buf, n, off), n);
  }
  ck_assert_int_eq (close (fd), 0);
  free (buf);
}

int
local_has (const char *file, uint64_t off, uint64_t len, uint32_t seed)
{
  char *buf = malloc (len);
  int fd = open (test_local (file), O_RDONLY);
  int ok = fd >= 0 && pread (fd, buf, len, off) == (ssize_t) len
    && test_check (buf, len, off, seed);

  if (fd >= 0)
    close (fd);
  free (buf);
  return ok;
}

long long
local_size (const char *file)
{
  struct stat st;
  return stat (test_local (file), &st) == 0 ? st.st_size : -1;
}

int
main (int argc, char **argv)
{
  SRunner *sr = NULL;
  int failed;

  for (size_t i = 0; i < NSUITES; i++) {
    bool wanted = argc == 1 && !suites[i].by_name_only;
    for (int a = 1; a < argc; a++)
      wanted |= strcmp (argv[a], suites[i].name) == 0;
    if (!wanted)
      continue;
    if (sr == NULL)
      sr = srunner_create (suites[i].make ());
    else
      srunner_add_suite (sr, suites[i].make ());
  }
  if (sr == NULL) {
    fprintf (stderr, "usage: check_directio [advice|buffered|kernel|"
             "profiles|enospc]...\n");
    return 2;
  }
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
