#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# An unmodified python3 under `directio run` reads and writes files under
# the profile mountpoint (open/read/write/lseek/fstat through the shim),
# lists, stats, renames and removes them, and gets ENODEV from mmap.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/preload-functions.sh"
set -e
set -x

preload_setup
requires python3 --version

head -c 2000000 /dev/urandom > "$tmp/src"

dio_run python3 - "$mnt" "$tmp/src" <<'PY'
import errno, mmap, os, sys
mnt, src = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()

# Write in pieces, read back whole and from the middle.
with open(mnt + "/p", "wb") as f:
    for i in range(0, len(data), 300007):
        f.write(data[i:i + 300007])
with open(mnt + "/p", "rb") as f:
    assert f.read() == data, "read back differs"
    f.seek(123457)
    assert f.read(1000) == data[123457:124457], "seek + read differs"
    assert os.fstat(f.fileno()).st_size == len(data), "fstat size"
    try:
        mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        sys.exit("mmap of an engine file succeeded")
    except OSError as e:
        assert e.errno == errno.ENODEV, "mmap: %s" % e

# Read-write with os-level calls.
fd = os.open(mnt + "/q", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
assert os.write(fd, b"hello world") == 11
assert os.pread(fd, 5, 6) == b"world"
os.ftruncate(fd, 5)
os.lseek(fd, 0, os.SEEK_SET)
assert os.read(fd, 100) == b"hello"
os.close(fd)

assert sorted(os.listdir(mnt)) == ["p", "q"], os.listdir(mnt)
assert os.stat(mnt + "/p").st_size == len(data)
assert os.path.isdir(mnt) and os.path.isfile(mnt + "/q")
os.rename(mnt + "/q", mnt + "/r")
assert not os.path.exists(mnt + "/q") and os.path.exists(mnt + "/r")
os.remove(mnt + "/r")
try:
    os.stat(mnt + "/r")
    sys.exit("stat of a removed file succeeded")
except FileNotFoundError:
    pass
os.mkdir(mnt + "/dir")
os.rmdir(mnt + "/dir")
print("python OK")
PY

same_on_server p "$tmp/src"
[ ! -e "$DIO_TEST_DIR/r" ] || fail "r was removed but is on the server"
[ "$(ls "$DIO_TEST_DIR")" = p ] || fail "server has: $(ls "$DIO_TEST_DIR")"
