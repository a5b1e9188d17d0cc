/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TCP reachability probe for mount diagnostics.  Called once, on a failed
 * mount, from the thread that tried it. */
#include "internal.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe.h"

static int
connect_within (const struct addrinfo *ai, int timeout_ms)
{
  int fd = socket (ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                   ai->ai_protocol);
  int err = 0;
  socklen_t len = sizeof err;
  struct pollfd p;

  if (fd == -1)
    return errno;
  if (connect (fd, ai->ai_addr, ai->ai_addrlen) == 0) {
    close (fd);
    return 0;
  }
  if (errno != EINPROGRESS) {
    err = errno;
    close (fd);
    return err;
  }
  p.fd = fd;
  p.events = POLLOUT;
  if (poll (&p, 1, timeout_ms) <= 0)
    err = ETIMEDOUT;
  else if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
    err = errno;
  close (fd);
  return err;
}

int
dio_tcp_probe (const char *server, unsigned port, int timeout_ms,
               char *msg, size_t len)
{
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
  char service[16];
  int err, r;

  snprintf (service, sizeof service, "%u", port);
  r = getaddrinfo (server, service, &hints, &res);
  if (r != 0) {
    snprintf (msg, len, "%s: %s", server, gai_strerror (r));
    return ENOENT;
  }
  err = connect_within (res, timeout_ms);
  freeaddrinfo (res);
  if (err)
    snprintf (msg, len, "%s port %u%s: %s", server, port,
              port == 111 ? " (portmapper)" : "", strerror (err));
  return err;
}
