/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Buffered mode's link to the engine: one page cache per mount, whose
 * backend is the direct request engine. */
#ifndef DIO_BUFFERED_H
#define DIO_BUFFERED_H

#include "cache.h"

#include <sys/stat.h>

struct dio_mount;

/* What the cache compares, out of a GETATTR's struct stat. */
static inline struct dio_cache_attr
dio_cache_attr_of_stat (const struct stat *st)
{
  return (struct dio_cache_attr) {
    .size = st->st_size, .mtime = st->st_mtim, .ctime = st->st_ctim,
  };
}

/* Cache pages: small enough that random 4 KiB reads do not fetch much
 * more than they need; streams move in large RPCs anyway, since fills
 * and write-backs span runs of pages (measurements in buffered.c). */
#define DIO_CACHE_PAGE (64u * 1024)

/* The mount's cache (made on first use), or NULL if its files are never
 * cached: forcedirectio, or no memory for the cache's table.  Each
 * successful attach is paired with a detach. */
struct dio_cache *dio_buffered_attach (struct dio_mount *m);
void dio_buffered_detach (struct dio_mount *m);

#endif /* DIO_BUFFERED_H */
