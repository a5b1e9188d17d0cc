#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# directio run -p PROFILE: only that profile's mountpoint goes to the
# engine (the library honours DIRECTIO_PROFILE); without -p, all do.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/preload-functions.sh"
set -e
set -x

preload_setup
[ ! -e /mnt/dio-b ] || skip "/mnt/dio-b exists on this machine"

cat >> "$profiles" <<EOF2
[other]
url        = nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT?$DIO_TEST_QUERY
mountpoint = /mnt/dio-b
EOF2
echo "the data" > "$DIO_TEST_DIR/x"

# Both, without -p.
[ "$(directio run -f "$profiles" -- cat "$mnt/x")" = "the data" ]
[ "$(directio run -f "$profiles" -- cat /mnt/dio-b/x)" = "the data" ]

# With -p test, /mnt/dio-b is the kernel's again: it does not exist.
[ "$(directio run -f "$profiles" -p test -- cat "$mnt/x")" = "the data" ]
if directio run -f "$profiles" -p test -- cat /mnt/dio-b/x 2>"$tmp/err"; then
  fail "-p test: /mnt/dio-b went to the engine (DIRECTIO_PROFILE ignored)"
fi
grep -q "No such file or directory" "$tmp/err" || fail "$(cat "$tmp/err")"
[ "$(directio run -f "$profiles" -p other -- cat /mnt/dio-b/x)" = "the data" ]
