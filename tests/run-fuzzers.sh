#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build the libFuzzer targets with clang straight from the sources (no
# libtool, no configure flags needed) and run each for a bounded time.
#
#   run-fuzzers.sh [profile|options|url]...     (default: all three)
#
# Environment:
#   FUZZ_SECONDS   seconds per target (default 30)
#   FUZZ_WORKDIR   where binaries, corpora and crashes go
#                  (default ${builddir:-.}/fuzz)
#   FUZZ_CC        the compiler (default clang)
#   top_srcdir     the source tree (default: this script's parent)
#   top_builddir   a configured build tree whose config.h to use (if unset,
#                  a minimal config.h is written)
#
# The seed corpus of target T is tests/fuzz-corpus/T/; new inputs go to
# FUZZ_WORKDIR/corpus-T, so the source tree is never written.  A crash,
# leak, timeout or failed check leaves FUZZ_WORKDIR/T-crash-* (the input)
# and exits 1 with the command that replays it.  Exits 77 when the
# compiler cannot build a libFuzzer program (no clang, no
# libclang_rt.fuzzer).

set -e
set -o pipefail

prog=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/.." && pwd)}
work=${FUZZ_WORKDIR:-${builddir:-.}/fuzz}
seconds=${FUZZ_SECONDS:-30}
cc=${FUZZ_CC:-clang}
# shellcheck disable=SC2054  # the commas are the option's own
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)

usage () { echo "usage: $prog [profile|options|url]..." >&2; exit 2; }
skip () { echo "$prog: SKIP: $*" >&2; exit 77; }

case "$1" in -h|--help) echo "usage: $prog [profile|options|url]..."; exit 0 ;; esac
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "$prog: FUZZ_SECONDS=$seconds: not a positive number" >&2
  exit 2
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(profile options url)

# Sources of each target, relative to the top of the source tree.
sources_of ()
{
  case "$1" in
    profile) echo tests/fuzz_profile.c libdirectio/profile.c libdirectio/options.c ;;
    options) echo tests/fuzz_options.c libdirectio/options.c ;;
    url)     echo tests/fuzz_url.c libdirectio/url.c libdirectio/options.c libdirectio/errors.c ;;
    *)       usage ;;
  esac
}
dict_of ()
{
  case "$1" in
    profile|options) echo "$top_srcdir/tests/fuzz_profile.dict" ;;
    url)             echo "$top_srcdir/tests/fuzz_url.dict" ;;
  esac
}
for t in "${targets[@]}"; do sources_of "$t" >/dev/null; done

command -v "$cc" >/dev/null 2>&1 || skip "$cc not found"
mkdir -p "$work"
work=$(cd "$work" && pwd)

# Can this compiler link a libFuzzer program at all?
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput (const uint8_t *d, size_t n) { return 0; }\n' \
  > "$work/probe.c"
"$cc" "${flags[@]}" "$work/probe.c" -o "$work/probe" >/dev/null 2>&1 ||
  skip "$cc cannot build with -fsanitize=fuzzer (libclang_rt.fuzzer missing?)"

# config.h: the build tree's, or just what the sources need.
if [ -n "$top_builddir" ] && [ -f "$top_builddir/config.h" ]; then
  confdir=$top_builddir
else
  confdir=$work
  echo '#define _GNU_SOURCE 1' > "$work/config.h"
fi

status=0
for t in "${targets[@]}"; do
  bin=$work/fuzz_$t
  srcs=()
  for s in $(sources_of "$t"); do srcs+=("$top_srcdir/$s"); done
  echo "$prog: building fuzz_$t"
  read -r -a nfs_cflags <<< "$(pkg-config --cflags libnfs 2>/dev/null)"
  "$cc" "${flags[@]}" -I"$confdir" -I"$top_srcdir/libdirectio" \
    "${nfs_cflags[@]}" "${srcs[@]}" -o "$bin"

  mkdir -p "$work/corpus-$t"
  rm -f "$work/$t-crash-"* "$work/$t-leak-"* "$work/$t-timeout-"* "$work/$t-oom-"*
  echo "$prog: fuzzing $t for $seconds s"
  # New inputs go to the first corpus directory, the seeds stay as they are.
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -max_len=4096 -print_final_stats=1 -dict="$(dict_of "$t")" \
       -artifact_prefix="$work/$t-" \
       "$work/corpus-$t" "$top_srcdir/tests/fuzz-corpus/$t" \
       > "$work/$t.log" 2>&1; then
    tail -n 12 "$work/$t.log" | grep -E '^(stat::|Done)' || true
  else
    status=1
    tail -n 40 "$work/$t.log" >&2
    for a in "$work/$t-"*; do
      [ -f "$a" ] || continue
      echo "$prog: FAIL: fuzz_$t: input $a; replay: $bin $a" >&2
    done
  fi
done
exit $status
