/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuse-null: the floor of a FUSE read or write on this machine, for
 * bench/fuse.sh (compiled there on the fly, not part of the product).
 *
 * A FUSE low-level file system with one file, /file, of SIZE bytes,
 * every open of it FOPEN_DIRECT_IO (as under `directio mount -o
 * forcedirectio`).  A read is answered at once, in the worker that
 * received it, from one 1 MiB buffer kept in memory (2 MiB-aligned on a
 * transparent huge page and prefaulted, as tools/mount-bufs.c's); a
 * write is answered at once and its data dropped.  The session is set
 * up as tools/mount-ops.c's init sets up the daemon's (max_read and
 * max_write 1 MiB, async_dio, max_background 64), and its workers
 * receive into huge-page buffers as tools/mount-loop.c's do.  What a
 * request costs here is what the kernel's FUSE path and libfuse cost:
 * the trip through /dev/fuse, the wake-ups, the copy of a reply into
 * the program's pinned pages (or of a write's data out of them).
 *
 * Usage: fuse-null MOUNTPOINT SIZE   (foreground; ends when unmounted)
 *
 * Threading: NWORKERS threads receive and answer requests; they share
 * only the read-only data buffer and the session. */
#define FUSE_USE_VERSION 312

#include <errno.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_IO (1024 * 1024)
#define HUGE_SIZE (2 * 1024 * 1024)
#define NWORKERS 8
#define FILE_INO 2
#define FILE_NAME "file"

static off_t file_size;
static char *data;              /* MAX_IO bytes, every read's answer */

/* size bytes on one 2 MiB huge page where the kernel allows it, touched
 * so that no request pays for a fault; NULL if out of memory. */
static void *
huge_buf (size_t size)
{
  void *b;

  if (posix_memalign (&b, HUGE_SIZE, size) != 0)
    return NULL;
  (void) madvise (b, size, MADV_HUGEPAGE);
  memset (b, 'x', size);
  return b;
}

static void
attr_of (fuse_ino_t ino, struct stat *st)
{
  memset (st, 0, sizeof *st);
  st->st_ino = ino;
  if (ino == FUSE_ROOT_ID) {
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
  }
  else {
    st->st_mode = S_IFREG | 0644;
    st->st_nlink = 1;
    st->st_size = file_size;
    st->st_blocks = file_size / 512;
  }
  st->st_blksize = MAX_IO;
}

static void
op_init (void *userdata, struct fuse_conn_info *conn)
{
  /* As tools/mount-ops.c's op_init. */
  conn->max_write = MAX_IO;
  conn->max_read = MAX_IO;
  conn->max_readahead = MAX_IO;
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
  if (conn->capable & FUSE_CAP_ASYNC_DIO)
    conn->want |= FUSE_CAP_ASYNC_DIO;
  conn->max_background = 64;
  conn->congestion_threshold = 48;
}

static void
op_lookup (fuse_req_t req, fuse_ino_t parent, const char *name)
{
  struct fuse_entry_param e = { .attr_timeout = 3600,
                                .entry_timeout = 3600 };

  if (parent != FUSE_ROOT_ID || strcmp (name, FILE_NAME) != 0) {
    fuse_reply_entry (req, &e);        /* a negative entry */
    return;
  }
  e.ino = FILE_INO;
  attr_of (FILE_INO, &e.attr);
  fuse_reply_entry (req, &e);
}

static void
op_getattr (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  struct stat st;

  attr_of (ino, &st);
  fuse_reply_attr (req, &st, 3600);
}

/* Truncations, times, modes: accepted and forgotten (the size stays). */
static void
op_setattr (fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
            struct fuse_file_info *fi)
{
  op_getattr (req, ino, fi);
}

static void
op_open (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  if (ino != FILE_INO) {
    fuse_reply_err (req, EISDIR);
    return;
  }
  fi->direct_io = 1;
  fuse_reply_open (req, fi);
}

static void
op_read (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
         struct fuse_file_info *fi)
{
  if (size > MAX_IO)
    size = MAX_IO;
  if (off >= file_size)
    size = 0;
  else if ((off_t) size > file_size - off)
    size = file_size - off;
  fuse_reply_buf (req, data, size);
}

static void
op_write (fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
          off_t off, struct fuse_file_info *fi)
{
  fuse_reply_write (req, size);
}

static void
op_ok (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  fuse_reply_err (req, 0);
}

static void
op_fsync (fuse_req_t req, fuse_ino_t ino, int datasync,
          struct fuse_file_info *fi)
{
  fuse_reply_err (req, 0);
}

static const struct fuse_lowlevel_ops ops = {
  .init = op_init,
  .lookup = op_lookup,
  .getattr = op_getattr,
  .setattr = op_setattr,
  .open = op_open,
  .read = op_read,
  .write = op_write,
  .flush = op_ok,
  .release = op_ok,
  .fsync = op_fsync,
};

/* Receive into a huge-page buffer and answer, until the session ends
 * (the unmount makes the receive fail with ENODEV). */
static void *
worker (void *arg)
{
  struct fuse_session *se = arg;
  struct fuse_buf fbuf = { .mem = huge_buf (HUGE_SIZE), .size = HUGE_SIZE };

  if (fbuf.mem == NULL) {
    fprintf (stderr, "fuse-null: out of memory\n");
    fuse_session_exit (se);
    return NULL;
  }
  while (!fuse_session_exited (se)) {
    int res = fuse_session_receive_buf (se, &fbuf);

    if (res == -EINTR)
      continue;
    if (res <= 0) {
      fuse_session_exit (se);
      break;
    }
    fuse_session_process_buf (se, &fbuf);
  }
  free (fbuf.mem);
  return NULL;
}

int
main (int argc, char **argv)
{
  char *fargv[] = { argv[0], (char *) "-o",
                    (char *) "fsname=fuse-null,subtype=null,max_read=1048576",
                    NULL };
  struct fuse_args fargs = FUSE_ARGS_INIT (3, fargv);
  struct fuse_session *se;
  pthread_t tid[NWORKERS];
  unsigned n = 0;
  char *end;

  if (argc != 3) {
    fprintf (stderr, "usage: fuse-null MOUNTPOINT SIZE\n");
    return 2;
  }
  errno = 0;
  file_size = strtoll (argv[2], &end, 10);
  if (errno || *end || end == argv[2] || file_size < 0) {
    fprintf (stderr, "fuse-null: SIZE: not a number of bytes: %s\n",
             argv[2]);
    return 2;
  }
  data = huge_buf (MAX_IO);
  if (data == NULL) {
    fprintf (stderr, "fuse-null: out of memory\n");
    return 1;
  }
  se = fuse_session_new (&fargs, &ops, sizeof ops, NULL);
  if (se == NULL || fuse_set_signal_handlers (se) == -1
      || fuse_session_mount (se, argv[1]) == -1) {
    fprintf (stderr, "fuse-null: %s: cannot mount\n", argv[1]);
    return 1;
  }
  for (n = 0; n < NWORKERS; n++)
    if (pthread_create (&tid[n], NULL, worker, se) != 0)
      break;
  for (unsigned i = 0; i < n; i++)
    pthread_join (tid[i], NULL);
  fuse_session_unmount (se);
  fuse_remove_signal_handlers (se);
  fuse_session_destroy (se);
  fuse_opt_free_args (&fargs);
  free (data);
  return n ? 0 : 1;
}
