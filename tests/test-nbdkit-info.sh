#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nbdinfo through the nfsdirect plugin shows the file's size and what the
# plugin advertises: writable, multi-conn, native FUA, flush, zero (not
# fast), no trim, no cache, and the block sizes (minimum 1, preferred =
# the NFS write size, maximum 32 MiB).  readonly=true makes it read-only.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_ganesha
requires_nfsdirect
requires_all nbdinfo jq

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"

truncate -s 123456789 "$DIO_TEST_DIR/info.img"

$nbdkit -U - "$nfsdirect" "$(dio_url info.img)" \
  --run 'nbdinfo --json "$uri"' > "$tmp/info.json"
cat "$tmp/info.json"
check ()
{
  local got
  got=$(jq -r ".exports[0].$1" "$tmp/info.json")
  [ "$got" = "$2" ] || fail "nbdinfo: $1 is $got, expected $2"
}
check '"export-size"' 123456789
check is_read_only false
check can_multi_conn true
check can_fua true
check can_flush true
check can_zero true
check can_fast_zero false
check can_trim false
check can_cache false
check block_size_minimum 1
# ganesha's export here has MaxWrite = 1 MiB (tests/ganesha.sh).
check block_size_preferred 1048576
check block_size_maximum 33554432

# wsize is the preferred size.
$nbdkit -U - "$nfsdirect" "$(dio_url info.img)" wsize=256K \
  --run 'nbdinfo --json "$uri"' > "$tmp/info.json"
check block_size_preferred 262144

# readonly=true: a read-only export.
$nbdkit -U - "$nfsdirect" "$(dio_url info.img)" readonly=true \
  --run 'nbdinfo --json "$uri"' > "$tmp/info.json"
check is_read_only true
check '"export-size"' 123456789
