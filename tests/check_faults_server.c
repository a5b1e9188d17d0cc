/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Errors the server returns: a full disk, a stale file handle, and
 * permissions changed behind the client's back.  Each must reach the
 * caller as the errno a local filesystem would give, with the contiguous
 * prefix rule for writes that fail part way: a call never reports more
 * bytes than the server holds.
 *
 * The full disk is an 8 MiB tmpfs that test-faults-server.sh mounts on
 * the export's subdirectory $DIO_FAULT_SMALLFS (in the test's private
 * mount namespace) before restarting ganesha so that it sees it. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nfsc/libnfs.h>

#include "directio.h"
#include "engine_helpers.h"
#include "fault_helpers.h"
#include "check_faults.h"

#define MiB (1024 * 1024)
#define SMALLFS_SIZE (8 * MiB)

/* "DIR/name" inside the small filesystem, in a static buffer per name
 * (the tests use a handful). */
static const char *
small_file (const char *name)
{
  static char buf[8][256];
  const char *dir = getenv ("DIO_FAULT_SMALLFS");

  ck_assert_msg (dir != NULL, "DIO_FAULT_SMALLFS is not set: run "
                 "test-faults-server.sh");
  for (int i = 0; i < 8; i++) {
    const char *slash = strrchr (buf[i], '/');
    if (buf[i][0] == '\0' || (slash && strcmp (slash + 1, name) == 0)) {
      snprintf (buf[i], sizeof buf[i], "%s/%s", dir, name);
      return buf[i];
    }
  }
  ck_abort_msg ("small_file: too many names");
  return NULL;
}

/* The server's bytes [0, len) of file are buf's. */
static bool
local_has_prefix (const char *file, const char *buf, size_t len)
{
  char *got = malloc (len + 1);
  int fd = open (test_local (file), O_RDONLY);
  bool ok = got && fd >= 0
    && pread (fd, got, len, 0) == (ssize_t) len
    && memcmp (got, buf, len) == 0;

  if (fd >= 0)
    close (fd);
  free (got);
  return ok;
}

/* A failed write: -1, ENOSPC (EFBIG would do as well), a message that
 * starts with the call's name (the one the test made). */
static void
assert_nospace (ssize_t r, const char *call)
{
  ck_assert_msg (r == -1, "%s returned %zd on a full filesystem", call, r);
  ck_assert_msg (errno == ENOSPC || errno == EFBIG, "%s: errno %d (%s): %s",
                 call, errno, strerror (errno), dio_last_error ());
  test_assert_message (call, NULL, NULL);
}

/* A write larger than the free space: either the prefix that reached the
 * server, or -1 ENOSPC; never more than the server holds. */
static ssize_t
write_past_full (int fd, const char *file, char *buf, size_t len)
{
  ssize_t r = dio_pwrite (fd, buf, len, 0);

  if (r == -1)
    assert_nospace (r, "dio_pwrite");
  else {
    ck_assert_msg (r > 0 && (size_t) r < len && r <= SMALLFS_SIZE,
                   "wrote %zd of %zu bytes into an %d-byte filesystem", r,
                   len, SMALLFS_SIZE);
    ck_assert_msg (local_has_prefix (file, buf, r),
                   "the %zd bytes reported written are not on the server", r);
  }
  return r;
}

/* Free a file's space through the server and remove it: ganesha keeps
 * the files it served open, so an unlink behind its back frees nothing. */
static void
release (int fd, const char *file)
{
  ck_assert_msg (dio_ftruncate (fd, 0) == 0, "%s", dio_last_error ());
  ck_assert_int_eq (dio_close (fd), 0);
  ck_assert_int_eq (unlink (test_local (file)), 0);
}

/* Fill the filesystem to the last page with small FILE_SYNC writes to
 * another file; each write that succeeded must be on the server.
 * Returns the open descriptor. */
static int
fill_up (const char *file, char *buf)
{
  const size_t step = 64 * 1024;
  int fd = dio_open (test_url (file, NULL), O_RDWR | O_CREAT | O_TRUNC, 0644);
  uint64_t off = 0;
  ssize_t r = 0;

  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  for (unsigned i = 0; i < SMALLFS_SIZE / step + 8; i++) {
    fault_fill (buf, step, off, 24);
    r = dio_pwrite (fd, buf, step, off);
    if (r <= 0)
      break;
    off += r;
  }
  assert_nospace (r, "dio_pwrite");
  fault_fill (buf, off, 0, 24);
  ck_assert_msg (local_has_prefix (file, buf, off), "the %" PRIu64 " bytes "
                 "reported written are not on the server", off);
  return fd;
}

START_TEST (test_enospc_prefix)
{
  size_t len = 12 * MiB;
  char *buf = malloc (len);
  const char *file = small_file ("full");
  int fd = dio_open (test_url (file, NULL), O_RDWR | O_CREAT | O_TRUNC, 0644);
  int filler;
  ssize_t r;

  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  fault_fill (buf, len, 0, 21);
  /* UNSTABLE chunks in parallel + COMMIT: the part before the first
   * chunk that failed, which may be nothing at all when later chunks
   * took the space first. */
  r = write_past_full (fd, file, buf, len);
  fprintf (stderr, "enospc: 12 MiB write into 8 MiB returned %zd\n", r);
  /* The disk is full now: small (FILE_SYNC) and large writes fail. */
  filler = fill_up (small_file ("filler"), buf);
  /* (Past the 12 MiB: chunks after the failed one may hold space.) */
  assert_nospace (dio_pwrite (fd, buf, 4096, 20 * MiB), "dio_pwrite");
  assert_nospace (dio_pwrite (fd, buf, 3 * MiB, 20 * MiB), "dio_pwrite");
  assert_nospace (dio_pwrite2 (fd, buf, 3 * MiB, 20 * MiB,
                               DIO_WRITE_UNSTABLE), "dio_pwrite2");
  /* The descriptor stays usable once there is room again. */
  release (filler, small_file ("filler"));
  ck_assert_int_eq (dio_ftruncate (fd, 0), 0);
  fault_fill (buf, len, 0, 25);
  ck_assert_int_eq (dio_pwrite (fd, buf, 2 * MiB, 0), 2 * MiB);
  ck_assert (local_has_prefix (file, buf, 2 * MiB));
  release (fd, file);
  free (buf);
}
END_TEST

/* The same with DIO_WRITE_UNSTABLE: the write returns the prefix the
 * server took, and fsync commits exactly that. */
START_TEST (test_enospc_unstable_then_fsync)
{
  size_t len = 12 * MiB;
  char *buf = malloc (len);
  const char *file = small_file ("full-unstable");
  int fd = dio_open (test_url (file, NULL), O_RDWR | O_CREAT | O_TRUNC, 0644);
  ssize_t r;

  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  fault_fill (buf, len, 0, 22);
  r = dio_pwrite2 (fd, buf, len, 0, DIO_WRITE_UNSTABLE);
  if (r == -1)
    assert_nospace (r, "dio_pwrite2");
  else
    ck_assert_msg (r > 0 && (size_t) r < len && r <= SMALLFS_SIZE,
                   "wrote %zd of %zu bytes into an %d-byte filesystem", r,
                   len, SMALLFS_SIZE);
  ck_assert_msg (dio_fsync (fd) == 0, "fsync: %s", dio_last_error ());
  if (r > 0)
    ck_assert (local_has_prefix (file, buf, r));
  /* Leave the room to the other tests: they share the filesystem. */
  release (fd, file);
  free (buf);
}
END_TEST

/* The asynchronous form reports the same through its callback. */
START_TEST (test_enospc_aio)
{
  size_t len = 12 * MiB;
  char *buf = malloc (len);
  const char *file = small_file ("full-aio");
  struct test_aio w = TEST_AIO_INIT;
  int fd = dio_open (test_url (file, NULL), O_RDWR | O_CREAT | O_TRUNC, 0644);

  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  fault_fill (buf, len, 0, 23);
  ck_assert_int_eq (dio_aio_pwrite (fd, buf, len, 0, 0, test_aio_done, &w),
                    0);
  test_aio_wait (&w);           /* the tcase timeout bounds this */
  if (w.result == -1)
    ck_assert_msg (w.err == ENOSPC || w.err == EFBIG, "error %d (%s)",
                   w.err, strerror (w.err));
  else {
    ck_assert_msg (w.result > 0 && (size_t) w.result < len
                   && w.result <= SMALLFS_SIZE, "wrote %zd", w.result);
    ck_assert (local_has_prefix (file, buf, w.result));
  }
  release (fd, file);
  free (buf);
}
END_TEST

static void
assert_errno (ssize_t r, int err, const char *call)
{
  ck_assert_msg (r == -1 && errno == err, "%s returned %zd, errno %d (%s), "
                 "wanted -1 with %s; message: %s", call, r,
                 r == -1 ? errno : 0, r == -1 ? strerror (errno) : "-",
                 strerror (err), dio_last_error ());
}

static void
write_local (const char *file, const char *buf, size_t len)
{
  int fd = open (test_local (file), O_WRONLY | O_CREAT | O_TRUNC, 0666);

  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (write (fd, buf, len), len);
  ck_assert_int_eq (close (fd), 0);
}

/* The file is removed and another made in its place on the server: the
 * old handle is stale.  ganesha keeps the old file open in its cache
 * until it restarts, as a server does across a reboot or a cache flush,
 * so the test restarts it. */
START_TEST (test_stale_handle)
{
  char buf[8192], got[8192];
  struct stat st;
  int fd, fd2;

  fault_fill (buf, sizeof buf, 0, 31);
  write_local ("stale", buf, sizeof buf);
  fd = dio_open (test_url ("stale", NULL), O_RDWR);
  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  ck_assert_int_eq (dio_pread (fd, got, sizeof got, 0), sizeof got);

  ck_assert_int_eq (unlink (test_local ("stale")), 0);
  fault_fill (buf, sizeof buf, 0, 32);
  write_local ("stale", buf, sizeof buf);
  test_ganesha ("restart");

  assert_errno (dio_pread (fd, got, sizeof got, 0), ESTALE, "dio_pread");
  assert_errno (dio_pwrite (fd, buf, 100, 0), ESTALE, "dio_pwrite");
  assert_errno (dio_pwrite (fd, buf, sizeof buf, 0), ESTALE, "dio_pwrite");
  assert_errno (dio_fstat (fd, &st), ESTALE, "dio_fstat");
  /* The message names the call, the file and the RPC. */
  test_assert_message ("dio_fstat", test_url ("stale", NULL), "GETATTR");
  ck_assert_msg (strstr (dio_last_error (), "stale") != NULL, "%s",
                 dio_last_error ());
  assert_errno (dio_ftruncate (fd, 0), ESTALE, "dio_ftruncate");
  test_assert_message ("dio_ftruncate", test_url ("stale", NULL),
                       "SETATTR");
  /* Opening the name again finds the new file. */
  fd2 = dio_open (test_url ("stale", NULL), O_RDONLY);
  ck_assert_msg (fd2 >= 0, "dio_open: %s", dio_last_error ());
  ck_assert_int_eq (dio_pread (fd2, got, sizeof got, 0), sizeof got);
  ck_assert (memcmp (got, buf, sizeof got) == 0);
  ck_assert_int_eq (dio_close (fd2), 0);
  ck_assert_int_eq (dio_close (fd), 0);
}
END_TEST

#define NOBODY "&uid=65534&gid=65534"

/* chmod through the server, as another client or an administrator would:
 * a chmod(2) behind ganesha's back would not be seen until its attribute
 * cache expires. */
static void
server_chmod (const char *file, int mode)
{
  struct nfs_context *nfs = nfs_init_context ();
  struct nfs_url *u;
  char path[256];

  ck_assert_ptr_nonnull (nfs);
  u = nfs_parse_url_dir (nfs, getenv ("DIO_TEST_URL"));
  ck_assert_msg (u != NULL, "%s", nfs_get_error (nfs));
  ck_assert_msg (nfs_mount (nfs, u->server, u->path) == 0, "mount: %s",
                 nfs_get_error (nfs));
  snprintf (path, sizeof path, "/%s", file);
  ck_assert_msg (nfs_chmod (nfs, path, mode) == 0, "chmod %s: %s", path,
                 nfs_get_error (nfs));
  nfs_destroy_url (u);
  nfs_destroy_context (nfs);
}

/* Permissions taken away on the server (by another client): a new open
 * fails with EACCES, and gets through again once they are back. */
START_TEST (test_permission_change)
{
  char buf[4096], got[4096];
  int fd, fd2;

  fault_fill (buf, sizeof buf, 0, 41);
  write_local ("perm", buf, sizeof buf);
  ck_assert_int_eq (chmod (test_local ("perm"), 0666), 0);
  fd = dio_open (test_url ("perm", NOBODY), O_RDWR);
  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  ck_assert_int_eq (dio_pread (fd, got, sizeof got, 0), sizeof got);

  server_chmod ("perm", 0);
  assert_errno (dio_open (test_url ("perm", NOBODY), O_RDONLY), EACCES,
                "dio_open");
  ck_assert_msg (strstr (dio_last_error (), "perm") != NULL, "%s",
                 dio_last_error ());
  assert_errno (dio_open (test_url ("perm", NOBODY), O_WRONLY), EACCES,
                "dio_open");
  /* NFSv3 checks each READ and WRITE too: the open descriptor loses
   * access as well. */
  assert_errno (dio_pread (fd, got, sizeof got, 0), EACCES, "dio_pread");
  assert_errno (dio_pwrite (fd, buf, sizeof buf, 0), EACCES, "dio_pwrite");

  server_chmod ("perm", 0644);
  assert_errno (dio_open (test_url ("perm", NOBODY), O_RDWR), EACCES,
                "dio_open");
  fd2 = dio_open (test_url ("perm", NOBODY), O_RDONLY);
  ck_assert_msg (fd2 >= 0, "dio_open: %s", dio_last_error ());
  ck_assert_int_eq (dio_pread (fd2, got, sizeof got, 0), sizeof got);
  ck_assert (memcmp (got, buf, sizeof got) == 0);
  ck_assert_int_eq (dio_close (fd2), 0);
  ck_assert_int_eq (dio_close (fd), 0);
}
END_TEST

/* A directory without search or write permission. */
START_TEST (test_directory_permission)
{
  ck_assert_int_eq (mkdir (test_local ("locked"), 0755), 0);
  server_chmod ("locked", 0);
  assert_errno (dio_open (test_url ("locked/f", NOBODY),
                          O_RDWR | O_CREAT, 0644), EACCES, "dio_open");
  ck_assert_int_ne (access (test_local ("locked/f"), F_OK), 0);
  server_chmod ("locked", 0555);
  assert_errno (dio_open (test_url ("locked/f", NOBODY),
                          O_RDWR | O_CREAT, 0644), EACCES, "dio_open");
  server_chmod ("locked", 0777);
  int fd = dio_open (test_url ("locked/f", NOBODY), O_RDWR | O_CREAT, 0644);
  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  ck_assert_int_eq (dio_close (fd), 0);
}
END_TEST

Suite *
suite_faults_server (void)
{
  Suite *s = suite_create ("faults_server");
  TCase *tc = tcase_create ("server");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_enospc_prefix);
  tcase_add_test (tc, test_enospc_unstable_then_fsync);
  tcase_add_test (tc, test_enospc_aio);
  tcase_add_test (tc, test_stale_handle);
  tcase_add_test (tc, test_permission_change);
  tcase_add_test (tc, test_directory_permission);
  suite_add_tcase (s, tc);
  return s;
}
