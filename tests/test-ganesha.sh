#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The test server harness works: with-ganesha.sh's ganesha answers NFSv3 at
# DIO_TEST_* by the /export path, serves DIO_TEST_DIR both ways, stops
# answering while paused and answers again on resume, and comes back from
# `restart --new-verifier` with a different write verifier.

. "$(dirname "$0")/functions.sh"
set -e
set -x

requires_ganesha
requires_all nfs-ls nfs-cp nfs-cat timeout cmp

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"

# It answers, and the URL helpers agree with the server's own.
nfs-ls "$DIO_TEST_URL"
[ "$(dio_url)" = "$DIO_TEST_URL" ] || fail "dio_url: $(dio_url) != $DIO_TEST_URL"
[ "$(dio_url f)" = "$("$DIO_GANESHA" url f)" ] || fail "dio_url f differs from url f"
[ "$("$DIO_GANESHA" dir)" = "$DIO_TEST_DIR" ] || fail "dir differs from DIO_TEST_DIR"

# A file put in the export directory reads back through NFS, byte for byte.
head -c 3000000 /dev/urandom > "$DIO_TEST_DIR/local.bin"
nfs-cp "$(dio_url local.bin)" "$tmp/copy.bin"
cmp "$DIO_TEST_DIR/local.bin" "$tmp/copy.bin"
nfs-cat "$(dio_url local.bin)" | cmp - "$DIO_TEST_DIR/local.bin"

# A file written through NFS lands in the export directory.
head -c 2000000 /dev/urandom > "$tmp/up.bin"
nfs-cp "$tmp/up.bin" "$(dio_url up.bin)"
cmp "$tmp/up.bin" "$DIO_TEST_DIR/up.bin"

# Paused, the server does not answer; resumed, it does.
"$DIO_GANESHA" pause
cleanup_fn "$DIO_GANESHA" resume
if timeout 1 nfs-ls "$DIO_TEST_URL"; then
  fail "a paused server answered"
fi
"$DIO_GANESHA" resume
nfs-ls "$DIO_TEST_URL"

# Stopped, it refuses; started again, it serves the same files.
"$DIO_GANESHA" stop
if timeout 5 nfs-ls "$DIO_TEST_URL"; then
  fail "a stopped server answered"
fi
"$DIO_GANESHA" start
nfs-cat "$(dio_url up.bin)" | cmp - "$tmp/up.bin"

# restart --new-verifier: a new server, a new verifier, same data.
pid=$("$DIO_GANESHA" pid)
verf=$("$DIO_GANESHA" verifier)
[[ $verf =~ ^[0-9a-f]{8}00000000$ ]] || fail "verifier: bad format: $verf"
"$DIO_GANESHA" restart --new-verifier
[ "$("$DIO_GANESHA" pid)" != "$pid" ] || fail "restart kept pid $pid"
[ "$("$DIO_GANESHA" verifier)" != "$verf" ] || fail "restart --new-verifier kept verifier $verf"
nfs-cat "$(dio_url local.bin)" | cmp - "$DIO_TEST_DIR/local.bin"

# Pause then stop: stop resumes it first and still ends it promptly.
"$DIO_GANESHA" pause
"$DIO_GANESHA" stop
if "$DIO_GANESHA" pid 2>/dev/null; then
  fail "still running after stop"
fi
"$DIO_GANESHA" start
nfs-ls "$DIO_TEST_URL"
