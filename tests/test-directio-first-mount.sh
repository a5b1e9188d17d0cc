#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A first mount in a fresh process behaves as if the mount already
# existed.  Under hard, a `directio cp` started while the server is down
# waits for it, says "server not responding, still trying" and "server OK"
# once each on stderr (and nothing else), and copies once the server
# starts (or, paused, resumes); retry=0 tries once; retry=1 gives up
# after a minute.  Under
# soft, a first mount against a paused server fails after timeo x
# retrans (it used to take a minute).

. "$(dirname "$0")/functions.sh"
set -e
set -x

requires_ganesha
requires_all cmp date
requires directio --version

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
dir=$DIO_TEST_DIR
head -c 1048576 /dev/urandom > "$tmp/src"
now_ms () { local t; t=$(date +%s%N); echo $(( t / 1000000 )); }
slack_s=5
[ -z "${DIO_UNDER_TOOL:-}" ] || slack_s=20

# copy_waits_for_server NAME FILE ACTION: with the server unreachable, a
# directio cp of $tmp/src to FILE (stderr in $tmp/NAME.err) says the
# server is not responding and keeps waiting; once `$DIO_GANESHA ACTION`
# brings the server back, the copy succeeds and the server has the data.
copy_waits_for_server ()
{
  local name=$1 file=$2 action=$3 err=$tmp/$1.err pid st=0
  directio cp "$tmp/src" "$(dio_url "$file")" 2> "$err" &
  pid=$!
  retry_until 60 grep -q 'server not responding, still trying' "$err" ||
    fail "$name: no 'not responding' notice: $(cat "$err")"
  kill -0 "$pid" || fail "$name: the copy gave up: $(cat "$err")"
  "$DIO_GANESHA" "$action"
  wait "$pid" || st=$?
  [ "$st" = 0 ] || fail "$name: the copy exited $st: $(cat "$err")"
  cmp "$tmp/src" "$dir/$file"
}

# retry=1 against a port nobody listens on: started first, checked last
# (a minute), so that the rest runs meanwhile.
dead="nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/x.bin?nfsport=1&mountport=1"
t_bound=$(now_ms)
st_bound=0
directio cp "$tmp/src" "$dead&retry=1" 2> "$tmp/bound.err" &
pid_bound=$!

# --- hard: waits for a server that is not running yet --------------------
"$DIO_GANESHA" stop
cleanup_fn "$DIO_GANESHA" resume
copy_waits_for_server hard first.bin start
[ "$(grep -c 'not responding, still trying' "$tmp/hard.err")" = 1 ] ||
  fail "notices: $(cat "$tmp/hard.err")"
[ "$(grep -c 'server OK' "$tmp/hard.err")" = 1 ] ||
  fail "notices: $(cat "$tmp/hard.err")"
[ "$(wc -l < "$tmp/hard.err")" = 2 ] ||
  fail "more than the two notices: $(cat "$tmp/hard.err")"
grep -q "^libdirectio: nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT: server OK\$" \
  "$tmp/hard.err" || fail "the notice names no server: $(cat "$tmp/hard.err")"

# --- hard: waits for a paused server (an attempt gives up after 10 s) ----
"$DIO_GANESHA" pause
copy_waits_for_server paused paused.bin resume
[ "$(wc -l < "$tmp/paused.err")" = 2 ] && grep -q 'server OK' "$tmp/paused.err" ||
  fail "paused: notices: $(cat "$tmp/paused.err")"

# --- retry=0: one attempt, no notice -------------------------------------
"$DIO_GANESHA" stop
st=0
directio cp "$tmp/src" "$(dio_url once.bin)&retry=0" 2> "$tmp/once.err" || st=$?
"$DIO_GANESHA" start
[ "$st" = 1 ] || fail "retry=0 against a stopped server exited $st"
grep -q 'refused' "$tmp/once.err" || fail "retry=0: $(cat "$tmp/once.err")"
! grep -q 'not responding' "$tmp/once.err" ||
  fail "retry=0 said it is still trying: $(cat "$tmp/once.err")"

# --- soft: a paused server fails the first mount after timeo x retrans ---
"$DIO_GANESHA" pause
t0=$(now_ms)
st=0
directio cp "$tmp/src" "$(dio_url soft.bin)&soft&timeo=10&retrans=2" \
  2> "$tmp/soft.err" || st=$?
took=$(( $(now_ms) - t0 ))
"$DIO_GANESHA" resume
[ "$st" = 1 ] || fail "soft against a paused server exited $st"
[ "$took" -lt $(( 2000 + slack_s * 1000 )) ] ||
  fail "soft,timeo=10,retrans=2 took $took ms: $(cat "$tmp/soft.err")"
! grep -q 'not responding' "$tmp/soft.err" ||
  fail "soft said it is still trying: $(cat "$tmp/soft.err")"

# --- retry=1 bounds hard: about a minute --------------------------------
wait "$pid_bound" || st_bound=$?
took=$(( $(now_ms) - t_bound ))
[ "$st_bound" = 1 ] || fail "retry=1 exited $st_bound: $(cat "$tmp/bound.err")"
[ "$took" -ge 55000 ] && [ "$took" -lt $(( 60000 + slack_s * 2000 )) ] ||
  fail "retry=1 gave up after $took ms"
[ "$(grep -c 'not responding, still trying' "$tmp/bound.err")" = 1 ] ||
  fail "retry=1: $(cat "$tmp/bound.err")"
! grep -q 'server OK' "$tmp/bound.err" || fail "retry=1: $(cat "$tmp/bound.err")"
