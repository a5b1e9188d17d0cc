/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers for the fault tests (check_faults) and fsx: a seeded random
 * generator and comparisons of a file with an in-memory model, both on
 * the server's disk and through the engine. */
#ifndef FAULT_HELPERS_H
#define FAULT_HELPERS_H

#include <stddef.h>
#include <stdint.h>

/* xorshift64*: small, fast, and the same sequence for the same seed on
 * every machine, so a printed seed replays a run. */
uint64_t fault_rand (uint64_t *state);

/* A value in [lo, hi] (inclusive). */
uint64_t fault_range (uint64_t *state, uint64_t lo, uint64_t hi);

/* True when the test runs under valgrind or the sanitizers
 * (DIO_UNDER_TOOL): tests then do less work, and wait longer. */
int fault_under_tool (void);

/* The seed for a run: the decimal value of environment variable name if
 * set, else one from the clock.  Printed to stderr as "WHAT: seed N"
 * either way, so that a failure can be replayed. */
uint64_t fault_seed (const char *name, const char *what);

/* Fill buf with bytes derived from tag (a write's identity) and the
 * absolute offset, so that data in the wrong place or from the wrong
 * write never matches. */
void fault_fill (char *buf, size_t len, uint64_t off, uint64_t tag);

/* Offset of the first byte where the local file (a path) differs from
 * model[0, len), or where it ends early or goes on past len; -1 if it is
 * identical.  -2 if it cannot be read. */
int64_t fault_local_diff (const char *path, const char *model, uint64_t len);

/* As fault_local_diff, reading through the engine descriptor fd. */
int64_t fault_dio_diff (int fd, const char *model, uint64_t len);

#endif
