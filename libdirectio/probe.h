/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Why a server cannot be reached: libnfs reports most connection
 * failures as a bare "nfs_service failed", so a failed mount is
 * diagnosed with a plain TCP connect to the ports it needed. */
#ifndef DIO_PROBE_H
#define DIO_PROBE_H

#include <stddef.h>

/* Connect to server:port within timeout_ms.  0 if it answers; else an
 * errno (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENOENT for an unknown
 * host, ...) with msg saying which port and why. */
int dio_tcp_probe (const char *server, unsigned port, int timeout_ms,
                   char *msg, size_t len);

#endif /* DIO_PROBE_H */
