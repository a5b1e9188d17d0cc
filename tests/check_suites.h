/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unit test suites run by check_unit.  To add one, write
 * tests/check_<area>.c defining Suite *suite_<area> (void), add a
 * SUITE (<area>) line below and the file to check_unit_SOURCES. */
#ifndef CHECK_SUITES_H
#define CHECK_SUITES_H

#include <check.h>

#define UNIT_SUITES \
  SUITE (options) \
  SUITE (profile) \
  SUITE (url) \
  SUITE (cache) \
  SUITE (errors) \
  SUITE (spin)

#define SUITE(area) extern Suite *suite_##area (void);
UNIT_SUITES
#undef SUITE

#endif /* CHECK_SUITES_H */
