/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine's own threads. */
#ifndef DIO_THREAD_H
#define DIO_THREAD_H

#include <pthread.h>
#include <stdbool.h>

/* Start fn (arg) on a new thread named name (at most 15 characters, for
 * top -H, perf and gdb), detached or joinable through *t, with every
 * signal blocked: signals are for the application's threads, whose
 * handlers must not run on ours.  0, or an errno value. */
int dio_thread_start (pthread_t *t, bool detached, const char *name,
                      void *(*fn) (void *), void *arg);

#endif /* DIO_THREAD_H */
