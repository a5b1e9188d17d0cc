#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The fault matrix: every call of the C API against every fault of
# nfsproxy, hard and soft (check_faults_matrix.c; docs/RELIABILITY.md).
exec ${DIO_TEST_WRAPPER} "${builddir:-.}/check_faults" matrix
