/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fault-injection suites (check_faults runner), each run inside
 * with-ganesha.sh by a test-faults-*.sh wrapper. */
#ifndef CHECK_FAULTS_H
#define CHECK_FAULTS_H
#include <check.h>
Suite *suite_faults_restart (void);
Suite *suite_faults_relay (void);
Suite *suite_faults_relay_anywhere (void);
Suite *suite_faults_server (void);
Suite *suite_faults_replay (void);
Suite *suite_faults_stale (void);
Suite *suite_faults_proxy (void);
Suite *suite_faults_matrix (void);
#endif
