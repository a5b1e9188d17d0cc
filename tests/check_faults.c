/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runner for the fault-injection suites.  Run inside with-ganesha.sh:
 *
 *   check_faults restart|relay|relay-anywhere|server|proxy|matrix|replay|
 *                stale...
 *
 * Each suite expects its own fresh server (one test-faults-*.sh wrapper
 * per suite), so naming none is a usage error. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_faults.h"

static const struct {
  const char *name;
  Suite *(*make) (void);
} suites[] = {
  { "restart", suite_faults_restart },
  { "relay", suite_faults_relay },
  { "relay-anywhere", suite_faults_relay_anywhere },
  { "server", suite_faults_server },
  { "proxy", suite_faults_proxy },
  { "matrix", suite_faults_matrix },
  { "replay", suite_faults_replay },
  { "stale", suite_faults_stale },
};

#define NSUITES (sizeof suites / sizeof suites[0])

static Suite *
find_suite (const char *name)
{
  for (size_t i = 0; i < NSUITES; i++)
    if (strcmp (name, suites[i].name) == 0)
      return suites[i].make ();
  return NULL;
}

int
main (int argc, char **argv)
{
  SRunner *sr = NULL;
  int failed;

  if (argc < 2) {
    fprintf (stderr, "usage: %s restart|relay|relay-anywhere|server|proxy|"
             "matrix|replay|stale...\n", argv[0]);
    return 2;
  }
  for (int a = 1; a < argc; a++) {
    Suite *s = find_suite (argv[a]);
    if (s == NULL) {
      fprintf (stderr, "%s: no suite named \"%s\"\n", argv[0], argv[a]);
      return 2;
    }
    if (sr == NULL)
      sr = srunner_create (s);
    else
      srunner_add_suite (sr, s);
  }
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
