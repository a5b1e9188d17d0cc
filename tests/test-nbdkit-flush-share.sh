#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# writes=unstable: flushes that arrive while a COMMIT is out share the
# next one.  Through nfsproxy, each of the first two COMMITs is held 2 s.
# Connection a's flush sends COMMIT 1; b's and c's flushes arrive while
# it is held, and then COMMIT 2 goes out for both; d writes while that
# one is held.  b and c are answered by COMMIT 2, and d's write, which
# no flush asked for, is not committed: 2 COMMITs in all.  (Before: b's
# flush sent COMMIT 2, then c's its own COMMIT 3 for d's write.)

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_ganesha
requires_nbd_server
requires python3 --version

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
export nbd_steps
truncate -s 16M "$DIO_TEST_DIR/share.img"
start_nfsproxy
held=$(nfsproxy_arm "COMMIT:delay=2000:times=2")
commits=$(nfsproxy_arm "COMMIT:pass")
proxy="$(cd "${builddir:-.}" && pwd)/nfsproxy --control $NFSPROXY_CTL"
# The proxy has sent the Nth held COMMIT to ganesha (bounded: 30 s).
held_at () {
  echo "for i in \$(seq 3000); do
    [ \$($proxy --fired $held) -ge $1 ] && exit 0
    sleep 0.01; done; exit 1"
}
nbd_serve "$(nfsproxy_url share.img)" writes=unstable --run "
  python3 \"\$nbd_steps\" \"\$unixsocket\" \
    'a write 0 64K 0x11' \
    'a send flush' \
    'sh $(held_at 1)' \
    'b write 64K 64K 0x22' \
    'b send flush' \
    'c write 128K 64K 0x33' \
    'c send flush' \
    'sh $(held_at 2)' \
    'd write 192K 64K 0x44' \
    'a reply' \
    'b reply' \
    'c reply' \
    'sh n=\$($proxy --fired $commits); echo \$n > $tmp/commits' \
    'd read 0 64K 0x11' \
    'd read 192K 64K 0x44'
"
# Counted before the server ends: its close COMMITs d's write.
n=$(cat "$tmp/commits")
[ "$n" = 2 ] || fail "$n COMMITs, not 2: the flushes waiting together did not share one"
