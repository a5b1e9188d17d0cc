/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stats file: how a process using the engine publishes its mounts'
 * counters for `directio stat` (tools/cmd-stat.c), like the kernel's
 * /proc/PID/mountstats.
 *
 * One file per process, DIR/PID.stats, where DIR is
 * $XDG_RUNTIME_DIR/directio or else /run/directio (mode 0700, the file
 * 0600, both owned by the process's user).  The file is mapped MAP_SHARED
 * and each mount counts straight into its slot, so publishing costs no
 * copying and no system call after the mount.  It is removed at exit; the
 * file of a process killed before that is stale, told by its pid being
 * gone or started at another time (start_ticks) or running another
 * program (exe_dev, exe_ino: it called exec), and ignored by readers (who
 * remove it if they may).  A pid means nothing in another pid
 * namespace (a container sharing the directory): readers skip the files
 * of other namespaces (pid_ns) and never call them stale.
 *
 * Layout: a header, then nslots slots.  A writer fills the header and
 * stores the magic last (release); readers check magic, version and the
 * sizes before anything else.  A slot's seq is odd while its owner
 * (re)initialises it; a reader copies a slot whose state is
 * DIO_SLOT_LIVE and keeps the copy only if seq was even and unchanged
 * across it.  The counters are monotonic while seq stays the same, so
 * (slot, seq) names one mount for the deltas of a reader's intervals.
 *
 * Everything here is native-endian and for readers of the same build
 * (the version changes with any change of layout, stats.h's counters
 * included). */
#ifndef DIO_STATSFILE_H
#define DIO_STATSFILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "stats.h"

#define DIO_STATSFILE_MAGIC "DIOSTATS"        /* 8 bytes, no NUL */
#define DIO_STATSFILE_VERSION 3         /* 2: spin_hits, spin_misses;
                                           3: caller_sends, wakeups,
                                           lock_waits */
#define DIO_STATSFILE_SLOTS 64
#define DIO_STATSFILE_SUFFIX ".stats"

/* Off: DIRECTIO_PUBLISH=off (or 0, no). */
#define DIO_STATSFILE_ENV "DIRECTIO_PUBLISH"

enum { DIO_SLOT_FREE, DIO_SLOT_MOUNTING, DIO_SLOT_LIVE };

struct dio_statsfile_header {
  char magic[8];
  uint32_t version;
  uint32_t header_size;         /* sizeof (struct dio_statsfile_header) */
  uint32_t slot_size;           /* sizeof (struct dio_statsfile_slot) */
  uint32_t nslots;
  uint32_t nmounts;             /* atomic: slots DIO_SLOT_LIVE now */
  int32_t pid;
  uint64_t start_ticks;         /* field 22 of /proc/PID/stat */
  int64_t start_time;           /* seconds since the epoch */
  char comm[64];                /* the program's name */
  uint64_t pid_ns;              /* inode of /proc/self/ns/pid, 0 unknown */
  uint64_t exe_dev, exe_ino;    /* of /proc/self/exe: an exec changes it */
  uint64_t reserved[5];
};

struct dio_statsfile_slot {
  uint32_t seq;                 /* atomic: odd while being set up */
  uint32_t state;               /* atomic: DIO_SLOT_* */
  int64_t mounted_time;         /* seconds since the epoch */
  uint64_t mounted_ns;          /* CLOCK_MONOTONIC */
  uint32_t rsize, wsize, nconnect, window;
  uint32_t timeo, retrans;      /* timeo in tenths of a second */
  uint32_t soft;
  uint32_t spin_us;              /* spin=; 0 in files of older versions */
  char server[256];
  char export[512];
  char url[1024];               /* nfs://server/export?libnfs-args */
  uint64_t reserved[8];
  struct dio_mount_stats stats; /* atomics: the mount counts here */
};

/* The runtime directory's path into buf; -1 if it does not fit. */
static inline int
dio_statsfile_dir (char *buf, size_t size)
{
  const char *x = getenv ("XDG_RUNTIME_DIR");
  int n;

  if (x && x[0] == '/')
    n = snprintf (buf, size, "%s/directio", x);
  else
    n = snprintf (buf, size, "/run/directio");
  return n < 0 || (size_t) n >= size ? -1 : 0;
}

/* The inode of this process's pid namespace; 0 if unknown. */
static inline uint64_t
dio_statsfile_pid_ns (void)
{
  struct stat st;

  return stat ("/proc/self/ns/pid", &st) == 0 ? (uint64_t) st.st_ino : 0;
}

/* The start time of process pid in clock ticks since boot (field 22 of
 * /proc/PID/stat); -1 if it is not running. */
static inline int
dio_statsfile_start_ticks (pid_t pid, uint64_t *ticks)
{
  char path[64], buf[1024], *p;
  unsigned long long t;
  FILE *f;
  size_t n;

  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  f = fopen (path, "re");
  if (f == NULL)
    return -1;
  n = fread (buf, 1, sizeof buf - 1, f);
  fclose (f);
  buf[n] = '\0';
  p = strrchr (buf, ')');       /* the name may hold spaces and parens */
  if (p == NULL)
    return -1;
  /* After ")": field 3 (state) ... field 22 (starttime). */
  if (sscanf (p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u"
              " %*d %*d %*d %*d %*d %*d %llu", &t) != 1)
    return -1;
  *ticks = t;
  return 0;
}

#endif /* DIO_STATSFILE_H */
