#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# directio mount and umount on bad input: one clear line each, exit 2
# for usage errors and 1 for everything else; --help on stdout.  And the
# /etc/fstab route: mount(8) -> mount.fuse3 -> "directio PROFILE MNT -o
# ...", from an fstab line "directio#PROFILE MNT fuse defaults,_netdev";
# -f stays in the foreground until unmounted.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/mount-functions.sh"
set -e
set -x

mount_setup
url=$DIO_TEST_URL

# expect WANT REGEX CMD...: CMD exits WANT with one line on stderr
# matching REGEX (usage errors add a pointer to --help).
expect ()
{
  local want=$1 re=$2 st=0
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err" || st=$?
  [ "$st" = "$want" ] || fail "'$*' exited $st, not $want: $(cat "$tmp/err")"
  sed -i "/^Try 'directio u\{0,1\}mount --help'/d" "$tmp/err"
  [ "$(wc -l < "$tmp/err")" = 1 ] || fail "'$*' said: $(cat "$tmp/err")"
  grep -Eq -- "$re" "$tmp/err" || fail "'$*' said: $(cat "$tmp/err")"
}

directio mount --help > "$tmp/out"
grep -q '^Usage: directio mount' "$tmp/out" || fail "mount --help"
directio umount --help > "$tmp/out"
grep -q 'umount MOUNTPOINT' "$tmp/out" || fail "umount --help"

expect 2 'need PROFILE' directio mount
expect 2 'need PROFILE' directio mount "$url"
expect 2 'too many operands' directio mount "$url" "$mnt" extra
expect 2 'bogus: unknown option word' directio mount -o bogus "$url" "$mnt"
expect 2 'rsize=abc' directio mount -o rsize=abc "$url" "$mnt"
expect 2 'empty option word' directio mount -o soft,,hard "$url" "$mnt"
expect 2 '--bogus: unknown option' directio mount --bogus "$url" "$mnt"
expect 2 'need one MOUNTPOINT' directio umount

printf '[test]\nurl = %s\nmountpoint = /mnt/dio-unused\n' "$url" \
  > "$tmp/profiles.conf"
export DIRECTIO_PROFILES=$tmp/profiles.conf
expect 1 'nosuch: no such profile in .*profiles.conf' \
  directio mount nosuch "$mnt"
expect 1 'a/b: not a profile name or an nfs:// URL' directio mount a/b "$mnt"
expect 1 "$tmp/missing: No such file" directio mount test "$tmp/missing"
: > "$tmp/file"
expect 1 "$tmp/file: not a directory" directio mount test "$tmp/file"
mkdir "$tmp/full"; : > "$tmp/full/x"
expect 1 "$tmp/full: not an empty directory" directio mount test "$tmp/full"
bad="${url%%\?*}nosuchdir?${url#*\?}"
expect 1 "nosuchdir" directio mount "$bad" "$mnt"
# libdirectio's shape after the tool's name: the call, the URL once, why.
grep -qF -- "directio mount: mount: $bad: " "$tmp/err" ||
  fail "nosuchdir: $(cat "$tmp/err")"
[ "$(grep -oF -- "$bad" "$tmp/err" | wc -l)" = 1 ] ||
  fail "nosuchdir: the URL more than once: $(cat "$tmp/err")"
expect 1 "$mnt: not a mountpoint" directio umount "$mnt"
# No FUSE device (hidden in this test's private mount namespace).
mount --bind "$tmp/file" /dev/fuse
expect 1 '^directio mount: /dev/fuse: ' directio mount test "$mnt"
umount /dev/fuse
! findmnt -n "$mnt" > /dev/null || fail "a failed mount left a mount"

# /etc/fstab: mount(8) runs "mount.fuse3 directio#test MNT -o OPTIONS"
# with a PATH of its own (where an installed directio is), so the test
# runs that step itself.
if command -v mount.fuse3 >/dev/null; then
  mount.fuse3 "directio#test" "$mnt" -o defaults,_netdev,forcedirectio
  cleanup_fn _mount_cleanup
  findmnt -n -o FSTYPE "$mnt" | grep -q '^fuse.directio$' ||
    fail "fstab: not mounted: $(findmnt -n "$mnt")"
  echo fstab > "$mnt/from-fstab"
  [ "$(cat "$DIO_TEST_DIR/from-fstab")" = fstab ] || fail "fstab mount"
  directio umount "$mnt"
fi

# -f: in the foreground, messages on stderr, exit 0 once unmounted.
directio mount -f "$url" "$mnt" 2> "$tmp/fg.err" &
fg=$!
retry_until 30 findmnt -n "$mnt" > /dev/null ||
  fail "-f: never mounted: $(cat "$tmp/fg.err")"
kill -0 $fg || fail "-f: the foreground daemon is gone"
directio umount "$mnt"
st=0
wait $fg || st=$?
[ "$st" = 0 ] || fail "-f: exited $st after umount: $(cat "$tmp/fg.err")"
grep -q "mounted on $mnt" "$tmp/fg.err" || fail "-f: $(cat "$tmp/fg.err")"

# SIGTERM to the daemon, with its workers busy a moment before: it
# unmounts and exits (1, as for any end that is not an unmount).
directio mount -f "$url" "$mnt" 2> "$tmp/term.err" &
fg=$!
retry_until 30 findmnt -n "$mnt" > /dev/null ||
  fail "SIGTERM: never mounted: $(cat "$tmp/term.err")"
dd if=/dev/zero of="$mnt/term" bs=1M count=2 oflag=direct status=none ||
  fail "SIGTERM: write before the signal"
kill -TERM $fg
st=0
wait $fg || st=$?
[ "$st" = 1 ] || fail "SIGTERM: exited $st: $(cat "$tmp/term.err")"
findmnt -n "$mnt" > /dev/null && fail "SIGTERM: still mounted"
grep -q "unmounted from $mnt" "$tmp/term.err" ||
  fail "SIGTERM: $(cat "$tmp/term.err")"
