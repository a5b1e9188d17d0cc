/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nfsproxy: the control socket (one command a line: add RULE, clear,
 * fired ID), and the client form that sends those commands.
 *
 * Threading: none (the proxy has one thread). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "nfsproxy-int.h"

/* --- Control socket ---------------------------------------------------- */

static void
ctl_answer (struct ctl *k, const char *fmt, ...)
{
  char line[256];
  va_list ap;
  int n;

  va_start (ap, fmt);
  n = vsnprintf (line, sizeof line - 1, fmt, ap);
  va_end (ap);
  if (n > (int) sizeof line - 2)
    n = sizeof line - 2;
  line[n++] = '\n';
  np_buf_append (&k->out, line, n);
}

/* Arm a rule; its id, or 0 with err set. */
unsigned
px_add_rule (struct proxy *px, const char *text, char *err, size_t size)
{
  struct np_rule *r;

  if (px->nrules == MAX_RULES) {
    snprintf (err, size, "too many rules (%d)", MAX_RULES);
    return 0;
  }
  r = &px->rules[px->nrules];
  if (!np_rule_parse (text, px->seed, r, err, size))
    return 0;
  r->id = ++px->next_rule;
  px->nrules++;
  px_log (px, NULL, "rule=%u armed %s", r->id, text);
  return r->id;
}

static void
ctl_command (struct proxy *px, struct ctl *k, char *line)
{
  char err[200];

  if (strncmp (line, "add ", 4) == 0) {
    unsigned id = px_add_rule (px, line + 4, err, sizeof err);

    if (id)
      ctl_answer (k, "ok %u", id);
    else
      ctl_answer (k, "error %s: %s", line + 4, err);
  }
  else if (strcmp (line, "clear") == 0) {
    px->nrules = 0;
    px_log (px, NULL, "rules cleared");
    ctl_answer (k, "ok");
  }
  else if (strncmp (line, "fired ", 6) == 0) {
    unsigned id = strtoul (line + 6, NULL, 10);
    uint64_t n = 0;

    for (size_t i = 0; i < px->nrules; i++)
      if (px->rules[i].id == id)
        n = px->rules[i].fired;
    ctl_answer (k, "ok %" PRIu64, n);
  }
  else
    ctl_answer (k, "error unknown command '%s' (add RULE, clear, fired ID)",
                line);
}

void
px_ctl_read (struct proxy *px, struct ctl *k)
{
  char *nl;

  if (px_fill_in (k->fd, &k->in) == 0) {
    close (k->fd);
    k->fd = -1;
    np_buf_free (&k->in);
    np_buf_free (&k->out);
    return;
  }
  while ((nl = memchr (k->in.data + k->in.start, '\n', k->in.len))) {
    size_t n = nl - (char *) (k->in.data + k->in.start);

    *nl = '\0';
    ctl_command (px, k, (char *) k->in.data + k->in.start);
    np_buf_consume (&k->in, n + 1);
  }
  px_flush_out (k->fd, &k->out);
}

void
px_ctl_accept (struct proxy *px)
{
  int fd = accept4 (px->ctl_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

  if (fd == -1)
    return;
  for (int i = 0; i < MAX_CTL; i++)
    if (px->ctls[i].fd < 0) {
      px->ctls[i].fd = fd;
      return;
    }
  close (fd);
}

int
px_ctl_listen (const char *path)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof a.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy (a.sun_path, path);
  unlink (path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd == -1)
    return -1;
  if (bind (fd, (struct sockaddr *) &a, sizeof a) == -1
      || listen (fd, 8) == -1) {
    close (fd);
    return -1;
  }
  return fd;
}

/* The client form: send each command, print each answer's value. */
int
px_ctl_client (const char *path, char **cmds, size_t n)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  FILE *f;
  int status = 0;

  if (strlen (path) >= sizeof a.sun_path) {
    fprintf (stderr, "nfsproxy: %s: control path too long\n", path);
    return 1;
  }
  strcpy (a.sun_path, path);
  if (fd == -1 || connect (fd, (struct sockaddr *) &a, sizeof a) == -1) {
    fprintf (stderr, "nfsproxy: %s: %s\n", path, strerror (errno));
    return 1;
  }
  f = fdopen (fd, "r+");
  if (f == NULL) {
    close (fd);
    return 1;
  }
  for (size_t i = 0; i < n; i++) {
    char line[512];

    fprintf (f, "%s\n", cmds[i]);
    fflush (f);
    if (fgets (line, sizeof line, f) == NULL) {
      fprintf (stderr, "nfsproxy: %s: no answer to '%s'\n", path, cmds[i]);
      status = 1;
      break;
    }
    if (strncmp (line, "ok", 2) == 0) {
      if (line[2] == ' ')
        fputs (line + 3, stdout);
    }
    else {
      fprintf (stderr, "nfsproxy: %s", line);
      status = 1;
    }
  }
  fclose (f);
  return status;
}

