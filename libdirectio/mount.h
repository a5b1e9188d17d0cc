/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A mount: one export of one server, with a pool of nconnect connections.
 * Opens of files on the same export with the same options share one. */
#ifndef DIO_MOUNT_H
#define DIO_MOUNT_H

#include "internal.h"
#include "options.h"
#include "stats.h"

struct dio_conn;
struct dio_statsfile_slot;
struct dio_job;
struct dio_url;

struct dio_mount {
  /* Immutable after creation. */
  char *server, *export, *nfs_args;
  struct dio_options opts;
  uint32_t rsize, wsize;        /* effective transfer sizes */
  uint32_t nconn;
  uint32_t spin_us;             /* effective spin= (spin.c) */
  struct dio_conn *conns[DIO_MAX_NCONNECT];

  /* The counters (atomics): in the mount's slot of the process's stats
   * file (statsfile.c), or in own_stats when it has none.  Set before
   * the first connection starts; the pointer is then immutable. */
  struct dio_mount_stats *stats;
  struct dio_mount_stats own_stats;
  struct dio_statsfile_slot *slot;
  uint32_t next_conn;           /* atomic round-robin cursor */
  uint32_t active[2];           /* atomic: direct reads [0] and writes [1]
                                   in progress (dreq.c: lone requests) */

  /* Guarded by the registry lock. */
  struct dio_mount *next;
  unsigned refs;
  uint64_t idle_until_ms;       /* refs == 0: when the linger ends */

  /* Guarded by inode_lock: the inodes open on this mount. */
  pthread_mutex_t inode_lock;
  struct dio_inode *inodes;

  /* Guarded by buffered.c's cache_lock: the mount's page cache, made
   * when its first inode attaches and freed when its last detaches
   * (buffered.c), and how many inodes are attached. */
  struct dio_cache *cache;
  unsigned cache_refs;
};

/* Find or create the mount serving u->path with opts; *rel is set to the
 * path inside the export (starting with '/', within u->path's storage).
 * Takes a reference.  -1 with dio_error on failure. */
int dio_mount_get (const struct dio_url *u, const struct dio_options *opts,
                   struct dio_mount **out, const char **rel);

/* Drop a reference.  After the last one the mount lingers for a while,
 * connected, for the next open or namespace call of its export; then the
 * linger thread stops its connections.  Accepts NULL. */
void dio_mount_put (struct dio_mount *m);

/* How long a soft mount's call may take before it fails with ETIMEDOUT
 * (timeo x retrans), in ms; 0 on a hard mount. */
uint64_t dio_mount_soft_ms (const struct dio_mount *m);

/* Why a call failed, when err is a soft mount's ETIMEDOUT: "the soft
 * timeout (timeo=T, retrans=R: S s) ran out waiting for server H" into
 * buf, true whether the server was silent or, as jukebox says it was,
 * kept answering NFS3ERR_JUKEBOX (then said too).  False, buf untouched,
 * for any other err. */
bool dio_mount_timeout_reason (const struct dio_mount *m, int err,
                               bool jukebox, char *buf, size_t n);

/* The mount's counters in the process's stats file (statsfile.c):
 * attach claims a slot for a new mount (or points stats at own_stats),
 * publish shows it to readers once it is made, detach frees the slot
 * after its connections stopped. */
void dio_statsfile_attach (struct dio_mount *m);
void dio_statsfile_publish (struct dio_mount *m);
void dio_statsfile_detach (struct dio_mount *m);

/* Hand a job to the next connection of the pool. */
void dio_mount_submit (struct dio_mount *m, struct dio_job *job);

/* The same for a small request's only RPC, which stays on the calling
 * thread's connection if that is a service thread of m: its reply then
 * wakes no other thread, and the thread that started it (a completion
 * starting the next request, or a watch reading an NBD or FUSE client's
 * requests) completes it.  Only for requests small enough that parallel
 * connections do not matter to them. */
#define DIO_MOUNT_NEAR_MAX (64 * 1024)
void dio_mount_submit_near (struct dio_mount *m, struct dio_job *job);

#endif /* DIO_MOUNT_H */
