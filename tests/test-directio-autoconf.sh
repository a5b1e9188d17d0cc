#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Programs find directio() as they do on Solaris: AC_CHECK_FUNCS with
# -ldirectio defines HAVE_DIRECTIO, and <directio.h> defines DIRECTIO_ON
# for "#if defined(DIRECTIO_ON)" (InnoDB, coreutils' shred test).

. "$(dirname "$0")/functions.sh"
set -e
set -x

requires autoconf
requires autoheader --version
requires "${CC:-cc}" --version
: "${top_srcdir:?}" "${top_builddir:?}"

tmp=$(mktemp -d)
cleanup_fn rm -rf "$tmp"
cd "$tmp"

cat > configure.ac <<'AC'
AC_INIT([port], [1])
AC_PROG_CC
AC_CHECK_HEADERS([directio.h])
AC_CHECK_FUNCS([directio])
AC_CONFIG_HEADERS([config.h])
AC_OUTPUT
AC
autoconf
autoheader
./configure CPPFLAGS="-I$top_srcdir/libdirectio" \
  LDFLAGS="-L$top_builddir/libdirectio/.libs" LIBS=-ldirectio
grep -x '#define HAVE_DIRECTIO 1' config.h || fail "AC_CHECK_FUNCS: no HAVE_DIRECTIO"
grep -x '#define HAVE_DIRECTIO_H 1' config.h || fail "no HAVE_DIRECTIO_H"

# Without the library the check must fail, or the test above proves
# nothing.
rm -f config.h config.cache
./configure CPPFLAGS="-I$top_srcdir/libdirectio" >/dev/null
! grep -q '#define HAVE_DIRECTIO 1' config.h || fail "found directio without -ldirectio"

# The advice constants, as the Solaris header has them.
cat > port.c <<'C'
#include "config.h"
#include <directio.h>
#if !defined(DIRECTIO_ON) || DIRECTIO_ON != 1 || DIRECTIO_OFF != 0
#error DIRECTIO_ON and DIRECTIO_OFF are not Solaris's
#endif
int main (void) { return directio (-1, DIRECTIO_ON) == -1 ? 0 : 1; }
C
"${CC:-cc}" -I"$top_srcdir/libdirectio" port.c -o port \
  -L"$top_builddir/libdirectio/.libs" -ldirectio \
  -Wl,-rpath,"$top_builddir/libdirectio/.libs"
with_asan ./port
