/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/nbdkit-floor.c: the cheapest nbdkit plugin that waits for NFS.
 *
 *   nbdkit ./nbdkit-floor.so url=nfs://server/export/file
 *
 * A yardstick for bench/peers.sh, not part of the product: it serves one
 * NFS file with libnfs's synchronous calls on a libnfs context of each
 * nbdkit worker thread's own (made at the thread's first request, freed
 * when the thread ends), so a request is one RPC sent and polled for by
 * the thread that got it: no engine, no queue, no other thread, no
 * chunking, no retries and no durability (writes go as libnfs sends
 * them; flush is a COMMIT).  What it costs per request is what nbdkit
 * 1.32's thread-per-request plugin calls and libnfs cost alone, so no
 * plugin that answers from the NFS server can do much better: the bound
 * that peers-report.py prints beside our ratios.
 *
 * Threading (PARALLEL): url and file_size are written by .config and
 * .config_complete before any connection; everything else is per thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>
#include <nfsc/libnfs.h>

struct thread_ctx {
  struct nfs_context *nfs;
  struct nfsfh *fh;
};

static char *url;
static int64_t file_size;
static pthread_key_t ctx_key;

static void
ctx_free (void *p)
{
  struct thread_ctx *t = p;

  if (t->fh)
    nfs_close (t->nfs, t->fh);
  nfs_destroy_context (t->nfs);
  free (t);
}

/* A new context, mounted, with the file open; NULL after nbdkit_error. */
static struct thread_ctx *
ctx_open (void)
{
  struct thread_ctx *t = calloc (1, sizeof *t);
  struct nfs_url *u = NULL;

  if (t == NULL || (t->nfs = nfs_init_context ()) == NULL) {
    nbdkit_error ("floor: out of memory");
    free (t);
    return NULL;
  }
  u = nfs_parse_url_full (t->nfs, url);
  if (u == NULL)
    nbdkit_error ("floor: %s: %s", url, nfs_get_error (t->nfs));
  else if (nfs_mount (t->nfs, u->server, u->path) != 0)
    nbdkit_error ("floor: mount %s:%s: %s", u->server, u->path,
                  nfs_get_error (t->nfs));
  else if (nfs_open (t->nfs, u->file, O_RDWR, &t->fh) != 0)
    nbdkit_error ("floor: open %s: %s", u->file, nfs_get_error (t->nfs));
  else {
    nfs_destroy_url (u);
    return t;
  }
  if (u)
    nfs_destroy_url (u);
  ctx_free (t);
  return NULL;
}

/* This thread's context, made at its first request. */
static struct thread_ctx *
ctx_get (void)
{
  struct thread_ctx *t = pthread_getspecific (ctx_key);

  if (t == NULL && (t = ctx_open ()) != NULL)
    pthread_setspecific (ctx_key, t);
  return t;
}

static int
floor_config (const char *key, const char *value)
{
  if (strcmp (key, "url") != 0) {
    nbdkit_error ("floor: unknown parameter '%s' (only url=)", key);
    return -1;
  }
  free (url);
  url = strdup (value);
  return url ? 0 : -1;
}

static int
floor_config_complete (void)
{
  struct thread_ctx *t;
  struct nfs_stat_64 st;

  if (url == NULL) {
    nbdkit_error ("floor: url= is required");
    return -1;
  }
  if ((errno = pthread_key_create (&ctx_key, ctx_free)) != 0) {
    nbdkit_error ("floor: pthread_key_create: %m");
    return -1;
  }
  if ((t = ctx_open ()) == NULL)
    return -1;
  if (nfs_fstat64 (t->nfs, t->fh, &st) != 0) {
    nbdkit_error ("floor: fstat: %s", nfs_get_error (t->nfs));
    ctx_free (t);
    return -1;
  }
  file_size = st.nfs_size;
  ctx_free (t);
  return 0;
}

static void *
floor_open (int readonly)
{
  static int handle;

  (void) readonly;
  return &handle;
}

static int64_t
floor_get_size (void *handle)
{
  (void) handle;
  return file_size;
}

/* COUNT bytes at OFFSET, in as many calls as libnfs needs. */
static int
transfer (bool write, char *buf, uint32_t count, uint64_t offset)
{
  struct thread_ctx *t = ctx_get ();

  while (t && count > 0) {
    int n = write ? nfs_pwrite (t->nfs, t->fh, offset, count, buf)
                  : nfs_pread (t->nfs, t->fh, offset, count, buf);
    if (n <= 0) {
      nbdkit_error ("floor: %s: %s", write ? "pwrite" : "pread",
                    n ? nfs_get_error (t->nfs) : "no progress");
      break;
    }
    buf += n;
    offset += n;
    count -= n;
  }
  if (count == 0)
    return 0;
  errno = EIO;
  return -1;
}

static int
floor_pread (void *handle, void *buf, uint32_t count, uint64_t offset,
             uint32_t flags)
{
  (void) handle; (void) flags;
  return transfer (false, buf, count, offset);
}

static int
floor_pwrite (void *handle, const void *buf, uint32_t count, uint64_t offset,
              uint32_t flags)
{
  (void) handle; (void) flags;
  return transfer (true, (char *) buf, count, offset);
}

static int
floor_flush (void *handle, uint32_t flags)
{
  struct thread_ctx *t = ctx_get ();

  (void) handle; (void) flags;
  if (t && nfs_fsync (t->nfs, t->fh) == 0)
    return 0;
  if (t)
    nbdkit_error ("floor: fsync: %s", nfs_get_error (t->nfs));
  errno = EIO;
  return -1;
}

static void
floor_unload (void)
{
  free (url);
}

static struct nbdkit_plugin plugin = {
  .name = "floor",
  .description = "the cheapest nbdkit plugin that waits for NFS (a yardstick)",
  .config = floor_config,
  .config_complete = floor_config_complete,
  .unload = floor_unload,
  .open = floor_open,
  .get_size = floor_get_size,
  .pread = floor_pread,
  .pwrite = floor_pwrite,
  .flush = floor_flush,
};

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL
NBDKIT_REGISTER_PLUGIN (plugin)
