#!/usr/bin/env bash
# The engine's "errors" suite against this test's own ganesha.
exec ${DIO_TEST_WRAPPER} "${builddir:-.}/check_engine" errors
