#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-nbdkit-outage.sh against directio nbd instead of nbdkit nfsdirect:
# soft timeouts answered EIO and service after, a hard read that waits
# for the server and completes with the right data.
DIO_NBD_SERVER=directio exec "$(dirname "$0")/test-nbdkit-outage.sh" "$@"
