/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What fsops.c and fsops-mount.c share: the file system handle and one
 * RPC.  Nothing here is installed or exported. */
#ifndef DIO_FSOPS_INT_H
#define DIO_FSOPS_INT_H

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>

#include "fsops.h"
#include "options.h"
#include "url.h"

struct dio__fs {
  struct dio_options o;         /* as asked for */
  struct dio_options eo;        /* the engine's: always direct */
  struct dio_url u;             /* u.path names a child of the root */
  struct dio_mount *m;
  struct dio__fh root;
};

/* Service thread, on NFS3_OK: copy what is needed out of res.  Returns
 * 0 or an errno. */
typedef int (*dio_fs_take_fn) (void *res, void *out);
typedef int (*dio_fs_send_fn) (struct rpc_context *rpc, rpc_cb cb,
                               void *args, void *priv);

/* Run one raw NFSv3 RPC (send it with args; take copies the result to
 * out); 0 or an errno.  It sets the error context: what (the RPC's name)
 * is the call, so a failure reads "GETATTR: reason". */
int dio_fs_rpc (struct dio__fs *fs, const char *what, dio_fs_send_fn send,
                void *args, dio_fs_take_fn take, void *out);

#endif /* DIO_FSOPS_INT_H */
