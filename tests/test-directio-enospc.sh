#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Write-back failures: the export becomes a 2 MiB tmpfs (this test's
# mount namespace is its own), so cached writes succeed and their
# write-back fails with ENOSPC at directio(ON), fsync and close.

. "$(dirname "$0")/functions.sh"
set -e
set -x

requires_ganesha
requires_root

"$DIO_GANESHA" stop
mount -t tmpfs -o size=2m tmpfs "$DIO_TEST_DIR"
cleanup_fn umount -l "$DIO_TEST_DIR"
"$DIO_GANESHA" start
[ "$(df --output=size -k "$DIO_TEST_DIR" | tail -1)" -le 2048 ] ||
  fail "the export is not the small tmpfs"

"${builddir:-.}/check_directio" enospc
