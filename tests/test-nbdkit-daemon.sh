#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nbdkit with the nfsdirect plugin as a daemon (it forks into the
# background after the plugin checked the file): the engine's threads,
# started after the fork, serve reads and writes, and it exits cleanly on
# SIGTERM.  Also in the foreground (-f), where nbdkit does not fork.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_ganesha
requires_nfsdirect
requires_all python3 nbdinfo

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"

truncate -s 8M "$DIO_TEST_DIR/daemon.img"

# SIGTERM, and wait until it is gone: a foreground nbdkit is our child
# (wait for it), a daemon is not (poll).
fg_pid=
stop_nbdkit ()
{
  local pid status=0
  pid=$(cat "$tmp/pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || return 0
  if [ -n "$fg_pid" ]; then
    wait "$fg_pid" || status=$?
    fg_pid=
    [ "$status" -eq 0 ] || fail "nbdkit -f exited with $status"
  else
    retry_until "$nbdkit_wait_s" eval "! kill -0 $pid 2>/dev/null" ||
      fail "nbdkit $pid did not exit"
  fi
}
cleanup_fn stop_nbdkit

for mode in daemon foreground; do
  rm -f "$tmp/pid" "$tmp/sock"
  if [ $mode = daemon ]; then
    $nbdkit -P "$tmp/pid" -U "$tmp/sock" "$nfsdirect" "$(dio_url daemon.img)"
  else
    $nbdkit -f -P "$tmp/pid" -U "$tmp/sock" "$nfsdirect" \
      "$(dio_url daemon.img)" &
    fg_pid=$!
  fi
  retry_until "$nbdkit_wait_s" test -S "$tmp/sock" -a -s "$tmp/pid" ||
    fail "$mode: no socket"
  [ "$(nbdinfo --size "nbd+unix:///?socket=$tmp/sock")" = 8388608 ] ||
    fail "$mode: wrong size"
  python3 "$nbd_steps" "$tmp/sock" \
    "a write 1M 2M 0x5c fua" "b read 1M 2M 0x5c" "a flush"
  cmp -n 2097152 -i 1048576:0 "$DIO_TEST_DIR/daemon.img" \
      <(head -c 2M /dev/zero | tr '\0' '\134') || fail "$mode: data not in the file"
  stop_nbdkit
done
