#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fsx through the dio_* API against ganesha's MEM FSAL (with-ganesha.sh
# starts MEM for test-mem-*.sh): files of at most 2 MiB there, and no
# export directory to compare with at the end.
# The server's answers are the point here, not memory checking: the
# valgrind and sanitizer passes run the VFS tests, and skip these.
if [ -n "$DIO_UNDER_TOOL" ]; then
  echo "$0: SKIP: under a checking tool (see the VFS test of the same name)" >&2
  exit 77
fi
exec "$(dirname "$0")/test-fsx.sh"
