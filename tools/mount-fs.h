/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio mount: the FUSE daemon's parts.
 *
 *   cmd-mount.c    the command line, the checks, daemonising
 *   cmd-umount.c   directio umount
 *   mount-ops.c    the FUSE low-level operations over fsops.h
 *   mount-loop.c   the session's workers, on huge-page buffers
 *   mount-bufs.c   the buffers reads and the workers use
 *   mount-nodes.c  FUSE node ids <-> NFS file handles, with the kernel's
 *                  lookup counts
 *
 * Threading: libfuse's worker threads call the operations at once; the
 * node table has its own lock; struct mount_state is immutable once the
 * session starts, but for its count of asynchronous requests in flight
 * (io_lock), whose replies engine threads send. */
#ifndef DIRECTIO_TOOL_MOUNT_FS_H
#define DIRECTIO_TOOL_MOUNT_FS_H

/* The 3.12 API, as configure requires (the loop is our own,
 * mount-loop.c, on fuse_session_receive_buf/process_buf). */
#define FUSE_USE_VERSION 312

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common.h"
#include "fsops.h"

struct mount_state {
  struct dio__fs *fs;
  bool forcedirectio;           /* every open FOPEN_DIRECT_IO */
  bool set_owner;               /* root daemon: new objects get the
                                   caller's uid and gid */
  double attr_timeout, entry_timeout;  /* actimeo etc.; 0 under noac */
  bool nocto;                   /* keep cached pages across opens */
  struct mount_bufs *bufs;      /* large reads' and the workers'
                                   buffers (mount-bufs.c) */
  pthread_mutex_t io_lock;
  pthread_cond_t io_drained;
  unsigned io_inflight;         /* replies still to come from the engine */
};

/* The operations, for fuse_session_new. */
extern const struct fuse_lowlevel_ops mount_ops;

/* Wait until no asynchronous request awaits its reply, at most seconds
 * (less if give_up, when not NULL, says so: common.h): the session and
 * the buffers may be freed only then (an engine thread replies through
 * them).  True when none is left. */
bool mount_io_drain (struct mount_state *st, unsigned seconds,
                     stop_ask_fn *give_up, void *arg);

/* Log a message (syslog, or the -o log=FILE / stderr). */
void mount_log (int priority, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

/* ---- nodes (mount-nodes.c) ------------------------------------------- */

/* Start with the root (FUSE_ROOT_ID).  0 or -1 (ENOMEM). */
int nodes_init (const struct dio__fh *root);

/* The handle of node id: 0, or ESTALE if the kernel forgot it. */
int node_fh (fuse_ino_t id, struct dio__fh *fh);

/* The node of fh (a new one if unknown), its lookup count raised by
 * one, as the kernel's is by a reply that carries it.  0 if out of
 * memory. */
fuse_ino_t node_remember (const struct dio__fh *fh);

/* The kernel dropped n lookups of id. */
void node_forget (fuse_ino_t id, uint64_t n);

/* Close-to-open: true if st (fresh attributes at an open) shows the
 * same version of the file as at its last open, so the kernel may keep
 * its cached pages; remembers st's version either way. */
bool node_same_version (fuse_ino_t id, const struct stat *st);

/* ---- the loop (mount-loop.c) ---------------------------------------- */

/* How the loop ends: ended(arg), if set, once the session has ended;
 * then the workers are waited for, up to wait_s seconds for one that
 * waits for the NFS server, less if give_up (when set) says so. */
struct mount_loop_end {
  unsigned wait_s;
  void (*ended) (void *arg);
  stop_ask_fn *give_up;
  void *arg;
};

/* Serve se until the session ends (an unmount, or fuse_session_exit
 * from a signal handler): fs's engine thread reads the requests and
 * serves reads, up to max_threads workers the rest.  0, a receive's
 * -errno, or -EBUSY when a worker was still waiting for the NFS server
 * at the end of end's wait (then nothing is freed: exit). */
int mount_loop (struct fuse_session *se, struct dio__fs *fs,
                struct mount_bufs *bufs, unsigned max_threads,
                const struct mount_loop_end *end);

/* In an operation, on a worker: the buffer the request was received
 * into, now the caller's (to give back with mount_buf_put), the worker
 * taking a fresh one for its next request (give it back with
 * mount_buf_unlend); NULL if this is no worker, the request was small
 * (copied for the worker), 64 are lent already or
 * out of memory (the request's data is then valid only until the
 * operation returns, as usual). */
void *mount_loop_take_buf (void);

/* ---- buffers (mount-bufs.c) --------------------------------------- */

/* A buffer's size: a read's largest reply (1 MiB) on one 2 MiB huge
 * page, 2 MiB-aligned. */
#define MOUNT_BUF_SIZE (2 * 1024 * 1024)

/* A pool of kept buffers.  NULL if out of memory; free takes NULL. */
struct mount_bufs *mount_bufs_new (void);
void mount_bufs_free (struct mount_bufs *p);

/* A buffer of MOUNT_BUF_SIZE bytes (NULL if out of memory), and back. */
void *mount_buf_get (struct mount_bufs *p);
void mount_buf_put (struct mount_bufs *p, void *b);

/* The same for a request in flight, counted: NULL also when 64 are out
 * already.  Give each back with mount_buf_unlend. */
void *mount_buf_lend (struct mount_bufs *p);
void mount_buf_unlend (struct mount_bufs *p, void *b);

#endif /* DIRECTIO_TOOL_MOUNT_FS_H */
