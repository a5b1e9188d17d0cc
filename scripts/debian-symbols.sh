#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Write debian/libdirectio0.symbols from libdirectio/libdirectio.syms.
#
#   scripts/debian-symbols.sh           rewrite the symbols file
#   scripts/debian-symbols.sh --check   say whether it is up to date (exit 1 if not)
#
# Each symbol named in a version node of the version script becomes
# "NAME@NODE VERSION", and each such node its own "NODE@NODE VERSION"; a
# node that exports by pattern (LIBDIRECTIO_PRIVATE: dio__*, ...) becomes
# one "(symver)NODE VERSION" line covering all of its symbols.  VERSION
# is the one the symbol has in the symbols file already, or, for a new
# symbol, the upstream version of debian/changelog's first entry: re-run
# this after adding a symbol to libdirectio.syms.  The soname's major
# number comes from configure.ac's LIBDIRECTIO_VERSION_INFO
# (current - age).

set -e
set -o pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
syms=$top/libdirectio/libdirectio.syms
prog=${0##*/}

check=
case $1 in
  --check) check=1 ;;
  '') ;;
  *) echo "usage: $prog [--check]" >&2; exit 2 ;;
esac

info=$(sed -n 's/^LIBDIRECTIO_VERSION_INFO=\([0-9]*\):[0-9]*:\([0-9]*\)$/\1 \2/p' \
         "$top/configure.ac")
[ -n "$info" ] || { echo "$prog: no LIBDIRECTIO_VERSION_INFO=C:R:A in configure.ac" >&2; exit 1; }
set -- $info
major=$(( $1 - $2 ))
out=$top/debian/libdirectio$major.symbols

version=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$top/debian/changelog")
version=${version#*:}
version=${version%-*}
[ -n "$version" ] || { echo "$prog: no version in debian/changelog" >&2; exit 1; }

new=$(mktemp)
trap 'rm -f "$new"' EXIT

{
  echo "libdirectio.so.$major libdirectio$major #MINVER#"
  echo "* Build-Depends-Package: libdirectio-dev"
  # Strip comments, then print "NODE NAME" for each global name and
  # "NODE *" for a node with a pattern.
  sed -e 's|/\*.*\*/||g' "$syms" |
  awk '
    /^[ \t]*[A-Za-z0-9_.]+[ \t]*\{/ { node = $1; sub(/\{.*/, "", node); scope = ""; next }
    /^[ \t]*\}/                      { node = ""; next }
    /global:/                        { scope = "global"; next }
    /local:/                         { scope = "local"; next }
    node != "" && scope == "global" {
      line = $0; gsub(/[ \t;]/, "", line)
      if (line == "") next
      if (line ~ /[*?[]/) print node, "*"; else print node, line
    }' |
  sort -u |
  awk -v old="$out" -v version="$version" '
    BEGIN {
      while ((getline l < old) > 0)
        if (l ~ /^ [^ ]+ [^ ]+$/) { split(l, f, " "); have[f[1]] = f[2] }
    }
    function v(key) { return (key in have) ? have[key] : version }
    $2 == "*" { key = "(symver)" $1; print " " key " " v(key); next }
    { key = $2 "@" $1; print " " key " " v(key)
      key = $1 "@" $1; print " " key " " v(key) }' |
  LC_ALL=C sort -u
} > "$new"

if [ -n "$check" ]; then
  if ! cmp -s "$new" "$out"; then
    echo "$prog: ${out#"$top"/} is not up to date with libdirectio.syms (run $prog):" >&2
    diff -u "$out" "$new" >&2 || true
    exit 1
  fi
  exit 0
fi
cp "$new" "$out"
echo "$prog: wrote ${out#"$top"/}"
