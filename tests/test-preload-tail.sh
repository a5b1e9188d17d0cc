#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `tail -f` of a profile path (buffered) under `directio run` while
# another client appends to the file: tail polls with fstat and reads
# when the size grows.  fstat revalidates the buffered mode's attribute
# cache, so the read returns the new lines (it used to return 0 for
# ever: fstat saw the file grow, the cache kept the size of the open).

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/preload-functions.sh"
set -e
set -x

preload_setup
requires_all timeout dd
requires tail ---disable-inotify --version

printf 'one\n' > "$DIO_TEST_DIR/log"

# Polling (no inotify: the mountpoint is the engine's, not the kernel's),
# every 0.1 s.  timeout bounds it should the cleanup not run.
timeout 300 env DIRECTIO_STATS="$stats" \
  directio run -f "$profiles" -- \
  tail -f -s 0.1 ---disable-inotify "$mnt/log" > "$tmp/out" 2> "$tmp/err" &
tail_pid=$!
cleanup_fn kill "$tail_pid"

retry_until 60 grep -qx one "$tmp/out" ||
  fail "tail never printed the first line: $(cat "$tmp/err")"

# Another client (another process, its own mount) appends "two".
printf 'two\n' |
  dio_run dd of="$mnt/log" bs=4 seek=1 conv=notrunc status=none
[ "$(cat "$DIO_TEST_DIR/log")" = "$(printf 'one\ntwo')" ] ||
  fail "the append did not reach the server"

retry_until 60 grep -qx two "$tmp/out" ||
  fail "tail -f never printed the appended line; it printed: $(cat "$tmp/out")"
kill -0 "$tail_pid" || fail "tail -f exited: $(cat "$tmp/err")"
