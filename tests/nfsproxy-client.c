/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running tests/nfsproxy from a C test (nfsproxy-client.h).
 *
 * Threading: none of its own; a struct nfsproxy belongs to one thread at
 * a time.  The proxy starts with posix_spawn, safe in a threaded test. */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nfsproxy-client.h"

extern char **environ;

#define START_WAIT_MS 20000

struct nfsproxy {
  pid_t pid;
  int ctl;                      /* connected control socket */
  char dir[64], ports[96], log[96], sock[96];
  char query[64];
};

/* The value of NAME=... in the query string q, or -1. */
static long
query_port (const char *q, const char *name)
{
  const char *p = q ? strstr (q, name) : NULL;

  return p ? strtol (p + strlen (name), NULL, 10) : -1;
}

static void
sleep_ms (long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

  nanosleep (&ts, NULL);
}

/* Wait for the ports file (the proxy's readiness); false if it died. */
static bool
wait_ready (struct nfsproxy *p)
{
  for (long waited = 0; waited < START_WAIT_MS; waited += 10) {
    FILE *f = fopen (p->ports, "r");
    int status;

    if (f) {
      int nfs = -1, mnt = -1;

      if (fscanf (f, "NFS_PORT=%d\nMOUNT_PORT=%d", &nfs, &mnt) == 2) {
        fclose (f);
        snprintf (p->query, sizeof p->query, "nfsport=%d&mountport=%d",
                  nfs, mnt);
        return true;
      }
      fclose (f);
    }
    if (waitpid (p->pid, &status, WNOHANG) == p->pid) {
      p->pid = -1;
      fprintf (stderr, "nfsproxy exited at start (status %d)\n", status);
      return false;
    }
    sleep_ms (10);
  }
  fprintf (stderr, "nfsproxy not listening after %d ms\n", START_WAIT_MS);
  return false;
}

static bool
connect_ctl (struct nfsproxy *p)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };

  p->ctl = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  snprintf (a.sun_path, sizeof a.sun_path, "%s", p->sock);
  if (p->ctl == -1 || connect (p->ctl, (struct sockaddr *) &a, sizeof a)) {
    fprintf (stderr, "nfsproxy: %s: %s\n", p->sock, strerror (errno));
    return false;
  }
  return true;
}

struct nfsproxy *
nfsproxy_start (const char *const *rules)
{
  const char *q = getenv ("DIO_TEST_QUERY");
  const char *bdir = getenv ("builddir");
  long nfs = query_port (q, "nfsport="), mnt = query_port (q, "mountport=");
  struct nfsproxy *p = calloc (1, sizeof *p);
  char prog[4096], nfsarg[24], mntarg[24];
  const char *argv[64];
  int n = 0, e;

  if (p == NULL)
    return NULL;
  p->pid = -1;
  p->ctl = -1;
  if (nfs < 0 || mnt < 0) {
    fprintf (stderr, "nfsproxy_start: no ports in DIO_TEST_QUERY\n");
    free (p);
    return NULL;
  }
  strcpy (p->dir, "/tmp/nfsproxy.XXXXXX");
  if (mkdtemp (p->dir) == NULL) {
    free (p);
    return NULL;
  }
  snprintf (p->ports, sizeof p->ports, "%s/ports", p->dir);
  snprintf (p->log, sizeof p->log, "%s/log", p->dir);
  snprintf (p->sock, sizeof p->sock, "%s/ctl", p->dir);
  snprintf (prog, sizeof prog, "%s/nfsproxy", bdir ? bdir : ".");
  snprintf (nfsarg, sizeof nfsarg, "%ld", nfs);
  snprintf (mntarg, sizeof mntarg, "%ld", mnt);
  argv[n++] = prog;
  argv[n++] = "--nfs";
  argv[n++] = nfsarg;
  argv[n++] = "--mount";
  argv[n++] = mntarg;
  argv[n++] = "--ports-file";
  argv[n++] = p->ports;
  argv[n++] = "--log";
  argv[n++] = p->log;
  argv[n++] = "--control";
  argv[n++] = p->sock;
  for (size_t i = 0; rules && rules[i] && n < 63; i++)
    argv[n++] = rules[i];
  argv[n] = NULL;
  e = posix_spawn (&p->pid, prog, NULL, NULL, (char **) argv, environ);
  if (e != 0) {
    fprintf (stderr, "nfsproxy_start: %s: %s\n", prog, strerror (e));
    p->pid = -1;
    nfsproxy_stop (p);
    return NULL;
  }
  if (!wait_ready (p) || !connect_ctl (p)) {
    nfsproxy_stop (p);
    return NULL;
  }
  return p;
}

const char *
nfsproxy_query (const struct nfsproxy *p)
{
  return p->query;
}

char *
nfsproxy_url (const struct nfsproxy *p, const char *file)
{
  const char *server = getenv ("DIO_TEST_SERVER");
  const char *export = getenv ("DIO_TEST_EXPORT");
  char *url;

  if (asprintf (&url, "nfs://%s%s/%s?%s", server ? server : "127.0.0.1",
                export ? export : "/export", file, p->query) == -1)
    return NULL;
  return url;
}

/* Send one command line; the answer's value (after "ok "), or -1. */
static long
command (struct nfsproxy *p, const char *fmt, const char *arg)
{
  char line[512], answer[512];
  size_t have = 0;
  int n = snprintf (line, sizeof line, fmt, arg);

  if (n < 0 || n >= (int) sizeof line
      || write (p->ctl, line, n) != n)
    return -1;
  while (have < sizeof answer - 1) {
    ssize_t r = read (p->ctl, answer + have, sizeof answer - 1 - have);

    if (r <= 0)
      return -1;
    have += r;
    answer[have] = '\0';
    if (strchr (answer, '\n'))
      break;
  }
  if (strncmp (answer, "ok", 2) != 0) {
    fprintf (stderr, "nfsproxy: %s", answer);
    return -1;
  }
  return strtol (answer + 2, NULL, 10);
}

int
nfsproxy_arm (struct nfsproxy *p, const char *rule)
{
  return command (p, "add %s\n", rule);
}

long
nfsproxy_fired (struct nfsproxy *p, int id)
{
  char num[16];

  snprintf (num, sizeof num, "%d", id);
  return command (p, "fired %s\n", num);
}

int
nfsproxy_clear (struct nfsproxy *p)
{
  return command (p, "clear\n%s", "") < 0 ? -1 : 0;
}

int
nfsproxy_log_count (const struct nfsproxy *p, const char *text)
{
  FILE *f = fopen (p->log, "r");
  char line[1024];
  int n = 0;

  if (f == NULL)
    return 0;
  while (fgets (line, sizeof line, f))
    n += strstr (line, text) != NULL;
  fclose (f);
  return n;
}

const char *
nfsproxy_log (const struct nfsproxy *p)
{
  return p->log;
}

void
nfsproxy_stop (struct nfsproxy *p)
{
  if (p == NULL)
    return;
  if (p->ctl >= 0)
    close (p->ctl);
  if (p->pid > 0) {
    kill (p->pid, SIGTERM);
    waitpid (p->pid, NULL, 0);
  }
  unlink (p->ports);
  unlink (p->log);
  unlink (p->sock);
  rmdir (p->dir);
  free (p);
}
