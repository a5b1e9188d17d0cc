#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# directio stat shows a running nbdkit nfsdirect: the process that serves
# (nbdkit forks before it serves) publishes its mount, and the counters
# match the NBD requests made: 4 writes of 64 KiB (FUA: stable, no COMMIT)
# and 3 reads of 64 KiB; the same for a daemon nbdkit (which checks the
# file before it forks: only the serving child's file is there).

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e

requires_ganesha_any
requires_nfsdirect
requires_all python3
requires directio --version

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
export XDG_RUNTIME_DIR=$tmp/xdg
mkdir -m 0700 "$XDG_RUNTIME_DIR"

# The check inside --run: nbdkit serves while it runs.
nbd_steps=$(dirname "$0")/nbd-steps.py
export nbd_steps
cat > "$tmp/run.sh" <<'EOF2'
set -e
python3 "$nbd_steps" "$1" \
  "a write 0 64K 0x73 fua" "a write 64K 64K 0x73 fua" \
  "a write 128K 64K 0x73 fua" "a write 192K 64K 0x73 fua" \
  "a read 0 64K 0x73" "a read 64K 64K 0x73" "a read 128K 64K 0x73" >/dev/null
directio stat --json > "$TMPOUT"
EOF2
TMPOUT=$tmp/stat.json $nbdkit -U - "$nfsdirect" "$(dio_url stat.img)" \
  create=true size=1M --run "bash $tmp/run.sh \"\$unixsocket\"" || fail "nbdkit --run failed"
cat "$tmp/stat.json"
python3 - "$tmp/stat.json" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read())
# The only publisher in this test's runtime directory: the serving nbdkit
# (named so unless it runs under valgrind).
ms = r["mounts"]
assert len(ms) == 1, r
m = ms[0]
K = 65536
assert m["ops"]["write"]["ops"] == 4 and m["ops"]["write"]["bytes"] == 4 * K, m
assert m["ops"]["read"]["ops"] == 3 and m["ops"]["read"]["bytes"] == 3 * K, m
assert m["ops"]["commit"]["ops"] == 0, m
assert m["errors"] == 0 and m["url"].startswith("nfs://127.0.0.1/export"), m
assert m["spin_us"] == 50, m   # a server polls before sleeping (spin=)
# Whether those 7 requests' waits were caught by polling depends on the
# machine; the counts are there, and no more than one a wait.
assert all(type(m[k]) is int and 0 <= m[k] <= 1000 for k in ("spin_hits", "spin_misses")), m
PY
# Gone with nbdkit.
ls "$XDG_RUNTIME_DIR/directio" > "$tmp/left"
[ ! -s "$tmp/left" ] || fail "stats files left after nbdkit exited: $(cat "$tmp/left")"

# As a daemon: nbdkit checks the file, forks into the background, and the
# child serves: `directio stat` of the pid in its pid file shows the mount
# and the requests; the parent left no file behind.
daemon_pid=
stop_daemon ()
{
  [ -n "$daemon_pid" ] || return 0
  kill "$daemon_pid" 2>/dev/null || return 0
  retry_until "$nbdkit_wait_s" eval "! kill -0 $daemon_pid 2>/dev/null" ||
    fail "nbdkit $daemon_pid did not exit"
  daemon_pid=
}
cleanup_fn stop_daemon
$nbdkit -P "$tmp/pid" -U "$tmp/sock" "$nfsdirect" "$(dio_url stat.img)"
retry_until "$nbdkit_wait_s" test -S "$tmp/sock" -a -s "$tmp/pid" ||
  fail "daemon: no socket"
daemon_pid=$(cat "$tmp/pid")
python3 "$nbd_steps" "$tmp/sock" "a write 0 64K 0x61 fua" \
  "a read 0 64K 0x61" >/dev/null
ls "$XDG_RUNTIME_DIR/directio" > "$tmp/files"
[ "$(cat "$tmp/files")" = "$daemon_pid.stats" ] ||
  fail "daemon: stats files $(cat "$tmp/files"), not $daemon_pid.stats alone"
directio stat --json "$daemon_pid" > "$tmp/daemon.json" ||
  fail "directio stat $daemon_pid failed"
python3 - "$tmp/daemon.json" <<'PY'
import json, sys
m = json.loads(open(sys.argv[1]).read())["mounts"]
assert len(m) == 1, m
m = m[0]
assert m["ops"]["write"]["ops"] == 1 and m["ops"]["read"]["ops"] == 1, m
PY
stop_daemon
ls "$XDG_RUNTIME_DIR/directio" > "$tmp/left"
[ ! -s "$tmp/left" ] || fail "daemon: stats file left after SIGTERM: $(cat "$tmp/left")"
exit 0
