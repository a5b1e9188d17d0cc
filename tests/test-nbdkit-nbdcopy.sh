#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nbdcopy in and out of a 256 MiB nfsdirect export: what goes in is what
# the file in the export directory holds afterwards, and what comes out,
# byte for byte.  nbdcopy uses several connections (multi-conn) and many
# requests in flight.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_ganesha
requires_nfsdirect
requires_all nbdcopy cmp

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"

head -c 256M /dev/urandom > "$tmp/in.img"
export tmp

# In: into a new file, created by the plugin at the right size.
$nbdkit -U - "$nfsdirect" "$(dio_url copy.img)" create=true size=256M \
  --run 'nbdcopy --flush "$tmp/in.img" "$uri"'
same_bytes "$tmp/in.img" "$DIO_TEST_DIR/copy.img"

# Out: back again, through a fresh server.
$nbdkit -U - "$nfsdirect" "$(dio_url copy.img)" \
  --run 'nbdcopy "$uri" "$tmp/out.img"'
same_bytes "$tmp/in.img" "$tmp/out.img"

# Nothing else touched the file.
[ "$(stat -c %s "$DIO_TEST_DIR/copy.img")" = $((256 * 1024 * 1024)) ] ||
  fail "copy.img changed size"
