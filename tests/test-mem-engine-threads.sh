#!/usr/bin/env bash
# The engine's "threads" suite against ganesha's MEM FSAL, a second server
# implementation (with-ganesha.sh starts MEM for test-mem-*.sh).
# The model's stress runs 5 s here, not 30: MEM's files are small anyway.
DIO_STRESS_SECONDS=${DIO_STRESS_SECONDS:-5} \
  exec "$(dirname "$0")/test-engine-threads.sh"
