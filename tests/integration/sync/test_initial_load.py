#!/usr/bin/env python3
"""A new device's initial load (docs/store.md, "Initial load") killed and
restarted, between real processes: fieldsync-server on loopback holding a book
of several batches of pull pages, and fieldsyncd daemons driven over their
sockets.

The tablet's first pull is killed twice: at its crash point right after the
first batch of pages committed (store.load.committed), then by SIGKILL at the
first page of the next run, inside a batch. The third run finishes. Its store
must then be what an uninterrupted load gives a second device (every record
of every kind as listed, the same search hits, the same cursor) and pass
`check`, which finds any index the load dropped and never built (a load that
forgot it was loading after a restart).

usage: test_initial_load.py SERVER DAEMON CLI DEMO CASE
Cases: kill.
"""
import subprocess
import sys

from test_sync_daemons import SYNC_TIMEOUT, run_case
from fsd import check, wait_for  # test_sync_daemons put it on the path

# Demo accounts: about 12 records each, so the book is about three load
# batches (FS_STORE_LOAD_BATCH, 5,000 states) of pull pages of 1,000.
ACCOUNTS = 1000
KINDS = ("account", "contact", "visit", "opportunity", "transaction")
WORDS = ("quote", "demo", "budget", "contract", "trial")  # in the demo's visit notes


def load_demo(dev, demo_bin):
    subprocess.run([demo_bin, "--socket", dev.d.socket, "--accounts", str(ACCOUNTS), "--quiet"],
                   check=True, env=dev.d.env(), timeout=600, capture_output=True)


def everything(dev):
    """Every record of every kind in list order, and the hits of a few words."""
    out = {}
    for kind in KINDS:
        items, cursor = [], None
        while True:
            params = {"kind": kind, "limit": 1000}
            if cursor is not None:
                params["cursor"] = cursor
            page = dev.c.call("record.list", params)
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        out[kind] = items
    wait_for(lambda: dev.c.call("status")["search_backlog"] == 0, SYNC_TIMEOUT,
             "%s's search index to catch up" % dev.name, step=0.1)
    for word in WORDS:
        out["search " + word] = dev.c.call("search", {"query": word, "limit": 1000})["hits"]
    out["cursor"] = dev.c.call("sync.status")["cursor"]
    return out


def restart(dev, env=None):
    dev.d.start(["--init"], env=env)
    dev.connect()


def died(dev):
    wait_for(lambda: dev.d.proc.poll() is not None, SYNC_TIMEOUT, "%s to die" % dev.name)
    check(dev.d.proc.returncode == -9, "%s died of SIGKILL: %r" % (dev.name,
                                                                   dev.d.proc.returncode))


def case_kill(srv, mk, demo_bin):
    a = mk("laptop")
    load_demo(a, demo_bin)
    done = a.sync()
    book = done["pushed"]
    check(book > 10000, "the book is more than two load batches: %r" % done)
    ref = mk("reference")  # an uninterrupted initial load
    check(ref.first_sync["ok"] and ref.first_sync["pulled"] == book, "ref: %r" % ref.first_sync)

    b = mk("tablet", enroll=False)
    b.d.stop()
    restart(b, {"FIELDSYNC_CRASH_AT": "store.load.committed@1"})
    b.c.call("sync.enroll", {"url": srv.url, "code": srv.admin("enroll-code", "rep")})
    died(b)

    restart(b)  # goes on from the first batch: SIGKILL at its first page
    b.c.call("sync.now")
    n = b.c.wait_note(lambda m: m.get("method") == "sync.progress" and
                      m["params"]["phase"] == "pull", SYNC_TIMEOUT)
    b.d.kill()
    check(0 < n["params"]["records"] < book, "killed inside the load: %r" % n)

    restart(b)
    done = b.sync()
    check(done["ok"], "the load finishes: %r" % done)
    r = b.c.call("check")
    check(r["ok"] and r["problem_count"] == 0, "the tablet's check: %r" % r)
    check(ref.c.call("check")["ok"], "the reference's check")
    got, want = everything(b), everything(ref)
    check(sum(len(got[k]) for k in KINDS) == book, "the tablet has the whole book")
    check(all(want["search " + w] for w in WORDS), "every word finds notes")
    for key in want:
        check(got[key] == want[key], "the tablet's %s differs from an uninterrupted load's" % key)


def main():
    if len(sys.argv) != 6 or sys.argv[5] != "kill":
        print(__doc__)
        return 2
    server_bin, daemon_bin, cli_bin, demo_bin, case = sys.argv[1:]
    return run_case(server_bin, daemon_bin, cli_bin, case,
                    lambda srv, mk: case_kill(srv, mk, demo_bin))


if __name__ == "__main__":
    sys.exit(main())
