#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Medians, ratios and targets from a bench/peers.sh CSV file."""
import csv
import os
import statistics
import sys
from collections import defaultdict

# Ours, in the order rows are printed: the NBD tests have two of ours
# (directio nbd and nbdkit nfsdirect), each compared with the peer.
OURS = ["directio-cp", "directio-nbd", "nbdkit", "directio-bench"]

# (test, peer, required ratio of ours to the peer) from the targets.
TARGETS = [
    ("copy-out", "nfs-cp", 1.5), ("copy-out", "qemu-img", 3.0),
    ("copy-in", "nfs-cp", 2.0), ("copy-in", "qemu-img", 3.0),
    ("seqread-1M-qd16", "qemu-nbd", 1.5), ("seqwrite-1M-qd16", "qemu-nbd", 1.5),
    ("seqread-1M-qd1", "qemu-nbd", 1.0), ("seqwrite-1M-qd1", "qemu-nbd", 1.0),
    # Small requests: issue 14's targets.
    ("randread-4K-qd16", "qemu-nbd", 1.0), ("randread-4K-qd64", "qemu-nbd", 1.0),
    ("randwrite-4K-qd16-unstable", "qemu-nbd", 1.0),
    ("randwrite-4K-qd16-durable", "qemu-nbd", 1.1),
    # Like for like (not in the issue): seqwrite-1M-* above compares our
    # durable writes with qemu-nbd's uncommitted ones; these give both
    # sides the same durability.
    ("seqwrite-1M-qd16-unstable", "qemu-nbd", 1.5),
    ("seqwrite-1M-qd1-unstable", "qemu-nbd", 1.0),
    ("seqwrite-1M-qd16-fsync", "qemu-nbd", 1.5),
]


# NBD runs with requests in flight are bounded by CPU: the 2 cores are
# shared by ganesha, fio and the NBD server, so no server can exceed
# CORES / (ganesha's + fio's + its own CPU per request).  FLOOR names the
# nbdkit-memory run that gives nbdkit's own CPU per request for a test.
CORES = 2
FLOOR = {
    "randread-4K-qd16": "randread-4K-qd16",
    "randread-4K-qd64": "randread-4K-qd16",
    "randwrite-4K-qd16-unstable": "randwrite-4K-qd16-unstable",
    "randwrite-4K-qd16-durable": "randwrite-4K-qd16-unstable",
    "seqwrite-1M-qd16": "seqwrite-1M-qd16",
    "seqwrite-1M-qd16-unstable": "seqwrite-1M-qd16",
    "seqwrite-1M-qd16-fsync": "seqwrite-1M-qd16",
}
# Our writes in these tests are durable, qemu-nbd's not: ganesha's and
# fio's cost per request come from qemu-nbd's durable run of the same
# writes (fio fsync=1), since a durable write costs ganesha its flush.
DURABLE_PEER_RUN = {"seqwrite-1M-qd16": "seqwrite-1M-qd16-fsync"}


def per_request_us(rows):
    """Median microseconds of CPU per request of the NBD server, ganesha
    and fio, over one (test, tool)'s samples."""
    def med(field):
        return statistics.median(1e6 * float(r[field]) / float(r["ops"])
                                 for r in rows)
    return med("cpu_s"), med("ganesha_cpu_s"), med("fio_cpu_s")


def ctxsw_per_request(rows):
    """Median context switches of the NBD server per request, or None
    for a CSV from before that column."""
    rows = [r for r in rows if r.get("ctxsw")]
    if not rows:
        return None
    return statistics.median(float(r["ctxsw"]) / float(r["ops"]) for r in rows)


def cpu_bounds(rows, med, missed_tests):
    """Print CPU per request of each NBD server, and for each missed NBD
    target the most any nbdkit plugin could reach: a plugin as cheap as
    nbdkit's memory plugin, beside ganesha and fio as cheap as they were
    for qemu-nbd with the same durability (the cheapest case, so the
    bound is generous).  Returns how many missed targets are above it."""
    by = defaultdict(list)
    for r in rows:
        if float(r.get("ops") or 0) > 0:
            by[(r["test"], r["tool"])].append(r)
    if not by:
        return 0                # a CSV from before these columns
    print()
    print(f"{'CPU per request, us; server ctx switches':44} {'server':>7} "
          f"{'ganesha':>7} {'fio':>7} {'ctxsw':>7}")
    for key in sorted(by):
        server, ganesha, fio = per_request_us(by[key])
        sw = ctxsw_per_request(by[key])
        print(f"{key[0] + ' ' + key[1]:44} {server:7.1f} {ganesha:7.1f} {fio:7.1f} "
              + (f"{sw:7.2f}" if sw is not None else f"{'-':>7}"))
    unreachable = 0
    for test, need in missed_tests:
        floor = FLOOR.get(test)
        peer_run = DURABLE_PEER_RUN.get(test, test)
        if not floor or (test, "qemu-nbd") not in by \
           or (peer_run, "qemu-nbd") not in by \
           or (floor, "nbdkit-memory") not in by:
            continue
        _, ganesha, fio = per_request_us(by[(peer_run, "qemu-nbd")])
        nbdkit, _, _ = per_request_us(by[(floor, "nbdkit-memory")])
        bound = CORES * 1e6 / (ganesha + fio + nbdkit)
        want = need * med[(test, "qemu-nbd")]
        over = want > bound
        unreachable += over
        print(f"{test}: {need}x qemu-nbd is {want:.0f}; any nbdkit plugin <= "
              f"{bound:.0f} = {CORES} cores / ({ganesha:.1f} + {fio:.1f} + "
              f"{nbdkit:.1f}) us{': UNREACHABLE here' if over else ''}")
    return unreachable


# Issue 14's targets for the NBD server's cost of a 4 KiB request.
SMALL_CPU_US, SMALL_CTXSW = 18.0, 1.5
# The yardstick plugin (bench/nbdkit-floor.c) of each small-request test:
# its run with the same durability as ours.
BLOCKING_FLOOR = {
    "randread-4K-qd16": "randread-4K-qd16",
    "randread-4K-qd64": "randread-4K-qd64",
    "randwrite-4K-qd16-unstable": "randwrite-4K-qd16-unstable",
}


def blocking_floor(rows, med, missed_tests):
    """For each missed small-request target, what the cheapest plugin that
    waits for NFS in nbdkit's thread reached in the same run (nbdkit and
    libnfs alone, bench/nbdkit-floor.c), and whether the target is above
    it.  Returns how many missed targets are above it."""
    by = defaultdict(list)
    for r in rows:
        if r["tool"] == "nbdkit-floor" and float(r.get("ops") or 0) > 0:
            by[r["test"]].append(r)
    above = 0
    for test, need in missed_tests:
        floor = BLOCKING_FLOOR.get(test)
        if floor not in by or (test, "qemu-nbd") not in med:
            continue
        rate = med[(floor, "nbdkit-floor")]
        ratio = rate / med[(test, "qemu-nbd")]
        cpu, _, _ = per_request_us(by[floor])
        sw = ctxsw_per_request(by[floor])
        over = ratio < need
        above += over
        ours = med.get((test, "nbdkit"))
        print(f"{test}: the cheapest plugin that waits for NFS (nbdkit-floor) "
              f"{rate:.0f} = {ratio:.2f}x qemu-nbd at {cpu:.1f} us"
              + (f" and {sw:.2f} switches" if sw is not None else "")
              + " per request"
              + (f"; ours {ours / rate:.2f}x of it" if ours else "")
              + (": the target is above it" if over else ""))
        if test.startswith("randread") and (cpu > SMALL_CPU_US
                                             or (sw or 0) > SMALL_CTXSW):
            print(f"  (issue 14 wants <= {SMALL_CPU_US:.0f} us and <= "
                  f"{SMALL_CTXSW} switches per request: above this floor)")
    return above


def small_cost(rows):
    """Issue 14's per-request targets for directio nbd: CPU and context
    switches of the server per 4 KiB request.  The 18 us was set on
    another machine, as half of what nbdkit nfsdirect (the issue's
    "today") spent there and about qemu-nbd's own cost; so beside it,
    ours as a share of both in this run, which a slower or faster
    machine does not move."""
    by = defaultdict(list)
    for r in rows:
        if r["test"].startswith("rand") and float(r.get("ops") or 0) > 0:
            by[(r["test"], r["tool"])].append(r)
    for test in sorted(t for t, tool in by if tool == "directio-nbd"):
        cpu, _, _ = per_request_us(by[(test, "directio-nbd")])
        sw = ctxsw_per_request(by[(test, "directio-nbd")])
        ok = cpu <= SMALL_CPU_US and (sw is None or sw <= SMALL_CTXSW)
        shares = []
        for peer in ("nbdkit", "qemu-nbd"):
            their = (per_request_us(by[(test, peer)])[0]
                     if (test, peer) in by else 0)
            if their > 0:
                shares.append(f"{cpu / their:.2f} of {peer}'s {their:.1f} us")
        print(f"directio nbd {test}: {cpu:.1f} us and "
              + (f"{sw:.2f}" if sw is not None else "-")
              + f" switches per request ({'ok' if ok else 'over'}: <= "
              f"{SMALL_CPU_US:.0f} us, <= {SMALL_CTXSW})"
              + (f"; {', '.join(shares)}" if shares else ""))


def durable_pace(path, med):
    """What paces directio nbd's durable 4 KiB writes (fio --fsync=1,
    qd16), from its own counters over each round (peers-*-commits.csv,
    medians): writes per COMMIT, and from the measured rate how often a
    COMMIT went and how much of that time one was on the wire, beside a
    WRITE's and a COMMIT's round trips.  (The counters' window is wider
    than fio's run, so rates come from fio, ratios from the counters.)"""
    commits_path = path[:-len(".csv")] + "-commits.csv"
    test = "randwrite-4K-qd16-durable"
    rate = med.get((test, "directio-nbd"))
    if not rate or not os.path.exists(commits_path):
        return
    with open(commits_path) as f:
        rounds = [r for r in csv.DictReader(f) if int(r["commits"]) > 0]
    if not rounds:
        return
    per_commit = statistics.median(int(r["joins"]) / int(r["commits"])
                                   for r in rounds)
    write_rtt = statistics.median(float(r["write_rtt_ms"]) for r in rounds)
    commit_rtt = statistics.median(float(r["commit_rtt_ms"]) for r in rounds)
    period = per_commit / rate * 1000
    print(f"{test}, directio nbd ({len(rounds)} rounds): {per_commit:.1f} "
          f"writes per COMMIT, so at {rate:.0f} IOPS a COMMIT every "
          f"{period:.2f} ms, on the wire {commit_rtt / period:.0%} of the "
          f"time ({commit_rtt:.2f} ms each); a WRITE's round trip "
          f"{write_rtt:.2f} ms")


def one_connection(rows, med):
    """1 MiB writes at qd16, neither committed, by the client's number of
    connections: directio nbd's default nconnect=2, its nconnect=1 run
    (directio-nbd-nc1, not one of ours for the targets), and qemu-nbd's
    single connection, with ganesha's CPU seconds per GiB written."""
    test = "seqwrite-1M-qd16-unstable"
    tools = [t for t in ("directio-nbd", "directio-nbd-nc1", "qemu-nbd")
             if (test, t) in med]
    if "directio-nbd-nc1" not in tools or "qemu-nbd" not in tools:
        return
    print(f"\n{test}, by connections (MiB/s, ratio to qemu-nbd, ganesha "
          "CPU s per GiB):")
    for t in tools:
        # Each request is 1 MiB: ops / 1024 GiB.
        per_gib = [float(r["ganesha_cpu_s"]) / (float(r["ops"]) / 1024)
                   for r in rows if r["test"] == test and r["tool"] == t
                   and float(r.get("ops") or 0) > 0]
        per_gib = statistics.median(per_gib) if per_gib else float("nan")
        print(f"  {t:18} {med[(test, t)]:8.1f} "
              f"{med[(test, t)] / med[(test, 'qemu-nbd')]:6.2f} "
              f"{per_gib:7.3f}")


def per_round(ours, peer):
    """The rounds' own ratios (a round runs both): the medians' ratio can
    differ when one side drifts over the run."""
    r = sorted(ours[k] / peer[k] for k in ours if peer.get(k))
    if len(r) < 2:
        return ""
    return f" ({statistics.median(r):.2f}, {r[0]:.2f}-{r[-1]:.2f})"


def main(path):
    samples = defaultdict(list)
    cpu = defaultdict(list)
    rss = defaultdict(list)
    unit = {}
    by_rep = defaultdict(dict)
    with open(path) as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        key = (row["test"], row["tool"])
        samples[key].append(float(row["value"]))
        by_rep[key][row["rep"]] = float(row["value"])
        cpu[key].append(float(row["cpu_s"]))
        rss[key].append(int(float(row["maxrss_kib"])))
        unit[row["test"]] = row["unit"]
    med = {k: statistics.median(v) for k, v in samples.items()}

    print(f"{'test':28} {'tool':16} {'median':>10} {'unit':6} {'cpu s':>7} {'peak RSS':>10}")
    for (test, tool) in sorted(med):
        print(f"{test:28} {tool:16} {med[(test, tool)]:10.1f} {unit[test]:6} "
              f"{statistics.median(cpu[(test, tool)]):7.2f} "
              f"{max(rss[(test, tool)]):>7} KiB")

    print()
    print(f"{'ratio (ours / peer)':44} {'ratio':>7} {'target':>7}"
          "      (per round: median, range)")
    missed = 0
    missed_nbd = []
    for test, peer, need in TARGETS:
        ours = [t for t in OURS if (test, t) in med]
        if not ours or (test, peer) not in med or med[(test, peer)] == 0:
            continue
        # A target is met when one of ours (the best) meets it.
        best = max(med[(test, t)] / med[(test, peer)] for t in ours)
        ok = best >= need
        missed += not ok
        if not ok and peer == "qemu-nbd":
            missed_nbd.append((test, need))
        for t in ours:
            ratio = med[(test, t)] / med[(test, peer)]
            label = test + " vs " + peer + (f" ({t})" if len(ours) > 1 else "")
            print(f"{label:44} {ratio:7.2f} {need:6.1f}x "
                  f"{'ok' if ratio >= need else 'MISSED' if ratio == best else '-':6}"
                  f"{per_round(by_rep[(test, t)], by_rep[(test, peer)])}")
    disk = med.get(("disk-odirect-read", "local-disk"))
    bench = med.get(("seqread-direct", "directio-bench"))
    if disk and bench:
        ratio = bench / disk
        missed += ratio < 0.6
        print(f"{'directio bench read vs local O_DIRECT read':44} {ratio:7.2f} "
              f"{0.6:6.1f}x {'ok' if ratio >= 0.6 else 'MISSED'}")
    for test in ("copy-out", "copy-in"):
        if (test, "directio-cp") in rss:
            peak = max(rss[(test, "directio-cp")])
            print(f"peak RSS of directio cp ({test}): {peak} KiB "
                  f"({'ok' if peak <= 65536 else 'MISSED'}: <= 64 MiB)")
        if (test, "directio-cp") in cpu and (test, "nfs-cp") in cpu:
            a = statistics.median(cpu[(test, "directio-cp")])
            b = statistics.median(cpu[(test, "nfs-cp")])
            print(f"CPU s of directio cp vs nfs-cp ({test}): {a:.2f} vs {b:.2f} "
                  f"({'ok' if a <= b else 'MISSED'})")
    touched = [med.get(("copy-in-touched", t)) for t in ("directio-cp", "nfs-cp")]
    if all(touched):
        print(f"copy-in into pages the guest had just touched (not a target): "
              f"directio cp {touched[0]:.0f} MiB/s, nfs-cp {touched[1]:.0f}: "
              f"{touched[0] / touched[1]:.2f}x")
    small_cost(rows)
    durable_pace(path, med)
    one_connection(rows, med)
    nbd_rss = [v for (test, tool), v in rss.items() if tool == "directio-nbd"]
    if nbd_rss:
        peak = max(max(v) for v in nbd_rss)
        missed += peak > 65536
        print(f"peak RSS of directio nbd: {peak} KiB "
              f"({'ok' if peak <= 65536 else 'MISSED'}: <= 64 MiB)")
    newfile = med.get(("disk-newfile-write", "local-disk"))
    if newfile and ("copy-out", "qemu-img") in med:
        need = 3.0 * med[("copy-out", "qemu-img")]
        print(f"copy-out: 3x qemu-img is {need:.0f} MiB/s; the local disk writes "
              f"a new file O_DIRECT at {newfile:.0f} MiB/s"
              f"{': unreachable here' if need > newfile else ''}")
    unreachable = cpu_bounds(rows, med, missed_nbd)
    blocked = blocking_floor(rows, med, missed_nbd)
    print(f"\n{missed} target(s) missed"
          + (f"; {unreachable} of the NBD ones are above what any nbdkit "
             "plugin can reach on this machine" if unreachable else "")
          + (f"; {blocked} above what a plugin that waits for NFS in "
             "nbdkit's thread reached" if blocked else ""))


if __name__ == "__main__":
    main(sys.argv[1])
