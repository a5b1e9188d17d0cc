# SPDX-License-Identifier: LGPL-2.1-or-later
# libdirectio test suite: helpers for the LD_PRELOAD shim's tests
# (test-preload-*.sh), sourced after functions.sh.
#
#   $shim                  the build tree's libdirectio-preload.so
#   preload_setup          skip unless the shim can run here; make $tmp and
#                          $profiles, a profile file mapping $mnt
#                          (/mnt/dio-test) to the test export
#   dio_run CMD [ARG...]   CMD under `directio run -f $profiles`, with
#                          DIRECTIO_STATS=$stats
#   stat_of KEY            KEY's value on the last line of $stats
#   max_stat_of KEY        its largest value on any line (a run that
#                          closes its last file unmounts: a later mount
#                          starts from zero)
#   same_on_server FILE LOCAL
#                          fail unless the export's FILE equals LOCAL

mnt=/mnt/dio-test
shim=$top_builddir/preload/.libs/libdirectio-preload.so

preload_setup ()
{
  requires_ganesha
  requires directio --help
  [ -f "$shim" ] || skip "$shim not built"
  # An instrumented shim cannot be preloaded into uninstrumented programs.
  if ldd "$shim" | grep -q 'libasan\|libubsan\|libtsan'; then
    skip "sanitizer build: the shim cannot be preloaded into coreutils"
  fi
  # Nothing may exist there without the shim: what the tests see is the
  # engine's doing.
  [ ! -e "$mnt" ] || skip "$mnt exists on this machine"

  tmp=$(mktemp -d)
  cleanup_fn rm -rf "$tmp"
  profiles=$tmp/profiles.conf
  stats=$tmp/stats
  cat > "$profiles" <<EOF
# test-preload: the test export at $mnt
[test]
url        = nfs://$DIO_TEST_SERVER$DIO_TEST_EXPORT?$DIO_TEST_QUERY
mountpoint = $mnt
EOF
}

dio_run ()
{
  DIRECTIO_STATS=$stats directio run -f "$profiles" -- "$@"
}

stat_of ()
{
  [ -s "$stats" ] || fail "no statistics in $stats"
  tail -n 1 "$stats" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

max_stat_of ()
{
  [ -s "$stats" ] || fail "no statistics in $stats"
  tr ' ' '\n' < "$stats" | sed -n "s/^$1=//p" | sort -n | tail -n 1
}

same_on_server ()
{
  cmp "$DIO_TEST_DIR/$1" "$2" || fail "$1 on the server differs from $2"
}
