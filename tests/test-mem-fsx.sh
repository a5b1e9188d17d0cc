#!/usr/bin/env bash
# fsx through the dio_* API against ganesha's MEM FSAL (with-ganesha.sh
# starts MEM for test-mem-*.sh): files of at most 2 MiB there, and no
# export directory to compare with at the end.
exec "$(dirname "$0")/test-fsx.sh"
