/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Many threads on one fd: random 4 KiB–1 MiB preads and pwrites at
 * unaligned offsets, checked against a model kept by the test; and
 * concurrent durable writes sharing COMMITs. */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "directio.h"
#include "engine_helpers.h"
#include "check_engine.h"

#define NTHREADS 8
/* Each thread's region and largest request; smaller under FSAL MEM, whose
 * files hold TEST_MEM_FILE_MAX bytes (test_threads_model sets them). */
static size_t REGION = 8u * 1024 * 1024;
static size_t MAXIO = 1024u * 1024;

struct worker {
  int fd, id;
  double until;
  char *model;                  /* this thread's region of the file */
  unsigned seed;
  unsigned ops;
  char msg[200];
};

static size_t
rand_len (unsigned *seed)
{
  return 4096 + rand_r (seed) % (MAXIO - 4096 + 1);
}

/* Each thread writes only its own region, so its model is exact; the
 * regions share the fd, the mount and the connections. */
static void *
worker (void *arg)
{
  struct worker *w = arg;
  char *buf = malloc (MAXIO);
  uint64_t base = (uint64_t) w->id * REGION;

  while (test_now () < w->until && w->msg[0] == '\0') {
    size_t len = rand_len (&w->seed);
    size_t off = rand_r (&w->seed) % (REGION - len);
    ssize_t r;

    if (rand_r (&w->seed) % 2) {
      for (size_t i = 0; i < len; i++)
        buf[i] = rand_r (&w->seed);
      r = dio_pwrite (w->fd, buf, len, base + off);
      if (r == (ssize_t) len)
        memcpy (w->model + off, buf, len);
    }
    else {
      r = dio_pread (w->fd, buf, len, base + off);
      if (r == (ssize_t) len && memcmp (buf, w->model + off, len) != 0)
        snprintf (w->msg, sizeof w->msg, "thread %d: read at %zu+%zu differs",
                  w->id, off, len);
    }
    if (r != (ssize_t) len && w->msg[0] == '\0')
      snprintf (w->msg, sizeof w->msg, "thread %d: %zd of %zu: %s", w->id, r,
                len, dio_last_error ());
    w->ops++;
  }
  free (buf);
  return NULL;
}

START_TEST (test_threads_model)
{
  const char *e = getenv ("DIO_STRESS_SECONDS");
  double seconds = e ? atof (e) : 30;
  struct worker w[NTHREADS];
  pthread_t t[NTHREADS];
  char *model, *buf;
  int fd;

  if (test_on_mem ()) {
    REGION = TEST_MEM_FILE_MAX / NTHREADS;
    MAXIO = REGION / 4;
  }
  model = calloc (NTHREADS, REGION);
  buf = malloc (REGION);
  fd = dio_open (test_url ("threads", "&nconnect=4"),
                     O_RDWR | O_CREAT | O_TRUNC, 0644);

  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  ck_assert_int_eq (dio_ftruncate (fd, (off_t) NTHREADS * REGION), 0);
  for (int i = 0; i < NTHREADS; i++) {
    w[i] = (struct worker) { .fd = fd, .id = i, .until = test_now () + seconds,
                             .model = model + (size_t) i * REGION,
                             .seed = 1000 + i };
    ck_assert_int_eq (pthread_create (&t[i], NULL, worker, &w[i]), 0);
  }
  for (int i = 0; i < NTHREADS; i++)
    pthread_join (t[i], NULL);
  for (int i = 0; i < NTHREADS; i++) {
    ck_assert_msg (w[i].msg[0] == '\0', "%s", w[i].msg);
    ck_assert_uint_gt (w[i].ops, 0);
  }
  for (int i = 0; i < NTHREADS; i++) {
    ck_assert_int_eq (dio_pread (fd, buf, REGION, (off_t) i * REGION), REGION);
    ck_assert_msg (memcmp (buf, model + (size_t) i * REGION, REGION) == 0,
                   "region %d differs at the end", i);
  }
  dio_close (fd);
  /* And the server's own copy (under FSAL MEM there is no directory:
   * the reads above were its copy). */
  if (!test_on_mem ()) {
    fd = open (test_local ("threads"), O_RDONLY);
    ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
    for (int i = 0; i < NTHREADS; i++) {
      ck_assert_int_eq (pread (fd, buf, REGION, (off_t) i * REGION), REGION);
      ck_assert (memcmp (buf, model + (size_t) i * REGION, REGION) == 0);
    }
    close (fd);
  }
  free (model);
  free (buf);
}
END_TEST

/* Concurrent durable writes share COMMITs (libdirectio/commit.h): 8
 * threads write 64 KiB blocks at once; more requests are made durable
 * by COMMITs than COMMITs are sent, nothing is resent, and the server
 * holds every byte. */
#define GC_THREADS 8
#define GC_WRITES 32
#define GC_BLOCK (64u * 1024)

START_TEST (test_group_commit)
{
  struct dio_stats st;
  unsigned writes = test_on_mem ()
    ? TEST_MEM_FILE_MAX / GC_THREADS / GC_BLOCK : GC_WRITES;
  int fd = dio_open (test_url ("group", NULL), O_RDWR | O_CREAT | O_TRUNC,
                     0644);

  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  test_interleaved_writes (fd, GC_THREADS, writes, GC_BLOCK, 21);
  ck_assert_int_eq (dio_stats (fd, &st), 0);
  ck_assert_uint_eq (st.write_rpcs, GC_THREADS * writes);
  ck_assert_uint_eq (st.resends, 0);
  ck_assert_uint_gt (st.commit_rpcs, 0);
  ck_assert_msg (st.commit_joins > st.commit_rpcs,
                 "%ju requests joined %ju COMMITs: none shared",
                 (uintmax_t) st.commit_joins, (uintmax_t) st.commit_rpcs);
  dio_close (fd);
  ck_assert (test_local_matches ("group", (uint64_t) GC_THREADS * writes
                                 * GC_BLOCK, 21));
}
END_TEST

Suite *
suite_engine_threads (void)
{
  Suite *s = suite_create ("engine_threads");
  TCase *tc = tcase_create ("threads");

  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_threads_model);
  tcase_add_test (tc, test_group_commit);
  suite_add_tcase (s, tc);
  return s;
}
