/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nfsproxy: byte buffers, RPC record marking (RFC 5531 section 11), and
 * the decoding and rewriting of NFSv3 and MOUNT3 calls and replies
 * (RFC 1813) that the rules need.
 *
 * Threading: none (the proxy has one thread). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nfsproxy.h"

#define MAX_FRAGMENT (64u * 1024 * 1024)
#define FATTR3_SIZE 84
#define WCC_ATTR_SIZE 24

/* --- Buffers ----------------------------------------------------------- */

bool
np_buf_reserve (struct np_buf *b, size_t n)
{
  unsigned char *d;
  size_t cap;

  if (b->start + b->len + n <= b->cap)
    return true;
  if (b->start > 0) {           /* slide the queued bytes down first */
    memmove (b->data, b->data + b->start, b->len);
    b->start = 0;
    if (b->len + n <= b->cap)
      return true;
  }
  cap = b->cap ? b->cap : 64 * 1024;
  while (cap < b->len + n)
    cap *= 2;
  d = realloc (b->data, cap);
  if (d == NULL)
    return false;
  b->data = d;
  b->cap = cap;
  return true;
}

unsigned char *
np_buf_tail (struct np_buf *b)
{
  return b->data + b->start + b->len;
}

bool
np_buf_append (struct np_buf *b, const void *p, size_t n)
{
  if (!np_buf_reserve (b, n))
    return false;
  memcpy (np_buf_tail (b), p, n);
  b->len += n;
  return true;
}

void
np_buf_consume (struct np_buf *b, size_t n)
{
  b->start += n;
  b->len -= n;
  if (b->len == 0)
    b->start = 0;
}

void
np_buf_free (struct np_buf *b)
{
  free (b->data);
  *b = (struct np_buf) { 0 };
}

/* --- XDR --------------------------------------------------------------- */

static uint32_t
get32 (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
    | (uint32_t) p[2] << 8 | p[3];
}

static void
put32 (unsigned char *p, uint32_t v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

static size_t
pad4 (size_t n)
{
  return (n + 3) & ~(size_t) 3;
}

/* Skip an opaque<> at *at; false if it runs past len. */
static bool
skip_opaque (const unsigned char *body, size_t len, size_t *at)
{
  uint32_t n;

  if (*at + 4 > len)
    return false;
  n = get32 (body + *at);
  if (n > len || *at + 4 + pad4 (n) > len)
    return false;
  *at += 4 + pad4 (n);
  return true;
}

/* Skip an optional structure of size bytes (a bool, then the structure
 * if true), as post_op_attr and pre_op_attr are. */
static bool
skip_optional (const unsigned char *body, size_t len, size_t *at,
               size_t size)
{
  if (*at + 4 > len)
    return false;
  *at += 4 + (get32 (body + *at) ? size : 0);
  return *at <= len;
}

/* --- Records ----------------------------------------------------------- */

long
np_record_take (struct np_buf *in, unsigned char **body, size_t *len)
{
  unsigned char *p = in->data + in->start;
  size_t at = 0, joined = 0;
  bool last = false;

  /* Find the end of the record first, then join in place. */
  while (!last) {
    uint32_t mark, n;

    if (at + 4 > in->len)
      return 0;
    mark = get32 (p + at);
    last = mark >> 31;
    n = mark & 0x7fffffff;
    if (n > MAX_FRAGMENT)
      return -1;
    if (at + 4 + n > in->len)
      return 0;
    at += 4 + n;
  }
  for (size_t f = 0; f < at;) {
    uint32_t n = get32 (p + f) & 0x7fffffff;

    memmove (p + joined, p + f + 4, n);
    joined += n;
    f += 4 + n;
  }
  *body = p;
  *len = joined;
  return at;
}

bool
np_record_put (struct np_buf *out, const unsigned char *body, size_t len)
{
  unsigned char mark[4];

  put32 (mark, 0x80000000u | (uint32_t) len);
  if (!np_buf_reserve (out, 4 + len))
    return false;
  np_buf_append (out, mark, 4);
  np_buf_append (out, body, len);
  return true;
}

/* --- Calls ------------------------------------------------------------- */

bool
np_call_parse (const unsigned char *body, size_t len, struct np_call *c)
{
  size_t at = 24;

  *c = (struct np_call) { 0 };
  if (len < 32 || get32 (body + 4) != 0 || get32 (body + 8) != 2)
    return false;
  c->xid = get32 (body);
  c->prog = get32 (body + 12);
  c->vers = get32 (body + 16);
  c->proc = get32 (body + 20);
  at += 4;                      /* credential: flavor, body */
  if (!skip_opaque (body, len, &at))
    return false;
  at += 4;                      /* verifier */
  if (!skip_opaque (body, len, &at))
    return false;
  if (c->prog != NP_PROG_NFS || c->vers != 3
      || (c->proc != NP_NFS3_READ && c->proc != NP_NFS3_WRITE
          && c->proc != NP_NFS3_COMMIT))
    return true;
  if (!skip_opaque (body, len, &at) || at + 12 > len)  /* nfs_fh3 */
    return true;
  c->offset = (uint64_t) get32 (body + at) << 32 | get32 (body + at + 4);
  c->count = get32 (body + at + 8);
  return true;
}

/* --- Replies ----------------------------------------------------------- */

bool
np_reply_xid (const unsigned char *body, size_t len, uint32_t *xid)
{
  if (len < 12 || get32 (body + 4) != 1)
    return false;
  *xid = get32 (body);
  return true;
}

size_t
np_reply_status_at (const unsigned char *body, size_t len)
{
  size_t at = 16;

  /* xid, REPLY, MSG_ACCEPTED, verifier (flavor, body), SUCCESS */
  if (len < 24 || get32 (body + 4) != 1 || get32 (body + 8) != 0)
    return 0;
  if (!skip_opaque (body, len, &at) || at + 8 > len
      || get32 (body + at) != 0)
    return 0;
  return at + 4;
}

long
np_reply_short (unsigned char *body, size_t *len, uint32_t proc,
                uint32_t *n, const char **why)
{
  size_t at = np_reply_status_at (body, *len);
  uint32_t count;

  if (proc != NP_NFS3_READ && proc != NP_NFS3_WRITE) {
    *why = "not a READ or WRITE";
    return -1;
  }
  if (at == 0 || get32 (body + at) != 0) {
    *why = "the server's reply failed";
    return -1;
  }
  at += 4;
  if (proc == NP_NFS3_READ) {
    if (!skip_optional (body, *len, &at, FATTR3_SIZE) || at + 12 > *len)
      goto bad;
    count = get32 (body + at);
    if (*n == NP_HALF || *n > count)
      *n = *n == NP_HALF ? count / 2 : count;
    put32 (body + at, *n);
    put32 (body + at + 4, 0);   /* eof */
    if (get32 (body + at + 8) < *n)
      goto bad;
    put32 (body + at + 8, *n);  /* the data's length */
    *len = at + 12 + pad4 (*n);
    /* XDR pads with zeros. */
    memset (body + at + 12 + *n, 0, pad4 (*n) - *n);
    return count;
  }
  if (!skip_optional (body, *len, &at, WCC_ATTR_SIZE)
      || !skip_optional (body, *len, &at, FATTR3_SIZE) || at + 16 > *len)
    goto bad;
  count = get32 (body + at);
  if (*n == NP_HALF || *n > count)
    *n = *n == NP_HALF ? count / 2 : count;
  put32 (body + at, *n);
  return count;

 bad:
  *why = "malformed reply";
  return -1;
}

bool
np_reply_flip_verf (unsigned char *body, size_t len, uint32_t proc,
                    const char **why)
{
  size_t at = np_reply_status_at (body, len);

  if (proc != NP_NFS3_WRITE && proc != NP_NFS3_COMMIT) {
    *why = "not a WRITE or COMMIT";
    return false;
  }
  if (at == 0 || get32 (body + at) != 0) {
    *why = "the server's reply failed";
    return false;
  }
  if (len < at + 4 + 8 + 8) {
    *why = "malformed reply";
    return false;
  }
  for (size_t i = len - 8; i < len; i++)
    body[i] ^= 0x5a;
  return true;
}

/* --- Errors ------------------------------------------------------------ */

/* Bytes of the failure arm after an NFSv3 procedure's status: no
 * attributes (post_op_attr: 4 bytes; wcc_data: 8). */
static size_t
nfs3_fail_size (uint32_t proc)
{
  static const unsigned char size[22] = {
    [1] = 0,                    /* GETATTR */
    [2] = 8, [3] = 4, [4] = 4, [5] = 4, [6] = 4, [7] = 8, [8] = 8,
    [9] = 8, [10] = 8, [11] = 8, [12] = 8, [13] = 8, [14] = 16,
    [15] = 12, [16] = 4, [17] = 4, [18] = 4, [19] = 4, [20] = 4,
    [21] = 8,
  };
  return proc < 22 ? size[proc] : 0;
}

size_t
np_error_reply (const struct np_call *c, uint32_t status,
                unsigned char *out)
{
  size_t len = 28, fail = 0;

  memset (out, 0, NP_ERROR_MAX);
  put32 (out, c->xid);
  put32 (out + 4, 1);           /* REPLY; MSG_ACCEPTED, AUTH_NONE, SUCCESS */
  put32 (out + 24, status);
  if (c->prog == NP_PROG_NFS)
    fail = nfs3_fail_size (c->proc);
  return len + fail;
}

/* --- Names ------------------------------------------------------------- */

static const char *const nfs3_procs[] = {
  "NULL", "GETATTR", "SETATTR", "LOOKUP", "ACCESS", "READLINK", "READ",
  "WRITE", "CREATE", "MKDIR", "SYMLINK", "MKNOD", "REMOVE", "RMDIR",
  "RENAME", "LINK", "READDIR", "READDIRPLUS", "FSSTAT", "FSINFO",
  "PATHCONF", "COMMIT",
};
static const char *const mount3_procs[] = {
  "NULL", "MNT", "DUMP", "UMNT", "UMNTALL", "EXPORT",
};
#define NELEMS(a) (sizeof (a) / sizeof (a)[0])

const char *
np_proc_name (uint32_t prog, uint32_t proc, char *buf, size_t size)
{
  if (prog == NP_PROG_NFS && proc < NELEMS (nfs3_procs))
    return nfs3_procs[proc];
  if (prog == NP_PROG_MOUNT && proc < NELEMS (mount3_procs))
    snprintf (buf, size, "MOUNT.%s", mount3_procs[proc]);
  else
    snprintf (buf, size, "prog %u proc %u", prog, proc);
  return buf;
}

bool
np_proc_lookup (const char *name, uint32_t *prog, int32_t *proc)
{
  bool mount_only = false, nfs_only = false;

  if (strcmp (name, "*") == 0) {
    *prog = 0;
    *proc = -1;
    return true;
  }
  if (strncasecmp (name, "MOUNT.", 6) == 0) {
    mount_only = true;
    name += 6;
  }
  else if (strncasecmp (name, "NFS.", 4) == 0) {
    nfs_only = true;
    name += 4;
  }
  if (strcmp (name, "*") == 0 && (mount_only || nfs_only)) {
    *prog = mount_only ? NP_PROG_MOUNT : NP_PROG_NFS;
    *proc = -1;
    return true;
  }
  for (size_t i = 0; !mount_only && i < NELEMS (nfs3_procs); i++)
    if (strcasecmp (name, nfs3_procs[i]) == 0) {
      *prog = NP_PROG_NFS;
      *proc = i;
      return true;
    }
  for (size_t i = 0; !nfs_only && i < NELEMS (mount3_procs); i++)
    if (strcasecmp (name, mount3_procs[i]) == 0) {
      *prog = NP_PROG_MOUNT;
      *proc = i;
      return true;
    }
  return false;
}

static const struct { const char *name; uint32_t value; } statuses[] = {
  { "OK", 0 }, { "PERM", 1 }, { "NOENT", 2 }, { "IO", 5 }, { "NXIO", 6 },
  { "ACCES", 13 }, { "EXIST", 17 }, { "XDEV", 18 }, { "NODEV", 19 },
  { "NOTDIR", 20 }, { "ISDIR", 21 }, { "INVAL", 22 }, { "FBIG", 27 },
  { "NOSPC", 28 }, { "ROFS", 30 }, { "MLINK", 31 },
  { "NAMETOOLONG", 63 }, { "NOTEMPTY", 66 }, { "DQUOT", 69 },
  { "STALE", 70 }, { "REMOTE", 71 }, { "BADHANDLE", 10001 },
  { "NOT_SYNC", 10002 }, { "BAD_COOKIE", 10003 }, { "NOTSUPP", 10004 },
  { "TOOSMALL", 10005 }, { "SERVERFAULT", 10006 }, { "BADTYPE", 10007 },
  { "JUKEBOX", 10008 },
};

bool
np_status_lookup (const char *name, uint32_t *status)
{
  char *end;
  unsigned long v;

  if (strncasecmp (name, "NFS3ERR_", 8) == 0)
    name += 8;
  for (size_t i = 0; i < NELEMS (statuses); i++)
    if (strcasecmp (name, statuses[i].name) == 0) {
      *status = statuses[i].value;
      return true;
    }
  v = strtoul (name, &end, 10);
  if (end == name || *end != '\0' || v == 0 || v > UINT32_MAX)
    return false;
  *status = v;
  return true;
}

const char *
np_status_name (uint32_t status)
{
  for (size_t i = 0; i < NELEMS (statuses); i++)
    if (statuses[i].value == status)
      return statuses[i].name;
  return "?";
}
