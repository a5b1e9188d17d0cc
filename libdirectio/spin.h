/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Adaptive polling before sleep (the spin= option): see spin.c. */
#ifndef DIO_SPIN_H
#define DIO_SPIN_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

struct dio_mount_stats;

#define DIO_SPIN_FIRST_NS 4000   /* the first budget after a short wait */

struct dio_spin {
  uint64_t max_ns;               /* spin= in ns (options.h bounds it);
                                    0: never spin */
  uint64_t budget_ns;            /* what the next wait may spin */
  uint64_t hits, misses;         /* spins that found an event, or not */
  struct dio_mount_stats *stats; /* counted there too, if not NULL */
};

void dio_spin_init (struct dio_spin *s, uint32_t max_us);

/* poll (p, n, timeout_ms), but when busy (replies are due) first poll
 * without sleeping for up to the budget; then learn from how long the
 * wait took.  before_sleep, if not NULL, runs before a poll that may
 * sleep (after a spin that found nothing), and what it let happen is
 * looked at again without sleeping.  Returns what poll returns. */
int dio_spin_poll (struct dio_spin *s, struct pollfd *p, nfds_t n,
                   int timeout_ms, bool busy, void (*before_sleep) (void));

/* The budget's rule alone (for unit tests): a wait took waited_ns. */
void dio_spin_learn (struct dio_spin *s, uint64_t waited_ns);

#endif /* DIO_SPIN_H */
