/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Open files.  An inode is one file of one mount, shared by every
 * descriptor of that file in the process: directio() advice attaches to
 * it, as on Solaris.  An open file description (ofd) is what dup()
 * shares: access mode, status flags and the file offset. */
#ifndef DIO_FILE_H
#define DIO_FILE_H

#include <sys/stat.h>
#include <sys/types.h>

#include "cache.h"
#include "commit.h"
#include "internal.h"

struct dio_mount;

struct dio_inode {
  /* Immutable. */
  struct dio_mount *mount;
  struct dio_fh fh;

  /* Guarded by mount->inode_lock. */
  struct dio_inode *next;
  unsigned refs;

  bool direct;                  /* atomic: direct I/O advice; changed
                                   only with mode_lock held exclusive */

  /* Buffered I/O holds mode_lock shared while it runs; switching to
   * direct holds it exclusive, so no cached write slips in after the
   * switch's write-back. */
  pthread_rwlock_t mode_lock;

  /* Buffered-mode state (cache.h), guarded by the mount's cache lock. */
  struct dio_cache_file cf;

  /* Guarded by lock: writes sent UNSTABLE and not yet committed, and
   * how many times such writes were found lost (an errseq: each open
   * file description hears of a loss once, at its next fsync). */
  pthread_mutex_t lock;
  bool unstable_pending, unstable_broken;
  char unstable_verf[NFS3_VERF_SIZE];
  unsigned loss_seq;

  /* Held across a COMMIT of the ledger, so that a second fsync waits for
   * the first's verdict instead of returning over an empty ledger. */
  pthread_mutex_t sync_lock;

  /* Durable direct writes share COMMITs through this (commit.h). */
  struct dio_commit_group commit;
};

/* An RPC's file handle pointing at the inode's (no copy), for the
 * initialiser of the RPC's arguments: the fields it leaves out are 0. */
struct nfs_fh3;
struct nfs_fh3 dio_inode_fh3 (const struct dio_inode *ino);

struct dio_ofd {
  /* Immutable. */
  struct dio_inode *ino;
  int flags;                    /* open flags (access mode, O_DIRECT...) */
  char *name;                   /* as opened, for messages */

  unsigned refs;                /* atomic */

  /* Guarded by pos_lock, held across read/write/lseek as the kernel
   * holds f_pos_lock. */
  pthread_mutex_t pos_lock;
  uint64_t pos;

  /* Guarded by the mount's cache lock (cache.h). */
  unsigned wb_seen;             /* write-back errors reported so far */
  unsigned loss_seen;           /* ino->loss_seq reported so far (lock) */
  struct dio_cache_ra ra;       /* sequential readahead */
};

/* Open rel (a path inside m's export) with open(2) flags and mode; on
 * success *out holds a new ofd (one reference) and its inode, and the
 * caller's reference to m is consumed; name is the file's name in later
 * messages (f->name).  -1 with dio_error's reason on failure (the
 * reference is still the caller's). */
int dio_file_open (struct dio_mount *m, const char *rel, const char *name,
                   int flags, mode_t mode, struct dio_ofd **out);

/* After dio_file_open: apply the open's direct-I/O choice (O_DIRECT is
 * directio(ON) on the file), or revalidate the file's cached pages with
 * the attributes the open fetched (close-to-open; attr, asked for under
 * asked: see dio_cache_open_attr).  -1 with dio_error on failure (put f
 * then). */
int dio_ofd_start (struct dio_ofd *f, const struct dio_cache_attr *attr,
                   const struct dio_cache_asked *asked);

void dio_ofd_get (struct dio_ofd *f);
void dio_ofd_put (struct dio_ofd *f);   /* accepts NULL */

void dio_inode_get (struct dio_inode *ino);
void dio_inode_put (struct dio_inode *ino);

/* A reference, unless the inode is already being destroyed (false). */
bool dio_inode_tryget (struct dio_inode *ino);

/* The direct I/O advice. */
static inline bool
dio_inode_is_direct (struct dio_inode *ino)
{
  return __atomic_load_n (&ino->direct, __ATOMIC_ACQUIRE);
}

/* Set the advice (directio(3C)).  Turning it on writes back and drops
 * the cached pages first; if that fails, or an earlier write-back failed
 * unseen by f, the advice stays off and -1 is returned with that errno.
 * With f NULL it is turned on whatever the write-back gave (the failure
 * stays recorded for the file's descriptors).  Under forcedirectio the
 * file stays direct and both return 0. */
int dio_inode_set_direct (struct dio_inode *ino, struct dio_ofd *f,
                          bool on);

/* The inode of fh on m, shared with the other opens of that file, for
 * callers with a file handle and no path (fsops.c).  Consumes the
 * caller's reference to m; NULL if out of memory (the reference is
 * still the caller's). */
struct dio_inode *dio_inode_of_fh (struct dio_mount *m,
                                   const struct dio_fh *fh);

/* NFSv3 attributes as a struct stat (dio_fstat's, GETATTR's). */
struct fattr3;
void dio_fattr_to_stat (const struct fattr3 *a, struct stat *st);

/* GETATTR as a struct stat. */
int dio_inode_getattr (struct dio_inode *ino, struct stat *st);

/* SETATTR size (a GETATTR first: a replay is guarded with its ctime). */
int dio_inode_truncate (struct dio_inode *ino, uint64_t size);

/* SETATTR size, a replay guarded with before's ctime (the file's
 * attributes seen just before).  A guarded send the server refuses
 * (NFS3ERR_NOT_SYNC) is done if the file has the size asked for, and
 * otherwise sent again guarded with the ctime a GETATTR sees, at most 3
 * times (then EIO: the file kept changing). */
int dio_inode_truncate_seen (struct dio_inode *ino, uint64_t size,
                             const struct stat *before);

/* Make everything written through this inode stable: COMMIT what was sent
 * UNSTABLE, and fail with EIO if the server restarted since (its verifier
 * changed) — the data may be lost. */
int dio_ofd_sync (struct dio_ofd *f);

/* A write was sent UNSTABLE with verifier verf (mismatch: its chunks did
 * not agree). */
void dio_inode_note_unstable (struct dio_inode *ino, const char *verf,
                              bool mismatch);

#endif /* DIO_FILE_H */
