#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# directio(), buffered mode and profiles: the "advice" suite against this
# test's own ganesha (check_directio_advice.c says what it proves).
exec "${builddir:-.}/check_directio" advice
