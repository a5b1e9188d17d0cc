#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The fault matrix for the nbdkit plugin (issue 12; the C API's is
# check_faults_matrix.c): NBD read, write, write-zeroes and flush through
# nfsdirect and nfsproxy, against every fault of the procedure each one
# sends (READ, WRITE, WRITE, COMMIT), on a hard and a soft mount.  Each
# cell checks the NBD error the client gets (the engine's errno through
# the plugin's mapping: EACCES -> EPERM, ESTALE and ETIMEDOUT -> EIO,
# EDQUOT and EFBIG -> ENOSPC, EROFS -> EPERM), that the fault fired, that
# a soft request ends within timeo x retrans + 1 s, and then reads the
# range back (after a write answered with another verifier, the next
# flush must fail with EIO: writes=unstable keeps no copy to resend): the new bytes where the server ran the request, the old
# where it never saw it.  (Trim is not offered: NFSv3 cannot punch
# holes.)  docs/RELIABILITY.md has the table.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/nbdkit-functions.sh"
set -e

requires_ganesha
requires_nbd_server
requires python3 --version
tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
start_nfsproxy
export tmp NFSPROXY_CTL
proxy=$(cd "${builddir:-.}" && pwd)/nfsproxy
export proxy

# arm RULE: arm it, note its id and the time.
cat > "$tmp/arm" <<'SH'
#!/usr/bin/env bash
"$proxy" --control "$NFSPROXY_CTL" --arm "$1" > "$tmp/id" || exit 1
date +%s%N > "$tmp/t0"
SH
# fired BOUND_MS: the rule fired, within BOUND_MS (0: no bound); disarm.
cat > "$tmp/fired" <<'SH'
#!/usr/bin/env bash
t1=$(date +%s%N) t0=$(cat "$tmp/t0")
n=$("$proxy" --control "$NFSPROXY_CTL" --fired "$(cat "$tmp/id")")
"$proxy" --control "$NFSPROXY_CTL" --clear || exit 1
[ "$n" -ge 1 ] || { echo "the fault never fired" >&2; exit 1; }
took=$(( (t1 - t0) / 1000000 ))
[ "$1" = 0 ] || [ "$took" -le "$1" ] ||
  { echo "took $took ms, more than $1" >&2; exit 1; }
SH
# drive SOCKET: nbd-steps.py with the steps of $tmp/steps, one a line.
cat > "$tmp/drive" <<'SH'
#!/usr/bin/env bash
mapfile -t cells < "$tmp/steps"
exec python3 "$nbd_steps" "$1" "${cells[@]}"
SH
chmod +x "$tmp/arm" "$tmp/fired" "$tmp/drive"
export nbd_steps

# FAULT|NBD RESULT|RAN (yes: the server ran it; no; maybe)
faults=(
  "jukebox:times=2|ok|yes"
  "error=STALE:times=all|EIO|no"
  "error=IO:times=all|EIO|no"
  "error=ACCES:times=all|EPERM|no"
  "error=NOSPC:times=all|ENOSPC|no"
  "error=DQUOT:times=all|ENOSPC|no"
  "error=ROFS:times=all|EPERM|no"
  "short|ok|yes"
  "zero|EIO|maybe"
  "verf|ok|yes"
  "fin-before|ok|yes"
  "rst-before|ok|yes"
  "fin-after|ok|yes"
  "rst-after|ok|yes"
  "fin-mid|ok|yes"
  "delay=150|ok|yes"
  "dup|ok|yes"
  "drop|ok|yes"
)

# steps MODE: the NBD steps of every cell, on a 16 MiB image of 0x61.
steps ()
{
  local mode=$1 k=0 op f fault want ran off proc bound byte
  bound=0
  [ "$mode" = hard ] || bound=2500
  for op in read write zero flush; do
    case $op in
      read) proc=READ ;; write|zero) proc=WRITE ;; flush) proc=COMMIT ;;
    esac
    for f in "${faults[@]}"; do
      IFS='|' read -r fault want ran <<< "$f"
      case $op:$fault in
        read:verf*|flush:short|flush:zero) continue ;;
      esac
      # A new verifier at the COMMIT: the writes may be lost (EIO; the
      # plugin keeps no copy to send again, as the kernel would).
      [ "$op:$fault" != flush:verf ] || want=EIO
      off=$(( k * 65536 )) k=$(( k + 1 ))
      byte=0x62
      [ "$op" != zero ] || byte=0
      # A flush commits an UNSTABLE write first made without a fault.
      [ "$op" != flush ] || echo "a write $off 64K 0x62"
      echo "sh \"\$tmp/arm\" '$proc:$fault'"
      case $op in
        read) echo "a read $off 64K$([ "$want" != ok ] || echo ' 0x61') -> $want" ;;
        write) echo "a write $off 64K 0x62 -> $want" ;;
        zero) echo "a zero $off 64K -> $want" ;;
        flush) echo "a flush -> $want" ;;
      esac
      echo "sh \"\$tmp/fired\" $bound"
      # An UNSTABLE write answered with another verifier: the next flush
      # says the server may have lost it (the plugin keeps no copy).
      case $op:$fault in
        write:verf) echo "a flush -> EIO" ;;
      esac
      # The range afterwards, read without a fault.
      case $op:$ran in
        read:*) ;;
        flush:*) echo "a read $off 64K 0x62" ;;  # written before the fault
        *:yes) echo "a read $off 64K $byte" ;;
        *:no) echo "a read $off 64K 0x61" ;;
      esac
    done
  done
}

for mode in hard soft; do
  head -c 16M /dev/zero | tr '\0' '\141' > "$DIO_TEST_DIR/mx-$mode.img"
  opts=(timeo=5)       # a dropped reply is sent again after 0.5 s
  [ "$mode" = hard ] || opts=(soft=true timeo=5 retrans=2)
  steps "$mode" > "$tmp/steps"
  status=0
  nbd_serve "$(nfsproxy_url "mx-$mode.img")" writes=unstable \
    "${opts[@]}" --run '"$tmp/drive" "$unixsocket"' > "$tmp/log" 2>&1 ||
    status=$?
  grep -c 'nbd-steps: ok: sh "$tmp/fired"' "$tmp/log" |
    sed "s/^/matrix-nbdkit ($mode): cells passed: /"
  [ $status = 0 ] || { tail -n 30 "$tmp/log"; fail "plugin matrix ($mode)"; }
done
