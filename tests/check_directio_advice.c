/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio() on engine descriptors: Solaris semantics (per file, write
 * back before direct), the defaults of each kind of open, and coherence
 * between cached and direct I/O. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_directio.h"
#include "engine_helpers.h"
#include "private.h"
#include "solaris_port.h"

#define KiB 1024
#define MiB (1024 * 1024)

/* A Solaris port against a profile path: with the advice on, its I/O is
 * direct and shows in the mount's direct counters; without, it is cached
 * and does not. */
START_TEST (test_port)
{
  size_t bsize = 8192;
  int nblocks = 4;
  char *blocks = malloc (bsize * nblocks), *back = malloc (bsize * nblocks);
  struct dio_stats st;
  int fd, cached;

  use_data_profile (NULL);
  test_fill (blocks, bsize * nblocks, 0, 1);
  fd = store_open (MNT "/port.bin", 1);
  ck_assert_msg (fd >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (store_put_get (fd, blocks, back, bsize, nblocks), 0);
  ck_assert_mem_eq (blocks, back, bsize * nblocks);
  st = stats_of (fd);
  ck_assert_uint_eq (st.direct_write_bytes, bsize * nblocks);
  ck_assert_uint_eq (st.direct_read_bytes, bsize * nblocks);
  ck_assert_uint_eq (st.cache_read_bytes, 0);
  ck_assert_uint_eq (st.cache_write_bytes, 0);
  ck_assert (local_has ("port.bin", 0, bsize * nblocks, 1));

  /* The same port without the advice: cached, on the same mount. */
  cached = store_open (MNT "/port-cached.bin", 0);
  ck_assert_msg (cached >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (store_put_get (cached, blocks, back, bsize, nblocks), 0);
  ck_assert_mem_eq (blocks, back, bsize * nblocks);
  st = stats_of (cached);
  ck_assert_uint_eq (st.direct_write_bytes, bsize * nblocks);
  ck_assert_uint_eq (st.direct_read_bytes, bsize * nblocks);
  ck_assert_uint_eq (st.cache_write_bytes, bsize * nblocks);
  ck_assert_uint_eq (st.cache_read_bytes, bsize * nblocks);
  ck_assert (local_has ("port-cached.bin", 0, bsize * nblocks, 1));

  ck_assert_int_eq (store_close (cached), 0);
  ck_assert_int_eq (store_close (fd), 0);
  free (blocks);
  free (back);
}
END_TEST

/* Two descriptors of one file: the advice set through one applies to
 * the other, and the last caller wins. */
START_TEST (test_per_file)
{
  char buf[64 * KiB];
  struct dio_stats st0, st;
  int a, b;

  use_data_profile (NULL);
  put_local ("perfile.bin", MiB, 2);
  a = dio_open (MNT "/perfile.bin", O_RDONLY);
  b = dio_open (MNT "/perfile.bin", O_RDONLY);
  ck_assert_msg (a >= 0 && b >= 0, "%s", dio_last_error ());

  st0 = stats_of (a);
  ck_assert_int_eq (dio_pread (b, buf, sizeof buf, 0), sizeof buf);
  st = stats_of (a);
  ck_assert_uint_eq (st.cache_read_bytes - st0.cache_read_bytes, sizeof buf);
  ck_assert_uint_eq (st.direct_read_bytes, st0.direct_read_bytes);

  ck_assert_int_eq (directio (a, DIRECTIO_ON), 0);
  st0 = st;
  ck_assert_int_eq (dio_pread (b, buf, sizeof buf, 5 * sizeof buf),
                    sizeof buf);
  ck_assert (test_check (buf, sizeof buf, 5 * sizeof buf, 2));
  st = stats_of (a);
  ck_assert_uint_eq (st.direct_read_bytes - st0.direct_read_bytes,
                     sizeof buf);
  ck_assert_uint_eq (st.cache_read_bytes, st0.cache_read_bytes);

  ck_assert_int_eq (directio (b, DIRECTIO_OFF), 0);
  st0 = st;
  ck_assert_int_eq (dio_pread (a, buf, sizeof buf, 9 * sizeof buf),
                    sizeof buf);
  ck_assert (test_check (buf, sizeof buf, 9 * sizeof buf, 2));
  st = stats_of (a);
  ck_assert_uint_eq (st.cache_read_bytes - st0.cache_read_bytes, sizeof buf);
  ck_assert_uint_eq (st.direct_read_bytes, st0.direct_read_bytes);

  ck_assert_int_eq (dio_close (a), 0);
  ck_assert_int_eq (dio_close (b), 0);
}
END_TEST

/* Written cached, then directio(ON): the server has the bytes, and a
 * direct read through another descriptor returns them. */
START_TEST (test_buffered_then_direct)
{
  char *buf = malloc (256 * KiB), *got = malloc (256 * KiB);
  int a, b;

  use_data_profile (NULL);
  put_local ("b2d.bin", MiB, 3);
  a = dio_open (MNT "/b2d.bin", O_RDWR);
  b = dio_open (MNT "/b2d.bin", O_RDONLY);
  ck_assert_msg (a >= 0 && b >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_pread (b, got, 256 * KiB, 100 * KiB), 256 * KiB);

  test_fill (buf, 256 * KiB, 100 * KiB, 4);
  ck_assert_int_eq (dio_pwrite (a, buf, 256 * KiB, 100 * KiB), 256 * KiB);
  ck_assert (local_has ("b2d.bin", 100 * KiB, 256 * KiB, 3)); /* cached */
  ck_assert_int_eq (directio (a, DIRECTIO_ON), 0);
  ck_assert (local_has ("b2d.bin", 100 * KiB, 256 * KiB, 4)); /* written */

  ck_assert_int_eq (dio_pread (b, got, 256 * KiB, 100 * KiB), 256 * KiB);
  ck_assert (test_check (got, 256 * KiB, 100 * KiB, 4));
  ck_assert_uint_ge (stats_of (b).direct_read_bytes, 256 * KiB);
  ck_assert_int_eq (dio_close (a), 0);
  ck_assert_int_eq (dio_close (b), 0);
  free (buf);
  free (got);
}
END_TEST

/* Written direct, read by a cached reader that had the old bytes:
 * another client's write is seen after a reopen (close-to-open; until
 * then the attribute cache holds), and an
 * asynchronous write (always direct) drops the cached pages it covers. */
START_TEST (test_direct_then_buffered)
{
  struct test_aio w = TEST_AIO_INIT;
  char buf[64 * KiB], got[64 * KiB];
  struct dio_stats st0, st;
  int r, other, again;

  /* Attributes that hold for an hour: only the reopen revalidates. */
  use_data_profile ("actimeo=3600");
  put_local ("d2b.bin", MiB, 5);
  r = dio_open (MNT "/d2b.bin", O_RDWR);
  ck_assert_msg (r >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_pread (r, got, sizeof got, 512 * KiB), sizeof got);
  ck_assert (test_check (got, sizeof got, 512 * KiB, 5));

  /* Another client: a URL open is direct, on a mount of its own. */
  other = dio_open (test_url ("d2b.bin", NULL), O_RDWR);
  ck_assert_msg (other >= 0, "%s", dio_last_error ());
  test_fill (buf, sizeof buf, 512 * KiB, 7);
  ck_assert_int_eq (dio_pwrite (other, buf, sizeof buf, 512 * KiB),
                    sizeof buf);
  /* r still reads its cached copy... */
  st0 = stats_of (r);
  ck_assert_int_eq (dio_pread (r, got, sizeof got, 512 * KiB), sizeof got);
  st = stats_of (r);
  ck_assert_uint_eq (st.read_rpcs, st0.read_rpcs);
  ck_assert_uint_eq (st.cache_read_bytes - st0.cache_read_bytes, sizeof got);
  /* ...until the file is opened again: the new mtime drops the pages. */
  again = dio_open (MNT "/d2b.bin", O_RDONLY);
  ck_assert_msg (again >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_pread (r, got, sizeof got, 512 * KiB), sizeof got);
  ck_assert (test_check (got, sizeof got, 512 * KiB, 7));
  ck_assert_uint_gt (stats_of (r).read_rpcs, st.read_rpcs);

  /* In this process: a direct write drops what it overwrites. */
  ck_assert_int_eq (dio_pread (r, got, sizeof got, 0), sizeof got);
  ck_assert (test_check (got, sizeof got, 0, 5));
  test_fill (buf, sizeof buf, 0, 6);
  ck_assert_int_eq (dio_aio_pwrite (r, buf, sizeof buf, 0, 0, test_aio_done,
                                    &w), 0);
  test_aio_wait (&w);
  ck_assert_int_eq (w.result, sizeof buf);
  ck_assert_int_eq (dio_pread (r, got, sizeof got, 0), sizeof got);
  ck_assert (test_check (got, sizeof got, 0, 6));

  ck_assert_int_eq (dio_close (again), 0);
  ck_assert_int_eq (dio_close (other), 0);
  ck_assert_int_eq (dio_close (r), 0);
}
END_TEST

/* forcedirectio: direct from open, and DIRECTIO_OFF changes nothing. */
START_TEST (test_forcedirectio)
{
  char buf[64 * KiB];
  struct dio_stats st;
  int fd;

  use_data_profile ("forcedirectio");
  put_local ("force.bin", MiB, 8);
  fd = dio_open (MNT "/force.bin", O_RDONLY);
  ck_assert_msg (fd >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_pread (fd, buf, sizeof buf, 0), sizeof buf);
  ck_assert_int_eq (directio (fd, DIRECTIO_OFF), 0);
  ck_assert_int_eq (dio_pread (fd, buf, sizeof buf, 0), sizeof buf);
  ck_assert (test_check (buf, sizeof buf, 0, 8));
  st = stats_of (fd);
  ck_assert_uint_eq (st.direct_read_bytes, 2 * sizeof buf);
  ck_assert_uint_eq (st.cache_read_bytes, 0);
  ck_assert_int_eq (directio (fd, DIRECTIO_ON), 0);
  ck_assert_int_eq (dio_close (fd), 0);
}
END_TEST

/* nfs:// URLs are direct unless they say noforcedirectio. */
START_TEST (test_url_defaults)
{
  char buf[4 * KiB];
  struct dio_stats st;
  int d, c;

  put_local ("url.bin", MiB, 9);
  d = dio_open (test_url ("url.bin", NULL), O_RDONLY);
  c = dio_open (test_url ("url.bin", "&noforcedirectio"), O_RDONLY);
  ck_assert_msg (d >= 0 && c >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_pread (d, buf, sizeof buf, 0), sizeof buf);
  ck_assert_int_eq (directio (d, DIRECTIO_OFF), 0);
  ck_assert_int_eq (dio_pread (d, buf, sizeof buf, 0), sizeof buf);
  st = stats_of (d);
  ck_assert_uint_eq (st.direct_read_bytes, 2 * sizeof buf);
  ck_assert_uint_eq (st.cache_read_bytes, 0);
  ck_assert_int_eq (dio_pread (c, buf, sizeof buf, 0), sizeof buf);
  st = stats_of (c);
  ck_assert_uint_eq (st.direct_read_bytes, 0);
  ck_assert_uint_eq (st.cache_read_bytes, sizeof buf);
  ck_assert_int_eq (dio_close (d), 0);
  ck_assert_int_eq (dio_close (c), 0);
}
END_TEST

/* O_DIRECT at open is directio(ON) for the file: other descriptors of
 * it go direct too. */
START_TEST (test_o_direct_open)
{
  char buf[4 * KiB];
  int plain, odirect;

  use_data_profile (NULL);
  put_local ("odirect.bin", MiB, 10);
  plain = dio_open (MNT "/odirect.bin", O_RDONLY);
  ck_assert_msg (plain >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_pread (plain, buf, sizeof buf, 0), sizeof buf);
  ck_assert_uint_eq (stats_of (plain).direct_read_bytes, 0);
  odirect = dio_open (MNT "/odirect.bin", O_RDONLY | O_DIRECT);
  ck_assert_msg (odirect >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_pread (plain, buf, sizeof buf, 0), sizeof buf);
  ck_assert_uint_eq (stats_of (plain).direct_read_bytes, sizeof buf);
  ck_assert_int_eq (dio_close (odirect), 0);
  ck_assert_int_eq (dio_close (plain), 0);
}
END_TEST

/* ro: writes are EROFS, reads work. */
START_TEST (test_ro)
{
  char buf[16];
  int fd;

  use_data_profile ("ro");
  put_local ("ro.bin", 4 * KiB, 11);
  assert_fails (dio_open (MNT "/ro.bin", O_RDWR), EROFS, "read-only");
  test_assert_message ("dio_open", MNT "/ro.bin", "mounted read-only");
  assert_fails (dio_open (MNT "/new.bin", O_WRONLY | O_CREAT, 0644), EROFS,
                "read-only");
  fd = dio_open (MNT "/ro.bin", O_RDONLY);
  ck_assert_msg (fd >= 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_pread (fd, buf, sizeof buf, 0), sizeof buf);
  ck_assert (test_check (buf, sizeof buf, 0, 11));
  assert_fails (dio_pwrite (fd, buf, sizeof buf, 0), EBADF, "not open for");
  ck_assert_int_eq (dio_close (fd), 0);
  assert_fails (dio__unlink (MNT "/ro.bin"), EROFS, "read-only");
  test_assert_message ("unlink", MNT "/ro.bin", "mounted read-only");
  assert_fails (dio__mkdir (MNT "/d", 0755), EROFS, "read-only");
  ck_assert_int_eq (local_size ("ro.bin"), 4 * KiB);
}
END_TEST

/* directio() on an engine descriptor: bad advice, closed descriptor. */
START_TEST (test_engine_errors)
{
  int fd;

  use_data_profile (NULL);
  fd = dio_open (MNT "/errs.bin", O_RDWR | O_CREAT, 0644);
  ck_assert_msg (fd >= 0, "%s", dio_last_error ());
  assert_fails (directio (fd, 2), EINVAL, "bad advice 2");
  assert_fails (directio (fd, -1), EINVAL, "bad advice -1");
  ck_assert_int_eq (dio_close (fd), 0);
  assert_fails (directio (fd, DIRECTIO_ON), EBADF, "not an open");
}
END_TEST

Suite *
suite_directio_advice (void)
{
  Suite *s = suite_create ("directio-advice");
  TCase *tc = tcase_create ("advice");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_port);
  tcase_add_test (tc, test_per_file);
  tcase_add_test (tc, test_buffered_then_direct);
  tcase_add_test (tc, test_direct_then_buffered);
  tcase_add_test (tc, test_forcedirectio);
  tcase_add_test (tc, test_url_defaults);
  tcase_add_test (tc, test_o_direct_open);
  tcase_add_test (tc, test_ro);
  tcase_add_test (tc, test_engine_errors);
  suite_add_tcase (s, tc);
  return s;
}
