#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# ESTALE during a path walk: dio_open and the shim's path calls walk the
# path once more, as Linux does (check_faults_stale.c, nfsproxy, and a
# directory removed and made again by another client).
exec ${DIO_TEST_WRAPPER} "${builddir:-.}/check_faults" stale
