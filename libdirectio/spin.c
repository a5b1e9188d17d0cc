/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Adaptive polling: a service thread whose replies are due polls its
 * descriptors without sleeping for a few microseconds before it sleeps.
 *
 * Why: a thread that sleeps in poll() for every reply is woken by the
 * server's send, and the scheduler places it wherever: on a small
 * machine that shares its cores with the NFS server, the server's
 * threads are then pushed from CPU to CPU (ganesha on loopback, 4 KiB
 * writes at iodepth 16 from directio nbd: 60-80 migrations per 1,000
 * writes against qemu-nbd's 25, 30 us of ganesha's CPU per write against
 * 25; bench/README.md).  A thread that stays on its CPU for the next
 * reply moves nobody.  It costs our CPU, so it is off in the library by
 * default (spin=0) and on in the servers (directio nbd and mount,
 * nbdkit nfsdirect), which, like qemu's I/O threads, exist for this.
 *
 * The budget adapts, as qemu's poll-max-ns does: a wait that ended
 * within spin= but after the budget doubles it (from 4 us); a wait
 * longer than spin= halves it, so a slow server or an idle client soon
 * costs nothing.  Each spin is bounded by the budget, each budget by
 * spin=; every loop here ends.
 *
 * Threading: a struct dio_spin belongs to one service thread. */
#include "internal.h"

#include "spin.h"
#include "stats.h"

void
dio_spin_init (struct dio_spin *s, uint32_t max_us)
{
  s->max_ns = (uint64_t) max_us * 1000;
  s->budget_ns = 0;
  s->hits = s->misses = 0;
  s->stats = NULL;
}

void
dio_spin_learn (struct dio_spin *s, uint64_t waited_ns)
{
  if (waited_ns <= s->budget_ns)
    return;                     /* the spin was (or would have been) enough */
  if (waited_ns > s->max_ns)
    s->budget_ns /= 2;          /* spinning would not have caught it */
  else if (s->budget_ns == 0)
    s->budget_ns = DIO_MIN (DIO_SPIN_FIRST_NS, s->max_ns);
  else
    s->budget_ns = DIO_MIN (s->budget_ns * 2, s->max_ns);
  if (s->budget_ns < 1000)
    s->budget_ns = 0;           /* less than a poll() or two: not worth it */
}

/* Poll without sleeping until something is ready or the budget is
 * spent.  Returns poll's result: 0 when the budget ran out. */
static int
spin (const struct dio_spin *s, struct pollfd *p, nfds_t n, uint64_t start)
{
  int ready;

  do
    ready = poll (p, n, 0);
  while (ready == 0 && dio_now_ns () - start < s->budget_ns);
  return ready;
}

/* Run before_sleep, if any, ahead of a poll that may sleep, and look
 * at once at what it let happen (a reply sent may bring a request):
 * true if that poll found something (its result in *ready). */
static bool
before_sleeping (struct pollfd *p, nfds_t n, int timeout_ms,
                 void (*before_sleep) (void), int *ready)
{
  if (before_sleep == NULL || timeout_ms == 0)
    return false;
  before_sleep ();
  *ready = poll (p, n, 0);
  return *ready != 0;
}

int
dio_spin_poll (struct dio_spin *s, struct pollfd *p, nfds_t n,
               int timeout_ms, bool busy, void (*before_sleep) (void))
{
  uint64_t start;
  int ready = 0;

  if (!busy || s->max_ns == 0 || timeout_ms == 0) {
    if (before_sleeping (p, n, timeout_ms, before_sleep, &ready))
      return ready;
    return poll (p, n, timeout_ms);
  }
  start = dio_now_ns ();
  if (s->budget_ns > 0) {
    ready = spin (s, p, n, start);
    if (ready != 0) {
      s->hits++;
      if (s->stats)
        dio_count (s->stats->spin_hits, 1);
      dio_spin_learn (s, dio_now_ns () - start);
      return ready;
    }
    s->misses++;
    if (s->stats)
      dio_count (s->stats->spin_misses, 1);
  }
  /* What before_sleep let happen says nothing of the server's pace:
   * not learnt from, or the budget would grow to catch it. */
  if (before_sleeping (p, n, timeout_ms, before_sleep, &ready))
    return ready;
  ready = poll (p, n, timeout_ms);
  dio_spin_learn (s, dio_now_ns () - start);
  return ready;
}
