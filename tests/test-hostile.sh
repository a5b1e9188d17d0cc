#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hostile arguments to every public call, the rows on an open engine file
# included (check_hostile.c; `make check` also runs check_hostile alone,
# without a server).
exec ${DIO_TEST_WRAPPER} "${builddir:-.}/check_hostile"
