#!/usr/bin/env bash
# Several server restarts (new write verifier each time) during one long
# stream of large direct writes: nothing acknowledged is lost
# (check_faults_restart.c).
exec ${DIO_TEST_WRAPPER} "${builddir:-.}/check_faults" restart
