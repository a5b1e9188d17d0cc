/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers for the engine's integration tests (Check programs run inside
 * with-ganesha.sh). */
#ifndef ENGINE_HELPERS_H
#define ENGINE_HELPERS_H

#include <stddef.h>
#include <stdint.h>

/* nfs:// URL of FILE in the test export; extra is appended to the query
 * ("&rsize=65536") or NULL.  Returns a static buffer per call slot. */
const char *test_url (const char *file, const char *extra);

/* Local path of FILE in the export directory (what the server stores). */
const char *test_local (const char *file);

/* Run "$DIO_GANESHA ARGS"; fails the test if it fails. */
void test_ganesha (const char *args);

/* A deterministic byte pattern: the byte at absolute file offset off. */
void test_fill (char *buf, size_t len, uint64_t off, uint32_t seed);
int test_check (const char *buf, size_t len, uint64_t off, uint32_t seed);

/* Compare a local file's bytes [0,len) with the pattern. */
int test_local_matches (const char *file, uint64_t len, uint32_t seed);

/* Peak resident set (VmHWM) of this process, in KiB. */
long test_peak_rss_kib (void);

/* nthreads threads write the pattern (seed) to fd at once, with durable
 * dio_pwrite calls of len bytes, interleaved: thread t writes blocks t,
 * t + nthreads, t + 2 nthreads, ..., count blocks each (at most 16
 * threads).  Fails the test, naming the thread and the offset, if a
 * write does not return len. */
void test_interleaved_writes (int fd, unsigned nthreads, unsigned count,
                              size_t len, uint32_t seed);

/* Monotonic seconds. */
double test_now (void);

/* How many of this process's threads are named name (and, unless sig
 * is 0, block the signal sig). */
unsigned test_threads_named (const char *name, int sig);

#endif
