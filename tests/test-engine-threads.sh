#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The engine's "threads" suite against this test's own ganesha.
exec ${DIO_TEST_WRAPPER} "${builddir:-.}/check_engine" threads
