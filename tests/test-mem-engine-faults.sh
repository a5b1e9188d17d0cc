#!/usr/bin/env bash
# The engine's "faults" suite against ganesha's MEM FSAL, a second server
# implementation (with-ganesha.sh starts MEM for test-mem-*.sh).
exec "$(dirname "$0")/test-engine-faults.sh"
