/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs every unit suite listed in check_suites.h.  Check forks for each
 * test, so a crash fails that test only; CK_FORK=no and CK_RUN_SUITE /
 * CK_RUN_CASE narrow a run when debugging. */
#include <config.h>

#include <stddef.h>
#include <stdlib.h>

#include <check.h>

#include "check_suites.h"

#define SUITE(area) suite_##area,
static Suite *(*const suites[]) (void) = { UNIT_SUITES };
#undef SUITE

int
main (void)
{
  SRunner *sr = srunner_create (NULL);
  size_t i;
  int failed;

  for (i = 0; i < sizeof suites / sizeof suites[0]; ++i)
    srunner_add_suite (sr, suites[i] ());
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
