#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Debian packages (debian/) build with `dpkg-buildpackage -us -uc -b`
# in a copy of the tree, carry their files, pass lintian without errors,
# install on this machine with `apt-get install ./*.deb`, and work from
# the installed paths only: `directio cp` to and from the test server,
# `directio profile check` of the example /etc/directio/profiles.conf,
# `directio run` with the installed shim, a program built with
# `pkg-config libdirectio` against the installed header and library, and
# `nbdkit nfsdirect` found by name (--dump-plugin, and serving a file to
# nbdinfo).  Then they are purged and leave nothing behind.
#
# It installs packages system-wide, so it runs only with DIO_TEST_DEBS=1
# (check.sh's last step, which .ci/run turns on), and skips when any of
# them is installed already (someone's real installation).  The symbols
# file must be up to date with libdirectio.syms
# (scripts/debian-symbols.sh --check).

. "$(dirname "$0")/functions.sh"
set -e
set -x

[ "${DIO_TEST_DEBS:-}" = 1 ] ||
  skip "installs packages on this machine: set DIO_TEST_DEBS=1 (.ci/run does)"
if [ -n "${DIO_ASAN_PRELOAD:-}" ] || [ -n "${DIO_TSAN:-}" ] ||
   [ -n "${DIO_UNDER_TOOL:-}" ]; then
  skip "the packages are built normally: not under a tool"
fi
requires_ganesha
requires_root
requires_all dpkg-buildpackage dh lintian apt-get dpkg-query nbdkit nbdinfo \
  pkg-config cmp
: "${top_srcdir:?}"

pkgs="libdirectio0 libdirectio-dev libdirectio-preload nbdkit-plugin-nfsdirect directio-tools"
for p in $pkgs; do
  if dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$'; then
    skip "$p is installed on this machine already: not replacing it"
  fi
done
[ ! -e /mnt/dio-pkg ] || skip "/mnt/dio-pkg exists on this machine"

"$top_srcdir/scripts/debian-symbols.sh" --check ||
  fail "debian/libdirectio0.symbols is out of date: run scripts/debian-symbols.sh"

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
t0=$(date +%s)

# A copy of the tree: the files git knows (tracked or new), or all of a
# tarball's.
src=$tmp/libdirectio
mkdir -p "$src"
top=$(cd "$top_srcdir" && pwd -P)
if [ "$(git -C "$top" rev-parse --show-toplevel 2>/dev/null)" = "$top" ]; then
  git -C "$top" ls-files -z --cached --others --exclude-standard |
    (cd "$top" && xargs -0 cp -P --parents -t "$src")
else
  (cd "$top" && tar -c --exclude='./_build*' .) | tar -x -C "$src"
fi
[ -f "$src/debian/control" ] || fail "no debian/ in the copy of $top"

(cd "$src" &&
   DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) \
  > "$tmp/build.log" 2>&1 ||
  { tail -n 60 "$tmp/build.log"; fail "dpkg-buildpackage failed"; }
! grep 'dpkg-gensymbols: warning' "$tmp/build.log" ||
  fail "dpkg-gensymbols warns: run scripts/debian-symbols.sh"
t1=$(date +%s)
echo "built in $(( t1 - t0 )) s"

debs=()
for p in $pkgs; do
  f=$(echo "$tmp/${p}_"*_*.deb)
  [ -f "$f" ] || fail "no package $p: $(ls "$tmp")"
  debs+=("$f")
done

# What each package carries.
contains ()
{
  dpkg-deb -c "$tmp/$1"_*.deb | grep -Eq " \./$2( |$)" || fail "$1 lacks $2"
}
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
plugindir=/usr/lib/$multiarch/nbdkit/plugins
contains libdirectio0 "usr/lib/$multiarch/libdirectio\.so\.0"
contains libdirectio-dev 'usr/include/directio\.h'
contains libdirectio-dev "usr/lib/$multiarch/libdirectio\.so"
contains libdirectio-dev "usr/lib/$multiarch/pkgconfig/libdirectio\.pc"
contains libdirectio-dev 'usr/share/man/man3/directio\.3\.gz'
contains libdirectio-dev 'usr/share/man/man3/dio_open\.3\.gz'
contains libdirectio-preload "usr/lib/$multiarch/libdirectio-preload\.so"
contains nbdkit-plugin-nfsdirect "${plugindir#/}/nbdkit-nfsdirect-plugin\.so"
contains nbdkit-plugin-nfsdirect 'usr/share/man/man1/nbdkit-nfsdirect-plugin\.1\.gz'
contains directio-tools 'usr/bin/directio'
contains directio-tools 'usr/share/man/man1/directio\.1\.gz'
contains directio-tools 'etc/directio/profiles\.conf'
dpkg-deb -I "$tmp"/directio-tools_*.deb conffiles | grep -qx /etc/directio/profiles.conf ||
  fail "/etc/directio/profiles.conf is not a conffile"
for f in "${debs[@]}"; do
  ! dpkg-deb -c "$f" | grep -q '\.la$' || fail "$f ships a libtool archive"
done

# lintian: no errors (warnings are allowed).
lintian --allow-root --no-tag-display-limit "$tmp"/*.changes > "$tmp/lintian.out" 2>&1 || true
cat "$tmp/lintian.out"
! grep -q '^E: ' "$tmp/lintian.out" || fail "lintian reports errors"
t2=$(date +%s)
echo "lintian in $(( t2 - t1 )) s"

# Install, and always purge again (what is there of them).
purge ()
{
  local p there=()
  for p in $pkgs; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed$' &&
      there+=("$p")
  done
  [ ${#there[@]} -eq 0 ] ||
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q \
      -o DPkg::Lock::Timeout=300 "${there[@]}"
}
cleanup_fn purge
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  -o DPkg::Lock::Timeout=300 "${debs[@]}"
t3=$(date +%s)
echo "installed in $(( t3 - t2 )) s"

# From here on only the installed files: no build tree on any path.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
unset LD_LIBRARY_PATH LD_PRELOAD DIRECTIO_PROFILES
[ "$(command -v directio)" = /usr/bin/directio ] || fail "directio is $(command -v directio)"
ldd /usr/bin/directio | grep -Eq "libdirectio\.so\.0 => (/usr)?/lib/$multiarch/libdirectio\.so\.0" ||
  fail "directio does not use the installed library: $(ldd /usr/bin/directio)"
for f in man1/directio.1.gz man3/directio.3.gz man3/dio_open.3.gz \
         man1/nbdkit-nfsdirect-plugin.1.gz; do
  [ -e "/usr/share/man/$f" ] || fail "/usr/share/man/$f not installed"
done

# The example profiles file is the default one, and valid.
directio profile check | grep -q '/etc/directio/profiles.conf: OK' ||
  fail "directio profile check of /etc/directio/profiles.conf"

# directio cp both ways.
head -c 5000000 /dev/urandom > "$tmp/in.bin"
directio cp "$tmp/in.bin" "$(dio_url pkg.bin)"
cmp "$tmp/in.bin" "$DIO_TEST_DIR/pkg.bin"
directio cp "$(dio_url pkg.bin)" "$tmp/out.bin"
cmp "$tmp/in.bin" "$tmp/out.bin"

# directio run preloads the installed shim, which reads the file through
# a profile's mountpoint.
cat > "$tmp/profiles.conf" <<EOF
[pkg]
url        = nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT?$DIO_TEST_QUERY
mountpoint = /mnt/dio-pkg
EOF
directio run -f "$tmp/profiles.conf" -- env | grep -qx "LD_PRELOAD=/usr/lib/$multiarch/libdirectio-preload.so" ||
  fail "directio run does not preload the installed shim"
directio run -f "$tmp/profiles.conf" -- cat /mnt/dio-pkg/pkg.bin | cmp - "$tmp/in.bin"

# A program built against the installed header and library (-dev).
cat > "$tmp/prog.c" <<'EOF'
#include <directio.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
int
main (int argc, char **argv)
{
  char buf[4096];
  int fd = dio_open (argv[1], O_RDONLY);
  if (fd == -1 || directio (fd, DIRECTIO_ON) == -1) {
    fprintf (stderr, "%s\n", dio_last_error ());
    return 1;
  }
  ssize_t n = dio_pread (fd, buf, sizeof buf, 1000);
  if (n != (ssize_t) sizeof buf || dio_close (fd) == -1)
    return 1;
  fwrite (buf, 1, n, stdout);
  return 0;
}
EOF
# shellcheck disable=SC2046
cc -o "$tmp/prog" "$tmp/prog.c" $(pkg-config --cflags --libs libdirectio)
"$tmp/prog" "$(dio_url pkg.bin)" > "$tmp/part.bin"
cmp "$tmp/part.bin" <(tail -c +1001 "$tmp/in.bin" | head -c 4096)

# nbdkit finds the plugin by name in its own plugin directory.
dump=$(nbdkit nfsdirect --dump-plugin)
echo "$dump"
echo "$dump" | grep -qx "path=$plugindir/nbdkit-nfsdirect-plugin.so" ||
  fail "nbdkit nfsdirect is not the installed plugin"
echo "$dump" | grep -qx 'name=nfsdirect' || fail "--dump-plugin: no name=nfsdirect"
size=$(nbdkit -U - nfsdirect "$(dio_url pkg.bin)" --run 'nbdinfo --size "$uri"')
[ "$size" = 5000000 ] || fail "nbdinfo through the plugin: size $size"
t4=$(date +%s)
echo "used in $(( t4 - t3 )) s"

# Purged, nothing is left.
purge
for f in /usr/bin/directio "$plugindir/nbdkit-nfsdirect-plugin.so" \
         "/usr/lib/$multiarch/libdirectio.so.0" \
         "/usr/lib/$multiarch/libdirectio-preload.so" \
         /usr/include/directio.h /etc/directio/profiles.conf; do
  [ ! -e "$f" ] || fail "$f is left after purging"
done
echo "purged in $(( $(date +%s) - t4 )) s; $(( $(date +%s) - t0 )) s in all"
