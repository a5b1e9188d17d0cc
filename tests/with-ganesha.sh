#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# libdirectio test suite: run a command against a private, loopback
# nfs-ganesha, and always tear it down.
#
#   with-ganesha.sh CMD [ARG...]
#
# DIO_GANESHA_FSAL=MEM (or CMD named test-mem-*.sh) serves ganesha's MEM
# FSAL instead of VFS: a second server implementation (tests/ganesha.sh).
#
# CMD runs in its own network, mount and pid namespaces, with lo up, a tmpfs
# on /run, its own rpcbind and a ganesha (tests/ganesha.sh) serving a fresh
# state directory under ${TMPDIR:-/tmp}.  It sees:
#
#   DIO_TEST_SERVER  127.0.0.1
#   DIO_TEST_EXPORT  /export
#   DIO_TEST_QUERY   nfsport=12049&mountport=12050
#   DIO_TEST_URL     nfs://127.0.0.1/export/?nfsport=12049&mountport=12050
#   DIO_TEST_DIR     the export's local directory (unset under FSAL MEM)
#   DIO_TEST_FSAL    VFS, or MEM when DIO_GANESHA_FSAL=MEM chose ganesha's
#                    in-memory backend (no files on this host; see ganesha.sh)
#   DIO_GANESHA      a command: "$DIO_GANESHA stop|start|restart [--new-verifier]|
#                    pause|resume|pid|verifier|url [FILE]|dir" acts on this server
#
# so a file's URL is nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/FILE?$DIO_TEST_QUERY
# (tests/functions.sh: dio_url FILE).
#
# Exits with CMD's status (77 = skipped stays 77); 77 with a reason when
# this is not root or namespaces are unavailable; 99 (a hard error for
# automake's harness) when the server cannot be set up.  On exit, on
# SIGINT/SIGTERM/SIGHUP and even if CMD hangs on, ganesha and rpcbind are
# stopped and the state directory removed; since the inner shell is the
# pid namespace's init, the kernel kills anything left in it when it ends.

set -e

prog=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)
self=$here/$prog

skip () { echo "$prog: SKIP: $*" >&2; exit 77; }
hard_error () { echo "$prog: ERROR: $*" >&2; exit 99; }
now_ms () { local t; t=$(date +%s%N); echo $(( t / 1000000 )); }

# --- Outside: check, then re-run this script inside new namespaces. -----
outside ()
{
  local cmd upid status

  [ $# -ge 1 ] || { echo "usage: $prog CMD [ARG...]" >&2; exit 2; }
  # The tests named test-mem-*.sh run against the MEM FSAL.
  case ${1##*/} in
    test-mem-*) export DIO_GANESHA_FSAL=MEM ;;
  esac
  [ "$(id -u)" = 0 ] || skip "needs root (network namespace, rpcbind, mounts)"
  for cmd in unshare ip mount rpcbind rpcinfo ganesha.nfsd nfs-ls; do
    command -v "$cmd" >/dev/null 2>&1 || skip "$cmd not found"
  done
  unshare --net --mount --pid --fork --propagation private true 2>/dev/null ||
    skip "cannot create network/mount/pid namespaces here"
  # DIO_TEST_QUICK=1 (make distcheck in CI): only the tests named in
  # DIO_QUICK_TESTS (tests/Makefile.am's QUICK_TESTS) run, others skip.
  if [ -n "$DIO_TEST_QUICK" ] && [ -n "$DIO_QUICK_TESTS" ]; then
    case " $DIO_QUICK_TESTS " in
      *" ${1##*/} "*) ;;
      *) skip "${1##*/} is not in the quick set (DIO_TEST_QUICK)" ;;
    esac
  fi

  # On a terminal (someone's interactive `with-ganesha.sh bash`), all in
  # the foreground, or reading the terminal would stop CMD (SIGTTIN);
  # Ctrl-C reaches the whole process group there anyway.
  if [ -t 0 ]; then
    export _DIO_WITH_GANESHA_FG=1
    exec unshare --net --mount --pid --fork --mount-proc --propagation private \
      --kill-child=SIGTERM -- bash "$self" --in-namespace "$@"
  fi
  unset _DIO_WITH_GANESHA_FG

  # Otherwise run unshare in the background so that signals reach us at
  # once and are passed on to the namespace's init (unshare itself blocks
  # SIGINT and SIGTERM while it waits); if unshare dies, its child gets
  # SIGTERM.  Job control (set -m), or bash would start it with SIGINT
  # ignored.
  set -m
  unshare --net --mount --pid --fork --mount-proc --propagation private \
    --kill-child=SIGTERM -- bash "$self" --in-namespace "$@" <&0 &
  upid=$!
  trap 'forward TERM' TERM
  trap 'forward INT' INT
  trap 'forward HUP' HUP
  # wait returns >128 when a trapped signal interrupts it: wait again
  # until unshare is gone; bash keeps its status for the last wait.
  while kill -0 "$upid" 2>/dev/null; do
    wait "$upid" || true
  done
  status=0
  wait "$upid" || status=$?
  exit "$status"
}

# Pass a signal to the namespace's init (unshare's only child).
forward ()
{
  local child
  child=$(pgrep -P "$upid" 2>/dev/null) || true
  [ -z "$child" ] || kill -s "$1" "$child" 2>/dev/null || true
}

# --- Inside: PID 1 of the new namespaces. -------------------------------
rpcbind_pid=
state=
cmd_pid=

cleanup ()
{
  local status=$?
  trap '' INT TERM HUP
  if [ -n "$cmd_pid" ] && kill -0 "$cmd_pid" 2>/dev/null; then
    kill -TERM "$cmd_pid" 2>/dev/null || true
  fi
  if [ -n "$state" ] && [ -f "$state/ganesha.conf" ]; then
    "$here/ganesha.sh" stop "$state" || status=99
  fi
  if [ -n "$rpcbind_pid" ]; then
    kill -TERM "$rpcbind_pid" 2>/dev/null || true
    wait "$rpcbind_pid" 2>/dev/null || true
  fi
  [ -z "$state" ] || rm -rf "$state"
  exit "$status"
}

inside ()
{
  local deadline status

  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP

  ip link set lo up || hard_error "cannot bring lo up"
  # A private /run: rpcbind's socket and state, no D-Bus for ganesha.
  mount -t tmpfs -o mode=0755 tmpfs /run || hard_error "cannot mount tmpfs on /run"
  mkdir -p /run/rpcbind /run/lock
  chmod 1777 /run/lock
  ! getent passwd _rpc >/dev/null || chown _rpc /run/rpcbind

  env -u LD_PRELOAD -u MALLOC_PERTURB_ rpcbind -f </dev/null >/dev/null 2>&1 &
  rpcbind_pid=$!
  deadline=$(( $(now_ms) + 10000 ))
  until rpcinfo -p 127.0.0.1 >/dev/null 2>&1; do
    kill -0 "$rpcbind_pid" 2>/dev/null || hard_error "rpcbind exited"
    [ "$(now_ms)" -lt "$deadline" ] || hard_error "rpcbind not answering after 10 s"
    sleep 0.02
  done

  state=$(mktemp -d "${TMPDIR:-/tmp}/dio-ganesha.XXXXXX") ||
    hard_error "mktemp failed"
  "$here/ganesha.sh" init "$state" || hard_error "ganesha.sh init failed"
  "$here/ganesha.sh" start "$state" || hard_error "ganesha did not start"

  # One path for tests to call: $DIO_GANESHA SUBCOMMAND [ARG...]
  {
    echo '#!/bin/sh'
    echo '# Generated by with-ganesha.sh: act on this test run'"'"'s ganesha.'
    echo '[ $# -ge 1 ] || { echo "usage: $0 start|stop|restart [--new-verifier]|pause|resume|pid|verifier|url [FILE]|dir" >&2; exit 2; }'
    echo 'sub=$1; shift'
    printf 'exec %q "$sub" %q "$@"\n' "$here/ganesha.sh" "$state"
  } > "$state/ganesha"
  chmod +x "$state/ganesha"

  # shellcheck source=/dev/null
  . "$state/ports"
  export DIO_TEST_SERVER=127.0.0.1
  export DIO_TEST_EXPORT=/export
  export DIO_TEST_QUERY="nfsport=$NFS_PORT&mountport=$MNT_PORT"
  export DIO_TEST_URL="nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/?$DIO_TEST_QUERY"
  export DIO_TEST_FSAL=${FSAL:-VFS}
  if [ "$DIO_TEST_FSAL" = VFS ]; then
    export DIO_TEST_DIR="$state/export"
  else
    unset DIO_TEST_DIR
  fi
  export DIO_GANESHA="$state/ganesha"

  status=0
  if [ -n "$_DIO_WITH_GANESHA_FG" ]; then
    unset _DIO_WITH_GANESHA_FG
    "$@" || status=$?
  else
    # In the background so that a signal runs our trap at once; with job
    # control, so that CMD does not start with SIGINT and SIGQUIT ignored.
    # A hung test must not hang the suite: DIO_TEST_TIMEOUT seconds
    # (default 900), then SIGTERM, and SIGKILL 10 s later.
    set -m
    timeout --kill-after=10 "${DIO_TEST_TIMEOUT:-900}" "$@" <&0 &
    cmd_pid=$!
    wait "$cmd_pid" || status=$?
    cmd_pid=
    if [ "$status" = 124 ] || [ "$status" = 137 ]; then
      echo "$prog: ERROR: $* timed out after ${DIO_TEST_TIMEOUT:-900} s" >&2
    fi
  fi
  exit "$status"
}

if [ "$1" = --in-namespace ]; then
  shift
  inside "$@"
else
  outside "$@"
fi
