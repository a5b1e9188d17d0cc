/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nbdkit nfsdirect plugin: one NFS file served as an uncached NBD export.
 *
 *   nbdkit nfsdirect nfs://server/export/disk.img
 *   nbdkit nfsdirect profile=NAME file=PATH
 *
 * Every read and write goes to the NFS server through libdirectio and
 * nothing is kept here, so every connection sees every other connection's
 * writes at once: that is why multi-conn is advertised.
 *
 * The engine starts its service threads when a file is opened, while
 * nbdkit forks (to daemonize, or for --run) after .config_complete, and
 * a forked child has none of its parent's engine threads (it forgets the
 * parent's mounts and makes its own).  So the file is opened twice: once
 * in .config_complete to check it (and to create or resize it), closed
 * again before nbdkit forks, and for good in .after_fork.  The engine
 * publishes a process's mount counters for `directio stat` in a file
 * named by its pid, made at its first mount (libdirectio/statsfile.c): so
 * the serving process, whose mount is made in .after_fork, publishes its
 * own, and the check's mount in the parent is gone (and its slot free)
 * before the fork.
 *
 * Threading (PARALLEL): the configuration variables are written only by
 * .config and .config_complete, before any connection exists; file_fd and
 * preferred_block are written once by .after_fork and only read after
 * that.  The data callbacks share file_fd from nbdkit's threads (the engine
 * is thread-safe).  flush_lock guards the flush state below (one COMMIT
 * at a time, shared by the flushes waiting for it; lost_writes); see
 * nfsdirect_flush for why.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "directio.h"
#include "fsops.h"
#include "libnfs-version.h"
#include "options.h"
#include "profile.h"

/* Largest request advertised to clients (nbdkit itself takes 64 MiB). */
#define MAX_REQUEST (32 * 1024 * 1024)

/* Zeroing writes this buffer, ZERO_IOVS times per engine call, so that a
 * large zero request is parallel chunks yet allocates nothing. */
#define ZERO_BUF_SIZE (1024 * 1024)
#define ZERO_IOVS 32

/* -D nfsdirect.rpc=1: log each request, its result and its time, and the
 * mount's RPC counters when nbdkit exits. */
NBDKIT_DLL_PUBLIC int nfsdirect_debug_rpc = 0;

/* Parameters (.config). */
static char *url;               /* url=, the magic key */
static char *profile_name;      /* profile= */
static char *profile_file;      /* file= */
static char *mount_options;     /* rsize=,wsize=,... as words, in order */
static bool readonly;           /* readonly= */
static bool unstable;           /* writes=unstable */
static bool create;             /* create= */
static int64_t create_size = -1; /* size= */
static bool shrink;             /* shrink= */

/* Resolved by .config_complete. */
static char *path;              /* the URL handed to dio_open_options */
static char *open_options;      /* the profile's options, then ours */
static bool serve_readonly;     /* readonly=true, or writes were refused */

/* Set once by .after_fork. */
static int file_fd = -1;
static uint32_t preferred_block = 4096;

/* See nfsdirect_flush.  Guarded by flush_lock. */
static pthread_mutex_t flush_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flush_cond = PTHREAD_COND_INITIALIZER;
static bool flushing;           /* a flush's dio_fsync is running */
static uint64_t flushes_arrived;
static uint64_t flushes_covered; /* arrived before the last COMMIT began */
static uint64_t flush_readers;  /* of those, still to take its result */
static int flush_err;           /* that COMMIT's errno, and message */
static char flush_msg[600];
static uint64_t lost_writes;    /* flushes that found lost writes */

/* Never written: the source of zeroes for .zero. */
static char zero_buf[ZERO_BUF_SIZE];

/* The per-connection handle. */
struct nfsdirect_handle {
  uint64_t lost_seen;           /* lost_writes already reported here */
};

/* ---- configuration --------------------------------------------------- */

static int
nfsdirect_set_string (char **field, const char *value)
{
  char *s = strdup (value);

  if (s == NULL) {
    nbdkit_error ("strdup: %m");
    return -1;
  }
  free (*field);
  *field = s;
  return 0;
}

/* Append "key=value" (or a bare word) to the mount options, checked
 * first by the engine's own parser so that a bad value fails here. */
static int
nfsdirect_add_option (const char *key, const char *value)
{
  struct dio_options scratch;
  char word[256], err[300];
  char *s;
  int n;

  if (value && strchr (value, ',') != NULL) {
    nbdkit_error ("%s=%s: one value only (no commas)", key, value);
    return -1;
  }
  n = value ? snprintf (word, sizeof word, "%s=%s", key, value)
            : snprintf (word, sizeof word, "%s", key);
  if (n < 0 || (size_t) n >= sizeof word) {
    nbdkit_error ("%s: value too long", key);
    return -1;
  }
  dio_options_init (&scratch);
  if (dio_options_set (&scratch, word, err, sizeof err) == -1) {
    nbdkit_error ("%s", err);
    return -1;
  }
  if (asprintf (&s, "%s%s%s", mount_options ? mount_options : "",
                mount_options ? "," : "", word) == -1) {
    nbdkit_error ("asprintf: %m");
    return -1;
  }
  free (mount_options);
  mount_options = s;
  return 0;
}

/* nbdkit_parse_bool's own message does not name the key: add it. */
static int
nfsdirect_set_bool (bool *field, const char *key, const char *value)
{
  int b = nbdkit_parse_bool (value);

  if (b == -1) {
    nbdkit_error ("%s=%s: expected a boolean (true or false)", key, value);
    return -1;
  }
  *field = b;
  return 0;
}

static bool
nfsdirect_is_numeric_option (const char *key)
{
  static const char *const keys[] = {
    "rsize", "wsize", "nconnect", "timeo", "retrans", "window", "retry",
    "spin", NULL
  };

  for (size_t i = 0; keys[i]; i++)
    if (strcmp (key, keys[i]) == 0)
      return true;
  return false;
}

static int
nfsdirect_config (const char *key, const char *value)
{
  if (strcmp (key, "url") == 0)
    return nfsdirect_set_string (&url, value);
  if (strcmp (key, "profile") == 0)
    return nfsdirect_set_string (&profile_name, value);
  if (strcmp (key, "file") == 0)
    return nfsdirect_set_string (&profile_file, value);
  if (nfsdirect_is_numeric_option (key))
    return nfsdirect_add_option (key, value);
  if (strcmp (key, "hard") == 0 || strcmp (key, "soft") == 0) {
    bool b;
    if (nfsdirect_set_bool (&b, key, value) == -1)
      return -1;
    /* hard=false means soft, and soft=false hard. */
    return nfsdirect_add_option (b == (key[0] == 's') ? "soft" : "hard",
                                 NULL);
  }
  if (strcmp (key, "readonly") == 0)
    return nfsdirect_set_bool (&readonly, key, value);
  if (strcmp (key, "writes") == 0) {
    if (strcmp (value, "stable") == 0)
      unstable = false;
    else if (strcmp (value, "unstable") == 0)
      unstable = true;
    else {
      nbdkit_error ("writes=%s: expected stable or unstable", value);
      return -1;
    }
    return 0;
  }
  if (strcmp (key, "create") == 0)
    return nfsdirect_set_bool (&create, key, value);
  if (strcmp (key, "size") == 0) {
    create_size = nbdkit_parse_size (value);
    if (create_size == -1) {
      nbdkit_error ("size=%s: expected a size such as 10G", value);
      return -1;
    }
    return 0;
  }
  if (strcmp (key, "shrink") == 0)
    return nfsdirect_set_bool (&shrink, key, value);
  nbdkit_error ("unknown parameter '%s' (see: nbdkit nfsdirect --help)", key);
  return -1;
}

/* base + "/" + rel, with base's "?query" (if any) kept at the end. */
static char *
nfsdirect_join_url (const char *base, const char *rel)
{
  const char *q = strchr (base, '?');
  size_t blen = q ? (size_t) (q - base) : strlen (base);
  bool slash = blen > 0 && base[blen - 1] == '/';
  char *s;

  if (asprintf (&s, "%.*s%s%s%s", (int) blen, base, slash ? "" : "/", rel,
                q ? q : "") == -1)
    return NULL;
  return s;
}

/* "a,b", or whichever of a and b is not NULL, or NULL. */
static char *
nfsdirect_join_options (const char *a, const char *b)
{
  char *s;

  if (a == NULL || b == NULL)
    return a || b ? strdup (a ? a : b) : NULL;
  if (asprintf (&s, "%s,%s", a, b) == -1)
    return NULL;
  return s;
}

/* profile=NAME file=PATH: the profile's url with PATH below it, and the
 * profile's options ahead of ours so that ours win. */
static int
nfsdirect_resolve_profile (void)
{
  const char *conf = dio_profiles_default_path ();
  const struct dio_profile *p;
  struct dio_profiles set;
  char err[512];
  int r = -1;

  if (profile_file[0] == '\0' || profile_file[0] == '/') {
    nbdkit_error ("file=%s: must be a path relative to the url of "
                  "profile %s", profile_file, profile_name);
    return -1;
  }
  if (dio_profiles_load (conf, &set, err, sizeof err) == -1) {
    nbdkit_error ("profile=%s: %s", profile_name, err);
    return -1;
  }
  p = dio_profiles_find (&set, profile_name);
  if (p == NULL)
    nbdkit_error ("profile=%s: no such profile in %s", profile_name, conf);
  else {
    path = nfsdirect_join_url (p->url, profile_file);
    open_options = nfsdirect_join_options (p->options, mount_options);
    if (path == NULL || ((p->options || mount_options) && !open_options))
      nbdkit_error ("asprintf: %m");
    else
      r = 0;
  }
  dio_profiles_free (&set);
  return r;
}

/* Open the file read-write, or read-only when asked or when the server
 * or the mount refuses writing (as nbdkit's file plugin does; can_write
 * then says no).  Sets serve_readonly.  O_DIRECT: uncached whatever the
 * profile's options say.  The fd, or -1 after nbdkit_error. */
static int
nfsdirect_open_file (int extra_flags, const char *options)
{
  int fd, err;

  if (!serve_readonly) {
    fd = dio_open_options (path, O_RDWR | O_DIRECT | extra_flags, 0644,
                           options);
    err = errno;
    if (fd >= 0)
      return fd;
    if (create || (err != EACCES && err != EPERM && err != EROFS)) {
      nbdkit_error ("%s", dio_last_error ());
      return -1;
    }
    nbdkit_debug ("%s: serving read-only", dio_last_error ());
    serve_readonly = true;
  }
  fd = dio_open_options (path, O_RDONLY | O_DIRECT, 0, options);
  if (fd == -1)
    nbdkit_error ("%s", dio_last_error ());
  return fd;
}

/* create=true size=SIZE: grow the file to SIZE.  Shrinking throws data
 * away, so it takes shrink=true as well. */
static int
nfsdirect_resize (int fd, int64_t current)
{
  if (create_size == current)
    return 0;
  if (create_size < current && !shrink) {
    nbdkit_error ("%s: the file has %" PRIi64 " bytes, more than size=%"
                  PRIi64 ": refusing to shrink it (add shrink=true to cut "
                  "it)", path, current, create_size);
    return -1;
  }
  if (dio_ftruncate (fd, create_size) == -1) {
    nbdkit_error ("setting the size to %" PRIi64 ": %s", create_size,
                  dio_last_error ());
    return -1;
  }
  nbdkit_debug ("%s: size %" PRIi64 " -> %" PRIi64, path, current,
                create_size);
  return 0;
}

/* Open, check and close the file before nbdkit forks, so that a bad URL,
 * an unreachable server or a missing file fails the start, where the user
 * sees the message.  linger=0: the close stops this mount and its service
 * threads at once, so that nbdkit forks with no mount left.  Otherwise
 * the check's mount would linger on in the parent, and a child would
 * inherit a copy whose threads it lacks, which it sets aside unused and
 * never frees (mount.c, "Fork"); .after_fork makes the mount that
 * serves. */
static int
nfsdirect_check_file (void)
{
  char *options = nfsdirect_join_options (open_options, "linger=0");
  struct stat st;
  int fd;

  if (options == NULL) {
    nbdkit_error ("asprintf: %m");
    return -1;
  }
  fd = nfsdirect_open_file (create ? O_CREAT : 0, options);
  free (options);
  if (fd == -1)
    return -1;
  if (dio_fstat (fd, &st) == -1) {
    nbdkit_error ("%s", dio_last_error ());
    goto err;
  }
  if (!S_ISREG (st.st_mode)) {
    nbdkit_error ("%s: not a regular file", path);
    goto err;
  }
  if (create && nfsdirect_resize (fd, st.st_size) == -1)
    goto err;
  if (dio_close (fd) == -1) {
    nbdkit_error ("%s", dio_last_error ());
    return -1;
  }
  return 0;

 err:
  dio_close (fd);
  return -1;
}

static int
nfsdirect_config_complete (void)
{
  /* A server: its engine threads poll briefly before sleeping (spin=). */
  dio__engine_spin (DIO_SERVER_SPIN_US);
  if (url == NULL && profile_name == NULL) {
    nbdkit_error ("no file given: use nbdkit nfsdirect "
                  "nfs://SERVER/EXPORT/FILE, or profile=NAME file=PATH");
    return -1;
  }
  if (url && (profile_name || profile_file)) {
    nbdkit_error ("give either a url or profile= and file=, not both");
    return -1;
  }
  if (!url && (!profile_name || !profile_file)) {
    nbdkit_error ("profile= and file= go together: give both");
    return -1;
  }
  if (create && create_size == -1) {
    nbdkit_error ("create=true needs size=SIZE");
    return -1;
  }
  if (!create && (create_size != -1 || shrink)) {
    nbdkit_error ("size= and shrink= are only used with create=true");
    return -1;
  }
  if (create && readonly) {
    nbdkit_error ("create=true and readonly=true contradict each other");
    return -1;
  }
  serve_readonly = readonly;

  if (url) {
    path = strdup (url);
    open_options = mount_options ? strdup (mount_options) : NULL;
    if (path == NULL || (mount_options && open_options == NULL)) {
      nbdkit_error ("strdup: %m");
      return -1;
    }
  }
  else if (nfsdirect_resolve_profile () == -1)
    return -1;
  nbdkit_debug ("opening %s with options %s", path,
                open_options ? open_options : "(none)");
  return nfsdirect_check_file ();
}

#define nfsdirect_config_help \
  "[url=]nfs://SERVER/EXPORT/FILE[?ARGS]\n" \
  "                        The file to serve.\n" \
  "profile=NAME file=PATH  Or: PATH below the url of profile NAME.\n" \
  "rsize=SIZE wsize=SIZE   NFS READ and WRITE sizes (default: server's).\n" \
  "nconnect=N              TCP connections to the server (default 2).\n" \
  "window=N                RPCs in flight per connection (default 1).\n" \
  "spin=US                 Poll this long before sleeping (default 50).\n" \
  "hard=true|soft=true     Retry forever (default), or time out.\n" \
  "timeo=DS retrans=N      Soft timeout (tenths of a second) and tries.\n" \
  "retry=MINUTES           How long start-up waits for the server.\n" \
  "readonly=true           Serve read-only.\n" \
  "writes=stable|unstable  Durable on return (default), or at flush.\n" \
  "create=true size=SIZE   Create the file, or grow it, to SIZE.\n" \
  "shrink=true             With create=true: allow cutting the file."

static void
nfsdirect_dump_plugin (void)
{
  printf ("nfsdirect_version=%s\n", PACKAGE_VERSION);
  printf ("libnfs_version=%s\n", LIBNFS_VERSION);
  printf ("nfsdirect_profiles=%s\n", dio_profiles_default_path ());
  printf ("nfsdirect_block_size_maximum=%d\n", MAX_REQUEST);
  printf ("nfsdirect_writes=stable,unstable\n");
}

/* ---- serving --------------------------------------------------------- */

/* Largest power of two at most wsize, within what NBD allows for the
 * preferred block size (512 bytes to 32 MiB). */
static uint32_t
nfsdirect_preferred (uint32_t wsize)
{
  uint32_t p = 512;

  while (p < MAX_REQUEST && p * 2 <= wsize)
    p *= 2;
  return p;
}

/* The engine's threads may start only now: see the top of the file. */
static int
nfsdirect_after_fork (void)
{
  struct dio_stats st;

  file_fd = nfsdirect_open_file (0, open_options);
  if (file_fd == -1)
    return -1;
  if (dio_stats (file_fd, &st) == -1) {
    nbdkit_error ("%s", dio_last_error ());
    return -1;
  }
  preferred_block = nfsdirect_preferred (st.wsize);
  nbdkit_debug ("%s: rsize=%" PRIu32 " wsize=%" PRIu32 " nconnect=%" PRIu32
                " window=%" PRIu32 ", writes %s%s", path, st.rsize, st.wsize,
                st.nconnect, st.window, unstable ? "unstable" : "stable",
                serve_readonly ? ", read-only" : "");
  return 0;
}

static void *
nfsdirect_open (int readonly_connection)
{
  struct nfsdirect_handle *h = malloc (sizeof *h);

  if (h == NULL) {
    nbdkit_error ("malloc: %m");
    return NULL;
  }
  /* Losses found before this connection existed are not its news. */
  pthread_mutex_lock (&flush_lock);
  h->lost_seen = lost_writes;
  pthread_mutex_unlock (&flush_lock);
  return h;
}

static void
nfsdirect_close (void *handle)
{
  free (handle);
}

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

/* The errno a client gets for an engine errno.  nbdkit sends the NBD
 * protocol's few error codes and turns every errno it has no code for
 * (ETIMEDOUT, ESTALE, ECONNRESET, ...) into EINVAL, "your request was
 * wrong"; for a block device those are I/O errors. */
static int
nfsdirect_client_errno (int err)
{
  switch (err) {
  case EACCES:
    return EPERM;
  case EPERM: case EROFS: case EIO: case ENOMEM: case EINVAL:
  case ENOSPC: case EDQUOT: case EFBIG:
    return err;
  default:
    return EIO;
  }
}

/* Report a failed request: a message, and the errno the client gets. */
static int __attribute__ ((format (printf, 2, 3)))
nfsdirect_fail (int err, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  nbdkit_verror (fmt, ap);
  va_end (ap);
  nbdkit_set_error (nfsdirect_client_errno (err));
  return -1;
}

static int64_t
nfsdirect_get_size (void *handle)
{
  struct stat st;

  if (dio_fstat (file_fd, &st) == -1)
    return nfsdirect_fail (errno, "%s", dio_last_error ());
  return st.st_size;
}

static int
nfsdirect_block_size (void *handle, uint32_t *minimum, uint32_t *preferred,
                      uint32_t *maximum)
{
  *minimum = 1;                 /* the engine takes any offset and length */
  *preferred = preferred_block;
  *maximum = MAX_REQUEST;
  return 0;
}

static int
nfsdirect_can_write (void *handle)
{
  return !serve_readonly;
}

static int
nfsdirect_can_flush (void *handle)
{
  return 1;
}

/* Nothing is cached on this side, so a write done through one connection
 * is read back by every other one, and a flush anywhere covers them all. */
static int
nfsdirect_can_multi_conn (void *handle)
{
  return 1;
}

static int
nfsdirect_can_fua (void *handle)
{
  return NBDKIT_FUA_NATIVE;
}

static int
nfsdirect_can_zero (void *handle)
{
  return 1;
}

/* Zeroing is writing zeroes: no faster than a write. */
static int
nfsdirect_can_fast_zero (void *handle)
{
  return 0;
}

/* NFSv3 cannot punch holes, and a trim that does nothing would only make
 * clients believe space was freed. */
static int
nfsdirect_can_trim (void *handle)
{
  return 0;
}

/* There is no cache to prefetch into. */
static int
nfsdirect_can_cache (void *handle)
{
  return NBDKIT_CACHE_NONE;
}

/* -D nfsdirect.rpc=1 timing: t0 is read only when logging. */
static void
nfsdirect_start (struct timespec *t0)
{
  if (nfsdirect_debug_rpc)
    clock_gettime (CLOCK_MONOTONIC, t0);
}

static void
nfsdirect_log (const char *op, uint32_t count, uint64_t offset,
               uint32_t flags, int r, const struct timespec *t0)
{
  struct timespec t1;
  double ms;

  if (!nfsdirect_debug_rpc)
    return;
  clock_gettime (CLOCK_MONOTONIC, &t1);
  ms = (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
  nbdkit_debug ("%s count=%" PRIu32 " offset=%" PRIu64 "%s: %s, %.3f ms",
                op, count, offset, flags & NBDKIT_FLAG_FUA ? " fua" : "",
                r == 0 ? "ok" : "failed", ms);
}

static int
nfsdirect_pread (void *handle, void *buf, uint32_t count, uint64_t offset,
                 uint32_t flags)
{
  struct timespec t0;
  uint64_t pos = offset;
  uint32_t left = count;
  char *p = buf;
  int r = 0;

  nfsdirect_start (&t0);
  /* Each pass moves at least one byte, so this ends. */
  while (left > 0 && r == 0) {
    ssize_t n = dio_pread (file_fd, p, left, pos);
    if (n == -1)
      r = nfsdirect_fail (errno, "%s", dio_last_error ());
    else if (n == 0)
      r = nfsdirect_fail (EIO, "%s: read at offset %" PRIu64 ": end of file: "
                          "the file is shorter than the export (was it "
                          "truncated on the server?)", path, pos);
    else {
      p += n;
      pos += n;
      left -= n;
    }
  }
  nfsdirect_log ("pread", count, offset, flags, r, &t0);
  return r;
}

/* writes=stable (the default): dio_pwrite returns only when the data is
 * on stable storage, so FUA needs nothing more.  writes=unstable: writes
 * go UNSTABLE and flush commits them; a FUA write is sent stable instead,
 * since FUA asks for this write to be durable, not for every other one
 * (and a COMMIT here would take over the verifier check that belongs to
 * the client's next flush). */
static int
nfsdirect_pwrite (void *handle, const void *buf, uint32_t count,
                  uint64_t offset, uint32_t flags)
{
  int wflags = unstable && !(flags & NBDKIT_FLAG_FUA) ? DIO_WRITE_UNSTABLE : 0;
  struct timespec t0;
  uint64_t pos = offset;
  uint32_t left = count;
  const char *p = buf;
  int r = 0;

  nfsdirect_start (&t0);
  while (left > 0 && r == 0) {
    ssize_t n = dio_pwrite2 (file_fd, p, left, pos, wflags);
    if (n == -1)
      r = nfsdirect_fail (errno, "%s", dio_last_error ());
    else if (n == 0)
      r = nfsdirect_fail (EIO, "%s: write at offset %" PRIu64 ": the server "
                          "wrote nothing", path, pos);
    else {
      p += n;
      pos += n;
      left -= n;
    }
  }
  nfsdirect_log ("pwrite", count, offset, flags, r, &t0);
  return r;
}

/* Write zeroes: the same zero buffer repeated in an iovec, so the engine
 * sends it as parallel chunks and nothing the size of the range is ever
 * allocated.  Always stable, so FUA holds in both write modes. */
static int
nfsdirect_zero (void *handle, uint32_t count, uint64_t offset,
                uint32_t flags)
{
  struct iovec iov[ZERO_IOVS];
  struct timespec t0;
  uint64_t pos = offset;
  uint32_t left = count;
  int r = 0;

  nfsdirect_start (&t0);
  while (left > 0 && r == 0) {
    uint32_t len = 0;
    int n;
    ssize_t w;

    for (n = 0; n < ZERO_IOVS && len < left; n++) {
      iov[n].iov_base = zero_buf;
      iov[n].iov_len = left - len < ZERO_BUF_SIZE ? left - len : ZERO_BUF_SIZE;
      len += iov[n].iov_len;
    }
    w = dio_pwritev (file_fd, iov, n, pos);
    if (w == -1)
      r = nfsdirect_fail (errno, "%s", dio_last_error ());
    else if (w == 0)
      r = nfsdirect_fail (EIO, "%s: zeroing at offset %" PRIu64 ": the server "
                          "wrote nothing", path, pos);
    else {
      pos += w;
      left -= w;
    }
  }
  nfsdirect_log ("zero", count, offset, flags, r, &t0);
  return r;
}

/* Flush: every write completed before it must be on stable storage.
 * With writes=stable that is already so and dio_fsync sends nothing;
 * with writes=unstable it COMMITs, and fails with EIO if the server
 * restarted since the writes (their verifier changed): the server may
 * have lost them, and a flush must never report success over that.
 *
 * One dio_fsync runs at a time: a loss is reported once per descriptor,
 * and two at once on the shared file_fd could each take the other's
 * report (the one whose COMMIT found the loss returning 0).  A flush that
 * arrives while one runs waits, then shares the next with every flush
 * that arrived meanwhile: a COMMIT begun after a flush arrived covers it
 * (as qemu's flushes share one; under fio --fsync=1 at iodepth 16 a
 * COMMIT each made the flushes the bottleneck).  Each result stays until
 * every flush it covers has taken it.  With multi-conn the lost writes
 * may have come through any connection, so a loss found by one flush is
 * reported once to every connection that was open then, at its next
 * flush (as Linux reports a write-back error to each open file once). */

/* Run one COMMIT for every flush arrived so far (flush_lock held, and
 * let go while it runs). */
static void
commit_for_flushes (void)
{
  uint64_t covers = flushes_arrived;
  char msg[sizeof flush_msg] = "";
  int err = 0;

  flushing = true;
  pthread_mutex_unlock (&flush_lock);
  if (dio_fsync (file_fd) == -1) {
    err = errno;
    snprintf (msg, sizeof msg, "%s", dio_last_error ());
  }
  pthread_mutex_lock (&flush_lock);
  if (err == EIO)
    lost_writes++;
  flush_err = err;
  memcpy (flush_msg, msg, sizeof msg);
  flush_readers = covers - flushes_covered;
  flushes_covered = covers;
  flushing = false;
  pthread_cond_broadcast (&flush_cond);
}

static int
nfsdirect_flush (void *handle, uint32_t flags)
{
  struct nfsdirect_handle *h = handle;
  struct timespec t0;
  char msg[sizeof flush_msg] = "";
  uint64_t ticket;
  int err;

  nfsdirect_start (&t0);
  pthread_mutex_lock (&flush_lock);
  ticket = ++flushes_arrived;
  while (flushes_covered < ticket) {
    if (!flushing && flush_readers == 0)
      commit_for_flushes ();
    else
      pthread_cond_wait (&flush_cond, &flush_lock);
  }
  err = flush_err;
  memcpy (msg, flush_msg, sizeof msg);
  if (--flush_readers == 0)
    pthread_cond_broadcast (&flush_cond);       /* the next may begin */
  if (err == 0 && h->lost_seen != lost_writes) {
    err = EIO;
    snprintf (msg, sizeof msg, "%s: writes may have been lost: an "
              "earlier flush found that the server restarted before they "
              "were committed", path);
  }
  if (err == EIO)
    h->lost_seen = lost_writes;
  pthread_mutex_unlock (&flush_lock);

  if (err)
    nfsdirect_fail (err, "flush: %s", msg);  /* msg names the file */
  nfsdirect_log ("flush", 0, 0, flags, err ? -1 : 0, &t0);
  return err ? -1 : 0;
}

/* ---- shutdown -------------------------------------------------------- */

static void
nfsdirect_cleanup (void)
{
  struct dio_stats st;

  if (file_fd == -1)
    return;
  /* No final COMMIT for writes=unstable: clients that want their writes
   * durable flush, and with a hard mount a COMMIT to a server that is
   * down would keep nbdkit from ever exiting. */
  if (nfsdirect_debug_rpc && dio_stats (file_fd, &st) == 0)
    nbdkit_debug ("%s: READ %" PRIu64 " WRITE %" PRIu64 " COMMIT %" PRIu64
                  " (for %" PRIu64 " writes) other %" PRIu64 " resends %"
                  PRIu64 " verifier changes %" PRIu64 " reconnects %" PRIu64
                  " jukebox delays %" PRIu64 " errors %" PRIu64
                  " sent by the caller %" PRIu64 " service wake-ups %" PRIu64
                  " lock waits %" PRIu64, path,
                  st.read_rpcs, st.write_rpcs, st.commit_rpcs,
                  st.commit_joins, st.other_rpcs, st.resends,
                  st.verifier_mismatches, st.reconnects, st.jukebox_delays,
                  st.errors, st.caller_sends, st.wakeups, st.lock_waits);
  dio_close (file_fd);
  file_fd = -1;
}

static void
nfsdirect_unload (void)
{
  free (url);
  free (profile_name);
  free (profile_file);
  free (mount_options);
  free (path);
  free (open_options);
}

static struct nbdkit_plugin plugin = {
  .name               = "nfsdirect",
  .longname           = "nbdkit NFS direct I/O plugin",
  .version            = PACKAGE_VERSION,
  .description        = "Serve a file on an NFS server, uncached, "
                        "through libdirectio.",
  .config             = nfsdirect_config,
  .config_complete    = nfsdirect_config_complete,
  .config_help        = nfsdirect_config_help,
  .magic_config_key   = "url",
  .dump_plugin        = nfsdirect_dump_plugin,
  .after_fork         = nfsdirect_after_fork,
  .open               = nfsdirect_open,
  .close              = nfsdirect_close,
  .get_size           = nfsdirect_get_size,
  .block_size         = nfsdirect_block_size,
  .can_write          = nfsdirect_can_write,
  .can_flush          = nfsdirect_can_flush,
  .can_multi_conn     = nfsdirect_can_multi_conn,
  .can_fua            = nfsdirect_can_fua,
  .can_zero           = nfsdirect_can_zero,
  .can_fast_zero      = nfsdirect_can_fast_zero,
  .can_trim           = nfsdirect_can_trim,
  .can_cache          = nfsdirect_can_cache,
  .pread              = nfsdirect_pread,
  .pwrite             = nfsdirect_pwrite,
  .zero               = nfsdirect_zero,
  .flush              = nfsdirect_flush,
  .cleanup            = nfsdirect_cleanup,
  .unload             = nfsdirect_unload,
};

NBDKIT_REGISTER_PLUGIN (plugin)
