#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark `directio mount` (FUSE, forcedirectio) against the engine
# itself, `directio bench`, on the same file in the same run:
#
#   1 MiB sequential read and write: fio --ioengine=psync --direct=1 and
#     dd (iflag/oflag=direct) on the mount  vs  directio bench --bs 1M
#   4 KiB random read at iodepth 16: fio --ioengine=libaio on the mount
#     vs  directio bench --rw randread --iodepth 16
#
# Runs alternate between the two, REPS times each; prints the medians and
# the mount's ratio to the engine with the targets (>= 80% sequential,
# >= 70% random).  ganesha's page cache is warm.  A private loopback
# nfs-ganesha is started and stopped by tests/with-ganesha.sh.
#
# Usage: bench/fuse.sh [--size MIB] [--reps N] [--time SECONDS]
# Needs root, /dev/fuse, fio, and a built tree (_build, or BUILD=DIR).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")

# ---- outside: arguments, then this script again inside the namespace -------
if [ -z "${DIO_TEST_DIR:-}" ]; then
  size_mib=256 reps=3 runtime=5
  while [ $# -gt 0 ]; do
    case $1 in
      --size) size_mib=$2; shift 2 ;;
      --reps) reps=$2; shift 2 ;;
      --time) runtime=$2; shift 2 ;;
      -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) echo "fuse.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
  done
  if [ -z "${BUILD:-}" ]; then
    if [ -f "$top/config.status" ]; then BUILD=$top; else BUILD=$top/_build; fi
  fi
  [ -e "$BUILD/tools/directio" ] ||
    { echo "fuse.sh: $BUILD/tools/directio missing: build first" >&2; exit 1; }
  "$BUILD/tools/directio" mount --help >/dev/null 2>&1 ||
    { echo "fuse.sh: directio was built without fuse3" >&2; exit 1; }
  [ -c /dev/fuse ] || { echo "fuse.sh: no /dev/fuse" >&2; exit 1; }
  command -v fio >/dev/null || { echo "fuse.sh: fio not found" >&2; exit 1; }
  export BUILD size_mib reps runtime
  exec "$top/tests/with-ganesha.sh" "$0"
fi

# ---- inside ---------------------------------------------------------------
directio=$BUILD/tools/directio
work=$(mktemp -d /var/tmp/dio-fuse.XXXXXX)
mnt=$work/mnt
mkdir "$mnt"
samples=$work/samples
cleanup () {
  umount -l "$mnt" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

url () { echo "nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/$1?$DIO_TEST_QUERY"; }
record ()
{
  echo "$1 $2 $3" >> "$samples"
  printf '  %-14s %-18s %10.1f\n' "$@"
}

# bench_rate RW BS QD FILE: directio bench's MiB/s (sequential) or IOPS.
bench_rate ()
{
  "$directio" bench "$(url "$4")" --rw "$1" --bs "$2" --iodepth "$3" \
    --size "${size_mib}M" --time "$runtime" --json |
    python3 -c "import json, sys; j = json.load(sys.stdin)
print(round(j['iops'] if '$1' == 'randread' else j['mib_per_s'], 1))"
}

# fio_rate RW BS ENGINE QD FILE: fio's on the mount, likewise.
fio_rate ()
{
  fio --name=fuse --filename="$mnt/$5" --rw="$1" --bs="$2" --ioengine="$3" \
    --iodepth="$4" --direct=1 --size="${size_mib}m" --time_based \
    --runtime="$runtime" --output-format=json |
    python3 -c "import json, sys; j = json.load(sys.stdin)['jobs'][0]
rw = 'write' if '$1' == 'write' else 'read'
print(round(j[rw]['iops'] if '$1' == 'randread' else
            j[rw]['bw_bytes'] / 1048576, 1))"
}

# dd_rate read|write FILE: dd with O_DIRECT on the mount, MiB/s, from
# dd's own time (not the process's start).
dd_rate ()
{
  local out
  if [ "$1" = read ]; then
    out=$(dd if="$mnt/$2" of=/dev/null bs=1M count="$size_mib" iflag=direct \
            2>&1 | tail -n 1)
  else
    out=$(dd if=/dev/zero of="$mnt/$2" bs=1M count="$size_mib" oflag=direct \
            conv=notrunc 2>&1 | tail -n 1)
  fi
  python3 -c "import re, sys
s = float(re.search(r'copied, ([0-9.e+-]+) s', sys.argv[1]).group(1))
print(round($size_mib / s, 1))" "$out"
}

"$directio" mount -o forcedirectio "$(url "")" "$mnt"
# The files, written once through the engine.
"$directio" bench "$(url in.img)" --rw read --size "${size_mib}M" \
  --time 1 >/dev/null
"$directio" bench "$(url out.img)" --rw write --size "${size_mib}M" \
  --time 1 >/dev/null

for rep in $(seq 1 "$reps"); do
  echo "== round $rep of $reps"
  record seqread engine "$(bench_rate read 1M 1 in.img)"
  record seqread mount-fio-psync "$(fio_rate read 1M psync 1 in.img)"
  record seqread mount-dd "$(dd_rate read in.img)"
  record seqwrite engine "$(bench_rate write 1M 1 out.img)"
  record seqwrite mount-fio-psync "$(fio_rate write 1M psync 1 out.img)"
  record seqwrite mount-dd "$(dd_rate write out.img)"
  record randread4k engine "$(bench_rate randread 4K 16 in.img)"
  record randread4k mount-fio-libaio "$(fio_rate randread 4k libaio 16 in.img)"
done

echo
echo "== medians ($reps runs each, ${size_mib} MiB file;" \
  "MiB/s, IOPS for randread4k)"
python3 - "$samples" <<'PY'
import statistics, sys
from collections import defaultdict
v = defaultdict(list)
for line in open(sys.argv[1]):
    test, tool, val = line.split()
    v[(test, tool)].append(float(val))
targets = {"seqread": 0.80, "seqwrite": 0.80, "randread4k": 0.70}
for test in ("seqread", "seqwrite", "randread4k"):
    base = statistics.median(v[(test, "engine")])
    print(f"  {test:<11} engine {base:10.1f}")
    for (t, tool), xs in sorted(v.items()):
        if t != test or tool == "engine":
            continue
        m = statistics.median(xs)
        r = m / base if base else 0
        ok = "ok" if r >= targets[test] else "BELOW"
        print(f"  {'':<11} {tool:<16} {m:10.1f}  {100 * r:5.1f}% "
              f"of the engine (target {100 * targets[test]:.0f}%: {ok})")
PY
