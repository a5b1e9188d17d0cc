/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Metadata calls (file.c's open, GETATTR and SETATTR; namespace.c's
 * stat, unlink, rename, mkdir, rmdir, access and opendir): one RPC or
 * libnfs async operation issued on a connection's service thread while
 * the caller waits.  Sync = async + wait.  COMMITs go through commit.h,
 * READs and WRITEs through dreq.h. */
#ifndef DIO_CALL_H
#define DIO_CALL_H

#include "conn.h"
#include "internal.h"

struct dio_mount;
struct dio_call;

/* Runs on the service thread: issue one async call whose callback ends
 * with dio_call_done().  Returns 0, or an errno if nothing was issued. */
typedef int (*dio_call_issue_fn) (struct dio_call *call, struct dio_conn *conn);

struct dio_call {
  struct dio_job job;           /* first */
  struct dio_waiter w;
  struct dio_conn *conn;
  struct dio_mount *m;
  dio_call_issue_fn issue;
  void *arg;                    /* the issuer's in/out data */
  int err;
  char msg[256];                /* detail for err, from libnfs */
  int rpc_status;               /* a raw RPC's status, for dio_call_done */
  const void *rpc_data;
};

/* Issue on the mount's next connection and wait.  Returns 0 or an errno
 * (call->msg may say more). */
int dio_call_run (struct dio_mount *m, struct dio_call *call,
                  dio_call_issue_fn issue, void *arg);

/* Service thread: the call's callback has run; err is its errno. */
void dio_call_done (struct dio_call *call, int err);

/* Service thread: err from a raw RPC callback's status and data (an
 * NFSv3 result, which starts with its nfsstat3); remembers both for the
 * dio_call_done that must follow. */
int dio_call_rpc_errno (struct dio_call *call, int rpc_status, void *data);

#endif /* DIO_CALL_H */
