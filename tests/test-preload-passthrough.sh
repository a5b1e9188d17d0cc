#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What is not under a mountpoint goes to libc untouched: under the shim,
# local files behave exactly as without it; and a process whose profile
# file has no profiles behaves exactly as without the shim, at no cost
# per call (no extra system calls).

. "$(dirname "$0")/functions.sh"
. "$(dirname "$0")/preload-functions.sh"
set -e
set -x

preload_setup
requires_all strace python3 dash

# The same script on local files, with and without the shim: the same
# output, the same errors, the same exit status.
cat > "$tmp/script" <<'SH'
cd "$1"
head -c 100000 /dev/zero | tr '\0' x > f
cp f g; mkdir d; mv g d/h; ls -l d | awk 'NR > 1 { print $1, $5, $9 }'
stat -c '%s %F %a' f d d/h
cat d/h | sha256sum
dd if=f of=d/i bs=4096 oflag=direct status=none; cmp f d/i
python3 -c 'import os; print(sorted(os.listdir("d")), os.path.getsize("f"))'
rm -r d; ls
cat nothing; echo "status $?"
ls /mnt/dio-test/none; echo "status $?"
exec >out; echo redirected
SH
mkdir "$tmp/with" "$tmp/without"
(set +x; dio_run dash "$tmp/script" "$tmp/with") > "$tmp/with.out" 2>&1
(set +x; dash "$tmp/script" "$tmp/without") > "$tmp/without.out" 2>&1
sed -i "s|$tmp/with|DIR|g" "$tmp/with.out"
sed -i "s|$tmp/without|DIR|g" "$tmp/without.out"
diff -u "$tmp/without.out" "$tmp/with.out"
cmp "$tmp/with/out" "$tmp/without/out"
[ ! -e "$stats" ] || fail "the engine was used for local files: $(cat "$stats")"

# No profiles: profile paths are the kernel's (ENOENT) and the errors are
# the same as without the shim.
: > "$tmp/empty.conf"
cat > "$tmp/managed" <<'SH'
cat /mnt/dio-test/x; echo "status $?"
ls /mnt/dio-test; echo "status $?"
mkdir /mnt/dio-test/d; echo "status $?"
python3 -c 'open("/mnt/dio-test/x")'; echo "status $?"
SH
(set +x; LD_PRELOAD=$shim DIRECTIO_PROFILES=$tmp/empty.conf \
   DIRECTIO_STATS=$stats dash "$tmp/managed") > "$tmp/empty.out" 2>&1
(set +x; dash "$tmp/managed") > "$tmp/plain.out" 2>&1
diff -u "$tmp/plain.out" "$tmp/empty.out"
[ ! -e "$stats" ] || fail "the engine was used without profiles"

# ...and at no cost per call: 3000 opens and 3000 stats of local, would-be
# profile and relative paths make no more path system calls than without
# the shim, beyond the constant cost of loading it (its libraries).
cat > "$tmp/loop.py" <<'PY'
import os, sys
for i in range(1000):
    for p in (sys.argv[1], "/mnt/dio-test/x", "rel"):
        try:
            os.close(os.open(p, os.O_RDONLY))
        except OSError:
            pass
        try:
            os.stat(p)
        except OSError:
            pass
PY
python=$(python3 -c 'import sys; print(sys.executable)')
calls='openat,open,newfstatat,stat,lstat,statx,getcwd,readlink,getdents64'
count () { strace -c -e trace=$calls -o "$1" "${@:2}" >/dev/null 2>&1 || true;
           awk '$NF == "total" { print $(NF-2) }' "$1"; }
plain=$(count "$tmp/plain.strace" "$python" "$tmp/loop.py" "$tmp/script")
with=$(count "$tmp/with.strace" env LD_PRELOAD="$shim" \
         DIRECTIO_PROFILES="$tmp/empty.conf" "$python" "$tmp/loop.py" \
         "$tmp/script")
[ -n "$plain" ] && [ -n "$with" ] || fail "strace -c gave no totals"
[ "$plain" -ge 6000 ] || fail "strace counted $plain calls: the loop did not run"
[ "$with" -le $(( plain + 100 )) ] ||
  fail "the shim adds system calls per call: $with with it, $plain without"
