/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Group commit (see commit.h).
 *
 * Threading: busy, cohort, next, urgent and hold are guarded by the group's
 * lock; writers is atomic (a hint: no decision about data depends on
 * it); writing is atomic, incremented by a writer before it sends and
 * decremented only under the lock, so a hold taken from it under the
 * lock counts writers each of which will still report once.
 * The job and offset/count belong to the COMMIT on the wire: set under
 * the lock by whoever starts it, then read by the thread that sends it
 * (under the connection's context lock), and touched by no one else
 * until it answers. */
#include "internal.h"

#include <assert.h>
#include <string.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>

#include "commit.h"
#include "errors.h"
#include "file.h"
#include "mount.h"
#include "test-hook.h"

/* Tests set this to act at named points (test-hook.h): between the
 * UNSTABLE replies and the COMMIT (restart the server, say), before a
 * guarded SETATTR.  NULL in normal use. */
static void (*test_hook) (const char *point);

void
dio__set_test_hook (void (*fn) (const char *point))
{
  __atomic_store_n (&test_hook, fn, __ATOMIC_RELEASE);
}

void
dio_test_point (const char *point)
{
  void (*hook) (const char *) = __atomic_load_n (&test_hook, __ATOMIC_ACQUIRE);

  if (hook)
    hook (point);
}

static struct dio_commit_group *
group_of (struct dio_job *job)
{
  return (struct dio_commit_group *)
    ((char *) job - offsetof (struct dio_commit_group, job));
}

/* Make the waiting requests the cohort of a new COMMIT covering all
 * their ranges (lock held).  The caller submits g->job after unlocking. */
static void
begin_commit_locked (struct dio_commit_group *g)
{
  uint64_t lo = UINT64_MAX, hi = 0;

  assert (pthread_mutex_trylock (&g->lock) == EBUSY);
  assert (!g->busy && g->cohort == NULL && g->next != NULL);
  assert (g->hold == 0);
  g->cohort = g->next;
  g->next = NULL;
  g->busy = true;
  g->urgent = false;
  for (struct dio_commit_waiter *w = g->cohort; w; w = w->next) {
    lo = DIO_MIN (lo, w->offset);
    hi = DIO_MAX (hi, w->count ? w->offset + w->count : UINT64_MAX);
  }
  g->offset = lo;
  /* A COMMIT's count is 32 bits; 0 means "to the end of the file". */
  g->count = hi - lo > UINT32_MAX ? 0 : hi - lo;
}

/* The COMMIT is answered: tell its cohort, and send the next one if
 * requests joined meanwhile. */
static void
commit_finished (struct dio_commit_group *g, int err, const char *verf)
{
  struct dio_commit_waiter *cohort;
  bool again;

  pthread_mutex_lock (&g->lock);
  assert (g->busy && g->cohort != NULL);
  cohort = g->cohort;
  g->cohort = NULL;
  g->busy = false;
  again = g->next != NULL;
  if (again && !g->urgent)
    g->hold = __atomic_load_n (&g->writing, __ATOMIC_RELAXED);
  again = again && g->hold == 0;
  if (again)
    begin_commit_locked (g);
  pthread_mutex_unlock (&g->lock);

  /* The new cohort holds the inode (and so g) alive from here on; the
   * old one may free it as soon as its last waiter is told. */
  if (again)
    dio_mount_submit (g->ino->mount, &g->job);
  while (cohort) {
    struct dio_commit_waiter *w = cohort;
    cohort = w->next;
    w->done (w, err, verf);
  }
}

static void
commit_cb (struct rpc_context *rpc, int status, void *data, void *priv)
{
  struct dio_commit_group *g = priv;
  COMMIT3res *res = data;
  int err;

  if (dio_conn_job_reclaimed (g->job.conn, &g->job, status, data))
    return;                     /* sent again, delayed, or timed out */
  err = dio_rpc_result_errno (g->ino->mount->stats, status, data);
  commit_finished (g, err, err ? NULL : res->COMMIT3res_u.resok.verf);
}

static int
commit_start (struct dio_job *job, struct dio_conn *conn)
{
  struct dio_commit_group *g = group_of (job);
  COMMIT3args a;

  dio_test_point ("before-commit");
  a = (COMMIT3args) {
    .file = dio_inode_fh3 (g->ino),
    .offset = g->offset,
    .count = g->count,
  };
  job->op = DIO_OP_COMMIT;
  job->durable = true;
  dio_count (g->ino->mount->stats->commit_rpcs, 1);
  return rpc_nfs3_commit_async (dio_conn_rpc (conn), commit_cb, &a, g) == 0
    ? 0 : EIO;
}

static void
commit_fail (struct dio_job *job, int err)
{
  commit_finished (group_of (job), err, NULL);
}

void
dio_commit_group_init (struct dio_commit_group *g, struct dio_inode *ino)
{
  memset (g, 0, sizeof *g);
  pthread_mutex_init (&g->lock, NULL);
  g->ino = ino;
  g->job.start = commit_start;
  g->job.fail = commit_fail;
}

void
dio_commit_group_destroy (struct dio_commit_group *g)
{
  /* The last reference to the inode is gone: every request that joined
   * has been told, and no durable write is in progress. */
  assert (!g->busy && g->cohort == NULL && g->next == NULL);
  assert (__atomic_load_n (&g->writers, __ATOMIC_RELAXED) == 0);
  assert (__atomic_load_n (&g->writing, __ATOMIC_RELAXED) == 0);
  pthread_mutex_destroy (&g->lock);
}

/* Let go of the lock; if send, the waiting requests first become the
 * cohort of a COMMIT, sent after unlocking. */
static void
unlock_and_send (struct dio_commit_group *g, bool send)
{
  if (send)
    begin_commit_locked (g);
  pthread_mutex_unlock (&g->lock);
  if (send)
    dio_mount_submit (g->ino->mount, &g->job);
}

/* A small writer stopped sending WRITEs, joining or not (lock held):
 * one fewer that a held COMMIT waits for. */
static void
writer_event_locked (struct dio_commit_group *g)
{
  __atomic_fetch_sub (&g->writing, 1, __ATOMIC_RELAXED);
  if (g->hold)
    g->hold--;
}

void
dio_commit_join (struct dio_commit_group *g, struct dio_commit_waiter *w)
{
  bool send = false, first;

  dio_count (g->ino->mount->stats->commit_joins, 1);
  pthread_mutex_lock (&g->lock);
  if (w->writer)
    writer_event_locked (g);
  first = g->next == NULL;
  w->next = g->next;
  g->next = w;
  g->urgent |= !w->writer;     /* fsync, or a large write: no waiting */
  if (!g->busy) {
    if (g->urgent)
      g->hold = 0;
    else if (first)
      g->hold = __atomic_load_n (&g->writing, __ATOMIC_RELAXED);
    send = g->hold == 0;
  }
  unlock_and_send (g, send);
}

void
dio_commit_writing_begin (struct dio_commit_group *g)
{
  __atomic_fetch_add (&g->writing, 1, __ATOMIC_RELAXED);
}

void
dio_commit_writing_end (struct dio_commit_group *g)
{
  pthread_mutex_lock (&g->lock);
  writer_event_locked (g);
  unlock_and_send (g, !g->busy && g->next != NULL && g->hold == 0);
}

uint64_t
dio_commit_writer_begin (struct dio_commit_group *g)
{
  return __atomic_fetch_add (&g->writers, 1, __ATOMIC_RELAXED);
}

void
dio_commit_writer_end (struct dio_commit_group *g)
{
  __atomic_fetch_sub (&g->writers, 1, __ATOMIC_RELAXED);
}
