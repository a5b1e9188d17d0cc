#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# qemu-img convert into and out of an nfsdirect export over nbd+unix://,
# and qemu-img compare between the export and the source.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_ganesha
requires_nfsdirect
requires_all qemu-img cmp

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"

# Data with a hole in it, so that convert both writes and zeroes.
head -c 40M /dev/urandom > "$tmp/src.img"
truncate -s 64M "$tmp/src.img"
head -c 8M /dev/urandom | dd of="$tmp/src.img" bs=1M seek=56 conv=notrunc

# Something other than zeroes where the hole will go, to see it zeroed.
head -c 64M /dev/urandom > "$DIO_TEST_DIR/qemu.img"

export tmp
$nbdkit -U - "$nfsdirect" "$(dio_url qemu.img)" --run '
  set -e
  target="nbd+unix://?socket=$unixsocket"
  qemu-img convert -n -f raw -O raw "$tmp/src.img" "$target"
  qemu-img compare -f raw -F raw "$tmp/src.img" "$target"
  qemu-img convert -f raw -O raw "$target" "$tmp/back.img"
'
same_bytes "$tmp/src.img" "$DIO_TEST_DIR/qemu.img"
same_bytes "$tmp/src.img" "$tmp/back.img"

# compare notices a difference too (it is not just saying yes): byte
# 1000 becomes one that differs from the source's (a fixed 'X' was the
# source's own byte once in 256 runs, and then there was no difference).
byte=$(od -An -tu1 -j1000 -N1 "$tmp/src.img" | tr -d ' ')
printf "\\$(printf %03o $(( (byte + 1) % 256 )))" |
  dd of="$DIO_TEST_DIR/qemu.img" bs=1 seek=1000 conv=notrunc
cmp -s "$tmp/src.img" "$DIO_TEST_DIR/qemu.img" && fail "byte 1000 was not changed"
status=0
$nbdkit -U - "$nfsdirect" "$(dio_url qemu.img)" --run '
  qemu-img compare -f raw -F raw "$tmp/src.img" "nbd+unix://?socket=$unixsocket"
' || status=$?
[ "$status" -eq 1 ] || fail "qemu-img compare did not report the difference ($status)"
