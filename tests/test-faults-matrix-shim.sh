#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The fault matrix for the shim's path calls (issue 12; the C API's is
# check_faults_matrix.c): stat, rm (unlink), rename, mkdir and rmdir
# under `directio run` (rename by python's os.rename), through nfsproxy, against every fault of the
# procedure each one sends (LOOKUP, REMOVE, RENAME, MKDIR, RMDIR), on a
# hard and a soft mount.  Each cell checks the exit status and the
# message (the errno a Linux NFSv3 mount gives), what the server's
# directory holds afterwards, that the fault fired, and that a soft call
# ends within timeo x retrans + 1 s.  docs/RELIABILITY.md has the table.
#
# Cells another branch fixes (pending below: none now) are run and
# printed but not asserted until then; DIO_MATRIX_STRICT=1 asserts them.

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/preload-functions.sh"
set -e

preload_setup
requires_all stat rm mkdir rmdir timeout python3
start_nfsproxy
strict=${DIO_MATRIX_STRICT:-}

# FAULT|ERRNO-TEXT ("" = succeeds)|RAN (the server ran the call: yes, no)
faults=(
  "jukebox:times=2||yes"
  "error=STALE:times=all|Stale file handle|no"
  "error=IO:times=all|Input/output error|no"
  "error=ACCES:times=all|Permission denied|no"
  "error=ROFS:times=all|Read-only file system|no"
  "error=DQUOT:times=all|Disk quota exceeded|no"
  "fin-before||yes"
  "rst-before||yes"
  "fin-after||yes"
  "rst-after||yes"
  "fin-mid||yes"
  "delay=150||yes"
  "dup||yes"
  "drop||yes"
)
# CALL|PROC
calls=("stat|LOOKUP" "unlink|REMOVE" "rename|RENAME" "mkdir|MKDIR"
       "rmdir|RMDIR")

now_ms () { local t; t=$(date +%s%N); echo $(( t / 1000000 )); }

# The cell's objects on the server, made behind ganesha's back (it finds
# new names; it must never see one vanish that way).
prepare ()
{
  case $1 in
    stat|unlink|rename) echo data > "$DIO_TEST_DIR/$2" ;;
    rmdir) mkdir "$DIO_TEST_DIR/$2" ;;
  esac
}

act ()
{
  case $1 in
    stat) dio_run stat -c %s "$mnt/$2" ;;
    unlink) dio_run rm "$mnt/$2" ;;
    # (python: mv copies and removes when rename fails, hiding the errno)
    rename) dio_run python3 -c 'import os, sys; os.rename (sys.argv[1], sys.argv[2])' "$mnt/$2" "$mnt/$2.new" ;;
    mkdir) dio_run mkdir "$mnt/$2" ;;
    rmdir) dio_run rmdir "$mnt/$2" ;;
  esac
}

# act, bounded: a hung call fails the cell rather than the suite.
run_act ()
{
  timeout 60 bash -c "$(declare -f act dio_run); profiles=$profiles \
    stats=$tmp/stats mnt=$mnt act $1 $2"
}

# Did the call take effect on the server?
took_effect ()
{
  case $1 in
    stat) true ;;
    unlink|rmdir) [ ! -e "$DIO_TEST_DIR/$2" ] ;;
    rename) [ ! -e "$DIO_TEST_DIR/$2" ] && [ -e "$DIO_TEST_DIR/$2.new" ] ;;
    mkdir) [ -d "$DIO_TEST_DIR/$2" ] ;;
  esac
}

# Cells another branch fixes: none now (branch replay fixed items 3, 4
# and 9: a FIN under libnfs's high-level calls, non-idempotent replays,
# the errno table).
pending ()
{
  :
}

failures=0 cells=0 pend=0 n=0
for mode in hard soft; do
  opts="&timeo=5"      # a dropped reply is sent again after 0.5 s
  [ $mode = hard ] || opts="&soft&timeo=5&retrans=2"
  cat > "$profiles" <<CONF
[test]
url        = nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT?$NFSPROXY_QUERY$opts
mountpoint = $mnt
CONF
  for c in "${calls[@]}"; do
    call=${c%%|*} proc=${c#*|}
    # The time the command takes without a fault: a soft cell may take
    # timeo x retrans + 1 s more.
    n=$(( n + 1 ))
    prepare "$call" "mx-$mode-$n"
    t0=$(now_ms)
    run_act "$call" "mx-$mode-$n" >/dev/null 2>&1 ||
      fail "$call without a fault failed"
    base=$(( $(now_ms) - t0 ))
    for f in "${faults[@]}"; do
      IFS='|' read -r fault errtext ran <<< "$f"
      n=$(( n + 1 ))
      name=mx-$mode-$n
      prepare "$call" "$name"
      id=$(nfsproxy_arm "$proc:$fault")
      t0=$(now_ms)
      status=0
      out=$(run_act "$call" "$name" 2>&1) || status=$?
      out=$(tail -n 1 <<< "$out")
      took=$(( $(now_ms) - t0 ))
      fired=$(nfsproxy_fired "$id")
      nfsproxy_clear
      why=
      if [ "$fired" -lt 1 ]; then
        why="the fault never fired"
      elif [ -z "$errtext" ] && [ $status != 0 ]; then
        why="failed: $out"
      elif [ -n "$errtext" ] && [ $status = 0 ]; then
        why="succeeded"
      elif [ -n "$errtext" ] && ! grep -q "$errtext" <<< "$out"; then
        why="wrong error: $out"
      elif [ $mode = soft ] && [ "$took" -gt $(( base + 2000 )) ]; then
        why="soft call took $took ms ($base ms without a fault)"
      elif [ "$ran" = yes ] && ! took_effect "$call" "$name"; then
        why="the server does not show the call's effect"
      elif [ "$ran" = no ] && [ "$call" != stat ] && took_effect "$call" "$name"; then
        why="the call took effect although it failed"
      fi
      cells=$(( cells + 1 ))
      p=$(pending "$call" "$fault")
      if [ -n "$p" ] && [ -z "$strict" ]; then
        pend=$(( pend + 1 ))
        echo "matrix-shim: $call x $proc:$fault ($mode): ${why:-passes} (pending $p)"
      elif [ -n "$why" ]; then
        failures=$(( failures + 1 ))
        echo "matrix-shim: FAIL: $call x $proc:$fault ($mode): $why" >&2
      fi
    done
  done
done
echo "matrix-shim: $cells cells, $failures failed, $pend pending"
[ $failures = 0 ] || fail "$failures cells failed"
