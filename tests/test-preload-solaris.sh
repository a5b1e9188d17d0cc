#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A program written as a Solaris port (preload-solaris.c: open, pwrite,
# pread, directio(fd, DIRECTIO_ON/OFF) from <directio.h>) runs unmodified
# under `directio run` against a profile path: its data is right on the
# server, and the mount's counters show its direct I/O as direct and its
# reads after DIRECTIO_OFF as cached.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/preload-functions.sh"
set -e
set -x

preload_setup
requires python3 --version
prog=$builddir/preload-solaris
[ -x "$prog" ] || skip "$prog not built"

mib=8
size=$(( mib * 1024 * 1024 + 12345 ))
out=$(dio_run "$prog" "$mnt/sol.dat" $mib)
[ "$out" = OK ] || fail "preload-solaris: $out"

# The bytes on the server are the program's pattern.
python3 - "$size" > "$tmp/want" <<'PY'
import sys
n = int(sys.argv[1])
out = bytearray(n)
for i in range(n):
    out[i] = (i * 131 + i // 4099) & 0xff
sys.stdout.buffer.write(out)
PY
same_on_server sol.dat "$tmp/want"

# Direct: every byte written and read once with DIRECTIO_ON went direct;
# the two passes after DIRECTIO_OFF went through the cache, and what the
# cache read from the server is not counted as direct.
[ "$(stat_of direct_write_bytes)" -eq $size ] ||
  fail "direct_write_bytes $(stat_of direct_write_bytes), want $size"
[ "$(stat_of cache_write_bytes)" -eq 0 ] ||
  fail "cache_write_bytes $(stat_of cache_write_bytes), want 0"
[ "$(stat_of direct_read_bytes)" -eq $size ] ||
  fail "direct_read_bytes $(stat_of direct_read_bytes), want $size"
[ "$(stat_of cache_read_bytes)" -eq $(( 2 * size )) ] ||
  fail "cache_read_bytes $(stat_of cache_read_bytes), want $(( 2 * size ))"
