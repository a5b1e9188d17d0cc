/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A bounded latency histogram: log-linear buckets (32 per power of two,
 * so a bucket is at most 1/32 = 3% wide), exact count, sum, min and max.
 * Fixed size (HIST_BUCKETS counters) however many samples go in.
 *
 * Threading: none of its own; the owner serialises. */
#ifndef DIRECTIO_TOOL_HISTOGRAM_H
#define DIRECTIO_TOOL_HISTOGRAM_H

#include <stdint.h>

#define HIST_SUB_BITS 5
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct histogram {
  uint64_t count, sum, min, max;
  uint64_t bucket[HIST_BUCKETS];
};

extern void hist_init (struct histogram *h);
extern void hist_add (struct histogram *h, uint64_t value);
/* Add every sample of from into h. */
extern void hist_merge (struct histogram *h, const struct histogram *from);
/* The value below which a fraction q (0..1) of the samples lie, to within
 * a bucket's width (clamped to [min, max]); 0 if empty. */
extern uint64_t hist_quantile (const struct histogram *h, double q);

#endif /* DIRECTIO_TOOL_HISTOGRAM_H */
