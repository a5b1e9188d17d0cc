#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fio, unmodified, under `directio run`: four threads doing direct random
# writes to their own files on the profile mountpoint, then a buffered
# pvsync2 (preadv2/pwritev2) job in a forked process, then sequential
# direct writes with fsync; every block is verified by reading it back.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/preload-functions.sh"
set -e
set -x

preload_setup
requires fio --version

# fio leaves verify state files in the working directory.
cd "$tmp"
common=(--size=16M --fallocate=none --group_reporting --output="$tmp/fio.out"
        --verify_state_save=0)
fio_ok ()
{
  local status=0
  dio_run fio "$@" "${common[@]}" || status=$?
  cat "$tmp/fio.out"
  [ $status -eq 0 ] || fail "fio $1: exit $status"
  grep -q 'err= 0' "$tmp/fio.out" || fail "fio $1: an error"
  ! grep -q 'verify: bad' "$tmp/fio.out" || fail "fio $1: bad data"
}

fio_ok --name=threads --directory="$mnt" --filename_format='$jobname.$jobnum' \
  --thread --numjobs=4 --bs=64k --rw=randwrite --direct=1 --ioengine=psync \
  --verify=crc32c
for i in 0 1 2 3; do
  [ "$(stat -c %s "$DIO_TEST_DIR/threads.$i")" -eq $(( 16 * 1024 * 1024 )) ] ||
    fail "threads.$i: wrong size on the server"
done

fio_ok --name=buffered --filename="$mnt/buffered" --bs=4k --rw=randwrite \
  --ioengine=pvsync2 --verify=md5
fio_ok --name=sequential --filename="$mnt/seq" --bs=1M --rw=write \
  --ioengine=sync --direct=1 --end_fsync=1 --verify=sha256
