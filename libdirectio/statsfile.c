/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Publishing the mounts' counters in the process's stats file
 * (statsfile.h describes the file and its readers).
 *
 * The file is made at the first mount of a process (a forked child makes
 * its own at its first mount, leaving its parent's mapping alone: the
 * inherited mounts that point into it are never used there), and removed
 * by the library's destructor.  Anything that goes wrong (no runtime
 * directory, a read-only one, one owned by another user, a full table of
 * slots) leaves that mount counting into its own memory, silently: the
 * engine never fails for want of publishing.  DIRECTIO_PUBLISH=off turns
 * it off.
 *
 * Threading: lock guards the process's file (map, pid, path, failed) and
 * the claiming and releasing of slots; it is held across fork (fork.c).
 * A slot's counters are atomics written by any thread of the mount. */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mount.h"
#include "statsfile.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct dio_statsfile_header *map;        /* this process's file */
static pid_t map_pid;           /* the process map belongs to */
static bool failed;             /* in process failed_pid: do not retry */
static pid_t failed_pid;
static char path[4096];

__attribute__ ((constructor))
static void
statsfile_init (void)
{
  dio_fork_hold (&lock);
}

static struct dio_statsfile_slot *
slot_at (struct dio_statsfile_header *h, unsigned i)
{
  return (struct dio_statsfile_slot *)
    ((char *) h + sizeof *h + (size_t) i * sizeof (struct dio_statsfile_slot));
}

static size_t
file_size (void)
{
  return sizeof (struct dio_statsfile_header)
    + DIO_STATSFILE_SLOTS * sizeof (struct dio_statsfile_slot);
}

static bool
turned_off (void)
{
  const char *e = getenv (DIO_STATSFILE_ENV);

  return e && (strcmp (e, "off") == 0 || strcmp (e, "0") == 0
               || strcmp (e, "no") == 0);
}

/* The runtime directory, made if missing, as an fd; -1 unless it is ours
 * alone. */
static int
open_dir (void)
{
  char dir[sizeof path - 32];
  struct stat st;
  int dfd;

  if (dio_statsfile_dir (dir, sizeof dir) == -1)
    return -1;
  if (mkdir (dir, 0700) == -1 && errno != EEXIST)
    return -1;
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd == -1)
    return -1;
  if (fstat (dfd, &st) == -1 || st.st_uid != geteuid ()
      || (st.st_mode & 077) != 0) {
    close (dfd);
    return -1;
  }
  snprintf (path, sizeof path, "%s/%d" DIO_STATSFILE_SUFFIX, dir,
            (int) getpid ());
  return dfd;
}

static void
fill_header (struct dio_statsfile_header *h)
{
  struct stat st;
  FILE *f;

  h->version = DIO_STATSFILE_VERSION;
  h->header_size = sizeof *h;
  h->slot_size = sizeof (struct dio_statsfile_slot);
  h->nslots = DIO_STATSFILE_SLOTS;
  h->pid = getpid ();
  h->start_time = time (NULL);
  h->pid_ns = dio_statsfile_pid_ns ();
  if (stat ("/proc/self/exe", &st) == 0) {
    h->exe_dev = st.st_dev;
    h->exe_ino = st.st_ino;
  }
  if (dio_statsfile_start_ticks (getpid (), &h->start_ticks) == -1)
    h->start_ticks = 0;
  f = fopen ("/proc/self/comm", "re");
  if (f) {
    if (fgets (h->comm, sizeof h->comm, f))
      h->comm[strcspn (h->comm, "\n")] = '\0';
    fclose (f);
  }
  __atomic_thread_fence (__ATOMIC_RELEASE);
  memcpy (h->magic, DIO_STATSFILE_MAGIC, sizeof h->magic);
}

/* Is the file name, which has our pid in its name, a live one of a
 * process in another pid namespace sharing the directory?  Then it is
 * not ours to remove. */
static bool
same_pid_elsewhere (int dfd, const char *name)
{
  struct dio_statsfile_header h;
  uint64_t ours = dio_statsfile_pid_ns ();
  int fd = openat (dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  bool r;

  if (fd == -1)
    return false;
  r = pread (fd, &h, sizeof h, 0) == (ssize_t) sizeof h
    && memcmp (h.magic, DIO_STATSFILE_MAGIC, sizeof h.magic) == 0
    && h.pid_ns != 0 && ours != 0 && h.pid_ns != ours;
  close (fd);
  return r;
}

/* Make and map this process's file.  lock held.  NULL on failure. */
static struct dio_statsfile_header *
create_file (void)
{
  char name[32];
  void *p;
  int dfd, fd;

  dfd = open_dir ();
  if (dfd == -1)
    return NULL;
  snprintf (name, sizeof name, "%d" DIO_STATSFILE_SUFFIX, (int) getpid ());
  fd = openat (dfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
               0600);
  if (fd == -1 && errno == EEXIST && !same_pid_elsewhere (dfd, name)) {
    /* Left by an earlier process that had our pid. */
    unlinkat (dfd, name, 0);
    fd = openat (dfd, name,
                 O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  }
  if (fd == -1) {
    close (dfd);
    return NULL;
  }
  p = MAP_FAILED;
  if (ftruncate (fd, file_size ()) == 0)
    p = mmap (NULL, file_size (), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close (fd);
  if (p == MAP_FAILED) {
    unlinkat (dfd, name, 0);
    close (dfd);
    return NULL;
  }
  close (dfd);
  fill_header (p);
  return p;
}

/* This process's file, made at the first call.  lock held. */
static struct dio_statsfile_header *
get_file (void)
{
  pid_t pid = getpid ();

  if (map && map_pid == pid)
    return map;
  if (failed && failed_pid == pid)
    return NULL;
  map = NULL;                   /* a forked child's: its parent's file */
  if (!turned_off ())
    map = create_file ();
  if (map == NULL) {
    failed = true;
    failed_pid = pid;
    return NULL;
  }
  map_pid = pid;
  return map;
}

static void
copy_str (char *to, size_t size, const char *from)
{
  snprintf (to, size, "%s", from ? from : "");
}

void
dio_statsfile_attach (struct dio_mount *m)
{
  struct dio_statsfile_header *h;
  struct dio_statsfile_slot *s = NULL;

  m->stats = &m->own_stats;
  m->slot = NULL;
  pthread_mutex_lock (&lock);
  h = get_file ();
  for (unsigned i = 0; h && i < h->nslots; i++)
    if (__atomic_load_n (&slot_at (h, i)->state, __ATOMIC_RELAXED)
        == DIO_SLOT_FREE) {
      s = slot_at (h, i);
      break;
    }
  if (s) {
    __atomic_fetch_add (&s->seq, 1, __ATOMIC_RELAXED);   /* odd */
    __atomic_thread_fence (__ATOMIC_RELEASE);
    __atomic_store_n (&s->state, DIO_SLOT_MOUNTING, __ATOMIC_RELAXED);
    memset (&s->stats, 0, sizeof s->stats);
    copy_str (s->server, sizeof s->server, m->server);
    s->export[0] = s->url[0] = '\0';
    s->mounted_time = time (NULL);
    s->mounted_ns = dio_now_ns ();
    __atomic_fetch_add (&s->seq, 1, __ATOMIC_RELEASE);   /* even */
    m->slot = s;
    m->stats = &s->stats;
  }
  pthread_mutex_unlock (&lock);
}

void
dio_statsfile_publish (struct dio_mount *m)
{
  struct dio_statsfile_slot *s = m->slot;

  if (s == NULL)
    return;
  pthread_mutex_lock (&lock);
  copy_str (s->export, sizeof s->export, m->export);
  if ((size_t) snprintf (s->url, sizeof s->url, "nfs://%s%s%s%s", m->server,
                         m->export, m->nfs_args[0] ? "?" : "", m->nfs_args)
      >= sizeof s->url)
    s->url[sizeof s->url - 1] = '\0';
  s->rsize = m->rsize;
  s->wsize = m->wsize;
  s->nconnect = m->nconn;
  s->window = m->opts.window;
  s->timeo = m->opts.timeo;
  s->retrans = m->opts.retrans;
  s->soft = m->opts.soft;
  s->spin_us = m->spin_us;
  __atomic_store_n (&s->state, DIO_SLOT_LIVE, __ATOMIC_RELEASE);
  __atomic_fetch_add (&map->nmounts, 1, __ATOMIC_RELAXED);
  pthread_mutex_unlock (&lock);
}

void
dio_statsfile_detach (struct dio_mount *m)
{
  struct dio_statsfile_slot *s = m->slot;

  if (s == NULL)
    return;
  pthread_mutex_lock (&lock);
  if (__atomic_load_n (&s->state, __ATOMIC_RELAXED) == DIO_SLOT_LIVE)
    __atomic_fetch_sub (&map->nmounts, 1, __ATOMIC_RELAXED);
  __atomic_store_n (&s->state, DIO_SLOT_FREE, __ATOMIC_RELEASE);
  pthread_mutex_unlock (&lock);
  m->slot = NULL;
  m->stats = &m->own_stats;
}

/* At exit: remove the file (the mapping stays until the process ends,
 * for mounts still counting while the library's destructors stop them). */
__attribute__ ((destructor))
static void
statsfile_exit (void)
{
  if (pthread_mutex_trylock (&lock) != 0)
    return;
  if (map && map_pid == getpid ())
    unlink (path);
  pthread_mutex_unlock (&lock);
}
