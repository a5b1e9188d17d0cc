#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-nbdkit-flush-share.sh against directio nbd: its flush worker takes
# every queued flush and answers them with one COMMIT.
DIO_NBD_SERVER=directio exec "$(dirname "$0")/test-nbdkit-flush-share.sh" "$@"
