/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nfsproxy: an ONC RPC fault proxy for NFSv3 and MOUNT3 (nfsproxy.c has
 * the usage).  This header joins its parts: the record buffers and XDR
 * decoding and rewriting of calls and replies (nfsproxy-rpc.c), and the
 * rules that choose what to do with a call (nfsproxy-rules.c). */
#ifndef NFSPROXY_H
#define NFSPROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NP_PROG_NFS 100003
#define NP_PROG_MOUNT 100005
#define NP_NFS3_READ 6
#define NP_NFS3_WRITE 7
#define NP_NFS3_COMMIT 21
#define NP_NFS3ERR_JUKEBOX 10008

/* --- Byte buffers and RPC record marking (nfsproxy-rpc.c) ------------- */

/* Bytes [start, start + len) of data[0, cap) are queued. */
struct np_buf {
  unsigned char *data;
  size_t start, len, cap;
};

/* Room for n more bytes at np_buf_tail; false when out of memory. */
bool np_buf_reserve (struct np_buf *b, size_t n);
unsigned char *np_buf_tail (struct np_buf *b);
bool np_buf_append (struct np_buf *b, const void *p, size_t n);
void np_buf_consume (struct np_buf *b, size_t n);
void np_buf_free (struct np_buf *b);

/* The next whole record at the head of in: its fragments are joined in
 * place and *body, *len give its body.  Returns the bytes of in it took
 * (to np_buf_consume after use), 0 if it is not all there yet, or -1 if
 * a fragment is absurdly large (a stream that is not RPC). */
long np_record_take (struct np_buf *in, unsigned char **body, size_t *len);

/* Queue body as one record (a single last fragment) on out. */
bool np_record_put (struct np_buf *out, const unsigned char *body,
                    size_t len);

/* --- Calls and replies (nfsproxy-rpc.c) ------------------------------- */

struct np_call {
  uint32_t xid, prog, vers, proc;
  uint64_t offset;              /* READ, WRITE, COMMIT */
  uint32_t count;               /* READ, WRITE, COMMIT */
};

/* Decode a call's header (and READ/WRITE/COMMIT's offset and count);
 * false when body is no RPC call. */
bool np_call_parse (const unsigned char *body, size_t len,
                    struct np_call *c);

/* A reply's xid; false when body is no RPC reply. */
bool np_reply_xid (const unsigned char *body, size_t len, uint32_t *xid);

/* The offset of the procedure's status (nfsstat3, mountstat3) in an
 * accepted, successful reply, or 0 when it is not one. */
size_t np_reply_status_at (const unsigned char *body, size_t len);

/* Rewrite a successful READ or WRITE reply of *len bytes to count *n
 * (NP_HALF: half the server's; never more than the server's); READ's
 * data is cut to *n bytes and its eof cleared, so the reply shrinks.
 * Returns the count the server gave, or -1 with *why set when the reply
 * is not one this applies to. */
long np_reply_short (unsigned char *body, size_t *len, uint32_t proc,
                     uint32_t *n, const char **why);

/* Change the write verifier of a successful WRITE or COMMIT reply (its
 * last 8 bytes); false with *why set if it is not one. */
bool np_reply_flip_verf (unsigned char *body, size_t len, uint32_t proc,
                         const char **why);

/* Build, in out[0, NP_ERROR_MAX), the reply to call c that fails with
 * status (an NFS3ERR_* or MNT3ERR_* number) and carries no attributes;
 * returns its length. */
#define NP_ERROR_MAX 64
size_t np_error_reply (const struct np_call *c, uint32_t status,
                       unsigned char *out);

/* Names: "READ", "MNT", "prog 100227 proc 3"; into buf. */
const char *np_proc_name (uint32_t prog, uint32_t proc, char *buf,
                          size_t size);
/* "READ" -> NFS 6, "MNT" -> MOUNT 1, "MOUNT.NULL", "NFS.NULL", "*"
 * (prog 0: any); false if unknown. */
bool np_proc_lookup (const char *name, uint32_t *prog, int32_t *proc);
/* "JUKEBOX" (or "NFS3ERR_JUKEBOX", or a number) -> 10008. */
bool np_status_lookup (const char *name, uint32_t *status);
const char *np_status_name (uint32_t status);

/* --- Rules (nfsproxy-rules.c) ----------------------------------------- */

enum np_action {
  NP_PASS,                      /* forward, and log it */
  NP_SHORT,                     /* READ/WRITE reply count cut */
  NP_ZERO,                      /* READ/WRITE reply count 0, no EOF */
  NP_ERROR,                     /* answer an error; server never sees it */
  NP_REPLACE,                   /* server runs it; its reply -> error */
  NP_VERF,                      /* WRITE/COMMIT reply: other verifier */
  NP_FIN_BEFORE, NP_RST_BEFORE, /* close instead of forwarding the call */
  NP_FIN_AFTER, NP_RST_AFTER,   /* forward; close instead of the reply */
  NP_FIN_MID, NP_RST_MID,       /* forward half the reply, then close */
  NP_DROP,                      /* never answer */
  NP_DELAY,                     /* hold the reply arg ms */
  NP_DUP,                       /* send the reply twice */
};

/* Short's arg when it cuts the count in half. */
#define NP_HALF UINT32_MAX

struct np_rule {
  unsigned id;
  uint32_t prog;                /* 0: any program */
  int32_t proc;                 /* -1: any procedure */
  enum np_action action;
  uint32_t arg;                 /* count, status, milliseconds */
  uint64_t nth;                 /* first matching call that fires (1..) */
  uint64_t times;               /* fires at most this often; 0: always */
  double p;                     /* probability of firing (1: always) */
  uint64_t rng;
  uint64_t seen, fired;
  char text[160];
};

/* Parse text ("READ:short=4096:nth=2") into r; on error false with a
 * message in err. */
bool np_rule_parse (const char *text, uint64_t seed, struct np_rule *r,
                    char *err, size_t errsize);

/* Whether the action happens when the call arrives (else at its reply). */
bool np_action_on_call (enum np_action a);
const char *np_action_name (enum np_action a);

/* Count call c against r if it matches; true when r fires for it (never
 * if !may_fire: another rule already did). */
bool np_rule_fires (struct np_rule *r, const struct np_call *c,
                    bool may_fire);

#endif
