#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nbdkit --dump-plugin and --help work for the nfsdirect plugin: the dump
# names the plugin and libnfs versions and the parallel thread model, and
# the help lists every parameter.  Needs no NFS server.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_nfsdirect

out=$($nbdkit --dump-plugin "$nfsdirect")
echo "$out"
for want in '^name=nfsdirect$' '^thread_model=parallel$' \
            '^magic_config_key=url$' '^has_after_fork=1$' \
            '^nfsdirect_version=[0-9]' '^libnfs_version=[0-9]+\.[0-9]+' \
            '^has_block_size=1$'; do
  echo "$out" | grep -Eq "$want" || fail "--dump-plugin: no line matching $want"
done
pkg=$(pkg-config --modversion libnfs 2>/dev/null) &&
  { echo "$out" | grep -qx "libnfs_version=$pkg" ||
      fail "--dump-plugin: libnfs_version is not $pkg"; }

help=$($nbdkit "$nfsdirect" --help)
for key in url profile file rsize wsize nconnect timeo retrans retry hard soft \
           readonly writes create size shrink; do
  echo "$help" | grep -Eq "(^|[ |[])$key=" || fail "--help does not mention $key="
done
