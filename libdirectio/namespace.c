/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The namespace under profile mountpoints (and nfs:// URLs): stat,
 * unlink, rename, mkdir, rmdir, access, truncate and directory listing,
 * for the LD_PRELOAD shim and the tool (private.h).
 *
 * Each call resolves the path (profiles-global.c), takes a reference on
 * the export's mount for its duration (mounts go when their last
 * reference does), and issues one libnfs high-level call on a service
 * thread (call.h): sync = async + wait.  A listing is copied out of
 * libnfs on the service thread, so the DIR handed out owns no libnfs
 * state and no mount.
 *
 * Threading: the registry of open listings is guarded by dirs_lock; a
 * listing itself belongs to its caller, as a DIR does. */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>

#include "call.h"
#include "errors.h"
#include "mount.h"
#include "private.h"
#include "profiles-global.h"
#include "url.h"

/* ---- a mount for the duration of one call ---------------------------- */

struct ns {
  struct dio_options o;
  struct dio_url u;
  struct dio_mount *m;
  char *rel;                    /* the path inside the export */
};

static int
ns_begin (const char *path, struct ns *ns)
{
  char *probe, *saved;
  const char *rel;
  size_t len;
  int r;

  memset (ns, 0, sizeof *ns);
  if (path == NULL)
    return dio_error_msg (EFAULT, "path is NULL");
  if (dio_resolve (path, NULL, &ns->o, &ns->u) == -1)
    return -1;
  /* The mount probes the exports above the file's directory; name a
   * child so that the export itself (a mountpoint) can be the path. */
  if (asprintf (&probe, "%s/_", strcmp (ns->u.path, "/") ? ns->u.path : "")
      == -1) {
    dio_url_free (&ns->u);
    return dio_error (ENOMEM, "asprintf");
  }
  saved = ns->u.path;
  ns->u.path = probe;
  r = dio_mount_get (&ns->u, &ns->o, &ns->m, &rel);
  if (r == 0) {
    len = strlen (rel) - 2;     /* without the "/_" */
    ns->rel = len ? strndup (rel, len) : strdup ("/");
  }
  ns->u.path = saved;
  free (probe);
  if (r == -1) {
    int err = errno;
    dio_url_free (&ns->u);
    errno = err;
    return -1;
  }
  if (ns->rel == NULL) {
    dio_mount_put (ns->m);
    dio_url_free (&ns->u);
    return dio_error (ENOMEM, "strdup");
  }
  return 0;
}

static void
ns_end (struct ns *ns)
{
  dio_mount_put (ns->m);
  dio_url_free (&ns->u);
  free (ns->rel);
}

static int
ns_refuse_readonly (struct ns *ns)
{
  if (!ns->o.readonly)
    return 0;
  dio_error_msg (EROFS, "mounted read-only (ro)");
  ns_end (ns);
  return -1;
}

/* ---- one libnfs call ------------------------------------------------- */

struct ns_args {
  const char *path, *path2;
  int mode;
  struct stat *st;
  struct dio_dir *dir;
  bool nofollow;
  int replay_ok;                /* this errno after a replay is success */
};

typedef int (*ns_issue_fn) (struct nfs_context *nfs, struct ns_args *a,
                            nfs_cb cb, void *call);

static void
ns_cb (int err, struct nfs_context *nfs, void *data, void *priv)
{
  struct dio_call *call = priv;

  if (err < 0) {
    snprintf (call->msg, sizeof call->msg, "%s", dio_text (data));
    dio_call_done (call, dio_libnfs_errno (-err, call->msg));
    return;
  }
  dio_call_done (call, 0);
}

/* Run one call; -1 with the reason (the caller's context names the call
 * and the path).
 *
 * A call whose connection died before its reply is sent again on the
 * next one with a new XID, which the server's duplicate request cache
 * cannot match: if the first attempt ran, a replayed REMOVE, RMDIR or
 * RENAME finds no name (ENOENT) and a replayed MKDIR finds its directory
 * (EEXIST).  That answer is then the first attempt's success (as far as
 * can be told: the first may also have died in libnfs's LOOKUPs before
 * it).
 *
 * ESTALE (a directory of the path, or the object, was removed and made
 * again by another client between two steps of the walk; or the call's
 * own RPC on the handle the walk found) walks the path once more from
 * the export's root, as Linux's VFS does (LOOKUP_REVAL).  libnfs keeps
 * no directory handles between calls, only the export root's, so the
 * second walk looks every name up afresh; a second ESTALE is the
 * answer.  The call failed on the stale handle, so nothing was done. */
static int
ns_run (struct ns *ns, dio_call_issue_fn issue, struct ns_args *a)
{
  struct dio_call call;
  bool replayed = false;
  int err, walks = 0;

  do {
    err = dio_call_run (ns->m, &call, issue, a);
    replayed |= call.job.replays > 0;
  } while (err == ESTALE && ++walks < 2);
  if (err && err == a->replay_ok && replayed)
    err = 0;
  if (err == 0)
    return 0;
  return dio_error_msg (err, "%s%s%s%s", strerror (err),
                        err == ESTALE ? " (again after a fresh lookup)" : "",
                        call.msg[0] ? ": " : "", call.msg);
}

/* ---- stat ------------------------------------------------------------ */

static void
stat_cb (int err, struct nfs_context *nfs, void *data, void *priv)
{
  struct dio_call *call = priv;
  struct ns_args *a = call->arg;
  const struct nfs_stat_64 *s = data;
  struct stat *st = a->st;

  if (err < 0) {
    ns_cb (err, nfs, data, priv);
    return;
  }
  /* As dio_fstat fills it (file.c), so both agree on a file. */
  memset (st, 0, sizeof *st);
  st->st_dev = s->nfs_dev;
  st->st_ino = s->nfs_ino;
  st->st_mode = s->nfs_mode;
  st->st_nlink = s->nfs_nlink;
  st->st_uid = s->nfs_uid;
  st->st_gid = s->nfs_gid;
  st->st_rdev = s->nfs_rdev;
  st->st_size = s->nfs_size;
  st->st_blksize = 1024 * 1024;
  st->st_blocks = (s->nfs_used + 511) / 512;
  st->st_atim.tv_sec = s->nfs_atime;
  st->st_atim.tv_nsec = s->nfs_atime_nsec;
  st->st_mtim.tv_sec = s->nfs_mtime;
  st->st_mtim.tv_nsec = s->nfs_mtime_nsec;
  st->st_ctim.tv_sec = s->nfs_ctime;
  st->st_ctim.tv_nsec = s->nfs_ctime_nsec;
  dio_call_done (call, 0);
}

static int
issue_stat (struct dio_call *call, struct dio_conn *conn)
{
  struct ns_args *a = call->arg;
  struct nfs_context *nfs = dio_conn_nfs (conn);
  int r = a->nofollow ? nfs_lstat64_async (nfs, a->path, stat_cb, call)
    : nfs_stat64_async (nfs, a->path, stat_cb, call);

  return r == 0 ? 0 : EIO;
}

static int
do_stat (const char *path, struct stat *st, bool nofollow)
{
  struct ns ns;
  struct ns_args a = { .st = st, .nofollow = nofollow };
  int r;

  if (st == NULL)
    return dio_error_msg (EFAULT, "st is NULL");
  if (ns_begin (path, &ns) == -1)
    return -1;
  a.path = ns.rel;
  r = ns_run (&ns, issue_stat, &a);
  ns_end (&ns);
  return r;
}

int
dio__stat (const char *path, struct stat *st)
{
  dio_error_context ("stat", path);
  return do_stat (path, st, false);
}

int
dio__lstat (const char *path, struct stat *st)
{
  dio_error_context ("lstat", path);
  return do_stat (path, st, true);
}

/* ---- calls that only succeed or fail --------------------------------- */

static int
issue_unlink (struct dio_call *call, struct dio_conn *conn)
{
  struct ns_args *a = call->arg;
  return nfs_unlink_async (dio_conn_nfs (conn), a->path, ns_cb, call)
    ? EIO : 0;
}

static int
issue_rmdir (struct dio_call *call, struct dio_conn *conn)
{
  struct ns_args *a = call->arg;
  return nfs_rmdir_async (dio_conn_nfs (conn), a->path, ns_cb, call)
    ? EIO : 0;
}

static int
issue_mkdir (struct dio_call *call, struct dio_conn *conn)
{
  struct ns_args *a = call->arg;
  return nfs_mkdir2_async (dio_conn_nfs (conn), a->path, a->mode, ns_cb,
                           call) ? EIO : 0;
}

static int
issue_access (struct dio_call *call, struct dio_conn *conn)
{
  struct ns_args *a = call->arg;
  return nfs_access_async (dio_conn_nfs (conn), a->path, a->mode, ns_cb,
                           call) ? EIO : 0;
}

static int
issue_rename (struct dio_call *call, struct dio_conn *conn)
{
  struct ns_args *a = call->arg;
  return nfs_rename_async (dio_conn_nfs (conn), a->path, a->path2, ns_cb,
                           call) ? EIO : 0;
}

/* A call on one path that changes the namespace (so not under ro). */
static int
simple (const char *path, dio_call_issue_fn issue, int mode, bool writes,
        int replay_ok)
{
  struct ns ns;
  struct ns_args a = { .mode = mode, .replay_ok = replay_ok };
  int r;

  if (ns_begin (path, &ns) == -1)
    return -1;
  if (writes && ns_refuse_readonly (&ns) == -1)
    return -1;
  a.path = ns.rel;
  r = ns_run (&ns, issue, &a);
  ns_end (&ns);
  return r;
}

int
dio__unlink (const char *path)
{
  dio_error_context ("unlink", path);
  return simple (path, issue_unlink, 0, true, ENOENT);
}

int
dio__rmdir (const char *path)
{
  dio_error_context ("rmdir", path);
  return simple (path, issue_rmdir, 0, true, ENOENT);
}

int
dio__mkdir (const char *path, mode_t mode)
{
  dio_error_context ("mkdir", path);
  return simple (path, issue_mkdir, mode & 07777, true, EEXIST);
}

int
dio__access (const char *path, int mode)
{
  dio_error_context ("access", path);
  if (mode & ~(R_OK | W_OK | X_OK))
    return dio_error_msg (EINVAL, "bad mode 0%o", mode);
  return simple (path, issue_access, mode, (mode & W_OK) != 0, 0);
}

int
dio__rename (const char *from, const char *to)
{
  struct ns a, b;
  struct ns_args args;
  int r = -1;

  dio_error_context ("rename", from);
  if (ns_begin (from, &a) == -1)
    return -1;
  dio_error_file (to);
  if (ns_begin (to, &b) == -1) {
    ns_end (&a);
    return -1;
  }
  dio_error_file (from);                /* the rest is about from */
  /* One export, one mount: anything else is another filesystem. */
  if (a.m != b.m)
    dio_error_msg (EXDEV, "to %s: not on the same mount", to);
  else if (!a.o.readonly) {
    args = (struct ns_args) { .path = a.rel, .path2 = b.rel,
                              .replay_ok = ENOENT };
    r = ns_run (&a, issue_rename, &args);
  }
  else
    dio_error_msg (EROFS, "mounted read-only (ro)");
  ns_end (&b);
  ns_end (&a);
  return r;
}

int
dio__truncate (const char *path, off_t length)
{
  int fd = dio_open (path, O_WRONLY);
  int r;

  if (fd == -1)
    return -1;
  r = dio_ftruncate (fd, length);
  if (dio_close (fd) == -1)
    r = -1;
  return r;
}

/* ---- directory listings ---------------------------------------------- */

struct dio_dir_entry {
  char *name;
  uint64_t ino;
  unsigned char type;           /* DT_* */
};

struct dio_dir {
  struct dio_dir *next;         /* registry */
  struct dio_dir_entry *v;
  size_t n, pos;
  struct dirent ent;            /* what readdir returns */
};

static pthread_mutex_t dirs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dio_dir *dirs;

/* Held across fork (fork.c). */
__attribute__ ((constructor))
static void
dirs_atfork (void)
{
  dio_fork_hold (&dirs_lock);
}

static unsigned char
dtype (uint32_t nfs_type)
{
  switch (nfs_type) {
  case NF3REG: return DT_REG;
  case NF3DIR: return DT_DIR;
  case NF3BLK: return DT_BLK;
  case NF3CHR: return DT_CHR;
  case NF3LNK: return DT_LNK;
  case NF3SOCK: return DT_SOCK;
  case NF3FIFO: return DT_FIFO;
  default: return DT_UNKNOWN;
  }
}

static void
dir_free (struct dio_dir *d)
{
  if (d == NULL)
    return;
  for (size_t i = 0; i < d->n; i++)
    free (d->v[i].name);
  free (d->v);
  free (d);
}

/* Service thread: copy libnfs's listing and give it back. */
static int
dir_copy (struct nfs_context *nfs, struct nfsdir *nd, struct dio_dir *d)
{
  struct nfsdirent *e;
  size_t cap = 0;

  while ((e = nfs_readdir (nfs, nd)) != NULL) {
    if (strlen (e->name) >= sizeof d->ent.d_name)
      continue;                 /* cannot be returned in a dirent */
    if (d->n == cap) {
      struct dio_dir_entry *v;
      cap = cap ? cap * 2 : 64;
      v = realloc (d->v, cap * sizeof *v);
      if (v == NULL)
        return ENOMEM;
      d->v = v;
    }
    d->v[d->n].name = strdup (e->name);
    if (d->v[d->n].name == NULL)
      return ENOMEM;
    d->v[d->n].ino = e->inode;
    d->v[d->n].type = dtype (e->type);
    d->n++;
  }
  return 0;
}

static void
opendir_cb (int err, struct nfs_context *nfs, void *data, void *priv)
{
  struct dio_call *call = priv;
  struct ns_args *a = call->arg;

  if (err < 0) {
    ns_cb (err, nfs, data, priv);
    return;
  }
  err = dir_copy (nfs, data, a->dir);
  nfs_closedir (nfs, data);
  dio_call_done (call, err);
}

static int
issue_opendir (struct dio_call *call, struct dio_conn *conn)
{
  struct ns_args *a = call->arg;
  return nfs_opendir_async (dio_conn_nfs (conn), a->path, opendir_cb, call)
    ? EIO : 0;
}

DIR *
dio__opendir (const char *path)
{
  struct ns ns;
  struct ns_args a = { 0 };
  struct dio_dir *d;

  dio_error_context ("opendir", path);
  if (ns_begin (path, &ns) == -1)
    return NULL;
  d = calloc (1, sizeof *d);
  if (d == NULL) {
    dio_error (ENOMEM, "listing");
    ns_end (&ns);
    return NULL;
  }
  a.path = ns.rel;
  a.dir = d;
  if (ns_run (&ns, issue_opendir, &a) == -1) {
    dir_free (d);
    ns_end (&ns);
    return NULL;
  }
  ns_end (&ns);
  pthread_mutex_lock (&dirs_lock);
  d->next = dirs;
  dirs = d;
  pthread_mutex_unlock (&dirs_lock);
  return (DIR *) d;
}

int
dio__is_dir (DIR *dir)
{
  struct dio_dir *d;

  pthread_mutex_lock (&dirs_lock);
  for (d = dirs; d && d != (struct dio_dir *) dir; d = d->next)
    ;
  pthread_mutex_unlock (&dirs_lock);
  return d != NULL;
}

struct dirent *
dio__readdir (DIR *dir)
{
  struct dio_dir *d = (struct dio_dir *) dir;
  struct dio_dir_entry *e;

  if (d->pos >= d->n)
    return NULL;                /* end: errno untouched */
  e = &d->v[d->pos++];
  memset (&d->ent, 0, sizeof d->ent);
  d->ent.d_ino = e->ino;
  d->ent.d_off = d->pos;
  d->ent.d_reclen = sizeof d->ent;
  d->ent.d_type = e->type;
  strcpy (d->ent.d_name, e->name);
  return &d->ent;
}

void
dio__rewinddir (DIR *dir)
{
  ((struct dio_dir *) dir)->pos = 0;
}

int
dio__closedir (DIR *dir)
{
  struct dio_dir **pp, *d = (struct dio_dir *) dir;
  bool found;

  dio_error_context ("closedir", NULL);
  pthread_mutex_lock (&dirs_lock);
  for (pp = &dirs; *pp && *pp != d; pp = &(*pp)->next)
    ;
  found = *pp != NULL;
  if (found)
    *pp = d->next;
  pthread_mutex_unlock (&dirs_lock);
  if (!found)
    return dio_error_msg (EBADF, "not a libdirectio listing");
  dir_free (d);
  return 0;
}
