#!/usr/bin/env bash
# directio(), buffered mode and profiles: the "advice" suite against this
# test's own ganesha (check_directio_advice.c says what it proves).
exec "${builddir:-.}/check_directio" advice
