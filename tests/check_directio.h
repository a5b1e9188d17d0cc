/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Integration tests of directio(), buffered mode and profiles (the
 * check_directio runner), against with-ganesha.sh's server. */
#ifndef CHECK_DIRECTIO_H
#define CHECK_DIRECTIO_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>

#include "directio.h"

Suite *suite_directio_advice (void);
Suite *suite_directio_buffered (void);
Suite *suite_directio_kernel (void);
Suite *suite_directio_profiles (void);
Suite *suite_directio_enospc (void);

/* The test export's URL for profiles: nfs://SERVER/EXPORT?QUERY. */
const char *export_url (void);

/* Make text the process's profile file ("@URL@" stands for
 * export_url ()).  Returns dio__profiles_reload ()'s result; the file's
 * name is in *file if file is not NULL (static storage). */
int use_profiles (const char *text, const char **file);

/* The usual profile: [data] at MNT, buffered, with extra options (or
 * NULL). */
#define MNT "/dio-test/data"
void use_data_profile (const char *options);

/* Counters of fd's mount; fails the test if dio_stats fails. */
struct dio_stats stats_of (int fd);

/* Write len bytes of pattern seed to the export's file (server side). */
void put_local (const char *file, uint64_t len, uint32_t seed);

/* The server's copy of file has pattern seed over [off, off+len). */
int local_has (const char *file, uint64_t off, uint64_t len, uint32_t seed);

/* Its size, or -1. */
long long local_size (const char *file);

/* ck_assert that the call failed with errno err and a message holding
 * words. */
#define assert_fails(call, err, words)                                  \
  do {                                                                  \
    errno = 0;                                                          \
    ck_assert_int_eq ((call), -1);                                      \
    ck_assert_msg (errno == (err), "errno %d (%s), expected %d (%s)",  \
                   errno, strerror (errno), (err), strerror (err));     \
    ck_assert_msg (strstr (dio_last_error (), (words)) != NULL,         \
                   "message \"%s\" lacks \"%s\"", dio_last_error (),    \
                   (words));                                            \
  } while (0)

#endif /* CHECK_DIRECTIO_H */
