#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Several server restarts (new write verifier each time) during one long
# stream of large direct writes: nothing acknowledged is lost
# (check_faults_restart.c).
exec ${DIO_TEST_WRAPPER} "${builddir:-.}/check_faults" restart
