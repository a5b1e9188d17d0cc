#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# directio stat: a process doing known I/O publishes its counters in
# its stats file (0700 directory, 0600 file, named by pid) and `directio
# stat PID` / `--json` show exactly that I/O, with RTT and execution times;
# intervals report deltas; the file goes at exit; a killed process's stale
# file is ignored and removed; a WRITE in flight when the server dies is
# counted as one retransmit; DIRECTIO_PUBLISH=off and an unusable
# runtime directory publish nothing and fail nothing; usage errors exit 2.

. "$(dirname "$0")/functions.sh"
set -e

requires_ganesha_any
requires_all python3 stat mkfifo
requires directio --version
user=${builddir:-.}/stat-user
[ -x "$user" ] || skip "$user not built"

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
export XDG_RUNTIME_DIR=$tmp/xdg
mkdir -m 0700 "$XDG_RUNTIME_DIR"
rundir=$XDG_RUNTIME_DIR/directio
K=1024

# start_user NAME WRITES READS SIZE [CACHED]: run stat-user (on the URL
# of NAME, plus $url_extra; under the command $user_prefix) in the background with
# its stdin on a fifo; wait (bounded) until it says it is ready.
start_user ()
{
  local name=$1 i
  shift
  mkfifo "$tmp/$name.in"
  $user_prefix ${DIO_TEST_WRAPPER} "$user" "$(dio_url "$name")$url_extra" "$@" \
    <"$tmp/$name.in" \
    >"$tmp/$name.out" &
  eval "${name}_pid=\$!"
  exec {fd}>"$tmp/$name.in"
  eval "${name}_fd=\$fd"
  for i in $(seq 1 2400); do
    grep -q '^ready' "$tmp/$name.out" 2>/dev/null && return 0
    kill -0 "$(eval echo \$${name}_pid)" 2>/dev/null || fail "$name exited early"
    sleep 0.05
  done
  fail "$name not ready after 120 s"
}

# stop_user NAME: end its stdin and wait for it (exit 0).
stop_user ()
{
  local fd pid
  fd=$(eval echo \$${1}_fd)
  pid=$(eval echo \$${1}_pid)
  exec {fd}>&-
  wait "$pid" || fail "$1 exited $?"
}

# --- Known I/O: 3 writes of 64 KiB (each a lone FILE_SYNC WRITE), 5 reads.
start_user a 3 5 $(( 64 * K ))
pid=$a_pid
[ -f "$rundir/$pid.stats" ] || fail "no $rundir/$pid.stats"
[ "$(stat -c %a "$rundir")" = 700 ] || fail "$rundir is not 0700"
[ "$(stat -c %a "$rundir/$pid.stats")" = 600 ] || fail "stats file is not 0600"

expect_status 0 directio stat --json "$pid"
python3 - "$tmp/out" "$pid" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
r = json.loads(lines[0])
ms = r["mounts"]
assert len(ms) == 1, ms
m = ms[0]
K = 1024
checks = [
    (m["pid"], int(sys.argv[2])), (m["since_mount"], True),
    (m["ops"]["write"]["ops"], 3), (m["ops"]["write"]["bytes"], 3 * 64 * K),
    (m["ops"]["read"]["ops"], 5), (m["ops"]["read"]["bytes"], 5 * 64 * K),
    (m["ops"]["commit"]["ops"], 0),
    (m["write_rpcs"], 3), (m["read_rpcs"], 5),
    (m["direct_write_bytes"], 3 * 64 * K), (m["direct_read_bytes"], 5 * 64 * K),
    (m["errors"], 0), (m["ops"]["read"]["errors"], 0),
    (m["ops"]["write"]["retrans"], 0), (m["export"], "/export"),
    (m["server"], "127.0.0.1"),
    (m["spin_us"], 0),          # the library does not spin by default
    (m["spin_hits"], 0), (m["spin_misses"], 0),     # and so never polls
]
for got, want in checks:
    assert got == want, (got, want, m)
for op in ("read", "write"):
    o = m["ops"][op]
    assert 0 < o["avg_rtt_ms"] <= o["avg_exe_ms"] < 10000, (op, o)
    assert o["ops_per_s"] > 0 and o["kb_per_s"] > 0, (op, o)
assert m["ops"]["other"]["ops"] >= 1, m  # LOOKUP/CREATE of the open
# Each RPC went out once: sent by its caller or by a service thread.
rpcs = sum(o["ops"] for o in m["ops"].values())
assert all(isinstance(m[k], int) for k in ("wakeups", "lock_waits")), m
assert 0 <= m["caller_sends"] <= rpcs, (rpcs, m)
assert m["url"].startswith("nfs://127.0.0.1/export"), m
assert m["seconds"] > 0
PY

# The text form names the mount and each kind of RPC.
expect_status 0 directio stat "$pid"
for word in "nfs://127.0.0.1/export" "pid $pid" "avg RTT" read write commit \
            other resends "spin 0 us" "spin: caught 0, gave up 0" \
            "threads: sent by the caller"; do
  grep -q -- "$word" "$tmp/out" || fail "text report lacks '$word': $(cat "$tmp/out")"
done
grep -Eq '^  read +[0-9.]+ +[0-9.]+ +64\.000 +0 ' "$tmp/out" ||
  fail "read line wrong: $(cat "$tmp/out")"

# Without a PID: every publishing process, this one among them.
expect_status 0 directio stat --json
grep -q "\"pid\":$pid" "$tmp/out" || fail "stat (all) lacks pid $pid"

# INTERVAL COUNT: two reports; the second is a delta, and nothing happened.
expect_status 0 directio stat --json "$pid" 0.2 2
python3 - "$tmp/out" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 2, lines
a, b = (json.loads(l)["mounts"][0] for l in lines)
assert a["since_mount"] and not b["since_mount"], (a, b)
assert a["ops"]["write"]["ops"] == 3 and b["ops"]["write"]["ops"] == 0, (a, b)
assert 0.1 < b["seconds"] < 30, b
PY

# --- A second process: both are listed; the file goes at a normal exit.
# It reads 4 KiB three times through the page cache: the first waits for
# the server (a miss), the others are served from the cache (hits).
url_extra='&noforcedirectio' start_user b 1 0 4096 3
expect_status 0 directio stat --json
grep -q "\"pid\":$pid" "$tmp/out" && grep -q "\"pid\":$b_pid" "$tmp/out" ||
  fail "stat (all) does not list both: $(cat "$tmp/out")"
expect_status 0 directio stat --json "$b_pid"
python3 - "$tmp/out" <<'PY'
import json, sys
m = json.loads(open(sys.argv[1]).read())["mounts"][0]
assert (m["cache_misses"], m["cache_hits"]) == (1, 2), m
assert m["cache_read_bytes"] == 3 * 4096, m
PY
stop_user b
[ ! -e "$rundir/$b_pid.stats" ] || fail "stats file left after a normal exit"

# --- A killed process leaves a stale file: ignored, then removed.
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
[ -e "$rundir/$pid.stats" ] || fail "SIGKILL removed the file?"
expect_status 0 directio stat --json
grep -q "\"pid\":$pid" "$tmp/out" && fail "stale file of $pid reported"
[ ! -e "$rundir/$pid.stats" ] || fail "stale file of $pid not removed"
# Asked for by pid, a stale one is an error that says so.
start_user c 1 0 4096
kill -KILL "$c_pid"; wait "$c_pid" 2>/dev/null || true
expect_status 1 directio stat "$c_pid"
grep -q "stale" "$tmp/err" || fail "no 'stale' in: $(cat "$tmp/err")"

# --- Retransmits and reconnects: a WRITE in flight when the server dies
# is sent again on a new connection (a hard mount) and counted once.
nfs_port=${DIO_TEST_QUERY#*nfsport=}
nfs_port=${nfs_port%%&*}
if command -v ss >/dev/null; then
  start_user r 1 0 4096
  "$DIO_GANESHA" pause
  printf w >&"$r_fd"
  # Ready when the WRITE waits, unread, in the stopped server's socket.
  for i in $(seq 1 600); do
    ss -tnH state established "( sport = :$nfs_port )" |
      awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { if ($i > 0) f = 1; break } }
           END { exit !f }' && break
    sleep 0.05
  done
  [ "$i" -lt 600 ] || fail "the WRITE never reached the server's socket"
  gpid=$("$DIO_GANESHA" pid)
  kill -KILL "$gpid"
  for i in $(seq 1 200); do kill -0 "$gpid" 2>/dev/null || break; sleep 0.05; done
  # (not holding stat-user's stdin open: it must see EOF at the end)
  "$DIO_GANESHA" start {r_fd}>&-
  for i in $(seq 1 1200); do
    grep -q '^wrote' "$tmp/r.out" && break
    sleep 0.05
  done
  grep -q '^wrote' "$tmp/r.out" || fail "the write did not complete after the restart"
  expect_status 0 directio stat --json "$r_pid"
  python3 - "$tmp/out" <<'PY'
import json, sys
m = json.loads(open(sys.argv[1]).read())["mounts"][0]
w = m["ops"]["write"]
assert (w["ops"], w["retrans"], w["errors"]) == (2, 1, 0), m
assert m["reconnects"] >= 1 and m["errors"] == 0, m
PY
  stop_user r
fi

# --- A process that calls exec keeps its pid, start time and stats file,
# but no longer uses the engine: its file is stale, and removed.
STAT_USER_EXEC="echo execed > $tmp/h.execed; exec sleep 60" start_user h 1 0 4096
exec {h_fd}>&-
for i in $(seq 1 600); do
  [ -s "$tmp/h.execed" ] && break
  sleep 0.05
done
[ -s "$tmp/h.execed" ] || fail "stat-user did not exec"
[ -e "$rundir/$h_pid.stats" ] || fail "no stats file left by exec"
expect_status 1 directio stat "$h_pid"
grep -q "stale" "$tmp/err" || fail "exec'd process not stale: $(cat "$tmp/err")"
[ ! -e "$rundir/$h_pid.stats" ] || fail "stale file of an exec'd process kept"
kill "$h_pid"; wait "$h_pid" 2>/dev/null || true

# --- A process in another pid namespace shares the directory: its pid
# means nothing here, so its file is neither reported nor removed.
if unshare --pid --fork --mount-proc true 2>/dev/null; then
  user_prefix='unshare --pid --fork --mount-proc' start_user g 1 0 4096
  nsfile=$rundir/$(awk '/^ready/ { print $2 }' "$tmp/g.out").stats
  [ -e "$nsfile" ] || fail "no $nsfile"
  expect_status 0 directio stat --json
  [ -e "$nsfile" ] || fail "directio stat removed another namespace's file"
  grep -q '"comm":"stat-user"' "$tmp/out" &&
    fail "reported another namespace's process: $(cat "$tmp/out")"
  stop_user g
  [ ! -e "$nsfile" ] || fail "$nsfile left after its process exited"
fi

# --- DIRECTIO_PUBLISH=off, and a runtime directory that cannot be made:
# no file, and the I/O works all the same.
DIRECTIO_PUBLISH=off start_user d 2 2 4096
[ ! -e "$rundir/$d_pid.stats" ] || fail "DIRECTIO_PUBLISH=off published"
stop_user d
XDG_RUNTIME_DIR=$tmp/no/such/dir start_user e 2 2 4096
stop_user e
chmod 0755 "$rundir"            # not owner-only: refused
start_user f 1 1 4096
[ ! -e "$rundir/$f_pid.stats" ] || fail "published in a 0755 directory"
stop_user f
chmod 0700 "$rundir"

# --- Nothing publishes: one report says so, and with an INTERVAL says
# which (the PID of a process that has gone reads as one).
expect_status 0 directio stat
grep -qx "no process publishes engine counters in $rundir" "$tmp/out" ||
  fail "no report of nothing published: $(cat "$tmp/out")"
expect_status 0 directio stat 0.1 2
grep -q "publishes engine counters in $rundir yet: looking again every 0.1 s" \
  "$tmp/out" || fail "the interval is not named: $(cat "$tmp/out")"

# --- Usage errors: exit 2 with a message; --help.
expect_status 0 directio stat --help
grep -q 'Usage: directio stat' "$tmp/out" || fail "no usage in --help"
expect_status 2 directio stat --bogus
expect_status 2 directio stat abc
grep -q "neither the PID" "$tmp/err" || fail "unclear message: $(cat "$tmp/err")"
expect_status 2 directio stat 0
expect_status 2 directio stat 1 0
grep -q "COUNT" "$tmp/err" || fail "unclear message: $(cat "$tmp/err")"
expect_status 2 directio stat 1 2 3
grep -q "unexpected argument '3'" "$tmp/err" || fail "unclear: $(cat "$tmp/err")"
expect_status 2 directio stat 100000
exit 0
