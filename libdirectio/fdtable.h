/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fd table: real, unique descriptor numbers for engine files.  Each
 * engine fd is backed by a kernel O_PATH descriptor, so the number stays
 * reserved and any call that bypasses the library fails with EBADF
 * instead of touching some other file. */
#ifndef DIO_FDTABLE_H
#define DIO_FDTABLE_H

struct dio_ofd;

/* Install f under a new fd number; the table takes the caller's
 * reference.  Returns the fd, or -1 with dio_error. */
int dio_fd_install (struct dio_ofd *f);

/* The same, at fd: a kernel descriptor the caller reserved (a dup of an
 * engine fd's O_PATH descriptor); on failure fd is closed. */
int dio_fd_install_at (int fd, struct dio_ofd *f);

/* dup2(oldfd, newfd) for an engine oldfd, atomically with respect to
 * the table: newfd (an engine fd or a kernel one) is replaced.  Returns
 * newfd, or -1 with dio_error (EBADF if oldfd is not an engine fd). */
int dio_fd_dup2 (int oldfd, int newfd);

/* The ofd behind fd with a new reference, or NULL (not an engine fd). */
struct dio_ofd *dio_fd_get (int fd);

/* Remove fd and close its kernel descriptor; the table's reference is
 * dropped.  -1 with EBADF if fd is not an engine fd. */
int dio_fd_remove (int fd);

#endif /* DIO_FDTABLE_H */
