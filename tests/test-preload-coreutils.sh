#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Unmodified coreutils under `directio run` see the profile mountpoint as
# files: cp, cat, cmp, sha256sum (stdio), dd (direct both ways, and the
# mount's counters say so), ls -l, stat, mkdir, mv, rm, rmdir, cp -r,
# rm -r and truncate, each checked against the server's copy.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/preload-functions.sh"
set -e
set -x

preload_setup
requires_all cp cat cmp sha256sum dd ls stat mkdir mv rm rmdir truncate diff

size=$(( 3 * 1024 * 1024 + 4567 ))
head -c $size /dev/urandom > "$tmp/src"

# Without the shim the mountpoint does not exist.
if ls "$mnt" 2>/dev/null; then fail "$mnt exists without the shim"; fi

# cp in, and cat, cmp, sha256sum out.
dio_run cp "$tmp/src" "$mnt/a"
same_on_server a "$tmp/src"
dio_run cat "$mnt/a" | cmp - "$tmp/src"
dio_run cmp "$mnt/a" "$tmp/src"
want=$(sha256sum < "$tmp/src" | cut -d' ' -f1)
got=$(dio_run sha256sum "$mnt/a")
[ "$got" = "$want  $mnt/a" ] || fail "sha256sum: '$got', want '$want  $mnt/a'"

# dd oflag=direct writes direct: every byte through direct writes, none
# through the cache.  (Whole blocks only: dd clears O_DIRECT for a short
# last block, as the kernel would refuse it, and that block is buffered.)
dsize=$(( 3 * 1024 * 1024 ))
head -c $dsize "$tmp/src" > "$tmp/dsrc"
rm -f "$stats"
dio_run dd if="$tmp/dsrc" of="$mnt/d" bs=1M oflag=direct status=none
same_on_server d "$tmp/dsrc"
[ "$(stat_of direct_write_bytes)" -eq $dsize ] ||
  fail "dd oflag=direct: direct_write_bytes $(stat_of direct_write_bytes), want $dsize"
[ "$(stat_of cache_write_bytes)" -eq 0 ] ||
  fail "dd oflag=direct: cache_write_bytes $(stat_of cache_write_bytes), want 0"

# dd iflag=direct reads direct.
rm -f "$stats"
dio_run dd if="$mnt/d" of="$tmp/back" bs=1M iflag=direct status=none
cmp "$tmp/back" "$tmp/dsrc"
[ "$(stat_of direct_read_bytes)" -eq $dsize ] ||
  fail "dd iflag=direct: direct_read_bytes $(stat_of direct_read_bytes), want $dsize"
[ "$(stat_of cache_read_bytes)" -eq 0 ] ||
  fail "dd iflag=direct: cache_read_bytes $(stat_of cache_read_bytes), want 0"

# Plain dd goes through the cache (buffered mode) instead.
rm -f "$stats"
dio_run dd if="$mnt/d" of="$tmp/back2" bs=1M status=none
cmp "$tmp/back2" "$tmp/dsrc"
[ "$(stat_of direct_read_bytes)" -eq 0 ] ||
  fail "plain dd: direct_read_bytes $(stat_of direct_read_bytes), want 0"
[ "$(stat_of cache_read_bytes)" -eq $dsize ] ||
  fail "plain dd: cache_read_bytes $(stat_of cache_read_bytes), want $dsize"

# A short last block: dd turns O_DIRECT off for it (F_SETFL), and the
# engine follows: the whole blocks direct, the tail buffered.
rm -f "$stats"
dio_run dd if="$tmp/src" of="$mnt/t" bs=1M oflag=direct status=none
same_on_server t "$tmp/src"
[ "$(stat_of direct_write_bytes)" -eq $dsize ] ||
  fail "dd tail: direct_write_bytes $(stat_of direct_write_bytes), want $dsize"
[ "$(stat_of cache_write_bytes)" -eq $(( size - dsize )) ] ||
  fail "dd tail: cache_write_bytes $(stat_of cache_write_bytes), want $(( size - dsize ))"

# ls -l and stat see the file's size and type.
dio_run ls -l "$mnt" > "$tmp/ls"
grep -E "^-rw.* $size .* a$" "$tmp/ls" || fail "ls -l: no line for a"
grep -E "^-rw.* $dsize .* d$" "$tmp/ls" || fail "ls -l: no line for d"
[ "$(dio_run stat -c '%s %F' "$mnt/a")" = "$size regular file" ] ||
  fail "stat: $(dio_run stat -c '%s %F' "$mnt/a")"
[ "$(dio_run stat -c '%F' "$mnt")" = "directory" ] || fail "stat of $mnt"

# mkdir, mv, rm, rmdir.
dio_run mkdir "$mnt/sub"
[ -d "$DIO_TEST_DIR/sub" ] || fail "mkdir: no sub on the server"
dio_run mv "$mnt/d" "$mnt/sub/d2"
[ ! -e "$DIO_TEST_DIR/d" ] || fail "mv: d is still there"
same_on_server sub/d2 "$tmp/dsrc"
dio_run rm "$mnt/sub/d2"
[ ! -e "$DIO_TEST_DIR/sub/d2" ] || fail "rm: sub/d2 is still there"
dio_run rmdir "$mnt/sub"
[ ! -e "$DIO_TEST_DIR/sub" ] || fail "rmdir: sub is still there"

# cp -r and rm -r (fts: openat on directory fds, fdopendir, unlinkat).
mkdir -p "$tmp/tree/x/y"
cp "$tmp/src" "$tmp/tree/x/y/f"
echo small > "$tmp/tree/top"
dio_run cp -r "$tmp/tree" "$mnt/tree"
diff -r "$tmp/tree" "$DIO_TEST_DIR/tree"
dio_run cp -r "$mnt/tree" "$tmp/tree-back"
diff -r "$tmp/tree" "$tmp/tree-back"
dio_run rm -r "$mnt/tree"
[ ! -e "$DIO_TEST_DIR/tree" ] || fail "rm -r: tree is still there"

# truncate.
dio_run truncate -s 1000 "$mnt/a"
[ "$(stat -c %s "$DIO_TEST_DIR/a")" -eq 1000 ] || fail "truncate: size"
head -c 1000 "$tmp/src" | cmp - "$DIO_TEST_DIR/a"
