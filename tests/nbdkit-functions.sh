# libdirectio test suite: helpers for the nbdkit nfsdirect plugin tests,
# sourced after functions.sh:
#
#   . "$(dirname "$0")/functions.sh"
#   . "$(dirname "$0")/nbdkit-functions.sh"
#   requires_nfsdirect
#   nbdkit -U - "$nfsdirect" "$(dio_url disk.img)" --run '...'
#
# The plugin is taken from the build tree by absolute path, so the tests
# never pick up an installed copy.

tests_srcdir=$(cd "$(dirname "$0")" && pwd)
nfsdirect_builddir=$(cd "${top_builddir:-$tests_srcdir/..}" && pwd)
nfsdirect=$nfsdirect_builddir/nbdkit-plugin/.libs/nbdkit-nfsdirect-plugin.so
nbd_steps=$tests_srcdir/nbd-steps.py

# requires_nfsdirect
# Skip unless nbdkit and the built plugin are there.
requires_nfsdirect ()
{
  # nbdkit is not instrumented: it could load the ASan-built plugin only
  # with ASan's runtime preloaded, which its --run children (qemu's
  # coroutines, python) inherit and hang under.  The plugin runs under
  # valgrind in check-valgrind instead.
  [ -z "${DIO_ASAN_PRELOAD:-}" ] ||
    skip "sanitizer build: nbdkit cannot load an ASan-built plugin"
  # Nor a TSan-built one: TSan's runtime must start with the program, and
  # it would not see the synchronisation inside uninstrumented nbdkit.
  [ -z "${DIO_TSAN:-}" ] ||
    skip "ThreadSanitizer build: nbdkit cannot load a TSan-built plugin"
  requires nbdkit --version
  [ -f "$nfsdirect" ] || skip "$nfsdirect not built (nbdkit-plugin-dev missing?)"
}

# expect_start_failure PATTERN NBDKIT-ARG...
# nbdkit with these arguments must refuse to start, exit non-zero, and
# say something matching the grep -E PATTERN on stderr.
expect_start_failure ()
{
  local pattern=$1 err status=0
  shift
  err=$(nbdkit -U - "$@" --run 'echo started; exit 0' 2>&1 >/dev/null) ||
    status=$?
  echo "$err"
  [ "$status" -ne 0 ] || fail "nbdkit started with: $*"
  echo "$err" | grep -Eq -- "$pattern" ||
    fail "nbdkit $*: message does not match '$pattern': $err"
}

# same_bytes FILE1 FILE2
# cmp, failing the test with a message naming both.
same_bytes ()
{
  cmp "$1" "$2" || fail "$1 and $2 differ"
}

# ganesha_pause
# $DIO_GANESHA pause returns once every ganesha thread has stopped.
ganesha_pause ()
{
  "$DIO_GANESHA" pause || fail "could not pause ganesha"
}
