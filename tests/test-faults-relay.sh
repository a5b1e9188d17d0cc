#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TCP connections to the server cut at random mid-request through a relay:
# requests are retried and the data stays correct (check_faults_relay.c).
exec ${DIO_TEST_WRAPPER} "${builddir:-.}/check_faults" relay
