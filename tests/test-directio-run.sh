#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# directio run: checks the profile file first (a bad one: exit 2 naming
# file, line and word; so is an unknown -p), sets LD_PRELOAD (keeping what
# was there), DIRECTIO_PROFILES (absolute) and DIRECTIO_PROFILE, passes on
# the command's exit status, and exits 127/126 when the command cannot be
# found/run, as env(1).  Usage errors exit 2, --help exits 0.

. "$(dirname "$0")/functions.sh"
# directio run preloads the shim into uninstrumented programs: not in a
# sanitizer build.
if [ -n "${DIO_ASAN_PRELOAD:-}" ] || [ -n "${DIO_TSAN:-}" ]; then
  skip "sanitizer build: the shim cannot be preloaded into other programs"
fi
set -e
set -x

requires directio --help
requires_all env ldd

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
cd "$tmp"
cat > profiles.conf <<'EOF2'
[a]
url        = nfs://127.0.0.1/export/a
mountpoint = /mnt/dio-a
[b]
url        = nfs://127.0.0.1/export/b
mountpoint = /mnt/dio-b
EOF2

# The environment the command gets (a relative -f is made absolute).
directio run -f profiles.conf -- env > env.out
grep -q "^LD_PRELOAD=.*libdirectio-preload\.so" env.out || fail "no LD_PRELOAD"
grep -qx "DIRECTIO_PROFILES=$tmp/profiles.conf" env.out ||
  fail "DIRECTIO_PROFILES: $(grep DIRECTIO_PROFILES env.out)"
! grep -q '^DIRECTIO_PROFILE=' env.out || fail "DIRECTIO_PROFILE without -p"
DIRECTIO_PROFILE=b directio run -f profiles.conf -p a -- env > env.out
grep -qx 'DIRECTIO_PROFILE=a' env.out || fail "-p a: $(grep PROFILE= env.out)"
DIRECTIO_PROFILE=b directio run -f profiles.conf -- env > env.out
! grep -q '^DIRECTIO_PROFILE=' env.out || fail "an outer DIRECTIO_PROFILE kept"
# An LD_PRELOAD already there stays, after the shim.
LD_PRELOAD=libc.so.6 directio run -f profiles.conf -- env > env.out
grep -q '^LD_PRELOAD=.*libdirectio-preload\.so libc\.so\.6$' env.out ||
  fail "LD_PRELOAD: $(grep LD_PRELOAD env.out)"
# The shim it names is the build tree's and loads.
shim=$(sed -n 's/^LD_PRELOAD=\([^ ]*\).*/\1/p' env.out)
[ -f "$shim" ] || fail "$shim does not exist"
directio run -f profiles.conf -- ldd /bin/true | grep -q libdirectio-preload

# The command's exit status is run's; its arguments are untouched.
expect_status 7 directio run -f profiles.conf -- sh -c 'exit 7'
[ "$(directio run -f profiles.conf -- echo -p x -- y)" = "-p x -- y" ]
[ "$(directio run -f profiles.conf echo -n)" = "" ]

# Not found: 127; found but not runnable: 126.
expect_status 127 directio run -f profiles.conf -- no-such-command-here
grep -q "no-such-command-here: No such file or directory" err
printf 'not a program\n' > notexec
expect_status 126 directio run -f profiles.conf -- ./notexec
grep -q "notexec: Permission denied" err

# A bad profile file stops it before the command runs: exit 2.
printf '[a]\nurl = nfs://h/e\nmountpoint = /m/a\nmountpont = /m/b\n' > bad.conf
expect_status 2 directio run -f bad.conf -- touch ran
grep -q "$tmp/bad.conf:4: mountpont:\|bad.conf:4: mountpont:" err ||
  fail "bad profile: $(cat err)"
[ ! -e ran ] || fail "the command ran despite a bad profile file"
expect_status 2 directio run -f missing.conf -- true
grep -q "missing.conf: No such file or directory" err
expect_status 2 directio run -f profiles.conf -p c -- true
grep -q "no profile named 'c'" err
DIRECTIO_PROFILES=$tmp/bad.conf expect_status 2 directio run -- true
# No profiles: a warning, and the command runs.
: > empty.conf
expect_status 0 directio run -f empty.conf -- true
grep -q "warning: .*empty.conf: no profiles" err

# Where the shim comes from: DIRECTIO_PRELOAD, checked.
DIRECTIO_PRELOAD=$tmp/nowhere.so expect_status 1 \
  directio run -f profiles.conf -- true
grep -q "DIRECTIO_PRELOAD=$tmp/nowhere.so" err
DIRECTIO_PRELOAD=$shim directio run -f profiles.conf -- env |
  grep -qx "LD_PRELOAD=$shim"

# Usage.
expect_status 2 directio run -f profiles.conf
grep -q "need a COMMAND" err
expect_status 2 directio run --bogus -- true
expect_status 2 directio run -f '' -- true
directio run --help > help.out
grep -q '^Usage: directio run' help.out
