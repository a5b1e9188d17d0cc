/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A bounded log-linear latency histogram (see histogram.h).
 *
 * Values below HIST_SUB have a bucket each.  Above, a value whose top bit
 * is bit m falls into group g = m - HIST_SUB_BITS + 1, sub-bucket (the
 * HIST_SUB_BITS bits below the top bit), so bucket g * HIST_SUB + sub
 * covers [(HIST_SUB + sub) << (g - 1), (HIST_SUB + sub + 1) << (g - 1)). */
#include <config.h>

#include <string.h>

#include "histogram.h"

static unsigned
bucket_of (uint64_t v)
{
  unsigned msb, g;

  if (v < HIST_SUB)
    return v;
  msb = 63 - __builtin_clzll (v);
  g = msb - HIST_SUB_BITS + 1;
  return g * HIST_SUB + ((v >> (g - 1)) - HIST_SUB);
}

/* The middle of a bucket's range. */
static uint64_t
bucket_value (unsigned b)
{
  unsigned g = b / HIST_SUB, sub = b % HIST_SUB;
  uint64_t lo, width;

  if (g == 0)
    return b;
  lo = (uint64_t) (HIST_SUB + sub) << (g - 1);
  width = (uint64_t) 1 << (g - 1);
  return lo + width / 2;
}

void
hist_init (struct histogram *h)
{
  memset (h, 0, sizeof *h);
  h->min = UINT64_MAX;
}

void
hist_add (struct histogram *h, uint64_t v)
{
  h->bucket[bucket_of (v)]++;
  h->count++;
  h->sum += v;
  if (v < h->min)
    h->min = v;
  if (v > h->max)
    h->max = v;
}

void
hist_merge (struct histogram *h, const struct histogram *from)
{
  for (unsigned b = 0; b < HIST_BUCKETS; b++)
    h->bucket[b] += from->bucket[b];
  h->count += from->count;
  h->sum += from->sum;
  if (from->min < h->min)
    h->min = from->min;
  if (from->max > h->max)
    h->max = from->max;
}

uint64_t
hist_quantile (const struct histogram *h, double q)
{
  uint64_t rank, seen = 0, v;

  if (h->count == 0)
    return 0;
  /* The rank of the sample that q of them are at or below (1-based). */
  rank = (uint64_t) (q * h->count + 0.999999);
  if (rank < 1)
    rank = 1;
  if (rank > h->count)
    rank = h->count;
  for (unsigned b = 0; b < HIST_BUCKETS; b++) {
    seen += h->bucket[b];
    if (seen >= rank) {
      v = bucket_value (b);
      return v < h->min ? h->min : v > h->max ? h->max : v;
    }
  }
  return h->max;
}
