/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio nbd: each accepted client's handshake on a thread of its own.
 *
 * A handshake waits on the client, up to HANDSHAKE_DEADLINE_S from
 * accept in all (a bound per receive would let a byte now and then hold
 * a slot for ever), so a client that connects and says nothing must not
 * hold up the next one: the main thread accepts, and a detached thread
 * shakes hands and hands the client to the server.  At most
 * NBD_MAX_HANDSHAKES run at once (the main thread stops accepting
 * meanwhile).  When one ends, the wake descriptor becomes readable, so
 * that the main thread can count again (--shared, --once).  Stopping
 * cuts every handshake in progress short (shutdown of its socket) and
 * waits for their threads, so that no client reaches the server after
 * it stops. */
#include <config.h>

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "nbd-server.h"

/* A real client's handshake is a few round trips (milliseconds, or
 * seconds over a bad link); a client still in it after this long is
 * stalling, and NBD_MAX_HANDSHAKES of those stop all accepts. */
#define HANDSHAKE_DEADLINE_S 10

struct handshake {
  struct nbd_accepter *a;
  int slot;
  int sock;
  struct timespec deadline;     /* CLOCK_MONOTONIC */
  char peer[80];
};

struct nbd_accepter {
  struct nbd_server *s;
  const struct nbd_export *e;
  int wake_fd;                  /* eventfd: a handshake has ended */
  pthread_mutex_t lock;
  pthread_cond_t idle;
  /* Guarded by lock: the sockets of the handshakes running (-1: free). */
  int socks[NBD_MAX_HANDSHAKES];
  unsigned running;
  unsigned long served;         /* clients handed to the server */
};

struct nbd_accepter *
nbd_accepter_new (struct nbd_server *s, const struct nbd_export *e)
{
  struct nbd_accepter *a = calloc (1, sizeof *a);

  if (a == NULL)
    return NULL;
  a->wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (a->wake_fd == -1) {
    free (a);
    return NULL;
  }
  a->s = s;
  a->e = e;
  pthread_mutex_init (&a->lock, NULL);
  pthread_cond_init (&a->idle, NULL);
  for (int i = 0; i < NBD_MAX_HANDSHAKES; i++)
    a->socks[i] = -1;
  return a;
}

unsigned
nbd_accepter_running (struct nbd_accepter *a)
{
  unsigned n;

  pthread_mutex_lock (&a->lock);
  n = a->running;
  pthread_mutex_unlock (&a->lock);
  return n;
}

unsigned long
nbd_accepter_served (struct nbd_accepter *a)
{
  unsigned long n;

  pthread_mutex_lock (&a->lock);
  n = a->served;
  pthread_mutex_unlock (&a->lock);
  return n;
}

int
nbd_accepter_wake_fd (struct nbd_accepter *a)
{
  return a->wake_fd;
}

static void *
run_handshake (void *arg)
{
  struct handshake *h = arg;
  struct nbd_accepter *a = h->a;
  const struct nbd_export *e = a->e;
  uint64_t one = 1;
  char why[256];
  bool added = false;
  int ok = nbd_handshake (h->sock, &h->deadline, e, why, sizeof why);

  if (ok == -1)
    error_msg ("%s: %s: handshake: not finished within %d s, dropped",
               e->name, h->peer, HANDSHAKE_DEADLINE_S);
  else if (ok != 1 && why[0])
    error_msg ("%s: %s: handshake: %s", e->name, h->peer, why);
  /* Leave the slot first: the server owns the socket once added. */
  pthread_mutex_lock (&a->lock);
  a->socks[h->slot] = -1;
  pthread_mutex_unlock (&a->lock);
  if (ok != 1)
    close (h->sock);
  else {
    added = nbd_server_add (a->s, h->sock, h->peer) == 0;
    if (!added)
      error_msg ("%s: %s: %s", e->name, h->peer, strerror (errno));
    else if (e->verbose)
      error_msg ("%s: %s: connected", e->name, h->peer);
  }
  free (h);
  pthread_mutex_lock (&a->lock);
  a->served += added;
  if (--a->running == 0)
    pthread_cond_broadcast (&a->idle);
  /* Fails only when the count is full, which is readable anyway. */
  (void) !write (a->wake_fd, &one, sizeof one);
  pthread_mutex_unlock (&a->lock);
  return NULL;
}

static void
name_peer (int sock, unsigned long nr, char *buf, size_t len)
{
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  char host[INET6_ADDRSTRLEN] = "", port[8] = "";

  if (getpeername (sock, (struct sockaddr *) &ss, &sl) == 0
      && ss.ss_family != AF_UNIX
      && getnameinfo ((struct sockaddr *) &ss, sl, host, sizeof host, port,
                      sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
    snprintf (buf, len, "client %lu (%s port %s)", nr, host, port);
  else
    snprintf (buf, len, "client %lu", nr);
}

/* A free slot for sock, or -1 (caller holds lock). */
static int
take_slot (struct nbd_accepter *a, int sock)
{
  for (int i = 0; i < NBD_MAX_HANDSHAKES; i++)
    if (a->socks[i] == -1) {
      a->socks[i] = sock;
      a->running++;
      return i;
    }
  return -1;
}

void
nbd_accepter_accept (struct nbd_accepter *a, int lfd, unsigned long nr)
{
  struct handshake *h;
  pthread_t thread;
  int one = 1, err, sock = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);

  if (sock == -1) {
    if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
      error_msg ("accept: %s", strerror (errno));
    return;
  }
  h = calloc (1, sizeof *h);
  if (h == NULL) {
    error_msg ("%s: out of memory for a client", a->e->name);
    close (sock);
    return;
  }
  h->a = a;
  h->sock = sock;
  clock_gettime (CLOCK_MONOTONIC, &h->deadline);
  h->deadline.tv_sec += HANDSHAKE_DEADLINE_S;
  name_peer (sock, nr, h->peer, sizeof h->peer);
  setsockopt (sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  pthread_mutex_lock (&a->lock);
  h->slot = take_slot (a, sock);
  pthread_mutex_unlock (&a->lock);
  if (h->slot == -1) {          /* the caller stops accepting before */
    error_msg ("%s: %s: too many handshakes at once", a->e->name, h->peer);
    close (sock);
    free (h);
    return;
  }
  err = start_thread (&thread, true, run_handshake, h);
  if (err) {
    error_msg ("%s: %s: cannot start a thread: %s", a->e->name, h->peer,
               strerror (err));
    pthread_mutex_lock (&a->lock);
    a->socks[h->slot] = -1;
    a->running--;
    pthread_mutex_unlock (&a->lock);
    close (sock);
    free (h);
  }
}

void
nbd_accepter_free (struct nbd_accepter *a)
{
  pthread_mutex_lock (&a->lock);
  for (int i = 0; i < NBD_MAX_HANDSHAKES; i++)
    if (a->socks[i] != -1)
      shutdown (a->socks[i], SHUT_RDWR);        /* its handshake fails */
  while (a->running > 0)
    pthread_cond_wait (&a->idle, &a->lock);
  pthread_mutex_unlock (&a->lock);
  pthread_cond_destroy (&a->idle);
  pthread_mutex_destroy (&a->lock);
  close (a->wake_fd);
  free (a);
}
