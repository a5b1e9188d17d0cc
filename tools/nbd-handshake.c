/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio nbd: the fixed newstyle handshake, on a thread of its own.
 * The whole handshake has one deadline (nbd-accept.c sets it at
 * accept): every wait for the client is bounded by the time left, not
 * by a time per call, so that a client that sends a byte now and then
 * cannot hold the thread (and one of the few handshake slots) for long.
 * One export, under any name the client asks for; simple replies only
 * (structured replies are refused, which every client handles: they are
 * an option).
 *
 * Option data is read whole, up to MAX_OPTION_DATA; a client that
 * sends more, or more than MAX_OPTIONS options, is cut off. */
#include <config.h>

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "nbd-proto.h"
#include "nbd-server.h"

#define MAX_OPTION_DATA 4096
#define MAX_OPTIONS 64
#define PREFERRED_BLOCK 4096

/* The client being shaken hands with. */
struct peer {
  int sock;
  const struct timespec *deadline;      /* CLOCK_MONOTONIC */
  bool late;                    /* a transfer failed at the deadline */
};

/* Milliseconds left before p's deadline, rounded up (so that a poll
 * that times out wakes past it, not just before), or 0 once past. */
static int
ms_left (const struct peer *p)
{
  struct timespec now;
  int64_t ns;

  clock_gettime (CLOCK_MONOTONIC, &now);
  ns = (int64_t) (p->deadline->tv_sec - now.tv_sec) * 1000000000
    + (p->deadline->tv_nsec - now.tv_nsec);
  if (ns <= 0)
    return 0;
  return ns / 1000000 >= INT_MAX ? INT_MAX : (int) ((ns + 999999) / 1000000);
}

/* Receive (out false) or send n bytes whole by p's deadline: 0, or -1
 * (EOF, an error, or the deadline: then p->late, errno ETIMEDOUT).
 * poll, then a call that does not block, so that no wait outlasts the
 * time left. */
static int
transfer_full (struct peer *p, void *buf, size_t n, bool out)
{
  char *b = buf;

  while (n > 0) {
    struct pollfd pfd = { .fd = p->sock, .events = out ? POLLOUT : POLLIN };
    int ms = ms_left (p);
    ssize_t r;

    if (ms == 0) {
      p->late = true;
      errno = ETIMEDOUT;
      return -1;
    }
    r = poll (&pfd, 1, ms);
    if (r == 0 || (r == -1 && errno == EINTR))
      continue;                 /* ms_left tells whether time is up */
    if (r == -1)
      return -1;
    r = out ? send (p->sock, b, n, MSG_NOSIGNAL | MSG_DONTWAIT)
      : recv (p->sock, b, n, MSG_DONTWAIT);
    if (r == -1 && (errno == EINTR || errno == EAGAIN
                    || errno == EWOULDBLOCK))
      continue;
    if (r <= 0)
      return -1;
    b += r;
    n -= r;
  }
  return 0;
}

static int
recv_full (struct peer *p, void *buf, size_t n)
{
  return transfer_full (p, buf, n, false);
}

static int
send_full (struct peer *p, const void *buf, size_t n)
{
  return transfer_full (p, (void *) buf, n, true);
}

static int
send_reply (struct peer *p, uint32_t opt, uint32_t type, const void *data,
            uint32_t len)
{
  struct {
    uint64_t magic;
    uint32_t opt, type, len;
  } __attribute__ ((packed)) h = {
    htobe64 (NBD_REP_MAGIC), htobe32 (opt), htobe32 (type), htobe32 (len)
  };

  if (send_full (p, &h, sizeof h) == -1)
    return -1;
  return len ? send_full (p, data, len) : 0;
}

static uint16_t
transmission_flags (const struct nbd_export *e)
{
  uint16_t f = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA
    /* Nothing is cached here: every connection sees every write. */
    | NBD_FLAG_CAN_MULTI_CONN;

  return f | (e->readonly ? NBD_FLAG_READ_ONLY : NBD_FLAG_SEND_WRITE_ZEROES);
}

/* NBD_REP_INFO for NBD_INFO_EXPORT and NBD_INFO_BLOCK_SIZE. */
static int
send_infos (struct peer *p, uint32_t opt, const struct nbd_export *e)
{
  struct {
    uint16_t type;
    uint64_t size;
    uint16_t flags;
  } __attribute__ ((packed)) ex = {
    htobe16 (NBD_INFO_EXPORT), htobe64 (e->size),
    htobe16 (transmission_flags (e))
  };
  struct {
    uint16_t type;
    uint32_t min, preferred, max;
  } __attribute__ ((packed)) bs = {
    htobe16 (NBD_INFO_BLOCK_SIZE), htobe32 (1), htobe32 (PREFERRED_BLOCK),
    htobe32 (NBD_MAX_REQUEST)
  };

  if (send_reply (p, opt, NBD_REP_INFO, &ex, sizeof ex) == -1
      || send_reply (p, opt, NBD_REP_INFO, &bs, sizeof bs) == -1)
    return -1;
  return send_reply (p, opt, NBD_REP_ACK, NULL, 0);
}

/* NBD_OPT_INFO and NBD_OPT_GO: name length, name, and the number of
 * information requests with their types, which must add up to len.  1
 * (GO answered), 0 (INFO answered, or refused as invalid), -1. */
static int
info_or_go (struct peer *p, uint32_t opt, const unsigned char *d,
            uint32_t len, const struct nbd_export *e)
{
  uint32_t namelen;
  uint16_t nreq;

  if (len < 6)
    return send_reply (p, opt, NBD_REP_ERR_INVALID, NULL, 0);
  memcpy (&namelen, d, 4);
  namelen = be32toh (namelen);
  if (namelen > len - 6)
    return send_reply (p, opt, NBD_REP_ERR_INVALID, NULL, 0);
  memcpy (&nreq, d + 4 + namelen, 2);
  if (len != 6 + namelen + 2u * be16toh (nreq))
    return send_reply (p, opt, NBD_REP_ERR_INVALID, NULL, 0);
  if (send_infos (p, opt, e) == -1)
    return -1;
  return opt == NBD_OPT_GO;
}

/* The old way into transmission: size and flags, no reply header. */
static int
export_name (struct peer *p, const struct nbd_export *e, bool no_zeroes)
{
  unsigned char b[8 + 2 + 124] = { 0 };
  uint64_t size = htobe64 (e->size);
  uint16_t flags = htobe16 (transmission_flags (e));

  memcpy (b, &size, 8);
  memcpy (b + 8, &flags, 2);
  return send_full (p, b, no_zeroes ? 10 : sizeof b) == -1 ? -1 : 1;
}

/* One option: 1 (transmission), 0 (next option), -1 (end). */
static int
option (struct peer *p, const struct nbd_export *e, bool no_zeroes,
        char *why, size_t whylen)
{
  struct {
    uint64_t magic;
    uint32_t opt, len;
  } __attribute__ ((packed)) h;
  unsigned char d[MAX_OPTION_DATA];
  uint32_t opt, len;

  if (recv_full (p, &h, sizeof h) == -1)
    return -1;
  opt = be32toh (h.opt);
  len = be32toh (h.len);
  if (be64toh (h.magic) != NBD_IHAVEOPT) {
    snprintf (why, whylen, "bad option magic 0x%016llx",
              (unsigned long long) be64toh (h.magic));
    return -1;
  }
  if (len > sizeof d) {
    snprintf (why, whylen, "option %u carries %u bytes, over %d", opt, len,
              MAX_OPTION_DATA);
    return -1;
  }
  if (recv_full (p, d, len) == -1)
    return -1;
  switch (opt) {
  case NBD_OPT_EXPORT_NAME:
    return export_name (p, e, no_zeroes);
  case NBD_OPT_ABORT:
    send_reply (p, opt, NBD_REP_ACK, NULL, 0);
    return -1;
  case NBD_OPT_LIST:
    if (len != 0)
      return send_reply (p, opt, NBD_REP_ERR_INVALID, NULL, 0);
    /* One export, named "" (any name reaches it). */
    if (send_reply (p, opt, NBD_REP_SERVER, "\0\0\0\0", 4) == -1)
      return -1;
    return send_reply (p, opt, NBD_REP_ACK, NULL, 0);
  case NBD_OPT_INFO:
  case NBD_OPT_GO:
    return info_or_go (p, opt, d, len, e);
  default:              /* STARTTLS, STRUCTURED_REPLY, meta contexts... */
    return send_reply (p, opt, NBD_REP_ERR_UNSUP, NULL, 0);
  }
}

/* The greeting, then options until one ends the handshake: as
 * nbd_handshake, but 0 at the deadline too (p->late says so). */
static int
shake (struct peer *p, const struct nbd_export *e, char *why, size_t whylen)
{
  struct {
    uint64_t magic, opt;
    uint16_t flags;
  } __attribute__ ((packed)) greeting = {
    htobe64 (NBD_MAGIC), htobe64 (NBD_IHAVEOPT),
    htobe16 (NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES)
  };
  uint32_t cflags;
  bool no_zeroes;

  why[0] = '\0';
  if (send_full (p, &greeting, sizeof greeting) == -1
      || recv_full (p, &cflags, sizeof cflags) == -1)
    return 0;
  cflags = be32toh (cflags);
  if (cflags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) {
    snprintf (why, whylen, "unknown client flags 0x%x", cflags);
    return 0;
  }
  no_zeroes = cflags & NBD_FLAG_C_NO_ZEROES;
  for (int i = 0; i < MAX_OPTIONS; i++) {
    int r = option (p, e, no_zeroes, why, whylen);
    if (r != 0)
      return r == 1;
  }
  snprintf (why, whylen, "more than %d options", MAX_OPTIONS);
  return 0;
}

int
nbd_handshake (int sock, const struct timespec *deadline,
               const struct nbd_export *e, char *why, size_t whylen)
{
  struct peer p = { .sock = sock, .deadline = deadline };
  int r = shake (&p, e, why, whylen);

  return p.late ? -1 : r;
}
