#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# directio mount under faults:
#  - hard (the default): a writer whose writes are in flight while the
#    server is down blocks, then finishes when the server is back (with
#    a new write verifier), and the server has every byte;
#  - soft: with the server paused, a program gets ETIMEDOUT or EIO
#    within the timeout, not a hang;
#  - `directio umount` of a busy mount fails naming the busy mountpoint,
#    and succeeds once it is idle;
#  - an exit with a read or a lookup at a paused server says that it
#    waits, and a second signal ends the wait at once;
#  - the daemon killed: programs get ENOTCONN, and the mount can still
#    be unmounted.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/mount-functions.sh"
set -e
set -x

mount_setup
requires_all python3 cmp timeout

# --- hard: the server restarts under a write stream ------------------------
mount_start -o forcedirectio
head -c 16777216 /dev/urandom > "$tmp/data"
python3 - "$tmp/data" "$mnt/stream" "$tmp" <<'PY' &
import os, sys, time
data = open(sys.argv[1], "rb").read()
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
half = len(data) // 2
os.write(fd, data[:half])
open(sys.argv[3] + "/half-written", "w").close()
deadline = time.time() + 60
while not os.path.exists(sys.argv[3] + "/go"):    # bounded below
    assert time.time() < deadline, "never told to go on"
    time.sleep(0.01)
pos = half
while pos < len(data):
    pos += os.write(fd, data[pos:pos + (1 << 20)])
os.close(fd)
PY
writer=$!
retry_until 60 test -e "$tmp/half-written" || fail "the writer never wrote"
$DIO_GANESHA stop
touch "$tmp/go"
# The second half cannot land: under hard the writer waits for the server.
sleep 1
kill -0 $writer 2>/dev/null || fail "the writer finished with the server down"
$DIO_GANESHA start
wait $writer || fail "the writer failed across the server's restart"
cmp "$tmp/data" "$DIO_TEST_DIR/stream"
cmp "$tmp/data" "$mnt/stream"

# --- umount while busy ------------------------------------------------------
exec 3< "$mnt/stream"
st=0
directio umount "$mnt" 2> "$tmp/err" || st=$?
[ "$st" = 1 ] || fail "umount of a busy mount exited $st"
grep -q "$mnt: busy" "$tmp/err" || fail "umount said: $(cat "$tmp/err")"
findmnt -n "$mnt" > /dev/null || fail "a failed umount unmounted"
exec 3<&-
mount_stop

# --- soft: a timely error ---------------------------------------------------
mount_start -o soft,timeo=10,retrans=2,forcedirectio
echo soft > "$mnt/soft"
$DIO_GANESHA pause
cleanup_fn $DIO_GANESHA resume
start=$(date +%s)
st=0
timeout 60 cat "$mnt/soft" > /dev/null 2> "$tmp/err" || st=$?
took=$(( $(date +%s) - start ))
[ "$st" = 1 ] || fail "cat on a soft mount of a paused server exited $st"
grep -Eq 'timed out|Input/output error' "$tmp/err" ||
  fail "soft: $(cat "$tmp/err")"
[ "$took" -lt 30 ] || fail "soft: the error took $took s"
$DIO_GANESHA resume
[ "$(cat "$mnt/soft")" = soft ] || fail "soft: not back after the server"
mount_stop

# --- an exit that waits for a silent server ---------------------------------
# SIGTERM with a call at a paused ganesha: one line says that the daemon
# waits up to 30 s for the answer; a second SIGTERM ends the wait at
# once, with a line that says so, and the mount is gone.  Twice: a read
# of a file opened before the pause (the engine's asynchronous request,
# waited for after the unmount), and a lookup during it (a worker's
# synchronous call, waited for before the unmount).
# The daemon's READ calls (read) or other calls (lookup) so far: its
# counters, `directio stat`.
rpcs_sent ()
{
  directio stat --json "$mount_pid" | python3 -c '
import json, sys
m = json.load(sys.stdin)["mounts"][0]
print(m["read_rpcs" if sys.argv[1] == "read" else "other_rpcs"])' "$call"
}
call_sent () { [ "$(rpcs_sent)" -gt "$before" ]; }
exit_at_paused_server ()
{
  local call=$1 reader
  mount_start -o forcedirectio
  echo waits > "$mnt/waits"
  rm -f "$tmp/opened" "$tmp/paused"
  python3 - "$mnt/waits" "$tmp" "$call" <<'PY' > /dev/null 2>&1 &
import os, sys, time
if sys.argv[3] == "read":
    fd = os.open(sys.argv[1], os.O_RDONLY)
open(sys.argv[2] + "/opened", "w").close()
deadline = time.time() + 60
while not os.path.exists(sys.argv[2] + "/paused"):    # bounded below
    assert time.time() < deadline, "never told to go on"
    time.sleep(0.01)
if sys.argv[3] == "read":
    os.read(fd, 4096)
else:
    os.stat(sys.argv[1] + "-never-seen")    # a LOOKUP the kernel must ask
PY
  reader=$!
  retry_until 10 test -e "$tmp/opened" || fail "$call: the reader did not start"
  before=$(rpcs_sent)
  $DIO_GANESHA pause
  touch "$tmp/paused"
  retry_until 10 call_sent || fail "$call: nothing reached the NFS server"
  : > "$tmp/log"
  kill -TERM "$mount_pid"
  retry_until 10 grep -q 'waiting up to 30 s for the NFS server' "$tmp/log" ||
    fail "$call: the exit did not say it waits: $(cat "$tmp/log")"
  ! _daemon_gone || fail "$call: the exit did not wait"
  kill -TERM "$mount_pid"
  retry_until 5 _daemon_gone || fail "$call: a second SIGTERM did not end the wait"
  grep -q 'a signal while waiting: exiting without the answers' "$tmp/log" ||
    fail "$call: no line says why it exited: $(cat "$tmp/log")"
  mount_pid=
  $DIO_GANESHA resume
  wait "$reader" || true
  ! findmnt -n "$mnt" > /dev/null || fail "$call: the mount stays after its daemon"
}
exit_at_paused_server read
exit_at_paused_server lookup

# --- the daemon killed ----------------------------------------------------
mount_start -o forcedirectio
kill -9 "$mount_pid"
retry_until 10 _daemon_gone || fail "the daemon did not die"
st=0
stat "$mnt/stream" 2> "$tmp/err" || st=$?
[ "$st" != 0 ] || fail "stat worked on a mount without its daemon"
grep -q 'Transport endpoint is not connected' "$tmp/err" ||
  fail "no ENOTCONN: $(cat "$tmp/err")"
directio umount "$mnt" || fail "cannot unmount a dead mount"
mount_pid=
! findmnt -n "$mnt" > /dev/null || fail "the dead mount stays"
