/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a connection's RPC replies, as many as have arrived per recv().
 *
 * libnfs 4.0 reads each reply with two recv() calls (its record marker,
 * then the rest into a fresh malloc), ends each pass with one more that
 * says EAGAIN, and on every nfs_service() call walks all 1024 queues of
 * its table of RPCs looking for timeouts (the engine sets none).  For
 * small requests that is a large share of what a reply costs the engine
 * (bench/README.md, "Small requests").  So once a connection is up, its
 * service thread reads the socket itself, into one buffer, and hands
 * each whole record to libnfs's rpc_process_pdu(), which matches it to
 * its RPC and runs the callback, as libnfs's own reader does.  libnfs
 * still connects, mounts and writes the calls; it reads nothing more
 * once the engine does, and holds no partial record then: the mount's
 * last reply was read whole.
 *
 * rpc_process_pdu is exported by libnfs 4.0 but declared only in its
 * private header: configure checks for it, with libnfs 4.x only (5.0.3
 * changed what it takes), and without it the engine lets libnfs read
 * (dio_replies_supported).  In 4.x it takes a record with its marker,
 * leaves the buffer to its caller, and reassembles fragments. */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "replies.h"

/* Room for many small replies per recv(). */
#define BUF_MIN (64 * 1024)
/* libnfs's own bound: a larger record is garbage (the connection is
 * dropped, as libnfs does). */
#define RECORD_MAX (1024 * 1024 + 4096)
/* recv() calls per pass at most, so one busy socket cannot hold the
 * thread (poll says when there is more). */
#define RECVS_PER_PASS 16

#ifdef HAVE_RPC_PROCESS_PDU
int rpc_process_pdu (struct rpc_context *rpc, char *buf, int size);
#endif

bool
dio_replies_supported (void)
{
#ifdef HAVE_RPC_PROCESS_PDU
  return true;
#else
  return false;
#endif
}

void
dio_replies_reset (struct dio_replies *r)
{
  r->len = 0;
}

void
dio_replies_free (struct dio_replies *r)
{
  free (r->buf);
  *r = (struct dio_replies) { NULL, 0, 0 };
}

/* The size of the record that starts at p, marker included. */
static size_t
record_size (const char *p)
{
  uint32_t marker;

  memcpy (&marker, p, 4);
  return (ntohl (marker) & 0x7fffffff) + 4;
}

/* Hand the whole records in the buffer to libnfs, and keep the partial
 * one at its start.  0, or -1 if a record is garbage. */
static int
process_records (struct dio_replies *r, struct rpc_context *rpc)
{
  size_t off = 0;
  int err = 0;

  while (r->len - off >= 4) {
    size_t size = record_size (r->buf + off);

    if (size > RECORD_MAX) {
      err = -1;
      break;
    }
    if (r->len - off < size)
      break;
#ifdef HAVE_RPC_PROCESS_PDU
    if (rpc_process_pdu (rpc, r->buf + off, (int) size) != 0) {
      err = -1;
      break;
    }
#else
    (void) rpc;
#endif
    off += size;
  }
  memmove (r->buf, r->buf + off, r->len - off);
  r->len -= off;
  return err;
}

/* How much the next recv() should ask for: the rest of a large record
 * exactly, else up to BUF_MIN buffered (a buffer grown for a large
 * record is not filled with small ones: a large one read with them
 * would be moved).  The buffer grows for the record begun.  0 if memory
 * ran out. */
static size_t
next_read (struct dio_replies *r)
{
  size_t need = r->len >= 4 ? record_size (r->buf) : 0;
  size_t cap = need > BUF_MIN ? need : BUF_MIN;

  if (cap > r->cap) {
    char *b = realloc (r->buf, cap);
    if (b == NULL)
      return 0;
    r->buf = b;
    r->cap = cap;
  }
  return need > BUF_MIN ? need - r->len : BUF_MIN - r->len;
}

int
dio_replies_read (struct dio_replies *r, struct rpc_context *rpc, int fd)
{
  for (int i = 0; i < RECVS_PER_PASS; i++) {
    size_t want = next_read (r);
    ssize_t n;

    if (want == 0)
      return -1;
    n = recv (fd, r->buf + r->len, want, MSG_DONTWAIT);
    if (n == 0)
      return -1;                /* the server closed the connection */
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
    r->len += (size_t) n;
    if (process_records (r, rpc) != 0)
      return -1;
    if ((size_t) n < want)
      return 0;                 /* all that had arrived: no EAGAIN call */
  }
  return 0;
}
