/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio nbd: the fixed newstyle handshake, on a thread of its own
 * and a blocking socket (nbd-accept.c sets timeouts on it, so a silent
 * client cannot hold the thread for long).  One export, under any name
 * the client asks for; simple replies only (structured replies are
 * refused, which every client handles: they are an option).
 *
 * Option data is read whole, up to MAX_OPTION_DATA; a client that
 * sends more, or more than MAX_OPTIONS options, is cut off. */
#include <config.h>

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nbd-proto.h"
#include "nbd-server.h"

#define MAX_OPTION_DATA 4096
#define MAX_OPTIONS 64
#define PREFERRED_BLOCK 4096

/* Receive (out false) or send n bytes whole: 0, or -1 (EOF or an
 * error). */
static int
transfer_full (int sock, void *buf, size_t n, bool out)
{
  char *p = buf;

  while (n > 0) {
    ssize_t r = out ? send (sock, p, n, MSG_NOSIGNAL) : recv (sock, p, n, 0);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    p += r;
    n -= r;
  }
  return 0;
}

static int
recv_full (int sock, void *buf, size_t n)
{
  return transfer_full (sock, buf, n, false);
}

static int
send_full (int sock, const void *buf, size_t n)
{
  return transfer_full (sock, (void *) buf, n, true);
}

static int
send_reply (int sock, uint32_t opt, uint32_t type, const void *data,
            uint32_t len)
{
  struct {
    uint64_t magic;
    uint32_t opt, type, len;
  } __attribute__ ((packed)) h = {
    htobe64 (NBD_REP_MAGIC), htobe32 (opt), htobe32 (type), htobe32 (len)
  };

  if (send_full (sock, &h, sizeof h) == -1)
    return -1;
  return len ? send_full (sock, data, len) : 0;
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
send_infos (int sock, uint32_t opt, const struct nbd_export *e)
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

  if (send_reply (sock, opt, NBD_REP_INFO, &ex, sizeof ex) == -1
      || send_reply (sock, opt, NBD_REP_INFO, &bs, sizeof bs) == -1)
    return -1;
  return send_reply (sock, opt, NBD_REP_ACK, NULL, 0);
}

/* NBD_OPT_INFO and NBD_OPT_GO: name length, name, and the number of
 * information requests with their types, which must add up to len.  1
 * (GO answered), 0 (INFO answered, or refused as invalid), -1. */
static int
info_or_go (int sock, uint32_t opt, const unsigned char *d, uint32_t len,
            const struct nbd_export *e)
{
  uint32_t namelen;
  uint16_t nreq;

  if (len < 6)
    return send_reply (sock, opt, NBD_REP_ERR_INVALID, NULL, 0);
  memcpy (&namelen, d, 4);
  namelen = be32toh (namelen);
  if (namelen > len - 6)
    return send_reply (sock, opt, NBD_REP_ERR_INVALID, NULL, 0);
  memcpy (&nreq, d + 4 + namelen, 2);
  if (len != 6 + namelen + 2u * be16toh (nreq))
    return send_reply (sock, opt, NBD_REP_ERR_INVALID, NULL, 0);
  if (send_infos (sock, opt, e) == -1)
    return -1;
  return opt == NBD_OPT_GO;
}

/* The old way into transmission: size and flags, no reply header. */
static int
export_name (int sock, const struct nbd_export *e, bool no_zeroes)
{
  unsigned char b[8 + 2 + 124] = { 0 };
  uint64_t size = htobe64 (e->size);
  uint16_t flags = htobe16 (transmission_flags (e));

  memcpy (b, &size, 8);
  memcpy (b + 8, &flags, 2);
  return send_full (sock, b, no_zeroes ? 10 : sizeof b) == -1 ? -1 : 1;
}

/* One option: 1 (transmission), 0 (next option), -1 (end). */
static int
option (int sock, const struct nbd_export *e, bool no_zeroes, char *why,
        size_t whylen)
{
  struct {
    uint64_t magic;
    uint32_t opt, len;
  } __attribute__ ((packed)) h;
  unsigned char d[MAX_OPTION_DATA];
  uint32_t opt, len;

  if (recv_full (sock, &h, sizeof h) == -1)
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
  if (recv_full (sock, d, len) == -1)
    return -1;
  switch (opt) {
  case NBD_OPT_EXPORT_NAME:
    return export_name (sock, e, no_zeroes);
  case NBD_OPT_ABORT:
    send_reply (sock, opt, NBD_REP_ACK, NULL, 0);
    return -1;
  case NBD_OPT_LIST:
    if (len != 0)
      return send_reply (sock, opt, NBD_REP_ERR_INVALID, NULL, 0);
    /* One export, named "" (any name reaches it). */
    if (send_reply (sock, opt, NBD_REP_SERVER, "\0\0\0\0", 4) == -1)
      return -1;
    return send_reply (sock, opt, NBD_REP_ACK, NULL, 0);
  case NBD_OPT_INFO:
  case NBD_OPT_GO:
    return info_or_go (sock, opt, d, len, e);
  default:              /* STARTTLS, STRUCTURED_REPLY, meta contexts... */
    return send_reply (sock, opt, NBD_REP_ERR_UNSUP, NULL, 0);
  }
}

int
nbd_handshake (int sock, const struct nbd_export *e, char *why,
               size_t whylen)
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
  if (send_full (sock, &greeting, sizeof greeting) == -1
      || recv_full (sock, &cflags, sizeof cflags) == -1)
    return 0;
  cflags = be32toh (cflags);
  if (cflags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) {
    snprintf (why, whylen, "unknown client flags 0x%x", cflags);
    return 0;
  }
  no_zeroes = cflags & NBD_FLAG_C_NO_ZEROES;
  for (int i = 0; i < MAX_OPTIONS; i++) {
    int r = option (sock, e, no_zeroes, why, whylen);
    if (r != 0)
      return r == 1;
  }
  snprintf (why, whylen, "more than %d options", MAX_OPTIONS);
  return 0;
}
