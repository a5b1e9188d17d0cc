# SPDX-License-Identifier: LGPL-2.1-or-later
# Debian packages libdirectio needs to build, test and demonstrate itself,
# and a function to install the missing ones.  Sourced by check.sh and
# demo.sh (bash).

# Build tools, the library's dependencies, and every peer and server the
# tests drive (nfs-ganesha + rpcbind in a private namespace, with its VFS
# backend and its MEM one as a second server implementation, nbdkit,
# libnbd's tools, qemu-img, fio, valgrind, iproute2/util-linux for the
# namespace and setarch, procps for pgrep; qemu-system-x86 boots the
# guest of the nbd-client tests and e2fsprogs checks its disk on the
# host: the guest's own packages are downloaded, not installed, by
# tests/guest/build-guest.sh).  The sanitizer builds' runtimes (libasan8,
# libubsan1, libtsan2) come with gcc 12 already; they are named so that
# the need is written down.  libfuse3-dev and fuse3 build and run
# `directio mount`; busybox-static is the static program its tests run.
dio_packages=(
  build-essential autoconf automake libtool pkg-config perl
  libasan8 libubsan1 libtsan2
  libnfs-dev libnfs-utils check
  nbdkit nbdkit-plugin-dev libnbd-bin python3-libnbd
  nfs-ganesha nfs-ganesha-vfs nfs-ganesha-mem rpcbind
  qemu-utils fio valgrind
  iproute2 procps util-linux coreutils
  qemu-system-x86 e2fsprogs
  libfuse3-dev fuse3 busybox-static
)

# Packaging: git lists the files that tests/test-spdx.sh, make distcheck
# and the package test look at; debhelper, dpkg-dev and lintian build and
# check the Debian packages (debian/, tests/test-debian-packages.sh),
# which build-depend on libfuse3-dev too.
dio_packages+=(git debhelper dpkg-dev lintian libfuse3-dev)


dio_as_root ()
{
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "not root and no sudo: cannot run: $*" >&2
    return 1
  fi
}

# Install what is missing; quick when everything is there already.
dio_install_packages ()
{
  local p missing=()
  for p in "${dio_packages[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
      grep -q '^install ok installed$' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#dio_packages[@]} packages installed already"
    return 0
  fi
  echo "deps: installing: ${missing[*]}"
  dio_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    dio_as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q "${missing[@]}"
}
