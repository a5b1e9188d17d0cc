/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File-system operations on NFS file handles for `directio mount`
 * (fsops.h): each is one raw NFSv3 RPC issued on a service thread while
 * the caller waits (call.h: sync = async + wait), its result copied out
 * on the service thread.  The mount, its root and data I/O are in
 * fsops-mount.c.
 *
 * Threading: a struct dio__fs is immutable after dio__fs_new, so any
 * number of threads use it at once; each call's state is on its
 * caller's stack.  Results are written by the service thread before it
 * signals the caller (dio_call_rpc_done). */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>

#include "call.h"
#include "errors.h"
#include "file.h"
#include "fsops-int.h"
#include "mount.h"

/* ---- one RPC --------------------------------------------------------- */

struct rpc_req {
  dio_fs_send_fn send;
  void *args;
  dio_fs_take_fn take;
  void *out;
};

#define SENDER(call, type)                                              \
  static int                                                            \
  send_##call (struct rpc_context *rpc, rpc_cb cb, void *args, void *p) \
  {                                                                     \
    return rpc_nfs3_##call##_async (rpc, cb, (type *) args, p);        \
  }
SENDER (getattr, GETATTR3args)
SENDER (setattr, SETATTR3args)
SENDER (lookup, LOOKUP3args)
SENDER (access, ACCESS3args)
SENDER (readlink, READLINK3args)
SENDER (create, CREATE3args)
SENDER (mkdir, MKDIR3args)
SENDER (symlink, SYMLINK3args)
SENDER (mknod, MKNOD3args)
SENDER (remove, REMOVE3args)
SENDER (rmdir, RMDIR3args)
SENDER (rename, RENAME3args)
SENDER (link, LINK3args)
SENDER (readdirplus, READDIRPLUS3args)
SENDER (fsstat, FSSTAT3args)
SENDER (commit, COMMIT3args)

static void
rpc_req_cb (struct rpc_context *rpc, int status, void *data, void *priv)
{
  struct dio_call *call = priv;
  struct rpc_req *r = call->arg;
  int err = dio_call_rpc_errno (call, status, data);

  if (err == 0 && r->take)
    err = r->take (data, r->out);
  dio_call_rpc_done (call, status, data, err);
}

static int
issue_rpc (struct dio_call *call, struct dio_conn *conn)
{
  struct rpc_req *r = call->arg;

  return r->send (dio_conn_rpc (conn), rpc_req_cb, r->args, call) == 0
    ? 0 : EIO;
}

int
dio_fs_rpc (struct dio__fs *fs, const char *what, dio_fs_send_fn send,
            void *args, dio_fs_take_fn take, void *out)
{
  struct rpc_req r = { .send = send, .args = args, .take = take,
                       .out = out };
  struct dio_call call;
  int err;

  /* The dio__fs_* calls are entry points on file handles (no names):
   * each is one RPC, which names the call. */
  dio_error_context (what, NULL);
  err = dio_call_run (fs->m, &call, issue_rpc, &r);
  if (err)
    dio_error_msg (err, "%s%s%s", strerror (err),
                   call.msg[0] ? ": " : "", call.msg);
  return err;
}

/* ---- conversions ----------------------------------------------------- */

static nfs_fh3
fh3 (const struct dio__fh *fh)
{
  return (nfs_fh3) { .data = { .data_len = fh->len,
                               .data_val = (char *) fh->data } };
}

static int
copy_fh (const nfs_fh3 *from, struct dio__fh *to)
{
  if (from->data.data_len == 0 || from->data.data_len > sizeof to->data)
    return EPROTO;
  to->len = from->data.data_len;
  memcpy (to->data, from->data.data_val, to->len);
  return 0;
}

static diropargs3
dirop (const struct dio__fh *dir, const char *name)
{
  return (diropargs3) { .dir = fh3 (dir), .name = (char *) name };
}

static sattr3
sattr (const struct dio__fs_sattr *sa)
{
  sattr3 s;

  memset (&s, 0, sizeof s);
  if (sa == NULL)
    return s;
  if (sa->valid & DIO_FS_SET_MODE) {
    s.mode.set_it = 1;
    s.mode.set_mode3_u.mode = sa->mode & 07777;
  }
  if (sa->valid & DIO_FS_SET_UID) {
    s.uid.set_it = 1;
    s.uid.set_uid3_u.uid = sa->uid;
  }
  if (sa->valid & DIO_FS_SET_GID) {
    s.gid.set_it = 1;
    s.gid.set_gid3_u.gid = sa->gid;
  }
  if (sa->valid & DIO_FS_SET_SIZE) {
    s.size.set_it = 1;
    s.size.set_size3_u.size = sa->size;
  }
  if (sa->valid & DIO_FS_SET_ATIME_NOW)
    s.atime.set_it = SET_TO_SERVER_TIME;
  else if (sa->valid & DIO_FS_SET_ATIME) {
    s.atime.set_it = SET_TO_CLIENT_TIME;
    s.atime.set_atime_u.atime.seconds = sa->atime.tv_sec;
    s.atime.set_atime_u.atime.nseconds = sa->atime.tv_nsec;
  }
  if (sa->valid & DIO_FS_SET_MTIME_NOW)
    s.mtime.set_it = SET_TO_SERVER_TIME;
  else if (sa->valid & DIO_FS_SET_MTIME) {
    s.mtime.set_it = SET_TO_CLIENT_TIME;
    s.mtime.set_mtime_u.mtime.seconds = sa->mtime.tv_sec;
    s.mtime.set_mtime_u.mtime.nseconds = sa->mtime.tv_nsec;
  }
  return s;
}

/* ---- attributes ------------------------------------------------------ */

/* The attributes a reply's post_op_attr p carries into st, if it carries
 * any: whether it does. */
static bool
take_post_op_attr (const post_op_attr *p, struct stat *st)
{
  if (p->attributes_follow)
    dio_fattr_to_stat (&p->post_op_attr_u.attributes, st);
  return p->attributes_follow;
}

static int
take_getattr (void *res, void *out)
{
  dio_fattr_to_stat (&((GETATTR3res *) res)->GETATTR3res_u.resok
                     .obj_attributes, out);
  return 0;
}

int
dio__fs_getattr (struct dio__fs *fs, const struct dio__fh *fh,
                 struct stat *st)
{
  GETATTR3args a = { .object = fh3 (fh) };

  return dio_fs_rpc (fs, "GETATTR", send_getattr, &a, take_getattr, st);
}

/* Post-operation attributes, if the server sent them. */
struct attr_out {
  struct stat *st;
  bool have;
};

static int
take_wcc_after (void *res, void *out)
{
  wcc_data *w = &((SETATTR3res *) res)->SETATTR3res_u.resok.obj_wcc;
  struct attr_out *o = out;

  o->have = take_post_op_attr (&w->after, o->st);
  return 0;
}

int
dio__fs_setattr (struct dio__fs *fs, const struct dio__fh *fh,
                 const struct dio__fs_sattr *sa, struct stat *st)
{
  SETATTR3args a = { .object = fh3 (fh), .new_attributes = sattr (sa) };
  struct attr_out o = { .st = st };
  int err = dio_fs_rpc (fs, "SETATTR", send_setattr, &a, take_wcc_after, &o);

  if (err == 0 && !o.have)
    err = dio__fs_getattr (fs, fh, st);      /* none in the reply */
  return err;
}

/* ---- LOOKUP and new objects ------------------------------------------ */

struct obj_out {
  struct dio__fh *fh;
  struct stat *st;
  bool have_fh, have_attr;
};

static int
take_lookup (void *res, void *out)
{
  LOOKUP3resok *ok = &((LOOKUP3res *) res)->LOOKUP3res_u.resok;
  struct obj_out *o = out;
  int err = copy_fh (&ok->object, o->fh);

  o->have_fh = err == 0;
  o->have_attr = take_post_op_attr (&ok->obj_attributes, o->st);
  return err;
}

int
dio__fs_lookup (struct dio__fs *fs, const struct dio__fh *dir,
                const char *name, struct dio__fh *out, struct stat *st)
{
  LOOKUP3args a = { .what = dirop (dir, name) };
  struct obj_out o = { .fh = out, .st = st };
  int err = dio_fs_rpc (fs, "LOOKUP", send_lookup, &a, take_lookup, &o);

  if (err == 0 && !o.have_attr)
    err = dio__fs_getattr (fs, out, st);
  return err;
}

/* CREATE, MKDIR, SYMLINK and MKNOD answer alike: post_op_fh3 obj, then
 * post_op_attr obj_attributes. */
static int
take_new (void *res, void *out)
{
  CREATE3resok *ok = &((CREATE3res *) res)->CREATE3res_u.resok;
  struct obj_out *o = out;

  o->have_fh = ok->obj.handle_follows
    && copy_fh (&ok->obj.post_op_fh3_u.handle, o->fh) == 0;
  o->have_attr = take_post_op_attr (&ok->obj_attributes, o->st);
  return 0;
}

/* After a call that made name in dir: its handle and attributes, by
 * LOOKUP or GETATTR if the reply lacked them. */
static int
new_object (struct dio__fs *fs, const struct dio__fh *dir, const char *name,
            struct obj_out *o)
{
  if (!o->have_fh)
    return dio__fs_lookup (fs, dir, name, o->fh, o->st);
  if (!o->have_attr)
    return dio__fs_getattr (fs, o->fh, o->st);
  return 0;
}

int
dio__fs_create (struct dio__fs *fs, const struct dio__fh *dir,
                const char *name, const struct dio__fs_sattr *sa,
                bool excl, struct dio__fh *out, struct stat *st)
{
  CREATE3args a = { .where = dirop (dir, name) };
  struct obj_out o = { .fh = out, .st = st };
  int err;

  if (excl) {
    /* EXCLUSIVE with a verifier, so that a CREATE sent again after a
     * reconnect finds its own file (DESIGN.md, "Replays"); the server
     * keeps the verifier in the times, so the attributes follow. */
    uint64_t v = dio_now_ms () ^ ((uint64_t) getpid () << 32)
      ^ (uintptr_t) &a;
    a.how.mode = EXCLUSIVE;
    memcpy (a.how.createhow3_u.verf, &v, sizeof v);
  }
  else {
    a.how.mode = UNCHECKED;
    a.how.createhow3_u.obj_attributes = sattr (sa);
  }
  err = dio_fs_rpc (fs, "CREATE", send_create, &a, take_new, &o);
  if (err == 0)
    err = new_object (fs, dir, name, &o);
  if (err == 0 && excl && sa) {
    struct dio__fs_sattr s = *sa;
    s.valid |= DIO_FS_SET_ATIME_NOW | DIO_FS_SET_MTIME_NOW;
    err = dio__fs_setattr (fs, out, &s, st);
  }
  return err;
}

int
dio__fs_mkdir (struct dio__fs *fs, const struct dio__fh *dir,
               const char *name, const struct dio__fs_sattr *sa,
               struct dio__fh *out, struct stat *st)
{
  MKDIR3args a = { .where = dirop (dir, name), .attributes = sattr (sa) };
  struct obj_out o = { .fh = out, .st = st };
  int err = dio_fs_rpc (fs, "MKDIR", send_mkdir, &a, take_new, &o);

  return err ? err : new_object (fs, dir, name, &o);
}

int
dio__fs_symlink (struct dio__fs *fs, const struct dio__fh *dir,
                 const char *name, const char *target,
                 const struct dio__fs_sattr *sa,
                 struct dio__fh *out, struct stat *st)
{
  SYMLINK3args a = {
    .where = dirop (dir, name),
    .symlink = { .symlink_attributes = sattr (sa),
                 .symlink_data = (char *) target },
  };
  struct obj_out o = { .fh = out, .st = st };
  int err = dio_fs_rpc (fs, "SYMLINK", send_symlink, &a, take_new, &o);

  return err ? err : new_object (fs, dir, name, &o);
}

int
dio__fs_mknod (struct dio__fs *fs, const struct dio__fh *dir,
               const char *name, mode_t type, dev_t rdev,
               const struct dio__fs_sattr *sa,
               struct dio__fh *out, struct stat *st)
{
  MKNOD3args a = { .where = dirop (dir, name) };
  struct obj_out o = { .fh = out, .st = st };
  devicedata3 dev = {
    .dev_attributes = sattr (sa),
    .spec = { .specdata1 = major (rdev), .specdata2 = minor (rdev) },
  };
  int err;

  switch (type & S_IFMT) {
  case S_IFREG:
    return dio__fs_create (fs, dir, name, sa, true, out, st);
  case S_IFCHR:
    a.what.type = NF3CHR;
    a.what.mknoddata3_u.chr_device = dev;
    break;
  case S_IFBLK:
    a.what.type = NF3BLK;
    a.what.mknoddata3_u.blk_device = dev;
    break;
  case S_IFIFO:
    a.what.type = NF3FIFO;
    a.what.mknoddata3_u.pipe_attributes = sattr (sa);
    break;
  case S_IFSOCK:
    a.what.type = NF3SOCK;
    a.what.mknoddata3_u.sock_attributes = sattr (sa);
    break;
  default:
    dio_error_context ("MKNOD", name);
    dio_error_msg (EINVAL, "bad file type 0%o", (unsigned) type);
    return EINVAL;
  }
  err = dio_fs_rpc (fs, "MKNOD", send_mknod, &a, take_new, &o);
  return err ? err : new_object (fs, dir, name, &o);
}

static int
take_link (void *res, void *out)
{
  LINK3resok *ok = &((LINK3res *) res)->LINK3res_u.resok;
  struct obj_out *o = out;

  o->have_attr = take_post_op_attr (&ok->file_attributes, o->st);
  return 0;
}

int
dio__fs_link (struct dio__fs *fs, const struct dio__fh *fh,
              const struct dio__fh *dir, const char *name, struct stat *st)
{
  LINK3args a = { .file = fh3 (fh), .link = dirop (dir, name) };
  struct obj_out o = { .st = st };
  int err = dio_fs_rpc (fs, "LINK", send_link, &a, take_link, &o);

  if (err == 0 && !o.have_attr)
    err = dio__fs_getattr (fs, fh, st);
  return err;
}

/* ---- removal and rename ---------------------------------------------- */

int
dio__fs_unlink (struct dio__fs *fs, const struct dio__fh *dir,
                const char *name)
{
  REMOVE3args a = { .object = dirop (dir, name) };

  return dio_fs_rpc (fs, "REMOVE", send_remove, &a, NULL, NULL);
}

int
dio__fs_rmdir (struct dio__fs *fs, const struct dio__fh *dir,
               const char *name)
{
  RMDIR3args a = { .object = dirop (dir, name) };

  return dio_fs_rpc (fs, "RMDIR", send_rmdir, &a, NULL, NULL);
}

int
dio__fs_rename (struct dio__fs *fs, const struct dio__fh *dir,
                const char *name, const struct dio__fh *newdir,
                const char *newname)
{
  RENAME3args a = { .from = dirop (dir, name),
                    .to = dirop (newdir, newname) };

  return dio_fs_rpc (fs, "RENAME", send_rename, &a, NULL, NULL);
}

/* ---- READLINK -------------------------------------------------------- */

static int
take_readlink (void *res, void *out)
{
  char *s = strdup (((READLINK3res *) res)->READLINK3res_u.resok.data);

  *(char **) out = s;
  return s ? 0 : ENOMEM;
}

int
dio__fs_readlink (struct dio__fs *fs, const struct dio__fh *fh,
                  char **target)
{
  READLINK3args a = { .symlink = fh3 (fh) };

  *target = NULL;
  return dio_fs_rpc (fs, "READLINK", send_readlink, &a, take_readlink, target);
}

/* ---- READDIRPLUS ----------------------------------------------------- */

struct rdp_out {
  struct dio__fs_dir *d;
  size_t cap;
  uint64_t cookie;
  char verf[NFS3_COOKIEVERFSIZE];
  bool eof;
};

static int
rdp_add (struct rdp_out *o, const entryplus3 *e)
{
  struct dio__fs_dirent *de;

  if (o->d->n == o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 64;
    struct dio__fs_dirent *v = realloc (o->d->v, cap * sizeof *v);
    if (v == NULL)
      return ENOMEM;
    o->d->v = v;
    o->cap = cap;
  }
  de = &o->d->v[o->d->n];
  memset (de, 0, sizeof *de);
  de->name = strdup (e->name);
  if (de->name == NULL)
    return ENOMEM;
  de->fileid = e->fileid;
  de->has_fh = e->name_handle.handle_follows
    && copy_fh (&e->name_handle.post_op_fh3_u.handle, &de->fh) == 0;
  de->has_attr = take_post_op_attr (&e->name_attributes, &de->st);
  o->d->n++;
  return 0;
}

static int
take_readdirplus (void *res, void *out)
{
  READDIRPLUS3resok *ok = &((READDIRPLUS3res *) res)->READDIRPLUS3res_u.resok;
  struct rdp_out *o = out;
  bool any = false;

  memcpy (o->verf, ok->cookieverf, sizeof o->verf);
  o->eof = ok->reply.eof;
  /* libnfs decodes the entries into its own arena without aligning
   * them (UBSan: misaligned entryplus3): read each through a copy. */
  for (const void *p = ok->reply.entries; p; ) {
    entryplus3 e;
    memcpy (&e, p, sizeof e);
    p = e.nextentry;
    o->cookie = e.cookie;
    any = true;
    if (strcmp (e.name, ".") == 0 || strcmp (e.name, "..") == 0)
      continue;
    int err = rdp_add (o, &e);
    if (err)
      return err;
  }
  /* Neither an entry nor the end: the listing would never finish. */
  return any || o->eof ? 0 : EIO;
}

int
dio__fs_readdir (struct dio__fs *fs, const struct dio__fh *dir,
                 struct dio__fs_dir *out)
{
  struct rdp_out o = { .d = out };
  int err = 0;

  memset (out, 0, sizeof *out);
  while (!o.eof && err == 0) {
    READDIRPLUS3args a = { .dir = fh3 (dir), .cookie = o.cookie,
                           .dircount = 32768, .maxcount = 131072 };
    memcpy (a.cookieverf, o.verf, sizeof o.verf);
    err = dio_fs_rpc (fs, "READDIRPLUS", send_readdirplus, &a,
                  take_readdirplus, &o);
  }
  if (err)
    dio__fs_dir_free (out);
  return err;
}

void
dio__fs_dir_free (struct dio__fs_dir *d)
{
  for (size_t i = 0; i < d->n; i++)
    free (d->v[i].name);
  free (d->v);
  d->v = NULL;
  d->n = 0;
}

/* ---- FSSTAT, ACCESS, COMMIT ------------------------------------------ */

static int
take_fsstat (void *res, void *out)
{
  FSSTAT3resok *ok = &((FSSTAT3res *) res)->FSSTAT3res_u.resok;
  struct statvfs *sv = out;
  const unsigned long bs = 4096;

  memset (sv, 0, sizeof *sv);
  sv->f_bsize = bs;
  sv->f_frsize = bs;
  sv->f_blocks = ok->tbytes / bs;
  sv->f_bfree = ok->fbytes / bs;
  sv->f_bavail = ok->abytes / bs;
  sv->f_files = ok->tfiles;
  sv->f_ffree = ok->ffiles;
  sv->f_favail = ok->afiles;
  sv->f_namemax = 255;
  return 0;
}

int
dio__fs_statfs (struct dio__fs *fs, struct statvfs *sv)
{
  FSSTAT3args a = { .fsroot = fh3 (&fs->root) };

  return dio_fs_rpc (fs, "FSSTAT", send_fsstat, &a, take_fsstat, sv);
}

static int
take_access (void *res, void *out)
{
  *(uint32_t *) out = ((ACCESS3res *) res)->ACCESS3res_u.resok.access;
  return 0;
}

int
dio__fs_access (struct dio__fs *fs, const struct dio__fh *fh, uint32_t want,
                uint32_t *granted)
{
  ACCESS3args a = { .object = fh3 (fh), .access = want };

  *granted = 0;
  return dio_fs_rpc (fs, "ACCESS", send_access, &a, take_access, granted);
}

int
dio__fs_commit (struct dio__fs *fs, const struct dio__fh *fh)
{
  COMMIT3args a = { .file = fh3 (fh) };

  return dio_fs_rpc (fs, "COMMIT", send_commit, &a, NULL, NULL);
}
