#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# create=true size=SIZE creates the file, or grows an existing one keeping
# its data; it refuses to shrink one (naming the sizes) unless shrink=true.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_ganesha
requires_nfsdirect
requires_all nbdinfo cmp

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
f=$DIO_TEST_DIR/create.img
size_is ()
{
  local got
  got=$(stat -c %s "$f")
  [ "$got" = "$1" ] || fail "create.img has $got bytes, expected $1"
}

# A new file.
[ ! -e "$f" ]
$nbdkit -U - "$nfsdirect" "$(dio_url create.img)" create=true size=10M \
  --run 'nbdinfo --size "$uri"' > "$tmp/size"
[ "$(cat "$tmp/size")" = 10485760 ] || fail "new export: size $(cat "$tmp/size")"
size_is 10485760

# Grown, data kept.
head -c 10M /dev/urandom > "$tmp/data"
cp "$tmp/data" "$f"
$nbdkit -U - "$nfsdirect" "$(dio_url create.img)" create=true size=20M \
  --run 'nbdinfo --size "$uri"' > "$tmp/size"
[ "$(cat "$tmp/size")" = 20971520 ] || fail "grown export: size $(cat "$tmp/size")"
size_is 20971520
cmp -n 10485760 "$tmp/data" "$f" || fail "growing the file changed its data"

# The same size again: nothing to do.
$nbdkit -U - "$nfsdirect" "$(dio_url create.img)" create=true size=20M \
  --run true
size_is 20971520

# Shrinking is refused, and the file is left alone.
expect_start_failure 'has 20971520 bytes, more than size=5242880: refusing to shrink' \
  "$nfsdirect" "$(dio_url create.img)" create=true size=5M
size_is 20971520

# ... unless asked.
$nbdkit -U - "$nfsdirect" "$(dio_url create.img)" create=true size=5M \
  shrink=true --run 'nbdinfo --size "$uri"' > "$tmp/size"
[ "$(cat "$tmp/size")" = 5242880 ] || fail "shrunk export: size $(cat "$tmp/size")"
size_is 5242880
cmp -n 5242880 "$tmp/data" "$f" || fail "shrinking changed the data kept"

# A file in a directory that does not exist cannot be created.
expect_start_failure 'nodir/x\.img.*No such file' \
  "$nfsdirect" "$(dio_url nodir/x.img)" create=true size=1M
