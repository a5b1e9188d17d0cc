#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A working directory under the mountpoint: mkdir -p (which chdirs into
# each component), tar -C both ways, a shell's cd with relative names and
# .., python's os.chdir/getcwd, and readlink -f / realpath through the
# mountpoint.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/preload-functions.sh"
set -e
set -x

preload_setup
requires_all tar dash python3 readlink realpath find

# mkdir -p, twice (the second finds it all there).
dio_run mkdir -p "$mnt/p/q/r"
dio_run mkdir -p "$mnt/p/q/r"
[ -d "$DIO_TEST_DIR/p/q/r" ] || fail "mkdir -p: no p/q/r on the server"

# tar -C (chdir into the mountpoint): archive a local tree into it,
# extract it there, and archive it back out.
mkdir -p "$tmp/src/a/b"
head -c 300000 /dev/urandom > "$tmp/src/a/b/f"
echo hello > "$tmp/src/a/g"
dio_run tar cf "$mnt/t.tar" -C "$tmp/src" a
# (Extracting, tar would set owners, modes and times, which the engine
# cannot: ENOTSUP.  -m and --no-same-* leave them be.)
dio_run tar xf "$mnt/t.tar" -m --no-same-owner --no-same-permissions \
  -C "$mnt/p"
diff -r "$tmp/src/a" "$DIO_TEST_DIR/p/a"
mkdir "$tmp/out"
dio_run tar cf - -C "$mnt/p" a | tar xf - -C "$tmp/out"
diff -r "$tmp/src/a" "$tmp/out/a"

# A shell's cd: relative names resolve below it, .. climbs out of it, and
# paths outside the mountpoint still work from inside it.
# (cat runs in a new program: the working directory goes with it.)
got=$(dio_run dash -c '
  cd "$1/p/a" && pwd && cat g && echo new > h && cd b && cat ../h &&
  cd ../../../.. && pwd && cd dio-test/p/a && cat "$2" && cd / && pwd' \
  sh "$mnt" "$tmp/src/a/g")
want=$(printf '%s\n' "$mnt/p/a" hello new "${mnt%/*}" hello /)
[ "$got" = "$want" ] || fail "cd: got '$got', want '$want'"
[ "$(cat "$DIO_TEST_DIR/p/a/h")" = new ] || fail "cd: h not on the server"

dio_run python3 - "$mnt" <<'PY'
import os, sys
mnt = sys.argv[1]
os.chdir(mnt + "/p")
assert os.getcwd() == mnt + "/p", os.getcwd()
with open("py.txt", "w") as f:
    f.write("from python\n")
assert sorted(os.listdir(".")) == ["a", "py.txt", "q"], os.listdir(".")
os.chdir("..")
assert os.getcwd() == mnt, os.getcwd()
assert open("p/py.txt").read() == "from python\n"
PY
[ "$(cat "$DIO_TEST_DIR/p/py.txt")" = "from python" ] || fail "python: py.txt"

# Walks that readlink each component.
[ "$(dio_run readlink -f "$mnt/p/../p/q/./r")" = "$mnt/p/q/r" ] ||
  fail "readlink -f: $(dio_run readlink -f "$mnt/p/../p/q/./r")"
[ "$(dio_run realpath "$mnt/p/a/b/f")" = "$mnt/p/a/b/f" ] || fail realpath
[ "$(dio_run find "$mnt" -name f -type f)" = "$mnt/p/a/b/f" ] || fail find
