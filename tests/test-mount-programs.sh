#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Programs the LD_PRELOAD shim cannot reach, on a forcedirectio
# directio mount: a static binary (busybox-static: cp, sha256sum,
# truncate), python (os.copy_file_range, which the kernel serves by its
# own fallback, and a MAP_PRIVATE mmap), cp --reflink=never, tar and rsync
# into and out of the mount, and nbdkit's file plugin serving a disk
# image that lives on the mount, copied with nbdcopy.  Every file is
# compared byte for byte with the server's copy.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/mount-functions.sh"
set -e
set -x

mount_setup
requires_all cmp python3 tar sha256sum
mount_start -o forcedirectio

mkdir -p "$tmp/src/sub"
head -c 2097153 /dev/urandom > "$tmp/src/a"
head -c 4096 /dev/urandom > "$tmp/src/sub/b"
: > "$tmp/src/empty"
ln -s a "$tmp/src/link"

# A static binary.
busybox=$(command -v busybox || true)
if [ -n "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1; then
  "$busybox" cp "$tmp/src/a" "$mnt/bb"
  same_as_server bb
  [ "$("$busybox" sha256sum "$mnt/bb" | cut -d' ' -f1)" = \
    "$(sha256sum "$tmp/src/a" | cut -d' ' -f1)" ] || fail "busybox sha256sum"
  "$busybox" truncate -s 1000 "$mnt/bb"
  [ "$(stat -c %s "$DIO_TEST_DIR/bb")" = 1000 ] || fail "busybox truncate"
  cmp -n 1000 "$tmp/src/a" "$DIO_TEST_DIR/bb"
else
  echo "no static busybox: that part skipped" >&2
fi

# cp, tar and rsync, in and out.
cp --reflink=never "$tmp/src/a" "$mnt/cp"
same_as_server cp
cp --reflink=never "$mnt/cp" "$tmp/cp.out"
cmp "$tmp/src/a" "$tmp/cp.out"
# python: copy_file_range from one file of the mount to another (the
# kernel's own fallback: the daemon has no copy_file_range) and mmap.
python3 - "$mnt/cp" "$mnt/py" <<'PY'
import errno, mmap, os, sys
src, dst = sys.argv[1], sys.argv[2]
fi = os.open(src, os.O_RDONLY)
fo = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
left = os.fstat(fi).st_size
while left:
    n = os.copy_file_range(fi, fo, left)
    assert n > 0, "copy_file_range returned 0 early"
    left -= n
os.close(fo)
with open(dst, "rb") as f, open(src, "rb") as g:
    m = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ)
    assert m[:] == g.read(), "mmap of the copy differs"
    # Under forcedirectio nothing is cached, so nothing can be shared
    # (directio(1) says so).
    try:
        mmap.mmap(f.fileno(), 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
        raise SystemExit("a MAP_SHARED mmap worked under forcedirectio")
    except OSError as e:
        assert e.errno == errno.ENODEV, e
PY
cmp "$tmp/src/a" "$DIO_TEST_DIR/py"

tar -C "$tmp/src" -cf - . | tar -C "$mnt" -xf - --one-top-level=tarred
diff -r --no-dereference "$tmp/src" "$DIO_TEST_DIR/tarred"
tar -C "$mnt/tarred" -cf - . | tar -C "$tmp" -xf - --one-top-level=untarred
diff -r --no-dereference "$tmp/src" "$tmp/untarred"
if command -v rsync >/dev/null; then
  rsync -a "$tmp/src/" "$mnt/rsynced/"
  diff -r --no-dereference "$tmp/src" "$DIO_TEST_DIR/rsynced"
  rsync -a "$mnt/rsynced/" "$tmp/rsynced.out/"
  diff -r --no-dereference "$tmp/src" "$tmp/rsynced.out"
fi

# nbdkit file serving a disk on the mount (the kernel's route), copied
# out and back in with nbdcopy.
if command -v nbdkit >/dev/null && command -v nbdcopy >/dev/null; then
  head -c 8388608 /dev/urandom > "$tmp/disk"
  cp "$tmp/disk" "$mnt/disk.img"
  nbdkit -U - file "$mnt/disk.img" --run 'nbdcopy "$uri" "'"$tmp"'/disk.out"'
  cmp "$tmp/disk" "$tmp/disk.out"
  head -c 8388608 /dev/urandom > "$tmp/disk2"
  nbdkit -U - file "$mnt/disk.img" --run 'nbdcopy "'"$tmp"'/disk2" "$uri"'
  cmp "$tmp/disk2" "$DIO_TEST_DIR/disk.img"
fi

mount_stop
