/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One connection: a libnfs context mounted on the export, owned and driven
 * by its own service thread.  Other threads hand it jobs: one that finds
 * the service thread asleep, the connection up and the window open starts
 * its job and sends the RPC itself, under the context lock; otherwise the
 * job goes through a queue and a wake-up eventfd, and the service thread
 * starts it within the window.  Replies and completion callbacks run on
 * the service thread. */
#ifndef DIO_CONN_H
#define DIO_CONN_H

#include "internal.h"

struct nfs_context;
struct rpc_context;
struct dio_conn;
struct dio_mount_stats;

/* A unit of work for a service thread.  start() runs under the
 * connection's context lock, on the service thread or on the submitting
 * thread (see dio_conn_submit), and issues one asynchronous libnfs call
 * whose callback (on the service thread; on the submitting thread only
 * for an RPC that a broken socket cancels, which the connection then
 * queues again) must first call dio_conn_job_reclaimed() and, if that
 * returns true (the connection took the job back), do nothing more.
 * If start() returns an errno instead of 0, nothing was issued and the
 * connection calls fail() with it, on the service thread.  A job may be
 * started again (after a reconnect): start() must not assume it runs
 * once.
 *
 * The kinds of job, each the first member of its own struct:
 * - a chunk of a direct request (dreq.c: chunk_start, chunk_fail): one
 *   READ or WRITE of at most rsize/wsize bytes;
 * - a COMMIT of a file's commit group (commit.c: commit_start,
 *   commit_fail);
 * - a metadata call (call.c: call_start, call_fail), whose start() runs
 *   the issuer its caller gave dio_call_run (file.c, namespace.c,
 *   fsops.c, fsops-mount.c). */
struct dio_job {
  struct dio_job *next;         /* queue link (lock) */
  struct dio_job *iprev, *inext; /* in flight (service thread) */
  struct dio_conn *conn;        /* set before start(); NULL until the
                                   first; the one owner of the job's
                                   connection (callbacks read it) */
  int (*start) (struct dio_job *job, struct dio_conn *conn);
  void (*fail) (struct dio_job *job, int err);
  uint32_t bytes;               /* payload, for the window */
  uint64_t deadline_ms;         /* soft mounts: fail after this */
  bool expired;
  unsigned error_retries;       /* RPC_STATUS_ERROR seen (conn.c) */
  unsigned delays;              /* NFS3ERR_JUKEBOX seen (conn.c) */
  unsigned replays;             /* sent on a connection that died before
                                   its reply: the server may have run it */
  uint64_t due_ms;              /* delayed: start again at this time */
  unsigned op;                  /* enum dio_op, for the per-RPC counters
                                   (start() may set it; 0: other) */
  bool durable;                 /* a WRITE of a durable write request
                                   (not DIO_WRITE_UNSTABLE), a COMMIT:
                                   start() sets it; conn.c, set_cork */
  uint64_t queued_ns, sent_ns;  /* submitted, last started (conn.c) */
};

/* How to reach and mount the export. */
struct dio_conn_params {
  const char *url;              /* nfs://server/export?libnfs-args */
  const char *server;
  const char *export;
  unsigned mount_port, nfs_port; /* 0: found through the portmapper */
  int timeout_ms;               /* soft RPC timeout, 0 = hard */
  int timeo_ms;                 /* an RPC without its reply this long is
                                   lost: the connection is replaced and
                                   the RPC sent again; 0 = never */
  int mount_retry_ms;           /* the first mount keeps trying an
                                   unreachable server this long; 0 =
                                   once, -1 = for ever */
  uint32_t window_bytes;        /* payload in flight before jobs queue */
  uint32_t window_max;          /* RPCs in flight, whatever their size */
  uint32_t spin_us;             /* adaptive polling before sleep (spin.c);
                                   0: never */
  struct dio_mount_stats *stats;
};

/* Start a connection: its thread mounts the export and then serves.
 * While the server cannot be reached the mount is tried again, as long
 * as mount_retry_ms says (see first_mount in conn.c).  Returns NULL with
 * dio_error set (naming the server and the reason). */
struct dio_conn *dio_conn_start (const struct dio_conn_params *p);

/* Stop the thread and destroy the context.  No job may be queued or in
 * flight.  Accepts NULL. */
void dio_conn_stop (struct dio_conn *c);

/* Queue a job (any thread, including service threads).  A thread other
 * than c's service thread that finds c's context lock free, c up, no job
 * queued and room in the window starts the job and writes its RPC to the
 * socket itself, without waking the service thread (unless that must
 * act: a partial write, a broken socket, a soft deadline to watch). */
void dio_conn_submit (struct dio_conn *c, struct dio_job *job);

/* Holder of the context lock (the service thread, or a submitter inside
 * dio_conn_submit), first thing in every job's callback: the job's call
 * has come back with rpc_status and the callback's data (RPC_STATUS_*;
 * pass RPC_STATUS_CANCEL for a high-level libnfs call that failed
 * because its socket broke: see dio_call_rpc_done; for a raw NFSv3 RPC,
 * data is its result, which starts with its nfsstat3).  Returns true when
 * the connection took the job back, and the caller must then not touch
 * it again:
 * - the connection was lost under it (job->replays then counts it): the
 *   job is queued again for the next connection, or, past its soft
 *   deadline, failed with ETIMEDOUT through fail() (on the service
 *   thread; a submitter queues it again, and expire_jobs fails it);
 * - the server answered NFS3ERR_JUKEBOX: it is sent again after a pause
 *   (dio_conn_delay).
 * Returns false when the reply is the job's to handle: the callback
 * completes it. */
bool dio_conn_job_reclaimed (struct dio_conn *c, struct dio_job *job,
                             int rpc_status, const void *data);

/* Service thread only, from the job's callback instead of completing
 * it: the server said "try again later" (NFS3ERR_JUKEBOX, e.g. while it
 * recalls the file from tape).  The job is started again after a pause,
 * 100 ms doubling to 5 s, as often as it takes (as Linux does); past its
 * soft deadline it fails with ETIMEDOUT instead.
 * dio_conn_job_reclaimed does this for raw RPCs; call.c for libnfs's
 * high-level calls. */
void dio_conn_delay (struct dio_conn *c, struct dio_job *job);

/* Holder of the context lock: is the connection broken (being
 * replaced)? */
bool dio_conn_lost (struct dio_conn *c);

/* Holder of the context lock: the context, for issuing calls from
 * start() and for callbacks. */
struct nfs_context *dio_conn_nfs (struct dio_conn *c);
struct rpc_context *dio_conn_rpc (struct dio_conn *c);

/* Watch an outside descriptor on c's service thread: whenever fd is
 * readable (or in error), fn(arg) runs there, with the context lock
 * held, between replies; so it must not wait for the engine (no
 * synchronous call: it may start asynchronous ones, which are sent
 * when it returns), and should do a bounded amount of work.  It
 * returns false to stop the watch.  fn NULL stops it too.  Any thread
 * but c's service thread; once this returns, the old fn is not running
 * and will not run again.  One descriptor per connection.  This is how
 * the directio mount daemon reads its FUSE requests on the thread that
 * completes them, saving a thread's wake-up per request. */
typedef bool (*dio_conn_watch_fn) (void *arg);
void dio_conn_watch (struct dio_conn *c, int fd, dio_conn_watch_fn fn,
                     void *arg);

/* True on any connection's service thread. */
bool dio_conn_on_service_thread (void);

/* Run fn on every service thread after it has read a batch of replies
 * (and before it runs its watch), again just before it polls, and once
 * more when the thread ends.  Completion callbacks can so leave work to
 * be done once for all of them, such as sending their replies to a
 * client together (tools/nbd-serve.c).  may_hold is true when more
 * replies are due and the thread will poll for them without sleeping
 * (spin=): fn may then keep some of its work for a later call, and
 * returns true if it did; before the thread sleeps it calls fn again
 * with may_hold false (that call, from the poll, without the context
 * lock; every other with it held).  fn must not call the engine.  One
 * hook per process; NULL removes it (a pass already in it may still
 * finish its call). */
typedef bool (*dio_conn_pass_fn) (bool may_hold);
void dio_conn_pass_hook (dio_conn_pass_fn fn);

/* spin= for mounts that do not say (any thread; 0 at start): the
 * servers poll before sleeping, the library by default does not. */
void dio_conn_set_spin_default (uint32_t us);
uint32_t dio_conn_spin_default (void);

/* The connection whose service thread this is, or NULL. */
struct dio_conn *dio_conn_serving (void);

/* The server's transfer maxima, read once after mounting. */
uint32_t dio_conn_readmax (const struct dio_conn *c);
uint32_t dio_conn_writemax (const struct dio_conn *c);

#endif /* DIO_CONN_H */
