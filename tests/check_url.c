/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* URL parsing and path normalisation (libdirectio/url.c). */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <string.h>

#include "errors.h"
#include "options.h"
#include "url.h"

#include "directio.h"

static void
parse_ok (const char *url, struct dio_options *o, struct dio_url *u)
{
  dio_options_init (o);
  ck_assert_msg (dio_url_parse (url, o, u) == 0, "%s: %s", url,
                 dio_last_error ());
}

START_TEST (test_url_split)
{
  struct dio_options o;
  struct dio_url u;

  parse_ok ("nfs://filer1/vol/data//sub/./f.img?nfsport=2049&mountport=635"
            "&uid=1000&rsize=65536&nconnect=4&soft", &o, &u);
  ck_assert_str_eq (u.server, "filer1");
  ck_assert_str_eq (u.path, "/vol/data/sub/f.img");
  ck_assert_str_eq (u.nfs_args, "uid=1000");
  ck_assert_uint_eq (o.port, 2049);
  ck_assert_uint_eq (o.mountport, 635);
  ck_assert_uint_eq (o.rsize, 65536);
  ck_assert_uint_eq (o.nconnect, 4);
  ck_assert (o.soft);
  dio_url_free (&u);

  parse_ok ("nfs://h/e/f?", &o, &u);       /* an empty query is no query */
  ck_assert_str_eq (u.nfs_args, "");
  ck_assert_uint_eq (o.port, 0);
  dio_url_free (&u);
}
END_TEST

static void
parse_bad (const char *url, const char *words)
{
  struct dio_options o;
  struct dio_url u;

  dio_options_init (&o);
  ck_assert_int_eq (dio_url_parse (url, &o, &u), -1);
  ck_assert_int_eq (errno, EINVAL);
  ck_assert_msg (strstr (dio_error_reason (), words) != NULL, "%s: \"%s\"",
                 url, dio_error_reason ());
  /* A reason: the caller's context names the URL, once. */
  ck_assert_msg (strstr (dio_error_reason (), url) == NULL,
                 "the reason names the URL: %s", dio_error_reason ());
  ck_assert_ptr_null (u.server);
}

START_TEST (test_url_errors)
{
  parse_bad ("file:///x", "not an nfs:// URL");
  parse_bad ("nfs://hostonly", "no path");
  parse_bad ("nfs://h?x=1/y", "no path");
  parse_bad ("nfs:///e/f", "no server");
  parse_bad ("nfs://", "no server");
  parse_bad ("nfs://?x=1", "no server");
  parse_bad ("nfs://h/e/../f", "..");
}
END_TEST

START_TEST (test_url_bad_args)
{
  parse_bad ("nfs://h/e/f?soft&&hard", "empty URL argument");
  parse_bad ("nfs://h/e/f?nfsport=x", "port=x");
  parse_bad ("nfs://h/e/f?version=4", "only NFS version 3");
  parse_bad ("nfs://h/e/f?bogus", "bogus");
  parse_bad ("nfs://h/e/f?rsize=1", "rsize=1");
}
END_TEST

START_TEST (test_normalise)
{
  static const char *const cases[][2] = {
    { "/", "/" }, { "//", "/" }, { "/a/", "/a" }, { "/a//b/./c", "/a/b/c" },
    { "/./", "/" }, { "/a/.", "/a" }, { "/a/.b", "/a/.b" },
    { "/a/..b", "/a/..b" },
  };
  char buf[64];

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    strcpy (buf, cases[i][0]);
    ck_assert_int_eq (dio_path_normalise (buf), 0);
    ck_assert_str_eq (buf, cases[i][1]);
  }
  strcpy (buf, "rel/x");
  ck_assert_int_eq (dio_path_normalise (buf), -1);
  strcpy (buf, "/a/../b");
  ck_assert_int_eq (dio_path_normalise (buf), -1);
  strcpy (buf, "/..");
  ck_assert_int_eq (dio_path_normalise (buf), -1);
}
END_TEST

START_TEST (test_nfsstat_map)
{
  ck_assert_int_eq (dio_nfsstat_errno (0), 0);
  ck_assert_int_eq (dio_nfsstat_errno (2), ENOENT);      /* NOENT */
  ck_assert_int_eq (dio_nfsstat_errno (13), EACCES);     /* ACCES */
  ck_assert_int_eq (dio_nfsstat_errno (28), ENOSPC);     /* NOSPC */
  ck_assert_int_eq (dio_nfsstat_errno (27), EFBIG);      /* FBIG */
  ck_assert_int_eq (dio_nfsstat_errno (30), EROFS);      /* ROFS */
  ck_assert_int_eq (dio_nfsstat_errno (69), EDQUOT);     /* DQUOT */
  ck_assert_int_eq (dio_nfsstat_errno (70), ESTALE);     /* STALE */
  ck_assert_int_eq (dio_nfsstat_errno (10001), ESTALE);  /* BADHANDLE */
  ck_assert_int_eq (dio_nfsstat_errno (10008), EAGAIN);  /* JUKEBOX */
  ck_assert_int_eq (dio_nfsstat_errno (12345), EIO);     /* unknown */
}
END_TEST

Suite *
suite_url (void)
{
  Suite *s = suite_create ("url");
  TCase *tc = tcase_create ("url");

  tcase_add_test (tc, test_url_split);
  tcase_add_test (tc, test_url_errors);
  tcase_add_test (tc, test_url_bad_args);
  tcase_add_test (tc, test_normalise);
  tcase_add_test (tc, test_nfsstat_map);
  suite_add_tcase (s, tc);
  return s;
}
