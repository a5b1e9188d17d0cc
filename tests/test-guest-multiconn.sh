#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nfsdirect advertises multi-conn, and it is true: a guest kernel attaches
# with `nbd-client -C 4` (the kernel refuses several connections unless
# the server advertises multi-conn), spreads the ext4 filesystem's I/O and
# flushes over all four, and the file on the NFS server is a clean ext4
# with the payload byte for byte.  See tests/guest/guest.sh.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
. "$(dirname "$0")/guest/guest.sh"
set -e
set -x

guest_setup
# The log filter names the connection of every request.
guest_nbdkit_opts=(--filter=log)
guest_start_nbdkit "logfile=$guest_dir/requests.log"
guest_boot basic 4
guest_finish
guest_stop_nbdkit

# Four connections reached nbdkit, each offered NBD_FLAG_CAN_MULTI_CONN.
log=$guest_dir/nbdkit.log
n=$(grep -c 'handshake complete' "$log") || true
[ "$n" -ge 4 ] || fail "$n NBD connections reached nbdkit, expected 4"
flags=$(sed -n 's/.*newstyle negotiation: flags: export \(0x[0-9a-f]*\).*/\1/p' "$log" | sort -u)
[ -n "$flags" ] || fail "no export flags in the nbdkit log"
for f in $flags; do
  (( f & 0x100 )) || fail "export flags $f lack NBD_FLAG_CAN_MULTI_CONN (0x100)"
done

# All four carried writes (the guest has a CPU per connection).
used=$(sed -n 's/.* connection=\([0-9]*\) Write .*/\1/p' "$guest_dir/requests.log" |
       sort -u | wc -l)
guest_log "connections that carried writes: $used"
[ "$used" -ge 4 ] || fail "only $used of the 4 connections carried writes"

guest_check_image
