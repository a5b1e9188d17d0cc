#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# profile=NAME file=PATH: the file is PATH below the profile's url, and
# the profile's options apply (here wsize, seen as the preferred block
# size), with the plugin's own parameters overriding them.  Missing or
# bad profiles fail the start, naming the file and the problem.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_ganesha
requires_nfsdirect
requires_all nbdinfo jq

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"

nfsport=$(echo "$DIO_TEST_QUERY" | sed -n 's/.*nfsport=\([0-9]*\).*/\1/p')
mountport=$(echo "$DIO_TEST_QUERY" | sed -n 's/.*mountport=\([0-9]*\).*/\1/p')
[ -n "$nfsport" ] && [ -n "$mountport" ] || fail "no ports in $DIO_TEST_QUERY"

cat > "$tmp/profiles.conf" <<CONF
# Ports as options.
[vm]
url        = nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT
mountpoint = /srv/vm
options    = port=$nfsport,mountport=$mountport,wsize=256K,nconnect=3

# Ports in the url's query.
[query]
url        = nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/sub/?$DIO_TEST_QUERY
mountpoint = /srv/query

[readonly]
url        = nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT
mountpoint = /srv/ro
options    = port=$nfsport,mountport=$mountport,ro
CONF
export DIRECTIO_PROFILES=$tmp/profiles.conf

mkdir -p "$DIO_TEST_DIR/sub"
truncate -s 3M "$DIO_TEST_DIR/sub/p.img"

info ()
{
  $nbdkit -U - "$nfsdirect" "$@" --run 'nbdinfo --json "$uri"' \
    > "$tmp/info.json"
}
check ()
{
  local got
  got=$(jq -r ".exports[0].$1" "$tmp/info.json")
  [ "$got" = "$2" ] || fail "nbdinfo: $1 is $got, expected $2"
}

info profile=vm file=sub/p.img
check '"export-size"' 3145728
check block_size_preferred 262144
check is_read_only false

# Our wsize wins over the profile's.
info profile=vm file=sub/p.img wsize=128K
check block_size_preferred 131072

# The query stays at the end of the url.
info profile=query file=p.img
check '"export-size"' 3145728
check block_size_preferred 1048576

# The profile's ro: served read-only.
info profile=readonly file=sub/p.img
check is_read_only true

expect_start_failure "profile=nope: no such profile in $tmp/profiles.conf" \
  "$nfsdirect" profile=nope file=sub/p.img
expect_start_failure 'file=/sub/p.img: must be a path relative' \
  "$nfsdirect" profile=vm file=/sub/p.img
expect_start_failure 'sub/missing.img.*No such file' \
  "$nfsdirect" profile=vm file=sub/missing.img

printf '[bad]\nurl = http://x\nmountpoint = /x\n' > "$tmp/bad.conf"
DIRECTIO_PROFILES=$tmp/bad.conf expect_start_failure "bad\.conf:2: " \
  "$nfsdirect" profile=bad file=x
DIRECTIO_PROFILES=$tmp/none.conf expect_start_failure "none\.conf.*No such file" \
  "$nfsdirect" profile=vm file=x
