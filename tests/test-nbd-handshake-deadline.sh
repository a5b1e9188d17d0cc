#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# directio nbd: a handshake has 10 s in all, however its client paces
# its bytes.  16 clients (every handshake slot) each send one valid
# byte a second, never 10 s apart; each is dropped by 14 s with one
# line that names it, and a 17th client, queued behind them, is then
# served.  (The test takes the real deadline: about 10 s.)

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_ganesha
requires directio --version
requires_all nbdinfo python3
nbd_server=directio

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
export tmp
truncate -s 1M "$DIO_TEST_DIR/drip.img"

cat > "$tmp/drip.py" <<'PY'
import select, socket, struct, subprocess, sys, time
path, count, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
IHAVEOPT, OPT_GO = 0x49484156454F5054, 7
# Client flags, then NBD_OPT_GO for a 4090-byte name: valid, and far
# more bytes than the dripping sends before any deadline.
script = (struct.pack(">IQIII", 3, IHAVEOPT, OPT_GO, 4096, 4090)
          + b"x" * 4090 + struct.pack(">H", 0))
start = time.monotonic()
live = []
for _ in range(count):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    greeting = b""
    while len(greeting) < 18:   # the greeting: its handshake has begun
        chunk = s.recv(18 - len(greeting))
        if not chunk:
            sys.exit("client closed before its greeting")
        greeting += chunk
    live.append(s)
# Every slot is taken: this one waits in the listen queue.
queued = subprocess.Popen(["nbdinfo", "--size", "nbd+unix:///?socket=" + path],
                          stdout=subprocess.DEVNULL)
sent, next_drip = 0, start
while live and time.monotonic() - start < limit:
    now = time.monotonic()
    if now >= next_drip:
        for s in list(live):
            try:
                s.send(script[sent:sent + 1])
            except OSError:     # EPIPE, ECONNRESET: dropped
                live.remove(s)
        sent, next_drip = sent + 1, next_drip + 1
        continue
    ready, _, _ = select.select(live, [], [], next_drip - now)
    for s in ready:             # the server sends nothing more: EOF
        try:
            data = s.recv(64)
        except OSError:
            data = b""
        if data:
            sys.exit("unexpected bytes from the server: %r" % data)
        live.remove(s)
elapsed = time.monotonic() - start
print("%d of %d dripping clients dropped after %.1f s (%d bytes each)"
      % (count - len(live), count, elapsed, sent), file=sys.stderr)
if live:
    queued.kill()
    sys.exit("%d clients still in their handshake after %.0f s"
             % (len(live), limit))
try:
    if queued.wait(timeout=5) != 0:
        sys.exit("the queued client failed")
except subprocess.TimeoutExpired:
    queued.kill()
    sys.exit("the queued client was not served once the slots were free")
PY
st=0
nbd_serve "$(dio_url drip.img)" \
  --run 'python3 "$tmp/drip.py" "$unixsocket" 16 14' 2> "$tmp/log" || st=$?
cat "$tmp/log"
[ $st = 0 ] || fail "a dripping client kept its handshake past the deadline"
n=$(grep -c 'client [0-9]*: handshake: not finished within 10 s, dropped' \
      "$tmp/log") || true
[ "$n" = 16 ] || fail "$n lines for 16 clients dropped at the deadline"
