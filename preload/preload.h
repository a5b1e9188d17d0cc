/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libdirectio-preload.so: what the shim's files share (see preload.c for
 * the design).  Not installed. */
#ifndef DIO_PRELOAD_H
#define DIO_PRELOAD_H

#include <config.h>

/* The shim defines open, stat, read... themselves: no header may turn
 * them into inline wrappers (fortify) or redirect them to their *64
 * names (large-file macros). */
#undef _FORTIFY_SOURCE
#undef _FILE_OFFSET_BITS
#undef _TIME_BITS

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* ---- the guard ---------------------------------------------------------
 * Depth of engine calls on this thread: while it is not zero, every call
 * the shim intercepts goes straight to libc.  Initial-exec TLS: reading it
 * never calls into the dynamic linker. */
extern __thread unsigned shim_depth __attribute__ ((tls_model ("initial-exec")));

/* True if the code at return address ra belongs to the engine
 * (libdirectio.so or libnfs.so). */
extern bool shim_engine_text (const void *ra);

/* Pass the call to libc untouched?  Used as the first statement of every
 * wrapper, so that __builtin_return_address names the wrapper's caller. */
#define SHIM_BYPASS() \
  (shim_depth > 0 || shim_engine_text (__builtin_return_address (0)))

/* Evaluate an engine call with the guard raised; errno passes through. */
#define ENGINE(expr)                                                    \
  ({ shim_depth++; __typeof__ (expr) shim_r_ = (expr); shim_depth--; shim_r_; })

/* ---- libc's own definitions --------------------------------------------
 * REAL(fn) is libc's fn (the next definition after the shim), looked up
 * on first use; DEFINE_REAL(fn) declares its slot.  A symbol libc lacks
 * is reported once (DIRECTIO_DEBUG) and makes the call fail with ENOSYS
 * through shim_missing. */
#define DEFINE_REAL(fn) static void *shim_real_##fn
#define REAL(fn) ((__typeof__ (&fn)) shim_real (&shim_real_##fn, #fn))
#define HAVE_REAL(fn) (shim_real (&shim_real_##fn, #fn) != (void *) shim_missing)

extern void *shim_real (void **slot, const char *name);
extern long shim_missing (void);

/* ---- engine descriptors --------------------------------------------- */

/* fd is an engine file descriptor of this process: one in the engine's
 * table (dio_is_dio_fd), not inherited across fork (preload-fork.c). */
extern bool shim_is_engine_fd (int fd);

/* The shim handed out engine fd in this process / is closing it. */
extern void shim_note_fd (int fd);
extern void shim_forget_fd (int fd);

/* Register the fork handlers (from the constructor). */
extern void shim_fork_init (void);

/* The engine's own descriptors, moved out of the program's way
 * (preload-hide.c): set up, ask, and forget one the engine closes. */
extern void shim_hide_init (void);
extern bool shim_is_hidden (int fd);
extern void shim_unhide (int fd);

/* ---- path descriptors (preload-pathfd.c) --------------------------------
 * Directories (and O_PATH opens) under a mountpoint get a descriptor of
 * the shim's own: an O_PATH placeholder whose number maps to the absolute
 * path.  *at calls resolve relative names against it. */

extern bool shim_is_pathfd (int fd);

/* New path fd for abspath (is_dir says what it names).  -1 with errno. */
extern int shim_pathfd_new (const char *abspath, bool is_dir, int flags);

/* Copy fd's path into buf (PATH_MAX); false if fd is not a path fd. */
extern bool shim_pathfd_path (int fd, char *buf, bool *is_dir);

/* Duplicate a path fd: at the lowest number >= minfd (newfd < 0), or at
 * newfd exactly.  -1 with errno. */
extern int shim_pathfd_dup (int fd, int minfd, int newfd, bool cloexec);

/* Forget fd (before the kernel closes or replaces it); true if it was
 * one. */
extern bool shim_pathfd_forget (int fd);

/* close(2) of a path fd. */
extern int shim_pathfd_close (int fd);

/* ---- paths (preload-path.c) ------------------------------------------ */

/* The working directory, when it is under a mountpoint (preload-cwd.c):
 * true with the absolute path in buf (PATH_MAX).  shim_cwd_init takes it
 * from DIRECTIO_CWD at start. */
extern bool shim_vcwd (char *buf);
extern void shim_cwd_init (void);

enum shim_where {
  SHIM_LIBC = 0,                /* not managed: pass the caller's arguments */
  SHIM_LIBC_ABS,                /* not managed, but relative to a path fd or
                                 * to a working directory under a
                                 * mountpoint: pass AT_FDCWD and the
                                 * absolute path in buf */
  SHIM_ENGINE,                  /* managed: the absolute path is in buf */
};

/* Where does (dirfd, path) live?  buf (PATH_MAX bytes) receives the
 * absolute, normalised path for SHIM_ENGINE and SHIM_LIBC_ABS.  -1 with
 * errno on a resolution error (too long, ENOTDIR). */
extern int shim_where (int dirfd, const char *path, char *buf);

/* As shim_where for a call without a dirfd. */
#define shim_where_path(path, buf) shim_where (AT_FDCWD, (path), (buf))

/* A managed path (absolute, normalised) that is a mountpoint itself: an
 * existing directory that cannot be made, removed or renamed. */
extern bool shim_is_mountpoint (const char *abspath);

/* Lexically normalise an absolute path into out (PATH_MAX): no "//",
 * ".", ".." or trailing '/'.  -1 with ENAMETOOLONG. */
extern int shim_normalise (const char *path, char *out);

/* ---- open ------------------------------------------------------------ */

/* Open a managed path (absolute, normalised) with open(2) flags: an
 * engine fd, or a path fd for a directory or O_PATH.  -1 with errno. */
extern int shim_engine_open (const char *abspath, int flags, mode_t mode);

/* ---- stat ------------------------------------------------------------ */

/* Run a call on one path: ENGINE_CALL (with the absolute path in buf)
 * when managed, else LIBC_CALL (dirfd and path rewritten when dirfd was a
 * path fd).  For the body of a wrapper; dirfd must be an lvalue. */
#define PATH_CALL(dirfd, path, ENGINE_CALL, LIBC_CALL)                  \
  do {                                                                  \
    char buf[PATH_MAX];                                                 \
    if (SHIM_BYPASS ())                                                 \
      return LIBC_CALL;                                                 \
    switch (shim_where ((dirfd), (path), buf)) {                        \
    case SHIM_ENGINE: return ENGINE_CALL;                               \
    case SHIM_LIBC_ABS: (dirfd) = AT_FDCWD; (path) = buf; /* fall thru */ \
    case SHIM_LIBC: return LIBC_CALL;                                   \
    default: return -1;                                                 \
    }                                                                   \
  } while (0)

/* Define the wrapper name (returning ret, taking params, one of them
 * path) of a call on a path from the working directory: PATH_CALL with
 * ENGINE_CALL, or libc's name called with args. */
#define WRAP_PATH(name, ret, params, args, ENGINE_CALL)                 \
  DEFINE_REAL (name);                                                   \
  ret                                                                   \
  name params                                                           \
  {                                                                     \
    int at = AT_FDCWD;                                                  \
    PATH_CALL (at, path, ENGINE_CALL, REAL (name) args);                \
  }

/* stat of a managed path (absolute, normalised) or a path fd. */
extern int shim_stat_path (const char *abspath, struct stat *st);

/* The process's umask, as the kernel would apply it. */
extern mode_t shim_umask (void);

/* DIRECTIO_STATS=FILE: append fd's mount counters, tagged with event
 * (preload-stats.c).  errno is kept. */
extern void shim_stats_report (int fd, const char *event);

/* ---- debugging ------------------------------------------------------- */

/* DIRECTIO_DEBUG=1: why a call was refused, on stderr. */
extern bool shim_debug_on;
extern void shim_debug (const char *fmt, ...)
  __attribute__ ((format (printf, 1, 2)));

#endif /* DIO_PRELOAD_H */
