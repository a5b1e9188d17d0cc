/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Many threads on one fd: random 4 KiB–1 MiB preads and pwrites at
 * unaligned offsets, checked against a model kept by the test; and
 * concurrent durable writes sharing COMMITs. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "directio.h"
#include "engine_helpers.h"
#include "fsops.h"
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

/* dio__fs_watch: a watched descriptor's callback runs on the engine's
 * connection thread, may start asynchronous reads from there (they
 * complete), and runs no more once the watch is stopped or it said
 * stop. */
struct watch_test {
  int rfd;
  struct dio_inode *ino;
  bool keep;                    /* what the callback returns */
  pthread_mutex_t lock;
  pthread_cond_t cond;
  /* Guarded by lock. */
  unsigned calls, reads;
  char thread[16];
  ssize_t got;
  int start_err;
  char buf[4096];
};

static void
watch_read_done (void *opaque, ssize_t result, int err)
{
  struct watch_test *w = opaque;

  pthread_mutex_lock (&w->lock);
  w->got = result < 0 ? -err : result;
  w->reads++;
  pthread_cond_broadcast (&w->cond);
  pthread_mutex_unlock (&w->lock);
}

static bool
watch_cb (void *arg)
{
  struct watch_test *w = arg;
  char c;
  int err;

  while (read (w->rfd, &c, 1) == 1)
    ;
  pthread_mutex_lock (&w->lock);
  w->calls++;
  pthread_getname_np (pthread_self (), w->thread, sizeof w->thread);
  pthread_mutex_unlock (&w->lock);
  err = dio__fs_pread_async (w->ino, w->buf, sizeof w->buf, 0,
                             watch_read_done, w);
  if (err) {
    pthread_mutex_lock (&w->lock);
    w->start_err = err;
    w->reads++;
    pthread_cond_broadcast (&w->cond);
    pthread_mutex_unlock (&w->lock);
  }
  return w->keep;
}

/* Make the descriptor readable and wait (10 s at most) for the read
 * the callback starts to complete. */
static void
watch_poke_and_wait (struct watch_test *w, int wfd, unsigned reads)
{
  struct timespec until;

  ck_assert_int_eq (write (wfd, "x", 1), 1);
  clock_gettime (CLOCK_REALTIME, &until);
  until.tv_sec += 10;
  pthread_mutex_lock (&w->lock);
  while (w->reads < reads
         && pthread_cond_timedwait (&w->cond, &w->lock, &until) == 0)
    ;
  ck_assert_msg (w->reads == reads, "%u reads done, wanted %u",
                 w->reads, reads);
  ck_assert_int_eq (w->start_err, 0);
  ck_assert_int_eq (w->got, (ssize_t) sizeof w->buf);
  ck_assert_str_eq (w->thread, "dio-conn");
  pthread_mutex_unlock (&w->lock);
  ck_assert (test_check (w->buf, sizeof w->buf, 0, 31));
}

/* Readable again, then two synchronous calls: each reply is taken in
 * by the connection thread after a poll that saw the descriptor
 * readable, and the second only after the first's round has ended, so
 * a live watch would have been called by then. */
static void
watch_poke_unheard (struct watch_test *w, struct dio__fs *fs, int wfd,
                    const struct dio__fh *fh, unsigned calls)
{
  struct stat st;

  ck_assert_int_eq (write (wfd, "x", 1), 1);
  ck_assert_int_eq (dio__fs_getattr (fs, fh, &st), 0);
  ck_assert_int_eq (dio__fs_getattr (fs, fh, &st), 0);
  pthread_mutex_lock (&w->lock);
  ck_assert_uint_eq (w->calls, calls);
  pthread_mutex_unlock (&w->lock);
}

START_TEST (test_fs_watch)
{
  struct watch_test w = { .keep = true };
  struct dio__fs *fs;
  struct dio__fh fh;
  struct stat st;
  char data[4096];
  int p[2];

  pthread_mutex_init (&w.lock, NULL);
  pthread_cond_init (&w.cond, NULL);
  test_mkdir ("watch");
  ck_assert_msg (dio__fs_new (test_url ("watch", NULL), NULL, &fs) == 0,
                 "dio__fs_new: %s", dio_last_error ());
  ck_assert_int_eq (dio__fs_create (fs, dio__fs_root (fs), "f", NULL, false,
                                    &fh, &st), 0);
  ck_assert_int_eq (dio__fs_open (fs, &fh, &w.ino), 0);
  test_fill (data, sizeof data, 0, 31);
  ck_assert_int_eq (dio__fs_pwrite (w.ino, data, sizeof data, 0),
                    (ssize_t) sizeof data);
  ck_assert_int_eq (pipe2 (p, O_NONBLOCK | O_CLOEXEC), 0);
  w.rfd = p[0];

  dio__fs_watch (fs, p[0], watch_cb, &w);
  watch_poke_and_wait (&w, p[1], 1);
  watch_poke_and_wait (&w, p[1], 2);
  dio__fs_watch (fs, -1, NULL, NULL);
  watch_poke_unheard (&w, fs, p[1], &fh, 2);

  while (read (p[0], data, sizeof data) > 0)
    ;
  w.keep = false;
  dio__fs_watch (fs, p[0], watch_cb, &w);
  watch_poke_and_wait (&w, p[1], 3);
  watch_poke_unheard (&w, fs, p[1], &fh, 3);

  close (p[0]);
  close (p[1]);
  dio__fs_close (w.ino);
  dio__fs_free (fs);
  pthread_cond_destroy (&w.cond);
  pthread_mutex_destroy (&w.lock);
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
  tcase_add_test (tc, test_fs_watch);
  suite_add_tcase (s, tc);
  return s;
}
