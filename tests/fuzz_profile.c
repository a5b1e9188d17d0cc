/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the profile parser: any bytes, NULs included,
 * must give a set or an error, never a crash, leak or hang.
 *
 * Not built by make.  To run it from the top of the source tree
 * (config.h only needs _GNU_SOURCE; ./configure's one will do):
 *
 *   mkdir -p /tmp/fuzz/corpus && echo '#define _GNU_SOURCE 1' > /tmp/fuzz/config.h
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=undefined -I/tmp/fuzz -Ilibdirectio \
 *     tests/fuzz_profile.c libdirectio/profile.c libdirectio/options.c \
 *     -o /tmp/fuzz/fuzz_profile
 *   /tmp/fuzz/fuzz_profile -max_total_time=60 -dict=tests/fuzz_profile.dict \
 *     /tmp/fuzz/corpus
 */
#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Every path a loaded set claims must lead back to a profile. */
static void
check_set (const struct dio_profiles *set)
{
  const char *rest;
  size_t i;

  for (i = 0; i < set->n; ++i) {
    const struct dio_profile *p = &set->v[i];

    if (dio_profiles_find (set, p->name) != p ||
        dio_profiles_match (set, p->mountpoint, &rest) != p ||
        strcmp (rest, "") != 0)
      abort ();
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct dio_profiles set;
  char err[256];

  if (dio_profiles_parse ("fuzz", (const char *) data, size, &set,
                          err, sizeof err) == 0) {
    check_set (&set);
    dio_profiles_match (&set, "/u02/oradata/x", NULL);
  }
  else if (set.n != 0 || set.v != NULL || memchr (err, '\0', sizeof err) == NULL)
    abort ();
  dio_profiles_free (&set);
  return 0;
}
