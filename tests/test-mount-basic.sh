#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# directio mount: a forcedirectio FUSE mount of the test export works for
# plain programs: files written through it are the server's bytes and the
# other way round; mkdir, rename (RENAME_NOREPLACE too), symlink, hard
# link, mknod, O_EXCL creates, chmod, truncate, utimens, readdir, access,
# fsync and statfs reach the server; the daemon goes at
# umount.  Under noac a change by another client shows at once, and
# directio(DIRECTIO_ON) turns a file O_DIRECT; ro refuses writes.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/mount-functions.sh"
set -e
set -x

mount_setup
requires_all cmp dd stat truncate touch
mount_start -o forcedirectio

# Written through the mount: on the server.
dd if=/dev/urandom of="$tmp/data" bs=1M count=5 status=none
dd if=/dev/urandom of="$tmp/data" bs=777 count=3 oflag=append conv=notrunc \
   status=none
cp "$tmp/data" "$mnt/data"
same_as_server data
cmp "$tmp/data" "$mnt/data"
# Written on the server: read through the mount.
head -c 3000001 /dev/urandom > "$DIO_TEST_DIR/srv"
same_as_server srv

# The namespace.
mkdir "$mnt/dir"
[ -d "$DIO_TEST_DIR/dir" ] || fail "mkdir did not reach the server"
mv "$mnt/data" "$mnt/dir/moved"
[ -f "$DIO_TEST_DIR/dir/moved" ] && [ ! -e "$DIO_TEST_DIR/data" ] ||
  fail "rename did not reach the server"
ln -s moved "$mnt/dir/sym"
[ "$(readlink "$mnt/dir/sym")" = moved ] || fail "readlink"
[ "$(readlink "$DIO_TEST_DIR/dir/sym")" = moved ] || fail "symlink on server"
cmp "$tmp/data" "$mnt/dir/sym"
ln "$mnt/dir/moved" "$mnt/hard"
[ "$(stat -c %h "$DIO_TEST_DIR/hard")" = 2 ] || fail "link count"
[ "$(stat -c %i "$mnt/hard")" = "$(stat -c %i "$mnt/dir/moved")" ] ||
  fail "two names, two inode numbers"
chmod 640 "$mnt/hard"
[ "$(stat -c %a "$DIO_TEST_DIR/dir/moved")" = 640 ] || fail "chmod"
truncate -s 1234 "$mnt/hard"
[ "$(stat -c %s "$DIO_TEST_DIR/dir/moved")" = 1234 ] || fail "truncate"
touch -d '2001-02-03 04:05:06' "$mnt/hard"
[ "$(stat -c %Y "$DIO_TEST_DIR/hard")" = \
  "$(date -d '2001-02-03 04:05:06' +%s)" ] || fail "utimens"
names=$(cd "$mnt" && echo *)
[ "$names" = "dir hard srv" ] || fail "readdir: $names"
[ "$(ls -a "$mnt/dir" | tr '\n' ' ')" = ". .. moved sym " ] ||
  fail "readdir of dir: $(ls -a "$mnt/dir")"
# mknod (a FIFO), renameat2(RENAME_NOREPLACE), access, fsync and
# fdatasync, O_EXCL creates, statvfs.
python3 - "$mnt" <<'PY'
import ctypes, errno, os, sys
m = sys.argv[1]
os.mkfifo(m + "/fifo", 0o600)
assert os.stat(m + "/fifo").st_mode & 0o170000 == 0o010000, "not a FIFO"
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_NOREPLACE = -100, 1
r = libc.renameat2(AT_FDCWD, (m + "/fifo").encode(), AT_FDCWD,
                   (m + "/srv").encode(), RENAME_NOREPLACE)
assert r == -1 and ctypes.get_errno() == errno.EEXIST, "NOREPLACE replaced"
r = libc.renameat2(AT_FDCWD, (m + "/fifo").encode(), AT_FDCWD,
                   (m + "/fifo2").encode(), RENAME_NOREPLACE)
assert r == 0, os.strerror(ctypes.get_errno())
os.unlink(m + "/fifo2")
fd = os.open(m + "/excl", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640)
assert os.stat(m + "/excl").st_mode & 0o777 == 0o640, "O_EXCL create mode"
os.write(fd, b"x" * 10000)
os.fsync(fd)
os.fdatasync(fd)
os.close(fd)
try:
    os.open(m + "/excl", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640)
    raise SystemExit("O_EXCL opened an existing file")
except FileExistsError:
    pass
assert os.access(m + "/excl", os.R_OK | os.W_OK), "access R_OK|W_OK"
assert not os.access(m + "/excl", os.X_OK), "access X_OK of mode 640"
os.chmod(m + "/excl", 0o750)
assert os.access(m + "/excl", os.X_OK), "access X_OK of mode 750"
os.unlink(m + "/excl")
sv = os.statvfs(m)
assert sv.f_blocks > 0 and sv.f_namemax == 255, sv
PY
[ ! -e "$DIO_TEST_DIR/excl" ] || fail "unlink did not reach the server"

rm "$mnt/hard" "$mnt/dir/sym" "$mnt/dir/moved"
rmdir "$mnt/dir"
[ ! -e "$DIO_TEST_DIR/dir" ] || fail "rmdir did not reach the server"
df -P "$mnt" | tail -n 1 | grep -q directio || true
[ "$(stat -f -c %b "$mnt")" -gt 0 ] || fail "statfs: no blocks"

# Gone at umount.
mount_stop
! findmnt -n "$mnt" >/dev/null || fail "still mounted"

# noac: a change by another NFS client (directio cp: ganesha would not
# see one made behind its back) shows at once.
mount_start -o noac
echo one > "$tmp/one"
echo two-two > "$tmp/two"
directio cp "$tmp/one" "$(dio_url ac)"
[ "$(stat -c %s "$mnt/ac")" = 4 ] || fail "noac: size"
directio cp "$tmp/two" "$(dio_url ac)"
[ "$(stat -c %s "$mnt/ac")" = 8 ] || fail "noac: a stale size"
[ "$(cat "$mnt/ac")" = two-two ] || fail "noac: stale data"
# directio(fd, DIRECTIO_ON) from a program on this (cached) mount: the
# file turns O_DIRECT, written back first, as on Solaris.
lib=$top_builddir/libdirectio/.libs/libdirectio.so
if [ -f "$lib" ] && ! ldd "$lib" | grep -q 'libasan\|libtsan'; then
  python3 - "$lib" "$mnt/ac" <<'PY'
import ctypes, fcntl, os, sys
dio = ctypes.CDLL(sys.argv[1], use_errno=True)
fd = os.open(sys.argv[2], os.O_RDWR)
os.pwrite(fd, b"TWO", 0)                    # cached, until the switch
assert dio.directio(fd, 1) == 0, os.strerror(ctypes.get_errno())
assert fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT, "not O_DIRECT"
assert os.pread(fd, 8, 0) == b"TWO-two\n", os.pread(fd, 8, 0)
os.close(fd)
PY
  [ "$(cat "$DIO_TEST_DIR/ac")" = TWO-two ] || fail "directio(): not written"
fi
mount_stop

# ro: the kernel refuses writes.
mount_start -o ro
st=0
touch "$mnt/ro-file" 2> "$tmp/err" || st=$?
[ "$st" != 0 ] && grep -q 'Read-only file system' "$tmp/err" ||
  fail "ro: $(cat "$tmp/err")"
cmp "$mnt/ac" "$DIO_TEST_DIR/ac" || fail "ro: cannot read"
mount_stop
