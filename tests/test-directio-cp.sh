#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# directio cp: copies are byte-identical local -> NFS -> local and NFS ->
# NFS on the same server, through stdin/stdout and pipes, with every
# option; sparse files (5 GiB, data past 4 GiB) stay sparse; empty files
# empty their destination; a 1 GiB copy peaks under 64 MiB of RSS; every
# failure exits non-zero naming the side (and, mid-copy, the offset);
# --help/--version exit 0 and usage errors exit 2.

. "$(dirname "$0")/functions.sh"
set -e
set -x

requires_ganesha
requires_all cmp python3 truncate stat mkfifo dd
requires directio --version

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
dir=$DIO_TEST_DIR

# err_once WORD: the last stderr names WORD once (the tool names the side;
# the engine's reason after it does not name it again, nor its dio_ call).
err_once ()
{
  [ "$(grep -oF -- "$1" "$tmp/err" | wc -l)" = 1 ] ||
    fail "stderr names '$1' other than once: $(cat "$tmp/err")"
  ! grep -q 'dio_[a-z0-9]*: ' "$tmp/err" ||
    fail "stderr repeats the engine's call name: $(cat "$tmp/err")"
}

# size_of FILE
size_of () { stat -c %s "$1"; }

# cmp_sparse A B
# Compare two large sparse files quickly: the same size, and the same
# bytes over the union of their data extents (SEEK_DATA/SEEK_HOLE);
# elsewhere both are holes, so both are zeros.  (cmp would read every
# hole through the page cache: half a minute for 5 GiB here.)
cmp_sparse ()
{
  python3 - "$1" "$2" <<'EOF'
import errno, os, sys
a, b = (open(p, "rb") for p in sys.argv[1:3])
size = os.fstat(a.fileno()).st_size
if os.fstat(b.fileno()).st_size != size:
    sys.exit("cmp_sparse: sizes differ")
def extents(f):
    out, pos = [], 0
    while pos < size:
        try:
            start = os.lseek(f.fileno(), pos, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                break                   # no data after pos
            return [(0, size)]          # no SEEK_DATA here: all of it
        end = os.lseek(f.fileno(), start, os.SEEK_HOLE)
        out.append((start, end))
        pos = end
    return out
for start, end in sorted(extents(a) + extents(b)):
    pos = start
    while pos < end:
        n = min(1 << 20, end - pos)
        if os.pread(a.fileno(), n, pos) != os.pread(b.fileno(), n, pos):
            sys.exit("cmp_sparse: differ in [%d, %d)" % (pos, pos + n))
        pos += n
EOF
}

# make_data FILE BYTES: non-zero data, quickly.
make_data ()
{
  python3 -c '
import os, sys
block = os.urandom(1 << 20)
n = int(sys.argv[2])
with open(sys.argv[1], "wb") as f:
    while n > 0:
        f.write(block[:min(n, len(block))])
        n -= len(block)' "$1" "$2"
}

# --- The command line ------------------------------------------------------
expect_status 0 directio --help
grep -Eq '^  cp ' "$tmp/out" || fail "--help lists no cp"
grep -Eq '^  bench ' "$tmp/out" || fail "--help lists no bench"
[ ! -s "$tmp/err" ] || fail "--help wrote to stderr"
expect_status 0 directio --version
grep -Eq '^directio [0-9]' "$tmp/out" || fail "--version: $(cat "$tmp/out")"
expect_status 0 directio cp --help
grep -q 'Usage: directio cp' "$tmp/out" || fail "cp --help: no usage"
expect_status 2 directio
expect_status 2 directio --bogus
expect_status 2 directio nosuchcommand
err_has 'unknown subcommand'
expect_status 2 directio cp
expect_status 2 directio cp only-one
expect_status 2 directio cp a b c
expect_status 2 directio cp --bogus a b
expect_status 2 directio cp --bs 12x a b
expect_status 2 directio cp --bs 1K a b
expect_status 2 directio cp --jobs 0 a b
expect_status 2 directio cp --jobs 65 a b
expect_status 2 directio cp --verify - b
expect_status 2 directio cp --verify a -
[ ! -e a ] && [ ! -e b ] || fail "a usage error created a file"

# --- local -> NFS -> local, default options ---------------------------------
# 20 MiB and an odd tail: several requests, and a last one that O_DIRECT
# cannot take as it is.
head -c $(( 20 * 1024 * 1024 + 12345 )) /dev/urandom > "$tmp/src"
expect_status 0 directio cp "$tmp/src" "$(dio_url a.bin)"
[ ! -s "$tmp/err" ] || fail "a quiet copy wrote to stderr: $(cat "$tmp/err")"
cmp "$tmp/src" "$dir/a.bin"
expect_status 0 directio cp "$(dio_url a.bin)" "$tmp/back"
cmp "$tmp/src" "$tmp/back"

# NFS -> NFS on the same server (one mount, two files).
expect_status 0 directio cp "$(dio_url a.bin)" "$(dio_url b.bin)"
cmp "$tmp/src" "$dir/b.bin"

# Overwriting a longer destination leaves exactly the source.
head -c $(( 30 * 1024 * 1024 )) /dev/urandom > "$dir/long.bin"
expect_status 0 directio cp "$tmp/src" "$(dio_url long.bin)"
cmp "$tmp/src" "$dir/long.bin"

# A file onto itself is refused, and left intact.
expect_status 1 directio cp "$(dio_url a.bin)" "$(dio_url a.bin)"
err_has 'same file'
cmp "$tmp/src" "$dir/a.bin"

# --- Options, one at a time --------------------------------------------------
# --bs: small requests, not a multiple of the tail.
expect_status 0 directio cp --bs 64K "$tmp/src" "$(dio_url bs.bin)"
cmp "$tmp/src" "$dir/bs.bin"
expect_status 0 directio cp -b 3M "$(dio_url bs.bin)" "$tmp/bs.back"
cmp "$tmp/src" "$tmp/bs.back"

# --jobs: one request at a time, and more workers than blocks need.
expect_status 0 directio cp --jobs 1 --bs 1M "$tmp/src" "$(dio_url j1.bin)"
cmp "$tmp/src" "$dir/j1.bin"
expect_status 0 directio cp -j 7 --bs 1M "$(dio_url j1.bin)" "$tmp/j7.back"
cmp "$tmp/src" "$tmp/j7.back"

# --progress: a progress line ending at 100%; none without it (stderr is
# not a terminal here).
expect_status 0 directio cp --progress "$tmp/src" "$(dio_url p.bin)"
err_has '^.*copy \[=+\] .* 100% .*/s in [0-9]+:[0-9]{2}'
cmp "$tmp/src" "$dir/p.bin"

# --verify: the read-back pass runs (its progress line) and passes.
expect_status 0 directio cp --verify --progress "$tmp/src" "$(dio_url v.bin)"
err_has 'verify \[=+\] .* 100% '
cmp "$tmp/src" "$dir/v.bin"
expect_status 0 directio cp --verify "$(dio_url v.bin)" "$tmp/v.back"
cmp "$tmp/src" "$tmp/v.back"

# --- stdin, stdout, pipes, character devices ---------------------------------
expect_status 0 directio cp - "$(dio_url stdin.bin)" < "$tmp/src"
cmp "$tmp/src" "$dir/stdin.bin"
cat "$tmp/src" | directio cp --bs 1M - "$(dio_url pipe.bin)"
cmp "$tmp/src" "$dir/pipe.bin"
directio cp --bs 1M --jobs 3 "$(dio_url a.bin)" - | cmp - "$tmp/src"
directio cp "$(dio_url a.bin)" - > "$tmp/stdout.bin"
cmp "$tmp/src" "$tmp/stdout.bin"
expect_status 0 directio cp "$(dio_url a.bin)" /dev/null

# --- Zero-length files ----------------------------------------------------
: > "$tmp/empty"
head -c 5000 /dev/urandom > "$dir/empty.bin"      # must be emptied
expect_status 0 directio cp "$tmp/empty" "$(dio_url empty.bin)"
[ "$(size_of "$dir/empty.bin")" = 0 ] || fail "empty copy is not empty"
head -c 5000 /dev/urandom > "$tmp/empty.back"
expect_status 0 directio cp --verify "$(dio_url empty.bin)" "$tmp/empty.back"
[ "$(size_of "$tmp/empty.back")" = 0 ] || fail "empty copy back is not empty"
directio cp "$(dio_url empty.bin)" - < /dev/null | cmp - /dev/null
directio cp - "$(dio_url empty2.bin)" < /dev/null
[ "$(size_of "$dir/empty2.bin")" = 0 ] || fail "empty stdin copy is not empty"

# --- Sparse, over 4 GiB ---------------------------------------------------------
# 5 GiB with data at 0, just past 4 GiB, and in the last block.
G=$(( 1024 * 1024 * 1024 ))
truncate -s $(( 5 * G )) "$tmp/sparse"
head -c 1048576 /dev/urandom | dd of="$tmp/sparse" bs=1M conv=notrunc status=none
head -c 1048576 /dev/urandom |
  dd of="$tmp/sparse" bs=1M seek=$(( 4 * 1024 + 3 )) conv=notrunc status=none
head -c 1000 /dev/urandom |
  dd of="$tmp/sparse" bs=1 seek=$(( 5 * G - 1000 )) conv=notrunc status=none
[ "$(size_of "$tmp/sparse")" = $(( 5 * G )) ] || fail "sparse source size"
expect_status 0 directio cp "$tmp/sparse" "$(dio_url sparse.bin)"
[ "$(size_of "$dir/sparse.bin")" = $(( 5 * G )) ] || fail "sparse copy size"
cmp_sparse "$tmp/sparse" "$dir/sparse.bin"
# The export's filesystem keeps holes (checked on a probe file): the
# copy must not have written the zeros.
truncate -s 64M "$dir/hole-probe"
if [ "$(stat -c %b "$dir/hole-probe")" -lt 1024 ]; then
  used=$(( $(stat -c %b "$dir/sparse.bin") * 512 ))
  [ "$used" -lt $(( 64 * 1024 * 1024 )) ] ||
    fail "sparse copy uses $used bytes: zeros were written"
fi
expect_status 0 directio cp "$(dio_url sparse.bin)" "$tmp/sparse.back"
[ "$(size_of "$tmp/sparse.back")" = $(( 5 * G )) ] || fail "sparse back size"
cmp_sparse "$tmp/sparse" "$tmp/sparse.back"
if [ "$(stat -c %b "$tmp/sparse")" -lt $(( 64 * 2048 )) ]; then
  used=$(( $(stat -c %b "$tmp/sparse.back") * 512 ))
  [ "$used" -lt $(( 64 * 1024 * 1024 )) ] ||
    fail "sparse copy back uses $used bytes: zeros were written"
fi
rm -f "$tmp/sparse" "$tmp/sparse.back" "$dir/sparse.bin" "$dir/hole-probe"

# --- Peak memory of a 1 GiB copy ----------------------------------------------
# Data, not zeros (zero runs are never written); ru_maxrss of the child.
make_data "$tmp/1g" "$G"
peak_rss_kib ()
{
  python3 -c '
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
if os.waitstatus_to_exitcode(status) != 0:
    sys.exit("%s failed" % sys.argv[1:])
print(ru.ru_maxrss)' "$@"
}
# Under valgrind or the sanitizers (DIO_UNDER_TOOL) memory is the tool's.
check_rss ()
{
  [ -z "$DIO_UNDER_TOOL" ] || return 0
  [ "$2" -le $(( 64 * 1024 )) ] || fail "1 GiB copy $1 NFS peaked at $2 KiB"
}
rss=$(peak_rss_kib directio cp "$tmp/1g" "$(dio_url 1g.bin)")
check_rss into "$rss"
cmp "$tmp/1g" "$dir/1g.bin"
rm -f "$tmp/1g"
rss=$(peak_rss_kib directio cp "$(dio_url 1g.bin)" "$tmp/1g.back")
check_rss "out of" "$rss"
cmp "$dir/1g.bin" "$tmp/1g.back"
rm -f "$tmp/1g.back" "$dir/1g.bin"

# --- Errors before any data moves: the side is named --------------------------
expect_status 1 directio cp "$tmp/no-such-file" "$(dio_url x.bin)"
err_has "^directio cp: source $tmp/no-such-file: No such file or directory"
[ ! -e "$dir/x.bin" ] || fail "a failed copy created its destination"
expect_status 1 directio cp "$(dio_url no-such-file)" "$tmp/x"
err_has '^directio cp: source nfs://.*/no-such-file.*: No such file or directory'
err_once "$(dio_url no-such-file)"
expect_status 1 directio cp "$tmp/src" "$tmp/no-such-dir/x"
err_has "^directio cp: destination $tmp/no-such-dir/x: No such file or directory"
expect_status 1 directio cp "$tmp/src" "$tmp"
err_has "^directio cp: destination $tmp: "
# Bad URLs: an unknown option, no server.
expect_status 1 directio cp "$tmp/src" "$(dio_url x.bin)&bogus=1"
err_has '^directio cp: destination nfs://.*bogus=1.*: .*bogus'
err_once "$(dio_url x.bin)&bogus=1"
expect_status 1 directio cp "nfs:///export/x" "$tmp/x"
err_has '^directio cp: source nfs:///export/x: .*server'
err_once nfs:///export/x
# A server nothing answers for: a port nobody listens on.
dead="nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/x.bin?nfsport=1&mountport=1&retry=0"
expect_status 1 directio cp "$tmp/src" "$dead"
err_has '^directio cp: destination nfs://.*nfsport=1.*: '
expect_status 1 directio cp "$dead" "$tmp/x"
err_has '^directio cp: source nfs://.*nfsport=1.*: '

# --- Errors in the middle: the side and the offset are named -------------------
# Destination: a FIFO feeds 1 MiB, which lands on the server; then the
# server stops answering and the next 1 MiB cannot be written (soft mount).
# The data on the server is not yet the reply: the pause may catch the
# first block's reply still in flight, and then that write fails (at
# offset 0) and the copy exits before it reads the second block, which
# nothing then reads from the FIFO (hence no SIGPIPE for its writer).
mkfifo "$tmp/fifo"
soft='&soft&timeo=10&retrans=1'
directio cp --bs 1M --jobs 1 "$tmp/fifo" "$(dio_url stall.bin)$soft" \
  2> "$tmp/stall.err" &
pid=$!
exec 3> "$tmp/fifo"
head -c 1048576 /dev/urandom >&3
stall_size () { [ "$(size_of "$dir/stall.bin" 2>/dev/null || echo 0)" -ge 1048576 ]; }
retry_until 30 stall_size || fail "the first MiB never reached the server"
"$DIO_GANESHA" pause
cleanup_fn "$DIO_GANESHA" resume
(trap '' PIPE; head -c 1048576 /dev/urandom >&3) || true
exec 3>&-
st=0
wait "$pid" || st=$?
"$DIO_GANESHA" resume
[ "$st" = 1 ] || fail "a copy to a stopped server exited $st: $(cat "$tmp/stall.err")"
# The reason is the engine's, without its own "offset N: " (cp says it).
timed_out="the soft timeout \\(timeo=10, retrans=1: 1\\.0 s\\) ran out waiting for server $DIO_TEST_SERVER: Connection timed out$"
grep -Eq "^directio cp: destination nfs://.*stall.bin.*: write at offset (0|1048576): $timed_out" \
  "$tmp/stall.err" || fail "stall: $(cat "$tmp/stall.err")"

# Source: the destination (a FIFO) takes 1 MiB, the server stops, and a
# later block cannot be read (1 or 2 MiB in, as the worker may have read
# one block ahead before the pause).
head -c $(( 4 * 1024 * 1024 )) /dev/urandom > "$dir/out-stall.bin"
rm -f "$tmp/fifo"
mkfifo "$tmp/fifo"
directio cp --bs 1M --jobs 1 "$(dio_url out-stall.bin)$soft" "$tmp/fifo" \
  2> "$tmp/stall.err" &
pid=$!
exec 3< "$tmp/fifo"
dd bs=1M count=1 iflag=fullblock status=none <&3 > "$tmp/first-mib"
cmp "$tmp/first-mib" <(head -c 1048576 "$dir/out-stall.bin")
"$DIO_GANESHA" pause
cat <&3 > /dev/null
exec 3<&-
st=0
wait "$pid" || st=$?
"$DIO_GANESHA" resume
[ "$st" = 1 ] || fail "a copy from a stopped server exited $st: $(cat "$tmp/stall.err")"
grep -Eq "^directio cp: source nfs://.*out-stall.bin.*: read at offset (1048576|2097152): $timed_out" \
  "$tmp/stall.err" || fail "out-stall: $(cat "$tmp/stall.err")"

# --- A profile path, once dio_open knows profiles -------------------------------
# Until then dio_open refuses the path and it is tried as a local one.
cat > "$tmp/profiles.conf" <<EOF
[dio-test]
url = nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT
mountpoint = $tmp/mnt
options = port=${DIO_TEST_QUERY#nfsport=}
EOF
sed -i 's/&mountport=/,mountport=/' "$tmp/profiles.conf"
st=0
DIRECTIO_PROFILES=$tmp/profiles.conf \
  directio cp "$tmp/src" "$tmp/mnt/profile.bin" 2> "$tmp/err" || st=$?
if [ "$st" = 0 ]; then
  cmp "$tmp/src" "$dir/profile.bin"
  DIRECTIO_PROFILES=$tmp/profiles.conf \
    directio cp "$tmp/mnt/profile.bin" "$tmp/profile.back"
  cmp "$tmp/src" "$tmp/profile.back"
else
  err_has "^directio cp: destination $tmp/mnt/profile.bin: "
  echo "$0: note: profile paths not taken by dio_open yet"
fi
