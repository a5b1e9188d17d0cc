#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# demo.sh's work, inside with-ganesha.sh (DIO_TEST_* describe the server).
set -euo pipefail
directio=$DEMO_BUILD/tools/directio
url () { echo "nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT/$1?$DIO_TEST_QUERY"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== loopback NFS server: $(url '')"
echo "== making a ${DEMO_SIZE_MIB} MiB file of random data"
head -c "$((DEMO_SIZE_MIB << 20))" /dev/urandom > "$work/src"

echo "== directio cp --verify: local -> NFS (uncached, committed to stable storage)"
"$directio" cp --progress --verify "$work/src" "$(url demo.img)"
echo "== directio cp --verify: NFS -> local"
"$directio" cp --progress --verify "$(url demo.img)" "$work/back"
cmp "$work/src" "$work/back"
cmp "$work/src" "$DIO_TEST_DIR/demo.img"
echo "== identical: the local copy, the copy read back, and the server's file"

echo "== directio bench: sequential direct read and write, 1 MiB blocks"
"$directio" bench "$(url bench.img)" --rw write --bs 1M --size 256M --time 5
"$directio" bench "$(url bench.img)" --rw read --bs 1M --size 256M --time 5
echo "== directio bench: random 4 KiB reads, 4 jobs x iodepth 16"
"$directio" bench "$(url bench.img)" --rw randread --bs 4K --size 256M \
  --jobs 4 --iodepth 16 --time 5
echo "== done; the server stops now"
