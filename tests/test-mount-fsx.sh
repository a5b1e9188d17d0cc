#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fsx through directio mount: random reads, writes (unaligned, across
# EOF), truncates, reopens, fcntl(F_SETFL, O_DIRECT) switches and fsyncs
# with plain POSIX calls (fsx.c -P) on a file of the FUSE mount, checked
# against fsx's model and at the end against the server's file: once
# under forcedirectio (every open FOPEN_DIRECT_IO) and once through the
# kernel's page cache.  FSX_SEED=N replays a run.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/mount-functions.sh"
set -e
set -x

mount_setup
fsx=${builddir:-.}/fsx
[ -x "$fsx" ] || skip "$fsx not built"

mount_start -o forcedirectio
FSX_OPS=${FSX_OPS:-1500} "$fsx" -P -l "$DIO_TEST_DIR/fsx-direct.file" \
  "$mnt/fsx-direct.file"
mount_stop

mount_start
FSX_OPS=${FSX_OPS:-1500} "$fsx" -P -l "$DIO_TEST_DIR/fsx-cached.file" \
  "$mnt/fsx-cached.file"
mount_stop
