#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Shell redirections onto profile paths under `directio run`: dash's
# `exec >FILE` dup2s an engine fd onto stdout and its builtins write
# through it (and dash ends with _exit: the shim writes back at _exit);
# `exec 3<FILE` reads.  Engine fds do not survive fork or exec: a child
# that inherits one gets EBADF at once instead of hanging, and the
# parent's data is intact.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/preload-functions.sh"
set -e
set -x

preload_setup
requires_all dash bash timeout

# Forks within forks (command substitution in a subshell), before and
# after a cd under the mountpoint: the shim's fork handlers leave every
# child able to fork again.
got=$(timeout 60 directio run -f "$profiles" -- bash -c '
  a=$(echo $(echo one)); cd "$1"; b=$(echo $(echo two; pwd))
  cd /; c=$( (echo $(echo three)) ); echo $a $b $c' sh "$mnt") ||
  fail "nested forks: exit $? (124: hung)"
[ "$got" = "one two $mnt three" ] || fail "nested forks: got '$got'"

# exec >FILE: dup2 onto fd 1; builtins echo and printf write through it.
dio_run dash -c 'exec >"$1/out"; echo hello; printf "%s\n" world' sh "$mnt"
printf 'hello\nworld\n' | cmp - "$DIO_TEST_DIR/out"

# exec 3<FILE: read through fd 3.
got=$(dio_run dash -c 'exec 3<"$1/out"; read a <&3; read b <&3; echo "$a $b"' \
        sh "$mnt")
[ "$got" = "hello world" ] || fail "exec 3<: got '$got'"

# A forked subshell writing to the inherited engine fd fails promptly
# (EBADF), the parent's own write lands.
status=0
timeout 60 env DIRECTIO_STATS="$stats" directio run -f "$profiles" -- \
  dash -c 'exec >"$1/o3"; echo parent; (echo child)' sh "$mnt" \
  2>"$tmp/err" || status=$?
[ $status -ne 124 ] || fail "a forked child hung on an inherited engine fd"
[ "$(cat "$DIO_TEST_DIR/o3")" = parent ] ||
  fail "o3 holds '$(cat "$DIO_TEST_DIR/o3")', want 'parent'"

# An exec'd program does not get the engine fd either (EBADF, no hang).
status=0
timeout 60 directio run -f "$profiles" -- \
  dash -c 'exec >"$1/o4"; exec /bin/echo exec' sh "$mnt" 2>"$tmp/err" ||
  status=$?
[ $status -ne 124 ] || fail "an exec'd program hung"
[ $status -ne 0 ] || fail "echo after exec wrote to a lost engine fd"
[ ! -s "$DIO_TEST_DIR/o4" ] || fail "o4 is not empty"
