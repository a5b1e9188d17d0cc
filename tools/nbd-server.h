/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* directio nbd: one NFS file served as an NBD export, uncached, by the
 * engine's own thread.  cmd-nbd.c listens and accepts, nbd-accept.c
 * runs each handshake (nbd-handshake.c) on a thread; a client that reaches
 * transmission is handed to the server (nbd-serve.c), whose requests the
 * engine thread reads, starts and answers itself. */
#ifndef NBD_SERVER_H
#define NBD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common.h"

/* Largest read or write a client may send (advertised as the maximum
 * block size).  Larger ones, which a client should not send, are served
 * up to NBD_HARD_MAX (as nbdkit does) and refused with ENOMEM beyond it,
 * a write's payload read and dropped. */
#define NBD_MAX_REQUEST (32u * 1024 * 1024)
#define NBD_HARD_MAX (64u * 1024 * 1024)

/* The export: immutable once the server runs. */
struct nbd_export {
  const char *name;             /* the file, as the user named it */
  int fd;                       /* from dio_open */
  uint64_t size;
  bool readonly;
  bool unstable;                /* writes UNSTABLE until a flush */
  bool verbose;                 /* say when clients come and go */
};

/* Run the fixed newstyle handshake on sock, waiting for the client at
 * most until deadline (CLOCK_MONOTONIC) in all.  1: the client chose
 * the export, go on to transmission; 0: it went away or aborted (said
 * in why if it did something wrong, else why is ""); -1: the deadline
 * passed first. */
int nbd_handshake (int sock, const struct timespec *deadline,
                   const struct nbd_export *e, char *why, size_t whylen);

struct nbd_server;

/* 0, or -1 with errno (the messages said on stderr). */
int nbd_server_start (const struct nbd_export *e, struct nbd_server **out);

/* Serve sock (after nbd_handshake): the server owns it from now on.
 * 0, or -1 with errno (sock closed). */
int nbd_server_add (struct nbd_server *s, int sock, const char *peer);

/* Clients being served; and a descriptor that is readable after one
 * has gone (read it to clear). */
unsigned nbd_server_clients (struct nbd_server *s);
int nbd_server_gone_fd (struct nbd_server *s);

/* Handshakes, each on a thread of its own (nbd-accept.c): at most this
 * many at once. */
#define NBD_MAX_HANDSHAKES 16

struct nbd_accepter;

/* For server s; NULL (errno set) if out of memory or descriptors. */
struct nbd_accepter *nbd_accepter_new (struct nbd_server *s,
                                       const struct nbd_export *e);

/* Accept a client on the listening lfd (the nr-th: its name in
 * messages) and start its handshake; on success the client is added to
 * the server.  Call only while nbd_accepter_running is under
 * NBD_MAX_HANDSHAKES. */
void nbd_accepter_accept (struct nbd_accepter *a, int lfd, unsigned long nr);

/* Handshakes in progress; clients handed to the server so far; and a
 * descriptor that is readable after a handshake has ended (read it to
 * clear). */
unsigned nbd_accepter_running (struct nbd_accepter *a);
unsigned long nbd_accepter_served (struct nbd_accepter *a);
int nbd_accepter_wake_fd (struct nbd_accepter *a);

/* Cut the handshakes in progress short, wait for their threads, free. */
void nbd_accepter_free (struct nbd_accepter *a);

/* Disconnect every client, wait up to wait_s seconds for the requests
 * they left with the server (less if give_up, when not NULL, says so:
 * it is told how many clients still have some), and free.  0, or -1 if
 * some are still waiting for the NFS server (then nothing is freed:
 * exit). */
int nbd_server_stop (struct nbd_server *s, unsigned wait_s,
                     stop_ask_fn *give_up, void *arg);

#endif /* NBD_SERVER_H */
