#!/usr/bin/env bash
# Short and empty READ and WRITE replies through nfsproxy: the rest is
# sent again, zero bytes without EOF is EIO, direct and buffered
# (check_faults_proxy.c).
exec ${DIO_TEST_WRAPPER} "${builddir:-.}/check_faults" proxy
