#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark libdirectio beside its peers, in one run, on this machine:
#
#   copy out of / into NFS:  directio cp  vs  nfs-cp  vs  qemu-img convert -t none -T none
#   through NBD (fio's nbd engine, the same jobs):  directio nbd  and  nbdkit nfsdirect
#                            vs  qemu-nbd --cache=none
#   the physical ceiling:    O_DIRECT reads and writes on the export's own disk (fio)
#   the engine directly:     directio bench, sequential direct read
#   directio mount (FUSE):   fio and dd on the mount vs directio bench, and on
#                            a null FUSE file system for the floor (fuse.sh)
#
# Runs alternate between tools, REPS times each; prints a table of medians,
# our ratio to each peer, peak RSS and CPU seconds of each client, and
# saves every sample as CSV.  A private loopback nfs-ganesha (registered
# with its own rpcbind, which qemu's nfs driver needs) is started and
# stopped by tests/with-ganesha.sh.  ganesha's page cache is warm (the
# file was just written): this measures the protocol path, not the disk.
#
# Usage: bench/peers.sh [--size MIB] [--reps N] [--time SECONDS] [--out DIR]
# Needs root and a built tree (./demo.sh or ./check.sh builds one in _build,
# or set BUILD=DIR).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
size_mib=1024 reps=3 runtime=5 out=$top/bench/results
while [ $# -gt 0 ]; do
  case $1 in
    --size) size_mib=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --time) runtime=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "peers.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
done

for v in "$size_mib" "$reps" "$runtime"; do
  case $v in
    ''|*[!0-9]*|0) echo "peers.sh: --size, --reps and --time take a positive whole number, not '$v'" >&2; exit 2 ;;
  esac
done

if [ -z "${BUILD:-}" ]; then
  if [ -f "$top/config.status" ]; then BUILD=$top; else BUILD=$top/_build; fi
fi
for f in "$BUILD/tools/directio" \
         "$BUILD/nbdkit-plugin/.libs/nbdkit-nfsdirect-plugin.so"; do
  [ -e "$f" ] || { echo "peers.sh: $f missing: build first (./demo.sh)" >&2; exit 1; }
done
for c in nfs-cp qemu-img qemu-nbd nbdkit fio python3 /usr/bin/time; do
  command -v "$c" >/dev/null || { echo "peers.sh: $c not found" >&2; exit 1; }
done
mkdir -p "$out"
export BUILD size_mib reps runtime out
# with-ganesha.sh stops a test after 15 minutes; the whole run takes
# longer (about 20 minutes with the defaults).
DIO_TEST_TIMEOUT=${DIO_TEST_TIMEOUT:-7200} \
  "$top/tests/with-ganesha.sh" "$here/peers-inside.sh"
# directio mount against the engine (bench/fuse.sh), where FUSE works.
if [ -c /dev/fuse ] && "$BUILD/tools/directio" mount --help >/dev/null 2>&1
then
  echo
  echo "== directio mount (FUSE) vs directio bench"
  "$here/fuse.sh" --size "$size_mib" --reps "$reps" --time "$runtime"
fi
