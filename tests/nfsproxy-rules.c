/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nfsproxy: rules, PROC:ACTION[:OPTION]... (syntax in nfsproxy.c's
 * usage), and which calls they fire on.
 *
 * Threading: none (the proxy has one thread). */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfsproxy.h"

static const struct {
  const char *name;
  enum np_action action;
  int arg;                      /* 0 none, 1 optional, 2 required */
} actions[] = {
  { "pass", NP_PASS, 0 }, { "short", NP_SHORT, 1 }, { "zero", NP_ZERO, 0 },
  { "error", NP_ERROR, 2 }, { "jukebox", NP_ERROR, 0 },
  { "replace", NP_REPLACE, 2 }, { "verf", NP_VERF, 0 },
  { "fin-before", NP_FIN_BEFORE, 0 }, { "rst-before", NP_RST_BEFORE, 0 },
  { "fin-after", NP_FIN_AFTER, 0 }, { "rst-after", NP_RST_AFTER, 0 },
  { "fin-mid", NP_FIN_MID, 0 }, { "rst-mid", NP_RST_MID, 0 },
  { "drop", NP_DROP, 0 }, { "delay", NP_DELAY, 2 }, { "dup", NP_DUP, 0 },
};
#define NACTIONS (sizeof actions / sizeof actions[0])

const char *
np_action_name (enum np_action a)
{
  for (size_t i = 0; i < NACTIONS; i++)
    if (actions[i].action == a)
      return actions[i].name;
  return "?";
}

bool
np_action_on_call (enum np_action a)
{
  return a == NP_PASS || a == NP_ERROR || a == NP_FIN_BEFORE
    || a == NP_RST_BEFORE;
}

static bool
say (char *err, size_t size, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (err, size, fmt, ap);
  va_end (ap);
  return false;
}

static bool
parse_u64 (const char *s, uint64_t *v)
{
  char *end;

  errno = 0;
  *v = strtoull (s, &end, 10);
  return end != s && *end == '\0' && errno == 0 && s[0] != '-';
}

/* The action field: NAME or NAME=ARG. */
static bool
parse_action (char *field, struct np_rule *r, char *err, size_t size)
{
  char *arg = strchr (field, '=');
  uint64_t v;
  size_t i;

  if (arg)
    *arg++ = '\0';
  for (i = 0; i < NACTIONS; i++)
    if (strcmp (field, actions[i].name) == 0)
      break;
  if (i == NACTIONS)
    return say (err, size, "unknown action '%s'", field);
  r->action = actions[i].action;
  if (arg && actions[i].arg == 0)
    return say (err, size, "action '%s' takes no argument", field);
  if (!arg && actions[i].arg == 2)
    return say (err, size, "action '%s' needs =ARGUMENT", field);
  if (strcmp (field, "jukebox") == 0)
    r->arg = NP_NFS3ERR_JUKEBOX;
  else if (r->action == NP_ERROR || r->action == NP_REPLACE) {
    if (!np_status_lookup (arg, &r->arg))
      return say (err, size, "unknown NFS3ERR status '%s'", arg);
  }
  else if (r->action == NP_SHORT) {
    r->arg = NP_HALF;
    if (arg && (!parse_u64 (arg, &v) || v >= NP_HALF))
      return say (err, size, "short=%s: not a byte count", arg);
    if (arg)
      r->arg = v;
  }
  else if (r->action == NP_ZERO)
    r->arg = 0;
  else if (r->action == NP_DELAY) {
    if (!parse_u64 (arg, &v) || v > 600000)
      return say (err, size, "delay=%s: not milliseconds (0-600000)", arg);
    r->arg = v;
  }
  return true;
}

/* An option field: nth=N, times=N|all, p=P, seed=S. */
static bool
parse_option (char *field, struct np_rule *r, char *err, size_t size)
{
  char *val = strchr (field, '=');
  uint64_t v;

  if (val == NULL)
    return say (err, size, "option '%s' needs =VALUE", field);
  *val++ = '\0';
  if (strcmp (field, "nth") == 0) {
    if (!parse_u64 (val, &v) || v == 0)
      return say (err, size, "nth=%s: not a count from 1", val);
    r->nth = v;
  }
  else if (strcmp (field, "times") == 0) {
    if (strcmp (val, "all") == 0)
      r->times = 0;
    else if (!parse_u64 (val, &v) || v == 0)
      return say (err, size, "times=%s: not a count from 1 or 'all'", val);
    else
      r->times = v;
  }
  else if (strcmp (field, "p") == 0) {
    char *end;

    errno = 0;
    r->p = strtod (val, &end);
    if (end == val || *end || errno || !(r->p >= 0 && r->p <= 1))
      return say (err, size, "p=%s: not a probability (0-1)", val);
  }
  else if (strcmp (field, "seed") == 0) {
    if (!parse_u64 (val, &v))
      return say (err, size, "seed=%s: not a number", val);
    r->rng = v ? v : 1;
  }
  else
    return say (err, size, "unknown option '%s'", field);
  return true;
}

bool
np_rule_parse (const char *text, uint64_t seed, struct np_rule *r,
               char *err, size_t size)
{
  char copy[sizeof r->text], *fields[8], *save = NULL;
  size_t n = 0;

  *r = (struct np_rule) { .nth = 1, .times = 1, .p = 1,
                          .rng = seed ? seed : 1 };
  if (strlen (text) >= sizeof copy)
    return say (err, size, "rule too long");
  strcpy (r->text, text);
  strcpy (copy, text);
  for (char *f = strtok_r (copy, ":", &save); f && n < 8;
       f = strtok_r (NULL, ":", &save))
    fields[n++] = f;
  if (n < 2)
    return say (err, size, "expected PROC:ACTION[:OPTION]...");
  if (!np_proc_lookup (fields[0], &r->prog, &r->proc))
    return say (err, size, "unknown procedure '%s'", fields[0]);
  if (!parse_action (fields[1], r, err, size))
    return false;
  for (size_t i = 2; i < n; i++)
    if (!parse_option (fields[i], r, err, size))
      return false;
  if (r->action == NP_PASS && strstr (text, ":times=") == NULL)
    r->times = 0;               /* a log rule logs every match */
  return true;
}

/* xorshift64*, as fault_helpers.c's fault_rand: a seed replays a run. */
static uint64_t
next_rand (uint64_t *s)
{
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1Dull;
}

bool
np_rule_fires (struct np_rule *r, const struct np_call *c, bool may_fire)
{
  if ((r->prog != 0 && r->prog != c->prog)
      || (r->proc >= 0 && (uint32_t) r->proc != c->proc))
    return false;
  if (r->prog == 0 && c->prog != NP_PROG_NFS && c->prog != NP_PROG_MOUNT)
    return false;
  r->seen++;
  if (!may_fire || r->seen < r->nth || (r->times != 0 && r->fired >= r->times))
    return false;
  if (r->p < 1
      && (double) (next_rand (&r->rng) >> 11) / (double) (1ull << 53)
         >= r->p)
    return false;
  r->fired++;
  return true;
}
