#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# writes=unstable: writes go UNSTABLE and flush COMMITs them.  If the
# server restarts between the writes and the flush (new write verifier:
# it may have lost them), the flush fails with EIO, never a silent
# success; and with several connections every connection open at the time
# hears of it once, at its next flush.  Without a restart, flush succeeds
# and the data is in the file; FUA writes are durable at once.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_ganesha
requires_nbd_server
requires python3 --version

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
export nbd_steps

# Loss found by a flush: EIO on the connection that flushes, then on the
# other connection that was open (its writes may be among the lost), once
# each.  A connection opened afterwards is not told.
truncate -s 16M "$DIO_TEST_DIR/unstable.img"
nbd_serve "$(dio_url unstable.img)" writes=unstable --run '
  python3 "$nbd_steps" "$unixsocket" \
    "a write 0 1M 0x55" \
    "b write 1M 3M 0xaa" \
    "sh \"\$DIO_GANESHA\" restart --new-verifier" \
    "a flush -> EIO" \
    "a flush -> ok" \
    "b flush -> EIO" \
    "b flush -> ok" \
    "c flush -> ok" \
    "a read 0 1M 0x55" \
    "b read 1M 3M 0xaa"
' > "$tmp/log" 2>&1 || { cat "$tmp/log"; fail "flush after a restart"; }
cat "$tmp/log"
# libdirectio's shape: the call and the file once each, then the reason.
line=$(grep -m1 'COMMIT: the server restarted' "$tmp/log") ||
  fail "nbdkit did not say why the flush failed"
case $line in
  *"flush: dio_fsync: $(dio_url unstable.img): COMMIT: the server restarted"*) ;;
  *) fail "the flush's message does not name dio_fsync and the file: $line" ;;
esac
[ "$(printf '%s\n' "$line" | grep -o 'unstable\.img' | wc -l)" = 1 ] ||
  fail "the flush's message names the file more than once: $line"

# The restart may also come between two writes: the second write's
# verifier differs from the first's, and the flush still fails.
nbd_serve "$(dio_url unstable.img)" writes=unstable --run '
  python3 "$nbd_steps" "$unixsocket" \
    "a write 4M 2M 0x11" \
    "sh \"\$DIO_GANESHA\" restart --new-verifier" \
    "a write 8M 2M 0x22" \
    "a flush -> EIO" \
    "a flush -> ok"
'

# No restart: flush succeeds and the file holds the data.
nbd_serve "$(dio_url unstable.img)" writes=unstable --run '
  python3 "$nbd_steps" "$unixsocket" \
    "a write 0 5M 0x33" \
    "a write 5M 1000 0x44" \
    "a flush" \
    "a read 0 5M 0x33"
'
head -c 5M /dev/zero | tr '\0' '\063' > "$tmp/expect"
head -c 1000 /dev/zero | tr '\0' '\104' >> "$tmp/expect"
cmp -n $((5 * 1024 * 1024 + 1000)) "$tmp/expect" "$DIO_TEST_DIR/unstable.img" ||
  fail "unstable writes plus flush did not land in the file"

# FUA in unstable mode is a stable write: a restart after it loses nothing
# and the next flush succeeds.
nbd_serve "$(dio_url unstable.img)" writes=unstable --run '
  python3 "$nbd_steps" "$unixsocket" \
    "a write 0 3M 0x66 fua" \
    "sh \"\$DIO_GANESHA\" restart --new-verifier" \
    "a flush" \
    "a read 0 3M 0x66"
'

# The default (stable) mode: a restart after a write loses nothing either.
nbd_serve "$(dio_url unstable.img)" --run '
  python3 "$nbd_steps" "$unixsocket" \
    "a write 0 3M 0x77" \
    "sh \"\$DIO_GANESHA\" restart --new-verifier" \
    "a flush" \
    "a read 0 3M 0x77"
'
