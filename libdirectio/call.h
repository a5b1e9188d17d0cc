/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Metadata calls (file.c's open, GETATTR and SETATTR; namespace.c's
 * stat, unlink, rename, mkdir, rmdir, access and opendir): one RPC or
 * libnfs async operation issued under a connection's context lock (on
 * its service thread, or on the caller's thread when the connection is
 * idle: dio_conn_submit) while the caller waits.  Sync = async + wait.
 * COMMITs go through commit.h,
 * READs and WRITEs through dreq.h. */
#ifndef DIO_CALL_H
#define DIO_CALL_H

#include "conn.h"
#include "internal.h"

struct dio_mount;
struct dio_call;

/* Runs under the context lock (conn.h: start()): issue one async call
 * whose callback ends with dio_call_done() (a libnfs high-level call) or
 * dio_call_rpc_done() (a raw RPC).  Returns 0, or an errno if
 * nothing was issued. */
typedef int (*dio_call_issue_fn) (struct dio_call *call, struct dio_conn *conn);

struct dio_call {
  struct dio_job job;           /* first */
  struct dio_waiter w;
  struct dio_mount *m;
  dio_call_issue_fn issue;
  void *arg;                    /* the issuer's in/out data */
  int err;
  char msg[256];                /* detail for err, from libnfs */
};

/* Issue on the mount's next connection and wait.  Returns 0 or an errno
 * (call->msg may say more). */
int dio_call_run (struct dio_mount *m, struct dio_call *call,
                  dio_call_issue_fn issue, void *arg);

/* Holder of the context lock, last thing in the callback of a libnfs
 * high-level call (nfs_*_async): it has run; err is its errno. */
void dio_call_done (struct dio_call *call, int err);

/* Holder of the context lock, last thing in the callback of a raw RPC
 * (rpc_nfs3_*_async): it has come back with rpc_status and data (an
 * NFSv3 result, which starts with its nfsstat3), and err is what the
 * callback makes of them (from dio_call_rpc_errno).  A lost connection
 * or NFS3ERR_JUKEBOX sends the call again instead of completing it. */
void dio_call_rpc_done (struct dio_call *call, int rpc_status,
                        const void *data, int err);

/* A raw RPC callback's errno from its status and data; a failed RPC
 * leaves libnfs's reason in call->msg. */
int dio_call_rpc_errno (struct dio_call *call, int rpc_status,
                        const void *data);

#endif /* DIO_CALL_H */
