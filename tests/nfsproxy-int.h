/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nfsproxy's own parts (nfsproxy.c: start-up, log and loop;
 * nfsproxy-conn.c: connections and the rules applied to them;
 * nfsproxy-control.c: the control socket).  The RPC and rule parts are
 * in nfsproxy.h.
 *
 * Threading: one thread; nothing is shared. */
#ifndef NFSPROXY_INT_H
#define NFSPROXY_INT_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nfsproxy.h"

#define MAX_RULES 64
#define MAX_CTL 8
#define READ_CHUNK (256 * 1024)
/* Stop reading a side while this much waits to go to the other. */
#define BACKLOG_LIMIT (16u * 1024 * 1024)
#define FIN_LINGER_MS 10000

enum side { NFS, MOUNT };
enum closing { OPEN, CLOSE_FIN, CLOSE_RST, DRAINING };

/* A call forwarded to the server, waiting for its reply. */
struct pending {
  struct np_call call;
  unsigned rule;                /* 0: no rule for its reply */
  enum np_action action;
  uint32_t arg;
};

struct conn {
  struct conn *next;
  unsigned id;
  enum side side;
  int cfd, sfd;                 /* client, server; -1 when closed */
  struct np_buf cin, cout, sin, sout;
  struct pending *pend;
  size_t npend, cappend;
  enum closing closing;         /* close cfd once cout is sent */
  int64_t drain_until;          /* DRAINING: give up waiting */
  bool dead;
};

struct delayed {
  struct delayed *next;
  unsigned conn;
  int64_t due;
  size_t len;
  unsigned char body[];
};

struct ctl {
  int fd;
  struct np_buf in, out;
};

struct proxy {
  int target[2], listen_port[2], lfd[2];
  int ctl_fd;
  const char *ctl_path, *ports_file;
  int logfd;
  uint64_t seed;
  struct np_rule rules[MAX_RULES];
  size_t nrules;
  unsigned next_rule, next_conn;
  struct conn *conns;
  struct delayed *delayed;
  struct ctl ctls[MAX_CTL];
  int64_t t0;
};

/* nfsproxy.c */
int64_t px_now_ms (void);
void px_log (struct proxy *px, struct conn *c, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));
const char *px_call_text (const struct np_call *call, char *buf,
                          size_t size);

/* nfsproxy-conn.c */
int px_listen_on (int port, int *bound);
bool px_flush_out (int fd, struct np_buf *out);
int px_fill_in (int fd, struct np_buf *in);
void px_accept_conn (struct proxy *px, enum side side);
void px_free_conn (struct conn *c);
void px_fire_delayed (struct proxy *px, int64_t now);
void px_client_event (struct proxy *px, struct conn *c, short ev);
void px_server_event (struct proxy *px, struct conn *c, short ev);
void px_after_events (struct proxy *px, struct conn *c, int64_t now);
void px_reap_conns (struct proxy *px);

/* nfsproxy-control.c */
unsigned px_add_rule (struct proxy *px, const char *text, char *err,
                      size_t size);
void px_ctl_accept (struct proxy *px);
void px_ctl_read (struct proxy *px, struct ctl *k);
int px_ctl_listen (const char *path);
int px_ctl_client (const char *path, char **cmds, size_t n);

#endif
