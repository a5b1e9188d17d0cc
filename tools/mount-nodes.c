/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio mount: FUSE node ids <-> NFS file handles.
 *
 * FUSE names files by 64-bit node ids the daemon hands out in lookup
 * replies; the kernel counts the replies that carried each id and gives
 * them back in forget.  One node per file handle, so that a file reached
 * by two names (hard links, a lookup and a readdirplus) is one kernel
 * inode with one page cache.  A node goes when its count reaches zero;
 * the root (FUSE_ROOT_ID) never does.
 *
 * Threading: every field of every node and both hash chains are guarded
 * by lock. */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mount-fs.h"

#define NBUCKETS 4096

struct node {
  fuse_ino_t id;
  struct dio__fh fh;
  uint64_t nlookup;
  bool have_version;
  struct timespec mtime, ctime;
  off_t size;
  struct node *next_id, *next_fh;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct node *by_id[NBUCKETS], *by_fh[NBUCKETS];
static fuse_ino_t next_id = FUSE_ROOT_ID + 1;

static size_t
fh_hash (const struct dio__fh *fh)
{
  uint64_t h = 1469598103934665603ull;   /* FNV-1a */

  for (uint32_t i = 0; i < fh->len; i++)
    h = (h ^ fh->data[i]) * 1099511628211ull;
  return h % NBUCKETS;
}

static bool
fh_equal (const struct dio__fh *a, const struct dio__fh *b)
{
  return a->len == b->len && memcmp (a->data, b->data, a->len) == 0;
}

/* lock held */
static struct node *
find_id (fuse_ino_t id)
{
  struct node *n;

  for (n = by_id[id % NBUCKETS]; n && n->id != id; n = n->next_id)
    ;
  return n;
}

/* lock held */
static struct node *
add (const struct dio__fh *fh, fuse_ino_t id)
{
  struct node *n = calloc (1, sizeof *n);

  if (n == NULL)
    return NULL;
  n->id = id;
  n->fh = *fh;
  n->next_id = by_id[id % NBUCKETS];
  by_id[id % NBUCKETS] = n;
  n->next_fh = by_fh[fh_hash (fh)];
  by_fh[fh_hash (fh)] = n;
  return n;
}

int
nodes_init (const struct dio__fh *root)
{
  struct node *n;

  pthread_mutex_lock (&lock);
  n = add (root, FUSE_ROOT_ID);
  pthread_mutex_unlock (&lock);
  return n ? 0 : -1;
}

int
node_fh (fuse_ino_t id, struct dio__fh *fh)
{
  struct node *n;

  pthread_mutex_lock (&lock);
  n = find_id (id);
  if (n)
    *fh = n->fh;
  pthread_mutex_unlock (&lock);
  return n ? 0 : ESTALE;
}

fuse_ino_t
node_remember (const struct dio__fh *fh)
{
  struct node *n;
  fuse_ino_t id = 0;

  pthread_mutex_lock (&lock);
  for (n = by_fh[fh_hash (fh)]; n && !fh_equal (&n->fh, fh); n = n->next_fh)
    ;
  if (n == NULL)
    n = add (fh, next_id++);
  if (n) {
    if (n->id != FUSE_ROOT_ID)
      n->nlookup++;
    id = n->id;
  }
  pthread_mutex_unlock (&lock);
  return id;
}

void
node_forget (fuse_ino_t id, uint64_t count)
{
  struct node *n, **pp;

  if (id == FUSE_ROOT_ID)
    return;
  pthread_mutex_lock (&lock);
  n = find_id (id);
  if (n == NULL)
    goto out;
  n->nlookup -= count < n->nlookup ? count : n->nlookup;
  if (n->nlookup > 0)
    goto out;
  for (pp = &by_id[id % NBUCKETS]; *pp != n; pp = &(*pp)->next_id)
    ;
  *pp = n->next_id;
  for (pp = &by_fh[fh_hash (&n->fh)]; *pp != n; pp = &(*pp)->next_fh)
    ;
  *pp = n->next_fh;
  free (n);
 out:
  pthread_mutex_unlock (&lock);
}

static bool
ts_equal (const struct timespec *a, const struct timespec *b)
{
  return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

bool
node_same_version (fuse_ino_t id, const struct stat *st)
{
  struct node *n;
  bool same = false;

  pthread_mutex_lock (&lock);
  n = find_id (id);
  if (n) {
    same = n->have_version && n->size == st->st_size
      && ts_equal (&n->mtime, &st->st_mtim)
      && ts_equal (&n->ctime, &st->st_ctim);
    n->have_version = true;
    n->size = st->st_size;
    n->mtime = st->st_mtim;
    n->ctime = st->st_ctim;
  }
  pthread_mutex_unlock (&lock);
  return same;
}
