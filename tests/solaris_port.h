/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A block store written as a Solaris program is (solaris_port.c). */
#ifndef SOLARIS_PORT_H
#define SOLARIS_PORT_H

#include <stddef.h>

/* Open path read-write (creating it), with direct I/O advised when the
 * platform has directio() and direct is set.  The fd, or -1. */
int store_open (const char *path, int direct);

/* Write nblocks blocks of bsize bytes from blocks, then read them back
 * into back.  0, or -1. */
int store_put_get (int fd, const char *blocks, char *back, size_t bsize,
                   int nblocks);

int store_close (int fd);

#endif /* SOLARIS_PORT_H */
