/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A TCP relay for fault tests: it sits between the engine and the NFS
 * port of the test server and cuts connections at random, mid-record, so
 * that requests are in flight when the connection goes; or it turns
 * replies into NFS3ERR_JUKEBOX. */
#ifndef RELAY_H
#define RELAY_H

#include <stdint.h>

struct relay;

/* Listen on 127.0.0.1 (a free port) and forward each connection to
 * 127.0.0.1:target_port.  NULL with errno on failure. */
struct relay *relay_start (int target_port, uint64_t seed);

/* The port it listens on. */
int relay_port (const struct relay *r);

/* Where a cut may fall. */
enum relay_cut {
  /* Only inside requests: replies always reach the client whole (the
   * relay follows the RPC record marks of the server's stream and waits
   * for the end of a reply before it cuts). */
  RELAY_CUT_REQUESTS,
  /* Anywhere, in the middle of a reply too, with FIN or RST. */
  RELAY_CUT_ANYWHERE,
};

/* From now on cut each connection once between min and max bytes have
 * crossed it (requests only, or both directions for RELAY_CUT_ANYWHERE),
 * at most max_drops times in all; max_drops 0 stops cutting. */
void relay_set_drops (struct relay *r, enum relay_cut where, uint64_t min,
                      uint64_t max, unsigned max_drops);

/* Turn the next n successful NFSv3 replies (READ, WRITE, COMMIT...)
 * into NFS3ERR_JUKEBOX, the server's "try again later". */
void relay_set_jukebox (struct relay *r, unsigned n);

/* How many of those are still to come. */
unsigned relay_jukebox_left (struct relay *r);

/* Connections accepted and connections cut so far. */
unsigned relay_accepts (struct relay *r);
unsigned relay_drops (struct relay *r);

/* Close everything and join every thread.  Accepts NULL. */
void relay_stop (struct relay *r);

#endif
