/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers for the Check tests through nfsproxy (proxy_helpers.h). */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "nfsproxy-client.h"
#include "proxy_helpers.h"

struct nfsproxy *
test_proxy_start (void)
{
  struct nfsproxy *px = nfsproxy_start (NULL);

  ck_assert_msg (px != NULL, "nfsproxy did not start");
  return px;
}

const char *
test_proxy_url (const struct nfsproxy *px, const char *file,
                const char *extra)
{
  static __thread char buf[2][1024];
  static __thread int slot;
  char *b = buf[slot++ % 2];
  char *u = nfsproxy_url (px, file);

  ck_assert_ptr_nonnull (u);
  snprintf (b, sizeof buf[0], "%s%s", u, extra ? extra : "");
  free (u);
  return b;
}

int
test_proxy_arm (struct nfsproxy *px, const char *rule)
{
  int id = nfsproxy_arm (px, rule);

  ck_assert_msg (id > 0, "cannot arm %s", rule);
  return id;
}
