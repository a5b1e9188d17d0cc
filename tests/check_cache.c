/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the page cache (buffered mode) over a fake backend
 * (cache_fake.c): the paths a real server seldom takes — write-back
 * failures, short transfers, truncation behind our back — and the rules
 * readahead, memory bounds and coherence must keep. */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "cache.h"
#include "cache_fake.h"
#include "check_suites.h"

#define KiB 1024u
#define MiB (1024u * 1024)
#define PAGE (64 * KiB)

static struct dio_cache *c;

static void
setup_sync (void)
{
  c = fake_cache_new (4 * MiB, PAGE, false);
  ck_assert_ptr_nonnull (c);
}

static void
setup_async (void)
{
  c = fake_cache_new (1 * MiB, PAGE, true);
  ck_assert_ptr_nonnull (c);
}

static void
teardown (void)
{
  fake_cache_free (c);
}

static ssize_t
cread (struct fake_file *f, struct dio_cache_ra *ra, void *buf, size_t len,
       uint64_t off)
{
  struct iovec v = { buf, len };
  return dio_cache_read (&f->cf, ra, &v, 1, off);
}

static ssize_t
cwrite (struct fake_file *f, const void *buf, size_t len, uint64_t off)
{
  struct iovec v = { (void *) buf, len };
  return dio_cache_write (&f->cf, &v, 1, off);
}

static void
fill (char *buf, size_t len, uint64_t off, uint32_t seed)
{
  for (size_t i = 0; i < len; i++)
    buf[i] = fake_pattern (off + i, seed);
}

/* One assertion per buffer: Check reports every assertion it passes. */
static void
assert_pattern (const char *buf, size_t len, uint64_t off, uint32_t seed)
{
  size_t i = 0;

  while (i < len && buf[i] == fake_pattern (off + i, seed))
    i++;
  ck_assert_msg (i == len, "byte %ju differs", (uintmax_t) (off + i));
}

static void
assert_server (struct fake_file *f, uint64_t off, uint64_t len,
               uint32_t seed)
{
  ck_assert_uint_ge (f->size, off + len);
  assert_pattern (f->data + off, len, off, seed);
}

/* ---- reads ----------------------------------------------------------- */

/* A sequential reader in 4 KiB steps is served by a few large fills
 * (readahead), and sees the file's bytes. */
START_TEST (test_sequential_readahead)
{
  struct fake_file *f = fake_file_new (c, 3 * MiB, 1);
  struct dio_cache_ra ra = { 0 };
  char buf[4096];

  for (uint64_t off = 0; off < 3 * MiB; off += sizeof buf) {
    ck_assert_int_eq (cread (f, &ra, buf, sizeof buf, off), sizeof buf);
    assert_pattern (buf, sizeof buf, off, 1);
  }
  ck_assert_int_eq (cread (f, &ra, buf, sizeof buf, 3 * MiB), 0);
  /* Without readahead: one fill per page. */
  ck_assert_msg (f->reads * 2 <= 3 * MiB / PAGE, "%u fills for %u pages",
                 f->reads, 3 * MiB / PAGE);
  ck_assert_uint_eq (f->read_bytes, 3 * MiB);   /* nothing read twice */
  fake_file_free (f);
}
END_TEST

/* Random reads get no readahead: each fetches its page only. */
START_TEST (test_random_no_readahead)
{
  struct fake_file *f = fake_file_new (c, 3 * MiB, 2);
  struct dio_cache_ra ra = { 0 };
  static const uint64_t offs[] = { 2 * MiB + 100, 70 * KiB, 1 * MiB + 3 };
  char buf[100];

  for (size_t i = 0; i < 3; i++) {
    ck_assert_int_eq (cread (f, &ra, buf, sizeof buf, offs[i]), sizeof buf);
    assert_pattern (buf, sizeof buf, offs[i], 2);
  }
  ck_assert_uint_eq (f->reads, 3);
  ck_assert_uint_eq (f->read_bytes, 3 * PAGE);
  fake_file_free (f);
}
END_TEST

/* Reading ten times the cache's size never holds more than the cache. */
START_TEST (test_memory_bounded)
{
  struct fake_file *f = fake_file_new (c, 10 * MiB, 3);
  struct dio_cache_ra ra = { 0 };
  char *buf = malloc (MiB);

  for (uint64_t off = 0; off < 10 * MiB; off += MiB / 2) {
    ck_assert_int_eq (cread (f, &ra, buf, MiB / 2, off), MiB / 2);
    assert_pattern (buf, MiB / 2, off, 3);
    ck_assert_uint_le (dio_cache_npages (c), dio_cache_max_pages (c));
  }
  ck_assert_uint_le (fake_max_pages_seen (), dio_cache_max_pages (c));
  free (buf);
  fake_file_free (f);
}
END_TEST

START_TEST (test_eof)
{
  struct fake_file *f = fake_file_new (c, 100 * KiB, 4);
  struct dio_cache_ra ra = { 0 };
  char *buf = malloc (MiB);

  ck_assert_int_eq (cread (f, &ra, buf, MiB, 0), 100 * KiB);
  assert_pattern (buf, 100 * KiB, 0, 4);
  ck_assert_int_eq (cread (f, &ra, buf, 10, 100 * KiB), 0);
  ck_assert_int_eq (cread (f, &ra, buf, 10, 5 * MiB), 0);
  free (buf);
  fake_file_free (f);
}
END_TEST

/* Another client truncated the file after we fetched its size: the short
 * fill is asked again, finds the real EOF and stops there. */
START_TEST (test_truncated_behind_our_back)
{
  struct fake_file *f = fake_file_new (c, 1 * MiB, 5);
  struct dio_cache_ra ra = { 0 };
  char *buf = malloc (MiB);

  ck_assert_int_eq (dio_cache_open (&f->cf), 0);
  fake_file_truncate (f, 100 * KiB);
  ck_assert_int_eq (cread (f, &ra, buf, MiB, 0), 100 * KiB);
  assert_pattern (buf, 100 * KiB, 0, 5);
  ck_assert_int_eq (cread (f, &ra, buf, 10, 200 * KiB), 0);
  free (buf);
  fake_file_free (f);
}
END_TEST

/* A fill that comes back short before EOF (a failed chunk, as the engine
 * reports it: the prefix only) is continued, not taken for EOF. */
START_TEST (test_short_fill_continued)
{
  struct fake_file *f = fake_file_new (c, 1 * MiB, 6);
  struct dio_cache_ra ra = { 0 };
  char *buf = malloc (MiB);

  f->read_short = 100 * KiB;
  ck_assert_int_eq (cread (f, &ra, buf, MiB, 0), MiB);
  assert_pattern (buf, MiB, 0, 6);
  free (buf);
  fake_file_free (f);
}
END_TEST

START_TEST (test_read_error)
{
  struct fake_file *f = fake_file_new (c, 1 * MiB, 7);
  struct dio_cache_ra ra = { 0 };
  char buf[10];

  f->read_err = EIO;
  errno = 0;
  ck_assert_int_eq (cread (f, &ra, buf, sizeof buf, 0), -1);
  ck_assert_int_eq (errno, EIO);
  /* Nothing of the failed fill stays cached. */
  ck_assert_uint_eq (dio_cache_npages (c), 0);
  f->read_err = 0;
  ck_assert_int_eq (cread (f, &ra, buf, sizeof buf, 0), sizeof buf);
  assert_pattern (buf, sizeof buf, 0, 7);
  fake_file_free (f);
}
END_TEST

/* ---- writes and write-back ------------------------------------------- */

/* Writes stay in the cache until a flush, which sends contiguous dirty
 * pages as one transfer. */
START_TEST (test_writeback_coalesced)
{
  struct fake_file *f = fake_file_new (c, 0, 0);
  char *buf = malloc (MiB / 2);

  /* Half a MiB: less than a quarter of the cache, so no background
   * write-back starts before the flush. */
  fill (buf, MiB / 2, 0, 8);
  for (uint64_t off = 0; off < MiB / 2; off += 4 * KiB)
    ck_assert_int_eq (cwrite (f, buf + off, 4 * KiB, off), 4 * KiB);
  ck_assert_uint_eq (f->writes, 0);
  ck_assert_uint_eq (f->reads, 0);              /* no read-modify-write */
  ck_assert_int_eq (dio_cache_flush (&f->cf, 0, 0), 0);
  ck_assert_uint_eq (f->writes, 1);
  ck_assert_uint_eq (f->max_write, MiB / 2);
  assert_server (f, 0, MiB / 2, 8);
  free (buf);
  fake_file_free (f);
}
END_TEST

/* A write inside a page never read keeps just its bytes; reading the
 * page writes them back and reads the page whole. */
START_TEST (test_partial_page)
{
  struct fake_file *f = fake_file_new (c, 256 * KiB, 9);
  struct dio_cache_ra ra = { 0 };
  char w[100], r[300];

  fill (w, sizeof w, 70 * KiB, 10);
  ck_assert_int_eq (cwrite (f, w, sizeof w, 70 * KiB), sizeof w);
  ck_assert_uint_eq (f->reads, 0);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 70 * KiB - 100), sizeof r);
  assert_pattern (r, 100, 70 * KiB - 100, 9);
  assert_pattern (r + 100, 100, 70 * KiB, 10);
  assert_pattern (r + 200, 100, 70 * KiB + 100, 9);
  ck_assert_uint_eq (f->writes, 1);
  fake_file_free (f);
}
END_TEST

/* Two separate pieces in one unread page: the first goes out first. */
START_TEST (test_disjoint_pieces)
{
  struct fake_file *f = fake_file_new (c, 256 * KiB, 11);
  char a[10], b[10];

  fill (a, sizeof a, 1000, 12);
  fill (b, sizeof b, 5000, 13);
  ck_assert_int_eq (cwrite (f, a, sizeof a, 1000), sizeof a);
  ck_assert_int_eq (cwrite (f, b, sizeof b, 5000), sizeof b);
  ck_assert_uint_eq (f->writes, 1);
  ck_assert_int_eq (dio_cache_flush (&f->cf, 0, 0), 0);
  assert_server (f, 1000, sizeof a, 12);
  assert_server (f, 5000, sizeof b, 13);
  assert_server (f, 0, 1000, 11);
  assert_server (f, 1010, 3990, 11);
  fake_file_free (f);
}
END_TEST

/* Past EOF, a write leaves a hole that reads as zeros, and the size. */
START_TEST (test_write_past_eof)
{
  struct fake_file *f = fake_file_new (c, 100 * KiB, 14);
  struct dio_cache_ra ra = { 0 };
  char w[10], r[4096];
  size_t i;

  fill (w, sizeof w, 2 * MiB, 15);
  ck_assert_int_eq (cwrite (f, w, sizeof w, 2 * MiB), sizeof w);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, MiB), sizeof r);
  for (i = 0; i < sizeof r && r[i] == 0; i++)
    ;
  ck_assert_msg (i == sizeof r, "the hole has a byte at %zu", i);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 2 * MiB), sizeof w);
  assert_pattern (r, sizeof w, 2 * MiB, 15);
  ck_assert_int_eq (dio_cache_flush (&f->cf, 0, 0), 0);
  ck_assert_uint_eq (f->size, 2 * MiB + sizeof w);
  fake_file_free (f);
}
END_TEST

/* Write-back fails (ENOSPC): the flush says so, every description learns
 * it once, and the lost data is not served from the cache afterwards. */
START_TEST (test_writeback_failure)
{
  struct fake_file *f = fake_file_new (c, 256 * KiB, 16);
  struct dio_cache_ra ra = { 0 };
  unsigned seen_a = dio_cache_errseq (&f->cf), seen_b = seen_a;
  char w[4096], r[4096];

  fill (w, sizeof w, 0, 17);
  ck_assert_int_eq (cwrite (f, w, sizeof w, 0), sizeof w);
  f->write_err = ENOSPC;
  errno = 0;
  ck_assert_int_eq (dio_cache_flush (&f->cf, 0, 0), -1);
  ck_assert_int_eq (errno, ENOSPC);
  ck_assert_int_eq (dio_cache_check_error (&f->cf, &seen_a), -1);
  ck_assert_int_eq (errno, ENOSPC);
  ck_assert_int_eq (dio_cache_check_error (&f->cf, &seen_a), 0);
  ck_assert_int_eq (dio_cache_check_error (&f->cf, &seen_b), -1);
  ck_assert_int_eq (errno, ENOSPC);
  /* The server still has the old bytes, and so does a read. */
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 0), sizeof r);
  assert_pattern (r, sizeof r, 0, 16);
  fake_file_free (f);
}
END_TEST

/* A run that is written in part, then fails: the written part is clean
 * and cached, the rest reported and dropped. */
START_TEST (test_writeback_partial_failure)
{
  struct fake_file *f = fake_file_new (c, 0, 0);
  char *buf = malloc (MiB);
  unsigned seen = dio_cache_errseq (&f->cf);

  fill (buf, MiB / 2, 0, 18);
  ck_assert_int_eq (cwrite (f, buf, MiB / 2, 0), MiB / 2);
  f->write_err = EDQUOT;
  f->write_ok_bytes = 256 * KiB;
  ck_assert_int_eq (dio_cache_flush (&f->cf, 0, 0), -1);
  ck_assert_int_eq (errno, EDQUOT);
  ck_assert_uint_eq (f->size, 256 * KiB);
  assert_server (f, 0, 256 * KiB, 18);
  ck_assert_int_eq (dio_cache_check_error (&f->cf, &seen), -1);
  ck_assert_uint_eq (dio_cache_npages (c), 256 * KiB / PAGE);
  free (buf);
  fake_file_free (f);
}
END_TEST

/* More dirty data than the cache holds: writers write back as they go;
 * memory stays bounded and every byte arrives. */
START_TEST (test_dirty_pressure)
{
  struct fake_file *f = fake_file_new (c, 0, 0);
  char *buf = malloc (16 * MiB);

  fill (buf, 16 * MiB, 0, 19);
  for (uint64_t off = 0; off < 16 * MiB; off += 64 * KiB) {
    ck_assert_int_eq (cwrite (f, buf + off, 64 * KiB, off), 64 * KiB);
    ck_assert_uint_le (dio_cache_npages (c), dio_cache_max_pages (c));
  }
  ck_assert_int_eq (dio_cache_close (&f->cf), 0);
  assert_server (f, 0, 16 * MiB, 19);
  /* Each write-back took a quarter of the cache at least. */
  ck_assert_uint_le (f->writes, 16 * MiB / (64 * KiB) / 4);
  free (buf);
  fake_file_free (f);
}
END_TEST

/* A cache full of another file's dirty pages: a new write writes that
 * file back, holding it meanwhile. */
START_TEST (test_pressure_other_file)
{
  struct fake_file *a = fake_file_new (c, 0, 0);
  struct fake_file *b = fake_file_new (c, 0, 0);
  uint64_t pages = dio_cache_max_pages (c);
  uint64_t alen = (pages / 4 - 1) * PAGE;       /* below the write-back
                                                   threshold: stays dirty */
  uint64_t blen = (pages - 4) * PAGE;
  char *buf = malloc (blen);

  fill (buf, blen, 0, 20);
  ck_assert_int_eq (cwrite (a, buf, alen, 0), alen);
  ck_assert_uint_eq (a->writes, 0);
  ck_assert_int_eq (cwrite (b, buf, blen, 0), blen);
  ck_assert_uint_eq (a->holds, 1);
  ck_assert_uint_eq (a->releases, 1);
  assert_server (a, 0, alen, 20);               /* before a's own close */
  ck_assert_int_eq (dio_cache_close (&b->cf), 0);
  assert_server (b, 0, blen, 20);
  free (buf);
  fake_file_free (b);
  fake_file_free (a);
}
END_TEST

/* ---- coherence ------------------------------------------------------- */

/* Close-to-open: unchanged attributes keep the pages; changed ones drop
 * them, so the new bytes are read. */
START_TEST (test_close_to_open)
{
  struct fake_file *f = fake_file_new (c, 256 * KiB, 21);
  struct dio_cache_ra ra = { 0 };
  char r[100];

  unsigned reads;

  ck_assert_int_eq (dio_cache_open (&f->cf), 0);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 0), sizeof r);
  reads = f->reads;
  ck_assert_int_eq (dio_cache_open (&f->cf), 0);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 0), sizeof r);
  ck_assert_uint_eq (f->reads, reads);
  fake_file_scribble (f, 0, 256 * KiB, 22);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 0), sizeof r);
  assert_pattern (r, sizeof r, 0, 21);          /* no revalidation yet */
  ck_assert_int_eq (dio_cache_open (&f->cf), 0);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 0), sizeof r);
  assert_pattern (r, sizeof r, 0, 22);
  fake_file_free (f);
}
END_TEST

/* A direct read sees data that was only cached: it is written back
 * first. */
START_TEST (test_direct_read_sees_dirty)
{
  struct fake_file *f = fake_file_new (c, 256 * KiB, 23);
  char w[1000];

  fill (w, sizeof w, 500, 24);
  ck_assert_int_eq (cwrite (f, w, sizeof w, 500), sizeof w);
  ck_assert_int_eq (dio_cache_before_direct (&f->cf, false, 0, 4096), 0);
  assert_server (f, 500, sizeof w, 24);
  fake_file_free (f);
}
END_TEST

/* A direct read below dirty pages that extend the file finds them on
 * the server: every dirty page is written back first, not only the
 * range's (else the server's EOF cuts the read short). */
START_TEST (test_direct_read_below_extension)
{
  struct fake_file *f = fake_file_new (c, 0, 0);
  char w[1000];

  fill (w, sizeof w, MiB, 44);
  ck_assert_int_eq (cwrite (f, w, sizeof w, MiB), sizeof w);
  ck_assert_int_eq (dio_cache_before_direct (&f->cf, false, 0, 4096), 0);
  ck_assert_uint_eq (f->size, MiB + sizeof w);
  assert_server (f, MiB, sizeof w, 44);
  fake_file_free (f);
}
END_TEST

/* noac: every read revalidates, so a reader at the cached EOF sees what
 * another client appended, and a reader inside the file what it
 * rewrote, at once; writes are synchronous. */
START_TEST (test_noac)
{
  struct dio_cache_ra ra = { 0 };
  struct fake_file *f;
  char r[1000];

  dio_cache_set_attr_policy (c, 3, 60, true, false);
  f = fake_file_new (c, 100 * KiB, 40);
  ck_assert (dio_cache_sync_writes (&f->cf));
  ck_assert_int_eq (dio_cache_open (&f->cf), 0);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 100 * KiB - 500), 500);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 100 * KiB), 0);
  fake_file_scribble (f, 100 * KiB, 50 * KiB, 40);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 100 * KiB), sizeof r);
  assert_pattern (r, sizeof r, 100 * KiB, 40);
  fake_file_scribble (f, 0, 4 * KiB, 41);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 0), sizeof r);
  assert_pattern (r, sizeof r, 0, 41);
  fake_file_free (f);
}
END_TEST

/* Attributes inside their timeout are trusted: no GETATTR per read, and
 * under nocto none at open either; fresh ones from elsewhere (fstat's)
 * revalidate at once. */
START_TEST (test_attr_timeout_nocto_update)
{
  struct dio_cache_ra ra = { 0 };
  struct dio_cache_asked asked;
  struct dio_cache_attr a;
  struct fake_file *f;
  unsigned getattrs;
  char r[1000];

  dio_cache_set_attr_policy (c, 3600, 3600, false, true);
  f = fake_file_new (c, 100 * KiB, 42);
  ck_assert (!dio_cache_sync_writes (&f->cf));
  ck_assert_int_eq (dio_cache_open (&f->cf), 0);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 0), sizeof r);
  getattrs = f->getattrs;
  fake_file_scribble (f, 0, 150 * KiB, 43);
  ck_assert_int_eq (dio_cache_open (&f->cf), 0);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 0), sizeof r);
  assert_pattern (r, sizeof r, 0, 42);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 100 * KiB), 0);
  ck_assert_uint_eq (f->getattrs, getattrs);

  dio_cache_attr_ask (&f->cf, &asked);
  a = (struct dio_cache_attr) { f->size, f->mtime, f->mtime };
  dio_cache_attr_update (&f->cf, &a, &asked);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 0), sizeof r);
  assert_pattern (r, sizeof r, 0, 43);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 100 * KiB), sizeof r);
  assert_pattern (r, sizeof r, 100 * KiB, 43);
  fake_file_free (f);
}
END_TEST

/* The timeout starts at acregmin, doubles up to acregmax each time the
 * attributes come back unchanged after it ran out (Linux's rule), and
 * starts again when they changed.  Times are made up: t.ms is whatever
 * the caller says it was. */
START_TEST (test_attr_timeout_grows)
{
  struct fake_file *f;
  struct dio_cache_asked t;
  struct dio_cache_attr a;

  dio_cache_set_attr_policy (c, 1, 4, false, false);
  f = fake_file_new (c, 10 * KiB, 47);
  ck_assert_int_eq (dio_cache_open (&f->cf), 0);
  ck_assert_uint_eq (f->cf.attrtimeo, 1000);
  dio_cache_attr_ask (&f->cf, &t);
  a = (struct dio_cache_attr) { f->size, f->mtime, f->mtime };
  t.ms = f->cf.attr_time + 500;                 /* within: stays */
  dio_cache_attr_update (&f->cf, &a, &t);
  ck_assert_uint_eq (f->cf.attrtimeo, 1000);
  for (uint64_t want = 2000; want <= 8000; want *= 2) {
    t.ms = f->cf.attr_time + f->cf.attrtimeo;   /* ran out: doubles */
    dio_cache_attr_update (&f->cf, &a, &t);
    ck_assert_uint_eq (f->cf.attrtimeo, want > 4000 ? 4000 : want);
  }
  fake_file_scribble (f, 0, 10, 48);
  a = (struct dio_cache_attr) { f->size, f->mtime, f->mtime };
  t.ms = f->cf.attr_time + 1;
  dio_cache_attr_update (&f->cf, &a, &t);
  ck_assert_uint_eq (f->cf.attrtimeo, 1000);
  /* acregmin above acregmax: acregmax. */
  fake_file_free (f);
  dio_cache_set_attr_policy (c, 9, 2, false, false);
  f = fake_file_new (c, 10 * KiB, 47);
  ck_assert_uint_eq (f->cf.attrtimeo, 2000);
  fake_file_free (f);
}
END_TEST

/* Attributes asked for before our own write-back landed must not shrink
 * the file under the data it wrote. */
START_TEST (test_attr_older_than_writeback)
{
  struct fake_file *f = fake_file_new (c, 0, 0);
  struct dio_cache_ra ra = { 0 };
  struct dio_cache_asked asked;
  struct dio_cache_attr a;
  char w[1000], r[1000];

  dio_cache_attr_ask (&f->cf, &asked);
  a = (struct dio_cache_attr) { f->size, f->mtime, f->mtime };
  fill (w, sizeof w, 0, 45);
  ck_assert_int_eq (cwrite (f, w, sizeof w, 0), sizeof w);
  ck_assert_int_eq (dio_cache_flush (&f->cf, 0, 0), 0);
  dio_cache_drop (&f->cf, 0, 0);
  dio_cache_attr_update (&f->cf, &a, &asked);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 0), sizeof r);
  assert_pattern (r, sizeof r, 0, 45);
  fake_file_free (f);
}
END_TEST

/* A direct write drops the pages it overlaps, after writing back dirty
 * bytes beside it; cached readers then see the direct bytes. */
START_TEST (test_direct_write_drops)
{
  struct fake_file *f = fake_file_new (c, 256 * KiB, 25);
  struct dio_cache_ra ra = { 0 };
  char w[10], r[200];

  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 0), sizeof r);
  fill (w, sizeof w, 150, 26);
  ck_assert_int_eq (cwrite (f, w, sizeof w, 150), sizeof w);
  ck_assert_int_eq (dio_cache_before_direct (&f->cf, true, 0, 100), 0);
  assert_server (f, 150, sizeof w, 26);         /* written back */
  fake_file_scribble (f, 0, 100, 27);           /* "the direct write" */
  dio_cache_after_direct_write (&f->cf, 0, 100, 100);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 0), sizeof r);
  assert_pattern (r, 100, 0, 27);
  assert_pattern (r + 150, 10, 150, 26);
  fake_file_free (f);
}
END_TEST

/* Switching to direct: everything written back, nothing kept. */
START_TEST (test_make_direct)
{
  struct fake_file *f = fake_file_new (c, 1 * MiB, 28);
  struct dio_cache_ra ra = { 0 };
  char *buf = malloc (MiB);

  ck_assert_int_eq (cread (f, &ra, buf, MiB, 0), MiB);
  fill (buf, 300 * KiB, 0, 29);
  ck_assert_int_eq (cwrite (f, buf, 300 * KiB, 0), 300 * KiB);
  ck_assert_int_eq (dio_cache_make_direct (&f->cf), 0);
  ck_assert_uint_eq (dio_cache_npages (c), 0);
  assert_server (f, 0, 300 * KiB, 29);
  free (buf);
  fake_file_free (f);
}
END_TEST

/* O_TRUNC: everything goes, dirty pages too. */
START_TEST (test_discard)
{
  struct fake_file *f = fake_file_new (c, 256 * KiB, 31);
  struct dio_cache_ra ra = { 0 };
  char w[100], r[100];

  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 0), sizeof r);
  fill (w, sizeof w, 200 * KiB, 32);
  ck_assert_int_eq (cwrite (f, w, sizeof w, 200 * KiB), sizeof w);
  fake_file_truncate (f, 0);
  dio_cache_discard (&f->cf);
  ck_assert_uint_eq (dio_cache_npages (c), 0);
  ck_assert_int_eq (dio_cache_flush (&f->cf, 0, 0), 0);
  ck_assert_uint_eq (f->writes, 0);
  ck_assert_int_eq (cread (f, &ra, r, sizeof r, 0), 0);
  fake_file_free (f);
}
END_TEST

/* ---- threads --------------------------------------------------------- */

struct worker {
  struct fake_file *f;
  uint64_t base, len;
  uint32_t seed;
  int failures;
};

/* Write a region in odd pieces, read it back through the cache, many
 * times, while other workers do the same next door. */
static void *
worker_main (void *arg)
{
  struct worker *w = arg;
  struct dio_cache_ra ra = { 0 };
  char *buf = malloc (w->len), *got = malloc (w->len);

  for (int round = 0; round < 4; round++) {
    uint32_t seed = w->seed + round;
    fill (buf, w->len, w->base, seed);
    for (uint64_t off = 0; off < w->len; off += 3000) {
      uint64_t n = DIO_MIN (3000u, w->len - off);
      if (cwrite (w->f, buf + off, n, w->base + off) != (ssize_t) n)
        w->failures++;
    }
    if (cread (w->f, &ra, got, w->len, w->base) != (ssize_t) w->len
        || memcmp (buf, got, w->len) != 0)
      w->failures++;
  }
  free (buf);
  free (got);
  return NULL;
}

START_TEST (test_threads)
{
  struct fake_file *f = fake_file_new (c, 0, 0);
  struct worker w[4];
  pthread_t t[4];

  for (int i = 0; i < 4; i++) {
    w[i] = (struct worker) { f, i * 700 * KiB + 123, 700 * KiB, 30 + i * 8,
                             0 };
    ck_assert_int_eq (pthread_create (&t[i], NULL, worker_main, &w[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join (t[i], NULL);
    ck_assert_int_eq (w[i].failures, 0);
  }
  ck_assert_int_eq (dio_cache_close (&f->cf), 0);
  for (int i = 0; i < 4; i++)
    assert_server (f, w[i].base, w[i].len, w[i].seed + 3);
  ck_assert_uint_le (fake_max_pages_seen (), dio_cache_max_pages (c));
  fake_file_free (f);
}
END_TEST

Suite *
suite_cache (void)
{
  Suite *s = suite_create ("cache");
  TCase *tc = tcase_create ("inline");
  TCase *ta = tcase_create ("async");

  tcase_add_checked_fixture (tc, setup_sync, teardown);
  tcase_add_test (tc, test_sequential_readahead);
  tcase_add_test (tc, test_random_no_readahead);
  tcase_add_test (tc, test_memory_bounded);
  tcase_add_test (tc, test_eof);
  tcase_add_test (tc, test_truncated_behind_our_back);
  tcase_add_test (tc, test_short_fill_continued);
  tcase_add_test (tc, test_read_error);
  tcase_add_test (tc, test_writeback_coalesced);
  tcase_add_test (tc, test_partial_page);
  tcase_add_test (tc, test_disjoint_pieces);
  tcase_add_test (tc, test_write_past_eof);
  tcase_add_test (tc, test_writeback_failure);
  tcase_add_test (tc, test_writeback_partial_failure);
  tcase_add_test (tc, test_close_to_open);
  tcase_add_test (tc, test_direct_read_sees_dirty);
  tcase_add_test (tc, test_direct_read_below_extension);
  tcase_add_test (tc, test_noac);
  tcase_add_test (tc, test_attr_timeout_nocto_update);
  tcase_add_test (tc, test_attr_timeout_grows);
  tcase_add_test (tc, test_attr_older_than_writeback);
  tcase_add_test (tc, test_direct_write_drops);
  tcase_add_test (tc, test_make_direct);
  tcase_add_test (tc, test_discard);
  tcase_add_test (tc, test_pressure_other_file);
  suite_add_tcase (s, tc);

  /* Completions on another thread, as the engine's, and a 1 MiB cache
   * (16 pages) so that pressure paths run. */
  tcase_add_checked_fixture (ta, setup_async, teardown);
  tcase_add_test (ta, test_memory_bounded);
  tcase_add_test (ta, test_dirty_pressure);
  tcase_add_test (ta, test_threads);
  tcase_add_test (ta, test_sequential_readahead);
  tcase_set_timeout (ta, 60);
  suite_add_tcase (s, ta);
  return s;
}
