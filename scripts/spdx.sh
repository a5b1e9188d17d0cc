#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Keep an SPDX licence line near the top of every source file.
#
#   scripts/spdx.sh            add the line to the files that lack it
#   scripts/spdx.sh --check    list the files that lack it; exit 1 if any
#   scripts/spdx.sh [--check] FILE...   only these files
#
# Without FILE arguments it takes the files git knows in the tree this
# script belongs to: tracked ones and untracked ones that are not ignored
# (so a new file counts before its first commit).  Outside a git checkout
# (a release tarball) it needs FILE arguments.
#
# Which files: C sources and headers, the linker version script, shell,
# Python and any other script with a "#!" line, Makefile.am,
# configure.ac, man page sources (*.1 .. *.8, *.in of those), POD,
# suppression files, fuzzer dictionaries, *.pc.in, *.conf and
# debian/rules.
# Data (fuzz corpora, bench results, *.md, debian/ metadata) is left
# alone.  The line goes first, or after a "#!" line (and after a man
# page's '\" preprocessor line), in the file's own comment syntax; a file
# that has "SPDX-License-Identifier:" in its first 10 lines has it.
# Re-running changes nothing.

set -e
set -o pipefail

licence=LGPL-2.1-or-later
tag=SPDX-License-Identifier
prog=${0##*/}

usage ()
{
  echo "usage: $prog [--check] [FILE...]"
}

# style FILE: print how FILE writes its comment (c, hash, dnl, roff, pod),
# or nothing when FILE is not a source file.
style ()
{
  local f=$1 base=${1##*/}
  case $f in
    */fuzz-corpus/*|fuzz-corpus/*|*/results/*|results/*) return 0 ;;
    debian/rules|*/debian/rules) echo hash; return 0 ;;
    debian/*|*/debian/*) return 0 ;;
  esac
  case $base in
    *.c|*.h|*.syms) echo c ;;
    configure.ac|*.m4) echo dnl ;;
    Makefile.am|*.mk|*.sh|*.py|*.supp|*.dict|*.pc.in|*.conf) echo hash ;;
    *.[1-8]|*.[1-8].in) echo roff ;;
    *.pod) echo pod ;;
    *)
      if [ -f "$f" ] && [ "$(head -c 2 "$f")" = '#!' ]; then
        echo hash
      fi ;;
  esac
}

# has_line FILE: whether FILE already carries the tag near its top.
has_line ()
{
  head -n 10 "$1" | grep -q "$tag:"
}

# add_line FILE STYLE: insert the line in STYLE into FILE, in place.
add_line ()
{
  local f=$1 st=$2 line skip=0 first tmp
  case $st in
    c)    line="/* $tag: $licence */" ;;
    hash) line="# $tag: $licence" ;;
    dnl)  line="dnl $tag: $licence" ;;
    roff) line=".\\\" $tag: $licence" ;;
    pod)  line="=for comment $tag: $licence"$'\n' ;;
  esac
  IFS= read -r first < "$f" || true
  case $first in
    '#!'*) skip=1 ;;
    "'\\\""*) [ "$st" = roff ] && skip=1 ;;
  esac
  tmp=$(mktemp "$f.spdx.XXXXXX")
  {
    [ $skip = 1 ] && printf '%s\n' "$first"
    printf '%s\n' "$line"
    tail -n +$(( skip + 1 )) "$f"
  } > "$tmp"
  chmod --reference="$f" "$tmp"
  mv "$tmp" "$f"
}

check=
case $1 in
  --check) check=1; shift ;;
  --help|-h) usage; exit 0 ;;
  -*) usage >&2; exit 2 ;;
esac

if [ $# -eq 0 ]; then
  top=$(cd "$(dirname "$0")/.." && pwd)
  cd "$top"
  gittop=$(git rev-parse --show-toplevel 2>/dev/null) || gittop=
  if [ "$gittop" != "$top" ]; then
    echo "$prog: $top is not a git checkout: name the files to look at" >&2
    exit 2
  fi
  mapfile -t files < <(git ls-files --cached --others --exclude-standard |
                       sort -u)
else
  files=("$@")
fi

missing=0
for f in "${files[@]}"; do
  [ -f "$f" ] && [ ! -L "$f" ] || continue
  st=$(style "$f")
  [ -n "$st" ] || continue
  has_line "$f" && continue
  if [ -n "$check" ]; then
    echo "$f"
    missing=$(( missing + 1 ))
  else
    add_line "$f" "$st"
    echo "$prog: added to $f"
  fi
done

if [ -n "$check" ] && [ $missing -gt 0 ]; then
  echo "$prog: $missing file(s) lack '$tag: $licence' (run $prog to add it)" >&2
  exit 1
fi
exit 0
