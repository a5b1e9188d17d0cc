/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File-system operations on NFS file handles, for the FUSE daemon of
 * `directio mount` (tools/mount-*.c): the raw NFSv3 namespace RPCs
 * (LOOKUP, CREATE, READDIRPLUS, ...) and data I/O through the engine's
 * direct requests (dreq.h: parallel chunks, UNSTABLE + COMMIT + verifier,
 * durable on return).  Exported under LIBDIRECTIO_PRIVATE by the dio__
 * prefix: not a stable interface.
 *
 * Calls return 0 or a positive errno (an NFS status mapped as for every
 * engine call; ETIMEDOUT on a soft mount that got no answer); the detail
 * is in dio_last_error().  Every call may be made from any number of
 * threads at once. */
#ifndef DIO_FSOPS_H
#define DIO_FSOPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>

#include "options.h"

struct dio__fs;
struct dio_inode;

/* An NFSv3 file handle (at most NFS3_FHSIZE bytes). */
struct dio__fh {
  uint32_t len;
  unsigned char data[64];
};

/* Mount url (an nfs:// URL; its arguments apply) with options (the
 * mount-option words, or NULL) applied after it.  The export is mounted
 * at once (under hard, waiting for the server as dio_open does).  0, or
 * -1 with dio_last_error() ("mount: URL: reason") and errno. */
int dio__fs_new (const char *url, const char *options, struct dio__fs **out);
void dio__fs_free (struct dio__fs *fs);             /* accepts NULL */

/* The options in force, and the handle of the URL's directory. */
const struct dio_options *dio__fs_options (const struct dio__fs *fs);
const struct dio__fh *dio__fs_root (const struct dio__fs *fs);

/* Attributes to set (SETATTR and the attributes of new objects). */
#define DIO_FS_SET_MODE      0x01
#define DIO_FS_SET_UID       0x02
#define DIO_FS_SET_GID       0x04
#define DIO_FS_SET_SIZE      0x08
#define DIO_FS_SET_ATIME     0x10
#define DIO_FS_SET_MTIME     0x20
#define DIO_FS_SET_ATIME_NOW 0x40
#define DIO_FS_SET_MTIME_NOW 0x80

struct dio__fs_sattr {
  unsigned valid;               /* DIO_FS_SET_* */
  mode_t mode;
  uid_t uid;
  gid_t gid;
  uint64_t size;
  struct timespec atime, mtime;
};

int dio__fs_getattr (struct dio__fs *fs, const struct dio__fh *fh,
                     struct stat *st);
int dio__fs_setattr (struct dio__fs *fs, const struct dio__fh *fh,
                     const struct dio__fs_sattr *sa, struct stat *st);
int dio__fs_lookup (struct dio__fs *fs, const struct dio__fh *dir,
                    const char *name, struct dio__fh *out, struct stat *st);

/* New objects: out and st describe what was made.  sa may be NULL; a
 * create with excl fails with EEXIST if name exists. */
int dio__fs_create (struct dio__fs *fs, const struct dio__fh *dir,
                    const char *name, const struct dio__fs_sattr *sa,
                    bool excl, struct dio__fh *out, struct stat *st);
int dio__fs_mkdir (struct dio__fs *fs, const struct dio__fh *dir,
                   const char *name, const struct dio__fs_sattr *sa,
                   struct dio__fh *out, struct stat *st);
int dio__fs_mknod (struct dio__fs *fs, const struct dio__fh *dir,
                   const char *name, mode_t type, dev_t rdev,
                   const struct dio__fs_sattr *sa,
                   struct dio__fh *out, struct stat *st);
int dio__fs_symlink (struct dio__fs *fs, const struct dio__fh *dir,
                     const char *name, const char *target,
                     const struct dio__fs_sattr *sa,
                     struct dio__fh *out, struct stat *st);
int dio__fs_link (struct dio__fs *fs, const struct dio__fh *fh,
                  const struct dio__fh *dir, const char *name,
                  struct stat *st);
int dio__fs_unlink (struct dio__fs *fs, const struct dio__fh *dir,
                    const char *name);
int dio__fs_rmdir (struct dio__fs *fs, const struct dio__fh *dir,
                   const char *name);
int dio__fs_rename (struct dio__fs *fs, const struct dio__fh *dir,
                    const char *name, const struct dio__fh *newdir,
                    const char *newname);

/* *target is a new string for the caller to free. */
int dio__fs_readlink (struct dio__fs *fs, const struct dio__fh *fh,
                      char **target);

/* A whole directory listing (READDIRPLUS until EOF), without "." and
 * "..".  has_fh/has_attr say whether the server sent the handle and
 * attributes of an entry. */
struct dio__fs_dirent {
  char *name;
  uint64_t fileid;
  bool has_fh, has_attr;
  struct dio__fh fh;
  struct stat st;
};

struct dio__fs_dir {
  struct dio__fs_dirent *v;
  size_t n;
};

int dio__fs_readdir (struct dio__fs *fs, const struct dio__fh *dir,
                     struct dio__fs_dir *out);
void dio__fs_dir_free (struct dio__fs_dir *d);       /* accepts zeroed */

int dio__fs_statfs (struct dio__fs *fs, struct statvfs *sv);

/* ACCESS: *granted is the subset of want (ACCESS3_* bits) allowed. */
int dio__fs_access (struct dio__fs *fs, const struct dio__fh *fh,
                    uint32_t want, uint32_t *granted);

/* COMMIT the whole file (fsync). */
int dio__fs_commit (struct dio__fs *fs, const struct dio__fh *fh);

/* Data I/O: an open file is the engine's inode of fh (shared by every
 * open of it in this process), always direct. */
int dio__fs_open (struct dio__fs *fs, const struct dio__fh *fh,
                  struct dio_inode **out);
void dio__fs_close (struct dio_inode *ino);           /* accepts NULL */

/* Bytes transferred, or -errno.  Reads stop short only at EOF; writes
 * are on stable storage when they return. */
ssize_t dio__fs_pread (struct dio_inode *ino, void *buf, size_t n,
                       uint64_t off);
ssize_t dio__fs_pwrite (struct dio_inode *ino, const void *buf, size_t n,
                        uint64_t off);

/* The same read, asynchronous: fn runs once, on an engine thread (at
 * once in the caller's for n == 0), with the bytes read or -1 and the
 * errno; buf must stay valid until then.  0, or an errno (fn not
 * called). */
typedef void (*dio__fs_done_fn) (void *opaque, ssize_t result, int err);
int dio__fs_pread_async (struct dio_inode *ino, void *buf, size_t n,
                         uint64_t off, dio__fs_done_fn fn, void *opaque);

/* The same write, asynchronous: fn runs once the bytes it reports are
 * on stable storage, as for dio__fs_pwrite; buf must stay valid until
 * then.  0, or an errno (fn not called). */
int dio__fs_pwrite_async (struct dio_inode *ino, const void *buf, size_t n,
                          uint64_t off, dio__fs_done_fn fn, void *opaque);

/* Run fn(arg) on the engine thread that completes the mount's
 * asynchronous requests (its first connection's) whenever fd, a
 * non-blocking descriptor, is readable: fn may start asynchronous
 * requests (dio__fs_pread_async) but must not wait for the engine, and
 * returns false to stop.  fn NULL stops the watch; once that returns,
 * fn is not running and will not run again.  Not from fn itself.  The
 * directio mount daemon reads its FUSE requests so (mount-loop.c). */
typedef bool (*dio__fs_watch_fn) (void *arg);
void dio__fs_watch (struct dio__fs *fs, int fd, dio__fs_watch_fn fn,
                    void *arg);

/* The same for the mount of dio_fd, a descriptor from dio_open: the
 * thread is the one that completes its asynchronous requests
 * (dio_aio_pread) on the mount's first connection.  0, or -1 with
 * errno EBADF.  The directio nbd server reads its clients' requests so
 * (tools/nbd-serve.c). */
int dio__fd_watch (int dio_fd, int fd, dio__fs_watch_fn fn, void *arg);

/* Run fn on every engine thread after each batch of replies it reads
 * (before its watch runs) and before it waits for more: work that
 * completion callbacks left for it, such as replies to send together.
 * With may_hold true more replies are due and the thread polls for
 * them without sleeping: fn may keep work back for a later call and
 * then returns true; the thread calls fn (may_hold false) before it
 * sleeps.  fn must not call the engine.  One
 * hook per process; NULL removes it, though a thread already in its
 * pass may still call the old fn once.  dio__engine_thread says
 * whether a callback runs on such a thread (and so whether fn will run
 * on it before it sleeps).  directio nbd batches replies so
 * (tools/nbd-serve.c). */
typedef bool (*dio__pass_fn) (bool may_hold);
void dio__engine_pass_hook (dio__pass_fn fn);
bool dio__engine_thread (void);

/* spin= for the mounts this process makes from now on that do not say
 * (microseconds, capped at DIO_MAX_SPIN_US; the library's own default
 * is 0).  A server whose whole job is the engine sets it: see
 * libdirectio/spin.c for why. */
#define DIO_SERVER_SPIN_US 50
void dio__engine_spin (uint32_t us);

#endif /* DIO_FSOPS_H */
