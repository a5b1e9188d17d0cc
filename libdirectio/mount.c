/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Mounts and the process's registry of them.
 *
 * Threading: the registry (list, refs) and the pending mounts are guarded
 * by registry_lock.  A mount is made without the lock (it can take a
 * minute against a server that does not answer, and must not hold up
 * opens on other servers); opens that could share it wait for it as a
 * pending mount instead, so two opens of one export never mount it
 * twice.  A mount's fields are immutable once it is in the registry,
 * except the atomics and what inode_lock guards.
 *
 * Linger: a mount stays connected for its linger option's seconds after
 * its last reference goes, so that a program that stats or opens one
 * file after another (ls -l, cp -r under the shim) mounts once, not once
 * per file.  The linger thread, started with the first idle mount, stops
 * mounts whose time is up; the library's destructor stops it and the
 * idle mounts (before a dlclose unmaps the code their threads run).
 *
 * Fork: a child has none of the parent's service threads, so a request
 * on an inherited mount would wait for ever.  The child forgets the
 * inherited mounts (they stay reachable in `inherited`, never used or
 * freed: their locks may be held by threads that do not exist there),
 * and its own opens make mounts of its own.  registry_lock is held
 * across fork so that the child's copy of the registry is whole. */
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "directio.h"
#include "errors.h"
#include "mount.h"
#include "thread.h"
#include "url.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t registry_cond = PTHREAD_COND_INITIALIZER;
static struct dio_mount *registry;

/* A mount being made (on its maker's stack).  Opens of the same server
 * with the same options wait for it: the export it finds may serve them
 * too.  They share its failure when it is about the server (unreachable,
 * silent, refusing), not about the path (no such export), so that N
 * opens of a dead server wait for one attempt, not N in turn. */
struct pending_mount {
  struct pending_mount *next;
  const struct dio_url *u;
  const struct dio_options *opts;
  bool done;
  int err;
  char msg[512];
  unsigned waiters;             /* the maker returns when none is left */
};
static struct pending_mount *pending;

/* A forked child's mounts from its parent (and theirs): see above. */
static struct dio_mount *inherited;

/* The linger thread; guarded by registry_lock. */
static pthread_cond_t linger_cond;      /* an idle mount, or stop */
static pthread_t linger_thread;
static bool linger_running;
static bool linger_stopping;

static void
linger_cond_init (void)
{
  pthread_condattr_t a;

  pthread_condattr_init (&a);
  pthread_condattr_setclock (&a, CLOCK_MONOTONIC);
  pthread_cond_init (&linger_cond, &a);
  pthread_condattr_destroy (&a);
}

static void
fork_prepare (void)
{
  pthread_mutex_lock (&registry_lock);
}

static void
fork_parent (void)
{
  pthread_mutex_unlock (&registry_lock);
}

static void
fork_child (void)
{
  if (registry) {
    struct dio_mount *last = registry;
    while (last->next)
      last = last->next;
    last->next = inherited;
    inherited = registry;
  }
  registry = NULL;
  pending = NULL;               /* their makers are not in this process */
  linger_running = false;       /* nor is the linger thread */
  pthread_cond_init (&registry_cond, NULL);
  linger_cond_init ();
  pthread_mutex_unlock (&registry_lock);
}

__attribute__ ((constructor))
static void
mount_atfork (void)
{
  linger_cond_init ();
  pthread_atfork (fork_prepare, fork_parent, fork_child);
}

static bool
options_equal (const struct dio_options *a, const struct dio_options *b)
{
  return a->rsize == b->rsize && a->wsize == b->wsize
    && a->nconnect == b->nconnect && a->window == b->window
    && a->timeo == b->timeo && a->retrans == b->retrans
    && a->soft == b->soft && a->readonly == b->readonly
    && a->forcedirectio == b->forcedirectio && a->vers == b->vers
    && a->port == b->port && a->mountport == b->mountport
    && a->cache_size == b->cache_size && a->linger == b->linger
    /* The attribute cache's policy belongs to the mount's cache. */
    && a->acregmin == b->acregmin && a->acregmax == b->acregmax
    && a->noac == b->noac && a->nocto == b->nocto;
}

/* Is export a component-wise prefix of path?  Sets *rel to the rest. */
static bool
export_covers (const char *export, const char *path, const char **rel)
{
  size_t n = strlen (export);

  if (strcmp (export, "/") == 0) {
    *rel = path;
    return true;
  }
  if (strncmp (export, path, n) != 0 || (path[n] != '/' && path[n] != '\0'))
    return false;
  *rel = path[n] ? path + n : "/";
  return true;
}

static struct dio_mount *
registry_find (const struct dio_url *u, const struct dio_options *opts,
               const char **rel)
{
  for (struct dio_mount *m = registry; m; m = m->next)
    if (strcmp (m->server, u->server) == 0
        && strcmp (m->nfs_args, u->nfs_args) == 0
        && options_equal (&m->opts, opts)
        && export_covers (m->export, u->path, rel))
      return m;
  return NULL;
}

/* nfs://server/export?args for libnfs: our options become its ports. */
static char *
libnfs_url (const char *server, const char *export,
            const struct dio_options *o, const char *nfs_args)
{
  char *s;
  char ports[64] = "";
  int n = 0;

  if (o->port)
    n += snprintf (ports + n, sizeof ports - n, "&nfsport=%u", o->port);
  if (o->mountport)
    snprintf (ports + n, sizeof ports - n, "&mountport=%u", o->mountport);
  if (asprintf (&s, "nfs://%s%s?version=3%s%s%s", server, export, ports,
                nfs_args[0] ? "&" : "", nfs_args) == -1)
    return NULL;
  return s;
}

uint64_t
dio_mount_soft_ms (const struct dio_mount *m)
{
  return m->opts.soft
    ? (uint64_t) m->opts.timeo * 100 * DIO_MAX (m->opts.retrans, 1u) : 0;
}

bool
dio_mount_timeout_reason (const struct dio_mount *m, int err, bool jukebox,
                          char *buf, size_t n)
{
  uint64_t ms = dio_mount_soft_ms (m);

  if (err != ETIMEDOUT || ms == 0)
    return false;
  snprintf (buf, n, "the soft timeout (timeo=%u, retrans=%u: %" PRIu64
            ".%" PRIu64 " s) ran out waiting for server %s%s",
            m->opts.timeo, m->opts.retrans, ms / 1000, ms % 1000 / 100,
            m->server, jukebox
            ? ", which kept answering NFS3ERR_JUKEBOX (try again later)" : "");
  return true;
}

static int
conn_params (struct dio_mount *m, struct dio_conn_params *p)
{
  uint32_t rpc_size_hint = m->opts.rsize ? m->opts.rsize : 1024 * 1024;

  memset (p, 0, sizeof *p);
  p->url = libnfs_url (m->server, m->export, &m->opts, m->nfs_args);
  if (p->url == NULL)
    return dio_error (ENOMEM, "asprintf");
  p->server = m->server;
  p->export = m->export;
  p->mount_port = m->opts.mountport;
  p->nfs_port = m->opts.port;
  p->timeout_ms = (int) dio_mount_soft_ms (m);
  p->timeo_ms = (int) m->opts.timeo * 100;
  /* A first mount tries as long as any call would (mount_nfs's retry=
   * bounds it; minutes). */
  if (m->opts.retry == DIO_RETRY_UNSET)
    p->mount_retry_ms = m->opts.soft ? p->timeout_ms : -1;
  else
    p->mount_retry_ms = (int) DIO_MIN ((uint64_t) m->opts.retry * 60000,
                                       m->opts.soft ? (uint64_t) p->timeout_ms
                                       : UINT64_MAX);
  /* The window counts full-size RPCs; small ones may go deeper, which is
   * what random 4 KiB I/O needs (one connection to ganesha on loopback:
   * 14.7k IOPS at 1 in flight, 18.6k at 64; README.md, "Engine
   * defaults"). */
  p->window_bytes = m->opts.window * DIO_MAX (rpc_size_hint, m->opts.wsize);
  p->window_max = DIO_MAX (m->opts.window, 64u);
  p->spin_us = m->spin_us;
  p->stats = m->stats;
  return 0;
}

/* Errors that mean "this path is not an export": try a longer one. */
static bool
not_an_export (int err)
{
  return err == ENOENT || err == EACCES || err == EPERM || err == ENOTDIR
    || err == EINVAL;
}

/* No prefix of the file's directory is exported: if the path itself is,
 * say so rather than report the last MOUNT failure.  Returns -1. */
static int
refuse_if_export (struct dio_mount *m, const char *path)
{
  struct dio_conn_params cp;
  struct dio_conn *c;
  char *saved = dio_error_reason ()[0] ? strdup (dio_error_reason ()) : NULL;
  int err = errno;

  free (m->export);
  m->export = strdup (path);
  if (m->export && strcmp (path, "/") != 0 && conn_params (m, &cp) == 0) {
    c = dio_conn_start (&cp);
    free ((char *) cp.url);
    if (c) {
      dio_conn_stop (c);
      free (saved);
      return dio_error_msg (EISDIR, "%s is an exported directory, not a file",
                            path);
    }
  }
  dio_error_msg (err, "%s", saved ? saved : strerror (err));
  free (saved);
  return -1;
}

/* Mount the shortest prefix of the file's directory that the server
 * exports, with the first connection. */
static int
probe_export (struct dio_mount *m, const char *path)
{
  const char *end = strrchr (path, '/');
  const char *p = path;
  struct dio_conn_params cp;
  int r = -1;

  if (end == path)
    end = path + 1;             /* a file at the server's root */
  for (;;) {
    const char *next = strchr (p + 1, '/');
    if (next == NULL || next > end)
      next = end;
    free (m->export);
    m->export = strndup (path, next - path);
    if (m->export == NULL)
      return dio_error (ENOMEM, "strndup");
    if (conn_params (m, &cp) == -1)
      return -1;
    m->conns[0] = dio_conn_start (&cp);
    free ((char *) cp.url);
    if (m->conns[0]) {
      r = 0;
      break;
    }
    if (next >= end || !not_an_export (errno))
      break;
    p = next;
  }
  if (r == -1 && not_an_export (errno))
    r = refuse_if_export (m, path);
  return r;
}

static void
mount_free (struct dio_mount *m)
{
  for (uint32_t i = 0; i < m->nconn; i++)
    dio_conn_stop (m->conns[i]);
  dio_statsfile_detach (m);
  pthread_mutex_destroy (&m->inode_lock);
  free (m->server);
  free (m->export);
  free (m->nfs_args);
  free (m);
}

static void *
mount_reaper (void *m)
{
  mount_free (m);
  return NULL;
}

static uint32_t
clamp_rpc_size (uint32_t want, uint32_t server_max)
{
  uint32_t v = server_max ? server_max : 1024 * 1024;
  if (want && want < v)
    v = want;
  return v;
}

static struct dio_mount *
mount_new (const struct dio_url *u, const struct dio_options *opts)
{
  struct dio_mount *m = calloc (1, sizeof *m);
  struct dio_conn_params cp;

  if (m == NULL) {
    dio_error (ENOMEM, "calloc");
    return NULL;
  }
  pthread_mutex_init (&m->inode_lock, NULL);
  m->stats = &m->own_stats;
  m->opts = *opts;
  m->spin_us = opts->spin == DIO_SPIN_UNSET ? dio_conn_spin_default ()
    : opts->spin;
  m->server = strdup (u->server);
  m->nfs_args = strdup (u->nfs_args);
  if (!m->server || !m->nfs_args) {
    dio_error (ENOMEM, "strdup");
    goto err;
  }
  dio_statsfile_attach (m);
  if (probe_export (m, u->path) == -1)
    goto err;
  m->nconn = 1;
  m->rsize = clamp_rpc_size (opts->rsize, dio_conn_readmax (m->conns[0]));
  m->wsize = clamp_rpc_size (opts->wsize, dio_conn_writemax (m->conns[0]));
  if (conn_params (m, &cp) == -1)
    goto err;
  for (; m->nconn < opts->nconnect; m->nconn++) {
    m->conns[m->nconn] = dio_conn_start (&cp);
    if (m->conns[m->nconn] == NULL) {
      free ((char *) cp.url);
      goto err;
    }
  }
  free ((char *) cp.url);
  dio_statsfile_publish (m);
  return m;

 err:
  {
    int err = errno;
    mount_free (m);
    errno = err;
  }
  return NULL;
}

static struct pending_mount *
pending_find (const struct dio_url *u, const struct dio_options *opts)
{
  for (struct pending_mount *p = pending; p; p = p->next)
    if (strcmp (p->u->server, u->server) == 0
        && strcmp (p->u->nfs_args, u->nfs_args) == 0
        && options_equal (p->opts, opts))
      return p;
  return NULL;
}

/* Wait (registry_lock held) for a pending mount to be made.  -1 with
 * its error if that applies to this open too; 0 to look again. */
static int
pending_wait (struct pending_mount *p, const struct dio_url *u)
{
  int err = 0;
  char msg[sizeof p->msg];

  p->waiters++;
  while (!p->done)
    pthread_cond_wait (&registry_cond, &registry_lock);
  if (p->err && (!not_an_export (p->err)
                 || strcmp (p->u->path, u->path) == 0)) {
    err = p->err;
    memcpy (msg, p->msg, sizeof msg);
  }
  p->waiters--;
  pthread_cond_broadcast (&registry_cond);
  if (err)
    return dio_error_msg (err, "%s", msg);
  return 0;
}

/* Make a mount for u without holding registry_lock (held on entry and
 * return), as a pending mount others can wait for. */
static struct dio_mount *
mount_pending (const struct dio_url *u, const struct dio_options *opts)
{
  struct pending_mount self = { .u = u, .opts = opts, .next = pending };
  struct dio_mount *m;

  pending = &self;
  pthread_mutex_unlock (&registry_lock);
  m = mount_new (u, opts);
  pthread_mutex_lock (&registry_lock);
  if (m) {
    /* Published with the maker's reference: waiters may find it, use it
     * and drop their references before the maker wakes up again. */
    m->refs = 1;
    m->next = registry;
    registry = m;
  }
  else {
    self.err = errno;
    snprintf (self.msg, sizeof self.msg, "%s", dio_error_reason ());
  }
  for (struct pending_mount **pp = &pending; ; pp = &(*pp)->next)
    if (*pp == &self) {
      *pp = self.next;
      break;
    }
  self.done = true;
  pthread_cond_broadcast (&registry_cond);
  while (self.waiters > 0)
    pthread_cond_wait (&registry_cond, &registry_lock);
  if (m == NULL)
    errno = self.err;
  return m;
}

int
dio_mount_get (const struct dio_url *u, const struct dio_options *opts,
               struct dio_mount **out, const char **rel)
{
  struct dio_mount *m;
  struct pending_mount *p;

  pthread_mutex_lock (&registry_lock);
  /* Each pass waits for one pending mount to finish: bounded by the
   * opens in progress. */
  while ((m = registry_find (u, opts, rel)) == NULL
         && (p = pending_find (u, opts)) != NULL)
    if (pending_wait (p, u) == -1) {
      pthread_mutex_unlock (&registry_lock);
      return -1;
    }
  if (m)
    m->refs++;
  else {
    m = mount_pending (u, opts);        /* with our reference */
    if (m == NULL) {
      pthread_mutex_unlock (&registry_lock);
      return -1;
    }
    export_covers (m->export, u->path, rel);
  }
  pthread_mutex_unlock (&registry_lock);
  *out = m;
  return 0;
}

static void
free_list (struct dio_mount *m)
{
  while (m) {
    struct dio_mount *next = m->next;
    mount_free (m);
    m = next;
  }
}

/* Unlink from the registry the idle mounts whose linger is over at now
 * (UINT64_MAX: all of them); the earliest end still to come goes to
 * *next.  registry_lock held. */
static struct dio_mount *
take_expired (uint64_t now, uint64_t *next)
{
  struct dio_mount *expired = NULL, **pp = &registry;

  *next = UINT64_MAX;
  while (*pp) {
    struct dio_mount *m = *pp;
    if (m->refs == 0 && m->idle_until_ms <= now) {
      *pp = m->next;
      m->next = expired;
      expired = m;
      continue;
    }
    if (m->refs == 0)
      *next = DIO_MIN (*next, m->idle_until_ms);
    pp = &m->next;
  }
  return expired;
}

static void
wait_until_ms (uint64_t when)
{
  struct timespec ts = { .tv_sec = when / 1000,
                         .tv_nsec = (when % 1000) * 1000000 };

  if (when == UINT64_MAX)
    pthread_cond_wait (&linger_cond, &registry_lock);
  else
    pthread_cond_timedwait (&linger_cond, &registry_lock, &ts);
}

/* Stop idle mounts when their time is up; stopping them (joining their
 * service threads) is done without the lock. */
static void *
linger_main (void *arg)
{
  (void) arg;
  pthread_mutex_lock (&registry_lock);
  for (;;) {
    uint64_t next;
    struct dio_mount *expired =
      take_expired (linger_stopping ? UINT64_MAX : dio_now_ms (), &next);
    if (expired) {
      pthread_mutex_unlock (&registry_lock);
      free_list (expired);
      pthread_mutex_lock (&registry_lock);
      continue;
    }
    if (linger_stopping)
      break;
    wait_until_ms (next);
  }
  pthread_mutex_unlock (&registry_lock);
  return NULL;
}

/* Start the linger thread if it is not running.  registry_lock held.
 * -1 if it cannot be started. */
static int
linger_start_locked (void)
{
  DIO_ASSERT_HELD (&registry_lock);
  if (linger_running)
    return 0;
  if (dio_thread_start (&linger_thread, false, "dio-linger", linger_main,
                        NULL) != 0)
    return -1;
  linger_running = true;
  return 0;
}

/* At exit or dlclose: stop the linger thread and the idle mounts, whose
 * threads run this library's code.  If another thread is inside the
 * registry the process is going anyway: leave it all be. */
__attribute__ ((destructor))
static void
linger_shutdown (void)
{
  if (pthread_mutex_trylock (&registry_lock) != 0)
    return;
  if (!linger_running) {
    pthread_mutex_unlock (&registry_lock);
    return;
  }
  linger_stopping = true;
  pthread_cond_signal (&linger_cond);
  pthread_mutex_unlock (&registry_lock);
  pthread_join (linger_thread, NULL);
  pthread_mutex_lock (&registry_lock);
  linger_running = false;
  linger_stopping = false;
  pthread_mutex_unlock (&registry_lock);
}

/* Stop a mount now, from any thread.  A service thread (finishing an
 * asynchronous request, say) cannot stop itself: a reaper thread does
 * it. */
static void
mount_stop (struct dio_mount *m)
{
  if (dio_conn_on_service_thread ()) {
    pthread_t t;
    if (dio_thread_start (&t, true, "dio-reaper", mount_reaper, m) != 0)
      abort ();                 /* no thread: cannot free it safely */
    return;
  }
  mount_free (m);
}

void
dio_mount_put (struct dio_mount *m)
{
  struct dio_mount **pp;

  if (m == NULL)
    return;
  pthread_mutex_lock (&registry_lock);
  if (--m->refs > 0) {
    pthread_mutex_unlock (&registry_lock);
    return;
  }
  m->idle_until_ms = dio_now_ms () + m->opts.linger * UINT64_C (1000);
  if (m->opts.linger > 0 && !linger_stopping
      && linger_start_locked () == 0) {
    pthread_cond_signal (&linger_cond);
    pthread_mutex_unlock (&registry_lock);
    return;
  }
  for (pp = &registry; *pp != m; pp = &(*pp)->next)
    ;
  *pp = m->next;
  pthread_mutex_unlock (&registry_lock);
  mount_stop (m);
}

void
dio_mount_submit (struct dio_mount *m, struct dio_job *job)
{
  uint32_t i = __atomic_fetch_add (&m->next_conn, 1, __ATOMIC_RELAXED);
  dio_conn_submit (m->conns[i % m->nconn], job);
}

void
dio_mount_submit_near (struct dio_mount *m, struct dio_job *job)
{
  struct dio_conn *here = dio_conn_serving ();

  for (unsigned i = 0; here && i < m->nconn; i++)
    if (m->conns[i] == here) {
      dio_conn_submit (here, job);
      return;
    }
  dio_mount_submit (m, job);
}
