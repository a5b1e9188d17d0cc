/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A hook for tests to act at named points inside the engine, exported
 * under LIBDIRECTIO_PRIVATE (private.h includes this).  Defined in
 * commit.c, the only place that calls it so far. */
#ifndef DIO_TEST_HOOK_H
#define DIO_TEST_HOOK_H

/* Tests only: fn runs on a service thread at named points of a direct
 * request ("before-commit": the UNSTABLE writes are acknowledged and the
 * COMMIT is about to be sent).  NULL removes it. */
void dio__set_test_hook (void (*fn) (const char *point));

#endif /* DIO_TEST_HOOK_H */
