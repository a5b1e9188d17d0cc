#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nfsproxy (the RPC fault proxy) itself: it forwards NFS and MOUNT calls
# cleanly, its rules fire on the calls they name and are logged, rules
# armed through the control socket count from then on, and bad rules
# and options are refused with a message.
. "$(dirname "$0")/functions.sh"
set -e
set -x

requires_ganesha
requires_all nfs-cat nfs-cp cmp timeout
proxy=${builddir:-.}/nfsproxy

# Usage: --help on stdout with 0, errors on stderr with 2.
"$proxy" --help | grep -q 'PROC:ACTION'
status=0; "$proxy" --nfs 1 'READ:frobnicate' 2>err.$$ || status=$?
[ "$status" = 2 ] && grep -q "unknown action 'frobnicate'" err.$$ ||
  fail "a bad rule: status $status, $(cat err.$$)"
status=0; "$proxy" --nfs 1 'READ:short:nth=0' 2>err.$$ || status=$?
[ "$status" = 2 ] && grep -q 'nth=0' err.$$ || fail "nth=0: status $status"
status=0; "$proxy" 2>err.$$ || status=$?
[ "$status" = 2 ] || fail "no arguments: status $status"
rm -f err.$$

head -c 300000 /dev/urandom > "$DIO_TEST_DIR/data.bin"

# Clean forwarding: MOUNT and NFS through the proxy, byte for byte.
start_nfsproxy 'NFS.READ:pass'
nfs-cat "$(nfsproxy_url data.bin)" | cmp - "$DIO_TEST_DIR/data.bin"
grep -q 'mount open' "$NFSPROXY_LOG"
grep -q 'nfs open' "$NFSPROXY_LOG"
grep -q 'rule=1 pass' "$NFSPROXY_LOG" || fail "no READ was seen"
[ "$(nfsproxy_fired 1)" -ge 1 ]

# A rule armed later fires on the call it names, once, and is logged.
id=$(nfsproxy_arm 'READ:error=IO')
[ "$id" = 2 ]
if timeout 30 nfs-cat "$(nfsproxy_url data.bin)" > out.$$; then
  fail "nfs-cat read through a READ answered NFS3ERR_IO"
fi
grep -q "rule=2 error IO" "$NFSPROXY_LOG"
[ "$(nfsproxy_fired 2)" = 1 ]
# ... and only once (times=1): the next read is clean again.
nfs-cat "$(nfsproxy_url data.bin)" | cmp - "$DIO_TEST_DIR/data.bin"
[ "$(nfsproxy_fired 2)" = 1 ]

# A reply-side rule: the READ's reply is delayed and still arrives
# whole.  nth=2: the first matching call passes, the second fires.
nfsproxy_clear
id=$(nfsproxy_arm 'READ:delay=200')
nfs-cat "$(nfsproxy_url data.bin)" | cmp - "$DIO_TEST_DIR/data.bin"
grep -q "rule=$id delay 200 ms" "$NFSPROXY_LOG"
id=$(nfsproxy_arm 'READ:error=IO:nth=2')
nfs-cat "$(nfsproxy_url data.bin)" | cmp - "$DIO_TEST_DIR/data.bin"
[ "$(nfsproxy_fired "$id")" = 0 ]
if timeout 30 nfs-cat "$(nfsproxy_url data.bin)" > out.$$; then
  fail "the second READ was not answered NFS3ERR_IO"
fi
[ "$(nfsproxy_fired "$id")" = 1 ]

# A MOUNT rule: MNT answered ACCES fails the mount.
id=$(nfsproxy_arm 'MNT:error=ACCES')
if timeout 30 nfs-cat "$(nfsproxy_url data.bin)" > out.$$; then
  fail "mounted through an MNT answered MNT3ERR_ACCES"
fi
grep -q "MOUNT.MNT xid=[0-9a-f]* rule=$id error ACCES" "$NFSPROXY_LOG"

# A bad rule over the control socket is refused, the proxy lives on.
if nfsproxy_arm 'WRITE:delay=x' 2>err.$$; then
  fail "a bad rule was armed"
fi
grep -q 'delay=x' err.$$
nfs-cat "$(nfsproxy_url data.bin)" | cmp - "$DIO_TEST_DIR/data.bin"
rm -f out.$$ err.$$
