/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-mount counters, updated with relaxed atomics from any thread. */
#ifndef DIO_STATS_H
#define DIO_STATS_H

#include <stdint.h>

struct dio_stats;

struct dio_mount_stats {
  uint64_t direct_read_bytes, direct_write_bytes;
  uint64_t read_rpcs, write_rpcs, commit_rpcs, commit_joins, other_rpcs;
  uint64_t resends, verifier_mismatches;
  uint64_t reconnects, timeouts, errors, jukebox_delays;
  uint64_t cache_read_bytes, cache_write_bytes;
};

void dio_mount_stats_copy (const struct dio_mount_stats *from,
                           struct dio_stats *to);

#endif /* DIO_STATS_H */
