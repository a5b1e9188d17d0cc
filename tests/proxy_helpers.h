/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers for the Check tests that go through nfsproxy (the RPC fault
 * proxy, nfsproxy-client.h): each fails the test, saying why, where the
 * proxy does not do what was asked.
 *
 * Threading: as nfsproxy-client.h (a proxy belongs to one thread). */
#ifndef PROXY_HELPERS_H
#define PROXY_HELPERS_H

struct nfsproxy;

/* Start a proxy in front of the test's ganesha, no rule armed. */
struct nfsproxy *test_proxy_start (void);

/* nfs:// URL of FILE through the proxy; extra is appended to the query
 * ("&nconnect=1") or NULL.  Returns a static buffer per call slot (two
 * can be used at once, as for a rename). */
const char *test_proxy_url (const struct nfsproxy *px, const char *file,
                            const char *extra);

/* Arm rule; its id. */
int test_proxy_arm (struct nfsproxy *px, const char *rule);

#endif
