/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio mount's file system: mounting the export and finding the
 * root's handle, and data I/O through the engine's direct requests
 * (dreq.h) on inodes made from file handles (fsops.h).
 *
 * Threading: a struct dio__fs is immutable after dio__fs_new; an inode
 * is shared as file.h says. */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>

#include "call.h"
#include "dreq.h"
#include "errors.h"
#include "file.h"
#include "fsops-int.h"
#include "mount.h"
#include "profiles-global.h"

/* ---- data ------------------------------------------------------------ */

int
dio__fs_open (struct dio__fs *fs, const struct dio__fh *fh,
              struct dio_inode **out)
{
  struct dio_fh f = { .len = fh->len };
  struct dio_mount *m;
  const char *rel;

  dio_error_context ("open", NULL);
  memcpy (f.data, fh->data, fh->len);
  /* The inode holds a reference on the mount of its own. */
  if (dio_mount_get (&fs->u, &fs->eo, &m, &rel) == -1)
    return errno;
  *out = dio_inode_of_fh (m, &f);
  if (*out == NULL) {
    dio_mount_put (m);
    dio_error (ENOMEM, "inode");
    return ENOMEM;
  }
  return 0;
}

void
dio__fs_close (struct dio_inode *ino)
{
  dio_inode_put (ino);
}

static ssize_t
fs_io (struct dio_inode *ino, bool write, void *buf, size_t n, uint64_t off)
{
  struct iovec iov = { .iov_base = buf, .iov_len = n };
  ssize_t r = dio_dreq_run (ino, write, 0, &iov, 1, off);

  return r >= 0 ? r : -errno;
}

ssize_t
dio__fs_pread (struct dio_inode *ino, void *buf, size_t n, uint64_t off)
{
  return fs_io (ino, false, buf, n, off);
}

ssize_t
dio__fs_pwrite (struct dio_inode *ino, const void *buf, size_t n,
                uint64_t off)
{
  return fs_io (ino, true, (void *) buf, n, off);
}

int
dio__fs_pread_async (struct dio_inode *ino, void *buf, size_t n,
                     uint64_t off, dio__fs_done_fn fn, void *opaque)
{
  struct iovec iov = { .iov_base = buf, .iov_len = n };

  return dio_dreq_start (ino, false, 0, &iov, 1, off, fn, opaque) == 0
    ? 0 : errno;
}

int
dio__fs_pwrite_async (struct dio_inode *ino, const void *buf, size_t n,
                      uint64_t off, dio__fs_done_fn fn, void *opaque)
{
  struct iovec iov = { .iov_base = (void *) buf, .iov_len = n };

  return dio_dreq_start (ino, true, 0, &iov, 1, off, fn, opaque) == 0
    ? 0 : errno;
}

void
dio__fs_watch (struct dio__fs *fs, int fd, dio__fs_watch_fn fn, void *arg)
{
  dio_conn_watch (fs->m->conns[0], fd, fn, arg);
}

/* ---- the mount and its root ------------------------------------------ */

struct root_args {
  const char *rel;
  struct dio__fh fh;
};

/* libnfs 4.0 keeps the handles of the export and of opened files in a
 * private struct (file.c: struct libnfs4_fh); opening the directory is
 * the public way to walk to it. */
struct libnfs4_fh {
  int len;
  char *val;
};

static void
root_close_cb (int err, struct nfs_context *nfs, void *data, void *priv)
{
}

static void
root_cb (int err, struct nfs_context *nfs, void *data, void *priv)
{
  struct dio_call *call = priv;
  struct root_args *a = call->arg;
  struct libnfs4_fh *fh;

  if (err < 0) {
    snprintf (call->msg, sizeof call->msg, "%s", dio_text (data));
    dio_call_done (call, -err);
    return;
  }
  fh = (struct libnfs4_fh *) nfs_get_fh (data);
  if (fh->len <= 0 || (size_t) fh->len > sizeof a->fh.data)
    err = EPROTO;
  else {
    a->fh.len = fh->len;
    memcpy (a->fh.data, fh->val, fh->len);
  }
  nfs_close_async (nfs, data, root_close_cb, NULL);
  dio_call_done (call, err);
}

static int
issue_root (struct dio_call *call, struct dio_conn *conn)
{
  struct root_args *a = call->arg;

  return nfs_open2_async (dio_conn_nfs (conn), a->rel, O_RDONLY, 0,
                          root_cb, call) ? EIO : 0;
}

static int
find_root (struct dio__fs *fs, const char *url, const char *rel)
{
  struct root_args a = { .rel = rel };
  struct dio_call call;
  struct stat st;
  int err, walks = 0;

  /* ESTALE in the walk (a directory on it made again by another
   * client): once more from the export's root, as namespace.c does. */
  do
    err = dio_call_run (fs->m, &call, issue_root, &a);
  while (err == ESTALE && ++walks < 2);
  if (err)
    return dio_error_msg (err, "%s%s%s%s", strerror (err),
                          err == ESTALE ? " (again after a fresh lookup)"
                          : "", call.msg[0] ? ": " : "", call.msg);
  fs->root = a.fh;
  err = dio__fs_getattr (fs, &fs->root, &st);
  dio_error_context ("mount", url);     /* the GETATTR set its own */
  if (err)
    return dio_error_before ("GETATTR");
  if (!S_ISDIR (st.st_mode))
    return dio_error_msg (ENOTDIR, "not a directory");
  return 0;
}

int
dio__fs_new (const char *url, const char *options, struct dio__fs **out)
{
  struct dio__fs *fs;
  char *probe = NULL, *rel = NULL;
  const char *r;
  size_t len;

  dio_error_context ("mount", url);
  fs = calloc (1, sizeof *fs);
  if (fs == NULL)
    return dio_error (ENOMEM, "calloc");
  if (dio_resolve (url, options, &fs->o, &fs->u) == -1)
    goto err;
  fs->eo = fs->o;
  fs->eo.forcedirectio = true;  /* the kernel's page cache is the cache */
  /* Name a child so that an export itself can be the directory (as
   * namespace.c does). */
  if (asprintf (&probe, "%s/_", strcmp (fs->u.path, "/") ? fs->u.path : "")
      == -1) {
    probe = NULL;
    dio_error (ENOMEM, "asprintf");
    goto err;
  }
  free (fs->u.path);
  fs->u.path = probe;
  if (dio_mount_get (&fs->u, &fs->eo, &fs->m, &r) == -1)
    goto err;
  len = strlen (r) - 2;         /* without the "/_" */
  rel = len ? strndup (r, len) : strdup ("/");
  if (rel == NULL) {
    dio_error (ENOMEM, "strdup");
    goto err;
  }
  if (find_root (fs, url, rel) == -1)
    goto err;
  free (rel);
  *out = fs;
  return 0;

 err:
  free (rel);
  dio__fs_free (fs);
  return -1;
}

void
dio__fs_free (struct dio__fs *fs)
{
  int err = errno;

  if (fs == NULL)
    return;
  dio_mount_put (fs->m);
  dio_url_free (&fs->u);
  free (fs);
  errno = err;
}

const struct dio_options *
dio__fs_options (const struct dio__fs *fs)
{
  return &fs->o;
}

const struct dio__fh *
dio__fs_root (const struct dio__fs *fs)
{
  return &fs->root;
}
