/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libdirectio-preload.so: DIRECTIO_STATS=FILE.
 *
 * An unmodified program cannot call dio_stats(), so the shim reports for
 * it: with DIRECTIO_STATS naming a file, each close of an engine fd (and
 * the write-back at exit, for fds still open) appends one line with the
 * counters of that fd's mount:
 *
 *   pid=1234 fd=3 event=close direct_read_bytes=0 direct_write_bytes=1048576
 *   cache_read_bytes=0 cache_write_bytes=0 read_rpcs=0 write_rpcs=1
 *   commit_rpcs=0 resends=0 errors=0
 *
 * (one line).  The counters are the mount's, cumulative since it was
 * mounted: the last line of a run sums what the program's files on that
 * mount did.  This is how an operator, or a test, sees whether dd
 * oflag=direct really went direct.
 *
 * Threading: each line is one write(2) to a file opened with O_APPEND. */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "directio.h"

DEFINE_REAL (open);
DEFINE_REAL (write);
DEFINE_REAL (close);

void
shim_stats_report (int fd, const char *event)
{
  const char *file = getenv ("DIRECTIO_STATS");
  struct dio_stats st;
  char line[512];
  int n, out, e = errno;

  if (file == NULL || *file == '\0' || ENGINE (dio_stats (fd, &st)) == -1) {
    errno = e;
    return;
  }
  n = snprintf (line, sizeof line,
                "pid=%d fd=%d event=%s direct_read_bytes=%" PRIu64
                " direct_write_bytes=%" PRIu64 " cache_read_bytes=%" PRIu64
                " cache_write_bytes=%" PRIu64 " read_rpcs=%" PRIu64
                " write_rpcs=%" PRIu64 " commit_rpcs=%" PRIu64
                " resends=%" PRIu64 " errors=%" PRIu64 "\n",
                (int) getpid (), fd, event, st.direct_read_bytes,
                st.direct_write_bytes, st.cache_read_bytes,
                st.cache_write_bytes, st.read_rpcs, st.write_rpcs,
                st.commit_rpcs, st.resends, st.errors);
  if (n <= 0 || n >= (int) sizeof line)
    return;
  out = REAL (open) (file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out == -1) {
    shim_debug ("DIRECTIO_STATS=%s: cannot open it", file);
    return;
  }
  if (REAL (write) (out, line, n) != n)
    shim_debug ("DIRECTIO_STATS=%s: short write", file);
  REAL (close) (out);
  errno = e;
}
