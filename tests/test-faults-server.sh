#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Errors from the server: a full disk (ENOSPC and the contiguous prefix
# rule), a stale file handle (ESTALE), permissions taken away (EACCES)
# (check_faults_server.c).
#
# The full disk is an 8 MiB tmpfs on a subdirectory of the export.  This
# runs in with-ganesha.sh's private mount namespace, so the mount is
# invisible outside and goes away with the namespace; ganesha picks up
# filesystems below its export when it starts, hence the restart.

. "$(dirname "$0")/functions.sh"
set -e

requires_ganesha
requires_root

small=smallfs
mkdir "$DIO_TEST_DIR/$small"
mount -t tmpfs -o size=8m,mode=0777 tmpfs "$DIO_TEST_DIR/$small" ||
  skip "cannot mount a tmpfs on $DIO_TEST_DIR/$small"
# with-ganesha.sh removes the export directory afterwards: unmount first.
cleanup_fn umount -l "$DIO_TEST_DIR/$small"
"$DIO_GANESHA" restart

export DIO_FAULT_SMALLFS=$small
${DIO_TEST_WRAPPER} "${builddir:-.}/check_faults" server
