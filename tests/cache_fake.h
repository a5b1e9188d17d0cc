/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A fake backend for the page cache's unit tests: files in memory, with
 * counters and injected faults, completing transfers either inline or on
 * a thread of its own (as the engine does). */
#ifndef CACHE_FAKE_H
#define CACHE_FAKE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cache.h"

struct fake_file {
  struct dio_cache_file cf;     /* what the cache sees */
  pthread_mutex_t lock;         /* guards everything below */
  char *data;
  uint64_t size, cap;
  struct timespec mtime;
  /* Counters. */
  unsigned reads, writes, getattrs, holds, releases;
  uint64_t read_bytes, write_bytes;
  uint64_t max_write;           /* largest single write */
  /* Faults. */
  int write_err;                /* writes fail with it... */
  uint64_t write_ok_bytes;      /* ...after this many more bytes */
  int read_err;                 /* reads fail with it */
  uint64_t read_short;          /* >0: a read returns at most this */
  bool hold_refused;            /* hold() says the file is going */
};

/* Make a cache of size bytes with pages of page_size over the fake
 * backend; async: complete transfers on a thread. */
struct dio_cache *fake_cache_new (uint64_t size, uint32_t page_size,
                                  bool async);
void fake_cache_free (struct dio_cache *c);

/* A file of size bytes of pattern (seed), attached to c. */
struct fake_file *fake_file_new (struct dio_cache *c, uint64_t size,
                                 uint32_t seed);
void fake_file_free (struct fake_file *f);

/* Change the file behind the cache's back, as another client would: new
 * bytes (pattern seed) over [off, off+len), and a new mtime. */
void fake_file_scribble (struct fake_file *f, uint64_t off, uint64_t len,
                         uint32_t seed);
void fake_file_truncate (struct fake_file *f, uint64_t size);

/* The byte of pattern seed at offset off. */
static inline char
fake_pattern (uint64_t off, uint32_t seed)
{
  return (char) ((off * 2654435761u) >> 13 ^ seed ^ (off >> 16));
}

/* Most pages the cache has held at once while a transfer started. */
uint64_t fake_max_pages_seen (void);

#endif /* CACHE_FAKE_H */
