#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The main job, end to end, on a fresh Debian 12 machine: install what is
# missing, build, start a private loopback NFS server (nfs-ganesha, in its
# own network namespace), copy a file into it and back out uncached with
# `directio cp --verify`, benchmark direct reads and writes, and stop the
# server.  Usage: ./demo.sh [SIZE-MiB]   (default 1024)
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)
. scripts/deps.sh

dio_install_packages
[ -x configure ] || ./autogen.sh
if [ -f config.status ]; then build=$top; else build=$top/_build; fi
mkdir -p "$build"
[ -f "$build/Makefile" ] || (cd "$build" && "$top/configure" -q)
make -C "$build" -j"${JOBS:-2}" >/dev/null

export DEMO_SIZE_MIB=${1:-1024} DEMO_BUILD=$build
exec "$top/tests/with-ganesha.sh" "$top/scripts/demo-inside.sh"
