#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Soak: 3 processes x 6 threads mixing direct and buffered I/O, directio()
# switches, fsyncs and reopens over two nconnect=4 mounts against a model,
# with fd, RSS and watchdog checks (soak.c).  SOAK_SECONDS (default 60, 10
# under a tool) runs it longer; SOAK_SEED=N replays the operations.

. "$(dirname "$0")/functions.sh"
set -e

requires_ganesha
exec ${DIO_TEST_WRAPPER} "${builddir:-.}/soak"
