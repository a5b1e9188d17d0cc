#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The libFuzzer targets (profile parser, option words, nfs:// URLs), each
# for FUZZ_SECONDS (20 here) against its seed corpus: no crash, leak,
# hang or broken invariant.  Skipped without clang's libFuzzer, and in
# the valgrind and sanitizer runs of the suite (DIO_UNDER_TOOL): the
# fuzzers carry their own sanitizers and once per `make check` is enough.
# (This needs no NFS server; the one with-ganesha.sh starts goes unused.)

. "$(dirname "$0")/functions.sh"
set -e

[ -z "$DIO_UNDER_TOOL" ] || skip "fuzzers run in the plain build's make check"
FUZZ_SECONDS=${FUZZ_SECONDS:-20} exec "$(dirname "$0")/run-fuzzers.sh"
