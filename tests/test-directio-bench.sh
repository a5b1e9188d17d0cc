#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# directio bench: each --rw mode runs against the test server and its
# --json output parses with sane fields (IOPS > 0, the bytes asked for,
# ordered percentiles); each option has its effect; a read test first
# writes a short file up to --size and says so; failures exit 1 with a
# message and usage errors exit 2.

. "$(dirname "$0")/functions.sh"
set -e
set -x

requires_ganesha
requires_all python3 stat
requires directio --version

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
dir=$DIO_TEST_DIR
M=$(( 1024 * 1024 ))

# check_json PYTHON-CONDITION...
# $tmp/out is one JSON object r; each condition must hold.
check_json ()
{
  python3 - "$tmp/out" "$@" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    r = json.load(f)
lat = r["latency_us"]
base = [
    'r["iops"] > 0', 'r["mib_per_s"] > 0', 'r["seconds"] > 0',
    'r["ios"] > 0', 'r["bytes"] == r["ios"] * r["bs"]',
    '0 < lat["min"] <= lat["p50"] <= lat["p99"] <= lat["p99_9"] <= lat["max"]',
    'lat["min"] <= lat["mean"] <= lat["max"]',
    'abs(r["iops"] - r["ios"] / r["seconds"]) < 0.01 * r["iops"] + 1',
    'r["mount"]["rsize"] > 0 and r["mount"]["nconnect"] >= 1',
]
for cond in base + sys.argv[2:]:
    if not eval(cond):
        sys.exit("json: %s does not hold in %s" % (cond, json.dumps(r)))
EOF
}

# --- The command line ------------------------------------------------------
expect_status 0 directio bench --help
grep -q 'Usage: directio bench' "$tmp/out" || fail "bench --help: no usage"
url=$(dio_url bench.dat)
expect_status 2 directio bench
expect_status 2 directio bench "$url" extra
expect_status 2 directio bench --bogus "$url"
expect_status 2 directio bench --rw sideways "$url"
expect_status 2 directio bench --bs 0 "$url"
expect_status 2 directio bench --bs 1X "$url"
expect_status 2 directio bench --size 0 "$url"
expect_status 2 directio bench --jobs 0 "$url"
expect_status 2 directio bench --iodepth 0 "$url"
expect_status 2 directio bench --time 0 "$url"
expect_status 2 directio bench --time -1 "$url"
expect_status 2 directio bench --jobs 256 --iodepth 1024 --bs 64M "$url"
[ ! -e "$dir/bench.dat" ] || fail "a usage error created the target"

# --- read: a missing file is written up to --size first ------------------------
expect_status 0 directio bench --size 16M --json "$url"
err_has 'shorter than --size 16.00 MiB: writing the rest first'
[ "$(stat -c %s "$dir/bench.dat")" = $(( 16 * M )) ] || fail "not extended"
check_json 'r["rw"] == "read"' 'r["bytes"] == 16 * 2**20' \
  'r["bs"] == 2**20' 'r["jobs"] == 1 and r["iodepth"] == 1' \
  'r["cached"] is False and r["time_based"] is False' \
  'r["rpcs"]["read"] >= r["ios"]' 'r["rpcs"]["write"] == 0'
# Long enough now: no writing, no message.
expect_status 0 directio bench --size 16M --json "$url"
[ ! -s "$tmp/err" ] || fail "stderr: $(cat "$tmp/err")"
check_json 'r["bytes"] == 16 * 2**20'

# --- write -------------------------------------------------------------------
expect_status 0 directio bench --rw write --size 8M --json "$(dio_url w.dat)"
check_json 'r["rw"] == "write"' 'r["bytes"] == 8 * 2**20' \
  'r["rpcs"]["write"] >= r["ios"]' 'r["rpcs"]["read"] == 0'
[ "$(stat -c %s "$dir/w.dat")" = $(( 8 * M )) ] || fail "write: size"

# --- randread, randwrite (4K default) --------------------------------------------
expect_status 0 directio bench --rw randread --size 16M --json "$url"
check_json 'r["rw"] == "randread"' 'r["bs"] == 4096' \
  'r["ios"] == 16 * 2**20 // 4096' \
  '0 < r["cpu_us_per_io"] < 100000' '0 <= r["ctxsw_per_io"] < 1000'
grep -q 'per request: [0-9.]* us CPU, [0-9.]* context switches' \
  <(directio bench --rw randread --size 4M "$url") ||
  fail "text output lacks the per-request CPU and context switches"
expect_status 0 directio bench --rw randwrite --size 4M --json "$(dio_url w.dat)"
check_json 'r["rw"] == "randwrite"' 'r["bs"] == 4096' \
  'r["ios"] == 4 * 2**20 // 4096' 'r["rpcs"]["write"] >= r["ios"]'
# One at a time, each write is one FILE_SYNC WRITE; 8 at once, they go
# UNSTABLE and share COMMITs (fewer COMMITs than writes made durable).
check_json 'r["rpcs"]["commit"] == 0 and r["rpcs"]["commit_joins"] == 0'
expect_status 0 directio bench --rw randwrite --size 4M --iodepth 8 --json \
  "$(dio_url w.dat)"
check_json 'r["rpcs"]["commit_joins"] > r["rpcs"]["commit"] > 0'

# --- One option at a time ----------------------------------------------------------
expect_status 0 directio bench --bs 64K --size 16M --json "$url"
check_json 'r["bs"] == 65536' 'r["ios"] == 256'
expect_status 0 directio bench --jobs 3 --size 16M --json "$url"
check_json 'r["jobs"] == 3' 'r["ios"] == 16'       # slices of 5, 5 and 6
expect_status 0 directio bench --iodepth 8 --rw randread --size 16M --json "$url"
check_json 'r["iodepth"] == 8' 'r["ios"] == 4096'
expect_status 0 directio bench --time 1 --rw randread --size 16M --json "$url"
check_json 'r["time_based"] is True' '1.0 <= r["seconds"] < 10'
expect_status 0 directio bench --cached --size 16M --json "$url"
check_json 'r["cached"] is True' 'r["bytes"] == 16 * 2**20'
# Short options and --size defaulting to the file's size.
expect_status 0 directio bench -w read -b 1M -j 2 -d 2 --json "$url"
check_json 'r["size"] == 16 * 2**20' 'r["jobs"] == 2 and r["iodepth"] == 2' \
  'r["ios"] == 16'

# --- Text output ---------------------------------------------------------------------
expect_status 0 directio bench --size 16M "$url"
grep -Eq '^read nfs://.*bench.dat.*: bs 1.00 MiB, size 16.00 MiB, jobs 1, iodepth 1, direct$' \
  "$tmp/out" || fail "text header: $(cat "$tmp/out")"
grep -Eq '^  [0-9.]+ MiB/s, [0-9]+ IOPS \(16.00 MiB in [0-9.]+ s\)$' \
  "$tmp/out" || fail "text rates: $(cat "$tmp/out")"
grep -Eq '^  latency \(us\): min [0-9.]+, mean [0-9.]+, p50 [0-9.]+, p99 [0-9.]+, p99.9 [0-9.]+, max [0-9.]+$' \
  "$tmp/out" || fail "text latency: $(cat "$tmp/out")"

# --- Failures -------------------------------------------------------------------------
expect_status 1 directio bench --size 1M "$(dio_url x.dat)&bogus=1"
err_has '^directio bench: .*bogus'
dead="nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/x.dat?nfsport=1&mountport=1&retry=0"
expect_status 1 directio bench --size 1M "$dead"
err_has '^directio bench: .*nfsport=1'
expect_status 1 directio bench --size 1M --jobs 2 --bs 1M "$(dio_url small.dat)"
err_has 'fewer than --jobs 2'
[ ! -s "$tmp/out" ] || fail "a failed bench printed results"
