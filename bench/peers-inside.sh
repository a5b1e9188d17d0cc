#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/peers.sh's work, inside tests/with-ganesha.sh.  Environment from
# peers.sh: BUILD size_mib reps runtime out; from with-ganesha.sh: DIO_TEST_*.
set -euo pipefail

directio=$BUILD/tools/directio
plugin=$BUILD/nbdkit-plugin/.libs/nbdkit-nfsdirect-plugin.so
work=$(mktemp -d /var/tmp/dio-peers.XXXXXX)     # local disk, not tmpfs
csv=$out/peers-$(date +%Y%m%d-%H%M%S).csv
server_pid=
cleanup () {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ours_url () { echo "nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/$1?$DIO_TEST_QUERY"; }
# qemu's nfs driver rejects nfsport/mountport: it asks the namespace's rpcbind.
pm_url () { echo "nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/$1"; }

# cpu_s and maxrss_kib are the client's (the copy tool, or the NBD
# server); ganesha_cpu_s is the NFS server's meanwhile, fio_cpu_s fio's;
# ops counts fio's requests: together they give CPU per request.  ctxsw
# counts the NBD server's context switches (voluntary + involuntary, all
# its threads) during the fio run.
echo "test,tool,rep,value,unit,cpu_s,maxrss_kib,ganesha_cpu_s,fio_cpu_s,ops,ctxsw" > "$csv"
record ()
{
  echo "$1,$2,$3,$4,$5,$6,$7,${8:-0},${9:-0},${10:-0},${11:-}" >> "$csv"
  printf '  %-22s %-22s rep %s: %10.1f %-6s cpu %6.2f s  rss %7s KiB\n' \
    "$1" "$2" "$3" "$4" "$5" "$6" "$7"
}

ganesha_pid=$($DIO_GANESHA pid)
# CPU seconds of a process so far (user + system).
cpu_of () { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
minus () { python3 -c "print(round($1 - $2, 2))"; }

# timed TEST TOOL REP CMD...: a copy of size_mib MiB; rate from wall time,
# CPU and peak RSS of the command from GNU time.
timed ()
{
  local test=$1 tool=$2 rep=$3 wall u s rss g0
  shift 3
  g0=$(cpu_of "$ganesha_pid")
  if ! /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" \
       >"$work/out.log" 2>&1; then
    echo "peers.sh: $tool failed:" >&2; cat "$work/out.log" >&2; return 1
  fi
  read -r wall u s rss < "$work/time"
  record "$test" "$tool" "$rep" \
    "$(python3 -c "print(round($size_mib / max($wall, 0.001), 1))")" MiB/s \
    "$(python3 -c "print(round($u + $s, 2))")" "$rss" \
    "$(minus "$(cpu_of "$ganesha_pid")" "$g0")"
}

# The yardstick plugin (bench/nbdkit-floor.c): built here, not shipped.
floor_plugin=$work/nbdkit-floor.so
cc -O2 -Wall -Wextra -fPIC -shared -o "$floor_plugin" \
   "$(dirname "$0")/nbdkit-floor.c" $(pkg-config --cflags --libs libnfs)

bytes=$(( size_mib << 20 ))
echo "== making a $size_mib MiB source file"
head -c "$bytes" /dev/urandom > "$work/src"
cp "$work/src" "$DIO_TEST_DIR/in.img"
cp "$work/src" "$DIO_TEST_DIR/nbd.img"
sync

# ---- copies ---------------------------------------------------------------
copies ()
{
  local rep=$1
  rm -f "$work/dst"
  timed copy-out directio-cp "$rep" "$directio" cp "$(ours_url in.img)" "$work/dst"
  rm -f "$work/dst"
  timed copy-out nfs-cp "$rep" nfs-cp "$(ours_url in.img)" "$work/dst"
  rm -f "$work/dst"
  timed copy-out qemu-img "$rep" qemu-img convert -t none -T none -f raw -O raw \
    "$(pm_url in.img)" "$work/dst"
  rm -f "$work/dst" "$DIO_TEST_DIR"/out-*.img
  timed copy-in directio-cp "$rep" "$directio" cp "$work/src" "$(ours_url out-dio.img)"
  timed copy-in nfs-cp "$rep" nfs-cp "$work/src" "$(ours_url out-nfscp.img)"
  timed copy-in qemu-img "$rep" qemu-img convert -t none -T none -f raw -O raw \
    "$work/src" "$(pm_url out-qemu.img)"
  rm -f "$DIO_TEST_DIR"/out-*.img
  # Again, each right after memory was touched and freed (not a target;
  # bench/README.md "Copy-in and the host's memory").
  touch_memory
  timed copy-in-touched directio-cp "$rep" "$directio" cp "$work/src" \
    "$(ours_url out-dio-t.img)"
  touch_memory
  timed copy-in-touched nfs-cp "$rep" nfs-cp "$work/src" "$(ours_url out-nfscp-t.img)"
  rm -f "$DIO_TEST_DIR"/out-*.img
}

# Touch (and free) more memory than a copy-in's page cache needs, so that
# ganesha writes into pages the guest has just used.  In a VM that hands
# free memory back to its host (virtio-balloon free page reporting), a
# page touched again after it was reported costs the host a fault: ganesha
# then spent 2.5-4.5 CPU s per GiB copied in instead of 0.7.
touch_memory ()
{
  local avail_kib mib
  avail_kib=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
  mib=$(( 2 * size_mib + 512 ))
  [ "$mib" -le $(( avail_kib / 2048 )) ] || mib=$(( avail_kib / 2048 ))
  python3 -c "b = bytearray($mib << 20); b[::4096] = b'\\1' * len(b[::4096])"
}

# ---- NBD servers ----------------------------------------------------------
sock=$work/nbd.sock

start_server ()
{
  rm -f "$sock"
  case $1 in
    nbdkit) nbdkit --foreground -U "$sock" "$plugin" "$(ours_url nbd.img)" & ;;
    nbdkit-unstable)
      nbdkit --foreground -U "$sock" "$plugin" "$(ours_url nbd.img)" writes=unstable & ;;
    directio-nbd)       # the engine's own NBD server
      "$directio" nbd -U "$sock" "$(ours_url nbd.img)" & ;;
    directio-nbd-unstable)
      "$directio" nbd -U "$sock" --writes=unstable "$(ours_url nbd.img)" & ;;
    directio-nbd-unstable-nc1)  # one connection, as qemu-nbd has
      "$directio" nbd -U "$sock" --writes=unstable \
        "$(ours_url nbd.img)&nconnect=1" & ;;
    nbdkit-memory)      # nbdkit's own cost: a plugin that does no I/O
      nbdkit --foreground -U "$sock" memory "${size_mib}M" & ;;
    nbdkit-floor)       # nbdkit and libnfs alone: a plugin that waits for NFS
      nbdkit --foreground -U "$sock" "$floor_plugin" url="$(ours_url nbd.img)" & ;;
    qemu-nbd)
      qemu-nbd --persistent --shared=16 -k "$sock" -f raw --cache=none \
        "$(pm_url nbd.img)" & ;;
  esac
  server_pid=$!
  local i
  for i in $(seq 1 200); do
    [ -S "$sock" ] && nbdinfo --size "nbd+unix:///?socket=$sock" >/dev/null 2>&1 && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "peers.sh: $1 did not start" >&2
  return 1
}

stop_server ()
{
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

peak_rss () { awk '/VmHWM/ {print $2}' "/proc/$server_pid/status"; }

# The server's context switches during a run.  perf stat -p counts every
# thread, also those that start and end within the run (nbdkit's workers
# live as long as the client's connection); without perf, the sum over
# the threads alive at the end (which misses nbdkit's exited workers).
ctxsw_pid=
ctxsw_start ()
{
  if command -v perf >/dev/null 2>&1; then
    perf stat -x, -e context-switches -p "$server_pid" -o "$work/perf.txt" &
    ctxsw_pid=$!
    # perf has attached once its output file has its header line.
    local i
    for i in $(seq 1 100); do
      [ -s "$work/perf.txt" ] && break
      sleep 0.02
    done
  else
    ctxsw_sum > "$work/ctxsw0"
  fi
}
ctxsw_sum ()
{
  cat /proc/"$server_pid"/task/*/status 2>/dev/null |
    awk '/ctxt_switches/ {s += $2} END {print s + 0}'
}
ctxsw_stop ()
{
  if [ -n "$ctxsw_pid" ]; then
    kill -INT "$ctxsw_pid"
    wait "$ctxsw_pid" || true
    ctxsw_pid=
    awk -F, '/context-switches/ {print $1}' "$work/perf.txt"
    rm -f "$work/perf.txt"
  else
    echo $(( $(ctxsw_sum) - $(cat "$work/ctxsw0") ))
  fi
}

# What paces durable small writes: directio nbd's own counters (directio
# stat, read from the file it publishes, outside the measured window)
# over one fio run: WRITE and COMMIT calls, the writes that joined a
# COMMIT, and the calls' mean round trips, a line per round in
# peers-*-commits.csv (bench/README.md).
commits_csv="${csv%.csv}-commits.csv"
stat_json () { "$directio" stat --json "$server_pid" 2>/dev/null || true; }
commits_record () # REP BEFORE-JSON AFTER-JSON
{
  [ -s "$commits_csv" ] ||
    echo "rep,seconds,write_rpcs,commits,joins,write_rtt_ms,commit_rtt_ms" > "$commits_csv"
  python3 - "$@" >> "$commits_csv" <<'PY' || true
import json, sys
rep, a, b = sys.argv[1], sys.argv[2], sys.argv[3]
a, b = (json.loads(x)["mounts"][0] for x in (a, b))
def calls(op):
    n = b["ops"][op]["ops"] - a["ops"][op]["ops"]
    rtt = (b["ops"][op]["ops"] * b["ops"][op]["avg_rtt_ms"]
           - a["ops"][op]["ops"] * a["ops"][op]["avg_rtt_ms"])
    return n, rtt / n if n else 0.0
writes, write_rtt = calls("write")
commits, commit_rtt = calls("commit")
print(f"{rep},{b['seconds'] - a['seconds']:.3f},{writes},{commits},"
      f"{b['commit_joins'] - a['commit_joins']},{write_rtt:.3f},{commit_rtt:.3f}")
PY
}

# fio_job TEST SERVER REP RW BS QD [EXTRA...]: one fio run on the server.
fio_job ()
{
  local test=$1 server=$2 rep=$3 rw=$4 bs=$5 qd=$6 t0 t1 g0 value unit fcpu ops sw
  local stat0=''
  shift 6
  [ "$server/$test" != directio-nbd/randwrite-4K-qd16-durable ] ||
    stat0=$(stat_json)
  ctxsw_start
  t0=$(cpu_of "$server_pid")
  g0=$(cpu_of "$ganesha_pid")
  fio --name="$test" --ioengine=nbd --uri="nbd+unix:///?socket=$sock" \
      --rw="$rw" --bs="$bs" --iodepth="$qd" --size="${size_mib}m" \
      --time_based --runtime="$runtime" --output-format=json "$@" \
      > "$work/fio.json" 2>"$work/fio.err" ||
    { cat "$work/fio.err" >&2; return 1; }
  t1=$(cpu_of "$server_pid")
  sw=$(ctxsw_stop)
  [ -z "$stat0" ] || commits_record "$rep" "$stat0" "$(stat_json)"
  read -r value unit fcpu ops < <(python3 - "$work/fio.json" "$bs" <<'PY'
import json, sys
text = open(sys.argv[1]).read()   # fio's nbd engine prints a line first
j = json.loads(text[text.index("{"):])["jobs"][0]
d = j["read"] if j["read"]["io_bytes"] else j["write"]
fio_cpu = round((j["usr_cpu"] + j["sys_cpu"]) / 100 * j["job_runtime"] / 1000, 2)
ops = j["read"]["total_ios"] + j["write"]["total_ios"]
if sys.argv[2].upper().endswith("K"):
    print(round(d["iops"], 0), "IOPS", fio_cpu, ops)
else:
    print(round(d["bw_bytes"] / 1048576, 1), "MiB/s", fio_cpu, ops)
PY
)
  record "$test" "$server" "$rep" "$value" "$unit" "$(minus "$t1" "$t0")" \
    "$(peak_rss)" "$(minus "$(cpu_of "$ganesha_pid")" "$g0")" "$fcpu" "$ops" \
    "$sw"
}

nbd_round ()
{
  local rep=$1 server
  for server in directio-nbd nbdkit qemu-nbd; do
    start_server "$server"
    fio_job seqread-1M-qd16 "$server" "$rep" read 1M 16
    fio_job seqread-1M-qd1 "$server" "$rep" read 1M 1
    fio_job seqwrite-1M-qd16 "$server" "$rep" write 1M 16
    fio_job seqwrite-1M-qd1 "$server" "$rep" write 1M 1
    fio_job seqwrite-1M-qd16-fsync "$server" "$rep" write 1M 16 --fsync=1
    fio_job randread-4K-qd16 "$server" "$rep" randread 4K 16
    fio_job randread-4K-qd64 "$server" "$rep" randread 4K 64
    fio_job randwrite-4K-qd16-durable "$server" "$rep" randwrite 4K 16 --fsync=1
    if [ "$server" = qemu-nbd ]; then
      fio_job randwrite-4K-qd16-unstable "$server" "$rep" randwrite 4K 16
      fio_job seqwrite-1M-qd16-unstable "$server" "$rep" write 1M 16
      fio_job seqwrite-1M-qd1-unstable "$server" "$rep" write 1M 1
    fi
    stop_server
  done
  # Ours with the durability qemu-nbd has: not committed until a flush.
  for server in directio-nbd nbdkit; do
    start_server "$server-unstable"
    fio_job randwrite-4K-qd16-unstable "$server" "$rep" randwrite 4K 16
    fio_job seqwrite-1M-qd16-unstable "$server" "$rep" write 1M 16
    fio_job seqwrite-1M-qd1-unstable "$server" "$rep" write 1M 1
    stop_server
  done
  # The same 1 MiB writes over one connection: what the second one costs
  # ganesha on this machine (bench/README.md).
  start_server directio-nbd-unstable-nc1
  fio_job seqwrite-1M-qd16-unstable directio-nbd-nc1 "$rep" write 1M 16
  stop_server
  # The floor under any nbdkit plugin: nbdkit's CPU per request alone.
  start_server nbdkit-memory
  fio_job randread-4K-qd16 nbdkit-memory "$rep" randread 4K 16
  fio_job randwrite-4K-qd16-unstable nbdkit-memory "$rep" randwrite 4K 16
  fio_job seqwrite-1M-qd16 nbdkit-memory "$rep" write 1M 16
  stop_server
  # The floor under any plugin that waits for the NFS server in nbdkit's
  # thread: one libnfs context per thread, synchronous calls, no engine.
  start_server nbdkit-floor
  fio_job randread-4K-qd16 nbdkit-floor "$rep" randread 4K 16
  fio_job randread-4K-qd64 nbdkit-floor "$rep" randread 4K 64
  fio_job randwrite-4K-qd16-unstable nbdkit-floor "$rep" randwrite 4K 16
  stop_server
}

# ---- ceilings -------------------------------------------------------------
# disk_rate TEST RW FIO-ARGS...: one local fio run on the export's disk.
disk_rate ()
{
  local test=$1 rw=$2
  shift 2
  fio --name=disk --rw="$rw" --output-format=json "$@" > "$work/fio.json"
  record "$test" local-disk "$rep" "$(python3 -c "
import json; j = json.load(open('$work/fio.json'))['jobs'][0]
print(round(j['$rw']['bw_bytes'] / 1048576, 1))")" MiB/s 0 0
}

ceiling ()
{
  local rep=$1 rw
  for rw in read write; do
    disk_rate "disk-odirect-$rw" "$rw" --filename="$DIO_TEST_DIR/ceiling.img" \
      --direct=1 --ioengine=libaio --bs=1M --iodepth=16 --size="${size_mib}m" \
      --time_based --runtime="$runtime"
  done
  # What a copy out of NFS faces: a new local file written O_DIRECT
  # (directio cp and qemu-img -t none both do).
  rm -f "$work/newfile"
  disk_rate disk-newfile-write write --filename="$work/newfile" --direct=1 \
    --ioengine=libaio --bs=8M --iodepth=4 --fallocate=none --size="${size_mib}m"
  rm -f "$work/newfile"
}

bench_read ()
{
  local rep=$1
  "$directio" bench "$(ours_url in.img)" --rw read --bs 1M --size "${size_mib}M" \
    --time "$runtime" --json > "$work/bench.json"
  record seqread-direct directio-bench "$rep" "$(python3 - "$work/bench.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
def find(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if "mib" in k.lower() and isinstance(v, (int, float)):
                return v
            r = find(v)
            if r is not None:
                return r
    return None
print(round(find(j), 1))
PY
)" MiB/s 0 0
}

for rep in $(seq 1 "$reps"); do
  echo "== round $rep of $reps"
  copies "$rep"
  nbd_round "$rep"
  ceiling "$rep"
  bench_read "$rep"
done

# ---- where a 4 KiB read's CPU goes ----------------------------------------
# perf record of each NBD server through one more randread-4K-qd16 run (not
# one of the measured ones: recording costs CPU): its samples by binary and
# the top symbols, saved beside the CSV.
profile="${csv%.csv}-profile.txt"
profile_server ()
{
  local server=$1 rec
  start_server "$server"
  perf record -q -g -p "$server_pid" -o "$work/prof.data" 2>/dev/null &
  rec=$!
  fio --name=profile --ioengine=nbd --uri="nbd+unix:///?socket=$sock" \
      --rw=randread --bs=4K --iodepth=16 --size="${size_mib}m" \
      --time_based --runtime="$runtime" >/dev/null 2>&1 || true
  kill -INT "$rec"; wait "$rec" || true
  stop_server
  perf report -i "$work/prof.data" --no-children --sort dso --stdio -g none \
    > "$work/by-dso.txt" 2>/dev/null || true
  perf report -i "$work/prof.data" --no-children --sort dso,sym --stdio \
    -g none > "$work/by-sym.txt" 2>/dev/null || true
  {
    echo "=== $server: fio nbd randread 4K iodepth 16, samples by binary"
    grep -v -e '^#' -e '^$' "$work/by-dso.txt" | head -n 6 || true
    echo "--- top symbols"
    grep -v -e '^#' -e '^$' "$work/by-sym.txt" | head -n 10 || true
  } >> "$profile"
  rm -f "$work/prof.data"
}
if command -v perf >/dev/null 2>&1; then
  echo "== profiles of the NBD servers (4 KiB random reads)"
  : > "$profile"
  for server in directio-nbd nbdkit nbdkit-floor qemu-nbd; do
    profile_server "$server"
  done
fi

echo
echo "== medians ($reps runs each; samples in $csv)"
python3 "$(dirname "$0")/peers-report.py" "$csv"
if [ -s "${profile:-}" ]; then
  echo
  echo "== where the NBD servers' CPU goes, 4 KiB random reads ($profile)"
  cat "$profile"
fi
