#!/usr/bin/env bash
# directio(), buffered mode and profiles: the "profiles" suite against this
# test's own ganesha (check_directio_profiles.c says what it proves).
exec "${builddir:-.}/check_directio" profiles
