#!/usr/bin/env bash
# The engine's "threads" suite against this test's own ganesha.
exec ${DIO_TEST_WRAPPER} "${builddir:-.}/check_engine" threads
