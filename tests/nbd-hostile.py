#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# libdirectio test suite: a hostile NBD client for an export whose file
# starts out as a known random pattern.  It speaks the protocol through
# nbd-steps.py's Connection, so it can send what libnbd will not (counts
# past 64 MiB, offsets that wrap past 2^64, unknown commands), and needs
# nothing but python3 (3.9 or later, for randbytes).
#
#   nbd-hostile.py pattern SEED SIZE FILE
#       Write the pattern: SIZE bytes of random.Random(SEED).
#
#   nbd-hostile.py run SOCKET [OPTIONS] -- COMMAND [ARG...]
#       Start COMMAND, and while it runs send random requests on one
#       connection: bad ones (out of range, wrapping past 2^64, too large,
#       zero-length, unsupported), each of which must get its NBD error
#       and leave the connection working, mixed with good ones, checked
#       against a model: byte-granular reads, writes and zeroes in the
#       client's own region (OWN to the end of the export), and reads of
#       the ranges nobody writes (--untouched).  Then a read of the whole
#       own region, in one request larger than the advertised maximum.
#       Options: --seed N, --pattern-seed N, --own OFFSET,
#       --untouched START:END (repeatable), --max N (requests, at most),
#       --min-during N (bad requests that must be sent while COMMAND
#       runs), --model FILE (the own region as the client left it).
#       Prints "errors=N", the number of error replies (nbdkit logs one
#       "invalid request" line for each).  Exit 1 on any wrong reply or
#       byte, or when COMMAND fails.
#
#   nbd-hostile.py check [OPTIONS] READBACK SERVERFILE IOLOG...
#       READBACK (the export read through a fresh connection) must equal
#       SERVERFILE (the file in the export directory), and the model:
#       the pattern, with the own region from --model, and with the
#       bytes fio's write_iolog files IOLOG... say it wrote taken as read
#       (fio verified those).  So a write that touched a byte next to its
#       range, or a refused request that wrote anything, is caught.
#       Options: --pattern-seed N, --own OFFSET, --model FILE.

import argparse
import hashlib
import importlib.util
import os
import random
import subprocess
import sys
import time

# No __pycache__ in the source tree (it may be read-only: VPATH builds).
sys.dont_write_bytecode = True
_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "nbd_steps", os.path.join(_here, "nbd-steps.py"))
nbd_steps = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nbd_steps)

CMD_READ = nbd_steps.CMD_READ
CMD_WRITE = nbd_steps.CMD_WRITE
CMD_FLUSH = nbd_steps.CMD_FLUSH
CMD_WRITE_ZEROES = nbd_steps.CMD_WRITE_ZEROES
CMD_TRIM, CMD_CACHE, CMD_BLOCK_STATUS = 4, 5, 7
FLAG_FUA, FLAG_DF = 1, 4

KiB, MiB = 1024, 1024 * 1024
WRAP = 1 << 64
NBD_MAX = 64 * MiB              # nbdkit's limit for a READ or WRITE
ADVERTISED_MAX = 32 * MiB       # nfsdirect's block_size maximum
OVERSIZED = ADVERTISED_MAX + MiB


class Failed(Exception):
    pass


class Connection(nbd_steps.Connection):
    """nbd-steps.py's connection, reading large replies without copying
    them over and over."""

    def recv(self, n):
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            k = self.sock.recv_into(view[got:])
            if k == 0:
                raise nbd_steps.StepFailed("server closed the connection")
            got += k
        return bytes(buf)


def pattern(seed, size):
    return random.Random(seed).randbytes(size)


def cmd_pattern(args):
    with open(args.file, "wb") as f:
        f.write(pattern(args.seed, args.size))


class Hostile:
    def __init__(self, args):
        self.rng = random.Random(args.seed)
        self.conn = Connection(args.socket)
        self.size = self.conn.size
        self.own = args.own
        if not 0 < self.own <= self.size - OVERSIZED:
            raise Failed("--own %d: the own region must hold %d bytes"
                         % (self.own, OVERSIZED))
        self.model = bytearray(pattern(args.pattern_seed, self.size))
        self.untouched = args.untouched
        self.errors = 0         # error replies
        self.bad = 0            # bad requests sent
        self.good = 0

    # --- one request, and its check ------------------------------------

    def request(self, what, cmd, offset, count, flags=0, data=b""):
        try:
            got, reply = self.conn.request(cmd, offset % WRAP, count, flags,
                                           data)
        except (nbd_steps.StepFailed, OSError) as e:
            raise Failed("%s (offset %d count %d): %s" %
                         (what, offset, count, e))
        if got != "ok":
            self.errors += 1
        return got, reply

    def expect(self, what, expected, cmd, offset, count, flags=0, data=b""):
        self.bad += 1
        got, _ = self.request(what, cmd, offset, count, flags, data)
        if got not in expected:
            raise Failed("%s (offset %d count %d): got %s, expected %s" %
                         (what, offset, count, got, " or ".join(expected)))

    def read_check(self, what, offset, count):
        got, data = self.request(what, CMD_READ, offset, count)
        self.good += 1
        if got != "ok":
            raise Failed("%s (offset %d count %d): %s" %
                         (what, offset, count, got))
        want = self.model[offset:offset + count]
        if data != want:
            bad = next(i for i in range(count) if data[i] != want[i])
            raise Failed("%s: byte %d is %#x, expected %#x" %
                         (what, offset + bad, data[bad], want[bad]))

    def write(self, what, offset, data, flags=0):
        got, _ = self.request(what, CMD_WRITE, offset, len(data), flags, data)
        self.good += 1
        if got != "ok":
            raise Failed("%s (offset %d count %d): %s" %
                         (what, offset, len(data), got))
        self.model[offset:offset + len(data)] = data

    def zero(self, what, offset, count, flags=0):
        got, _ = self.request(what, CMD_WRITE_ZEROES, offset, count, flags)
        self.good += 1
        if got != "ok":
            raise Failed("%s (offset %d count %d): %s" %
                         (what, offset, count, got))
        self.model[offset:offset + count] = bytes(count)

    # --- bad requests --------------------------------------------------

    def past_end(self):
        """An offset at or past the end, near it or anywhere up to 2^64."""
        r = self.rng
        if r.random() < 0.5:
            return self.size + r.randrange(0, MiB)
        return r.randrange(self.size, WRAP)

    def bad_request(self):
        r, size = self.rng, self.size
        kind = r.randrange(10)
        count = r.randint(1, 64 * KiB)
        if kind == 0:           # starts at or past the end
            offset = self.past_end()
        elif kind == 1:         # starts inside, ends past the end
            k = r.randint(1, 64 * KiB)
            offset, count = size - k, k + r.randint(1, 64 * KiB)
        elif kind == 2:         # offset + count wraps past 2^64
            k = r.randint(1, 64 * KiB)
            offset, count = WRAP - k, k + r.randint(0, 64 * KiB)
        elif kind == 3:         # more than nbdkit takes in one request
            count = r.randint(NBD_MAX + 1, (1 << 32) - 1)
            offset = r.randrange(0, size)
        elif kind == 4:         # zero length, in range or not
            count = 0
            offset = r.choice([0, r.randrange(0, size), size,
                               self.past_end()])
        else:
            return self.unsupported()

        # Which command: WRITE carries its payload even when refused.
        verb = r.choice(["read", "write", "zero"])
        if verb == "write" and count > NBD_MAX:
            verb = "read"       # 64 MiB of payload: first_round has one
        if verb == "zero" and count > 0 and offset + count <= size:
            # Zeroes of any size in range are fine: make it overrun.
            offset = size - r.randint(0, min(count, size) - 1)
        in_range = offset + count <= size
        if count == 0 and in_range:
            # NBD leaves zero-length requests to the server; nbdkit
            # refuses them.  Either way nothing may change.
            expected = ("ok", "EINVAL", "ENOSPC")
        elif verb == "read":
            expected = ("ENOMEM",) if in_range else ("EINVAL",)
        elif verb == "write":
            expected = ("ENOMEM",) if in_range else ("ENOSPC",)
        else:
            expected = ("ENOSPC",)
        what = "bad %s (kind %d)" % (verb, kind)
        if verb == "read":
            self.expect(what, expected, CMD_READ, offset, count)
        elif verb == "write":
            self.expect(what, expected, CMD_WRITE, offset, count,
                        r.choice([0, FLAG_FUA]), bytes(count))
        else:
            self.expect(what, expected, CMD_WRITE_ZEROES, offset, count,
                        r.choice([0, FLAG_FUA]))

    def unsupported(self):
        """Commands the export does not offer, flags it does not know."""
        r = self.rng
        offset, count = r.randrange(0, self.size), r.randint(1, 4 * KiB)
        if offset + count > self.size:
            count = self.size - offset
        choice = r.randrange(6)
        if choice == 0:         # can_trim is false
            cmd, flags = CMD_TRIM, 0
        elif choice == 1:       # can_cache is none
            cmd, flags = CMD_CACHE, 0
        elif choice == 2:       # no structured replies negotiated
            cmd, flags = CMD_BLOCK_STATUS, 0
        elif choice == 3:
            cmd, flags = r.choice([8, 9, 99, 0xffff]), 0
        elif choice == 4:       # DF needs structured replies
            cmd, flags = CMD_READ, FLAG_DF
        else:                   # no such flag
            cmd, flags = CMD_READ, 1 << r.randrange(7, 16)
        self.expect("unsupported cmd %d flags %#x" % (cmd, flags),
                    ("EINVAL",), cmd, offset, count, flags)

    # --- good requests -------------------------------------------------

    def good_request(self):
        r = self.rng
        choice = r.randrange(8)
        if choice < 2 and self.untouched:
            start, end = r.choice(self.untouched)
            offset = r.randrange(start, end)
            self.read_check("read untouched", offset,
                            r.randint(1, min(64 * KiB, end - offset)))
            return
        offset = r.randrange(self.own, self.size)
        count = r.randint(1, min(64 * KiB, self.size - offset))
        flags = r.choice([0, FLAG_FUA])
        if choice < 4:
            self.read_check("read own", offset, count)
        elif choice < 6:
            self.write("write own", offset, r.randbytes(count), flags)
        elif choice < 7:
            self.zero("zero own", offset, count, flags)
        else:
            got, _ = self.request("flush", CMD_FLUSH, 0, 0)
            self.good += 1
            if got != "ok":
                raise Failed("flush: %s" % got)

    def oversized(self):
        """Requests above the advertised maximum, in range: nbdkit passes
        them on and the plugin must serve them whole."""
        r = self.rng
        span = OVERSIZED
        offset = self.own + r.randrange(0, self.size - self.own - span + 1)
        self.write("oversized write", offset, r.randbytes(span))
        offset = self.own + r.randrange(0, self.size - self.own - span + 1)
        self.zero("oversized zero", offset, span, FLAG_FUA)

    def first_round(self):
        """Every kind of bad request once, on purpose."""
        size = self.size
        for cmd, err in ((CMD_READ, "EINVAL"), (CMD_WRITE, "ENOSPC"),
                         (CMD_WRITE_ZEROES, "ENOSPC")):
            for offset, count in ((size, 1), (size - 1, 2), (size + 1, 0),
                                  (WRAP - 1, 1), (WRAP - 100, 200),
                                  (1 << 63, 512)):
                data = bytes(count) if cmd == CMD_WRITE else b""
                self.expect("first round cmd %d" % cmd, (err,), cmd,
                            offset, count, 0, data)
        self.expect("read too large", ("ENOMEM",), CMD_READ, 0, NBD_MAX + 1)
        self.expect("read 4 GiB - 1", ("EINVAL",), CMD_READ, 0,
                    (1 << 32) - 1)
        self.expect("write too large", ("ENOMEM",), CMD_WRITE, 0,
                    NBD_MAX + 1, 0, bytes(NBD_MAX + 1))

    def run(self, argv, max_requests, min_during):
        self.first_round()
        self.oversized()        # slow (under valgrind, seconds): not in
                                # the loop, which must keep up with fio
        t0 = time.monotonic()
        proc = subprocess.Popen(argv)
        try:
            during = 0
            for _ in range(max_requests):
                if proc.poll() is not None:
                    break
                if self.rng.random() < 0.6:
                    self.bad_request()
                    during += 1
                else:
                    self.good_request()
            try:                # fio's work is bounded; a hang is a failure
                status = proc.wait(timeout=600)
            except subprocess.TimeoutExpired:
                raise Failed("%s still runs after 600 s" % argv[0])
            elapsed = time.monotonic() - t0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        print("nbd-hostile: %d bad requests (%d while %s ran, %.1f s), %d "
              "error replies, %d good requests" %
              (self.bad, during, argv[0], elapsed, self.errors, self.good),
              file=sys.stderr)
        if status != 0:
            raise Failed("%s exited with status %d" % (argv[0], status))
        if during < min_during:
            raise Failed("only %d bad requests while %s ran, wanted %d" %
                         (during, argv[0], min_during))
        # Everything still there, in one request over the maximum.
        self.read_check("read own region", self.own, self.size - self.own)
        for start, end in self.untouched:
            self.read_check("read untouched", start, end - start)

    def close(self):
        self.conn.close()


def cmd_run(args):
    if not args.command:
        print("nbd-hostile: run: no command after --", file=sys.stderr)
        return 2
    print("nbd-hostile: seed %d" % args.seed, file=sys.stderr)
    try:
        h = Hostile(args)
        try:
            h.run(args.command, args.max, args.min_during)
            print("errors=%d" % h.errors)
        finally:
            h.close()
        if args.model:
            with open(args.model, "wb") as f:
                f.write(h.model[h.own:])
    except (Failed, nbd_steps.StepFailed, OSError) as e:
        print("nbd-hostile: FAIL: %s (seed %d)" % (e, args.seed),
              file=sys.stderr)
        return 1
    return 0


def read_iolog(path):
    """The (offset, length) of each write in a fio version 3 iolog."""
    writes = []
    with open(path) as f:
        if f.readline().strip() != "fio version 3 iolog":
            raise Failed("%s: not a fio version 3 iolog" % path)
        for line in f:
            w = line.split()
            if len(w) == 5 and w[2] == "write":
                writes.append((int(w[3]), int(w[4])))
    return writes


def cmd_check(args):
    def sha(b):
        return hashlib.sha256(b).hexdigest()

    try:
        with open(args.readback, "rb") as f:
            actual = f.read()
        with open(args.serverfile, "rb") as f:
            server = f.read()
        with open(args.model, "rb") as f:
            own = f.read()
        size = len(actual)
        print("nbd-hostile: read back %d bytes, sha256 %s" %
              (size, sha(actual)), file=sys.stderr)
        if sha(server) != sha(actual):
            raise Failed("the read-back differs from the server's file "
                         "(sha256 %s)" % sha(server))
        if args.own + len(own) != size:
            raise Failed("the export has %d bytes, expected %d" %
                         (size, args.own + len(own)))
        expected = bytearray(pattern(args.pattern_seed, size))
        expected[args.own:] = own
        fio = bytearray(size)   # 1 where fio wrote
        nwrites = 0
        for path in args.iolog:
            writes = read_iolog(path)
            if not writes:
                raise Failed("%s: fio wrote nothing" % path)
            nwrites += len(writes)
            for offset, length in writes:
                if offset + length > args.own:
                    raise Failed("%s: fio wrote into the own region" % path)
                expected[offset:offset + length] = \
                    actual[offset:offset + length]
                fio[offset:offset + length] = b"\1" * length
        print("nbd-hostile: %d fio writes covering %d bytes" %
              (nwrites, fio.count(1)), file=sys.stderr)
        if sha(expected) != sha(actual):
            pages = [j for j in range(0, size, 4096)
                     if expected[j:j + 4096] != actual[j:j + 4096]]
            i = next(j for j in range(pages[0], size)
                     if expected[j] != actual[j])
            if i >= args.own:
                where = "in the own region"
            elif fio[max(0, i - 64 * KiB):i + 64 * KiB].count(1):
                where = "next to bytes fio wrote"
            else:
                where = "far from anything written"
            raise Failed("byte %d is %#x, expected %#x (%s); %d 4 KiB "
                         "pages differ" % (i, actual[i], expected[i], where,
                                           len(pages)))
    except (Failed, OSError, ValueError) as e:
        print("nbd-hostile: check: FAIL: %s" % e, file=sys.stderr)
        return 1
    print("nbd-hostile: check: the file matches the model", file=sys.stderr)
    return 0


def byte_range(s):
    start, end = (int(x, 0) for x in s.split(":"))
    if not 0 <= start < end:
        raise argparse.ArgumentTypeError("bad range %s" % s)
    return start, end


def main():
    p = argparse.ArgumentParser(prog="nbd-hostile.py")
    sub = p.add_subparsers(dest="what", required=True)
    s = sub.add_parser("pattern")
    s.add_argument("seed", type=int)
    s.add_argument("size", type=int)
    s.add_argument("file")
    s = sub.add_parser("run")
    s.add_argument("socket")
    s.add_argument("--seed", type=int,
                   default=random.SystemRandom().randrange(1 << 32))
    s.add_argument("--pattern-seed", type=int, required=True)
    s.add_argument("--own", type=int, required=True)
    s.add_argument("--untouched", type=byte_range, action="append", default=[])
    s.add_argument("--max", type=int, default=20000)
    s.add_argument("--min-during", type=int, default=1)
    s.add_argument("--model")
    s = sub.add_parser("check")
    s.add_argument("--pattern-seed", type=int, required=True)
    s.add_argument("--own", type=int, required=True)
    s.add_argument("--model", required=True)
    s.add_argument("readback")
    s.add_argument("serverfile")
    s.add_argument("iolog", nargs="+")
    argv, command = sys.argv[1:], []
    if "--" in argv:            # run's COMMAND, kept from argparse
        i = argv.index("--")
        argv, command = argv[:i], argv[i + 1:]
    args = p.parse_args(argv)
    args.command = command
    return {"pattern": cmd_pattern, "run": cmd_run,
            "check": cmd_check}[args.what](args)


if __name__ == "__main__":
    sys.exit(main())
