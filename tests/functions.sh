# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# libdirectio test suite: helpers for shell tests (bash), in the manner of
# nbdkit's tests/functions.sh.  A test starts with
#
#   #!/usr/bin/env bash
#   . "$(dirname "$0")/functions.sh"
#   set -e
#   set -x
#
# and is named test-*.sh, so that `make check` runs it through
# with-ganesha.sh with a private nfs-ganesha (DIO_TEST_* and DIO_GANESHA in
# the environment; see with-ganesha.sh).  Exit 77 means skipped.

# fail MSG...
# Print a failure to stderr and exit 1.
fail ()
{
  echo "$0: FAIL: $*" >&2
  exit 1
}

# skip MSG...
# Print why the test cannot run here and exit 77.
skip ()
{
  echo "$0: SKIP: $*" >&2
  exit 77
}

# requires CMD [ARG...]
# Skip the test unless CMD exists, or, given arguments, unless
# `CMD ARG...` succeeds:  requires nfs-ls;  requires qemu-img --version
requires ()
{
  if [ $# -eq 1 ]; then
    command -v "$1" >/dev/null 2>&1 || skip "$1 not found"
  else
    "$@" </dev/null >/dev/null 2>&1 || skip "'$*' failed"
  fi
}

# requires_all CMD...
# Skip the test unless every CMD exists.
requires_all ()
{
  local c
  for c in "$@"; do requires "$c"; done
}

# requires_not CMD [ARG...]
# Skip the test if `CMD ARG...` succeeds.
requires_not ()
{
  ! "$@" </dev/null >/dev/null 2>&1 || skip "'$*' succeeded"
}

# requires_root
requires_root ()
{
  [ "$(id -u)" = 0 ] || skip "needs root"
}

# requires_ganesha
# Skip unless run under with-ganesha.sh (its variables are set) with an
# export directory on this host (not under FSAL MEM).
requires_ganesha ()
{
  requires_ganesha_any
  [ -d "$DIO_TEST_DIR" ] ||
    skip "the server's FSAL ${DIO_TEST_FSAL:-?} has no export directory here"
}

# requires_ganesha_any
# Skip unless run under with-ganesha.sh, with either FSAL (VFS or MEM).
requires_ganesha_any ()
{
  [ -n "$DIO_TEST_SERVER" ] && [ -n "$DIO_TEST_QUERY" ] &&
    [ -x "$DIO_GANESHA" ] ||
    skip "no test NFS server: run this as with-ganesha.sh $0"
}

# dio_url [FILE]
# Print the libnfs URL of FILE (a path relative to the export root) on the
# test server:  nfs-cat "$(dio_url dir/file)"
dio_url ()
{
  echo "nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/${1#/}?$DIO_TEST_QUERY"
}

# cleanup_fn CMD [ARG...]
# Run CMD ARG... when the script exits for any reason (exit, failure under
# set -e, SIGINT, SIGTERM, SIGHUP), most recently registered first; the
# script's exit status is kept.
_cleanup_hooks=()
cleanup_fn ()
{
  local hook
  printf -v hook '%q ' "$@"
  _cleanup_hooks+=("$hook")
}

_run_cleanup_hooks ()
{
  local status=$? i
  set +e
  trap '' INT TERM HUP
  trap - EXIT
  for (( i = ${#_cleanup_hooks[@]} - 1; i >= 0; i-- )); do
    eval "${_cleanup_hooks[i]}"
  done
  exit "$status"
}
trap _run_cleanup_hooks EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# retry_until SECONDS CMD [ARG...]
# Run CMD every 50 ms until it succeeds (return 0) or SECONDS pass
# (return 1).  For waiting on a condition, never on time itself.
retry_until ()
{
  local limit=$1 deadline t
  shift
  t=$(date +%s%N)
  deadline=$(( t / 1000000 + limit * 1000 ))
  until "$@"; do
    t=$(date +%s%N)
    [ $(( t / 1000000 )) -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# expect_status WANT CMD [ARG...]
# Run CMD with stdout in $tmp/out and stderr in $tmp/err ($tmp: the
# test's scratch directory); fail unless it exits WANT.
expect_status ()
{
  local want=$1 st=0
  shift
  "$@" >"$tmp/out" 2>"$tmp/err" || st=$?
  [ "$st" = "$want" ] ||
    fail "'$*' exited $st, not $want; stderr: $(cat "$tmp/err")"
}

# err_has REGEX: the last expect_status's stderr matches REGEX.
err_has ()
{
  grep -Eq -- "$1" "$tmp/err" ||
    fail "stderr does not match '$1': $(cat "$tmp/err")"
}

# Test programs: take them from the build tree when it is known.
if [ -n "$top_builddir" ]; then
  PATH="$top_builddir/tools:$PATH"
fi

# with_asan CMD [ARG...]
# Run an uninstrumented program that loads our libraries (nbdkit loading
# the plugin, a test program linked against libdirectio) in a sanitizer
# build: ASan's runtime must come first, so preload it; leaks of the
# uninstrumented program itself are not ours to report.
with_asan ()
{
  if [ -n "${DIO_ASAN_PRELOAD:-}" ]; then
    LD_PRELOAD="$DIO_ASAN_PRELOAD${LD_PRELOAD:+:$LD_PRELOAD}" \
    ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" "$@"
  else
    "$@"
  fi
}

# start_nfsproxy [RULE...]
# Start tests/nfsproxy (an RPC fault proxy; tests/nfsproxy.md) in front of
# this test's ganesha, NFS and MOUNT ports both, with RULEs armed; wait
# until it listens; stop it when the script exits (its log goes to stderr
# then if the script failed).  Sets:
#   NFSPROXY_QUERY  nfsport=N&mountport=M (the proxy's ports)
#   NFSPROXY_URL    the export's root through the proxy
#   NFSPROXY_LOG    its log: one line per action ("... rule=1 short ...")
#   NFSPROXY_CTL    its control socket (nfsproxy_arm, nfsproxy_fired)
#   NFSPROXY_PID
# nfsproxy_url FILE prints FILE's URL through the proxy.
start_nfsproxy ()
{
  local dir nfs mnt port_nfs port_mnt
  requires_ganesha
  nfs=${DIO_TEST_QUERY#*nfsport=}; nfs=${nfs%%&*}
  mnt=${DIO_TEST_QUERY#*mountport=}; mnt=${mnt%%&*}
  dir=$(mktemp -d "${TMPDIR:-/tmp}/nfsproxy.XXXXXX") || fail "mktemp failed"
  NFSPROXY_LOG=$dir/log
  NFSPROXY_CTL=$dir/ctl
  "${builddir:-.}/nfsproxy" --nfs "$nfs" --mount "$mnt" \
    --ports-file "$dir/ports" --log "$NFSPROXY_LOG" \
    --control "$NFSPROXY_CTL" "$@" </dev/null &
  NFSPROXY_PID=$!
  cleanup_fn _stop_nfsproxy "$NFSPROXY_PID" "$dir"
  retry_until 20 _nfsproxy_ready "$dir/ports" ||
    fail "nfsproxy did not start (rules: $*)"
  port_nfs=$(sed -n 's/^NFS_PORT=//p' "$dir/ports")
  port_mnt=$(sed -n 's/^MOUNT_PORT=//p' "$dir/ports")
  NFSPROXY_QUERY="nfsport=$port_nfs&mountport=$port_mnt"
  NFSPROXY_URL="nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/?$NFSPROXY_QUERY"
}

_nfsproxy_ready ()
{
  kill -0 "$NFSPROXY_PID" 2>/dev/null || fail "nfsproxy exited at start"
  [ -s "$1" ]
}

# (cleanup) Stop the proxy; show its log if the test failed ($status is
# _run_cleanup_hooks' exit status).
_stop_nfsproxy ()
{
  kill -TERM "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  if [ "${status:-0}" != 0 ] && [ "${status:-0}" != 77 ] && [ -f "$2/log" ]; then
    echo "--- nfsproxy log (last 60 lines) ---" >&2
    tail -n 60 "$2/log" >&2
  fi
  rm -rf "$2"
}

# nfsproxy_url [FILE]
# FILE's URL (relative to the export root) through the proxy.
nfsproxy_url ()
{
  echo "nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/${1#/}?$NFSPROXY_QUERY"
}

# nfsproxy_arm RULE...
# Arm RULEs in the running proxy; prints their ids, one a line.
nfsproxy_arm ()
{
  local r args=()
  for r in "$@"; do args+=(--arm "$r"); done
  "${builddir:-.}/nfsproxy" --control "$NFSPROXY_CTL" "${args[@]}"
}

# nfsproxy_clear
# Disarm every rule.
nfsproxy_clear ()
{
  "${builddir:-.}/nfsproxy" --control "$NFSPROXY_CTL" --clear
}

# nfsproxy_fired ID
# How often rule ID has fired.
nfsproxy_fired ()
{
  "${builddir:-.}/nfsproxy" --control "$NFSPROXY_CTL" --fired "$1"
}
