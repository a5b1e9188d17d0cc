#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# libdirectio test suite: a minimal NBD client that runs a script of
# requests over one or more connections to a Unix socket, and checks each
# result.  For tests that need what nbdsh would give (nbdsh is not always
# installed): exact errnos, ordering against server restarts, several
# connections.
#
#   nbd-steps.py SOCKET STEP...
#
# Each STEP is "CONN VERB ARGS [-> RESULT]" or "sh COMMAND":
#
#   CONN read OFFSET LENGTH [BYTE]    read; with BYTE, check every byte
#   CONN write OFFSET LENGTH BYTE [fua]
#   CONN zero OFFSET LENGTH [fua]     NBD_CMD_WRITE_ZEROES
#   CONN flush
#   CONN send flush                   send a flush and read no reply yet
#   CONN reply                        read the reply to the request sent
#   CONN size                         print the export size
#   CONN pipeline COUNT LENGTH        send COUNT reads of LENGTH (at 0,
#                                     LENGTH, ...) and read no reply yet
#   CONN replies FILE                 read the pipeline's replies (in any
#                                     order): each ok, its data FILE's
#   CONN disc                         send NBD_CMD_DISC (replies may follow)
#   sh COMMAND                        run COMMAND with sh -c; must exit 0
#
# CONN is any name: a connection is opened on first use.  RESULT is "ok"
# (the default) or an errno name such as EIO or EPERM that the server must
# reply with.  OFFSET and LENGTH take K and M suffixes.  Every step is
# printed with its outcome; the first unexpected outcome exits 1.

import socket
import struct
import subprocess
import sys

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REPLY_MAGIC = 0x3E889045565A9
REQUEST_MAGIC = 0x25609513
SIMPLE_REPLY_MAGIC = 0x67446698

FLAG_FIXED_NEWSTYLE = 1
FLAG_NO_ZEROES = 2
OPT_GO = 7
REP_ACK = 1
REP_INFO = 3
INFO_EXPORT = 0
REP_ERR = 1 << 31

CMD_READ, CMD_WRITE, CMD_DISC, CMD_FLUSH, CMD_WRITE_ZEROES = 0, 1, 2, 3, 6
CMD_FLAG_FUA = 1

# NBD error values (the protocol's own numbering).
NBD_ERRORS = {1: "EPERM", 5: "EIO", 12: "ENOMEM", 22: "EINVAL",
              28: "ENOSPC", 75: "EOVERFLOW", 95: "ENOTSUP", 108: "ESHUTDOWN"}


class StepFailed(Exception):
    pass


class Connection:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(120)
        self.sock.connect(path)
        self.handle = 0
        self.pending = {}               # pipelined reads: handle -> (off, len)
        self.disconnected = False
        self.size = self.handshake()

    def recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise StepFailed("server closed the connection")
            buf += chunk
        return buf

    def handshake(self):
        magic, opt, flags = struct.unpack(">QQH", self.recv(18))
        if magic != NBDMAGIC or opt != IHAVEOPT:
            raise StepFailed("not a newstyle NBD server")
        if not flags & FLAG_FIXED_NEWSTYLE:
            raise StepFailed("server is not fixed newstyle")
        self.sock.sendall(struct.pack(">I", flags & (FLAG_FIXED_NEWSTYLE
                                                     | FLAG_NO_ZEROES)))
        data = struct.pack(">I", 0) + struct.pack(">H", 0)  # "" , no infos
        self.sock.sendall(struct.pack(">QII", IHAVEOPT, OPT_GO, len(data))
                          + data)
        size = None
        for _ in range(64):             # bounded: a few replies at most
            magic, opt, rtype, length = struct.unpack(">QIII",
                                                      self.recv(20))
            payload = self.recv(length)
            if magic != REPLY_MAGIC:
                raise StepFailed("bad option reply magic")
            if rtype & REP_ERR:
                raise StepFailed("NBD_OPT_GO refused: %s" % payload)
            if rtype == REP_INFO and length >= 12:
                info, = struct.unpack(">H", payload[:2])
                if info == INFO_EXPORT:
                    size, self.tflags = struct.unpack(">QH", payload[2:12])
            elif rtype == REP_ACK:
                if size is None:
                    raise StepFailed("no export size in the handshake")
                return size
        raise StepFailed("handshake did not finish")

    def request(self, cmd, offset=0, length=0, flags=0, data=b""):
        self.send(cmd, offset, length, flags, data)
        return self.reply(cmd, length)

    def send(self, cmd, offset=0, length=0, flags=0, data=b""):
        self.handle += 1
        self.sock.sendall(struct.pack(">IHHQQI", REQUEST_MAGIC, flags, cmd,
                                      self.handle, offset, length) + data)

    def reply(self, cmd, length=0):
        magic, err, handle = struct.unpack(">IIQ", self.recv(16))
        if magic != SIMPLE_REPLY_MAGIC or handle != self.handle:
            raise StepFailed("bad reply (magic %#x, handle %d)" %
                             (magic, handle))
        if err:
            return NBD_ERRORS.get(err, "error %d" % err), None
        if cmd == CMD_READ:
            return "ok", self.recv(length)
        return "ok", None

    def pipeline(self, count, length):
        for i in range(count):
            self.handle += 1
            self.pending[self.handle] = (i * length, length)
            self.sock.sendall(struct.pack(">IHHQQI", REQUEST_MAGIC, 0,
                                          CMD_READ, self.handle, i * length,
                                          length))

    def replies(self, path):
        with open(path, "rb") as f:
            while self.pending:
                magic, err, handle = struct.unpack(">IIQ", self.recv(16))
                if magic != SIMPLE_REPLY_MAGIC or handle not in self.pending:
                    raise StepFailed("bad reply (magic %#x, handle %d)" %
                                     (magic, handle))
                if err:
                    raise StepFailed("read %d failed: %s" %
                                     (handle, NBD_ERRORS.get(err, err)))
                offset, length = self.pending.pop(handle)
                f.seek(offset)
                if self.recv(length) != f.read(length):
                    raise StepFailed("read %d: not the file's bytes at %d" %
                                     (handle, offset))

    def disc(self):
        self.sock.sendall(struct.pack(">IHHQQI", REQUEST_MAGIC, 0, CMD_DISC,
                                      0, 0, 0))
        self.disconnected = True

    def close(self):
        try:
            if not self.disconnected:
                self.disc()
        finally:
            self.sock.close()


def number(s):
    mult = {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}
    if s and s[-1].upper() in mult:
        return int(s[:-1], 0) * mult[s[-1].upper()]
    return int(s, 0)


def run_step(conns, path, step):
    words, expect = step, "ok"
    if "->" in step:
        words, expect = [s.strip() for s in step.rsplit("->", 1)]
    words = words.split()
    if words and words[0] == "sh":
        cmd = step.split(None, 1)[1]
        if subprocess.call(["sh", "-c", cmd]) != 0:
            raise StepFailed("command failed")
        return
    if len(words) < 2:
        raise StepFailed("bad step")
    name, verb, args = words[0], words[1], words[2:]
    if name not in conns:
        conns[name] = Connection(path)
    c = conns[name]
    fua = CMD_FLAG_FUA if args and args[-1] == "fua" else 0
    if fua:
        args = args[:-1]
    check = None
    if verb == "read":
        offset, length = number(args[0]), number(args[1])
        got, data = c.request(CMD_READ, offset, length)
        if got == "ok" and len(args) > 2:
            check = bytes([number(args[2])]) * length
            if data != check:
                bad = next(i for i in range(length) if data[i] != check[i])
                raise StepFailed("byte %d is %#x, expected %#x" %
                                 (offset + bad, data[bad], check[bad]))
    elif verb == "write":
        offset, length = number(args[0]), number(args[1])
        got, _ = c.request(CMD_WRITE, offset, length, fua,
                           bytes([number(args[2])]) * length)
    elif verb == "zero":
        got, _ = c.request(CMD_WRITE_ZEROES, number(args[0]),
                           number(args[1]), fua)
    elif verb == "flush":
        got, _ = c.request(CMD_FLUSH)
    elif verb == "send" and args == ["flush"]:
        c.send(CMD_FLUSH)
        return
    elif verb == "reply":
        got, _ = c.reply(CMD_FLUSH)
    elif verb == "size":
        print(c.size)
        return
    elif verb == "pipeline":
        c.pipeline(number(args[0]), number(args[1]))
        return
    elif verb == "replies":
        c.replies(args[0])
        return
    elif verb == "disc":
        c.disc()
        return
    else:
        raise StepFailed("unknown verb %s" % verb)
    if got != expect:
        raise StepFailed("got %s, expected %s" % (got, expect))


def main():
    if len(sys.argv) < 3:
        print("usage: nbd-steps.py SOCKET STEP...", file=sys.stderr)
        return 2
    path, conns = sys.argv[1], {}
    try:
        for step in sys.argv[2:]:
            try:
                run_step(conns, path, step)
            except (StepFailed, OSError, ValueError, IndexError) as e:
                print("nbd-steps: FAIL: %s: %s" % (step, e), file=sys.stderr)
                return 1
            print("nbd-steps: ok: %s" % step, file=sys.stderr)
    finally:
        for c in conns.values():
            try:
                c.close()
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
