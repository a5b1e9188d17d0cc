/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The directio tool: what its subcommands share.
 *
 *   - the subcommands themselves (one row each in directio.c's table),
 *   - messages and exit statuses,
 *   - number and size parsing,
 *   - "sides": a file named by a local path, an nfs:// URL, a profile path
 *     or "-", opened the right way and read or written as a whole,
 *   - the progress line.
 *
 * Threading: a struct side may be read and written by several threads at
 * once (positional I/O only, except on streams, whose callers serialise);
 * a struct progress belongs to one thread. */
#ifndef DIRECTIO_TOOL_COMMON_H
#define DIRECTIO_TOOL_COMMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit statuses: 0 success, 1 failure, 2 usage error. */
#define EXIT_USAGE 2

/* ---- subcommands ------------------------------------------------------ */

/* Each is called with argv[0] = the subcommand's name and returns the
 * process's exit status.  Add a row to the table in directio.c for each. */
extern int cmd_cp (int argc, char *argv[]);
extern int cmd_bench (int argc, char *argv[]);
extern int cmd_run (int argc, char *argv[]);
extern int cmd_profile (int argc, char *argv[]);
extern int cmd_mount (int argc, char *argv[]);      /* cmd-mount.c */
extern int cmd_umount (int argc, char *argv[]);     /* cmd-umount.c */
extern int cmd_stat (int argc, char *argv[]);
extern int cmd_nbd (int argc, char *argv[]);        /* cmd-nbd.c */

/* ---- messages --------------------------------------------------------- */

/* "directio" or "directio SUBCOMMAND", for messages; set once by main
 * before any thread starts. */
extern const char *progname;

/* Print "PROGNAME: MESSAGE\n" to stderr. */
extern void error_msg (const char *fmt, ...)
  __attribute__ ((format (printf, 1, 2)));

/* Print "PROGNAME: MESSAGE" and a pointer to --help to stderr; returns
 * EXIT_USAGE for the caller to return. */
extern int usage_error (const char *fmt, ...)
  __attribute__ ((format (printf, 1, 2)));

/* ---- numbers ---------------------------------------------------------- */

/* A byte count: decimal digits with an optional suffix K, M, G, T or P
 * (powers of 1024; "KiB", "k" and "KB" mean the same).  0 or -1. */
extern int parse_size (const char *s, uint64_t *out);

/* A decimal integer in [min, max].  0 or -1. */
extern int parse_uint (const char *s, unsigned min, unsigned max,
                       unsigned *out);

/* parse_uint for the argument of --option; if it is not one, a usage
 * error naming the option and the range.  0 or -1. */
extern int parse_uint_option (const char *option, const char *arg,
                              unsigned min, unsigned max, unsigned *out);

/* A positive number of seconds ("10", "0.5").  0 or -1. */
extern int parse_seconds (const char *s, double *out);

/* "1.50 GiB", "512 B", into buf. */
extern void format_size (double bytes, char *buf, size_t len);

/* Seconds on the monotonic clock. */
extern double now_seconds (void);

/* Nanoseconds on the monotonic clock. */
extern uint64_t now_ns (void);

/* Asked while a stop waits for requests still at the NFS server (every
 * STOP_ASK_MS, with how many are left): true to stop waiting. */
typedef bool stop_ask_fn (void *arg, unsigned left);
#define STOP_ASK_MS 200

/* Initialise cond on CLOCK_MONOTONIC (a wall-clock step does not
 * stretch its waits): 0, or an errno value. */
extern int cond_init_monotonic (pthread_cond_t *cond);

/* With lock held: wait on cond (cond_init_monotonic's) until *count is
 * 0, at most wait_s seconds, and less if give_up (when not NULL) says
 * so; lock is released while give_up runs.  True when *count reached
 * 0. */
extern bool wait_until_none (pthread_mutex_t *lock, pthread_cond_t *cond,
                             const unsigned *count, unsigned wait_s,
                             stop_ask_fn *give_up, void *arg);

/* Start fn(arg) on a new thread, detached or joinable through *t, with
 * every signal blocked: the main thread takes them (directio mount and
 * nbd wait for them in ppoll).  0, or an errno value. */
extern int start_thread (pthread_t *t, bool detached, void *(*fn) (void *),
                         void *arg);

/* Write s as a JSON string (with quotes) to stdout. */
extern void print_json_string (const char *s);

/* ---- sides ------------------------------------------------------------ */

enum side_kind {
  SIDE_DIO,                     /* an engine fd: dio_* calls, uncached */
  SIDE_FILE,                    /* a local regular file or block device */
  SIDE_STREAM,                  /* "-", a pipe, a character device:
                                   sequential read/write only */
};

struct side {
  const char *name;             /* as the user wrote it */
  const char *role;             /* "source" or "destination" */
  enum side_kind kind;
  int fd;
  bool direct;                  /* SIDE_FILE: O_DIRECT is set */
  bool blockdev;                /* SIDE_FILE: a block device */
  bool regular;                 /* a regular file (any kind) */
  bool is_stdio;                /* "-": do not close fd */
};

#define SIDE_READ  0
#define SIDE_WRITE 1            /* create if missing, never truncate */
#define SIDE_RDWR  2            /* as SIDE_WRITE, and readable */

/* Open name as a source (SIDE_READ) or destination.  "-" is stdin or
 * stdout; an nfs:// URL goes to the engine; any other path goes to the
 * engine if dio_open takes it (a profile path), else is opened locally,
 * with O_DIRECT where the filesystem allows it.  On error returns -1
 * with a message naming the role, the name and the reason in why. */
extern int side_open (struct side *s, const char *name, const char *role,
                      int mode, char *why, size_t whylen);

/* Close, reporting an error in why (engine close, local close). */
extern int side_close (struct side *s, char *why, size_t whylen);

/* Read up to n bytes at off (or the next n bytes of a stream) into buf,
 * retrying short transfers, so fewer than n only at end of file.  Sets
 * *got.  On error returns -1, *got the bytes read before it, and the
 * reason in why (with the engine's detail for engine fds). */
extern int side_read (struct side *s, void *buf, size_t n, uint64_t off,
                      size_t *got, char *why, size_t whylen);

/* Write all n bytes at off (streams: at the current position).  On error
 * -1, *done the bytes written before it, the reason in why. */
extern int side_write (struct side *s, const void *buf, size_t n,
                       uint64_t off, size_t *done, char *why, size_t whylen);

/* The size of a file or block device.  0 or -1 with why. */
extern int side_size (struct side *s, uint64_t *size, char *why,
                      size_t whylen);

/* Identity for "same file" checks; false if unknown (streams). */
extern bool side_identity (struct side *s, dev_t *dev, ino_t *ino);

/* Set the size (regular files only).  0 or -1 with why. */
extern int side_truncate (struct side *s, uint64_t size, char *why,
                          size_t whylen);

/* Put written data on stable storage: fsync for local files and
 * regular-file streams; a no-op-but-checked dio_fsync for engine fds
 * (their direct writes are stable on return).  0 or -1 with why. */
extern int side_sync (struct side *s, char *why, size_t whylen);

/* ---- progress --------------------------------------------------------- */

struct progress {
  bool enabled;
  const char *label;            /* "copy", "verify", ... */
  uint64_t total;               /* 0 if unknown (a stream) */
  double start;
  int last_len;                 /* columns drawn last time */
};

extern void progress_init (struct progress *p, bool enabled,
                           const char *label, uint64_t total);
/* Redraw the line on stderr: bytes, percentage, rate, ETA. */
extern void progress_show (struct progress *p, uint64_t done);
/* Draw the last state and end the line. */
extern void progress_end (struct progress *p, uint64_t done);

#endif /* DIRECTIO_TOOL_COMMON_H */
