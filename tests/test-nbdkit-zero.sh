#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# NBD_CMD_WRITE_ZEROES through the nfsdirect plugin zeroes exactly the
# range asked, large (more than one 32 MiB engine call) or small and
# unaligned, with and without FUA, and leaves the bytes around it alone.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_ganesha
requires_nbd_server
requires_all python3 cmp

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
export nbd_steps

head -c 48M /dev/zero | tr '\0' '\132' > "$DIO_TEST_DIR/zero.img"
cp "$DIO_TEST_DIR/zero.img" "$tmp/expect"

nbd_serve "$(dio_url zero.img)" --run '
  python3 "$nbd_steps" "$unixsocket" \
    "a zero 1000 35M" \
    "a zero 40M 4097 fua" \
    "a zero 45M 1" \
    "a read 1000 35M 0x00" \
    "b read 0 1000 0x5a"
'
# The same zeroing done locally, to compare with.
python3 - "$tmp/expect" <<'PY'
import sys
M = 1024 * 1024
with open(sys.argv[1], "r+b") as f:
    for off, n in ((1000, 35 * M), (40 * M, 4097), (45 * M, 1)):
        f.seek(off)
        f.write(b"\0" * n)
PY
same_bytes "$tmp/expect" "$DIO_TEST_DIR/zero.img"
