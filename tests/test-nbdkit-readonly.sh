#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Read-only exports refuse writes with EPERM and keep serving reads:
# readonly=true, nbdkit -r, a read-only mount (the URL's "ro"), and a
# file the server will not let this user write (the plugin falls back to
# serving it read-only, as nbdkit's file plugin does).  The file is never
# modified.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_ganesha
requires_nfsdirect
requires_all python3 nbdinfo cmp

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
export nbd_steps

head -c 2M /dev/zero | tr '\0' '\125' > "$DIO_TEST_DIR/ro.img"
cp "$DIO_TEST_DIR/ro.img" "$tmp/orig.img"

steps='
  python3 "$nbd_steps" "$unixsocket" \
    "a read 0 1M 0x55" \
    "a write 0 4096 0xee -> EPERM" \
    "a zero 0 1M -> EPERM" \
    "a write 1M 1M 0xee fua -> EPERM" \
    "a read 0 2M 0x55" \
    "a flush" \
    "b read 1M 1M 0x55"
'
$nbdkit -U - "$nfsdirect" "$(dio_url ro.img)" readonly=true --run "$steps"
$nbdkit -r -U - "$nfsdirect" "$(dio_url ro.img)" --run "$steps"
$nbdkit -U - "$nfsdirect" "$(dio_url ro.img)&ro" --run "$steps"
same_bytes "$tmp/orig.img" "$DIO_TEST_DIR/ro.img"

# Not writable by this user on the server: served read-only, and nbdinfo
# says so.
chmod 0444 "$DIO_TEST_DIR/ro.img"
ro_url="$(dio_url ro.img)&uid=65534&gid=65534"
$nbdkit -U - "$nfsdirect" "$ro_url" --run 'nbdinfo --json "$uri"' \
  > "$tmp/info.json"
[ "$(jq -r '.exports[0].is_read_only' "$tmp/info.json")" = true ] ||
  fail "a file the server will not let us write is not served read-only"
$nbdkit -U - "$nfsdirect" "$ro_url" --run "$steps"
same_bytes "$tmp/orig.img" "$DIO_TEST_DIR/ro.img"
