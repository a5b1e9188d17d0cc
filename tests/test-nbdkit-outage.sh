#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The NFS server stops answering under a running nfsdirect export.  soft:
# requests fail with EIO (the engine's ETIMEDOUT, which NBD has no code
# for) after about timeo x retrans, and nbdkit serves again once the
# server answers.  hard (the default): a request waits for the server and
# then completes with the right data.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_ganesha
requires_nbd_server
requires python3 --version

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
cleanup_fn "$DIO_GANESHA" resume
export nbd_steps tmp
# ganesha_pause for the sh steps of nbd-steps.py.
cat > "$tmp/pause" <<SH
#!/usr/bin/env bash
. "$tests_srcdir/functions.sh"
. "$tests_srcdir/nbdkit-functions.sh"
ganesha_pause
SH
chmod +x "$tmp/pause"

head -c 4M /dev/zero | tr '\0' '\141' > "$DIO_TEST_DIR/outage.img"

# soft, timeo=5 (half a second), one try.
nbd_serve "$(dio_url outage.img)" soft=true timeo=5 retrans=1 \
  --run '
  python3 "$nbd_steps" "$unixsocket" \
    "a read 0 4096 0x61" \
    "sh \"\$tmp/pause\"" \
    "a read 1M 4096 -> EIO" \
    "a write 2M 4096 0x62 -> EIO" \
    "sh \"\$DIO_GANESHA\" resume" \
    "a read 3M 4096 0x61" \
    "b write 2M 4096 0x63" \
    "a read 2M 4096 0x63"
' 2> "$tmp/log" || { cat "$tmp/log"; fail "soft mount outage"; }
cat "$tmp/log"
grep -q 'Connection timed out\|timed out' "$tmp/log" ||
  fail "nbdkit did not say the request timed out"

# hard: a read sent while the server is paused waits, and completes with
# the right data once the server is back.
if [ "$nbd_server" = directio ]; then
  ${DIO_TEST_WRAPPER:+$DIO_TEST_WRAPPER }directio nbd -U "$tmp/sock" \
    "$(dio_url outage.img)" 2> "$tmp/nbdkit.log" &
else
  $nbdkit -f -v -U "$tmp/sock" "$nfsdirect" "$(dio_url outage.img)" \
    2> "$tmp/nbdkit.log" &
fi
nbdkit_pid=$!
cleanup_fn kill "$nbdkit_pid"
retry_until "$nbdkit_wait_s" test -S "$tmp/sock" || fail "nbdkit did not start"
# Connected first (the handshake asks the server for the size).
python3 "$nbd_steps" "$tmp/sock" "a size" "sh \"\$tmp/pause\"" \
  "a read 1M 1M 0x61" > "$tmp/hard.log" 2>&1 &
reader=$!
# Once the read has reached the plugin (directio nbd: once its READ is
# sent, by the server's counters) it is waiting on the server.
read_sent ()
{
  if [ "$nbd_server" = directio ]; then
    directio stat --json "$nbdkit_pid" | grep -q '"read_rpcs":[1-9]'
  else
    grep -q 'nfsdirect: pread count=1048576 offset=1048576' "$tmp/nbdkit.log"
  fi
}
retry_until "$nbdkit_wait_s" read_sent || fail "the read did not reach the plugin"
kill -0 "$reader" || { cat "$tmp/hard.log"; fail "hard: the read ended while the server was away"; }
"$DIO_GANESHA" resume
wait "$reader" || { cat "$tmp/hard.log"; fail "hard: the read failed"; }
cat "$tmp/hard.log"
grep -q 'ok: a read 1M 1M 0x61' "$tmp/hard.log" || fail "hard read did not complete"
kill "$nbdkit_pid"
wait "$nbdkit_pid" || fail "nbdkit exited with $?"
