#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Reads and writes past the end of an nfsdirect export fail with clear
# errors (EINVAL for reads, ENOSPC for writes, as NBD says), right up to
# the last byte works, and nbdkit keeps serving.  If the file shrinks on
# the server underneath a running export, a read past its new end fails
# with EIO and a message saying so, never with short or stale data.

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

# An odd size: 1 MiB + 100 bytes.
size=$((1024 * 1024 + 100))
head -c $size /dev/zero | tr '\0' '\052' > "$DIO_TEST_DIR/eof.img"

$nbdkit -U - "$nfsdirect" "$(dio_url eof.img)" --run "
  python3 \"\$nbd_steps\" \"\$unixsocket\" \
    'a read $((size - 100)) 100 0x2a' \
    'a read $((size - 50)) 100 -> EINVAL' \
    'a read $size 1 -> EINVAL' \
    'a write $((size - 50)) 100 0x01 -> ENOSPC' \
    'a zero $((size - 50)) 100 -> ENOSPC' \
    'a write $((size - 1)) 1 0x2b' \
    'a read $((size - 1)) 1 0x2b' \
    'a read 0 1M 0x2a' \
    'b read 0 4096 0x2a'
" 2> "$tmp/log" || { cat "$tmp/log"; fail "past-EOF requests"; }
cat "$tmp/log"
grep -q 'out of range' "$tmp/log" || fail "nbdkit gave no reason for the refusals"
[ "$(stat -c %s "$DIO_TEST_DIR/eof.img")" = $size ] || fail "eof.img changed size"

# Shrunk underneath: a 4 MiB export whose file is cut to 1 MiB on the
# server while nbdkit serves it.
head -c 4M /dev/zero | tr '\0' '\052' > "$DIO_TEST_DIR/shrink.img"
$nbdkit -U - "$nfsdirect" "$(dio_url shrink.img)" --run "
  python3 \"\$nbd_steps\" \"\$unixsocket\" \
    'a read 3M 4096 0x2a' \
    'sh truncate -s 1M \"\$DIO_TEST_DIR/shrink.img\"' \
    'a read 2M 4096 -> EIO' \
    'a read $((1024 * 1024 - 10)) 20 -> EIO' \
    'a read 0 1M 0x2a'
" 2> "$tmp/log" || { cat "$tmp/log"; fail "reads past a shrunk file"; }
cat "$tmp/log"
grep -q 'end of file: the file is shorter than the export' "$tmp/log" ||
  fail "no clear message for a read past the shrunk file's end"
