#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nbdkit nfsdirect keeps serving, and serving right, while fio does
# random misaligned I/O and a second client sends random bad requests.
#
# The export (64 MiB + 4097 bytes) starts as a known random pattern.
# fio's nbd engine, five jobs on five connections at iodepth 16:
#   crc0-2   random writes of 64 B - 64 KiB at any byte offset, each in
#            its own 6 MiB at 0, 8 and 16 MiB, verified (crc32c with
#            fio's header: offset, length, seed) in batches as they go
#            and at the end;
#   pattern  random writes of 1 B - 4 KiB at any byte offset in 24-30
#            MiB, verified against an offset-dependent pattern (the
#            crc32c header does not fit in blocks under 64 bytes);
#   reads    random reads of 1 B - 256 KiB anywhere.
# fio cannot be made to send an out-of-range request: it sizes the
# export from the handshake and trims every job to fit (a job past the
# end does nothing; file_append is refused for nbd).  So nbd-hostile.py,
# on its own connection while fio runs, sends reads, writes and zeroes
# that start past the end, straddle it, wrap past 2^64, exceed nbdkit's
# 64 MiB limit (up to 4 GiB - 1), have length zero, or use commands and
# flags the export does not offer; each must get its NBD error (EINVAL,
# ENOSPC, ENOMEM) and the connection must go on working: in between it
# reads, writes and zeroes (byte-granular, some FUA) its own region,
# 31 MiB to the end, against a model, reads the ranges nobody writes,
# and sends requests above the advertised 32 MiB maximum.
#
# Afterwards: fio saw no error and verified what it wrote; each refusal
# is one "invalid request" line in nbdkit's log and there is no other
# error, crash or valgrind report; a fresh connection (nbdinfo,
# nbdcopy) reads the whole export, which equals the server's file and
# the model: the pattern, the client's own writes, and fio's data
# exactly where fio's write log says it wrote (so a write that touched
# a neighbouring byte, or a refused write that wrote anything, fails).
#
# test-nbd-fio-hostile.sh runs the same against directio nbd, which
# takes and refuses requests as nbdkit does (32 MiB advertised, up to 64
# MiB served, ENOMEM beyond).
#
# The seeds are printed; HOSTILE_SEED=N (fio's offsets and sizes too)
# and PATTERN_SEED=N replay them.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e
set -x

requires_ganesha
requires_nbd_server
requires_fio_nbd
requires python3 -c 'import random; random.Random(0).randbytes(1)'
requires_all nbdinfo nbdcopy

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"

MiB=$((1024 * 1024))
size=$((64 * MiB + 4097))
own=$((31 * MiB))
# What nobody writes: the gaps after each fio writer's 6 MiB, and 30-31
# MiB (fio's reads job reads them).
untouched=
for r in 6:8 14:16 22:24 30:31; do
  untouched+=" --untouched $((${r%:*} * MiB)):$((${r#*:} * MiB))"
done
pattern_seed=${PATTERN_SEED:-$RANDOM}
hostile_seed=${HOSTILE_SEED:-$RANDOM$RANDOM}
echo "$0: pattern seed $pattern_seed, hostile seed $hostile_seed" \
  "(PATTERN_SEED=$pattern_seed HOSTILE_SEED=$hostile_seed replays them)"

# Under valgrind (DIO_UNDER_TOOL) nbdkit is many times slower: less work.
if [ -n "$DIO_UNDER_TOOL" ]; then
  crc_io=1m pattern_io=128k read_io=4m max=3000 min_during=20
else
  crc_io=12m pattern_io=2m read_io=48m max=20000 min_during=100
fi

hostile=$tests_srcdir/nbd-hostile.py
python3 "$hostile" pattern "$pattern_seed" $size "$DIO_TEST_DIR/hostile.img"

cat > "$tmp/hostile.fio" <<'FIO'
[global]
ioengine=nbd
uri=nbd+unix:///?socket=${unixsocket}
iodepth=16
bs_unaligned=1
blockalign=1
# blockalign turns fio's random map off, so writes may overlap: keep
# overlapping ones from being in flight together, or fio's verify
# would race with itself.
serialize_overlap=1
randseed=${hostile_seed}
rw=randwrite
bsrange=64-64k
size=6m
io_size=${crc_io}
verify=crc32c
verify_backlog=32
verify_fatal=1
do_verify=1

[crc0]
offset=0
write_iolog=${tmp}/crc0.iolog
[crc1]
offset=8m
write_iolog=${tmp}/crc1.iolog
[crc2]
offset=16m
write_iolog=${tmp}/crc2.iolog

[pattern]
offset=24m
bsrange=1-4k
io_size=${pattern_io}
verify=pattern
verify_pattern=0xc3%o"nfsdirect"
write_iolog=${tmp}/pattern.iolog

[reads]
rw=randread
offset=0
size=100%
bsrange=1-256k
io_size=${read_io}
verify=0
do_verify=0
FIO

export tmp hostile size own untouched pattern_seed hostile_seed crc_io \
  pattern_io read_io max min_during
nbd_serve "$(dio_url hostile.img)" --run '
  export unixsocket
  python3 "$hostile" run "$unixsocket" --seed "$hostile_seed" \
    --pattern-seed "$pattern_seed" --own "$own" $untouched \
    --max "$max" --min-during "$min_during" --model "$tmp/own.model" \
    -- fio --output-format=json --output="$tmp/fio.json" "$tmp/hostile.fio" \
    > "$tmp/hostile.out" 2> "$tmp/hostile.log" || exit 1
  nbdinfo --size "$uri" > "$tmp/size" || exit 2
  nbdcopy "$uri" "$tmp/readback.img" || exit 3
' 2> "$tmp/nbdkit.log" || {
  status=$?
  cat "$tmp/hostile.log"
  tail -30 "$tmp/nbdkit.log"
  fail "the --run commands failed ($status: 1 fio or the hostile client," \
    "2 nbdinfo, 3 nbdcopy)"
}
cat "$tmp/hostile.log"

# fio: no job failed, each writer wrote and then read back to verify.
python3 - "$tmp/fio.json" "$crc_io" "$pattern_io" "$read_io" <<'PY' ||
import json, sys
text = open(sys.argv[1]).read()
jobs = json.loads(text[text.index("{"):])["jobs"]  # after fio's notices
def size(s):
    return int(s[:-1]) * {"k": 1024, "m": 1024 * 1024}[s[-1]]
want = {"crc0": size(sys.argv[2]), "crc1": size(sys.argv[2]),
        "crc2": size(sys.argv[2]), "pattern": size(sys.argv[3])}
assert sorted(j["jobname"] for j in jobs) == sorted(list(want) + ["reads"])
for j in jobs:
    name, r, w = j["jobname"], j["read"]["io_bytes"], j["write"]["io_bytes"]
    print("fio %s: error %d, wrote %d, read %d" % (name, j["error"], w, r))
    assert j["error"] == 0, name
    if name == "reads":
        assert r >= size(sys.argv[4]) and w == 0, name
    else:                       # the reads are verify's
        assert w >= want[name] and r > 0, name
PY
  fail "fio failed or did not verify (see $tmp/fio.json)"

# nbdkit: one "invalid request" line per refusal, nothing else;
# directio nbd logs no refusals, and nothing else either.
errors=$(sed -n 's/^errors=\([0-9][0-9]*\)$/\1/p' "$tmp/hostile.out")
[ "${errors:-0}" -ge "$min_during" ] ||
  fail "only '$errors' requests were refused"
refused=$(grep -c 'error: invalid request: ' "$tmp/nbdkit.log" || true)
[ "$nbd_server" = directio ] || [ "$refused" = "$errors" ] ||
  fail "nbdkit logged $refused refusals, the client got $errors"
if grep -v 'error: invalid request: ' "$tmp/nbdkit.log" |
     grep -Ei 'error|assert|abort|signal|segmentation|core dumped|^==[0-9]+=='
then
  fail "nbdkit logged errors other than refusals, or crashed"
fi

# A fresh connection reads the whole export: it is the server's file,
# and the model.
[ "$(cat "$tmp/size")" = $size ] || fail "nbdinfo: size $(cat "$tmp/size")"
[ "$(stat -c %s "$DIO_TEST_DIR/hostile.img")" = $size ] ||
  fail "hostile.img changed size"
python3 "$hostile" check --pattern-seed "$pattern_seed" --own "$own" \
  --model "$tmp/own.model" "$tmp/readback.img" "$DIO_TEST_DIR/hostile.img" \
  "$tmp"/crc0.iolog "$tmp"/crc1.iolog "$tmp"/crc2.iolog \
  "$tmp"/pattern.iolog ||
  fail "the export does not match the model (seeds above)"
