#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run every test of libdirectio on a Debian 12 machine, from a fresh clone:
#
#   1. install the packages the build and the tests need (skipped when all
#      are installed already);
#   2. ./autogen.sh, then a normal build and `make check` in _build/;
#   3. `make check-valgrind` there (the suite under valgrind memcheck);
#   4. an ASan+UBSan build and `make check` in _build-asan/;
#   5. a ThreadSanitizer build and `make check-tsan` in _build-tsan/ (the
#      threaded tests, briefly; any report fails the test);
#   6. `make distcheck` in the normal build: the tarball has every tracked
#      file, builds out of tree, passes a quick `make check`
#      (DIO_TEST_QUICK=1: the full suite ran in step 2), installs under its
#      own prefix and uninstalls cleanly;
#   7. with DIO_TEST_DEBS=1 (.ci/run sets it): tests/test-debian-packages.sh
#      builds the Debian packages, installs them on this machine, uses them
#      and removes them.
#
# All builds are out of tree (VPATH).  A source tree configured in place
# (./configure run in it) cannot also host VPATH builds: then the normal
# build runs in place and the sanitizer builds are skipped with a warning.
#
# Environment: JOBS (default 2), DIO_CHECK_SKIP_APT=1 skips step 1,
# DIO_CHECK_SKIP_VALGRIND=1, DIO_CHECK_SKIP_ASAN=1 and
# DIO_CHECK_SKIP_TSAN=1, DIO_CHECK_SKIP_DISTCHECK=1 skip those steps.
# The last line printed is a summary: "check: N passed, N failed, N skipped".

set -e
set -o pipefail

cd "$(dirname "$0")"
top=$(pwd)
. scripts/deps.sh
jobs=${JOBS:-2}

passed=0 failed=0 skipped=0

# The package test installs packages system-wide: only step 7 runs it,
# not the make check passes before.
test_debs=${DIO_TEST_DEBS:-}
unset DIO_TEST_DEBS

say () { printf '\n=== check.sh: %s\n' "$*"; }
die () { printf 'check.sh: ERROR: %s\n' "$*" >&2; summary; exit 1; }
summary () { echo "check: $passed passed, $failed failed, $skipped skipped"; }

# Add the counts of every test-suite.log under $1 to the totals.
tally ()
{
  local log n k
  while IFS= read -r log; do
    n=$(sed -n 's/^# PASS: *//p' "$log" | head -n1); passed=$(( passed + ${n:-0} ))
    n=$(sed -n 's/^# SKIP: *//p' "$log" | head -n1); skipped=$(( skipped + ${n:-0} ))
    for k in FAIL ERROR XPASS; do
      n=$(sed -n "s/^# $k: *//p" "$log" | head -n1); failed=$(( failed + ${n:-0} ))
    done
  done < <(find "$1" -name test-suite.log -type f)
}

# show_failures DIR: print the test-suite.log files under DIR.
show_failures ()
{
  local log
  while IFS= read -r log; do
    printf '\n----- %s -----\n' "$log"
    cat "$log"
  done < <(find "$1" -name test-suite.log -type f)
}

# run_check DIR TARGET LABEL [MAKE-ARG...]: make TARGET in DIR, tally,
# show logs on failure.
run_check ()
{
  local dir=$1 target=$2 label=$3 status=0
  shift 3
  find "$dir" -name test-suite.log -type f -delete
  say "$label: make $target $*"
  make -C "$dir" -j"$jobs" "$target" "$@" || status=$?
  tally "$dir"
  if [ $status -ne 0 ]; then
    show_failures "$dir"
    die "$label: make $target failed"
  fi
}

# configure_and_build DIR LABEL [CONFIGURE-ARG...]
configure_and_build ()
{
  local dir=$1 label=$2 conf
  shift 2
  if [ "$dir" = . ]; then conf=./configure; else conf=$top/configure; fi
  mkdir -p "$dir"
  say "$label: configure $*"
  (cd "$dir" && "$conf" "$@") || {
    [ -f "$dir/config.log" ] && tail -n 40 "$dir/config.log"
    die "$label: configure failed"
  }
  say "$label: make"
  make -C "$dir" -j"$jobs" || die "$label: make failed"
}

[ -n "$DIO_CHECK_SKIP_APT" ] || dio_install_packages || die "installing packages failed"

say "autogen"
./autogen.sh || die "autogen.sh failed"

if [ -f config.status ]; then
  echo "check.sh: WARNING: the source tree is configured in place; building there" >&2
  builddir=.
else
  builddir=_build
fi

configure_and_build "$builddir" build
run_check "$builddir" check build

if [ -z "$DIO_CHECK_SKIP_VALGRIND" ]; then
  run_check "$builddir/tests" check-valgrind valgrind
fi

if [ -n "$DIO_CHECK_SKIP_ASAN" ]; then
  say "asan: skipped (DIO_CHECK_SKIP_ASAN)"
elif [ "$builddir" = . ]; then
  echo "check.sh: WARNING: sanitizer build skipped: the source tree is configured in place (make distclean first, or use a fresh clone)" >&2
else
  configure_and_build _build-asan asan --enable-sanitizers
  run_check _build-asan check asan
fi

if [ -n "$DIO_CHECK_SKIP_TSAN" ]; then
  say "tsan: skipped (DIO_CHECK_SKIP_TSAN)"
elif [ "$builddir" = . ]; then
  echo "check.sh: WARNING: ThreadSanitizer build skipped: the source tree is configured in place (make distclean first, or use a fresh clone)" >&2
else
  configure_and_build _build-tsan tsan --enable-sanitizers=thread
  run_check _build-tsan check-tsan tsan
fi

if [ -n "$DIO_CHECK_SKIP_DISTCHECK" ]; then
  say "distcheck: skipped (DIO_CHECK_SKIP_DISTCHECK)"
else
  say "distcheck: make distcheck (DIO_TEST_QUICK=1)"
  DIO_TEST_QUICK=1 make -C "$builddir" -j"$jobs" distcheck ||
    die "distcheck: make distcheck failed (its build tree is kept under $builddir/$(sed -n 's/^PACKAGE_TARNAME = //p' "$builddir/Makefile")-*)"
fi

if [ "$test_debs" = 1 ]; then
  DIO_TEST_DEBS=1 run_check "$builddir/tests" check debs TESTS=test-debian-packages.sh
else
  say "debs: skipped (DIO_TEST_DEBS=1 runs tests/test-debian-packages.sh; .ci/run sets it)"
fi

say "all done"
summary
