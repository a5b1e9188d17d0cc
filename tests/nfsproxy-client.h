/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running tests/nfsproxy (the RPC fault proxy, tests/nfsproxy.md) from a
 * C test: start it in front of the test's ganesha, arm rules, ask how
 * often they fired, stop it.
 *
 * Threading: a struct nfsproxy belongs to one thread at a time. */
#ifndef NFSPROXY_CLIENT_H
#define NFSPROXY_CLIENT_H

#include <stdbool.h>

struct nfsproxy;

/* Start the proxy ($builddir/nfsproxy, else ./nfsproxy) in front of the
 * NFS and MOUNT ports of $DIO_TEST_QUERY with rules (a NULL-terminated
 * list, or NULL) armed, and wait until it listens.  NULL, with the reason
 * on stderr, if it cannot. */
struct nfsproxy *nfsproxy_start (const char *const *rules);

/* "nfsport=N&mountport=M": the proxy's ports, for a URL's query. */
const char *nfsproxy_query (const struct nfsproxy *p);

/* nfs://SERVER/EXPORT/FILE?QUERY through the proxy; malloc'd. */
char *nfsproxy_url (const struct nfsproxy *p, const char *file);

/* Arm rule now; its id, or -1 (the proxy's message on stderr). */
int nfsproxy_arm (struct nfsproxy *p, const char *rule);

/* How often rule id fired; -1 on error. */
long nfsproxy_fired (struct nfsproxy *p, int id);

/* Disarm every rule; 0 or -1. */
int nfsproxy_clear (struct nfsproxy *p);

/* Lines of the proxy's log that contain text. */
int nfsproxy_log_count (const struct nfsproxy *p, const char *text);

/* The log's path (to print it when a test fails). */
const char *nfsproxy_log (const struct nfsproxy *p);

/* Stop the proxy and remove its files; accepts NULL. */
void nfsproxy_stop (struct nfsproxy *p);

#endif
