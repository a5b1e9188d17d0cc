#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A real kernel NBD client on nfsdirect: a tiny guest under qemu attaches
# the export with `nbd-client -b 4096` (one connection), makes an ext4
# filesystem, writes the payload, syncs, remounts and verifies it; then
# the file on the NFS server is a clean ext4 (e2fsck -fn) holding the
# payload byte for byte (debugfs).  See tests/guest/guest.sh.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
. "$(dirname "$0")/guest/guest.sh"
set -e
set -x

guest_setup
guest_start_nbdkit
guest_boot basic 1
guest_finish
guest_stop_nbdkit
guest_check_image
