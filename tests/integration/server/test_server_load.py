#!/usr/bin/env python3
"""A bounded run of bench_server_load: the real fieldsync-server on loopback
under half-open connections from four addresses and 8 MiB bodies (without a
token, and with a valid device token), while an honest device (a real sync
engine and store) syncs through it. Asserts what the bench prints: every
honest sync succeeded; the per-address limit held (no more connections open
than 4 addresses x 8) and refused the rest at accept; the header deadline
closed the idle ones; bodies without a token were answered 401; the device
sending bodies was held to one at a time (429) or refused its garbage (413);
and the server's peak RSS (VmHWM) stayed under a generous bound (not in a
sanitizer build: FIELDSYNC_IT_SANITIZED).

usage: test_server_load.py BENCH_SERVER_LOAD
"""
import os
import re
import subprocess
import sys

ADDRESSES, PER_IP = 4, 8
RSS_BOUND_MB = 200  # bodies budget 16 MiB, decoding 32 MiB, caches: about 60 MB seen


def fail(what, out):
    print("FAIL: %s\n--- bench output ---\n%s" % (what, out))
    return 1


def number(pattern, out):
    m = re.search(pattern, out)
    if m is None:
        raise ValueError("no match for %r" % pattern)
    return [float(g) for g in m.groups()]


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    args = [sys.argv[1], "--half-open", "100", "--addresses", str(ADDRESSES),
            "--body-threads", "2", "--syncs", "2", "--max-connections", "64",
            "--max-connections-per-ip", str(PER_IP), "--header-timeout", "2",
            "--body-memory", "16MiB"]
    p = subprocess.run(args, capture_output=True, text=True, timeout=240)
    out = p.stdout + p.stderr
    try:
        ok, syncs = number(r"honest device: (\d+) of (\d+) syncs ok", out)
        held, at_accept, at_deadline = number(
            r"at most (\d+) open for over 1 s at once .*?closed at accept (\d+), "
            r"at the header deadline (\d+)", out)
        anon_total, anon_401 = number(r"bodies without a token: (\d+) pushes .*?: 401 before "
                                      r"the body (\d+)", out)
        rogue = number(r"bodies with a device token: (\d+) pushes: 413 (\d+), 429 \(device busy\) "
                       r"(\d+), 503 busy (\d+)", out)
        before, peak = number(r"server RSS: before ([\d.]+) MB, peak ([\d.]+) MB", out)
    except ValueError as e:
        return fail(str(e), out)
    if p.returncode != 0 or ok != syncs or syncs != 2:
        return fail("the honest device did not sync every time", out)
    if held > ADDRESSES * PER_IP or at_accept == 0:
        return fail("the per-address limit did not hold (%d open, %d refused at accept)" %
                    (held, at_accept), out)
    if at_deadline == 0:
        return fail("no connection was closed at the header deadline", out)
    if anon_total == 0 or anon_401 != anon_total:
        return fail("bodies without a token were not all refused with 401", out)
    if rogue[0] == 0 or rogue[1] + rogue[2] == 0:
        return fail("the token's bodies were neither refused 413 nor held back (429/503)", out)
    if os.environ.get("FIELDSYNC_IT_SANITIZED"):
        print("sanitizer build: its allocator quarantine makes RSS meaningless, not checked")
    elif peak > RSS_BOUND_MB:
        return fail("the server's peak RSS %.1f MB is over %d MB" % (peak, RSS_BOUND_MB), out)
    print(out.strip())
    print("server_load_bounded: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
