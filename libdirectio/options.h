/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Mount options: the Solaris mount_nfs vocabulary plus nconnect and the
 * engine's own tunables.  Shared by profiles, URL arguments, the nbdkit
 * plugin and the tool.  Pure data and parsing: no threads, no I/O. */
#ifndef DIO_OPTIONS_H
#define DIO_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIO_MAX_NCONNECT 16
#define DIO_MAX_WINDOW 256
#define DIO_MIN_XFER 4096u              /* smallest rsize/wsize accepted */
#define DIO_MAX_XFER (16u * 1024 * 1024) /* largest rsize/wsize accepted */
#define DIO_RETRY_UNSET UINT32_MAX      /* retry= not given */
#define DIO_SPIN_UNSET UINT32_MAX       /* spin= not given */
#define DIO_MAX_SPIN_US 1000            /* spin='s bound: 1 ms */

struct dio_options {
  uint32_t rsize;         /* READ size; 0 = the server's maximum */
  uint32_t wsize;         /* WRITE size; 0 = the server's maximum */
  uint32_t nconnect;      /* TCP connections per mount, 1..16 */
  uint32_t window;        /* RPCs in flight per connection, 1..256 */
  uint32_t timeo;         /* RPC timeout, tenths of a second (soft only) */
  uint32_t retrans;       /* tries before a soft mount gives up */
  bool soft;              /* false = hard: retry forever */
  bool readonly;          /* ro: writes fail with EROFS */
  bool forcedirectio;     /* every file direct from open */
  uint32_t vers;          /* NFS version: only 3 */
  uint32_t port;          /* NFS port; 0 = ask the portmapper */
  uint32_t mountport;     /* MOUNT port; 0 = ask the portmapper */
  uint64_t cache_size;    /* buffered-mode cache per mount, bytes */
  uint32_t linger;        /* seconds an unused mount stays connected */
  /* Buffered mode's attribute cache (Linux's and Solaris's words). */
  uint32_t acregmin;      /* seconds attributes stay valid at first */
  uint32_t acregmax;      /* ...growing up to this while the file does
                             not change (actimeo sets both; a min above
                             the max is the max, as on Linux) */
  bool noac;              /* no attribute cache, synchronous writes */
  bool nocto;             /* no revalidation at open (close-to-open
                             off) */
  uint32_t retry;         /* minutes a first mount keeps trying an
                             unreachable server; 0 = once;
                             DIO_RETRY_UNSET = hard: no bound, soft:
                             timeo x retrans */
  uint32_t spin;          /* microseconds a service thread may poll
                             before it sleeps while replies are due
                             (spin.c); 0 = never; DIO_SPIN_UNSET = the
                             process's default (0 but in the servers) */
};

#define DIO_MAX_ACTIMEO 36000   /* seconds: 10 hours */

/* Defaults: hard, timeo=600, retrans=2, nconnect=2, window=1,
 * rsize=wsize=0 (server max), vers=3, noforcedirectio, rw,
 * cache_size=64 MiB, linger=2, acregmin=3, acregmax=60, ac, cto,
 * retry and spin unset. */
void dio_options_init (struct dio_options *o);

/* Apply one word: "key" or "key=value".  Numbers accept K/M/G suffixes
 * (powers of 1024) where they are sizes.  On error returns -1 and writes
 * into err a message naming the word and why ("rsize=abc: not a number"),
 * with errno EINVAL; *o is unchanged.  err may be NULL if errlen is 0. */
int dio_options_set (struct dio_options *o, const char *word,
                     char *err, size_t errlen);

/* Apply a comma-separated list of words, left to right.  Empty words
 * ("a,,b") are errors.  On error, -1 with err naming the bad word.
 * Blanks around words are ignored and an empty list is no words.  The
 * list applies all or nothing: on error *o is unchanged.  errno is
 * EINVAL for a bad word, ENOMEM if out of memory. */
int dio_options_parse (struct dio_options *o, const char *list,
                       char *err, size_t errlen);

/* True if key (without "=value") is a word of the vocabulary. */
bool dio_options_known (const char *key);

#endif /* DIO_OPTIONS_H */
