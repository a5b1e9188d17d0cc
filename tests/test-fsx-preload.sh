#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fsx through the LD_PRELOAD shim: the same random operations with plain
# open/pread/pwrite/ftruncate/close and fcntl(F_SETFL, O_DIRECT) on a path
# under a profile mountpoint, under `directio run` (fsx.c, -P).  Skipped
# where the shim cannot run (preload_setup).  FSX_SEED=N replays a run.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/preload-functions.sh"
set -e

preload_setup
dio_run "${builddir:-.}/fsx" -P -l "$DIO_TEST_DIR/fsx-preload.file" \
  "$mnt/fsx-preload.file"
