/* Open files.  An inode is one file of one mount, shared by every
 * descriptor of that file in the process: directio() advice attaches to
 * it, as on Solaris.  An open file description (ofd) is what dup()
 * shares: access mode, status flags and the file offset. */
#ifndef DIO_FILE_H
#define DIO_FILE_H

#include <sys/stat.h>
#include <sys/types.h>

#include "internal.h"

struct dio_mount;

struct dio_inode {
  /* Immutable. */
  struct dio_mount *mount;
  struct dio_fh fh;

  /* Guarded by mount->inode_lock. */
  struct dio_inode *next;
  unsigned refs;

  bool direct;                  /* atomic: direct I/O advice */

  /* Guarded by lock: writes sent UNSTABLE and not yet committed. */
  pthread_mutex_t lock;
  bool unstable_pending, unstable_broken;
  char unstable_verf[NFS3_VERF_SIZE];
};

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
};

/* Open rel (a path inside m's export) with open(2) flags and mode; on
 * success *out holds a new ofd (one reference) and its inode, and the
 * caller's reference to m is consumed.  -1 with dio_error naming name on
 * failure (the reference is still the caller's). */
int dio_file_open (struct dio_mount *m, const char *rel, const char *name,
                   int flags, mode_t mode, struct dio_ofd **out);

void dio_ofd_get (struct dio_ofd *f);
void dio_ofd_put (struct dio_ofd *f);   /* accepts NULL */

void dio_inode_get (struct dio_inode *ino);
void dio_inode_put (struct dio_inode *ino);

/* GETATTR as a struct stat. */
int dio_inode_getattr (struct dio_inode *ino, struct stat *st);

/* SETATTR size. */
int dio_inode_truncate (struct dio_inode *ino, uint64_t size);

/* Make everything written through this inode stable: COMMIT what was sent
 * UNSTABLE, and fail with EIO if the server restarted since (its verifier
 * changed) — the data may be lost. */
int dio_inode_sync (struct dio_inode *ino);

/* A write was sent UNSTABLE with verifier verf (mismatch: its chunks did
 * not agree). */
void dio_inode_note_unstable (struct dio_inode *ino, const char *verf,
                              bool mismatch);

#endif /* DIO_FILE_H */
