#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fsx through the dio_* API: random reads, writes, truncates, reopens and
# directio() switches against a model (fsx.c).  FSX_SEED=N replays a run;
# FSX_OPS and FSX_SECONDS bound it (default 3000 operations, 300 s).

. "$(dirname "$0")/functions.sh"
set -e

requires_ganesha
${DIO_TEST_WRAPPER} "${builddir:-.}/fsx" -l "$DIO_TEST_DIR/fsx.file" \
  "$(dio_url fsx.file)"
