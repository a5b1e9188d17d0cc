#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A/B of directio nbd builds beside qemu-nbd, with what the NFS server
# does meanwhile: for each fio nbd job, rounds alternate between this
# build ("ours"), an optional other build ("base") and qemu-nbd
# --cache=none, and print per run the rate, ganesha's and the NBD
# server's CPU per request, ganesha's thread migrations per 1,000
# requests and the server's sleeps (voluntary) and preemptions
# (involuntary) per request; then medians and ratios to qemu-nbd.
# bench/README.md, "Adaptive polling", was measured so.
#
# Usage: bench/nbd-ab.sh [--base BUILDDIR] [--rounds N] [--time S]
#                        [--query ARGS] [--base-query ARGS] [JOB...]
# JOB is RW:BS:IODEPTH[:unstable|:fsync|:fsync-unstable] (default:
# randwrite:4k:16 write:1M:16 randread:4k:16 randwrite:4k:16:fsync);
# unstable (the default) serves --writes=unstable against qemu-nbd's
# uncommitted writes, fsync serves durable writes to fio --fsync=1,
# fsync-unstable serves --writes=unstable to fio --fsync=1 (each flush
# a COMMIT, as qemu-nbd does it).  --query adds
# nfs:// URL arguments to ours (and base), e.g. "spin=0&window=2";
# --base-query gives base its own instead (--base may then name this
# build, to compare two settings of one build).
# Needs root and a built tree (or BUILD=DIR); the loopback ganesha is
# started by tests/with-ganesha.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
if [ "${1:-}" = --inside ]; then
  shift
else
  base='' rounds=3 runtime=8 query='' base_query=-
  while [ $# -gt 0 ]; do
    case $1 in
      --base) base=$2; shift 2 ;;
      --rounds) rounds=$2; shift 2 ;;
      --time) runtime=$2; shift 2 ;;
      --query) query=$2; shift 2 ;;
      --base-query) base_query=$2; shift 2 ;;
      -h|--help) sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
      -*) echo "nbd-ab.sh: unknown option: $1 (try --help)" >&2; exit 2 ;;
      *) break ;;
    esac
  done
  for v in "$rounds" "$runtime"; do
    case $v in
      ''|*[!0-9]*|0) echo "nbd-ab.sh: --rounds and --time take a positive whole number, not '$v'" >&2; exit 2 ;;
    esac
  done
  BUILD=${BUILD:-$top/_build}
  for b in "$BUILD" ${base:+"$base"}; do
    [ -x "$b/tools/directio" ] || { echo "nbd-ab.sh: $b/tools/directio missing: build first" >&2; exit 1; }
  done
  for c in qemu-nbd fio nbdinfo python3; do
    command -v "$c" >/dev/null || { echo "nbd-ab.sh: $c not found" >&2; exit 1; }
  done
  [ "$base_query" != - ] || base_query=$query
  export BUILD base rounds runtime query base_query
  exec "$top/tests/with-ganesha.sh" "$0" --inside "$@"
fi

[ $# -gt 0 ] || set -- randwrite:4k:16 write:1M:16 randread:4k:16 randwrite:4k:16:fsync
work=$(mktemp -d /var/tmp/dio-ab.XXXXXX)
sock=$work/nbd.sock
server=
cleanup () { [ -z "$server" ] || kill "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
gpid=$($DIO_GANESHA pid)
url="nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/ab.img?$DIO_TEST_QUERY${query:+&$query}"
base_url="nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/ab.img?$DIO_TEST_QUERY${base_query:+&$base_query}"
qemu_url="nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/ab.img"
head -c $((1024 << 20)) /dev/urandom > "$DIO_TEST_DIR/ab.img"

cpu_of () { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat"; }
# Each of ganesha's threads' migrations ("TID COUNT" lines) into $2.
# Threads come and go, so a sum over the threads alive at each end
# could fall: migrations_since counts, for each thread alive at the
# end, what it did since the start (all of it if it is new).
migrations_to () { for t in /proc/"$1"/task/*; do awk -v t="${t##*/}" '/nr_migrations/ {print t, $3}' "$t/sched" 2>/dev/null; done > "$2"; }
migrations_since () { migrations_to "$1" "$work/mig.after"; awk 'NR == FNR {b[$1] = $2; next} {s += $2 - b[$1]} END {print s + 0}' "$work/mig.before" "$work/mig.after"; }
switches_of () { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt/ {v += $2} /^nonvoluntary_ctxt/ {n += $2} END {print v + 0, n + 0}'; }
sample_before () { migrations_to "$gpid" "$work/mig.before"; echo "$(cpu_of "$gpid") 0 $(cpu_of "$1") $(switches_of "$1")"; }
sample_after () { echo "$(cpu_of "$gpid") $(migrations_since "$gpid") $(cpu_of "$1") $(switches_of "$1")"; }

start () # WHO MODE
{
  local mode=--writes=unstable
  [ "$2" = fsync ] && mode=--writes=stable
  rm -f "$sock"
  case $1 in
    ours) "$BUILD/tools/directio" nbd -U "$sock" "$mode" "$url" & ;;
    base) "$base/tools/directio" nbd -U "$sock" "$mode" "$base_url" & ;;
    qemu) qemu-nbd --persistent --shared=16 -k "$sock" -f raw --cache=none "$qemu_url" & ;;
  esac
  server=$!
  for _ in $(seq 100); do
    nbdinfo --size "nbd+unix:///?socket=$sock" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "nbd-ab.sh: $1 did not start serving" >&2
  exit 1
}

for job in "$@"; do
  IFS=: read -r rw bs qd mode <<< "$job"
  mode=${mode:-unstable}
  echo "== $rw $bs qd$qd $mode"
  for round in $(seq "$rounds"); do
    for who in ours ${base:+base} qemu; do
      start "$who" "$mode"
      before=$(sample_before "$server")
      fio --name=ab --ioengine=nbd --uri="nbd+unix:///?socket=$sock" \
        --rw="$rw" --bs="$bs" --iodepth="$qd" --size=1024m --time_based \
        --runtime="$runtime" $(case $mode in fsync*) echo --fsync=1 ;; esac) \
        --output-format=json > "$work/fio.json"
      after=$(sample_after "$server")
      kill "$server"; wait "$server" 2>/dev/null || true; server=
      python3 - "$round" "$who" "$work/fio.json" $before $after <<'PY'
import json, sys
rnd, who, path = sys.argv[1:4]
b = [float(x) for x in sys.argv[4:9]]
a = [float(x) for x in sys.argv[9:14]]
t = open(path).read()
j = json.loads(t[t.index("{"):])["jobs"][0]
d = j["write"] if j["write"]["total_ios"] else j["read"]
n = max(d["total_ios"], 1)
us = lambda i: (a[i] - b[i]) * 1e6 / n
print(f"{rnd} {who:5} rate {d['iops']:9.0f} IOPS {d['bw_bytes'] / 1048576:7.0f} MiB/s"
      f"  ganesha {us(0):6.1f} us  server {us(2):6.1f} us"
      f"  ganesha migrations/1k {(a[1] - b[1]) * 1000 / n:6.1f}"
      f"  server sleeps {(a[3] - b[3]) / n:.2f} preemptions {(a[4] - b[4]) / n:.2f}")
PY
    done
  done | tee "$work/job.log"
  python3 - "$work/job.log" <<'PY'
import re, statistics as st, sys
runs = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\d+) (\w+) +rate +(\d+) IOPS.*ganesha +([\d.-]+) us +server +([\d.-]+) us", line)
    if m:
        runs.setdefault(m[2], []).append((int(m[3]), float(m[4]), float(m[5])))
q = [r[0] for r in runs.get("qemu", [])]
for who, v in runs.items():
    ratios = [r[0] / x for r, x in zip(v, q) if x]
    print(f"   {who:5} median {st.median(r[0] for r in v):9.0f} IOPS, "
          f"{st.median(ratios):.2f}x qemu-nbd (rounds {' '.join(f'{x:.2f}' for x in ratios)}), "
          f"ganesha {st.median(r[1] for r in v):.1f} us, server {st.median(r[2] for r in v):.1f} us")
PY
done
