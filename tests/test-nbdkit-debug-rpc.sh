#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# -D nfsdirect.rpc=1 logs every request with its result and time, and the
# mount's RPC counters when nbdkit exits; without it, none of that.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_ganesha
requires_nfsdirect
requires python3 --version

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
export nbd_steps

truncate -s 4M "$DIO_TEST_DIR/debug.img"
steps='python3 "$nbd_steps" "$unixsocket" \
  "a write 4096 8192 0x01 fua" "a read 0 4096" "a flush"'

$nbdkit -v -D nfsdirect.rpc=1 -U - "$nfsdirect" "$(dio_url debug.img)" \
  --run "$steps" 2> "$tmp/log"
grep -E 'debug: pwrite count=8192 offset=4096 fua: ok, [0-9.]+ ms' "$tmp/log" ||
  fail "no log line for the write"
grep -E 'debug: pread count=4096 offset=0: ok, [0-9.]+ ms' "$tmp/log" ||
  fail "no log line for the read"
grep -E 'debug: flush count=0 offset=0: ok' "$tmp/log" || fail "no log line for the flush"
grep -E 'debug: .*debug\.img.*: READ [1-9][0-9]* WRITE [1-9][0-9]* COMMIT' "$tmp/log" ||
  fail "no RPC counters at exit"

$nbdkit -v -U - "$nfsdirect" "$(dio_url debug.img)" --run "$steps" 2> "$tmp/log"
! grep -E 'debug: (pwrite|pread) count=.*ms|READ [0-9]+ WRITE' "$tmp/log" ||
  fail "request log without -D nfsdirect.rpc=1"
