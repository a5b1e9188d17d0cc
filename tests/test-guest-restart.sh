#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The NFS server restarts (with a new write verifier) while a guest
# kernel is writing through nbdkit nfsdirect (default: writes=stable,
# durable when acknowledged): the guest rewrites its payload, each file
# fsync'd, from before the restart until after it; then the filesystem
# is clean and the payload exact, in the guest after a remount and on
# the NFS server.  See tests/guest/guest.sh.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
. "$(dirname "$0")/guest/guest.sh"
set -e
set -x

guest_setup
guest_start_nbdkit
guest_boot restart 1

guest_wait 'DIO-GUEST-WRITING' 120
verf=$("$DIO_GANESHA" verifier)
"$DIO_GANESHA" restart --new-verifier
[ "$("$DIO_GANESHA" verifier)" != "$verf" ] ||
  fail "the restarted server kept verifier $verf"
guest_log "server restarted while the guest writes"
guest_send HOST-RESTARTED

guest_finish
guest_stop_nbdkit

# The engine under nbdkit saw the server go away and come back.
r=$(sed -n 's/.* reconnects \([0-9]*\) .*/\1/p' "$guest_dir/nbdkit.log" | tail -n1)
[ "${r:-0}" -ge 1 ] || fail "nbdkit's engine counted no reconnect (reconnects '${r}')"

guest_check_image
