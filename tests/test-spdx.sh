#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every source file carries the licence line: scripts/spdx.sh --check
# finds none without it in the git checkout (skipped outside one, e.g. in
# the distcheck tarball, whose files are the checkout's).  And the script
# itself works on a scratch repository: --check lists exactly the files
# that lack the line and fails, adding puts it in each file's comment
# syntax after any "#!" line, and a second run changes nothing.

. "$(dirname "$0")/functions.sh"
set -e
set -x

requires git --version
requires cmp --version
: "${top_srcdir:?}"
spdx=$top_srcdir/scripts/spdx.sh
line='SPDX-License-Identifier: LGPL-2.1-or-later'

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"

# The script on a scratch repository (its own copy, so that it takes the
# scratch tree as its top).
repo=$tmp/repo
mkdir -p "$repo/scripts" "$repo/src" "$repo/tests/fuzz-corpus"
cp "$spdx" "$repo/scripts/spdx.sh"
printf 'int x;\n' > "$repo/src/a.c"
printf '#!/bin/sh\necho hi\n' > "$repo/tests/t.sh"
chmod +x "$repo/tests/t.sh"
printf 'SUBDIRS = src\n' > "$repo/Makefile.am"
printf 'AC_INIT([x], [1])\n' > "$repo/configure.ac"
printf '.TH X 1\n' > "$repo/src/x.1"
printf '=head1 NAME\n\nx\n' > "$repo/src/x.pod"
printf '#!/usr/bin/env python3\n"""doc"""\n' > "$repo/src/p.py"
printf '/* %s */\nint y;\n' "$line" > "$repo/src/b.c"
printf 'not a source\n' > "$repo/tests/fuzz-corpus/seed"
printf 'notes\n' > "$repo/NOTES.md"
git -C "$repo" init -q
git -C "$repo" add scripts src Makefile.am configure.ac NOTES.md tests
# An untracked, not ignored file counts too.
printf '#ifndef Z\n#endif\n' > "$repo/src/new.h"

status=0
"$repo/scripts/spdx.sh" --check > "$tmp/missing" || status=$?
[ $status = 1 ] || fail "--check with files lacking the line: exit $status, not 1"
sort "$tmp/missing" > "$tmp/missing.sorted"
printf '%s\n' Makefile.am configure.ac src/a.c src/new.h src/p.py \
  src/x.1 src/x.pod tests/t.sh > "$tmp/expected"
cmp "$tmp/expected" "$tmp/missing.sorted" ||
  fail "--check listed $(tr '\n' ' ' < "$tmp/missing.sorted")"

"$repo/scripts/spdx.sh" > /dev/null
"$repo/scripts/spdx.sh" --check || fail "--check fails after adding"
[ "$(head -n 1 "$repo/src/a.c")" = "/* $line */" ] || fail "a.c: $(head -n 1 "$repo/src/a.c")"
[ "$(sed -n 2p "$repo/tests/t.sh")" = "# $line" ] || fail "t.sh: line 2 is not the SPDX line"
[ "$(head -n 1 "$repo/tests/t.sh")" = '#!/bin/sh' ] || fail "t.sh lost its #! line"
[ -x "$repo/tests/t.sh" ] || fail "t.sh lost its mode"
[ "$(sh "$repo/tests/t.sh")" = hi ] || fail "t.sh does not run any more"
[ "$(head -n 1 "$repo/configure.ac")" = "dnl $line" ] || fail "configure.ac"
[ "$(head -n 1 "$repo/src/x.1")" = ".\\\" $line" ] || fail "x.1"
[ "$(head -n 1 "$repo/src/x.pod")" = "=for comment $line" ] || fail "x.pod"
[ "$(sed -n 2p "$repo/src/p.py")" = "# $line" ] || fail "p.py"
[ "$(grep -c SPDX "$repo/src/b.c")" = 1 ] || fail "b.c got a second line"
! grep -q SPDX "$repo/tests/fuzz-corpus/seed" "$repo/NOTES.md" ||
  fail "data files got the line"
if command -v python3 >/dev/null; then
  [ "$(python3 -c "import sys; sys.path.insert(0, '$repo/src'); import p; print(p.__doc__)")" = doc ] ||
    fail "p.py lost its docstring"
fi
if command -v podchecker >/dev/null; then
  podchecker "$repo/src/x.pod"
fi

# A second run changes nothing.
git -C "$repo" add -A
"$repo/scripts/spdx.sh" > "$tmp/again"
[ ! -s "$tmp/again" ] || fail "second run: $(cat "$tmp/again")"
git -C "$repo" diff --exit-code

# The project itself, when this is its git checkout.
top=$(cd "$top_srcdir" && pwd -P)
gittop=$(git -C "$top" rev-parse --show-toplevel 2>/dev/null) || gittop=
if [ "$gittop" != "$top" ]; then
  echo "$0: $top is not a git checkout (a release tarball?): the project's files are not checked"
  exit 0
fi
"$spdx" --check || fail "these files lack '$line' (run scripts/spdx.sh)"
