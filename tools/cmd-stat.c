/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio stat: the engine's nfsiostat.  Reads the counters that each
 * process using the engine publishes in its stats file (statsfile.h) and
 * prints them per mount: ops/s, kB/s, kB/op, retransmits, average RTT and
 * execution time and errors per RPC kind, then the engine's own counters.
 * The first report covers the time since each mount; with INTERVAL, each
 * further one the last interval.
 *
 *   directio stat [--json] [PID...] [INTERVAL [COUNT]]
 *
 * A number is a PID when the runtime directory holds a stats file of
 * that pid; the first one that is not starts INTERVAL [COUNT].
 *
 * Threading: single-threaded. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "statsfile.h"

#define MAX_PIDS 256

/* One process's mounts at one moment. */
struct snap {
  pid_t pid;
  uint64_t start_ticks;
  char comm[64];
  struct {
    bool live;
    uint32_t seq;
    struct dio_statsfile_slot s; /* copy */
  } slot[DIO_STATSFILE_SLOTS];
  uint64_t taken_ns;
};

struct stat_opts {
  bool json;
  pid_t pids[MAX_PIDS];
  unsigned npids;
  double interval;              /* 0: one report */
  unsigned count;               /* 0: for ever (with an interval) */
};

static char dir[4096];

static void
file_name (pid_t pid, char *buf, size_t size)
{
  snprintf (buf, size, "%s/%d" DIO_STATSFILE_SUFFIX, dir, (int) pid);
}

static bool
have_file (pid_t pid)
{
  char name[4200];

  file_name (pid, name, sizeof name);
  return access (name, F_OK) == 0;
}

/* Is the file's process gone (or its pid reused, or has it called exec
 * and runs another program)? */
static bool
stale (const struct dio_statsfile_header *h)
{
  char exe[64];
  struct stat st;
  uint64_t ticks;

  if (dio_statsfile_start_ticks (h->pid, &ticks) == -1)
    return true;
  if (h->start_ticks != 0 && ticks != h->start_ticks)
    return true;
  snprintf (exe, sizeof exe, "/proc/%d/exe", (int) h->pid);
  /* Not allowed to look (another user's process): not stale. */
  return h->exe_ino != 0 && stat (exe, &st) == 0
    && (st.st_dev != h->exe_dev || st.st_ino != h->exe_ino);
}

/* Is the file's pid one of our pid namespace's? */
static bool
same_pid_ns (const struct dio_statsfile_header *h)
{
  static uint64_t ours;

  if (ours == 0)
    ours = dio_statsfile_pid_ns ();
  return h->pid_ns == 0 || ours == 0 || h->pid_ns == ours;
}

static bool
header_ok (const struct dio_statsfile_header *h, size_t size)
{
  return size >= sizeof *h
    && memcmp (h->magic, DIO_STATSFILE_MAGIC, sizeof h->magic) == 0
    && h->version == DIO_STATSFILE_VERSION
    && h->header_size == sizeof *h
    && h->slot_size == sizeof (struct dio_statsfile_slot)
    && h->nslots <= DIO_STATSFILE_SLOTS
    && size >= sizeof *h + (size_t) h->nslots * h->slot_size;
}

/* Copy the live slots of one mapped file into sn (seqlock reads). */
static void
copy_slots (const struct dio_statsfile_header *h, struct snap *sn)
{
  const struct dio_statsfile_slot *slots =
    (const struct dio_statsfile_slot *) (h + 1);

  for (unsigned i = 0; i < h->nslots; i++) {
    const struct dio_statsfile_slot *s = &slots[i];
    uint32_t seq = __atomic_load_n (&s->seq, __ATOMIC_ACQUIRE);

    sn->slot[i].live = false;
    if ((seq & 1) != 0
        || __atomic_load_n (&s->state, __ATOMIC_ACQUIRE) != DIO_SLOT_LIVE)
      continue;
    memcpy (&sn->slot[i].s, s, sizeof *s);
    __atomic_thread_fence (__ATOMIC_ACQUIRE);
    if (__atomic_load_n (&s->seq, __ATOMIC_RELAXED) != seq)
      continue;                 /* reused under us: next time */
    sn->slot[i].s.server[sizeof s->server - 1] = '\0';
    sn->slot[i].s.export[sizeof s->export - 1] = '\0';
    sn->slot[i].s.url[sizeof s->url - 1] = '\0';
    sn->slot[i].seq = seq;
    sn->slot[i].live = true;
  }
}

/* Read pid's file into sn.  0; -1 with a reason in why (and a stale
 * file removed where we may). */
static int
read_snap (pid_t pid, struct snap *sn, char *why, size_t whylen)
{
  char name[4200];
  struct stat st;
  void *p;
  int fd;

  file_name (pid, name, sizeof name);
  fd = open (name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1) {
    snprintf (why, whylen, "%s: %s", name,
              errno == ENOENT ? "no counters published (not an engine user,"
              " no mount yet, or DIRECTIO_PUBLISH=off)" : strerror (errno));
    return -1;
  }
  if (fstat (fd, &st) == -1 || !S_ISREG (st.st_mode)
      || (size_t) st.st_size < sizeof (struct dio_statsfile_header)) {
    close (fd);
    snprintf (why, whylen, "%s: not a stats file", name);
    return -1;
  }
  p = mmap (NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
  close (fd);
  if (p == MAP_FAILED) {
    snprintf (why, whylen, "%s: mmap: %s", name, strerror (errno));
    return -1;
  }
  if (!header_ok (p, st.st_size)) {
    munmap (p, st.st_size);
    snprintf (why, whylen, "%s: not a stats file of this version (%d)", name,
              DIO_STATSFILE_VERSION);
    return -1;
  }
  if (!same_pid_ns (p)) {
    munmap (p, st.st_size);
    snprintf (why, whylen, "%s: of a process in another pid namespace", name);
    return -1;
  }
  if (stale (p) || ((struct dio_statsfile_header *) p)->pid != pid) {
    munmap (p, st.st_size);
    unlink (name);              /* if we may: it is of no use to anyone */
    snprintf (why, whylen, "%s: stale (process %d is gone or runs another program)", name, (int) pid);
    return -1;
  }
  memset (sn, 0, sizeof *sn);
  sn->pid = pid;
  sn->start_ticks = ((struct dio_statsfile_header *) p)->start_ticks;
  memcpy (sn->comm, ((struct dio_statsfile_header *) p)->comm,
          sizeof sn->comm - 1);
  copy_slots (p, sn);
  sn->taken_ns = now_ns ();
  munmap (p, st.st_size);
  return 0;
}

/* Every pid with a stats file, ascending. */
static int
cmp_pid (const void *a, const void *b)
{
  pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
  return (x > y) - (x < y);
}

static unsigned
list_pids (pid_t *pids, unsigned max)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  unsigned n = 0;

  if (d == NULL)
    return 0;
  while ((e = readdir (d)) != NULL && n < max) {
    char *end;
    long v = strtol (e->d_name, &end, 10);
    if (end != e->d_name && v > 0 && strcmp (end, DIO_STATSFILE_SUFFIX) == 0)
      pids[n++] = (pid_t) v;
  }
  closedir (d);
  qsort (pids, n, sizeof *pids, cmp_pid);
  return n;
}

/* ---- printing -------------------------------------------------------- */

static const char *const op_names[DIO_OP_COUNT] = {
  "other", "read", "write", "commit"
};

/* d = now - before (before NULL: since the mount). */
static void
delta (const struct dio_mount_stats *now, const struct dio_mount_stats *before,
       struct dio_mount_stats *d)
{
  const uint64_t *a = (const uint64_t *) now;
  const uint64_t *b = (const uint64_t *) before;
  uint64_t *r = (uint64_t *) d;

  for (size_t i = 0; i < sizeof *d / sizeof (uint64_t); i++)
    r[i] = a[i] - (b ? b[i] : 0);
}

static double
per (double x, double y)
{
  return y > 0 ? x / y : 0;
}

static void
print_text_mount (const struct snap *sn, const struct dio_statsfile_slot *s,
                  const struct dio_mount_stats *d, double secs, bool first)
{
  printf ("%s (pid %d %s)\n", s->url, (int) sn->pid, sn->comm);
  printf ("  server %s, export %s, rsize %" PRIu32 ", wsize %" PRIu32
          ", nconnect %" PRIu32 ", window %" PRIu32 ", spin %" PRIu32
          " us, %s\n", s->server, s->export, s->rsize, s->wsize, s->nconnect,
          s->window, s->spin_us, s->soft ? "soft" : "hard");
  printf ("  %s %.1f s\n", first ? "since mount," : "interval", secs);
  printf ("  %-7s %10s %13s %9s %8s %12s %12s %7s\n", "op", "ops/s", "kB/s",
          "kB/op", "retrans", "avg RTT(ms)", "avg exe(ms)", "errors");
  for (unsigned i = DIO_OP_READ; i <= DIO_OP_COUNT; i++) {
    const struct dio_op_stats *o = &d->op[i % DIO_OP_COUNT];  /* other last */
    printf ("  %-7s %10.3f %13.3f %9.3f %8" PRIu64 " %12.3f %12.3f %7" PRIu64
            "\n", op_names[i % DIO_OP_COUNT], per (o->ops, secs),
            per (o->bytes / 1024.0, secs), per (o->bytes / 1024.0, o->ops),
            o->retrans, per (o->rtt_ns / 1e6, o->ops),
            per (o->exec_ns / 1e6, o->ops), o->errors);
  }
  printf ("  direct kB/s read %.3f write %.3f; cache kB/s read %.3f write"
          " %.3f\n", per (d->direct_read_bytes / 1024.0, secs),
          per (d->direct_write_bytes / 1024.0, secs),
          per (d->cache_read_bytes / 1024.0, secs),
          per (d->cache_write_bytes / 1024.0, secs));
  printf ("  cache reads: hits %" PRIu64 ", misses %" PRIu64
          "; spin: caught %" PRIu64 ", gave up %" PRIu64 "\n",
          d->cache_hits, d->cache_misses, d->spin_hits, d->spin_misses);
  printf ("  threads: sent by the caller %" PRIu64 ", service threads woken %"
          PRIu64 ", waited for a caller %" PRIu64 "\n", d->caller_sends,
          d->wakeups, d->lock_waits);
  printf ("  resends %" PRIu64 ", verifier changes %" PRIu64 ", reconnects %"
          PRIu64 ", timeouts %" PRIu64 ", jukebox waits %" PRIu64
          ", commit joins %" PRIu64 ", errors %" PRIu64 "\n\n",
          d->resends, d->verifier_mismatches, d->reconnects, d->timeouts,
          d->jukebox_delays, d->commit_joins, d->errors);
}

static void
print_json_mount (const struct snap *sn, const struct dio_statsfile_slot *s,
                  const struct dio_mount_stats *d, double secs, bool first,
                  bool *comma)
{
  printf ("%s{\"pid\":%d,\"comm\":", *comma ? "," : "", (int) sn->pid);
  *comma = true;
  print_json_string (sn->comm);
  printf (",\"url\":");
  print_json_string (s->url);
  printf (",\"server\":");
  print_json_string (s->server);
  printf (",\"export\":");
  print_json_string (s->export);
  printf (",\"rsize\":%" PRIu32 ",\"wsize\":%" PRIu32 ",\"nconnect\":%"
          PRIu32 ",\"window\":%" PRIu32 ",\"spin_us\":%" PRIu32
          ",\"soft\":%s,\"since_mount\":%s,\"seconds\":%.3f,\"ops\":{",
          s->rsize, s->wsize, s->nconnect, s->window, s->spin_us, s->soft ? "true" : "false", first ? "true" : "false",
          secs);
  for (unsigned i = 0; i < DIO_OP_COUNT; i++) {
    const struct dio_op_stats *o = &d->op[i];
    printf ("%s\"%s\":{\"ops\":%" PRIu64 ",\"bytes\":%" PRIu64
            ",\"retrans\":%" PRIu64 ",\"errors\":%" PRIu64
            ",\"ops_per_s\":%.3f,\"kb_per_s\":%.3f,\"avg_rtt_ms\":%.3f"
            ",\"avg_exe_ms\":%.3f}", i ? "," : "", op_names[i], o->ops,
            o->bytes, o->retrans, o->errors, per (o->ops, secs),
            per (o->bytes / 1024.0, secs), per (o->rtt_ns / 1e6, o->ops),
            per (o->exec_ns / 1e6, o->ops));
  }
  printf ("},\"direct_read_bytes\":%" PRIu64 ",\"direct_write_bytes\":%"
          PRIu64 ",\"cache_read_bytes\":%" PRIu64 ",\"cache_write_bytes\":%"
          PRIu64 ",\"cache_hits\":%" PRIu64 ",\"cache_misses\":%" PRIu64
          ",\"spin_hits\":%" PRIu64 ",\"spin_misses\":%" PRIu64
          ",\"caller_sends\":%" PRIu64 ",\"wakeups\":%" PRIu64
          ",\"lock_waits\":%" PRIu64 ",\"read_rpcs\":%" PRIu64
          ",\"write_rpcs\":%" PRIu64
          ",\"commit_rpcs\":%" PRIu64 ",\"other_rpcs\":%" PRIu64
          ",\"resends\":%" PRIu64 ",\"verifier_mismatches\":%" PRIu64
          ",\"reconnects\":%" PRIu64 ",\"timeouts\":%" PRIu64
          ",\"jukebox_delays\":%" PRIu64 ",\"commit_joins\":%" PRIu64
          ",\"errors\":%" PRIu64 "}",
          d->direct_read_bytes, d->direct_write_bytes, d->cache_read_bytes,
          d->cache_write_bytes, d->cache_hits, d->cache_misses,
          d->spin_hits, d->spin_misses, d->caller_sends, d->wakeups,
          d->lock_waits, d->read_rpcs, d->write_rpcs, d->commit_rpcs,
          d->other_rpcs, d->resends, d->verifier_mismatches, d->reconnects,
          d->timeouts, d->jukebox_delays, d->commit_joins, d->errors);
}

/* One report of sn against prev (NULL or another process: since the
 * mounts). */
static void
report (const struct stat_opts *o, const struct snap *sn,
        const struct snap *prev, bool *comma)
{
  for (unsigned i = 0; i < DIO_STATSFILE_SLOTS; i++) {
    const struct dio_statsfile_slot *s = &sn->slot[i].s;
    const struct dio_mount_stats *before = NULL;
    struct dio_mount_stats d;
    double secs;

    if (!sn->slot[i].live)
      continue;
    if (prev && prev->pid == sn->pid && prev->start_ticks == sn->start_ticks
        && prev->slot[i].live && prev->slot[i].seq == sn->slot[i].seq) {
      before = &prev->slot[i].s.stats;
      secs = (sn->taken_ns - prev->taken_ns) / 1e9;
    }
    else
      secs = (sn->taken_ns - s->mounted_ns) / 1e9;
    delta (&s->stats, before, &d);
    if (o->json)
      print_json_mount (sn, s, &d, secs, before == NULL, comma);
    else
      print_text_mount (sn, s, &d, secs, before == NULL);
  }
}

/* ---- command line ---------------------------------------------------- */

static void
usage (FILE *fp)
{
  fprintf (fp,
"Usage: directio stat [--json] [PID...] [INTERVAL [COUNT]]\n"
"\n"
"Print the NFS counters of running programs that use the engine (the\n"
"library, the shim, directio cp/bench/mount, nbdkit nfsdirect), per mount,\n"
"like nfsiostat: ops/s, kB/s, kB/op, retransmits, average round trip and\n"
"execution time and errors for READ, WRITE, COMMIT and other RPCs, then\n"
"the engine's own counters.  The first report covers the time since each\n"
"mount; with INTERVAL (seconds), one more every INTERVAL for the last\n"
"interval, COUNT reports in all (default: until interrupted).\n"
"\n"
"Without PID, every process that publishes; a number is a PID when such a\n"
"process has a stats file, and the first number that is not starts\n"
"INTERVAL.  Processes publish in $XDG_RUNTIME_DIR/directio, or\n"
"/run/directio without XDG_RUNTIME_DIR; DIRECTIO_PUBLISH=off stops them.\n"
"\n"
"Options:\n"
"      --json         one JSON object per report (a line each)\n"
"  -h, --help         print this help and exit\n");
}

static int
parse_args (int argc, char *argv[], struct stat_opts *o)
{
  enum { OPT_JSON = 256 };
  static const struct option long_options[] = {
    { "json", no_argument, NULL, OPT_JSON },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c, i;

  memset (o, 0, sizeof *o);
  while ((c = getopt_long (argc, argv, "h", long_options, NULL)) != -1) {
    switch (c) {
    case OPT_JSON: o->json = true; break;
    case 'h': usage (stdout); exit (EXIT_SUCCESS);
    default: return usage_error ("unknown option");
    }
  }
  for (i = optind; i < argc; i++) {
    unsigned v;
    if (parse_uint (argv[i], 1, 0x7fffffff, &v) == -1)
      break;
    if (!have_file ((pid_t) v))
      break;
    if (o->npids == MAX_PIDS)
      return usage_error ("more than %d PIDs", MAX_PIDS);
    o->pids[o->npids++] = (pid_t) v;
  }
  if (i < argc) {
    if (parse_seconds (argv[i], &o->interval) == -1 || o->interval <= 0
        || o->interval > 86400)
      return usage_error ("'%s' is neither the PID of a process that "
                          "publishes engine counters nor an INTERVAL "
                          "(seconds, more than 0, at most 86400)", argv[i]);
    i++;
  }
  if (i < argc) {
    if (parse_uint (argv[i], 1, 0x7fffffff, &o->count) == -1)
      return usage_error ("COUNT '%s': not a whole number of reports, at "
                          "least 1", argv[i]);
    i++;
  }
  if (i < argc)
    return usage_error ("unexpected argument '%s' after INTERVAL and COUNT",
                        argv[i]);
  return 0;
}

static void
sleep_seconds (double s)
{
  struct timespec ts = { .tv_sec = (time_t) s,
                         .tv_nsec = (long) ((s - (time_t) s) * 1e9) };

  while (nanosleep (&ts, &ts) == -1 && errno == EINTR)
    ;
}

/* One round: every process asked for (or every one publishing). */
static int
round_once (const struct stat_opts *o, struct snap **prev, unsigned *nprev,
            unsigned round)
{
  pid_t all[1024];
  const pid_t *pids = o->pids;
  unsigned n = o->npids, nsnap = 0;
  struct snap *snaps;
  bool comma = false;
  int status = EXIT_SUCCESS;
  char why[4400];

  if (n == 0) {
    n = list_pids (all, sizeof all / sizeof all[0]);
    pids = all;
  }
  snaps = calloc (n ? n : 1, sizeof *snaps);
  if (snaps == NULL) {
    error_msg ("calloc: %s", strerror (errno));
    return EXIT_FAILURE;
  }
  for (unsigned i = 0; i < n; i++) {
    if (read_snap (pids[i], &snaps[nsnap], why, sizeof why) == 0)
      nsnap++;
    else if (o->npids) {        /* asked for by name: say why not */
      error_msg ("PID %d: %s", (int) pids[i], why);
      status = EXIT_FAILURE;
    }
  }
  if (o->json)
    printf ("{\"report\":%u,\"mounts\":[", round);
  for (unsigned i = 0; i < nsnap; i++) {
    const struct snap *p = NULL;
    for (unsigned j = 0; j < *nprev; j++)
      if ((*prev)[j].pid == snaps[i].pid)
        p = &(*prev)[j];
    report (o, &snaps[i], p, &comma);
  }
  if (o->json)
    printf ("]}\n");
  else if (nsnap == 0 && o->npids == 0 && round == 1) {
    if (o->interval == 0)
      printf ("no process publishes engine counters in %s\n", dir);
    else                        /* say what INTERVAL was understood: the
                                   PID of a process gone reads as one */
      printf ("no process publishes engine counters in %s yet: looking "
              "again every %g s\n", dir, o->interval);
  }
  fflush (stdout);
  free (*prev);
  *prev = snaps;
  *nprev = nsnap;
  return status;
}

int
cmd_stat (int argc, char *argv[])
{
  struct stat_opts o;
  struct snap *prev = NULL;
  unsigned nprev = 0;
  int status = EXIT_SUCCESS, r;

  if (dio_statsfile_dir (dir, sizeof dir) == -1) {
    error_msg ("XDG_RUNTIME_DIR is too long");
    return EXIT_FAILURE;
  }
  r = parse_args (argc, argv, &o);
  if (r != 0)
    return r;
  for (unsigned round = 1; ; round++) {
    if (round_once (&o, &prev, &nprev, round) != EXIT_SUCCESS)
      status = EXIT_FAILURE;
    if (o.interval == 0 || (o.count && round >= o.count))
      break;
    sleep_seconds (o.interval);
  }
  free (prev);
  return status;
}
