/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-mount counters.  Writers use relaxed atomic adds; a snapshot is a
 * set of relaxed loads (counters are independent, as in mountstats). */
#include "internal.h"

#include <string.h>
#include <time.h>

#include "directio.h"
#include "stats.h"

void
dio_mount_stats_copy (const struct dio_mount_stats *f, struct dio_stats *t)
{
  memset (t, 0, sizeof *t);
  t->direct_read_bytes = dio_load (f->direct_read_bytes);
  t->direct_write_bytes = dio_load (f->direct_write_bytes);
  t->read_rpcs = dio_load (f->read_rpcs);
  t->write_rpcs = dio_load (f->write_rpcs);
  t->commit_rpcs = dio_load (f->commit_rpcs);
  t->commit_joins = dio_load (f->commit_joins);
  t->jukebox_delays = dio_load (f->jukebox_delays);
  t->other_rpcs = dio_load (f->other_rpcs);
  t->resends = dio_load (f->resends);
  t->verifier_mismatches = dio_load (f->verifier_mismatches);
  t->reconnects = dio_load (f->reconnects);
  t->timeouts = dio_load (f->timeouts);
  t->errors = dio_load (f->errors);
  t->cache_read_bytes = dio_load (f->cache_read_bytes);
  t->cache_write_bytes = dio_load (f->cache_write_bytes);
  t->caller_sends = dio_load (f->caller_sends);
  t->wakeups = dio_load (f->wakeups);
  t->lock_waits = dio_load (f->lock_waits);
}

uint64_t
dio_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
dio_op_done (struct dio_mount_stats *s, unsigned op, uint64_t bytes,
             uint64_t sent_ns, uint64_t queued_ns, uint64_t now, int failed)
{
  struct dio_op_stats *o = &s->op[op < DIO_OP_COUNT ? op : DIO_OP_OTHER];

  dio_count (o->ops, 1);
  dio_count (o->bytes, bytes);
  if (failed)
    dio_count (o->errors, 1);
  if (sent_ns && now > sent_ns)
    dio_count (o->rtt_ns, now - sent_ns);
  if (queued_ns && now > queued_ns)
    dio_count (o->exec_ns, now - queued_ns);
}
