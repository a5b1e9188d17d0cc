# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh disable=SC3043,SC3045
# (busybox ash, which has local and read -t)
# libdirectio guest tests: what the guest does, run by /init (busybox sh)
# with the kernel command line's dio.* words in the environment:
#
#   SCENARIO  basic     attach, mkfs.ext4, mount, write the payload, sync,
#                       umount, e2fsck, remount, verify, detach
#             restart   the same, but the payload is rewritten (each file
#                       fsync'd) over and over from DIO-GUEST-WRITING until
#                       the host answers HOST-RESTARTED: the host restarts
#                       the NFS server meanwhile
#             unstable  for nbdkit writes=unstable: basic on a 48 MiB
#                       filesystem, then two raw O_DIRECT writes past it,
#                       each followed by an fsync of /dev/nbd0 (an NBD
#                       flush) once the host answers: HOST-PAUSED (the
#                       server is paused: the flush must wait for it) and
#                       HOST-RESTARTED (the server lost its unstable
#                       writes: the flush must fail with EIO)
#   PORT      nbdkit's port on the host (10.0.2.2)
#   CONNS     connections (nbd-client -C), default 1
#
# Progress and checkpoints are printed as DIO-GUEST-* lines on the
# console, which tests/guest/guest.sh watches; the host's answers arrive
# as lines on the console.  A failure prints DIO-GUEST-STEP-FAILED and
# returns non-zero (init then prints DIO-GUEST-FAIL).

export BUSYBOX=/bin/busybox
dev=/dev/nbd0
mnt=/mnt
payload=/tmp/payload
list=/tmp/payload.list

step () { echo "DIO-GUEST-STEP: [$(cut -d" " -f1 /proc/uptime) s] $*"; }
die () { echo "DIO-GUEST-STEP-FAILED: $*"; exit 1; }

# Wait for the host to send line $1 on the console (it answers within
# seconds, or kills the guest).
wait_host ()
{
  local line n=0
  while [ $n -lt 10 ]; do
    read -r -t 300 line </dev/console || die "no answer $1 from the host"
    [ "$line" = "$1" ] && return 0
    n=$((n + 1))
  done
  die "the host did not send $1"
}

# Generate the payload into /tmp once; every write and check copies it.
# (The loops read files, not pipes, so that die ends the script.)
make_payload ()
{
  local name size
  sh /payload.sh list > "$list" || die "cannot list the payload"
  while read -r name size; do
    mkdir -p "$payload/$(dirname "$name")"
    sh /payload.sh make "$name" "$size" > "$payload/$name" ||
      die "cannot generate $name"
  done < "$list"
  step "payload generated: $(wc -l < "$list") files"
}

# How many of the kernel's NBD receive works are running: each blocks
# reading its connection's socket, in a worker of workqueue nbd0-recv.
# (One grep over /proc: a shell loop over it is slow in an emulated guest.)
recv_workers ()
{
  local f n=0
  for f in $(grep -l 'nbd0-recv$' /proc/[0-9]*/comm 2>/dev/null); do
    case $(cat "${f%/comm}/wchan" 2>/dev/null) in
      wait_woken|sk_wait_data) n=$((n + 1)) ;;
    esac
  done
  echo $n
}

uptime_s () { cut -d. -f1 /proc/uptime; }

# Wait up to 10 s for one running receive work per connection.
recv_workers_ready ()
{
  local deadline=$(( $(uptime_s) + 10 ))
  until [ "$(recv_workers)" -ge "${CONNS:-1}" ]; do
    [ "$(uptime_s)" -lt $deadline ] || return 1
    sleep 0.2
  done
}

# nbd-client, then wait for the device's size and its receive works.
# With several connections, this kernel (6.1) queues one receive work per
# connection on a WQ_MEM_RECLAIM workqueue; when creating a worker is
# slow (an emulated guest on a loaded host), the workqueue's rescuer takes
# all of them, runs the first (which never returns) and strands the
# others: requests on those connections are answered by nbdkit, the reply
# waits in the socket, and after 30 s the kernel gives the connection up.
# So check that every receive work runs and, if not, detach and attach
# again (the pool has grown its workers by then).
attach ()
{
  local n try=1 opts="-b 4096"
  [ "${CONNS:-1}" -gt 1 ] && opts="$opts -C $CONNS"
  while :; do
    step "nbd-client 10.0.2.2 $PORT $dev $opts"
    # shellcheck disable=SC2086
    nbd-client 10.0.2.2 "$PORT" "$dev" $opts || die "nbd-client failed"
    n=0
    until [ "$(cat /sys/block/nbd0/size)" -gt 0 ]; do
      n=$((n + 1))
      [ $n -lt 100 ] || die "$dev has no size 10 s after nbd-client"
      sleep 0.1
    done
    recv_workers_ready && break
    [ $try -lt 3 ] ||
      die "$try attaches, each with only $(recv_workers) of ${CONNS:-1} NBD receive works running"
    step "only $(recv_workers) of ${CONNS:-1} NBD receive works running (workqueue rescuer stall): attaching again"
    detach
    try=$((try + 1))
  done
  step "attached: $(($(cat /sys/block/nbd0/size) / 2048)) MiB, $(recv_workers) receive works"
}

detach ()
{
  local n=0
  nbd-client -d "$dev" || die "nbd-client -d failed"
  until [ "$(cat /sys/block/nbd0/size)" -eq 0 ] && [ "$(recv_workers)" -eq 0 ]; do
    n=$((n + 1))
    [ $n -lt 100 ] || die "$dev still attached 10 s after nbd-client -d"
    sleep 0.1
  done
  step "detached"
}

# mkfs.ext4 on the first $1 MiB of the device (all of it if empty).
make_fs ()
{
  step "mkfs.ext4 $dev ${1:+${1}M}"
  mkfs.ext4 -q -F "$dev" ${1:+"${1}M"} || die "mkfs.ext4 failed"
  mount -t ext4 "$dev" "$mnt" || die "mount failed"
  step "mounted"
}

# Copy the payload in.  fsync: each file is fsync'd.  spread: also, file
# i is written from CPU i mod CONNS; the kernel sends a CPU's requests on
# its own NBD connection (one blk-mq queue each), so every connection
# carries writes and flushes.
write_payload ()
{
  local name size conv=notrunc cpu=0 pin=
  [ "$1" = fsync ] || [ "$1" = spread ] && conv=fsync
  while read -r name size; do
    [ "$1" = spread ] && pin="taskset -c $cpu"
    mkdir -p "$mnt/$(dirname "$name")"
    $pin dd if="$payload/$name" of="$mnt/$name" bs=64k conv=$conv 2>/dev/null ||
      die "writing $name failed"
    cpu=$(( (cpu + 1) % ${CONNS:-1} ))
  done < "$list"
  [ "$1" = fsync ] || step "payload written${1:+ ($1)}"
}

verify_payload ()
{
  local name size
  while read -r name size; do
    cmp "$payload/$name" "$mnt/$name" || die "$name differs after remount"
  done < "$list"
}

# sync, umount, e2fsck, mount again, verify, umount.
finish_fs ()
{
  sync || die "sync failed"
  step "synced"
  umount "$mnt" || die "umount failed"
  e2fsck -fn "$dev" || die "e2fsck found errors in the guest"
  # Read back from the server, not from this kernel's caches.
  echo 3 > /proc/sys/vm/drop_caches
  mount -t ext4 "$dev" "$mnt" || die "remount failed"
  verify_payload
  umount "$mnt" || die "second umount failed"
  step "payload verified after remount"
}

scenario_basic ()
{
  make_payload
  attach
  make_fs
  if [ "${CONNS:-1}" -gt 1 ]; then
    write_payload spread
  else
    write_payload
  fi
  finish_fs
  detach
}

# The host restarts the server once it sees DIO-GUEST-WRITING, and then
# sends HOST-RESTARTED; until then the payload is rewritten, so writes
# are in flight while the server goes away and comes back.
scenario_restart ()
{
  local round=0
  make_payload
  attach
  make_fs
  rm -f /tmp/restarted
  (read -r -t 300 line </dev/console && [ "$line" = HOST-RESTARTED ] &&
     touch /tmp/restarted) &
  echo "DIO-GUEST-WRITING"
  while :; do
    round=$((round + 1))
    write_payload fsync
    [ -e /tmp/restarted ] && break
    [ $round -lt 1000 ] || die "no HOST-RESTARTED after $round rounds"
  done
  step "wrote the payload $round times across the restart"
  finish_fs
  detach
}

# fsync the device (an NBD flush); print its status and error message.
flush_dev ()
{
  local err rc=0
  err=$(sync "$dev" 2>&1) || rc=$?
  echo "DIO-GUEST-FLUSH-$1 rc=$rc ${err:-ok}"
  return $rc
}

# Write raw pattern $1 at MiB offset $2, O_DIRECT: the writes reach nbdkit
# (unstable there) with no flush after them.
raw_write ()
{
  sh /payload.sh make "$1" 1048576 > "/tmp/$1"
  dd if="/tmp/$1" of="$dev" bs=64k seek=$(($2 * 16)) oflag=direct conv=notrunc \
    2>/dev/null || die "raw write $1 failed"
}

scenario_unstable ()
{
  make_payload
  attach
  make_fs 48
  write_payload
  finish_fs

  raw_write raw-b 48
  echo "DIO-GUEST-RAW-WRITTEN-B"
  wait_host HOST-PAUSED
  flush_dev B || die "flush after unstable writes failed"

  raw_write raw-c 52
  echo "DIO-GUEST-RAW-WRITTEN-C"
  wait_host HOST-RESTARTED
  if flush_dev C; then
    die "flush succeeded although the server restarted before the COMMIT"
  fi
  dmesg | grep -i 'nbd0' | tail -n 5
  detach
}

case $SCENARIO in
  basic|restart|unstable) "scenario_$SCENARIO" ;;
  *) die "unknown scenario '$SCENARIO'" ;;
esac
