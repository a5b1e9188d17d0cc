/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the profile file parser (libdirectio/profile.c). */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "check_suites.h"
#include "options.h"
#include "profile.h"

#define MiB (UINT64_C(1) << 20)

static const char example[] =
  "# comment\n"
  "; comment\n"
  "[oradata]\n"
  "url        = nfs://filer1/vol/oradata\n"
  "mountpoint = /u02/oradata\n"
  "options    = forcedirectio,rsize=1048576,nconnect=4,hard,timeo=600,"
  "retrans=2\n"
  "\n"
  "[backup]\n"
  "url=nfs://filer2/backup\n"
  "mountpoint=/backup\n";

/* Parse a C string as "test.conf"; it must succeed. */
static void
parse_ok (const char *text, struct dio_profiles *set)
{
  char err[512] = "";

  if (dio_profiles_parse ("test.conf", text, strlen (text), set,
                          err, sizeof err) == -1)
    ck_abort_msg ("unexpected error: %s\n--\n%s--", err, text);
}

/* Parsing text must fail with exactly msg, EINVAL and an empty set. */
static void
parse_fails (const char *text, const char *msg)
{
  struct dio_profiles set;
  char err[512] = "";

  memset (&set, 0x55, sizeof set);
  errno = 0;
  ck_assert_msg (dio_profiles_parse ("test.conf", text, strlen (text), &set,
                                     err, sizeof err) == -1,
                 "parsed but should fail with %s:\n--\n%s--", msg, text);
  ck_assert_int_eq (errno, EINVAL);
  ck_assert_str_eq (err, msg);
  ck_assert_ptr_null (set.v);
  ck_assert_ptr_null (set.file);
  ck_assert_uint_eq (set.n, 0);
}

START_TEST (test_example)
{
  struct dio_profiles set;
  const struct dio_profile *p;

  parse_ok (example, &set);
  ck_assert_str_eq (set.file, "test.conf");
  ck_assert_uint_eq (set.n, 2);

  p = &set.v[0];
  ck_assert_str_eq (p->name, "oradata");
  ck_assert_str_eq (p->url, "nfs://filer1/vol/oradata");
  ck_assert_str_eq (p->mountpoint, "/u02/oradata");
  ck_assert_str_eq (p->options, "forcedirectio,rsize=1048576,nconnect=4,"
                    "hard,timeo=600,retrans=2");
  ck_assert_uint_eq (p->line, 3);
  ck_assert (p->opts.forcedirectio);
  ck_assert_uint_eq (p->opts.rsize, MiB);
  ck_assert_uint_eq (p->opts.nconnect, 4);
  ck_assert (!p->opts.soft);
  ck_assert_uint_eq (p->opts.timeo, 600);
  ck_assert_uint_eq (p->opts.retrans, 2);
  /* Words not given keep their defaults. */
  ck_assert_uint_eq (p->opts.window, 1);
  ck_assert_uint_eq (p->opts.wsize, 0);

  p = &set.v[1];
  ck_assert_str_eq (p->name, "backup");
  ck_assert_str_eq (p->url, "nfs://filer2/backup");
  ck_assert_str_eq (p->mountpoint, "/backup");
  ck_assert_ptr_null (p->options);
  ck_assert_uint_eq (p->line, 8);
  ck_assert (!p->opts.forcedirectio);
  ck_assert_uint_eq (p->opts.nconnect, 2);

  dio_profiles_free (&set);
  ck_assert_ptr_null (set.v);
  ck_assert_uint_eq (set.n, 0);
}
END_TEST

START_TEST (test_empty_file)
{
  struct dio_profiles set;

  parse_ok ("", &set);
  ck_assert_uint_eq (set.n, 0);
  dio_profiles_free (&set);
  parse_ok ("# only a comment\n\n   \n; and another\n", &set);
  ck_assert_uint_eq (set.n, 0);
  dio_profiles_free (&set);
}
END_TEST

START_TEST (test_whitespace_crlf_bom)
{
  struct dio_profiles set;
  static const char text[] =
    "\xef\xbb\xbf# written on Windows\r\n"
    "  [ a.b-c_1 ]  \r\n"
    "\turl\t=\tnfs://h/e  \r\n"
    "mountpoint=/m p\r\n"
    "   options =  hard , rsize=64K  \r\n"
    "  # indented comment\r\n"
    "[last]\r\n"
    "url = nfs://h/f\r\n"
    "mountpoint = /n";          /* no final newline */

  parse_ok (text, &set);
  ck_assert_uint_eq (set.n, 2);
  ck_assert_str_eq (set.v[0].name, "a.b-c_1");
  ck_assert_str_eq (set.v[0].url, "nfs://h/e");
  ck_assert_str_eq (set.v[0].mountpoint, "/m p");
  ck_assert_str_eq (set.v[0].options, "hard , rsize=64K");
  ck_assert_uint_eq (set.v[0].opts.rsize, 65536);
  ck_assert_uint_eq (set.v[0].line, 2);
  ck_assert_str_eq (set.v[1].mountpoint, "/n");
  ck_assert_uint_eq (set.v[1].line, 7);
  dio_profiles_free (&set);
}
END_TEST

/* Lines of any length: a 100 KB mountpoint and a 100 KB comment. */
START_TEST (test_long_lines)
{
  struct dio_profiles set;
  size_t n = 100000, i;
  char *text = malloc (3 * n);
  char *p = text;

  ck_assert_ptr_nonnull (text);
  *p++ = '#';
  memset (p, 'c', n);
  p += n;
  p += sprintf (p, "\n[big]\nurl = nfs://h/e\nmountpoint = ");
  for (i = 0; i < n / 10; ++i)
    p += sprintf (p, "/%s", "dirname1");
  strcpy (p, "\n");
  parse_ok (text, &set);
  ck_assert_uint_eq (set.n, 1);
  ck_assert_uint_eq (strlen (set.v[0].mountpoint), n / 10 * 9);
  dio_profiles_free (&set);
  free (text);
}
END_TEST

START_TEST (test_mountpoint_normalised)
{
  struct dio_profiles set;

  parse_ok ("[a]\nurl=nfs://h/e\nmountpoint=/u02/oradata/\n", &set);
  ck_assert_str_eq (set.v[0].mountpoint, "/u02/oradata");
  dio_profiles_free (&set);
  parse_ok ("[a]\nurl=nfs://h/e\nmountpoint=/\n", &set);
  ck_assert_str_eq (set.v[0].mountpoint, "/");
  dio_profiles_free (&set);
  /* Dots inside names are ordinary characters. */
  parse_ok ("[a]\nurl=nfs://h/e\nmountpoint=/.x/..y/z./...\n", &set);
  ck_assert_str_eq (set.v[0].mountpoint, "/.x/..y/z./...");
  dio_profiles_free (&set);
}
END_TEST

/* Every error: "FILE:LINE: WORD: reason". */
static const struct {
  const char *text, *msg;
} bad[] = {
  /* Lines outside a section. */
  { "url = nfs://h/e\n",
    "test.conf:1: url: outside a section (no [name] above it)" },
  { "# c\n\nmountpoint=/x\n[a]\n",
    "test.conf:3: mountpoint: outside a section (no [name] above it)" },
  { "garbage\n", "test.conf:1: garbage: outside a section" },
  /* Section headers. */
  { "[oradata\n",
    "test.conf:1: [oradata: malformed section header (expected [name])" },
  { "[a] junk\n",
    "test.conf:1: [a] junk: malformed section header (expected [name])" },
  { "[a]]\n",
    "test.conf:1: [a]]: invalid section name (use A-Z a-z 0-9 _ . -)" },
  { "[\n", "test.conf:1: [: malformed section header (expected [name])" },
  { "[]\n", "test.conf:1: []: empty section name" },
  { "[  ]\n", "test.conf:1: []: empty section name" },
  { "[ora data]\n",
    "test.conf:1: [ora data]: invalid section name (use A-Z a-z 0-9 _ . -)" },
  { "[ora/data]\n",
    "test.conf:1: [ora/data]: invalid section name (use A-Z a-z 0-9 _ . -)" },
  /* Keys and values. */
  { "[a]\nurl nfs://h/e\n",
    "test.conf:2: url nfs://h/e: expected key = value" },
  { "[a]\n= nfs://h/e\n", "test.conf:2: =nfs://h/e: missing key before =" },
  { "[a]\ncolour = red\n",
    "test.conf:2: colour: unknown key (expected url, mountpoint or options)" },
  { "[a]\nURL = nfs://h/e\n",
    "test.conf:2: URL: unknown key (expected url, mountpoint or options)" },
  { "[a]\nurl =\n", "test.conf:2: url: empty value" },
  { "[a]\nurl = nfs://h/e\nmountpoint =  \t\n",
    "test.conf:3: mountpoint: empty value" },
  { "[a]\nurl = nfs://h/e\nmountpoint = /a\noptions=\n",
    "test.conf:4: options: empty value" },
  { "[a]\nurl = nfs://h/e\nmountpoint = /a\nurl = nfs://h/f\n",
    "test.conf:4: url: duplicate key (first at line 2)" },
  { "[a]\noptions=hard\nurl = nfs://h/e\nmountpoint = /a\noptions=soft\n",
    "test.conf:5: options: duplicate key (first at line 2)" },
  /* Sections missing a required key are reported at their [name]. */
  { "[a]\nmountpoint = /a\n", "test.conf:1: [a]: missing url" },
  { "[a]\nurl = nfs://h/e\n", "test.conf:1: [a]: missing mountpoint" },
  { "[a]\n", "test.conf:1: [a]: missing url" },
  { "[a]\nurl=nfs://h/e\nmountpoint=/a\n\n[b]\nurl=nfs://h/f\n\n[c]\n",
    "test.conf:5: [b]: missing mountpoint" },
  /* url. */
  { "[a]\nurl = http://h/e\n",
    "test.conf:2: http://h/e: url does not start with nfs://" },
  { "[a]\nurl = /vol/e\n",
    "test.conf:2: /vol/e: url does not start with nfs://" },
  { "[a]\nurl = NFS://h/e\n",
    "test.conf:2: NFS://h/e: url does not start with nfs://" },
  /* mountpoint. */
  { "[a]\nmountpoint = u02/oradata\n",
    "test.conf:2: u02/oradata: mountpoint is not an absolute path" },
  { "[a]\nmountpoint = //u02\n",
    "test.conf:2: //u02: mountpoint has an empty component (//)" },
  { "[a]\nmountpoint = /u02//oradata\n",
    "test.conf:2: /u02//oradata: mountpoint has an empty component (//)" },
  { "[a]\nmountpoint = /u02//\n",
    "test.conf:2: /u02//: mountpoint has an empty component (//)" },
  { "[a]\nmountpoint = /u02/./oradata\n",
    "test.conf:2: /u02/./oradata: mountpoint has a . or .. component" },
  { "[a]\nmountpoint = /u02/../oradata\n",
    "test.conf:2: /u02/../oradata: mountpoint has a . or .. component" },
  { "[a]\nmountpoint = /u02/..\n",
    "test.conf:2: /u02/..: mountpoint has a . or .. component" },
  { "[a]\nmountpoint = /u02/./\n",
    "test.conf:2: /u02/./: mountpoint has a . or .. component" },
  { "[a]\nmountpoint = /.\n",
    "test.conf:2: /.: mountpoint has a . or .. component" },
  /* options: dio_options_set's message, at the options line. */
  { "[a]\nurl=nfs://h/e\noptions = hard,nconnect=99\nmountpoint=/a\n",
    "test.conf:3: nconnect=99: out of range 1..16" },
  { "[a]\noptions = rsize=abc\n", "test.conf:2: rsize=abc: not a number" },
  { "[a]\noptions = frobnicate\n", "test.conf:2: frobnicate: unknown option" },
  { "[a]\noptions = hard,,soft\n",
    "test.conf:2: hard,,soft: empty option in list" },
  { "[a]\noptions = vers=4\n",
    "test.conf:2: vers=4: only NFS version 3 is supported" },
  /* Duplicate sections: the repeat is reported, naming the first. */
  { "[a]\nurl=nfs://h/e\nmountpoint=/a\n[a]\nurl=nfs://h/f\nmountpoint=/b\n",
    "test.conf:4: [a]: duplicate section (first at line 1)" },
  { "[b]\nurl=nfs://h/e\nmountpoint=/b\n"
    "[a]\nurl=nfs://h/e\nmountpoint=/a\n"
    "[b]\nurl=nfs://h/e\nmountpoint=/c\n"
    "[a]\nurl=nfs://h/e\nmountpoint=/d\n",
    "test.conf:7: [b]: duplicate section (first at line 1)" },
  /* Overlapping mountpoints: the later section, naming both. */
  { "[a]\nurl=nfs://h/e\nmountpoint=/u02/oradata\n"
    "[b]\nurl=nfs://h/f\nmountpoint=/u02/oradata/\n",
    "test.conf:4: [b]: mountpoint /u02/oradata overlaps /u02/oradata of [a] "
    "(line 1)" },
  { "[a]\nurl=nfs://h/e\nmountpoint=/u02/oradata/x\n"
    "[b]\nurl=nfs://h/f\nmountpoint=/u02/oradata\n",
    "test.conf:4: [b]: mountpoint /u02/oradata overlaps /u02/oradata/x of [a] "
    "(line 1)" },
  { "[a]\nurl=nfs://h/e\nmountpoint=/u02\n"
    "[root]\nurl=nfs://h/f\nmountpoint=/\n",
    "test.conf:4: [root]: mountpoint / overlaps /u02 of [a] (line 1)" },
  /* '-' sorts before '/': /a-b between /a and /a/c must not hide them. */
  { "[a]\nurl=nfs://h/e\nmountpoint=/a\n"
    "[ab]\nurl=nfs://h/e\nmountpoint=/a-b\n"
    "[ac]\nurl=nfs://h/e\nmountpoint=/a/c\n",
    "test.conf:7: [ac]: mountpoint /a/c overlaps /a of [a] (line 1)" },
  /* Of several overlaps, the one found earliest in the file. */
  { "[a]\nurl=nfs://h/e\nmountpoint=/x\n"
    "[b]\nurl=nfs://h/e\nmountpoint=/y\n"
    "[c]\nurl=nfs://h/e\nmountpoint=/x/y/z\n"
    "[d]\nurl=nfs://h/e\nmountpoint=/y/z\n",
    "test.conf:7: [c]: mountpoint /x/y/z overlaps /x of [a] (line 1)" },
  { "[a]\nurl=nfs://h/e\nmountpoint=/x\n"
    "[b]\nurl=nfs://h/e\nmountpoint=/x/y/z\n"
    "[c]\nurl=nfs://h/e\nmountpoint=/x/y\n",
    "test.conf:4: [b]: mountpoint /x/y/z overlaps /x of [a] (line 1)" },
  /* The first error wins. */
  { "[a]\ncolour=red\nurl=ftp://x\n",
    "test.conf:2: colour: unknown key (expected url, mountpoint or options)" },
};

START_TEST (test_bad_file)
{
  parse_fails (bad[_i].text, bad[_i].msg);
}
END_TEST

START_TEST (test_component_prefix_is_not_overlap)
{
  struct dio_profiles set;

  parse_ok ("[a]\nurl=nfs://h/e\nmountpoint=/u02/ora\n"
            "[b]\nurl=nfs://h/f\nmountpoint=/u02/oradata2\n"
            "[c]\nurl=nfs://h/f\nmountpoint=/u02/ora-x\n"
            "[d]\nurl=nfs://h/f\nmountpoint=/u03/ora\n", &set);
  ck_assert_uint_eq (set.n, 4);
  dio_profiles_free (&set);
}
END_TEST

START_TEST (test_nul_byte)
{
  static const char text[] = "[a]\nurl=nfs://h/e\0x\nmountpoint=/a\n";
  struct dio_profiles set;
  char err[256] = "";

  errno = 0;
  ck_assert_int_eq (dio_profiles_parse ("t.conf", text, sizeof text - 1, &set,
                                        err, sizeof err), -1);
  ck_assert_int_eq (errno, EINVAL);
  ck_assert_str_eq (err, "t.conf:2: line contains a NUL byte");

  /* Only len bytes are read: the NUL after them does not count. */
  ck_assert_int_eq (dio_profiles_parse ("t.conf", text, 15, &set,
                                        err, sizeof err), -1);
  ck_assert_str_eq (err, "t.conf:1: [a]: missing mountpoint");
  ck_assert_int_eq (dio_profiles_parse ("t.conf", text, 0, &set,
                                        err, sizeof err), 0);
  ck_assert_uint_eq (set.n, 0);
  dio_profiles_free (&set);
}
END_TEST

/* Write text to a new temporary file; returns its name (free it). */
static char *
write_temp (const char *text)
{
  char *name = strdup ("/tmp/check_profileXXXXXX");
  int fd;

  ck_assert_ptr_nonnull (name);
  fd = mkstemp (name);
  ck_assert_int_ne (fd, -1);
  ck_assert_int_eq (write (fd, text, strlen (text)), (ssize_t) strlen (text));
  ck_assert_int_eq (close (fd), 0);
  return name;
}

START_TEST (test_load)
{
  struct dio_profiles set;
  char err[512] = "";
  char *name = write_temp (example);

  ck_assert_int_eq (dio_profiles_load (name, &set, err, sizeof err), 0);
  ck_assert_str_eq (set.file, name);
  ck_assert_uint_eq (set.n, 2);
  ck_assert_str_eq (set.v[0].name, "oradata");
  dio_profiles_free (&set);
  unlink (name);
  free (name);
}
END_TEST

START_TEST (test_load_bad)
{
  struct dio_profiles set;
  char err[512] = "", want[600];
  char *name = write_temp ("[a]\nurl = nfs://h/e\nmountpoint = /a\n"
                           "options = nconnect=99\n");

  errno = 0;
  ck_assert_int_eq (dio_profiles_load (name, &set, err, sizeof err), -1);
  ck_assert_int_eq (errno, EINVAL);
  snprintf (want, sizeof want, "%s:4: nconnect=99: out of range 1..16", name);
  ck_assert_str_eq (err, want);
  ck_assert_ptr_null (set.v);
  dio_profiles_free (&set);
  unlink (name);
  free (name);
}
END_TEST

START_TEST (test_load_missing)
{
  struct dio_profiles set;
  char err[512] = "";

  errno = 0;
  ck_assert_int_eq (dio_profiles_load ("/nonexistent/profiles.conf", &set,
                                       err, sizeof err), -1);
  ck_assert_int_eq (errno, ENOENT);
  ck_assert_str_eq (err,
                    "/nonexistent/profiles.conf: No such file or directory");
  ck_assert_ptr_null (set.v);
  ck_assert_uint_eq (set.n, 0);
  dio_profiles_free (&set);

  errno = 0;
  ck_assert_int_eq (dio_profiles_load ("/", &set, err, sizeof err), -1);
  ck_assert_int_eq (errno, EISDIR);
  ck_assert_str_eq (err, "/: Is a directory");
}
END_TEST

START_TEST (test_free_null)
{
  struct dio_profiles set = { 0 };

  dio_profiles_free (NULL);
  dio_profiles_free (&set);
  dio_profiles_free (&set);
}
END_TEST

/* A set built by hand: load rejects overlaps, but match must still pick
 * the longest mountpoint if it is ever given one. */
static struct dio_profile nested[] = {
  { .name = (char *) "root", .mountpoint = (char *) "/" },
  { .name = (char *) "u02", .mountpoint = (char *) "/u02" },
  { .name = (char *) "ora", .mountpoint = (char *) "/u02/ora" },
  { .name = (char *) "oradata", .mountpoint = (char *) "/u02/oradata" },
};
static const struct dio_profiles nested_set = {
  .file = (char *) "nested", .v = nested, .n = 4
};

static void
match_is (const char *path, const char *name, const char *rest)
{
  const char *r = "unset";
  const struct dio_profile *p = dio_profiles_match (&nested_set, path, &r);

  if (name == NULL) {
    ck_assert_msg (p == NULL, "%s: matched %s", path, p ? p->name : "");
    ck_assert_ptr_null (r);
    return;
  }
  ck_assert_msg (p != NULL, "%s: no match", path);
  ck_assert_str_eq (p->name, name);
  ck_assert_str_eq (r, rest);
}

START_TEST (test_match)
{
  match_is ("/u02/oradata/system01.dbf", "oradata", "system01.dbf");
  match_is ("/u02/oradata/a/b", "oradata", "a/b");
  match_is ("/u02/oradata", "oradata", "");
  match_is ("/u02/ora/x", "ora", "x");
  match_is ("/u02/ora", "ora", "");
  /* Component-wise: /u02/ora is not a prefix of /u02/oradata2. */
  match_is ("/u02/oradata2/x", "u02", "oradata2/x");
  match_is ("/u02/or", "u02", "or");
  match_is ("/u02", "u02", "");
  match_is ("/u020", "root", "u020");
  match_is ("/", "root", "");
  match_is ("/etc/passwd", "root", "etc/passwd");
}
END_TEST

START_TEST (test_match_none)
{
  struct dio_profiles set;
  const char *rest = "unset";

  parse_ok (example, &set);
  ck_assert_ptr_null (dio_profiles_match (&set, "/u02/oradata2/x", &rest));
  ck_assert_ptr_null (rest);
  ck_assert_ptr_null (dio_profiles_match (&set, "/u02", NULL));
  ck_assert_ptr_null (dio_profiles_match (&set, "/u02/orad", NULL));
  /* Relative paths never match, not even a relative spelling. */
  ck_assert_ptr_null (dio_profiles_match (&set, "u02/oradata/x", NULL));
  ck_assert_ptr_null (dio_profiles_match (&set, "", NULL));
  ck_assert_ptr_null (dio_profiles_match (&set, NULL, NULL));
  ck_assert_ptr_null (dio_profiles_match (NULL, "/u02/oradata", NULL));
  ck_assert_ptr_nonnull (dio_profiles_match (&set, "/backup/x", NULL));
  dio_profiles_free (&set);
}
END_TEST

START_TEST (test_find)
{
  struct dio_profiles set;
  const struct dio_profile *p;

  parse_ok (example, &set);
  p = dio_profiles_find (&set, "backup");
  ck_assert_ptr_nonnull (p);
  ck_assert_str_eq (p->mountpoint, "/backup");
  ck_assert_ptr_eq (dio_profiles_find (&set, "oradata"), &set.v[0]);
  ck_assert_ptr_null (dio_profiles_find (&set, "Oradata"));
  ck_assert_ptr_null (dio_profiles_find (&set, "ora"));
  ck_assert_ptr_null (dio_profiles_find (&set, NULL));
  ck_assert_ptr_null (dio_profiles_find (NULL, "oradata"));
  dio_profiles_free (&set);
}
END_TEST

START_TEST (test_default_path)
{
  const char *def;
  size_t n, m = strlen ("/directio/profiles.conf");

  ck_assert_int_eq (unsetenv ("DIRECTIO_PROFILES"), 0);
  def = dio_profiles_default_path ();
  n = strlen (def);
  ck_assert_uint_gt (n, m);
  ck_assert_str_eq (def + n - m, "/directio/profiles.conf");

  ck_assert_int_eq (setenv ("DIRECTIO_PROFILES", "/tmp/p.conf", 1), 0);
  ck_assert_str_eq (dio_profiles_default_path (), "/tmp/p.conf");
  /* Empty is unset, not a file called "". */
  ck_assert_int_eq (setenv ("DIRECTIO_PROFILES", "", 1), 0);
  ck_assert_str_eq (dio_profiles_default_path (), def);
  ck_assert_int_eq (unsetenv ("DIRECTIO_PROFILES"), 0);
}
END_TEST

Suite *
suite_profile (void)
{
  Suite *s = suite_create ("profile");
  TCase *parse = tcase_create ("parse");
  TCase *lookup = tcase_create ("lookup");

  tcase_add_test (parse, test_example);
  tcase_add_test (parse, test_empty_file);
  tcase_add_test (parse, test_whitespace_crlf_bom);
  tcase_add_test (parse, test_long_lines);
  tcase_add_test (parse, test_mountpoint_normalised);
  tcase_add_loop_test (parse, test_bad_file, 0, sizeof bad / sizeof bad[0]);
  tcase_add_test (parse, test_component_prefix_is_not_overlap);
  tcase_add_test (parse, test_nul_byte);
  tcase_add_test (parse, test_load);
  tcase_add_test (parse, test_load_bad);
  tcase_add_test (parse, test_load_missing);
  tcase_add_test (parse, test_free_null);
  suite_add_tcase (s, parse);

  tcase_add_test (lookup, test_match);
  tcase_add_test (lookup, test_match_none);
  tcase_add_test (lookup, test_find);
  tcase_add_test (lookup, test_default_path);
  suite_add_tcase (s, lookup);
  return s;
}
