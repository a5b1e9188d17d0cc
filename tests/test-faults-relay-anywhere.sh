#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TCP connections cut anywhere, in the middle of a READ reply too
# (check_faults_relay.c).  libnfs 4.0.0's own reconnect keeps half a reply
# across the new socket (fixed upstream in libnfs 5.0.3, commit a38a321),
# which is why the engine replaces a broken context instead (conn.c).  The
# test fails after 30 s without progress.
exec ${DIO_TEST_WRAPPER} "${builddir:-.}/check_faults" relay-anywhere
