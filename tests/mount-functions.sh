# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# libdirectio test suite: helpers for `directio mount` tests
# (test-mount-*.sh), sourced after functions.sh.  The tests run inside
# with-ganesha.sh's private mount namespace, so their FUSE mounts are
# seen by nobody else and go with it.
#
#   mount_setup             skip unless FUSE works here (a probe mount);
#                           make $tmp and the empty directory $mnt
#   mount_start [OPT...]    directio mount OPT... of the test export on
#                           $mnt (daemonised; unmounted at exit); the
#                           daemon's pid in $mount_pid, its log $tmp/log
#   mount_stop              directio umount $mnt, and wait for the daemon;
#                           fail if valgrind (check-valgrind) or a
#                           sanitizer reported in its log
#   same_as_server FILE     fail unless $mnt/FILE equals the export's FILE

mount_setup ()
{
  requires_ganesha
  requires directio mount --help
  [ -c /dev/fuse ] || skip "no /dev/fuse"
  requires_all fusermount3 findmnt
  tmp=$(mktemp -d)
  cleanup_fn rm -rf "$tmp"
  mnt=$tmp/mnt
  mkdir "$mnt"
  # A container may have /dev/fuse and still refuse FUSE mounts.
  if ! directio mount "$DIO_TEST_URL" "$mnt" 2> "$tmp/probe.err"; then
    if grep -q 'FUSE mount failed' "$tmp/probe.err"; then
      skip "FUSE mounts are refused here: $(cat "$tmp/probe.err")"
    fi
    fail "directio mount: $(cat "$tmp/probe.err")"
  fi
  directio umount "$mnt" || fail "directio umount of the probe mount"
}

mount_start ()
{
  local vg=
  # check-valgrind: the daemon's report goes to a file mount_stop reads.
  [ -z "$DIO_TEST_WRAPPER" ] || vg=--log-file=$tmp/valgrind.log
  ${DIO_TEST_WRAPPER} $vg "$(command -v directio)" mount \
    -o "log=$tmp/log" "$@" "$DIO_TEST_URL" "$mnt" ||
    fail "directio mount $* failed"
  cleanup_fn _mount_cleanup
  findmnt -n "$mnt" >/dev/null || fail "$mnt is not a mountpoint"
  mount_pid=$(pgrep -n -f "directio mount .*$mnt") ||
    fail "no daemon for $mnt"
}

# A sanitizer build's report in the daemon's log (its stderr).
_sanitizer_report ()
{
  grep -E -A20 \
    'runtime error:|(ERROR|WARNING): (Address|Leak|Thread)Sanitizer' \
    "$tmp/log" 2>/dev/null
}

_mount_cleanup ()
{
  _sanitizer_report >&2
  if findmnt -n "$mnt" >/dev/null 2>&1; then
    umount -l "$mnt" 2>/dev/null
  fi
  [ -z "$mount_pid" ] || kill "$mount_pid" 2>/dev/null
  return 0
}

# The daemon is gone (bounded wait).
_daemon_gone () { ! kill -0 "$mount_pid" 2>/dev/null; }

mount_stop ()
{
  directio umount "$mnt" || fail "directio umount $mnt failed"
  retry_until 30 _daemon_gone || fail "the daemon outlived its mount"
  mount_pid=
  if _sanitizer_report > /dev/null; then
    fail "sanitizer: $(_sanitizer_report)"
  fi
  if [ -s "$tmp/valgrind.log" ]; then
    fail "valgrind: $(cat "$tmp/valgrind.log")"
  fi
}

same_as_server ()
{
  cmp "$mnt/$1" "$DIO_TEST_DIR/$1" || fail "$1 differs from the server's"
}
