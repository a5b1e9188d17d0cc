/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-mount counters, updated with relaxed atomics from any thread.
 *
 * A mount's counters live in its slot of the process's stats file
 * (statsfile.h: a MAP_SHARED mapping under the runtime directory, read by
 * `directio stat`) or, when that cannot be had, in the mount itself.
 * Either way writers just add to them: publishing copies nothing.  The
 * layout is part of the stats file's format: change it only together
 * with DIO_STATSFILE_VERSION. */
#ifndef DIO_STATS_H
#define DIO_STATS_H

#include <stdint.h>

struct dio_stats;

/* RPC kinds with their own counters, as in mountstats' per-op lines. */
enum dio_op {
  DIO_OP_OTHER,                 /* GETATTR, LOOKUP, CREATE, ... */
  DIO_OP_READ,
  DIO_OP_WRITE,
  DIO_OP_COMMIT,
  DIO_OP_COUNT
};

/* One RPC kind: counted when its reply is taken (or it fails for good). */
struct dio_op_stats {
  uint64_t ops;                 /* RPCs completed, errors included */
  uint64_t bytes;               /* payload asked for (READ/WRITE count) */
  uint64_t retrans;             /* sent again after a lost connection */
  uint64_t errors;              /* failed: RPC error, NFS error, timeout */
  uint64_t rtt_ns;              /* sum: last send to its reply */
  uint64_t exec_ns;             /* sum: queued to completion (waits for
                                   the window, reconnects, JUKEBOX too) */
};

struct dio_mount_stats {
  uint64_t direct_read_bytes, direct_write_bytes;
  uint64_t read_rpcs, write_rpcs, commit_rpcs, commit_joins, other_rpcs;
  uint64_t resends, verifier_mismatches;
  uint64_t reconnects, timeouts, errors, jukebox_delays;
  uint64_t cache_read_bytes, cache_write_bytes;
  uint64_t cache_hits;          /* buffered reads served from cached pages */
  uint64_t cache_misses;        /* buffered reads that waited for a READ */
  uint64_t spin_hits;           /* waits that polling caught (spin=) */
  uint64_t spin_misses;         /* polls that gave up, then slept */
  uint64_t caller_sends;        /* RPCs sent by their caller's thread */
  uint64_t wakeups;             /* service threads woken by a caller */
  uint64_t lock_waits;          /* a woken service thread waited for a
                                   caller sending on its connection */
  struct dio_op_stats op[DIO_OP_COUNT];
};

void dio_mount_stats_copy (const struct dio_mount_stats *from,
                           struct dio_stats *to);

/* Nanoseconds on the monotonic clock. */
uint64_t dio_now_ns (void);

/* An RPC of kind op finished at now (dio_now_ns; the caller may reuse
 * one reading for several): its counters take it.  sent_ns and
 * queued_ns: when it was last sent and first queued, 0 if unknown. */
void dio_op_done (struct dio_mount_stats *s, unsigned op, uint64_t bytes,
                  uint64_t sent_ns, uint64_t queued_ns, uint64_t now,
                  int failed);

#endif /* DIO_STATS_H */
