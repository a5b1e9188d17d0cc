# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# libdirectio guest tests: the deterministic payload that the guest writes
# and the host checks, byte for byte.  Both sides run this same file with
# the same busybox (the guest's /bin/busybox, and on the host the copy in
# the guest cache), so the bytes cannot differ between awk implementations.
#
#   BUSYBOX=PATH sh payload.sh list          NAME SIZE lines
#   BUSYBOX=PATH sh payload.sh make NAME SIZE   the content, on stdout
#
# Each 4 KiB block starts with a 64-byte line naming the file and the
# block's offset, followed by 63 lines of pseudo-random hex digits
# (Park-Miller, exact in awk's doubles, seeded from the file's name) that
# repeat every 64 blocks.  So a block written at the wrong place, a stale
# block or a torn write shows up as a difference, and generating it is
# cheap even in an emulated guest (a printf or two per block).

bb=${BUSYBOX:-busybox}

# Sizes straddle block and page boundaries: 1 byte, one short of 4 KiB,
# exactly 4 KiB, larger files with odd tails, and a file in a directory.
payload_list ()
{
  cat <<'LIST'
a.bin 1
b.bin 4095
c.bin 4096
d.bin 65537
dir/e.bin 1048576
dir/sub/f.bin 3145745
LIST
}

payload_make ()
{
  "$bb" awk -v name="$1" -v size="$2" 'BEGIN {
    x = 1
    for (i = 1; i <= length (name); i++)
      x = (x * 31 + index ("abcdefghijklmnopqrstuvwxyz./-_0123456789",
                           substr (name, i, 1))) % 2147483647
    if (x == 0) x = 1
    for (i = 0; i < 128; i++) {
      line = ""
      while (length (line) < 63) {
        x = (x * 16807) % 2147483647
        line = line sprintf ("%08x", x)
      }
      pool[i] = substr (line, 1, 63) "\n"
    }
    for (c = 0; c < 64; c++) {
      body[c] = ""
      for (i = 0; i < 63; i++)
        body[c] = body[c] pool[(c * 37 + i) % 128]
    }
    for (off = 0; off < size; off += 4096)
      printf "%-63s\n%s", sprintf ("%s@%010d", name, off), body[(off / 4096) % 64]
  }' | "$bb" head -c "$2"
}

case $1 in
  list) payload_list ;;
  make) payload_make "$2" "$3" ;;
  *) echo "usage: payload.sh list | make NAME SIZE" >&2; exit 2 ;;
esac
