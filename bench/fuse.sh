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
# and the same fio and dd jobs on the FUSE floor: bench/fuse-null.c,
# compiled here, a FUSE file system that answers every read at once from
# memory and drops every write (set up as the daemon's session is).
#
# Runs alternate between the three, REPS times each; prints the medians,
# the mount's ratio to the engine with the targets (>= 80% sequential,
# >= 70% random), and beside it the bound the FUSE path alone puts on
# that ratio: with t_engine and t_floor the engine's and the floor's time
# per request (1 / rate), the mount takes at least t_engine + t_floor, so
# the ratio is at most t_engine / (t_engine + t_floor).  Also the CPU and
# context switches per request (per MiB sequential) of the engine
# (directio bench's own count), of the daemon and of the floor's process
# (perf stat -p over each fio run, else /proc).  ganesha's page cache is
# warm.  A private loopback nfs-ganesha is started and stopped by
# tests/with-ganesha.sh.
#
# Usage: bench/fuse.sh [--size MIB] [--reps N] [--time SECONDS]
# Needs root, /dev/fuse, fio, cc and pkg-config with fuse3's headers,
# and a built tree (_build, or BUILD=DIR); perf if it is there.
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
      -h|--help) sed -n '3,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
  for c in fio cc pkg-config python3; do
    command -v "$c" >/dev/null || { echo "fuse.sh: $c not found" >&2; exit 1; }
  done
  pkg-config --exists fuse3 ||
    { echo "fuse.sh: pkg-config finds no fuse3 (libfuse3-dev)" >&2; exit 1; }
  export BUILD size_mib reps runtime
  exec "$top/tests/with-ganesha.sh" "$0"
fi

# ---- inside ---------------------------------------------------------------
directio=$BUILD/tools/directio
work=$(mktemp -d /var/tmp/dio-fuse.XXXXXX)
mnt=$work/mnt                   # directio mount -o forcedirectio
nullmnt=$work/null              # bench/fuse-null.c
mkdir "$mnt" "$nullmnt"
samples=$work/samples           # test tool value
cpus=$work/cpus                 # test tool cpu_us ctxsw (per request)
mount_pid= null_pid= perf_pid=
cleanup ()
{
  [ -z "$perf_pid" ] || kill -INT "$perf_pid" 2>/dev/null || true
  umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
  umount "$nullmnt" 2>/dev/null || umount -l "$nullmnt" 2>/dev/null || true
  for p in $mount_pid $null_pid; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

url () { echo "nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/$1?$DIO_TEST_QUERY"; }
record ()
{
  echo "$1 $2 $3" >> "$samples"
  printf '  %-14s %-18s %10.1f\n' "$@"
}

# mounted DIR: DIR is a mount point, within 30 s.
mounted ()
{
  local i
  for i in $(seq 1 300); do
    findmnt -n "$1" >/dev/null && return 0
    sleep 0.1
  done
  echo "fuse.sh: $1 never mounted" >&2
  return 1
}

# CPU time and context switches of all of a process's threads during one
# run: perf_start PID; perf_stop prints "msec switches".  From perf stat
# -p where perf is installed; else, or if perf counted nothing, from
# /proc (CPU in clock ticks; switches of the threads alive at the end,
# which for these daemons are all that ran: they keep their threads).
have_perf=false
command -v perf >/dev/null 2>&1 && have_perf=true
proc_use ()
{
  local ticks
  ticks=$(awk '{print $14 + $15}' "/proc/$1/stat")
  cat /proc/"$1"/task/*/status 2>/dev/null |
    awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" \
      '/ctxt_switches/ {s += $2} END {print t * 1000 / hz, s + 0}'
}
perf_of= proc0=
perf_start ()
{
  perf_of=$1
  proc0=$(proc_use "$1")
  $have_perf || return 0
  rm -f "$work/perf.txt"
  perf stat -x, -e task-clock,context-switches -p "$1" \
    -o "$work/perf.txt" &
  perf_pid=$!
  # perf has attached once its output file has its header line.
  local i
  for i in $(seq 1 100); do
    [ -s "$work/perf.txt" ] && break
    sleep 0.02
  done
}
perf_stop ()
{
  local use=
  if $have_perf; then
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    perf_pid=
    use=$(awk -F, '/task-clock/ {ms = $1} /context-switches/ {sw = $1}
                   END {if (ms ~ /^[0-9.]+$/ && sw ~ /^[0-9]+$/)
                          print ms, sw}' "$work/perf.txt")
    [ -n "$use" ] || echo "fuse.sh: perf stat counted nothing" \
      "($(tr '\n' ' ' < "$work/perf.txt")); using /proc" >&2
  fi
  [ -n "$use" ] || use=$(echo "$proc0 $(proc_use "$perf_of")" |
                           awk '{print $3 - $1, $4 - $2}')
  echo "$use"
}

# bench_rate RW BS QD FILE: directio bench's MiB/s (sequential) or IOPS;
# its CPU and switches per request go to $cpus.
bench_rate ()
{
  "$directio" bench "$(url "$4")" --rw "$1" --bs "$2" --iodepth "$3" \
    --size "${size_mib}M" --time "$runtime" --json > "$work/bench.json"
  python3 - "$work/bench.json" "$1" "$cpus" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
test = {"read": "seqread", "write": "seqwrite"}.get(sys.argv[2], "randread4k")
with open(sys.argv[3], "a") as f:
    print(test, "engine", j["cpu_us_per_io"], j["ctxsw_per_io"], file=f)
print(round(j['iops'] if sys.argv[2] == 'randread' else j['mib_per_s'], 1))
PY
}

# fio_rate TOOL DIR RW BS ENGINE QD PID: fio's rate on DIR/file (MiB/s
# or IOPS) as TOOL; PID's CPU and switches per request go to $cpus.
fio_rate ()
{
  local tool=$1 dir=$2 rw=$3 bs=$4 engine=$5 qd=$6 pid=$7 use
  perf_start "$pid"
  fio --name=fuse --filename="$dir/file" --rw="$rw" --bs="$bs" \
    --ioengine="$engine" --iodepth="$qd" --direct=1 --size="${size_mib}m" \
    --time_based --runtime="$runtime" --output-format=json > "$work/fio.json"
  use=$(perf_stop)
  python3 - "$work/fio.json" "$rw" "$tool" "$cpus" $use <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))['jobs'][0]
rw = sys.argv[2]
d = j['write' if rw == 'write' else 'read']
test = {"read": "seqread", "write": "seqwrite"}.get(rw, "randread4k")
if len(sys.argv) > 6 and d['total_ios']:
    ops = d['total_ios']
    with open(sys.argv[4], "a") as f:
        print(test, sys.argv[3], round(float(sys.argv[5]) * 1000 / ops, 2),
              round(float(sys.argv[6]) / ops, 3), file=f)
print(round(d['iops'] if rw == 'randread' else d['bw_bytes'] / 1048576, 1))
PY
}

# dd_rate read|write DIR: dd with O_DIRECT on DIR/file, MiB/s, from dd's
# own time (not the process's start).
dd_rate ()
{
  local out
  if [ "$1" = read ]; then
    out=$(dd if="$2/file" of=/dev/null bs=1M count="$size_mib" iflag=direct \
            2>&1 | tail -n 1)
  else
    out=$(dd if=/dev/zero of="$2/file" bs=1M count="$size_mib" oflag=direct \
            conv=notrunc 2>&1 | tail -n 1)
  fi
  python3 -c "import re, sys
s = float(re.search(r'copied, ([0-9.e+-]+) s', sys.argv[1]).group(1))
print(round($size_mib / s, 1))" "$out"
}

# The floor, built here (not part of the product).
cc -O2 -Wall -Wextra -Wno-unused-parameter -o "$work/fuse-null" \
  "$here/fuse-null.c" $(pkg-config --cflags --libs fuse3) -pthread
"$work/fuse-null" "$nullmnt" $((size_mib * 1048576)) &
null_pid=$!
mounted "$nullmnt"

# The files, written once through the engine, and the mount (in the
# foreground, so that its PID is ours).
"$directio" bench "$(url in.img)" --rw read --size "${size_mib}M" \
  --time 1 >/dev/null
"$directio" bench "$(url out.img)" --rw write --size "${size_mib}M" \
  --time 1 >/dev/null
"$directio" mount -f -o forcedirectio "$(url "")" "$mnt" 2> "$work/mount.log" &
mount_pid=$!
mounted "$mnt"
mkdir "$work/in" "$work/out"
ln -s "$mnt/in.img" "$work/in/file"
ln -s "$mnt/out.img" "$work/out/file"

echo "== load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq 1 "$reps"); do
  echo "== round $rep of $reps"
  record seqread engine "$(bench_rate read 1M 1 in.img)"
  record seqread mount-fio-psync \
    "$(fio_rate mount-fio-psync "$work/in" read 1M psync 1 "$mount_pid")"
  record seqread null-fio-psync \
    "$(fio_rate null-fio-psync "$nullmnt" read 1M psync 1 "$null_pid")"
  record seqread mount-dd "$(dd_rate read "$work/in")"
  record seqread null-dd "$(dd_rate read "$nullmnt")"
  record seqwrite engine "$(bench_rate write 1M 1 out.img)"
  record seqwrite mount-fio-psync \
    "$(fio_rate mount-fio-psync "$work/out" write 1M psync 1 "$mount_pid")"
  record seqwrite null-fio-psync \
    "$(fio_rate null-fio-psync "$nullmnt" write 1M psync 1 "$null_pid")"
  record seqwrite mount-dd "$(dd_rate write "$work/out")"
  record seqwrite null-dd "$(dd_rate write "$nullmnt")"
  record randread4k engine "$(bench_rate randread 4K 16 in.img)"
  record randread4k mount-fio-libaio \
    "$(fio_rate mount-fio-libaio "$work/in" randread 4k libaio 16 \
        "$mount_pid")"
  record randread4k null-fio-libaio \
    "$(fio_rate null-fio-libaio "$nullmnt" randread 4k libaio 16 \
        "$null_pid")"
done
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "== medians ($reps runs each, ${size_mib} MiB file;" \
  "MiB/s, IOPS for randread4k)"
python3 - "$samples" "$cpus" <<'PY'
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
        if t != test or not tool.startswith("mount-"):
            continue
        m = statistics.median(xs)
        r = m / base if base else 0
        ok = "ok" if r >= targets[test] else "BELOW"
        print(f"  {'':<11} {tool:<16} {m:10.1f}  {100 * r:5.1f}% "
              f"of the engine (target {100 * targets[test]:.0f}%: {ok})")
        null = "null-" + tool[len("mount-"):]
        if (test, null) not in v:
            continue
        floor = statistics.median(v[(test, null)])
        # Time per request: the engine's, 1/base; the FUSE path's,
        # 1/floor; the mount's at least their sum.
        bound = floor / (base + floor) if base + floor else 0
        print(f"  {'':<11} {null:<16} {floor:10.1f}  FUSE floor: the "
              f"ratio <= {100 * bound:.1f}%"
              + (" (target UNREACHABLE here)"
                 if bound < targets[test] else ""))

c = defaultdict(list)
try:
    for line in open(sys.argv[2]):
        test, tool, us, sw = line.split()
        c[(test, tool)].append((float(us), float(sw)))
except FileNotFoundError:
    pass
if c:
    print()
    print("== CPU per request (per MiB sequential) of the process serving "
          "it: median [range]")
    print(f"  {'':<11} {'':<16} {'CPU us':>22} {'ctx switches':>20}")
    for test in ("seqread", "seqwrite", "randread4k"):
        for tool in ("engine", "mount-fio-psync", "null-fio-psync",
                     "mount-fio-libaio", "null-fio-libaio"):
            xs = c.get((test, tool))
            if not xs:
                continue
            us = [x[0] for x in xs]
            sw = [x[1] for x in xs]
            print(f"  {test:<11} {tool:<16} "
                  f"{statistics.median(us):7.1f} [{min(us):.1f}-{max(us):.1f}]"
                  f"{'':>2}{statistics.median(sw):7.2f} "
                  f"[{min(sw):.2f}-{max(sw):.2f}]")
        m = c.get((test, "mount-fio-psync")) or c.get((test, "mount-fio-libaio"))
        n = c.get((test, "null-fio-psync")) or c.get((test, "null-fio-libaio"))
        e = c.get((test, "engine"))
        if m and n and e:
            mu = statistics.median(x[0] for x in m)
            nu = statistics.median(x[0] for x in n)
            eu = statistics.median(x[0] for x in e)
            print(f"  {'':<11} the daemon {mu:.1f} us = FUSE floor {nu:.1f}"
                  f" + engine {eu:.1f} + {mu - nu - eu:+.1f} of its own")
PY
