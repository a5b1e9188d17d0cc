/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine's integration suites (check_engine runner). */
#ifndef CHECK_ENGINE_H
#define CHECK_ENGINE_H
#include <check.h>
Suite *suite_engine_io (void);
Suite *suite_engine_errors (void);
Suite *suite_engine_faults (void);
Suite *suite_engine_threads (void);
#endif
