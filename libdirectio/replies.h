/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a connection's RPC replies, many per recv() (replies.c). */
#ifndef DIO_REPLIES_H
#define DIO_REPLIES_H

#include <stdbool.h>
#include <stddef.h>

struct rpc_context;

/* What has been read of the socket and not yet handed to libnfs: the
 * start of one record.  Zero-initialised; owned by one service thread. */
struct dio_replies {
  char *buf;
  size_t len, cap;
};

/* Whether this libnfs lets the engine read replies (rpc_process_pdu). */
bool dio_replies_supported (void);

/* Read what has arrived on fd, rpc's socket, and run each whole reply's
 * callback through libnfs.  0, or -1 if the connection is lost: closed,
 * broken, a garbage record, no memory (the caller replaces it). */
int dio_replies_read (struct dio_replies *r, struct rpc_context *rpc, int fd);

/* A new connection: forget a partial record. */
void dio_replies_reset (struct dio_replies *r);

void dio_replies_free (struct dio_replies *r);

#endif /* DIO_REPLIES_H */
