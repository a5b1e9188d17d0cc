/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bad input against the engine: each a clear error, nothing lost. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "directio.h"
#include "engine_helpers.h"
#include "check_engine.h"

static void
assert_error (int r, int err, const char *words)
{
  ck_assert_int_eq (r, -1);
  ck_assert_msg (errno == err, "errno %d (%s), wanted %d (%s); message: %s",
                 errno, strerror (errno), err, strerror (err),
                 dio_last_error ());
  ck_assert_msg (strstr (dio_last_error (), words) != NULL,
                 "message \"%s\" lacks \"%s\"", dio_last_error (), words);
}

START_TEST (test_malformed_urls)
{
  assert_error (dio_open ("http://h/x", O_RDONLY), ENOENT, "http://h/x");
  assert_error (dio_open ("nfs://", O_RDONLY), EINVAL, "no server name");
  assert_error (dio_open ("nfs://h", O_RDONLY), EINVAL, "no path");
  assert_error (dio_open ("nfs:///export/f", O_RDONLY), EINVAL, "no server");
  assert_error (dio_open ("nfs://h/e/../f", O_RDONLY), EINVAL, "..");
  assert_error (dio_open ("nfs://h/e/f?rsize=abc", O_RDONLY), EINVAL,
                "rsize=abc");
  assert_error (dio_open ("nfs://h/e/f?frobnicate=1", O_RDONLY), EINVAL,
                "frobnicate");
  assert_error (dio_open ("nfs://h/e/f?nconnect=99", O_RDONLY), EINVAL,
                "nconnect=99");
  assert_error (dio_open (NULL, O_RDONLY), EFAULT, "NULL");
}
END_TEST

/* Nothing listens on the port: with retry=0 (one attempt; a hard first
 * mount otherwise waits for the server) a prompt error naming the
 * server. */
START_TEST (test_unreachable)
{
  double t0 = test_now ();
  int fd = dio_open ("nfs://127.0.0.1/export/f?nfsport=1&mountport=1"
                     "&retry=0", O_RDONLY);
  ck_assert_int_eq (fd, -1);
  ck_assert_msg (strstr (dio_last_error (), "127.0.0.1") != NULL, "%s",
                 dio_last_error ());
  ck_assert_msg (test_now () - t0 < 30, "took %.1f s", test_now () - t0);
}
END_TEST

/* A server that accepts connections and never answers holds up only the
 * opens on it: an open on the real server meanwhile is prompt.  The
 * silent server is a listening socket nobody accepts from; closing it
 * resets the stuck connection, and that open fails naming the server. */
struct silent_open {
  char url[200];
  int fd;
  int err;
  char msg[600];
  bool done;                    /* atomic */
};

static void *
open_silent (void *arg)
{
  struct silent_open *s = arg;

  s->fd = dio_open (s->url, O_RDONLY);
  s->err = errno;
  snprintf (s->msg, sizeof s->msg, "%s", dio_last_error ());
  __atomic_store_n (&s->done, true, __ATOMIC_RELEASE);
  return NULL;
}

START_TEST (test_silent_server_blocks_no_one_else)
{
  struct sockaddr_in sa = { .sin_family = AF_INET,
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof sa;
  int lfd = socket (AF_INET, SOCK_STREAM, 0);
  struct silent_open s = { .fd = -1 };
  struct pollfd pfd;
  pthread_t t;
  double t0;
  int fd;

  ck_assert_int_ge (lfd, 0);
  ck_assert_int_eq (bind (lfd, (struct sockaddr *) &sa, sizeof sa), 0);
  ck_assert_int_eq (listen (lfd, 8), 0);
  ck_assert_int_eq (getsockname (lfd, (struct sockaddr *) &sa, &len), 0);
  snprintf (s.url, sizeof s.url, "nfs://127.0.0.1/silent/f?nfsport=%d"
            "&mountport=%d&retry=0", ntohs (sa.sin_port),
            ntohs (sa.sin_port));
  ck_assert_int_eq (pthread_create (&t, NULL, open_silent, &s), 0);

  /* Its MOUNT connection waits in the listen queue. */
  pfd = (struct pollfd) { .fd = lfd, .events = POLLIN };
  ck_assert_int_eq (poll (&pfd, 1, 20000), 1);

  t0 = test_now ();
  fd = dio_open (test_url ("silent-ok", NULL), O_RDWR | O_CREAT, 0644);
  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  ck_assert_msg (test_now () - t0 < 10, "took %.1f s", test_now () - t0);
  ck_assert_msg (!__atomic_load_n (&s.done, __ATOMIC_ACQUIRE),
                 "the silent server's open finished early: %s", s.msg);
  dio_close (fd);

  close (lfd);                  /* resets the connection in the queue */
  pthread_join (t, NULL);
  ck_assert_int_eq (s.fd, -1);
  ck_assert_msg (strstr (s.msg, "127.0.0.1") != NULL, "%s", s.msg);
}
END_TEST

/* Opens racing for one mount: with no descriptor open, every round of
 * 6 threads mounts afresh.  One thread makes the mount while the others
 * wait for it; each then opens an existing file or a missing one, and
 * those that fail drop their reference at once, possibly before the
 * maker is scheduled again.  A stress test of the pending-mount path
 * (under ASan and TSan too), not a certain reproduction of that race. */
#define RACE_THREADS 6
#define RACE_ROUNDS 20

static pthread_barrier_t race_barrier;

struct racer {
  int id;
  char msg[300];
};

static void *
race_open (void *arg)
{
  struct racer *r = arg;

  /* Every round, whatever happened: the others wait at the barriers. */
  for (int round = 0; round < RACE_ROUNDS; round++) {
    bool exists = (r->id + round) % 2 == 0;
    int fd;

    pthread_barrier_wait (&race_barrier);
    fd = dio_open (test_url (exists ? "race-here" : "race-missing", NULL),
                   O_RDONLY);
    if (r->msg[0] != '\0')
      ;                         /* keep the first failure */
    else if (exists && fd < 0)
      snprintf (r->msg, sizeof r->msg, "round %d: open: %s", round,
                dio_last_error ());
    else if (!exists && (fd >= 0 || errno != ENOENT))
      snprintf (r->msg, sizeof r->msg, "round %d: missing file gave fd %d "
                "errno %d: %s", round, fd, errno, dio_last_error ());
    if (fd >= 0)
      dio_close (fd);
    pthread_barrier_wait (&race_barrier);     /* all closed: unmounted */
  }
  return NULL;
}

START_TEST (test_concurrent_opens_share_a_mount)
{
  struct racer r[RACE_THREADS];
  pthread_t t[RACE_THREADS];
  int fd = dio_open (test_url ("race-here", NULL), O_RDWR | O_CREAT, 0644);

  ck_assert_msg (fd >= 0, "dio_open: %s", dio_last_error ());
  dio_close (fd);
  ck_assert_int_eq (pthread_barrier_init (&race_barrier, NULL, RACE_THREADS),
                    0);
  for (int i = 0; i < RACE_THREADS; i++) {
    r[i] = (struct racer) { .id = i };
    ck_assert_int_eq (pthread_create (&t[i], NULL, race_open, &r[i]), 0);
  }
  for (int i = 0; i < RACE_THREADS; i++)
    pthread_join (t[i], NULL);
  pthread_barrier_destroy (&race_barrier);
  for (int i = 0; i < RACE_THREADS; i++)
    ck_assert_msg (r[i].msg[0] == '\0', "thread %d: %s", i, r[i].msg);
}
END_TEST

START_TEST (test_missing_export_and_file)
{
  int fd = dio_open (test_url ("nosuchfile", NULL), O_RDONLY);
  assert_error (fd, ENOENT, "nosuchfile");
  fd = dio_open ("nfs://127.0.0.1/export?nfsport=12049&mountport=12050",
                 O_RDONLY);
  assert_error (fd, EISDIR, "exported directory");
  fd = dio_open ("nfs://127.0.0.1/noexport/f?nfsport=12049&mountport=12050",
                 O_RDONLY);
  ck_assert_int_eq (fd, -1);
  ck_assert_msg (strstr (dio_last_error (), "/noexport") != NULL, "%s",
                 dio_last_error ());
}
END_TEST

START_TEST (test_permission_denied)
{
  int fd;

  test_create ("secret", 0600);
  fd = dio_open (test_url ("secret", "&uid=65534&gid=65534"), O_RDONLY);
  assert_error (fd, EACCES, "secret");
}
END_TEST

START_TEST (test_directory_refused)
{
  test_mkdir ("adir");
  assert_error (dio_open (test_url ("adir", NULL), O_RDONLY), EISDIR,
                "is a directory");
  assert_error (dio_open (test_url ("adir", NULL), O_RDWR), EISDIR,
                "is a directory");
}
END_TEST

START_TEST (test_bad_ranges)
{
  char buf[16];
  struct iovec big[2] = { { buf, SSIZE_MAX }, { buf, 16 } };
  int fd = dio_open (test_url ("ranges", NULL), O_RDWR | O_CREAT, 0644);

  ck_assert_int_ge (fd, 0);
  assert_error (dio_pread (fd, buf, 1, -1), EINVAL, "negative offset");
  assert_error (dio_pwrite (fd, buf, 1, -5), EINVAL, "negative offset");
  assert_error (dio_preadv (fd, big, 2, 0), EINVAL, "SSIZE_MAX");
  assert_error (dio_pread (fd, buf, SIZE_MAX, 0), EINVAL, "SSIZE_MAX");
  assert_error (dio_pwrite (fd, buf, 16, INT64_MAX - 4), EFBIG, "overflows");
  assert_error (dio_pread (fd, NULL, 16, 0), EFAULT, "NULL");
  assert_error (dio_preadv (fd, big, -1, 0), EINVAL, "iovcnt");
  assert_error (dio_lseek (fd, -1, SEEK_SET), EINVAL, "out of range");
  assert_error (dio_lseek (fd, 0, 42), EINVAL, "whence");
  assert_error (dio_ftruncate (fd, -1), EINVAL, "negative");
  assert_error (dio_pwrite2 (fd, buf, 1, 0, 0x100), EINVAL, "flags");
  dio_close (fd);
}
END_TEST

START_TEST (test_append_refused)
{
  assert_error (dio_open (test_url ("app", NULL),
                          O_WRONLY | O_CREAT | O_APPEND, 0644),
                EINVAL, "O_APPEND");
  ck_assert (!test_exists ("app"));
}
END_TEST

START_TEST (test_closed_fd)
{
  char buf[4];
  struct stat st;
  int fd = dio_open (test_url ("closed", NULL), O_RDWR | O_CREAT, 0644);

  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (dio_close (fd), 0);
  assert_error (dio_pread (fd, buf, 4, 0), EBADF, "not an open");
  assert_error (dio_pwrite (fd, buf, 4, 0), EBADF, "not an open");
  assert_error (dio_fstat (fd, &st), EBADF, "not an open");
  assert_error (dio_close (fd), EBADF, "not a libdirectio");
  assert_error (dio_close (-1), EBADF, "not open");
  ck_assert_int_eq (dio_is_dio_fd (fd), 0);
  /* A kernel fd is not ours either. */
  assert_error (dio_pread (0, buf, 4, 0), EBADF, "fd 0");
}
END_TEST

START_TEST (test_readonly_option)
{
  char buf[4] = "abc";
  int fd = dio_open (test_url ("ro", "&ro"), O_RDWR | O_CREAT, 0644);
  assert_error (fd, EROFS, "read-only");
  test_create ("ro", 0644);
  fd = dio_open (test_url ("ro", "&ro"), O_RDONLY);
  ck_assert_int_ge (fd, 0);
  assert_error (dio_pwrite (fd, buf, 3, 0), EBADF, "not open for writing");
  dio_close (fd);
}
END_TEST

/* libdirectio's one rule for messages: "call: file: reason", the call and
 * the file named once each, by the entry point; the reason from below. */
static void
assert_exact (int r, const char *want)
{
  ck_assert_int_eq (r, -1);
  ck_assert_msg (strcmp (dio_last_error (), want) == 0,
                 "message \"%s\", wanted \"%s\"", dio_last_error (), want);
}

START_TEST (test_message_shapes)
{
  char url[512], want[1024], buf[16];
  struct stat st;
  int fd;

  assert_exact (dio_open ("nfs:///export/f", O_RDONLY),
                "dio_open: nfs:///export/f: no server name");
  assert_exact (dio_open ("nfs://h/e/f?frobnicate=1", O_RDONLY),
                "dio_open: nfs://h/e/f?frobnicate=1: frobnicate=1: unknown "
                "option");
  assert_exact (dio_open (NULL, O_RDONLY), "dio_open: path is NULL");
  /* dio_open is dio_open_options without options: each names itself. */
  assert_exact (dio_open_options ("nfs:///export/f", O_RDONLY, 0, NULL),
                "dio_open_options: nfs:///export/f: no server name");

  test_mkdir ("shape-dir");
  snprintf (url, sizeof url, "%s", test_url ("shape-dir", NULL));
  snprintf (want, sizeof want, "dio_open: %s: is a directory", url);
  assert_exact (dio_open (url, O_RDONLY), want);

  /* A failure from a call on the server: the call and the file once. */
  snprintf (url, sizeof url, "%s", test_url ("shape-none", NULL));
  ck_assert_int_eq (dio_open (url, O_RDONLY), -1);
  test_assert_message ("dio_open", url, "No such file or directory");

  snprintf (url, sizeof url, "%s", test_url ("shape", NULL));
  fd = dio_open (url, O_RDWR | O_CREAT, 0644);
  ck_assert_int_ge (fd, 0);
  snprintf (want, sizeof want, "dio_pread: %s: negative offset -1", url);
  assert_exact (dio_pread (fd, buf, 1, -1), want);
  snprintf (want, sizeof want, "dio_pwrite: %s: negative offset -5", url);
  assert_exact (dio_pwrite (fd, buf, 1, -5), want);
  snprintf (want, sizeof want, "dio_lseek: %s: bad whence 42", url);
  assert_exact (dio_lseek (fd, 0, 42), want);
  snprintf (want, sizeof want, "dio_ftruncate: %s: negative length", url);
  assert_exact (dio_ftruncate (fd, -1), want);
  /* Refused before the descriptor is looked up: no file yet. */
  assert_exact (dio_pwrite2 (fd, buf, 1, 0, 0x100),
                "dio_pwrite2: unknown flags 0x100");
  assert_exact (dio_fstat (fd, NULL), "dio_fstat: st is NULL");
  ck_assert_int_eq (dio_close (fd), 0);
  snprintf (want, sizeof want,
            "dio_fstat: fd %d: not an open libdirectio descriptor", fd);
  assert_exact (dio_fstat (fd, &st), want);
  snprintf (want, sizeof want, "dio_close: fd %d: not a libdirectio "
            "descriptor", fd);
  assert_exact (dio_close (fd), want);
}
END_TEST

Suite *
suite_engine_errors (void)
{
  Suite *s = suite_create ("engine_errors");
  TCase *tc = tcase_create ("errors");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_malformed_urls);
  tcase_add_test (tc, test_unreachable);
  tcase_add_test (tc, test_silent_server_blocks_no_one_else);
  tcase_add_test (tc, test_concurrent_opens_share_a_mount);
  tcase_add_test (tc, test_missing_export_and_file);
  tcase_add_test (tc, test_permission_denied);
  tcase_add_test (tc, test_directory_refused);
  tcase_add_test (tc, test_bad_ranges);
  tcase_add_test (tc, test_append_refused);
  tcase_add_test (tc, test_closed_fd);
  tcase_add_test (tc, test_readonly_option);
  tcase_add_test (tc, test_message_shapes);
  suite_add_tcase (s, tc);
  return s;
}
