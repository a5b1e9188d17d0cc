/* Calls exported for the LD_PRELOAD shim and the tool only, under the
 * LIBDIRECTIO_PRIVATE symbol version: not a stable interface. */
#ifndef DIO_PRIVATE_H
#define DIO_PRIVATE_H

#include "directio.h"

/* dup(2)/F_DUPFD and dup2(2)/dup3(2) of an engine fd (dup.c). */
int dio__dup (int oldfd, int minfd);
int dio__dup2 (int oldfd, int newfd);

/* F_GETFL of an engine fd: access mode, status flags, and O_DIRECT when
 * the file is direct.  (F_SETFL with O_DIRECT maps to directio().) */
int dio__getfl (int fd);

/* Tests only: fn runs on a service thread at named points of a direct
 * request ("before-commit": the UNSTABLE writes are acknowledged and the
 * COMMIT is about to be sent).  NULL removes it. */
void dio__set_test_hook (void (*fn) (const char *point));

#endif /* DIO_PRIVATE_H */
