/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Metadata calls: a job that issues one async operation, and a waiter.
 *
 * Threading: the call lives on the caller's stack; the service thread
 * fills err/msg/arg and signals; the caller reads them after waking. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>

#include "call.h"
#include "errors.h"
#include "mount.h"

static int
call_start (struct dio_job *job, struct dio_conn *conn)
{
  struct dio_call *call = (struct dio_call *) job;

  call->msg[0] = '\0';          /* an earlier attempt's is not this one's */
  dio_count (call->m->stats->other_rpcs, 1);
  return call->issue (call, conn);
}

static void
call_fail (struct dio_job *job, int err)
{
  struct dio_call *call = (struct dio_call *) job;

  call->err = err;
  /* A timeout is the reason, whatever an attempt cancelled on the way
   * (the connection replaced under it) left in msg. */
  dio_mount_timeout_reason (call->m, err, job->delays > 0, call->msg,
                            sizeof call->msg);
  if (call->job.conn && call->msg[0] == '\0'
      && dio_conn_nfs (call->job.conn))
    snprintf (call->msg, sizeof call->msg, "%s",
              dio_text (nfs_get_error (dio_conn_nfs (call->job.conn))));
  dio_waiter_signal (&call->w);
}

int
dio_call_run (struct dio_mount *m, struct dio_call *call,
              dio_call_issue_fn issue, void *arg)
{
  memset (call, 0, sizeof *call);
  dio_waiter_init (&call->w);
  call->m = m;
  call->issue = issue;
  call->arg = arg;
  call->job.start = call_start;
  call->job.fail = call_fail;
  dio_mount_submit (m, &call->job);
  dio_waiter_wait (&call->w);
  dio_waiter_destroy (&call->w);
  return call->err;
}

/* libnfs 4.0 fails a high-level call whose socket broke with -EFAULT and
 * "RPC ERROR: Failed to reconnect async" (autoreconnect being off), and
 * does so before it marks the socket closed: dio_conn_lost cannot tell
 * yet, the message can. */
static bool
highlevel_socket_lost (const struct dio_call *call, int err)
{
  return err == EFAULT && strstr (call->msg, "reconnect") != NULL;
}

void
dio_call_rpc_done (struct dio_call *call, int rpc_status, const void *data,
                   int err)
{
  /* A call fails when its connection is lost: then it is issued again on
   * the next one (or times out).  Raw RPCs tell by their status; libnfs's
   * high-level calls by the state of the connection or their message. */
  int status = rpc_status;

  if (rpc_status == RPC_STATUS_SUCCESS && err
      && (dio_conn_lost (call->job.conn)
          || (data == NULL && highlevel_socket_lost (call, err))))
    status = RPC_STATUS_CANCEL;
  if (dio_conn_job_reclaimed (call->job.conn, &call->job, status, data))
    return;
  /* libnfs's high-level calls turn the server's "try again later"
   * (NFS3ERR_JUKEBOX) into EAGAIN; raw RPCs were seen to above. */
  if (err == EAGAIN && data == NULL) {
    dio_conn_delay (call->job.conn, &call->job);
    return;
  }
  if (err)
    dio_count (call->m->stats->errors, 1);
  call->err = err;
  dio_waiter_signal (&call->w);
}

void
dio_call_done (struct dio_call *call, int err)
{
  dio_call_rpc_done (call, RPC_STATUS_SUCCESS, NULL, err);
}

int
dio_call_rpc_errno (struct dio_call *call, int rpc_status, const void *data)
{
  if (rpc_status != RPC_STATUS_SUCCESS) {
    snprintf (call->msg, sizeof call->msg, "%s",
              dio_text (rpc_get_error (dio_conn_rpc (call->job.conn))));
    if (rpc_status == RPC_STATUS_TIMEOUT)
      dio_count (call->m->stats->timeouts, 1);
    return dio_rpcstatus_errno (rpc_status);
  }
  /* Every NFSv3 result starts with its nfsstat3. */
  return dio_nfsstat_errno (*(const int *) data);
}
