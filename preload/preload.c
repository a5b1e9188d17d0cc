/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libdirectio-preload.so: unmodified programs see profile mountpoints as
 * files.
 *
 *   LD_PRELOAD=libdirectio-preload.so DIRECTIO_PROFILES=FILE PROGRAM...
 *   (or: directio run -f FILE -- PROGRAM...)
 *
 * The shim defines the libc calls that take a path or a descriptor.  A
 * path under a profile's mountpoint (dio__path_is_managed) opens through
 * the engine and gets an engine fd; calls on an engine fd go to the dio_*
 * calls; everything else goes to libc's own definition (dlsym RTLD_NEXT,
 * looked up on first use, racing lookups storing the same pointer).
 * Files:
 *
 *   preload.c         this comment, libc lookup, the guard, the umask
 *   preload-fork.c    which process an engine fd belongs to; write-back
 *                     at exit and _exit
 *   preload-hide.c    the engine's sockets and eventfds moved to high
 *                     numbers, out of the program's way
 *   preload-path.c    which paths are managed; normalising, *at resolution
 *   preload-pathfd.c  descriptors for directories under a mountpoint
 *   preload-cwd.c     a working directory under a mountpoint (chdir,
 *                     getcwd; DIRECTIO_CWD across execve)
 *   preload-open.c    open family, and unlink/rename/mkdir/rmdir/access/
 *                     truncate/realpath/xattrs by path
 *   preload-io.c      read/write family, lseek, fsync, ftruncate, close,
 *                     dup family, fcntl, mmap, copy_file_range, fadvise...
 *   preload-stat.c    stat family, statx, glibc's __xstat family
 *   preload-attr.c    chmod/chown/utimes, symlink/link: ENOTSUP;
 *                     readlink: EINVAL
 *   preload-dir.c     opendir/readdir/closedir and friends
 *   preload-stdio.c   fopen/fdopen/freopen through fopencookie
 *   preload-stats.c   DIRECTIO_STATS=FILE: mount counters at close and exit
 *
 * Recursion.  LD_PRELOAD interposes on libdirectio.so's own calls too: the
 * engine opens /dev/null for fd placeholders, closes and dup3s them under
 * its fd-table lock, reads and writes eventfds and sockets on its service
 * threads.  Those must reach libc, never come back into the engine (a
 * close under the table's write lock that asked the table again would
 * deadlock).  Two cheap checks, made first in every wrapper, send a call
 * straight to libc:
 *
 *   - a thread-local depth counter, raised around every call the shim
 *     makes into the engine (ENGINE()), so whatever the engine does on the
 *     caller's thread is plain libc;
 *   - the caller's return address: if it lies in libdirectio.so's or
 *     libnfs.so's executable segments (found once, at load), the call is
 *     the engine's own.  This covers the service threads (no table lookup
 *     on their hot path) and programs that call dio_* themselves while
 *     the shim is loaded (dio_close's close would otherwise re-enter).
 *
 * Making the engine call syscall() directly was the alternative; it would
 * have meant changing every libc call in libdirectio and libnfs.
 *
 * Cost when no profile is loaded: a path call costs one
 * dio__path_is_managed (no system call when there are no profiles), an
 * fd call one look-up in the engine's fd table (a read lock) and one
 * relaxed load for the shim's own path fds.  Nothing else changes: errno
 * is left as libc sets it.
 *
 * What cannot work, by design: engine fds do not survive exec (the engine
 * lives in the process), so "cmd >/mnt/x" in a shell, where the shell
 * opens and then execs cmd, fails in cmd with EBADF; stdio streams made by
 * libc itself on an engine fd (stdout after dup2, sort -o) use
 * libc-internal calls the shim never sees; mmap of an engine fd fails with
 * ENODEV; O_APPEND is EINVAL (the engine's rule: NFS has no atomic
 * append); mode, owner, times and links cannot be set (ENOTSUP,
 * preload-attr.c).  The engine lives in one process: a forked child does
 * not use the engine fds it inherits (they behave as the closed
 * placeholders they are, see preload-fork.c).  Data in the engine's cache
 * is written back at exit() and _exit(), not on a crash or a kill.
 *
 * Threading: no locks here; the libc look-up slots are atomic pointers,
 * the engine text ranges are written once by the constructor before any
 * wrapper can run on another thread. */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "directio.h"
#include "private.h"

__thread unsigned shim_depth __attribute__ ((tls_model ("initial-exec")));
bool shim_debug_on;

/* ---- libc look-up ----------------------------------------------------- */

long
shim_missing (void)
{
  errno = ENOSYS;
  return -1;
}

void *
shim_real (void **slot, const char *name)
{
  void *p = __atomic_load_n (slot, __ATOMIC_ACQUIRE);

  if (p != NULL)
    return p;
  p = dlsym (RTLD_NEXT, name);
  if (p == NULL) {
    shim_debug ("%s: not in libc; calls fail with ENOSYS", name);
    p = (void *) shim_missing;
  }
  __atomic_store_n (slot, p, __ATOMIC_RELEASE);
  return p;
}

/* ---- the engine's code ------------------------------------------------ */

#define MAX_RANGES 8
static struct { uintptr_t lo, hi; } ranges[MAX_RANGES];
static unsigned nr_ranges;

struct find { uintptr_t addr; };

/* dl_iterate_phdr callback: record the executable segments of the object
 * that contains find->addr. */
static int
find_object (struct dl_phdr_info *info, size_t size, void *arg)
{
  const struct find *f = arg;
  bool mine = false;

  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW (Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && f->addr >= lo && f->addr < lo + ph->p_memsz)
      mine = true;
  }
  if (!mine)
    return 0;
  for (int i = 0; i < info->dlpi_phnum && nr_ranges < MAX_RANGES; i++) {
    const ElfW (Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
      ranges[nr_ranges].lo = info->dlpi_addr + ph->p_vaddr;
      ranges[nr_ranges].hi = ranges[nr_ranges].lo + ph->p_memsz;
      nr_ranges++;
    }
  }
  return 1;
}

static void
add_object_of (const void *addr)
{
  struct find f = { (uintptr_t) addr };

  if (addr != NULL)
    dl_iterate_phdr (find_object, &f);
}

bool
shim_engine_text (const void *ra)
{
  uintptr_t a = (uintptr_t) ra;

  for (unsigned i = 0; i < nr_ranges; i++)
    if (a >= ranges[i].lo && a < ranges[i].hi)
      return true;
  return false;
}

/* ---- the umask -------------------------------------------------------- */

/* The kernel applies the umask to the mode of open (O_CREAT) and mkdir;
 * the engine, a library call, does not.  umask(2) cannot be read without
 * writing it, so the shim reads it once at start (still one thread) and
 * follows the program's umask calls. */
static mode_t cur_umask;        /* atomic */

mode_t
shim_umask (void)
{
  return __atomic_load_n (&cur_umask, __ATOMIC_RELAXED);
}

DEFINE_REAL (umask);
mode_t
umask (mode_t mask)
{
  mode_t old = REAL (umask) (mask);

  __atomic_store_n (&cur_umask, mask & 0777, __ATOMIC_RELAXED);
  return old;
}

/* ---- debugging -------------------------------------------------------- */

DEFINE_REAL (write);

void
shim_debug (const char *fmt, ...)
{
  char buf[512];
  va_list ap;
  int n, e = errno;

  if (!shim_debug_on)
    return;
  n = snprintf (buf, sizeof buf, "libdirectio-preload[%d]: ", (int) getpid ());
  va_start (ap, fmt);
  n += vsnprintf (buf + n, sizeof buf - n - 1, fmt, ap);
  va_end (ap);
  if (n > (int) sizeof buf - 2)
    n = sizeof buf - 2;
  buf[n++] = '\n';
  REAL (write) (STDERR_FILENO, buf, n);
  errno = e;
}

/* ---- start-up --------------------------------------------------------- */

static void __attribute__ ((constructor))
shim_init (void)
{
  const char *d = getenv ("DIRECTIO_DEBUG");

  shim_debug_on = d != NULL && *d != '\0' && strcmp (d, "0") != 0;
  cur_umask = REAL (umask) (022);
  REAL (umask) (cur_umask);
  add_object_of ((const void *) dio_open);
  add_object_of (dlsym (RTLD_DEFAULT, "nfs_init_context"));
  shim_fork_init ();
  shim_hide_init ();
  shim_cwd_init ();
}
