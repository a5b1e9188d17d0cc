/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The NBD protocol's numbers, as the protocol document
 * (https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md)
 * defines them: the fixed newstyle handshake and simple replies, which
 * is all directio nbd speaks.  Everything on the wire is big-endian. */
#ifndef NBD_PROTO_H
#define NBD_PROTO_H

#include <stdint.h>

/* Handshake. */
#define NBD_MAGIC            UINT64_C (0x4e42444d41474943)   /* "NBDMAGIC" */
#define NBD_IHAVEOPT         UINT64_C (0x49484156454f5054)   /* "IHAVEOPT" */
#define NBD_REP_MAGIC        UINT64_C (0x3e889045565a9)

#define NBD_FLAG_FIXED_NEWSTYLE   (1u << 0)   /* server's handshake flags */
#define NBD_FLAG_NO_ZEROES        (1u << 1)
#define NBD_FLAG_C_FIXED_NEWSTYLE (1u << 0)   /* client's */
#define NBD_FLAG_C_NO_ZEROES      (1u << 1)

#define NBD_OPT_EXPORT_NAME       1
#define NBD_OPT_ABORT             2
#define NBD_OPT_LIST              3
#define NBD_OPT_STARTTLS          5
#define NBD_OPT_INFO              6
#define NBD_OPT_GO                7
#define NBD_OPT_STRUCTURED_REPLY  8

#define NBD_REP_ACK               1
#define NBD_REP_SERVER            2
#define NBD_REP_INFO              3
#define NBD_REP_ERR_UNSUP         (UINT32_C (1) << 31 | 1)
#define NBD_REP_ERR_POLICY        (UINT32_C (1) << 31 | 2)
#define NBD_REP_ERR_INVALID       (UINT32_C (1) << 31 | 3)
#define NBD_REP_ERR_TOO_BIG       (UINT32_C (1) << 31 | 9)

#define NBD_INFO_EXPORT           0
#define NBD_INFO_BLOCK_SIZE       3

/* Transmission flags (per export). */
#define NBD_FLAG_HAS_FLAGS         (1u << 0)
#define NBD_FLAG_READ_ONLY         (1u << 1)
#define NBD_FLAG_SEND_FLUSH        (1u << 2)
#define NBD_FLAG_SEND_FUA          (1u << 3)
#define NBD_FLAG_SEND_WRITE_ZEROES (1u << 6)
#define NBD_FLAG_CAN_MULTI_CONN    (1u << 8)

/* Transmission. */
#define NBD_REQUEST_MAGIC         UINT32_C (0x25609513)
#define NBD_SIMPLE_REPLY_MAGIC    UINT32_C (0x67446698)
#define NBD_REQUEST_SIZE          28    /* magic, flags, type, handle,
                                           offset, length */
#define NBD_SIMPLE_REPLY_SIZE     16    /* magic, error, handle */

#define NBD_CMD_FLAG_FUA          (1u << 0)
#define NBD_CMD_FLAG_NO_HOLE      (1u << 1)

#define NBD_CMD_READ              0
#define NBD_CMD_WRITE             1
#define NBD_CMD_DISC              2
#define NBD_CMD_FLUSH             3
#define NBD_CMD_WRITE_ZEROES      6

/* Error numbers on the wire (not the host's errno values). */
#define NBD_EPERM                 1
#define NBD_EIO                   5
#define NBD_ENOMEM                12
#define NBD_EINVAL                22
#define NBD_ENOSPC                28
#define NBD_EOVERFLOW             75
#define NBD_ENOTSUP               95
#define NBD_ESHUTDOWN             108

#endif /* NBD_PROTO_H */
