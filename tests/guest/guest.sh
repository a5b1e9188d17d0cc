# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# libdirectio guest tests: the host's side.  Sourced by tests/test-guest-*.sh
# (after tests/functions.sh and tests/nbdkit-functions.sh), which run
# under with-ganesha.sh:
#
#   guest_setup              skip unless qemu runs here; find the guest
#                            cache (build-guest.sh) and the plugin
#   guest_start_nbdkit ARGS  serve disk.img in the export with nbdkit
#                            nfsdirect on 127.0.0.1:$guest_port
#   guest_boot SCENARIO [CONNS]
#                            boot the guest; its console goes to
#                            $guest_dir/console.log
#   guest_wait PATTERN [S]   wait until the console shows PATTERN (an ERE)
#   guest_send LINE          type LINE on the guest's console
#   guest_finish             wait for DIO-GUEST-OK and for qemu to exit
#   guest_stop_nbdkit        stop nbdkit (its RPC counters land in its log)
#   guest_check_image        e2fsck -fn and debugfs cat of every payload
#                            file, on the NFS server's copy of disk.img
#
# The guest (tests/guest/init, scenario.sh) prints DIO-GUEST-* markers on
# its serial console, and reads the host's answers from it: qemu's serial
# is its stdio, stdout a log file and stdin a FIFO that this shell holds
# open.  Every wait is for a marker, bounded, and fails early when the
# guest reports a failure or qemu exits.
#
# Environment: DIO_GUEST_CACHE (default $builddir/guest-cache),
# DIO_GUEST_QEMU (qemu-system-x86_64), DIO_GUEST_ACCEL (tcg,thread=single),
# DIO_GUEST_APPEND (more kernel command line words), DIO_GUEST_KEEP=1
# (keep the run's directory: console.log, nbdkit.log, initrd.gz).

guest_src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
guest_cache=${DIO_GUEST_CACHE:-${builddir:-$guest_src/..}/guest-cache}
guest_port=10809
guest_image=disk.img
guest_qemu=${DIO_GUEST_QEMU:-qemu-system-x86_64}
# TCG, single-threaded: on this 2-core class of machine, shared with
# other tests, a thread per vCPU made a 4-vCPU guest's mkfs+write+sync
# take 65 s instead of about 1 s.  DIO_GUEST_ACCEL=kvm where /dev/kvm
# works.
guest_accel=${DIO_GUEST_ACCEL:-tcg,thread=single}
guest_dir=
guest_qemu_pid=
guest_nbdkit_pid=
guest_plugin=
# nbdkit options a test adds (e.g. a filter), before the plugin.
guest_nbdkit_opts=()
guest_t0=$SECONDS

guest_log () { echo "guest: [$(( SECONDS - guest_t0 )) s] $*" >&2; }

# Skip only when qemu cannot run here; anything else missing is a failure.
guest_setup ()
{
  local out
  requires_ganesha
  command -v "$guest_qemu" >/dev/null 2>&1 ||
    skip "$guest_qemu not found (Debian: qemu-system-x86)"
  # Start a machine of the kind we boot (firmware included) and quit.
  if ! out=$(printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"quit"}' |
             timeout 60 "$guest_qemu" -M pc -accel "${guest_accel%%,*}" \
               -display none -nodefaults -S -qmp stdio 2>&1); then
    skip "$guest_qemu cannot run here: $(echo "$out" | tail -n 3)"
  fi
  requires_nfsdirect
  # shellcheck disable=SC2154 # set by nbdkit-functions.sh
  guest_plugin=$nfsdirect
  for cmd in e2fsck debugfs mkfifo cmp timeout gzip; do
    command -v "$cmd" >/dev/null 2>&1 || fail "$cmd not found (scripts/deps.sh)"
  done

  # tests/Makefile.am builds the guest before the tests, outside this
  # network namespace; here it can only be rebuilt from kept packages.
  if ! "$guest_src/build-guest.sh" "$guest_cache"; then
    fail "no guest in $guest_cache, and it cannot be built here (downloading needs the network): run 'make -C tests check' or '$guest_src/build-guest.sh $guest_cache' outside with-ganesha.sh"
  fi

  guest_dir=$(mktemp -d "${TMPDIR:-/tmp}/dio-guest.XXXXXX")
  cleanup_fn guest_cleanup
}

guest_cleanup ()
{
  [ -z "$guest_qemu_pid" ] || kill -KILL "$guest_qemu_pid" 2>/dev/null
  [ -z "$guest_nbdkit_pid" ] || kill -TERM "$guest_nbdkit_pid" 2>/dev/null
  if [ -n "$DIO_GUEST_KEEP" ]; then
    echo "guest: kept $guest_dir (DIO_GUEST_KEEP)" >&2
  elif [ -n "$guest_dir" ]; then
    rm -rf "$guest_dir"
  fi
}

# In a sanitizer build, nbdkit-functions.sh preloads ASan's runtime into
# every program of the test.  Here only nbdkit loads our code: qemu,
# e2fsck, debugfs and the rest run without it (qemu's coroutines upset
# ASan), and nbdkit gets it from guest_nbdkit_env.
if [ -n "${DIO_ASAN_PRELOAD:-}" ] && [ -n "${LD_PRELOAD:-}" ]; then
  LD_PRELOAD=${LD_PRELOAD#"$DIO_ASAN_PRELOAD"}
  LD_PRELOAD=${LD_PRELOAD#:}
  [ -n "$LD_PRELOAD" ] || unset LD_PRELOAD
fi

# The environment nbdkit needs for a plugin built with sanitizers
# (nbdkit itself is not: ASan's runtime must come first), or nothing.
guest_nbdkit_env ()
{
  local asan=${DIO_ASAN_PRELOAD:-}
  [ -n "$asan" ] ||
    asan=$(ldd "$guest_plugin" 2>/dev/null |
           awk '$1 ~ /^libasan/ && $2 == "=>" { print $3 }')
  [ -z "$asan" ] || echo "LD_PRELOAD=$asan ASAN_OPTIONS=detect_leaks=0"
}

# guest_start_nbdkit [PARAM...]: serve $guest_image (created, 64 MiB) in
# the export; verbose, with the plugin's per-request log, to
# $guest_dir/nbdkit.log.
guest_start_nbdkit ()
{
  local url
  url=$(dio_url "$guest_image")
  guest_log "nbdkit nfsdirect $url $*"
  # shellcheck disable=SC2046
  env $(guest_nbdkit_env) nbdkit -f -v -D nfsdirect.rpc=1 -i 127.0.0.1 \
    -p "$guest_port" -P "$guest_dir/nbdkit.pid" "${guest_nbdkit_opts[@]}" \
    "$guest_plugin" "$url" create=true size=64M "$@" \
    > "$guest_dir/nbdkit.log" 2>&1 &
  guest_nbdkit_pid=$!
  retry_until 30 guest_nbdkit_listening ||
    { guest_show nbdkit.log; fail "nbdkit did not start listening within 30 s"; }
}

guest_nbdkit_listening ()
{
  kill -0 "$guest_nbdkit_pid" 2>/dev/null ||
    { guest_show nbdkit.log; fail "nbdkit exited"; }
  [ -s "$guest_dir/nbdkit.pid" ]
}

# Stop nbdkit and wait for it: it commits (writes=unstable) and logs its
# RPC counters as it exits.
guest_stop_nbdkit ()
{
  local status=0
  kill -TERM "$guest_nbdkit_pid" 2>/dev/null || true
  if ! retry_until 30 guest_nbdkit_ended ||
     ! retry_until 5 guest_gone "$guest_nbdkit_pid"; then
    guest_show nbdkit.log
    guest_asan_exit_hang ||
      fail "nbdkit did not exit within 30 s of SIGTERM"
  fi
  wait "$guest_nbdkit_pid" || status=$?
  [ $status -eq 0 ] || [ -n "$guest_asan_hang" ] ||
    fail "nbdkit exited with status $status"
  guest_nbdkit_pid=
  grep -E 'READ [0-9]+ WRITE' "$guest_dir/nbdkit.log" | sed 's/^/nbdkit: /' >&2 || true
}

# With a sanitizer build of the plugin, libasan is preloaded into a
# non-ASan nbdkit; after the NFS server restarts, glibc's
# __libc_setlocale_lock is seen with one reader too few (an unlock
# without a lock) and nbdkit hangs in its exit handlers (libp11-kit's
# destructor, freelocale), after the plugin is unloaded.  Without ASan it
# exits.  Tolerated (loudly) only there, and only when the plugin had
# finished: its cleanup ran (final COMMIT, counters) and it was unloaded.
guest_asan_hang=
guest_asan_exit_hang ()
{
  [ -n "$(guest_nbdkit_env)" ] && guest_plugin_unloaded || return 1
  echo "guest: WARNING: nbdkit (libasan preloaded) hung in exit handlers after unloading the plugin; killed" >&2
  guest_asan_hang=1
  kill -KILL "$guest_nbdkit_pid" 2>/dev/null || true
}

guest_gone () { ! kill -0 "$1" 2>/dev/null; }

guest_plugin_unloaded ()
{
  grep -q 'debug: nfsdirect: unload plugin' "$guest_dir/nbdkit.log"
}

# nbdkit is gone, or (sanitizer build) has unloaded the plugin: see
# guest_asan_exit_hang.
guest_nbdkit_ended ()
{
  guest_gone "$guest_nbdkit_pid" ||
    { [ -n "$(guest_nbdkit_env)" ] && guest_plugin_unloaded; }
}

# The per-run part of the initramfs: /init and the scenario, appended to
# the cached base as a second gzip'd cpio (the kernel unpacks both).
guest_initrd ()
{
  local o=$guest_dir/overlay bb=$guest_cache/busybox
  mkdir -p "$o"
  install -m 0755 "$guest_src/init" "$o/init"
  install -m 0644 "$guest_src/scenario.sh" "$guest_src/payload.sh" "$o/"
  (cd "$o" && find . | sort | "$bb" cpio -o -H newc -R 0:0 2>/dev/null) |
    gzip -1 > "$guest_dir/overlay.gz"
  cat "$guest_cache/initrd.base.gz" "$guest_dir/overlay.gz" > "$guest_dir/initrd.gz"
}

# guest_boot SCENARIO [CONNS]
guest_boot ()
{
  local scenario=$1 conns=${2:-1} cpus=2
  # blk-mq gives each NBD connection a queue, used only by the CPUs
  # mapped to it: as many CPUs as connections, so that all carry I/O.
  [ "$conns" -le "$cpus" ] || cpus=$conns
  guest_initrd
  mkfifo "$guest_dir/console.in"
  # Read-write, so that opening it does not block and qemu never sees EOF.
  exec {guest_in}<>"$guest_dir/console.in"
  : > "$guest_dir/console.log"
  guest_log "booting: scenario $scenario, $conns connection(s), accel $guest_accel"
  "$guest_qemu" -accel "$guest_accel" -cpu max -smp "$cpus" -m 512 \
    -nodefaults -no-user-config -display none -no-reboot \
    -serial stdio -kernel "$guest_cache/vmlinuz" -initrd "$guest_dir/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet dio.scenario=$scenario dio.port=$guest_port dio.conns=$conns $DIO_GUEST_APPEND" \
    -nic user,model=virtio-net-pci \
    < "$guest_dir/console.in" > "$guest_dir/console.log" 2>&1 &
  guest_qemu_pid=$!
}

# guest_show FILE: print one of the run's logs (the tail of a long one).
guest_show ()
{
  [ -f "$guest_dir/$1" ] || return 0
  echo "----- $1 (last 80 lines) -----" >&2
  tail -n 80 "$guest_dir/$1" | tr -d '\r' >&2
  echo "----- end of $1 -----" >&2
}

# Has the console shown ERE $1?  Fails the test when the guest reported
# a failure or qemu is gone without showing it.
guest_seen ()
{
  grep -Eq -- "$1" "$guest_dir/console.log" && return 0
  if grep -q 'DIO-GUEST-FAIL' "$guest_dir/console.log"; then
    guest_show console.log
    fail "the guest failed before showing '$1'"
  fi
  if ! kill -0 "$guest_qemu_pid" 2>/dev/null; then
    grep -Eq -- "$1" "$guest_dir/console.log" && return 0
    guest_show console.log
    fail "qemu exited before the guest showed '$1'"
  fi
  return 1
}

# guest_wait ERE [SECONDS]
guest_wait ()
{
  retry_until "${2:-120}" guest_seen "$1" || {
    guest_show console.log
    guest_show nbdkit.log
    fail "the guest did not show '$1' within ${2:-120} s"
  }
  guest_log "console: $(grep -E -m1 -- "$1" "$guest_dir/console.log" | tr -d '\r')"
}

guest_send ()
{
  printf '%s\n' "$1" >&"$guest_in"
}

# Wait for the verdict and for qemu to power off; print the console.
guest_finish ()
{
  local status=0
  guest_wait 'DIO-GUEST-OK' 240
  retry_until 30 guest_gone "$guest_qemu_pid" ||
    fail "qemu did not exit within 30 s of the guest's power-off"
  wait "$guest_qemu_pid" || status=$?
  guest_qemu_pid=
  echo "----- guest console -----" >&2
  grep -a 'DIO-GUEST\|nbd\|EXT4\|I/O error' "$guest_dir/console.log" | tr -d '\r' >&2 || true
  echo "-------------------------" >&2
  [ $status -eq 0 ] || fail "qemu exited with status $status"
  guest_log "guest done"
}

# guest_payload NAME SIZE: the payload file, as the guest makes it.
guest_payload ()
{
  BUSYBOX=$guest_cache/busybox sh "$guest_src/payload.sh" make "$1" "$2"
}

# The image on the NFS server: a clean ext4, and every payload file
# byte for byte.
guest_check_image ()
{
  local img=$DIO_TEST_DIR/$guest_image name size n=0 summary status=0
  [ -f "$img" ] || fail "$img: not on the NFS server"
  summary=$(e2fsck -fn "$img" 2>&1) || status=$?
  if [ $status -ne 0 ]; then
    echo "$summary" >&2
    fail "e2fsck -fn $img: status $status"
  fi
  echo "host e2fsck: $(echo "$summary" | tail -n 1)" >&2
  while read -r name size; do
    debugfs -R "cat /$name" "$img" 2>/dev/null > "$guest_dir/host.out" ||
      fail "debugfs cat /$name failed"
    guest_payload "$name" "$size" > "$guest_dir/want.out"
    cmp "$guest_dir/want.out" "$guest_dir/host.out" ||
      fail "/$name on the server differs from the payload"
    n=$((n + 1))
  done < <(BUSYBOX=$guest_cache/busybox sh "$guest_src/payload.sh" list)
  [ $n -ge 5 ] || fail "only $n payload files listed"
  echo "host debugfs: $n payload files identical on the NFS server" >&2
}
