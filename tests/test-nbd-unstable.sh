#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-nbdkit-unstable.sh against directio nbd instead of nbdkit nfsdirect: the
# same requests, answers and bytes from the engine's own NBD server.
DIO_NBD_SERVER=directio exec "$(dirname "$0")/test-nbdkit-unstable.sh" "$@"
