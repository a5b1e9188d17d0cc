/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the mount-option vocabulary (libdirectio/options.c). */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <check.h>

#include "check_suites.h"
#include "options.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

/* Apply one word to defaults; it must succeed. */
static struct dio_options
set_ok (const char *word)
{
  struct dio_options o;
  char err[256] = "";

  dio_options_init (&o);
  if (dio_options_set (&o, word, err, sizeof err) == -1)
    ck_abort_msg ("%s: unexpected error: %s", word, err);
  return o;
}

START_TEST (test_defaults)
{
  struct dio_options o;

  dio_options_init (&o);
  ck_assert_uint_eq (o.rsize, 0);
  ck_assert_uint_eq (o.wsize, 0);
  ck_assert_uint_eq (o.nconnect, 2);
  ck_assert_uint_eq (o.window, 1);
  ck_assert_uint_eq (o.timeo, 600);
  ck_assert_uint_eq (o.retrans, 2);
  ck_assert (!o.soft);
  ck_assert (!o.readonly);
  ck_assert (!o.forcedirectio);
  ck_assert_uint_eq (o.vers, 3);
  ck_assert_uint_eq (o.port, 0);
  ck_assert_uint_eq (o.mountport, 0);
  ck_assert_uint_eq (o.cache_size, 64 * MiB);
  ck_assert_uint_eq (o.linger, 2);
  ck_assert_uint_eq (o.retry, DIO_RETRY_UNSET);
  ck_assert_uint_eq (o.spin, DIO_SPIN_UNSET);
}
END_TEST

START_TEST (test_flags)
{
  struct dio_options o;
  char err[256];

  ck_assert (set_ok ("forcedirectio").forcedirectio);
  ck_assert (set_ok ("soft").soft);
  ck_assert (set_ok ("ro").readonly);

  /* The negative words undo the positive ones. */
  dio_options_init (&o);
  ck_assert_int_eq (dio_options_parse (&o, "forcedirectio,soft,ro",
                                       err, sizeof err), 0);
  ck_assert (o.forcedirectio && o.soft && o.readonly);
  ck_assert_int_eq (dio_options_parse (&o, "noforcedirectio,hard,rw",
                                       err, sizeof err), 0);
  ck_assert (!o.forcedirectio && !o.soft && !o.readonly);
}
END_TEST

START_TEST (test_numbers)
{
  ck_assert_uint_eq (set_ok ("timeo=1").timeo, 1);
  ck_assert_uint_eq (set_ok ("timeo=36000").timeo, 36000);
  ck_assert_uint_eq (set_ok ("retrans=0").retrans, 0);
  ck_assert_uint_eq (set_ok ("retrans=100").retrans, 100);
  ck_assert_uint_eq (set_ok ("vers=3").vers, 3);
  ck_assert_uint_eq (set_ok ("port=1").port, 1);
  ck_assert_uint_eq (set_ok ("port=65535").port, 65535);
  ck_assert_uint_eq (set_ok ("mountport=20048").mountport, 20048);
  ck_assert_uint_eq (set_ok ("nconnect=1").nconnect, 1);
  ck_assert_uint_eq (set_ok ("nconnect=16").nconnect, DIO_MAX_NCONNECT);
  ck_assert_uint_eq (set_ok ("window=1").window, 1);
  ck_assert_uint_eq (set_ok ("window=256").window, DIO_MAX_WINDOW);
  ck_assert_uint_eq (set_ok ("linger=0").linger, 0);
  ck_assert_uint_eq (set_ok ("linger=3600").linger, 3600);
  ck_assert_uint_eq (set_ok ("retry=0").retry, 0);
  ck_assert_uint_eq (set_ok ("retry=10000").retry, 10000);
  ck_assert_uint_eq (set_ok ("spin=0").spin, 0);
  ck_assert_uint_eq (set_ok ("spin=1000").spin, DIO_MAX_SPIN_US);
  /* Leading zeros are still decimal, never octal. */
  ck_assert_uint_eq (set_ok ("timeo=010").timeo, 10);
}
END_TEST

START_TEST (test_sizes)
{
  ck_assert_uint_eq (set_ok ("rsize=1048576").rsize, 1048576);
  ck_assert_uint_eq (set_ok ("rsize=4096").rsize, DIO_MIN_XFER);
  ck_assert_uint_eq (set_ok ("rsize=4K").rsize, 4096);
  ck_assert_uint_eq (set_ok ("rsize=4k").rsize, 4096);
  ck_assert_uint_eq (set_ok ("rsize=1M").rsize, MiB);
  ck_assert_uint_eq (set_ok ("rsize=1m").rsize, MiB);
  ck_assert_uint_eq (set_ok ("rsize=16M").rsize, DIO_MAX_XFER);
  ck_assert_uint_eq (set_ok ("rsize=16777216").rsize, DIO_MAX_XFER);
  ck_assert_uint_eq (set_ok ("wsize=512K").wsize, 512 * 1024);
  ck_assert_uint_eq (set_ok ("cache=1M").cache_size, MiB);
  ck_assert_uint_eq (set_ok ("cache=1048576").cache_size, MiB);
  ck_assert_uint_eq (set_ok ("cache=1g").cache_size, GiB);
  ck_assert_uint_eq (set_ok ("cache=64G").cache_size, 64 * GiB);
  ck_assert_uint_eq (set_ok ("cache=65536M").cache_size, 64 * GiB);
}
END_TEST

/* Every bad word, with the exact message it must give. */
static const struct {
  const char *word, *msg;
} bad[] = {
  { "frobnicate", "frobnicate: unknown option" },
  { "frobnicate=1", "frobnicate=1: unknown option" },
  { "HARD", "HARD: unknown option" },
  { "=4096", "=4096: unknown option" },
  { "", ": unknown option" },
  { "hard=1", "hard=1: takes no value" },
  { "soft=", "soft=: takes no value" },
  { "forcedirectio=yes", "forcedirectio=yes: takes no value" },
  { "rsize", "rsize: needs a value" },
  { "rsize=", "rsize=: needs a value" },
  { "cache", "cache: needs a value" },
  { "rsize=abc", "rsize=abc: not a number" },
  { "rsize=-1", "rsize=-1: not a number" },
  { "rsize=+4096", "rsize=+4096: not a number" },
  { "rsize= 4096", "rsize= 4096: not a number" },
  { "rsize=0x1000", "rsize=0x1000: not a number" },
  { "rsize=4096x", "rsize=4096x: not a number" },
  { "rsize=1MB", "rsize=1MB: not a number" },
  { "rsize=1KK", "rsize=1KK: not a number" },
  { "rsize=1T", "rsize=1T: not a number" },
  { "rsize=1.5M", "rsize=1.5M: not a number" },
  { "rsize=K", "rsize=K: not a number" },
  { "rsize=4095", "rsize=4095: out of range 4K..16M" },
  { "rsize=0", "rsize=0: out of range 4K..16M" },
  { "rsize=16777217", "rsize=16777217: out of range 4K..16M" },
  { "wsize=17M", "wsize=17M: out of range 4K..16M" },
  { "wsize=1G", "wsize=1G: out of range 4K..16M" },
  /* Overflow, in the digits and in the suffix, is out of range. */
  { "rsize=18446744073709551616", "rsize=18446744073709551616: out of range 4K..16M" },
  { "rsize=99999999999999999999999", "rsize=99999999999999999999999: out of range 4K..16M" },
  { "rsize=17179869184G", "rsize=17179869184G: out of range 4K..16M" },
  { "rsize=4294971392", "rsize=4294971392: out of range 4K..16M" },
  { "timeo=0", "timeo=0: out of range 1..36000" },
  { "timeo=36001", "timeo=36001: out of range 1..36000" },
  { "timeo=1K", "timeo=1K: not a number" },
  { "retrans=101", "retrans=101: out of range 0..100" },
  { "linger=3601", "linger=3601: out of range 0..3600" },
  { "linger=-1", "linger=-1: not a number" },
  { "retry=10001", "retry=10001: out of range 0..10000" },
  { "spin=1001", "spin=1001: out of range 0..1000" },
  { "spin=-1", "spin=-1: not a number" },
  { "retrans=-1", "retrans=-1: not a number" },
  { "vers=4", "vers=4: only NFS version 3 is supported" },
  { "vers=2", "vers=2: only NFS version 3 is supported" },
  { "vers=4.1", "vers=4.1: only NFS version 3 is supported" },
  { "vers=three", "vers=three: only NFS version 3 is supported" },
  { "vers", "vers: needs a value" },
  { "port=0", "port=0: out of range 1..65535" },
  { "port=65536", "port=65536: out of range 1..65535" },
  { "mountport=0", "mountport=0: out of range 1..65535" },
  { "nconnect=0", "nconnect=0: out of range 1..16" },
  { "nconnect=17", "nconnect=17: out of range 1..16" },
  { "nconnect=99", "nconnect=99: out of range 1..16" },
  { "window=0", "window=0: out of range 1..256" },
  { "window=257", "window=257: out of range 1..256" },
  { "cache=0", "cache=0: out of range 1M..64G" },
  { "cache=1048575", "cache=1048575: out of range 1M..64G" },
  { "cache=65G", "cache=65G: out of range 1M..64G" },
  { "cache=big", "cache=big: not a number" },
};

START_TEST (test_bad_word)
{
  struct dio_options o, before;
  char err[256] = "";

  dio_options_init (&o);
  memcpy (&before, &o, sizeof o);
  errno = 0;
  ck_assert_int_eq (dio_options_set (&o, bad[_i].word, err, sizeof err), -1);
  ck_assert_int_eq (errno, EINVAL);
  ck_assert_str_eq (err, bad[_i].msg);
  ck_assert_msg (memcmp (&o, &before, sizeof o) == 0,
                 "%s: changed the options despite failing", bad[_i].word);
}
END_TEST

START_TEST (test_parse_list)
{
  struct dio_options o;
  char err[256] = "";

  dio_options_init (&o);
  ck_assert_int_eq (dio_options_parse (&o, "forcedirectio,rsize=1048576,"
                                       "wsize=1M,nconnect=4,hard,timeo=600,"
                                       "retrans=2", err, sizeof err), 0);
  ck_assert (o.forcedirectio);
  ck_assert_uint_eq (o.rsize, MiB);
  ck_assert_uint_eq (o.wsize, MiB);
  ck_assert_uint_eq (o.nconnect, 4);
  ck_assert (!o.soft);
  ck_assert_uint_eq (o.timeo, 600);
  ck_assert_uint_eq (o.retrans, 2);

  /* Left to right: the last word wins. */
  ck_assert_int_eq (dio_options_parse (&o, "soft,hard,soft,nconnect=8",
                                       err, sizeof err), 0);
  ck_assert (o.soft);
  ck_assert_uint_eq (o.nconnect, 8);

  /* Blanks around words are allowed, as people write in profiles. */
  ck_assert_int_eq (dio_options_parse (&o, " ro ,\twindow=4 ",
                                       err, sizeof err), 0);
  ck_assert (o.readonly);
  ck_assert_uint_eq (o.window, 4);

  /* An empty list is no words. */
  ck_assert_int_eq (dio_options_parse (&o, "", err, sizeof err), 0);
  ck_assert_int_eq (dio_options_parse (&o, "  ", err, sizeof err), 0);
  ck_assert_uint_eq (o.window, 4);
}
END_TEST

static void
parse_fails (const char *list, const char *msg)
{
  struct dio_options o, before;
  char err[256] = "";

  dio_options_init (&o);
  memcpy (&before, &o, sizeof o);
  errno = 0;
  ck_assert_int_eq (dio_options_parse (&o, list, err, sizeof err), -1);
  ck_assert_int_eq (errno, EINVAL);
  ck_assert_str_eq (err, msg);
  /* Nothing of a bad list is applied, not even the good words before
   * the bad one. */
  ck_assert_msg (memcmp (&o, &before, sizeof o) == 0,
                 "%s: partly applied", list);
}

START_TEST (test_parse_list_errors)
{
  parse_fails ("hard,,soft", "hard,,soft: empty option in list");
  parse_fails ("hard,", "hard,: empty option in list");
  parse_fails (",hard", ",hard: empty option in list");
  parse_fails ("hard, ,soft", "hard, ,soft: empty option in list");
  parse_fails ("nconnect=4,frobnicate", "frobnicate: unknown option");
  parse_fails ("soft,rsize=abc,ro", "rsize=abc: not a number");
  parse_fails ("nconnect=4,nconnect=99", "nconnect=99: out of range 1..16");
}
END_TEST

START_TEST (test_known)
{
  ck_assert (dio_options_known ("forcedirectio"));
  ck_assert (dio_options_known ("noforcedirectio"));
  ck_assert (dio_options_known ("rsize"));
  ck_assert (dio_options_known ("wsize"));
  ck_assert (dio_options_known ("timeo"));
  ck_assert (dio_options_known ("retrans"));
  ck_assert (dio_options_known ("hard"));
  ck_assert (dio_options_known ("soft"));
  ck_assert (dio_options_known ("vers"));
  ck_assert (dio_options_known ("port"));
  ck_assert (dio_options_known ("mountport"));
  ck_assert (dio_options_known ("ro"));
  ck_assert (dio_options_known ("rw"));
  ck_assert (dio_options_known ("nconnect"));
  ck_assert (dio_options_known ("window"));
  ck_assert (dio_options_known ("cache"));
  ck_assert (!dio_options_known ("rsize=4096"));
  ck_assert (!dio_options_known ("rsiz"));
  ck_assert (!dio_options_known ("rsizes"));
  ck_assert (!dio_options_known ("frobnicate"));
  ck_assert (!dio_options_known (""));
  ck_assert (!dio_options_known (NULL));
}
END_TEST

START_TEST (test_err_buffer)
{
  struct dio_options o;
  char small[8];

  dio_options_init (&o);
  /* Callers that do not want the message may pass no buffer. */
  ck_assert_int_eq (dio_options_set (&o, "frobnicate", NULL, 0), -1);
  ck_assert_int_eq (dio_options_parse (&o, "a,,b", NULL, 0), -1);
  /* A short buffer is truncated, still terminated. */
  ck_assert_int_eq (dio_options_set (&o, "frobnicate", small, sizeof small),
                    -1);
  ck_assert_str_eq (small, "frobnic");
}
END_TEST

/* The attribute cache's words (buffered mode): Linux's defaults,
 * actimeo setting both bounds, left to right, noac/ac and nocto/cto. */
START_TEST (test_attr_cache)
{
  static const struct {
    const char *word, *msg;
  } attr_bad[] = {
    { "actimeo", "actimeo: needs a value" },
    { "actimeo=1s", "actimeo=1s: not a number" },
    { "actimeo=1K", "actimeo=1K: not a number" },
    { "acregmin=-1", "acregmin=-1: not a number" },
    { "acregmax=36001", "acregmax=36001: out of range 0..36000" },
    { "actimeo=99999999999999999999", "actimeo=99999999999999999999: "
      "out of range 0..36000" },
    { "noac=1", "noac=1: takes no value" },
    { "nocto=", "nocto=: takes no value" },
  };
  struct dio_options o;
  char err[256] = "";

  dio_options_init (&o);
  ck_assert_uint_eq (o.acregmin, 3);
  ck_assert_uint_eq (o.acregmax, 60);
  ck_assert (!o.noac && !o.nocto);
  ck_assert_uint_eq (set_ok ("acregmin=0").acregmin, 0);
  ck_assert_uint_eq (set_ok ("acregmax=36000").acregmax, 36000);
  ck_assert_uint_eq (set_ok ("actimeo=7").acregmin, 7);
  ck_assert_uint_eq (set_ok ("actimeo=7").acregmax, 7);
  ck_assert_uint_eq (set_ok ("acregmin=5").acregmax, 60);
  ck_assert (set_ok ("noac").noac);
  ck_assert (set_ok ("nocto").nocto);
  ck_assert_int_eq (dio_options_parse (&o, "actimeo=10,acregmax=20,noac,"
                                       "nocto", err, sizeof err), 0);
  ck_assert_uint_eq (o.acregmin, 10);
  ck_assert_uint_eq (o.acregmax, 20);
  ck_assert (o.noac && o.nocto);
  ck_assert_int_eq (dio_options_parse (&o, "acregmin=1,actimeo=2,ac,cto",
                                       err, sizeof err), 0);
  ck_assert_uint_eq (o.acregmin, 2);
  ck_assert_uint_eq (o.acregmax, 2);
  ck_assert (!o.noac && !o.nocto);
  for (const char *const *k = (const char *const[]) { "actimeo", "acregmin",
         "acregmax", "noac", "ac", "nocto", "cto", NULL }; *k; k++)
    ck_assert_msg (dio_options_known (*k), "%s unknown", *k);
  for (size_t i = 0; i < sizeof attr_bad / sizeof attr_bad[0]; i++) {
    struct dio_options before;

    dio_options_init (&o);
    before = o;
    ck_assert_int_eq (dio_options_set (&o, attr_bad[i].word, err, sizeof err),
                      -1);
    ck_assert_str_eq (err, attr_bad[i].msg);
    ck_assert_msg (memcmp (&o, &before, sizeof o) == 0, "%s: changed",
                   attr_bad[i].word);
  }
}
END_TEST

Suite *
suite_options (void)
{
  Suite *s = suite_create ("options");
  TCase *tc = tcase_create ("options");

  tcase_add_test (tc, test_defaults);
  tcase_add_test (tc, test_flags);
  tcase_add_test (tc, test_numbers);
  tcase_add_test (tc, test_sizes);
  tcase_add_loop_test (tc, test_bad_word, 0, sizeof bad / sizeof bad[0]);
  tcase_add_test (tc, test_parse_list);
  tcase_add_test (tc, test_parse_list_errors);
  tcase_add_test (tc, test_known);
  tcase_add_test (tc, test_err_buffer);
  tcase_add_test (tc, test_attr_cache);
  suite_add_tcase (s, tc);
  return s;
}
