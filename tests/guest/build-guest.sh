#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# libdirectio guest tests: build the tiny Linux guest that attaches an
# nbdkit nfsdirect export with the kernel's own NBD client.
#
#   build-guest.sh CACHEDIR
#
# The host has no nbd module, but Debian's cloud kernel has one; so this
# downloads (apt-get download, never installs) the kernel the
# linux-image-cloud-amd64 metapackage names, busybox-static, nbd-client,
# e2fsprogs and the libraries they need, unpacks them (dpkg-deb -x) and
# assembles, in CACHEDIR:
#
#   vmlinuz          the kernel
#   initrd.base.gz   gzip'd cpio: busybox, nbd-client, mke2fs, e2fsck, their
#                    libraries and loader (found by ldd), the modules for
#                    NBD and virtio-net (ordered by their depends=), no
#                    scripts: each test run appends its own /init and
#                    scenario (tests/guest/guest.sh)
#   busybox          the same static busybox, for the host's side of the
#                    tests (payload generation, cpio)
#   ready            written last; holds the recipe's checksum
#
# Nothing is rebuilt while `ready` matches this script, so runs reuse the
# cache; the downloaded .debs are kept too, so a changed recipe rebuilds
# without the network.  Runs of this script on the same CACHEDIR wait for
# each other (flock).  Needs the network the first time (not inside
# with-ganesha.sh's namespace: tests/Makefile.am runs this before the
# tests), and runs `apt-get update` first when the package lists are
# missing and it is root.
#
# Exit status: 0 ready, 1 failure (the reason on stderr).

set -e
set -o pipefail

prog=${0##*/}
die () { echo "$prog: ERROR: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: $prog CACHEDIR" >&2; exit 2; }
mkdir -p "$1" || die "cannot create $1"
cache=$(cd "$1" && pwd)

# Tools used directly and not part of the guest.
for cmd in apt-get apt-cache dpkg-deb ldd flock sha256sum gzip; do
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd not found"
done

# The packages whose programs go into the guest; their library
# dependencies are added by lib_closure.
kernel_meta=linux-image-cloud-amd64
programs_pkgs=(busybox-static nbd-client e2fsprogs)
# The guest's programs, as paths in the unpacked packages.
guest_programs=(sbin/nbd-client sbin/mke2fs sbin/e2fsck)
# The modules the guest loads, with their dependencies added.
guest_modules=(virtio_pci virtio_net nbd)

recipe=$(sha256sum < "$0" | cut -d' ' -f1)

# --- Downloading. -------------------------------------------------------

# Print the real package names of the Depends and Pre-Depends of the
# given packages.
direct_deps ()
{
  apt-cache depends --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "$@" |
    sed -n 's/^ *\(Pre\)\{0,1\}Depends: \([^<][^ ]*\)$/\2/p' | sort -u
}

# Print the packages given plus every lib* package they need, directly
# or not.  Only libraries: the guest runs binaries, no maintainer
# scripts, so debconf, dpkg and the like are not wanted.  Bounded: the
# set only grows and Debian has finitely many libraries.
lib_closure ()
{
  local set new pass
  set=$(printf '%s\n' "$@" | sort -u)
  for (( pass = 0; pass < 50; pass++ )); do
    # shellcheck disable=SC2086
    new=$( { echo "$set"; direct_deps $set | grep '^lib'; } | sort -u)
    if [ "$new" = "$set" ]; then
      echo "$set"
      return 0
    fi
    set=$new
  done
  die "library dependencies of $* did not converge"
}

# Make sure apt knows the packages; update the lists when it does not.
apt_ready ()
{
  apt-cache show "$kernel_meta" >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] ||
    die "apt does not know $kernel_meta and this is not root to run apt-get update"
  echo "$prog: apt-get update (package lists missing)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 ||
    die "apt-get update failed"
  apt-cache show "$kernel_meta" >/dev/null 2>&1 ||
    die "no package $kernel_meta in the configured archives"
}

# Print the packages to download, one a line: the kernel, the programs'
# packages and their libraries.  From apt's local lists only.
wanted_packages ()
{
  local kernel
  kernel=$(direct_deps "$kernel_meta" | grep '^linux-image-' | head -n1)
  [ -n "$kernel" ] || die "$kernel_meta names no linux-image package"
  echo "$kernel"
  lib_closure "${programs_pkgs[@]}"
}

# Download the wanted packages unless the .debs there are of exactly
# those (then a changed recipe rebuilds without the network).
download ()
{
  local list pkgs
  apt_ready
  list=$(wanted_packages) || exit 1
  if [ -f "$cache/debs/packages" ] && [ "$(cat "$cache/debs/packages")" = "$list" ]; then
    return 0
  fi
  # shellcheck disable=SC2206
  pkgs=($list)
  echo "$prog: downloading ${pkgs[*]}" >&2
  rm -rf "$cache/debs.new"
  mkdir -p "$cache/debs.new"
  # apt-get download writes to the current directory (as ourselves, not
  # as apt's sandbox user, who may not write there).  Stale package lists name
  # versions the archive no longer has: then update them and try again.
  if ! (cd "$cache/debs.new" && apt-get download -q -o APT::Sandbox::User=root "${pkgs[@]}") >&2; then
    [ "$(id -u)" = 0 ] ||
      die "apt-get download failed (is the network reachable? are the package lists stale?)"
    echo "$prog: apt-get download failed: apt-get update, then again" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 ||
      die "apt-get update failed (is the network reachable?)"
    list=$(wanted_packages) || exit 1
    # shellcheck disable=SC2206
    pkgs=($list)
    (cd "$cache/debs.new" && apt-get download -q -o APT::Sandbox::User=root "${pkgs[@]}") >&2 ||
      die "apt-get download failed (is the network reachable?)"
  fi
  echo "$list" > "$cache/debs.new/packages"
  rm -rf "$cache/debs"
  mv "$cache/debs.new" "$cache/debs"
}

# --- Assembling the initramfs. ------------------------------------------

unpack ()
{
  local deb
  rm -rf "$cache/root"
  mkdir -p "$cache/root"
  for deb in "$cache"/debs/*.deb; do
    dpkg-deb -x "$deb" "$cache/root" || die "dpkg-deb -x $deb failed"
  done
}

# Copy ROOT-relative path $1 (following links) to the same place in the
# initramfs tree.
copy_in ()
{
  mkdir -p "$tree/$(dirname "$1")"
  cp -L "$root/$1" "$tree/$1" || die "cannot copy $1"
}

# The shared libraries and the loader of each program, resolved in the
# unpacked packages (LD_LIBRARY_PATH) by ldd.  A library resolved
# anywhere else means the package set is incomplete: fail rather than
# mix in the host's.
copy_libraries ()
{
  local prog lib libpath="$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu"
  for prog in "$@"; do
    LD_LIBRARY_PATH=$libpath ldd "$root/$prog" > "$cache/ldd.out" ||
      die "ldd $prog failed"
    ! grep -q 'not found' "$cache/ldd.out" ||
      die "$prog: libraries missing from the packages: $(grep 'not found' "$cache/ldd.out")"
    while read -r lib; do
      case $lib in
        "$root"/*) ;;
        *) die "$prog: $lib resolved outside the unpacked packages" ;;
      esac
      mkdir -p "$tree/lib/x86_64-linux-gnu"
      cp -L "$lib" "$tree/lib/x86_64-linux-gnu/" || die "cannot copy $lib"
    done < <(sed -n 's/.*=> \([^ ]*\) (0x.*/\1/p' "$cache/ldd.out")
  done
  # The loader, at the path the programs name (PT_INTERP).
  copy_in lib64/ld-linux-x86-64.so.2
  rm -f "$cache/ldd.out"
}

# Print the depends= of module file $1, comma-separated, from its
# .modinfo strings (NUL-separated key=value; the host may have no
# modinfo).
module_depends ()
{
  tr '\0' '\n' < "$1" | sed -n 's/^depends=//p' | head -n1
}

# Find module $1 (dashes and underscores are the same in module names).
module_file ()
{
  local f
  f=$(find "$moddir" -name "$1.ko" -o -name "${1//_/-}.ko" | head -n1)
  [ -n "$f" ] || die "module $1 not found under $moddir (compressed modules are not handled)"
  echo "$f"
}

# Append module $1 to the load order after its dependencies.  Bounded
# by the module graph, which has no cycles.
order_module ()
{
  local m=$1 f dep deps
  case " $ordered " in *" $m "*) return 0 ;; esac
  f=$(module_file "$m")
  deps=$(module_depends "$f")
  for dep in ${deps//,/ }; do
    order_module "$dep"
  done
  ordered="$ordered $m"
  cp "$f" "$tree/lib/modules/$m.ko"
}

assemble ()
{
  local kver m applet
  root=$cache/root
  tree=$cache/tree
  rm -rf "$tree"
  mkdir -p "$tree"/{bin,sbin,dev,proc,sys,mnt,tmp,etc,lib/modules}

  # busybox and every applet as a link; the real e2fsprogs and
  # nbd-client in /sbin, first in the guest's PATH.
  cp "$root/bin/busybox" "$tree/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$tree/bin/$applet"
  done
  for m in "${guest_programs[@]}"; do copy_in "$m"; done
  ln -sf mke2fs "$tree/sbin/mkfs.ext4"
  ln -sf e2fsck "$tree/sbin/fsck.ext4"
  copy_in etc/mke2fs.conf
  copy_libraries "${guest_programs[@]}"

  kver=$(ls "$root/lib/modules")
  [ "$(echo "$kver" | wc -l)" = 1 ] || die "not exactly one kernel in the packages: $kver"
  moddir=$root/lib/modules/$kver
  ordered=
  for m in "${guest_modules[@]}"; do order_module "$m"; done
  echo "${ordered# }" | tr ' ' '\n' > "$tree/etc/modules.order"

  cp "$root/boot/vmlinuz-$kver" "$cache/vmlinuz.new"
  cp "$root/bin/busybox" "$cache/busybox.new"
  echo "$kver" > "$tree/etc/guest-kernel"
  # Entries owned by root, whoever builds; busybox cpio, since the host
  # may have no cpio.
  (cd "$tree" && find . | sort | "$root/bin/busybox" cpio -o -H newc -R 0:0) |
    gzip -1 > "$cache/initrd.base.gz.new" || die "cannot make the initramfs"
  mv "$cache/vmlinuz.new" "$cache/vmlinuz"
  mv "$cache/busybox.new" "$cache/busybox"
  mv "$cache/initrd.base.gz.new" "$cache/initrd.base.gz"
  echo "$prog: guest: kernel $kver, modules:$ordered, $(du -h "$cache/initrd.base.gz" | cut -f1) initramfs" >&2
  rm -rf "$tree" "$root"
}

build ()
{
  local t0=$SECONDS
  if [ -f "$cache/ready" ] && [ "$(cat "$cache/ready")" = "$recipe" ]; then
    return 0
  fi
  rm -f "$cache/ready"
  download
  unpack
  assemble
  echo "$recipe" > "$cache/ready"
  echo "$prog: guest ready in $cache ($(( SECONDS - t0 )) s)" >&2
}

exec 9> "$cache/.lock"
flock 9 || die "cannot lock $cache/.lock"
build
