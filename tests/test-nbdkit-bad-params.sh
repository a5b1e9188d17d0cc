#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The nfsdirect plugin refuses to start, with a message saying what is
# wrong, on bad parameters, a missing file, a bad URL or an unreachable
# server: the checks run before nbdkit forks, so the user sees them.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_ganesha
requires_nfsdirect

truncate -s 1M "$DIO_TEST_DIR/ok.img"
url=$(dio_url ok.img)

# Parameters.
expect_start_failure "unknown parameter 'bogus'" "$nfsdirect" "$url" bogus=1
expect_start_failure 'rsize=abc: ' "$nfsdirect" "$url" rsize=abc
expect_start_failure 'wsize=1: ' "$nfsdirect" "$url" wsize=1
expect_start_failure 'nconnect=99: ' "$nfsdirect" "$url" nconnect=99
expect_start_failure 'timeo=0: ' "$nfsdirect" "$url" timeo=0
expect_start_failure 'retry=10001: ' "$nfsdirect" "$url" retry=10001
expect_start_failure 'one value only' "$nfsdirect" "$url" rsize=1M,soft
expect_start_failure 'hard=maybe: expected a boolean' "$nfsdirect" "$url" hard=maybe
expect_start_failure 'readonly=perhaps: expected a boolean' \
  "$nfsdirect" "$url" readonly=perhaps
expect_start_failure 'writes=sometimes: expected stable or unstable' \
  "$nfsdirect" "$url" writes=sometimes
expect_start_failure 'create=true needs size=' "$nfsdirect" "$url" create=true
expect_start_failure 'only used with create=true' "$nfsdirect" "$url" size=1M
expect_start_failure 'only used with create=true' "$nfsdirect" "$url" shrink=true
expect_start_failure 'size=lots: expected a size' "$nfsdirect" "$url" create=true size=lots
expect_start_failure 'contradict' "$nfsdirect" "$url" create=true size=1M readonly=true
expect_start_failure 'no file given' "$nfsdirect"
expect_start_failure 'not both' "$nfsdirect" "$url" profile=p file=f
expect_start_failure 'go together' "$nfsdirect" profile=p

# URLs and files.
expect_start_failure 'missing\.img.*No such file' \
  "$nfsdirect" "$(dio_url missing.img)"
expect_start_failure 'not an nfs:// URL' "$nfsdirect" "http://example.com/x"
expect_start_failure '\.\.' "$nfsdirect" \
  "nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/../ok.img?$DIO_TEST_QUERY"
expect_start_failure 'frobnicate' "$nfsdirect" "$url&frobnicate=1"
mkdir -p "$DIO_TEST_DIR/adir"
expect_start_failure 'adir' "$nfsdirect" "$(dio_url adir)"
# Nothing listens on port 1 here: the mount fails, naming the server.
expect_start_failure "mount $DIO_TEST_SERVER:.* failed" "$nfsdirect" \
  "nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/ok.img?nfsport=1&mountport=1&retry=0"
# A server that is not exporting that path.
expect_start_failure 'nosuchexport' "$nfsdirect" \
  "nfs://$DIO_TEST_SERVER/nosuchexport/ok.img?$DIO_TEST_QUERY"

# And with all of that behind it, a good start still works.
$nbdkit -U - "$nfsdirect" "$url" --run 'nbdinfo --size "$uri"' > size
[ "$(cat size)" = 1048576 ] || fail "good start: size $(cat size)"
rm -f size
