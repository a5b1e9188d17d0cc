/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Group commit: the durable writes of one file share COMMITs.
 *
 * A write request whose UNSTABLE WRITEs have all been answered joins its
 * file's next COMMIT.  At most one COMMIT per file is on the wire; the
 * requests that join meanwhile wait for the next one, which is sent as
 * soon as the current one is answered.  So under concurrent writes the
 * server flushes once for many requests instead of once per request, and
 * a lone writer still sends its COMMIT at once.
 *
 * A COMMIT that could go out (none on the wire) while small durable
 * writes of the file are still sending UNSTABLE WRITEs is held back:
 * one COMMIT for them all rather than one now and another a moment
 * later (an fsync each on the server).  It waits for as many small
 * writers to join or end as were sending when it began to wait; newer
 * writers count too, so they can only shorten the wait, never prolong
 * it.  Only small writes (at most DIO_COMMIT_SMALL) in an UNSTABLE pass
 * are waited for: their WRITEs answer in about a round trip, without a
 * sync (a FILE_SYNC write needs no COMMIT, a large one takes long).  An
 * fsync or a large write joining sends it at once.  The wait ends when
 * those writers' WRITEs are answered, failed or timed out: on a hard
 * mount against a server that does not answer them, it lasts as long as
 * the outage (their COMMIT could not be answered either).  fio
 * --fsync=1, 4 KiB at iodepth 16 through directio nbd: 6.7 -> 9.6
 * writes per COMMIT, 1-3% more IOPS, 10% less CPU in ganesha
 * (bench/README.md).
 *
 * Correct because a COMMIT covers every WRITE the server answered before
 * it received the COMMIT (RFC 1813, 3.3.21), and a request joins only
 * after its own WRITEs were answered.  Each request still compares the
 * COMMIT's verifier with its own WRITEs' verifiers. */
#ifndef DIO_COMMIT_H
#define DIO_COMMIT_H

#include "conn.h"
#include "internal.h"

struct dio_inode;
struct dio_commit_waiter;

/* Called once, on a service thread, with the COMMIT's errno (0 if it
 * succeeded) and its verifier (NULL on failure).  The group is not
 * locked; the waiter may be freed from here. */
typedef void (*dio_commit_done_fn) (struct dio_commit_waiter *w, int err,
                                    const char *verf);

struct dio_commit_waiter {
  struct dio_commit_waiter *next;
  uint64_t offset, count;       /* the range written (count 0: to the
                                   end of the file), for the COMMIT */
  dio_commit_done_fn done;
  bool writer;                  /* a small UNSTABLE pass joining: counted
                                   in writing until now */
};

/* Part of each inode. */
struct dio_commit_group {
  pthread_mutex_t lock;
  /* Guarded by lock. */
  bool busy;                    /* a COMMIT is on the wire */
  struct dio_commit_waiter *cohort; /* what that COMMIT answers */
  struct dio_commit_waiter *next;   /* waiting for the next COMMIT */
  bool urgent;                  /* next has a waiter that must not wait */
  uint64_t hold;                /* small writers next still waits for */
  uint64_t writers;             /* atomic: durable writes in progress */
  uint64_t writing;             /* atomic: small ones sending WRITEs */
  /* The COMMIT itself: one at a time, so one job per file. */
  struct dio_job job;
  struct dio_inode *ino;
  uint64_t offset, count;
};

void dio_commit_group_init (struct dio_commit_group *g, struct dio_inode *ino);
void dio_commit_group_destroy (struct dio_commit_group *g);

/* Join the file's next COMMIT (any thread).  The caller keeps a reference
 * on the inode until w->done has run. */
void dio_commit_join (struct dio_commit_group *g, struct dio_commit_waiter *w);

/* A durable write request begins or ends; begin returns how many others
 * are in progress.  A lone single-RPC write is cheaper as one FILE_SYNC
 * WRITE; beside others, UNSTABLE and a shared COMMIT flush less. */
uint64_t dio_commit_writer_begin (struct dio_commit_group *g);
void dio_commit_writer_end (struct dio_commit_group *g);

/* The durable writes a held COMMIT waits for. */
#define DIO_COMMIT_SMALL (64u * 1024)

/* A small durable write starts its UNSTABLE pass; or ends it without
 * joining a COMMIT (failed, or resent FILE_SYNC after a verifier
 * change). */
void dio_commit_writing_begin (struct dio_commit_group *g);
void dio_commit_writing_end (struct dio_commit_group *g);

#endif /* DIO_COMMIT_H */
