#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Short and empty READ and WRITE replies through nfsproxy: the rest is
# sent again, zero bytes without EOF is EIO, direct and buffered
# (check_faults_proxy.c).
exec ${DIO_TEST_WRAPPER} "${builddir:-.}/check_faults" proxy
