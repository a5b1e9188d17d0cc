#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fio's nbd engine against an nfsdirect export: four jobs, each on its own
# NBD connection and its own quarter of a 256 MiB export, write random
# blocks of 4 KiB to 1 MiB at iodepth 32 and read them back verifying
# crc32c.  Every byte must verify, with no I/O errors.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_ganesha
requires_nfsdirect
requires_fio_nbd

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"

cat > "$tmp/verify.fio" <<'FIO'
[global]
ioengine=nbd
uri=nbd+unix:///?socket=${unixsocket}
rw=randwrite
bsrange=4k-1m
iodepth=32
verify=crc32c
verify_fatal=1
do_verify=1
numjobs=4
size=64m
offset_increment=64m
group_reporting=1

[randwrite-verify]
FIO

export tmp
$nbdkit -v -U - "$nfsdirect" "$(dio_url fio.img)" create=true size=256M \
  --run 'export unixsocket; fio --output="$tmp/fio.out" "$tmp/verify.fio"' \
  2> "$tmp/nbdkit.log" ||
  { tail -50 "$tmp/nbdkit.log"; cat "$tmp/fio.out"; fail "fio failed"; }
cat "$tmp/fio.out"

grep -q 'err= 0' "$tmp/fio.out" || fail "fio reported errors"
# Everything written was read back and verified: 256 MiB each way.
grep -Eq 'WRITE: .* io=256MiB' "$tmp/fio.out" || fail "fio did not write 256 MiB"
grep -Eq 'READ: .* io=256MiB' "$tmp/fio.out" || fail "fio did not verify 256 MiB"
# Four jobs, each with its own NBD connection (fio also makes one per job
# to ask the size first).
conns=$(grep -c 'nfsdirect: open readonly=0' "$tmp/nbdkit.log")
[ "$conns" -ge 4 ] || fail "expected 4 NBD connections or more, nbdkit saw $conns"
! grep -q 'error:' "$tmp/nbdkit.log" || fail "nbdkit logged errors"
