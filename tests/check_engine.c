/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runner for the engine's integration suites.  Run inside
 * with-ganesha.sh:  check_engine [io|errors|faults|threads]... (all if
 * none). */
#include <config.h>

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check_engine.h"

static const struct {
  const char *name;
  Suite *(*make) (void);
} suites[] = {
  { "io", suite_engine_io },
  { "errors", suite_engine_errors },
  { "faults", suite_engine_faults },
  { "threads", suite_engine_threads },
};

#define NSUITES (sizeof suites / sizeof suites[0])

int
main (int argc, char **argv)
{
  SRunner *sr = NULL;
  int failed;

  for (size_t i = 0; i < NSUITES; i++) {
    bool wanted = argc == 1;
    for (int a = 1; a < argc; a++)
      wanted |= strcmp (argv[a], suites[i].name) == 0;
    if (!wanted)
      continue;
    if (sr == NULL)
      sr = srunner_create (suites[i].make ());
    else
      srunner_add_suite (sr, suites[i].make ());
  }
  if (sr == NULL)
    return 2;
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
