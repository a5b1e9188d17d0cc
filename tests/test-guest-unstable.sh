#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nbdkit nfsdirect writes=unstable under a guest kernel's NBD client:
#
# 1. ext4 works (mkfs, write, sync, remount, verify; clean on the server).
# 2. A flush (fsync of /dev/nbd0 after O_DIRECT writes, which nbdkit sent
#    UNSTABLE) returns only after the COMMIT: while the server is paused
#    the guest's fsync stays blocked although nbdkit has its flush; it
#    returns 0 once the server resumes, and the data is on the server.
# 3. The server restarts (new write verifier) between such writes and the
#    flush: the guest's fsync fails with EIO ("Input/output error"), so
#    the possible loss is reported, never silent.
#
# See tests/guest/guest.sh and tests/guest/scenario.sh (unstable).

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
. "$(dirname "$0")/guest/guest.sh"
set -e
set -x

guest_setup
guest_start_nbdkit writes=unstable
guest_boot unstable 1
log=$guest_dir/nbdkit.log

# nbdkit logs each request as it starts it ("nfsdirect: flush").
flushes () { grep -c 'debug: nfsdirect: flush' "$log" || true; }
flush_arrived () { [ "$(flushes)" -gt "$1" ]; }

# 2. The flush waits for the paused server.
guest_wait 'DIO-GUEST-RAW-WRITTEN-B' 180
before=$(flushes)
ganesha_pause
cleanup_fn "$DIO_GANESHA" resume
guest_send HOST-PAUSED
retry_until 60 flush_arrived "$before" ||
  fail "the guest's flush did not reach nbdkit within 60 s"
# A window to observe that the flush is not answered (not a wait for
# anything): 3 s is ample for nbdkit to answer one that needs no server.
if retry_until 3 guest_seen 'DIO-GUEST-FLUSH-B'; then
  fail "the guest's fsync returned while the server was paused: the flush did not wait for the COMMIT"
fi
guest_log "flush pending while the server is paused, as it must be"
"$DIO_GANESHA" resume
guest_wait 'DIO-GUEST-FLUSH-B rc=0' 60

# 3. Unstable writes, server restart, flush: EIO.
guest_wait 'DIO-GUEST-RAW-WRITTEN-C' 60
verf=$("$DIO_GANESHA" verifier)
"$DIO_GANESHA" restart --new-verifier
[ "$("$DIO_GANESHA" verifier)" != "$verf" ] ||
  fail "the restarted server kept verifier $verf"
guest_send HOST-RESTARTED
guest_wait 'DIO-GUEST-FLUSH-C rc=[1-9][0-9]* .*Input/output error' 60

guest_finish
guest_stop_nbdkit
grep 'error.*flush' "$log" >&2 || fail "nbdkit logged no flush error"

# 1. and the committed raw write: on the server, byte for byte.
guest_check_image
dd if="$DIO_TEST_DIR/$guest_image" bs=1M skip=48 count=1 2>/dev/null |
  cmp - <(guest_payload raw-b 1048576) ||
  fail "the committed raw write at 48 MiB differs on the server"
