#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# directio nbd: what a user sees.  The export's size and flags (nbdinfo);
# nbdcopy in and out over several connections at once, byte for byte
# against the server's file; a read-only export refuses writes with
# EPERM; TCP on the default port; --once; SIGTERM with a client
# connected ends it with status 0 and removes the socket; a write stream
# rides through a server restart on a hard mount with nothing lost;
# --run exits with its command's status; --shared=1 serves one client at
# a time; a client that does not read its replies holds up nobody else,
# and gets them all, whole, when it reads (after NBD_CMD_DISC too); one
# that connects and says nothing does not hold up the next one's
# handshake; a stop that waits for a silent NFS server says so, and a
# second signal ends it at once; and
# every bad command line or file gets one clear line and status 2 or 1.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_ganesha
requires directio --version
requires_all nbdinfo nbdcopy python3 cmp
nbd_server=directio

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
export tmp nbd_steps
directio="${DIO_TEST_WRAPPER:+$DIO_TEST_WRAPPER }directio"

# ---- the command line ------------------------------------------------------
expect_status 0 directio nbd --help
grep -q -- '--writes=stable|unstable' "$tmp/out" || fail "--help lacks --writes"
expect_status 2 directio nbd
err_has '^directio nbd: need the FILE to serve'
expect_status 2 directio nbd --writes=sometimes "$(dio_url x.img)"
err_has "--writes: 'sometimes': need stable or unstable"
expect_status 2 directio nbd -U "$tmp/s" -p 10809 "$(dio_url x.img)"
err_has 'choose one'
expect_status 2 directio nbd -p 70000 "$(dio_url x.img)"
err_has "--port: '70000'"
expect_status 2 directio nbd "$(dio_url a.img)" "$(dio_url b.img)"
err_has "one FILE only"
# A file that is not there, a directory, no server: exit 1, one line
# that names the file.
expect_status 1 directio nbd -U "$tmp/s" "$(dio_url missing.img)"
err_has 'missing\.img'
[ "$(wc -l < "$tmp/err")" = 1 ] || fail "more than one line: $(cat "$tmp/err")"
mkdir -p "$DIO_TEST_DIR/adir"
expect_status 1 directio nbd -U "$tmp/s" "$(dio_url adir)"
err_has 'adir'
expect_status 1 directio nbd -U "$tmp/s" \
  "nfs://127.0.0.1/export/x.img?nfsport=1&mountport=1&soft&timeo=5&retrans=1&retry=0"
[ "$(wc -l < "$tmp/err")" = 1 ] || fail "more than one line: $(cat "$tmp/err")"
[ ! -e "$tmp/s" ] || fail "a failed start left its socket"
# A socket path that exists is not taken over.
touch "$tmp/taken"
truncate -s 1M "$DIO_TEST_DIR/x.img"
expect_status 1 directio nbd -U "$tmp/taken" "$(dio_url x.img)"
err_has 'taken: Address already in use'
[ -f "$tmp/taken" ] || fail "the existing file was removed"

# ---- what a client sees ----------------------------------------------------
head -c 64M /dev/urandom > "$tmp/in.img"
truncate -s 64M "$DIO_TEST_DIR/copy.img"
nbd_serve "$(dio_url copy.img)" --run '
  nbdinfo --json "$uri" > "$tmp/info.json" &&
  nbdcopy --connections=4 --requests=16 --flush "$tmp/in.img" "$uri" &&
  nbdcopy --connections=4 "$uri" "$tmp/out.img"'
same_bytes "$tmp/in.img" "$DIO_TEST_DIR/copy.img"
same_bytes "$tmp/in.img" "$tmp/out.img"
python3 - "$tmp/info.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))["exports"][0]
assert e["export-size"] == 64 << 20, e
assert e["is_read_only"] is False and e["can_flush"] and e["can_fua"], e
assert e["can_multi_conn"] and e["can_zero"], e
assert e["block_size_maximum"] == 32 << 20, e
PY

# Read-only: reads work, writes and zeroes get EPERM, nothing changes.
nbd_serve "$(dio_url copy.img)" readonly=true --run '
  nbdinfo --json "$uri" > "$tmp/ro.json" &&
  python3 "$nbd_steps" "$unixsocket" "a read 0 4K" \
    "a write 0 4K 0x11 -> EPERM" "a zero 0 4K -> EPERM" "a flush"'
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["exports"][0]["is_read_only"]' \
  "$tmp/ro.json" || fail "-r did not advertise a read-only export"
same_bytes "$tmp/in.img" "$DIO_TEST_DIR/copy.img"

# --run: the command's exit status is the server's.
st=0
nbd_serve "$(dio_url copy.img)" --run 'nbdinfo --size "$uri" >/dev/null && exit 7' || st=$?
[ $st = 7 ] || fail "--run: exited $st, not the command's 7"

# spin=: a server's engine polls before it sleeps, 50 us unless the URL
# says otherwise (--run's shell is the server's child: $PPID is it).
nbd_serve "$(dio_url copy.img)" --run 'directio stat --json $PPID > "$tmp/spin.json"'
nbd_serve "$(dio_url copy.img)" spin=7 --run 'directio stat --json $PPID > "$tmp/spin7.json"'
python3 - "$tmp/spin.json" "$tmp/spin7.json" <<'PY'
import json, sys
for path, want in zip(sys.argv[1:], (50, 7)):
    m = json.load(open(path))["mounts"][0]
    assert m["spin_us"] == want, (path, m)
PY

# --shared=1: a second client is not served while the first is
# connected (its handshake does not start within 2 s), and is once the
# first has gone.
$directio nbd -e 1 -U "$tmp/one" "$(dio_url copy.img)" 2> "$tmp/one.log" &
pid=$!
cleanup_fn kill "$pid"
retry_until 30 test -S "$tmp/one" || fail "no socket"
st=0
python3 "$nbd_steps" "$tmp/one" "a size" \
  "sh ! timeout 2 nbdinfo --size nbd+unix:///?socket=$tmp/one" || st=$?
[ $st = 0 ] || fail "--shared=1: a second client was served beside the first"
nbdinfo --size "nbd+unix:///?socket=$tmp/one" > /dev/null ||
  fail "--shared=1: the second client was not served after the first"
kill "$pid"
wait "$pid" || fail "directio nbd -e 1 exited $?"

# A client that sends 64 MiB of reads and reads no reply: another
# client copies the file meanwhile (in well under the 20 s bound;
# about a second here), then the first reads all its replies.
$directio nbd -U "$tmp/slow" "$(dio_url copy.img)" 2> "$tmp/slow.log" &
pid=$!
cleanup_fn kill "$pid"
retry_until 30 test -S "$tmp/slow" || fail "no socket"
python3 "$nbd_steps" "$tmp/slow" "a pipeline 64 1M" \
  "sh timeout 20 nbdcopy nbd+unix:///?socket=$tmp/slow $tmp/slow.img" \
  "a replies $DIO_TEST_DIR/copy.img" ||
  { cat "$tmp/slow.log"; fail "a client that did not read held up another"; }
same_bytes "$DIO_TEST_DIR/copy.img" "$tmp/slow.img"
# The same 64 MiB of reads, then NBD_CMD_DISC, then the replies: all are
# owed, and come whole.
python3 "$nbd_steps" "$tmp/slow" "a pipeline 64 1M" "a disc" \
  "a replies $DIO_TEST_DIR/copy.img" ||
  { cat "$tmp/slow.log"; fail "replies lost after NBD_CMD_DISC"; }
kill "$pid"
wait "$pid" || fail "directio nbd exited $?"
rm -f "$tmp/slow.img"

# A client that connects and says nothing: the next one is served at
# once (handshakes run side by side; each may take 10 s).
$directio nbd -U "$tmp/hs" "$(dio_url copy.img)" 2> "$tmp/hs.log" &
pid=$!
cleanup_fn kill "$pid"
retry_until 30 test -S "$tmp/hs" || fail "no socket"
python3 - "$tmp/hs" <<'PY' || fail "a silent client held up the next handshake"
import socket, subprocess, sys
silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
silent.connect(sys.argv[1])     # first in the queue, and says nothing
sys.exit(subprocess.call(["timeout", "5", "nbdinfo", "--size",
                          "nbd+unix:///?socket=" + sys.argv[1]],
                         stdout=subprocess.DEVNULL))
PY
kill "$pid"
wait "$pid" || fail "directio nbd exited $?"

# TCP, on the default port; --once ends the server after its first
# served client.
$directio nbd --once -b 127.0.0.1 "$(dio_url copy.img)" 2> "$tmp/tcp.log" &
pid=$!
cleanup_fn kill "$pid"
# A client that only lists the exports is not the one --once waits for.
retry_until 30 nbdinfo --list nbd://127.0.0.1 > /dev/null ||
  { cat "$tmp/tcp.log"; fail "no TCP server on port 10809"; }
nbdinfo --size nbd://127.0.0.1 > "$tmp/size" ||
  { cat "$tmp/tcp.log"; fail "--once ended after a client that only listed"; }
[ "$(cat "$tmp/size")" = $((64 << 20)) ] || fail "size over TCP: $(cat "$tmp/size")"
st=0
retry_until 30 sh -c "! kill -0 $pid 2>/dev/null" || fail "--once did not end"
wait "$pid" || st=$?
[ $st = 0 ] || { cat "$tmp/tcp.log"; fail "--once exited $st"; }

# SIGTERM with a client connected: status 0, socket gone.
$directio nbd -v -U "$tmp/sock" "$(dio_url copy.img)" 2> "$tmp/term.log" &
pid=$!
cleanup_fn kill "$pid"
retry_until 30 test -S "$tmp/sock" || fail "no socket"
python3 "$nbd_steps" "$tmp/sock" "a read 0 4K" "sh kill -TERM $pid" \
  > "$tmp/steps.log" 2>&1 || true
st=0
wait "$pid" || st=$?
cat "$tmp/term.log"
[ $st = 0 ] || fail "SIGTERM: exited $st"
[ ! -e "$tmp/sock" ] || fail "SIGTERM left the socket"
grep -q 'client 1: connected' "$tmp/term.log" || fail "-v did not say who came"
grep -q 'client 1: disconnected' "$tmp/term.log" || fail "-v did not say who went"

# ---- a stop while the NFS server does not answer ---------------------------
# A read waits at a paused ganesha when SIGTERM comes: one line says that
# the stop waits for it, and a second SIGTERM ends it at once, status 1,
# with a line that says so (not after the 30 s a stop waits).
$directio nbd -U "$tmp/sock2" "$(dio_url copy.img)" 2> "$tmp/stop.log" &
pid=$!
cleanup_fn kill -9 "$pid"
retry_until 30 test -S "$tmp/sock2" || fail "no socket"
cleanup_fn "$DIO_GANESHA" resume
ganesha_pause
nbdcopy "nbd+unix:///?socket=$tmp/sock2" "$tmp/stuck.img" 2>/dev/null &
copier=$!
read_sent () { directio stat --json "$pid" | grep -q '"read_rpcs":[1-9]'; }
retry_until 10 read_sent || fail "the read did not reach the NFS server"
kill -TERM "$pid"
retry_until 10 grep -q 'waiting up to 30 s for the NFS server' "$tmp/stop.log" ||
  fail "the stop did not say it waits: $(cat "$tmp/stop.log")"
# Ended: gone, or a zombie until the wait below.
ended () { [ ! -e "/proc/$pid" ] || grep -q '^State:[[:space:]]*Z' "/proc/$pid/status"; }
! ended || fail "the stop did not wait for the read"
kill -TERM "$pid"
retry_until 5 ended || fail "a second SIGTERM did not end the stop"
st=0
wait "$pid" || st=$?
cat "$tmp/stop.log"
[ $st = 1 ] || fail "a stop without the answers: exited $st, want 1"
grep -q 'a signal while waiting: exiting without the answers' "$tmp/stop.log" ||
  fail "no line says why it exited"
"$DIO_GANESHA" resume
wait "$copier" || true

# ---- a write stream through a server restart (hard) --------------------------
# Once the first MiB has reached the server's file, ganesha restarts
# under the copy; every byte still lands.
truncate -s 0 "$DIO_TEST_DIR/copy.img"
truncate -s 64M "$DIO_TEST_DIR/copy.img"
cat > "$tmp/restart-run" <<SH
#!/usr/bin/env bash
. "$tests_srcdir/functions.sh"
# Small sequential requests: the copy takes about a second here.
nbdcopy --connections=1 --requests=1 --request-size=65536 "$tmp/in.img" \
  "\$uri" &
copy=\$!
retry_until 60 cmp -s -n 1048576 "$tmp/in.img" "$DIO_TEST_DIR/copy.img" ||
  exit 10
kill -0 \$copy || { echo "the copy ended before the restart" >&2; exit 12; }
"$DIO_GANESHA" restart || exit 11
wait \$copy
SH
chmod +x "$tmp/restart-run"
nbd_serve "$(dio_url copy.img)" --run '"$tmp/restart-run"' \
  2> "$tmp/restart.log" ||
  { cat "$tmp/restart.log"; fail "the copy through a restart failed"; }
same_bytes "$tmp/in.img" "$DIO_TEST_DIR/copy.img"
