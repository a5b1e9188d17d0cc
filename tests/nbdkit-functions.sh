# SPDX-License-Identifier: LGPL-2.1-or-later
# libdirectio test suite: helpers for the nbdkit nfsdirect plugin tests,
# sourced after functions.sh:
#
#   . "$(dirname "$0")/functions.sh"
#   . "$(dirname "$0")/nbdkit-functions.sh"
#   requires_nfsdirect
#   $nbdkit -U - "$nfsdirect" "$(dio_url disk.img)" --run '...'
#
# The plugin is taken from the build tree by absolute path, so the tests
# never pick up an installed copy; $nbdkit (below) runs nbdkit, and so
# the plugin, under valgrind in check-valgrind.

tests_srcdir=$(cd "$(dirname "$0")" && pwd)
nfsdirect_builddir=$(cd "${top_builddir:-$tests_srcdir/..}" && pwd)
nfsdirect=$nfsdirect_builddir/nbdkit-plugin/.libs/nbdkit-nfsdirect-plugin.so
nbd_steps=$tests_srcdir/nbd-steps.py

# requires_fio_nbd
# Skip unless fio is there with its nbd engine.
requires_fio_nbd ()
{
  requires fio --version
  fio --enghelp=nbd 2>/dev/null | grep -q '^uri' || skip "fio has no nbd engine"
}

# requires_nfsdirect
# Skip unless nbdkit and the built plugin are there.
requires_nfsdirect ()
{
  # nbdkit is not instrumented: it could load the ASan-built plugin only
  # with ASan's runtime preloaded, which its --run children (qemu's
  # coroutines, python) inherit and hang under.  check-valgrind checks
  # the plugin instead ($nbdkit).
  [ -z "${DIO_ASAN_PRELOAD:-}" ] ||
    skip "sanitizer build: nbdkit cannot load an ASan-built plugin"
  # Nor a TSan-built one: TSan's runtime must start with the program, and
  # it would not see the synchronisation inside uninstrumented nbdkit.
  [ -z "${DIO_TSAN:-}" ] ||
    skip "ThreadSanitizer build: nbdkit cannot load a TSan-built plugin"
  requires nbdkit --version
  [ -f "$nfsdirect" ] || skip "$nfsdirect not built (nbdkit-plugin-dev missing?)"
}

# $nbdkit: the command that starts nbdkit.  Tests write `$nbdkit ARG...`
# (unquoted, like ${DIO_TEST_WRAPPER} elsewhere), never plain nbdkit:
# under check-valgrind it runs nbdkit, and so the plugin, under
# $DIO_TEST_WRAPPER, valgrind memcheck.  A variable, not a function, so
# that it behaves as the command does: libtool and valgrind exec, so
# `$nbdkit ... &` leaves nbdkit's own pid in $!, and set -x traces it in
# the test's log, not in the nbdkit stderr that tests capture and grep.
nbdkit="${DIO_TEST_WRAPPER:+$DIO_TEST_WRAPPER }nbdkit"

# Valgrind follows nbdkit's own processes, forks without exec included,
# but not the programs they exec (--run's shell, qemu-img, nbdcopy,
# python): the wrapper has no --trace-children.  Its exit status (the
# wrapper's --error-exitcode, 119) is lost for the processes that run
# the plugin: with --run, nbdkit serves in a child that it kills when
# the command ends, and exits with the command's status; a daemon is a
# child nobody waits for.  So every nbdkit process writes its report to
# a file of its own (VALGRIND_OPTS, which only valgrind reads), and the
# test fails at exit if any report is not empty; that also keeps
# valgrind's words out of the nbdkit stderr that tests grep.
# valgrind-nbdkit.supp: the leak that is nbdkit's.  A script that a test
# runs may source this file too: its nbdkit reports into the test's files.
if [ -n "${DIO_TEST_WRAPPER:-}" ] && [ -z "${nbdkit_tool_logs:-}" ]; then
  nbdkit_tool_logs=$(mktemp -d)
  VALGRIND_OPTS="${VALGRIND_OPTS:+$VALGRIND_OPTS }"
  VALGRIND_OPTS+="--log-file=$nbdkit_tool_logs/%p"
  VALGRIND_OPTS+=" --suppressions=$tests_srcdir/valgrind-nbdkit.supp"
  # nbdkit unloads the plugin before valgrind's leak check: keep its
  # symbols for the report.
  VALGRIND_OPTS+=" --keep-debuginfo=yes"
  export nbdkit_tool_logs VALGRIND_OPTS
  cleanup_fn nbdkit_tool_reports
fi

# nbdkit_tool_reports
# Fail (at exit) if valgrind reported on any nbdkit process.
nbdkit_tool_reports ()
{
  local f bad=
  for f in "$nbdkit_tool_logs"/*; do
    [ -s "$f" ] || continue
    echo "$0: valgrind report for nbdkit process ${f##*/}:" >&2
    cat "$f" >&2
    bad=1
  done
  rm -rf "$nbdkit_tool_logs"
  [ -z "$bad" ] || fail "valgrind reported on nbdkit (above)"
}

# Seconds to wait for nbdkit to start or stop, or for a request to reach
# the plugin: valgrind (DIO_UNDER_TOOL) makes all of that slower.
nbdkit_wait_s=10
[ -z "${DIO_UNDER_TOOL:-}" ] || nbdkit_wait_s=60

# expect_start_failure PATTERN NBDKIT-ARG...
# nbdkit with these arguments must refuse to start, exit non-zero, and
# say something matching the grep -E PATTERN on stderr.
expect_start_failure ()
{
  local pattern=$1 err status=0
  shift
  err=$($nbdkit -U - "$@" --run 'echo started; exit 0' 2>&1 >/dev/null) ||
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

# ---- the NBD server under test ------------------------------------------
# Tests that hold for any NBD server over the engine run against nbdkit
# nfsdirect, or, when DIO_NBD_SERVER=directio (the test-nbd-*.sh
# wrappers set it), against `directio nbd`.
nbd_server=${DIO_NBD_SERVER:-nbdkit}

# requires_nbd_server
# Skip unless the server under test can run here.
requires_nbd_server ()
{
  if [ "$nbd_server" = directio ]; then
    requires directio --version
  else
    requires_nfsdirect
  fi
}

# nbd_serve URL [PARAM=VALUE...] [--run COMMAND]
# Serve URL on a private Unix socket, captive ($uri and $unixsocket in
# COMMAND's environment; the server's status is COMMAND's).  PARAMs are
# the plugin's: for directio nbd, writes= and readonly=true become its
# options and the rest (mount options) go into the URL's query.
nbd_serve ()
{
  # No trace from here: callers redirect the server's stderr to a log
  # that they grep for errors (and valgrind's command line says
  # "--error-exitcode").
  local - url=$1 q= opts=()
  { set +x; } 2>/dev/null
  shift
  if [ "$nbd_server" != directio ]; then
    $nbdkit -U - "$nfsdirect" "$url" "$@"
    return
  fi
  while [ $# -gt 0 ] && [ "$1" != --run ]; do
    case $1 in
      writes=*) opts+=("--writes=${1#writes=}") ;;
      readonly=true) opts+=(--readonly) ;;
      *=true) q+="&${1%=true}" ;;       # soft=true: the query's soft
      *) q+="&$1" ;;
    esac
    shift
  done
  case $url in
    *\?*) url+=$q ;;
    *) [ -z "$q" ] || url+="?${q#&}" ;;
  esac
  ${DIO_TEST_WRAPPER:+$DIO_TEST_WRAPPER }directio nbd -U - "${opts[@]}" \
    "$url" "$@"
}
