/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A hook for tests to act at named points inside the engine, exported
 * under LIBDIRECTIO_PRIVATE (private.h includes this).  Defined in
 * commit.c; the engine calls it through dio_test_point (internal.h). */
#ifndef DIO_TEST_HOOK_H
#define DIO_TEST_HOOK_H

/* Tests only: fn runs on the thread that sends the RPC (a service
 * thread, or the caller's while its connection is idle) at named
 * points: of a direct request ("before-commit": the UNSTABLE writes are acknowledged and the
 * COMMIT is about to be sent), and of a truncate ("setattr-guarded": a
 * SETATTR of the size guarded with a ctime, a replay or a send after
 * NFS3ERR_NOT_SYNC, is about to be sent).  fn must not call the engine
 * (a service thread cannot wait for one).  NULL removes it. */
void dio__set_test_hook (void (*fn) (const char *point));

#endif /* DIO_TEST_HOOK_H */
