/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Adaptive polling (libdirectio/spin.c): the budget's rule, and that
 * a spin finds what is ready, gives up when its budget is spent, and
 * never runs when nothing is due or spin=0; and that what a pass kept
 * back is let go before the thread sleeps, not before. */
#include <config.h>

#include <check.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>

#include "check_suites.h"
#include "spin.h"
#include "stats.h"

#define US 1000u

START_TEST (test_learn_grows_from_short_waits)
{
  struct dio_spin s;

  dio_spin_init (&s, 50);
  ck_assert_uint_eq (s.max_ns, 50 * US);
  ck_assert_uint_eq (s.budget_ns, 0);
  dio_spin_learn (&s, 10 * US);         /* within spin=: start spinning */
  ck_assert_uint_eq (s.budget_ns, DIO_SPIN_FIRST_NS);
  dio_spin_learn (&s, 10 * US);
  ck_assert_uint_eq (s.budget_ns, 8 * US);
  dio_spin_learn (&s, 5 * US);          /* the budget covered it: kept */
  ck_assert_uint_eq (s.budget_ns, 8 * US);
  for (int i = 0; i < 10; i++)
    dio_spin_learn (&s, 49 * US);
  ck_assert_uint_eq (s.budget_ns, 50 * US);     /* never past spin= */
}
END_TEST

START_TEST (test_learn_shrinks_on_long_waits)
{
  struct dio_spin s;

  dio_spin_init (&s, 50);
  s.budget_ns = 40 * US;
  dio_spin_learn (&s, 51 * US);         /* longer than spin=: halve */
  ck_assert_uint_eq (s.budget_ns, 20 * US);
  for (int i = 0; i < 5; i++)
    dio_spin_learn (&s, 1000 * US);
  ck_assert_uint_eq (s.budget_ns, 0);   /* an idle or slow server: off */
}
END_TEST

START_TEST (test_learn_bounds)
{
  struct dio_spin s;

  dio_spin_init (&s, 0);                /* spin=0: never */
  dio_spin_learn (&s, 1);
  dio_spin_learn (&s, 0);
  ck_assert_uint_eq (s.budget_ns, 0);
  dio_spin_init (&s, 2);                /* below the first step */
  dio_spin_learn (&s, 1 * US);
  ck_assert_uint_eq (s.budget_ns, 2 * US);
}
END_TEST

/* A spin of spin=50 with a 20 us budget, over a pipe with a byte in it
 * or without. */
struct pipe_spin {
  struct dio_spin s;
  int fds[2];
  struct pollfd p;
};

static void
pipe_spin_open (struct pipe_spin *t, bool ready)
{
  ck_assert_int_eq (pipe (t->fds), 0);
  if (ready)
    ck_assert_int_eq (write (t->fds[1], "x", 1), 1);
  t->p = (struct pollfd) { .fd = t->fds[0], .events = POLLIN };
  dio_spin_init (&t->s, 50);
  t->s.budget_ns = 20 * US;
}

static void
pipe_spin_close (struct pipe_spin *t)
{
  close (t->fds[0]);
  close (t->fds[1]);
}

START_TEST (test_poll_spins_and_finds)
{
  struct pipe_spin t;

  pipe_spin_open (&t, true);
  ck_assert_int_eq (dio_spin_poll (&t.s, &t.p, 1, 1000, true, NULL), 1);
  ck_assert (t.p.revents & POLLIN);
  ck_assert_uint_eq (t.s.hits, 1);
  ck_assert_uint_eq (t.s.misses, 0);
  pipe_spin_close (&t);
}
END_TEST

START_TEST (test_poll_gives_up_then_sleeps)
{
  struct pipe_spin t;
  uint64_t start;

  pipe_spin_open (&t, false);
  start = dio_now_ns ();
  ck_assert_int_eq (dio_spin_poll (&t.s, &t.p, 1, 5, true, NULL), 0);
  ck_assert_uint_ge (dio_now_ns () - start, 5000 * US);  /* slept too */
  ck_assert_uint_eq (t.s.misses, 1);
  ck_assert_uint_eq (t.s.budget_ns, 10 * US);   /* 5 ms > spin=: halved */
  pipe_spin_close (&t);
}
END_TEST

START_TEST (test_poll_no_spin_when_idle)
{
  struct pipe_spin t;

  pipe_spin_open (&t, true);
  /* Nothing due, or a poll that must not wait: a plain poll. */
  ck_assert_int_eq (dio_spin_poll (&t.s, &t.p, 1, 1000, false, NULL), 1);
  ck_assert_int_eq (dio_spin_poll (&t.s, &t.p, 1, 0, true, NULL), 1);
  ck_assert_uint_eq (t.s.hits + t.s.misses, 0);
  ck_assert_uint_eq (t.s.budget_ns, 20 * US);
  pipe_spin_close (&t);
}
END_TEST

/* before_sleep: counts its calls and makes the pipe readable, as a
 * pass hook's send may let a reply in. */
static struct pipe_spin *sleeper;
static int before_sleep_calls;

static void
before_sleep (void)
{
  before_sleep_calls++;
  ck_assert_int_eq (write (sleeper->fds[1], "x", 1), 1);
}

START_TEST (test_before_sleep_runs_before_sleeping)
{
  struct pipe_spin t;
  uint64_t start;

  pipe_spin_open (&t, false);
  sleeper = &t;
  before_sleep_calls = 0;
  start = dio_now_ns ();
  /* The spin finds nothing: before_sleep runs once, and what it made
   * ready ends the wait without the 5 s sleep. */
  ck_assert_int_eq (dio_spin_poll (&t.s, &t.p, 1, 5000, true, before_sleep),
                    1);
  ck_assert_int_eq (before_sleep_calls, 1);
  ck_assert_uint_lt (dio_now_ns () - start, 1000 * 1000 * US);
  ck_assert_uint_eq (t.s.misses, 1);
  pipe_spin_close (&t);
}
END_TEST

START_TEST (test_before_sleep_not_on_a_hit)
{
  struct pipe_spin t;

  pipe_spin_open (&t, true);
  sleeper = &t;
  before_sleep_calls = 0;
  ck_assert_int_eq (dio_spin_poll (&t.s, &t.p, 1, 1000, true, before_sleep),
                    1);
  ck_assert_uint_eq (t.s.hits, 1);
  /* A poll that cannot sleep does not run it either. */
  ck_assert_int_eq (dio_spin_poll (&t.s, &t.p, 1, 0, true, before_sleep), 1);
  ck_assert_int_eq (before_sleep_calls, 0);
  pipe_spin_close (&t);
}
END_TEST

START_TEST (test_before_sleep_without_spin)
{
  struct pipe_spin t;

  pipe_spin_open (&t, false);
  sleeper = &t;
  before_sleep_calls = 0;
  /* Nothing due (no spin): before_sleep still runs before the sleep. */
  ck_assert_int_eq (dio_spin_poll (&t.s, &t.p, 1, 5000, false, before_sleep),
                    1);
  ck_assert_int_eq (before_sleep_calls, 1);
  pipe_spin_close (&t);
}
END_TEST

Suite *
suite_spin (void)
{
  Suite *s = suite_create ("spin");
  TCase *tc = tcase_create ("spin");

  tcase_add_test (tc, test_learn_grows_from_short_waits);
  tcase_add_test (tc, test_learn_shrinks_on_long_waits);
  tcase_add_test (tc, test_learn_bounds);
  tcase_add_test (tc, test_poll_spins_and_finds);
  tcase_add_test (tc, test_poll_gives_up_then_sleeps);
  tcase_add_test (tc, test_poll_no_spin_when_idle);
  tcase_add_test (tc, test_before_sleep_runs_before_sleeping);
  tcase_add_test (tc, test_before_sleep_not_on_a_hit);
  tcase_add_test (tc, test_before_sleep_without_spin);
  suite_add_tcase (s, tc);
  return s;
}
