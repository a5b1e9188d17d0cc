#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# directio profile check|list: a good file is reported with its number of
# profiles and listed as a table; each kind of bad file fails (exit 1)
# with FILE:LINE: WORD: reason; usage errors exit 2; --help exits 0.

. "$(dirname "$0")/functions.sh"
set -e
set -x

requires directio --help

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"

cat > "$tmp/good" <<'EOF2'
# two profiles
[ora]
url        = nfs://filer1/vol/ora
mountpoint = /u02/ora
options    = forcedirectio,nconnect=2

[logs]
url        = nfs://filer2/vol/logs
mountpoint = /u03/logs
EOF2

# check: "FILE: OK, N profiles", exit 0; the default is $DIRECTIO_PROFILES.
[ "$(directio profile check "$tmp/good")" = "$tmp/good: OK, 2 profiles" ]
[ "$(DIRECTIO_PROFILES=$tmp/good directio profile check)" = \
  "$tmp/good: OK, 2 profiles" ]
head -n 5 "$tmp/good" > "$tmp/one"
[ "$(directio profile check "$tmp/one")" = "$tmp/one: OK, 1 profile" ]

# list: a header and one row per profile, "-" for no options.
directio profile list "$tmp/good" > "$tmp/list"
cat "$tmp/list"
[ "$(wc -l < "$tmp/list")" -eq 3 ] || fail "list: $(wc -l < "$tmp/list") lines"
grep -Eq '^NAME +URL +MOUNTPOINT +OPTIONS$' "$tmp/list" || fail "list: header"
grep -Eq '^ora +nfs://filer1/vol/ora +/u02/ora +forcedirectio,nconnect=2$' \
  "$tmp/list" || fail "list: ora"
grep -Eq '^logs +nfs://filer2/vol/logs +/u03/logs +-$' "$tmp/list" ||
  fail "list: logs"

# Bad files: exit 1 and the file, line and word in the message.
bad ()
{
  local name=$1 want=$2 status=0
  shift 2
  printf '%s\n' "$@" > "$tmp/$name"
  for action in check list; do
    status=0
    directio profile $action "$tmp/$name" > "$tmp/out" 2> "$tmp/err" ||
      status=$?
    [ $status -eq 1 ] || fail "$name: $action exited $status, want 1"
    [ ! -s "$tmp/out" ] || fail "$name: $action wrote to stdout"
    grep -qF "$tmp/$name:$want" "$tmp/err" ||
      fail "$name: $action said '$(cat "$tmp/err")', want '$tmp/$name:$want'"
  done
}
bad unknown-key '4: colour:' \
  '[a]' 'url = nfs://h/e' 'mountpoint = /m/a' 'colour = red'
bad bad-number '4: rsize=abc:' \
  '[a]' 'url = nfs://h/e' 'mountpoint = /m/a' 'options = rsize=abc'
bad bad-option '4: frob:' \
  '[a]' 'url = nfs://h/e' 'mountpoint = /m/a' 'options = hard,frob'
bad duplicate '4: [a]:' \
  '[a]' 'url = nfs://h/e' 'mountpoint = /m/a' '[a]' 'url = nfs://h/e' \
  'mountpoint = /m/b'
bad overlap '4: [b]:' \
  '[a]' 'url = nfs://h/e' 'mountpoint = /m/a' '[b]' 'url = nfs://h/e' \
  'mountpoint = /m/a/b'
bad no-section '1: url' 'url = nfs://h/e'

status=0
directio profile check "$tmp/missing" 2> "$tmp/err" || status=$?
[ $status -eq 1 ] || fail "missing file: exit $status"
grep -q "$tmp/missing: No such file or directory" "$tmp/err"

# Usage.
for args in "" "frob" "check a b" "list --bogus"; do
  status=0
  directio profile $args 2> "$tmp/err" || status=$?
  [ $status -eq 2 ] || fail "'profile $args': exit $status, want 2"
  grep -q "Try 'directio profile --help'" "$tmp/err" ||
    fail "'profile $args': $(cat "$tmp/err")"
done
directio profile --help | grep -q '^Usage: directio profile check'
directio profile check --help | grep -q '^Usage: directio profile check'
