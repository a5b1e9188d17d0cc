#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Calls whose reply was lost and that the engine sends again on a new
# connection (O_EXCL create, REMOVE, RMDIR, MKDIR, RENAME, truncate), and
# NFS errors turned into Linux's errno, through the RPC fault proxy
# (check_faults_replay.c, nfsproxy).
exec ${DIO_TEST_WRAPPER} "${builddir:-.}/check_faults" replay
