#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A plain stdio program (preload-stdio.c: fopen/fwrite/fread/fseek/ftell,
# fileno + fstat, fdopen) works on a profile path under `directio run`,
# through fopencookie; fopen "a" is EINVAL, mmap is ENODEV, and
# fcntl(F_SETFL) toggles O_DIRECT.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/preload-functions.sh"
set -e
set -x

preload_setup
prog=$builddir/preload-stdio
[ -x "$prog" ] || skip "$prog not built"

head -c 1500000 /dev/urandom > "$tmp/src"
out=$(dio_run "$prog" "$tmp/src" "$mnt/s")
[ "$out" = OK ] || fail "preload-stdio: $out"
same_on_server s "$tmp/src"

# The cookie stream's writes went through the engine (buffered: no
# O_DIRECT, no forcedirectio).
[ "$(max_stat_of cache_write_bytes)" -ge 1500000 ] ||
  fail "writes not counted: $(cat "$stats")"
