#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fsx through the dio_* API: random reads, writes, truncates, reopens and
# directio() switches against a model (fsx.c).  FSX_SEED=N replays a run;
# FSX_OPS and FSX_SECONDS bound it (default 3000 operations, 300 s).

. "$(dirname "$0")/functions.sh"
set -e

requires_ganesha_any
if [ "$DIO_TEST_FSAL" = MEM ]; then
  # ganesha's MEM FSAL keeps 2 MiB of each file, has no directory here
  # to compare the final file with, and shows again the bytes a shrinking
  # truncate cut off when the file grows back over them (a bug of MEM:
  # 2 MiB of 0x59, truncate to 1 MiB, write 1 byte at 1.5 MiB, and the
  # byte at 1 MiB reads 0x59 through a direct READ, 0 under VFS): -g.
  ${DIO_TEST_WRAPPER} "${builddir:-.}/fsx" -m 2097152 -g "$(dio_url fsx.file)"
else
  ${DIO_TEST_WRAPPER} "${builddir:-.}/fsx" -l "$DIO_TEST_DIR/fsx.file" \
    "$(dio_url fsx.file)"
fi
