#!/usr/bin/env python3
"""Sync between real processes: one fieldsync-server on loopback and two or
three fieldsyncd daemons (one rep's devices) on temp directories, driven over
their sockets and through the fieldsync CLI, exactly as a UI shell and a rep
would. The engine-level cases (faults, proxy, kill -9) live in
test_sync_engine.c / test_sync_faults.c; this file proves the daemon wiring.

usage: test_sync_daemons.py SERVER DAEMON CLI CASE
Cases: travel, merge, conflict, conflict_names, manager, edit_vs_delete, offline,
offline_edits, bad_text, bad_pull, revoked, resync, resync_pages, resync_progress,
resync_removed, enroll_loopback, endless_pages, resync_loop, before_enroll, copied_store,
clock_ahead.
"""
import json
import os
import pty
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))
from fsd import Daemon, TestFailure, check, wait_for  # noqa: E402
from fake_server import FakeServer, pull_page, resync_required  # noqa: E402
CLOCK_AHEAD = 5  # Refusal.Reason
import wire  # noqa: E402

SYNC_TIMEOUT = 60


class Server:
    def __init__(self, binary, root):
        self.binary = binary
        self.root = root
        self.db = os.path.join(root, "server.db")
        self.port_file = os.path.join(root, "server.port")
        self.log = os.path.join(root, "server.log")
        self.proc = None
        self.port = 0

    def admin(self, *args):
        out = subprocess.run([self.binary, "--db", self.db] + list(args), check=True,
                             capture_output=True, text=True)
        return out.stdout.strip()

    def start(self):
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        listen = "127.0.0.1:%d" % self.port  # the same port again after a restart
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen([self.binary, "--db", self.db, "serve", "--listen",
                                          listen, "--port-file", self.port_file],
                                         stdout=logf, stderr=logf, stdin=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(self.port_file), 10, "the server's port file")
        with open(self.port_file) as f:
            self.port = int(f.read().strip())
        return self

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)


class Device:
    """A fieldsyncd with a fresh store (or the store in root), enrolled as user
    (unless enroll is False). The store has a raw key file, or is protected by
    passphrase when one is given."""

    def __init__(self, daemon_bin, cli_bin, server, name, enroll=True, passphrase=None,
                 user="rep", root=None):
        self.d = Daemon(daemon_bin, {"sync_debounce_ms": "60000"}, root)
        self.cli_bin = cli_bin
        self.server = server
        self.name = name
        self.user = user
        if passphrase is None:
            self.d.start(["--init"])
        else:
            self.d.start()
            pfile = os.path.join(self.d.root, "passphrase")
            with open(os.open(pfile, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(passphrase + "\n")
            self.cli("init", "--passphrase-file", pfile)
            os.unlink(pfile)
        self.connect()
        if enroll:
            self.first_sync = self.enroll()  # the first sync starts by itself

    def connect(self):
        self.c = self.d.client(timeout=SYNC_TIMEOUT)
        self.c.call("subscribe", {"topics": ["sync.progress", "record.changed"]})

    def enroll(self):
        """Enrolls through the CLI, as a rep enrolls a laptop; returns the
        outcome of the first sync, which starts by itself."""
        code = self.server.admin("enroll-code", self.user)
        out = self.cli("enroll", self.server.url, code, "--device-name", self.name)
        check("enrolled" in out, "%s: enroll said %r" % (self.name, out))
        return self.wait_done()

    def cli(self, *args, expect=0):
        p = subprocess.run([self.cli_bin, "--socket", self.d.socket] + list(args),
                           capture_output=True, text=True, timeout=SYNC_TIMEOUT,
                           env=self.d.env())
        check(p.returncode == expect, "fieldsync %s: exit %d, expected %d: %s%s" %
              (" ".join(args), p.returncode, expect, p.stdout, p.stderr))
        return p.stdout + p.stderr

    def wait_done(self):
        n = self.c.wait_note(lambda m: m.get("method") == "sync.done", SYNC_TIMEOUT)
        return n["params"]

    def enroll_at(self, url, code="ABCD-EFGH-JKMN-PQRS"):
        """Enrolls through the socket and waits for the answer (not the first sync)."""
        self.c.call("sync.enroll", {"url": url, "code": code})
        n = self.c.wait_note(lambda m: m.get("method") == "sync.enrolled", SYNC_TIMEOUT)
        check(n["params"]["ok"], "%s: enrollment at %s failed: %r" % (self.name, url, n))

    def sync(self):
        """sync.now and its outcome (sync.done)."""
        # outcomes of earlier runs (a retry while the server was down, a run
        # another client started) are stale; a round trip first reads in those
        # still on their way
        self.c.call("status")
        self.c.notes = [n for n in self.c.notes if n.get("method") != "sync.done"]
        self.c.call("sync.now")
        done = self.wait_done()
        check(done["ok"], "%s: sync failed: %r" % (self.name, done))
        return done

    def put(self, kind, rid, record):
        return self.c.call("record.put", {"kind": kind, "id": rid, "record": record})

    def get(self, kind, rid):
        return self.c.call("record.get", {"kind": kind, "id": rid})

    def conflicts(self):
        return self.c.call("conflicts.list")["records"]

    def cleanup(self):
        self.d.cleanup()


def wait_state(dev, state):
    """dev's sync.status once it shows state (runs come and go with the backoff)."""
    def shown():
        st = dev.c.call("sync.status")
        return st if st["state"] == state else None
    return wait_for(shown, 30, "%s in %s's sync.status" % (state, dev.name))


def converge(*devices):
    """Two rounds of syncs: every device sees every other's pushed state."""
    for _ in range(2):
        for dev in devices:
            dev.sync()


def case_travel(srv, mk):
    a, b = mk("laptop"), mk("tablet")
    a.put("account", "acc-1", {"name": "Alder Foods", "tier": "prospect"})
    a.put("contact", "con-1", {"account_id": "acc-1", "name": "Anna Adler"})
    a.put("visit", "vis-1", {"account_id": "acc-1", "outcome": "wants a quayside forklift"})
    done = a.sync()
    check(done["pushed"] == 3, "pushed %r" % done)
    b.sync()
    got = b.get("account", "acc-1")
    check(got["record"]["name"] == "Alder Foods" and got["record"]["tier"] == "prospect",
          "b sees %r" % got)
    check(b.get("contact", "con-1")["record"]["name"] == "Anna Adler", "contact travelled")
    # the pulled record was announced to b's subscribers as a remote change
    n = b.c.wait_note(lambda m: m.get("method") == "record.changed" and
                      m["params"]["origin"] == "remote" and m["params"]["id"] == "acc-1")
    check(n["params"]["kind"] == "account", "remote change note %r" % n)
    st = b.cli("status")
    check("sync:      idle" in st and "user:      rep" in st, "status: %s" % st)
    # pulled records are listed at once and found by search once the daemon's
    # idle maintenance has indexed them, with no further write to prompt it
    visits = b.c.call("record.list", {"kind": "visit"})["items"]
    check([v["id"] for v in visits] == ["vis-1"], "b lists %r" % visits)
    wait_for(lambda: [h["id"] for h in b.c.call("search", {"query": "quayside"})["hits"]] ==
             ["vis-1"], 10, "the pulled visit in b's search")
    check(b.c.call("search", {"query": "quayside"})["search_backlog"] == 0, "search's backlog")
    check(b.c.call("status")["search_backlog"] == 0, "b's search backlog is empty")
    check("search:    up to date" in b.cli("status"), "status: %s" % b.cli("status"))


def case_merge(srv, mk):
    a, b = mk("laptop"), mk("tablet")
    a.put("account", "acc-1", {"name": "Brook Logistics"})
    converge(a, b)
    # offline edits of different fields on both devices
    a.put("account", "acc-1", {"address": {"city": "Bramley"}})
    b.put("account", "acc-1", {"industry": "logistics"})
    converge(a, b)
    for dev in (a, b):
        rec = dev.get("account", "acc-1")
        check(rec["record"]["address"]["city"] == "Bramley" and
              rec["record"]["industry"] == "logistics", "%s: %r" % (dev.name, rec))
        check(rec["conflicts"] == [] and dev.conflicts() == [], "%s: no conflict" % dev.name)


def case_conflict(srv, mk):
    a, b, c = mk("laptop"), mk("tablet"), mk("office")
    a.put("account", "acc-1", {"name": "Cedar Plastics"})
    converge(a, b, c)
    a.put("account", "acc-1", {"tier": "quoted"})
    b.put("account", "acc-1", {"tier": "contracted"})
    converge(a, b, c)
    seen = set()
    for dev in (a, b, c):
        recs = dev.conflicts()
        check(len(recs) == 1 and recs[0]["id"] == "acc-1", "%s: %r" % (dev.name, recs))
        fields = {f["field"]: f for f in recs[0]["fields"]}
        check(set(fields) == {"tier"}, "%s: only tier in conflict: %r" % (dev.name, fields))
        vals = [s["value"] for s in fields["tier"]["siblings"]]
        check(sorted(vals) == ["contracted", "quoted"], "siblings %r" % vals)
        seen.add(dev.get("account", "acc-1")["record"]["tier"])
    check(len(seen) == 1, "one visible value everywhere: %r" % seen)
    # resolved from one device (through the CLI) -> gone on all
    a.cli("conflicts", "resolve", "account", "acc-1", "tier", "--value", "quoted")
    converge(a, b, c)
    for dev in (a, b, c):
        check(dev.conflicts() == [], "%s: conflict resolved" % dev.name)
        check(dev.get("account", "acc-1")["record"]["tier"] == "quoted", "resolved value")


def case_conflict_names(srv, mk):
    """Conflicts name the record and the device that wrote each side, and
    several are resolved at once."""
    a, b = mk("laptop"), mk("tablet")
    a.put("account", "acc-1", {"name": "Cedar Plastics"})
    a.put("contact", "con-1", {"account_id": "acc-1", "name": "Dora Cedar"})
    converge(a, b)
    a.put("account", "acc-1", {"tier": "quoted"})
    a.put("contact", "con-1", {"title": "buyer"})
    b.put("account", "acc-1", {"tier": "contracted"})
    b.put("contact", "con-1", {"title": "head buyer"})
    converge(a, b)
    recs = {r["id"]: r for r in a.conflicts()}
    check(set(recs) == {"acc-1", "con-1"}, "two records in conflict: %r" % recs)
    check(recs["acc-1"].get("name") == "Cedar Plastics" and
          recs["con-1"].get("name") == "Dora Cedar",
          "each names its record: %r" % recs)
    tier = [f for f in recs["acc-1"]["fields"] if f["field"] == "tier"][0]
    writers = {s["value"]: (s.get("device"), s.get("this_device")) for s in tier["siblings"]}
    check(writers == {"quoted": ("this device", True), "contracted": ("tablet (rep)", False)},
          "each side names its device: %r" % writers)
    out = a.cli("conflicts", "list")
    check("tablet (rep)" in out and "Dora Cedar" in out and "this device" in out,
          "the table names devices and records: %s" % out)
    out = b.cli("conflicts", "resolve", "--all", "--mine")
    check("2 records resolved" in out, "resolve --all: %s" % out)
    converge(a, b)
    for dev in (a, b):
        check(dev.conflicts() == [], "%s: all resolved" % dev.name)
        check(dev.get("account", "acc-1")["record"]["tier"] == "contracted" and
              dev.get("contact", "con-1")["record"]["title"] == "head buyer",
              "%s: the tablet's values kept" % dev.name)


def case_manager(srv, mk):
    """A manager's device reads the team's records and refuses edits itself;
    an edit it took before it knew (made while it was not enrolled), which the
    server refuses, is undone by a resync."""
    srv.admin("user", "add", "boss", "--role", "manager")
    srv.admin("user", "add", "ann", "--role", "rep", "--manager", "boss")
    a = mk("laptop", user="ann")
    a.put("account", "acc-1", {"name": "Fir Furniture"})
    a.sync()
    m = mk("office", user="boss")
    check(m.get("account", "acc-1")["record"]["name"] == "Fir Furniture", "the manager reads")
    check(m.c.call("sync.status").get("read_only"), "sync.status says read only")
    check("read only" in m.cli("status"), "status says read only")
    out = m.cli("accounts", "edit", "acc-1", "--name", "Boss edit", expect=1)
    check("reads only" in out, "edit refused on the device: %s" % out)
    for method, params in (("record.put", {"kind": "account", "id": "acc-1",
                                           "record": {"name": "x"}}),
                           ("record.delete", {"kind": "account", "id": "acc-1"}),
                           ("conflicts.resolve", {"kind": "account", "id": "acc-1",
                                                  "keep": "visible"})):
        e = m.c.error(method, params)
        check(e.code == -32014 and e.name == "read_only", "%s refused: %r" % (method, e.message))
    check(m.get("account", "acc-1")["record"]["name"] == "Fir Furniture" and
          m.c.call("outbox.list")["counts"]["pending"] == 0, "nothing changed, nothing queued")
    # an edit taken while the device knew no server, then enrolled again
    m.c.call("sync.forget")
    m.put("account", "acc-1", {"name": "Boss edit"})
    m.c.notes = []
    m.enroll_at(srv.url, srv.admin("enroll-code", "boss"))
    done = m.wait_done()
    check(done["ok"] and done["refused"] == 1, "the server refuses the edit: %r" % done)
    check(m.get("account", "acc-1")["record"]["name"] == "Boss edit", "still shown until...")
    out = m.cli("--json", "resync")
    done = [json.loads(l) for l in out.splitlines() if l.startswith("{")][-1]["params"]
    check(done["ok"] and done["report"]["restored"] == 1, "the resync undoes it: %s" % out)
    check(m.get("account", "acc-1")["record"]["name"] == "Fir Furniture",
          "the server's value is back: %r" % m.get("account", "acc-1"))
    check(m.c.call("outbox.list")["counts"] == {"pending": 0, "in_flight": 0, "refused": 0},
          "no refused change left behind")


def case_edit_vs_delete(srv, mk):
    a, b = mk("laptop"), mk("tablet")
    a.put("account", "acc-1", {"name": "Delta Dental"})
    converge(a, b)
    a.c.call("record.delete", {"kind": "account", "id": "acc-1"})
    b.put("account", "acc-1", {"notes": "called back, wants a quote"})
    converge(a, b)
    for dev in (a, b):
        rec = dev.get("account", "acc-1")
        check(not rec["deleted"], "%s: the edit keeps the record: %r" % (dev.name, rec))
        check("alive" in rec["conflicts"], "%s: delete vs edit listed: %r" % (dev.name, rec))


def case_offline(srv, mk):
    a, b = mk("laptop"), mk("tablet")
    srv.stop()  # the rep works offline all week: a new account, then its visits
    a.put("account", "acc-1", {"name": "Elm Print"})
    for i in range(999):
        a.put("visit", "v-%04d" % i, {"account_id": "acc-1", "objective": "visit %d" % i})
    a.c.call("sync.now")
    failed = a.wait_done()
    check(not failed["ok"], "sync without a server must fail: %r" % failed)
    st = a.c.call("sync.status")
    check(st["state"] == "offline" and st["pending"] == 1000, "offline status %r" % st)
    srv.start()
    done = a.sync()
    check(done["pushed"] == 1000 and done["refused"] == 0, "pushed after reconnect: %r" % done)
    check(done["requests"] < 20, "pushed in few requests: %r" % done)
    check(a.c.call("sync.status")["pending"] == 0, "outbox empty")
    b.sync()
    page = b.c.call("record.list", {"kind": "visit", "limit": 1000})
    check(len(page["items"]) == 999 and page["next_cursor"] is None, "b has all 999 visits")


def case_offline_edits(srv, mk):
    a, b = mk("laptop"), mk("tablet")
    srv.stop()  # a week offline, editing the same few accounts all day
    for rid in ("acc-1", "acc-2", "acc-3"):
        a.put("account", rid, {"name": "%s v0" % rid})
    for i in range(1, 301):
        a.put("account", "acc-1", {"name": "acc-1 v%d" % i})
        if i % 3 == 0:
            a.put("account", "acc-2", {"name": "acc-2 v%d" % i})
    # one entry per record, not per change: the outbox does not grow with edits,
    # and the most edited record keeps its place at the head of the queue
    out = a.c.call("outbox.list")
    check([(e["id"], e["status"]) for e in out["entries"]] ==
          [("acc-1", "pending"), ("acc-2", "pending"), ("acc-3", "pending")],
          "outbox after 403 changes to 3 records: %r, first %r" %
          (out["counts"], [e["id"] for e in out["entries"][:5]]))
    check("3 pending, 0 in flight" in a.cli("status"),
          "status: %s" % a.cli("status"))
    srv.start()
    done = a.sync()
    check(done["pushed"] == 3 and done["refused"] == 0, "pushed %r" % done)
    check(a.c.call("sync.status")["pending"] == 0, "outbox empty after the push")
    b.sync()
    for rid, last in (("acc-1", 300), ("acc-2", 300), ("acc-3", 0)):
        name = b.get("account", rid)["record"]["name"]
        check(name == "%s v%d" % (rid, last), "b has the latest %s: %r" % (rid, name))


def now_hlc():
    return int(time.time() * 1000) << 16


def list_accounts(dev):
    """Every account through the socket and through the CLI, one per page."""
    got = dev.c.call("record.list", {"kind": "account", "limit": 1000})["items"]
    out = dev.cli("--json", "accounts", "list", "--all", "--limit", "1")
    return got, json.loads(out)["items"]


def case_bad_text(srv, mk):
    a = mk("laptop")
    client = wire.Device(srv.url, srv.admin("enroll-code", "rep"))  # a client that does not check
    hlc = now_hlc()
    results = client.push([
        client.state("account", "acc-good", wire.text(2, "Good Name"), hlc),
        client.state("account", "acc-bad", wire.text(2, b"Bad \xff\xfe name"), hlc),
        client.state("account", "acc-long", wire.text(15, "n" * 70000), hlc),
        client.state("account", "acc-nested", wire.text(2, "Nested") +
                     wire.field(5, wire.LEN, wire.text(3, b"Bre\xc3men")), hlc),
    ])
    # refused one by one, with the reason; the good state is joined
    check(results[0][1] == 0, "good state joined: %r" % (results[0],))
    for (joined, reason, message), words in zip(results[1:], (
            "acc-bad: name is not valid UTF-8", "notes is 70000 bytes long, over the limit",
            "address.city is not valid UTF-8")):
        check(joined is None and reason == 2 and words in message,
              "refused INVALID with %r: %r" % (words, (reason, message)))
    done = a.sync()
    check(done["pulled"] == 1 and done["skipped"] == 0, "a pulled the good one only: %r" % done)
    items, cli_items = list_accounts(a)
    check([i["id"] for i in items] == ["acc-good"] and
          [i["id"] for i in cli_items] == ["acc-good"], "a lists %r / %r" % (items, cli_items))
    # a name over ~510 bytes once broke the list cursor on every device
    a.put("account", "acc-wide", {"name": "W" * 600})
    check(a.c.error("record.put", {"kind": "account", "record": {"name": "W" * 70000}}).name ==
          "invalid_record", "a name over 64 KiB is refused")
    a.sync()
    b = mk("tablet")
    for dev in (a, b):
        items, cli_items = list_accounts(dev)
        check(sorted(i["id"] for i in cli_items) == ["acc-good", "acc-wide"],
              "%s lists every account page by page: %r" % (dev.name, cli_items))


def plant(srv, kind, rid, extra):
    """Adds extra (version vector entries and events, wire format) to a record's
    state in the server's database, as an older server that did not check text
    may have joined a write into it. The state keeps what the server knew."""
    srv.stop()
    db = sqlite3.connect(srv.db)
    with db:
        n = db.execute("UPDATE records SET state = state || ? WHERE kind = ? AND id = ?",
                       (extra, wire.KINDS[kind], rid)).rowcount
    db.close()
    check(n == 1, "planted %s %s" % (kind, rid))
    srv.start()


def case_bad_pull(srv, mk):
    a = mk("laptop")
    for rid, name in (("acc-1", "Alder Foods"), ("acc-2", "Brook Logistics"),
                      ("acc-3", "Cedar Plastics")):
        a.put("account", rid, {"name": name})
    a.sync()
    bad = wire.write_event(0x5eed, 1, now_hlc(), wire.text(2, b"Br\xffok"))
    plant(srv, "account", "acc-2", bad)
    b = mk("tablet")  # its first sync pulls the page holding the bad state
    done = b.first_sync
    check(done["ok"] and done["pulled"] == 2 and done["skipped"] == 1,
          "b's first sync applied two states and skipped one: %r" % done)
    out = b.cli("sync")
    items, cli_items = list_accounts(b)
    check(sorted(i["id"] for i in items) == ["acc-1", "acc-3"] and len(cli_items) == 2,
          "b applied the good states of the page: %r" % items)
    check("skipped 1 pulled record(s) this device cannot store" in b.d.log_text() and
          "acc-2: name is not valid UTF-8" in b.d.log_text(), "b says what it skipped")
    check("skipped" not in out, "a later sync skips nothing more: %s" % out)
    # a's own edit of acc-2 is acknowledged; the server's answer, which holds the
    # bad sibling, is not applied, and a keeps what it has
    a.put("account", "acc-2", {"tier": "quoted"})
    done = a.sync()
    check(done["pushed"] == 1 and done["skipped"] == 1 and
          a.c.call("sync.status")["pending"] == 0, "a's change acknowledged: %r" % done)
    rec = a.get("account", "acc-2")["record"]
    check(rec["name"] == "Brook Logistics" and rec["tier"] == "quoted", "a kept its state %r" % rec)
    check(len(list_accounts(a)[1]) == 3, "a lists its three accounts")


def case_revoked(srv, mk):
    a, b = mk("laptop"), mk("tablet")
    devices = srv.admin("device", "list", "rep")
    line = [l for l in devices.splitlines() if "tablet" in l]
    check(len(line) == 1, "device list: %s" % devices)
    srv.admin("device", "revoke", line[0].split()[0])
    b.put("account", "acc-1", {"name": "Falcon Labs"})
    b.c.call("sync.now")
    done = b.wait_done()
    check(not done["ok"], "a revoked device's sync fails: %r" % done)
    st = b.c.call("sync.status")
    check(st["state"] == "revoked" and "revoked" in st["reason"], "revoked status %r" % st)
    out = b.cli("sync", expect=1)
    check("revoked" in out, "the CLI says why: %s" % out)
    check(b.get("account", "acc-1")["record"]["name"] == "Falcon Labs", "local data kept")
    a.sync()  # the other device is unaffected


def case_resync(srv, mk):
    a, b = mk("laptop"), mk("tablet")
    a.put("account", "acc-1", {"name": "Granite Farms"})
    a.put("account", "acc-2", {"name": "Harbor Hotels"})
    converge(a, b)
    srv.stop()
    b.put("account", "acc-3", {"name": "Iron Tools"})  # pending, never pushed
    srv.start()
    out = b.cli("--json", "resync", "--full")
    events = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    done = [e for e in events if e["event"] == "sync.done"]
    check(len(done) == 1 and done[0]["params"]["ok"] and done[0]["params"]["resync"],
          "resync outcome: %s" % out)
    check(any(e["event"] == "sync.progress" for e in events), "progress lines: %s" % out)
    report = done[0]["params"]["report"]
    check(report["removed"] == 0, "nothing removed: %r" % report)
    for rid in ("acc-1", "acc-2", "acc-3"):
        check(not b.get("account", rid)["deleted"], "%s kept after resync" % rid)
    a.sync()
    check(a.get("account", "acc-3")["record"]["name"] == "Iron Tools", "pending change pushed")


BOOK = 2100  # contacts: with their account, three pull pages of 1000 (the daemon's size)


def case_resync_pages(srv, mk):
    """A device silent past the horizon resyncs a book of several pages."""
    a = mk("laptop")
    a.put("account", "acc-1", {"name": "Juniper Works"})
    a.put("account", "acc-gone", {"name": "Closing down"})
    a.sync()
    b = mk("tablet")  # pulls both accounts, then stays silent
    for i in range(BOOK):
        a.put("contact", "con-%04d" % i, {"account_id": "acc-1", "name": "Contact %d" % i})
    a.c.call("record.delete", {"kind": "account", "id": "acc-gone"})
    a.sync()
    # b's only pull was from 0, so it holds no tombstone back: gc collects
    # acc-gone's and raises the floor above b's cursor
    wait_for(lambda: srv.admin("gc", "--horizon-days", "0").startswith("gc: 1 tombstone"), 10,
             "gc to collect the tombstone", step=0.2)
    done = b.sync()
    check(done["resync"], "the server required a resync: %r" % done)
    check(done["report"]["added"] == BOOK and done["report"]["removed"] == 1,
          "resync report: %r" % done)
    # resync_required, then three pages: no restart
    check(done["requests"] == 4, "requests of the resync: %r" % done)
    accounts = b.c.call("record.list", {"kind": "account"})["items"]
    check([x["id"] for x in accounts] == ["acc-1"], "b's accounts: %r" % accounts)
    st = b.c.call("sync.status")
    check(st["state"] == "idle" and not st["resyncing"], "b's status: %r" % st)


def run_with_tty_stderr(dev, *args):
    """The CLI with stderr on a pseudo-terminal (where it draws progress):
    (exit code, stdout, what the terminal showed)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([dev.cli_bin, "--socket", dev.d.socket] + list(args),
                         stdout=subprocess.PIPE, stderr=slave, env=dev.d.env())
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the last writer closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    out = p.communicate(timeout=SYNC_TIMEOUT)[0]
    os.close(master)
    return p.returncode, out.decode(), shown.decode(errors="replace")


def case_resync_progress(srv, mk):
    """A pull from cursor 0 knows how many states it brings: progress says
    N of TOTAL with the time left, on a first sync and on a resync."""
    a = mk("laptop")
    a.put("account", "acc-1", {"name": "Juniper Works"})
    for i in range(BOOK):
        a.put("contact", "con-%04d" % i, {"account_id": "acc-1", "name": "Contact %d" % i})
    a.sync()
    b = mk("tablet")  # its first sync pulls the book from 0
    total = BOOK + 1
    pulls = [n["params"] for n in b.c.notes if n.get("method") == "sync.progress" and
             n["params"]["phase"] == "pull"]
    check(pulls and all(p.get("total") == total for p in pulls),
          "a first sync's progress carries the total: %r" % pulls)
    check(any(p["more"] and isinstance(p["eta_ms"], int) for p in pulls) and
          pulls[-1]["records"] == total and pulls[-1]["eta_ms"] == 0,
          "an ETA while pages follow, 0 at the end: %r" % pulls)
    out = b.cli("--json", "resync", "--full")
    events = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    resync = [e["params"] for e in events if e["event"] == "sync.progress" and
              e["params"]["phase"] == "resync"]
    check(resync and resync[0].get("total") == total and resync[0]["records"] < total and
          isinstance(resync[0]["eta_ms"], int), "a resync's progress: %r" % resync[:2])
    rc, out, shown = run_with_tty_stderr(b, "resync")
    check(rc == 0 and ("of %d (" % total) in shown and "left" in shown,
          "the terminal shows N of TOTAL and the time left: %r" % shown[-300:])


def case_resync_removed(srv, mk):
    """Records that left the territory count in a resync's report."""
    srv.admin("user", "add", "other", "--role", "rep")
    b = mk("laptop")
    b.put("account", "acc-stay", {"name": "Kestrel Mills"})
    b.put("account", "acc-away", {"name": "Larch Freight"})
    b.put("contact", "con-away", {"account_id": "acc-away", "name": "Lena Larch"})
    b.sync()
    srv.admin("reassign", "acc-away", "other")
    out = b.cli("--json", "resync", "--full")
    done = [json.loads(l) for l in out.splitlines() if l.startswith("{")][-1]["params"]
    check(done["ok"] and done["removed"] == 2, "resync outcome: %s" % out)
    check(done["report"]["removed"] == 2, "report counts the removals: %r" % done["report"])
    accounts = b.c.call("record.list", {"kind": "account"})["items"]
    check([x["id"] for x in accounts] == ["acc-stay"], "b's accounts: %r" % accounts)
    check(b.c.call("record.list", {"kind": "contact"})["items"] == [], "the contact left too")


def case_enroll_loopback(srv, mk):
    """Plain http:// goes only to this machine, judged on the host libcurl
    connects to: a loopback address elsewhere in the URL does not count."""
    dev = mk("laptop", enroll=False)
    code = srv.admin("enroll-code", "rep")
    # 0.0.0.0 is no loopback address, yet a connection to it stays on this
    # machine (Linux): even a failing check sends nothing out
    p = srv.port
    for url, says in (("http://127.0.0.1@0.0.0.0:%d" % p, "user name"),
                      ("http://127.0.0.1:%d@0.0.0.0:%d" % (p, p), "user name"),
                      ("http://localhost@0.0.0.0:%d" % p, "user name"),
                      ("http://[::1]@0.0.0.0:%d" % p, "user name"),
                      ("http://0.0.0.0:%d" % p, "not to 0.0.0.0")):
        err = dev.c.error("sync.enroll", {"url": url, "code": code})
        check(err.code == -32602 and says in err.message and "127.0.0.1@" not in err.message,
              "%s: %r" % (url, err.message))
    check(dev.c.call("sync.status")["state"] == "unconfigured", "still unconfigured")
    # the code was never sent: it still enrolls, the host written another way
    out = dev.cli("enroll", "HTTP://LOCALHOST:%d/" % p, code, "--device-name", "laptop")
    check("enrolled" in out, "enroll said %r" % out)
    check(dev.wait_done()["ok"], "first sync")


def case_endless_pages(srv, mk):
    """A server that always has one more page cannot hold a run forever."""
    fake = FakeServer(lambda cursor, full: pull_page(cursor + 1, True))
    try:
        dev = mk("laptop", enroll=False)
        dev.enroll_at(fake.url)
        first = dev.wait_done()  # the first sync starts by itself
        check(not first["ok"] and "1000 pages" in first["message"], "capped run: %r" % first)
        check(first["requests"] == 1000, "stopped at the cap: %r" % first)
        n = dev.c.wait_note(lambda m: m.get("method") == "sync.state" and
                            m["params"]["state"] == "error")
        check("1000 pages" in n["params"]["reason"] and "retry in" in n["params"]["reason"],
              "error state with a retry: %r" % n)
        # between runs the status says so; a run starts only after the backoff
        st = wait_state(dev, "error")
        check("1000 pages" in st["reason"] and st["next_attempt"] > 0, "status %r" % st)
        # the next run (after the backoff) goes on from the cursor the first reached
        second = dev.wait_done()
        check(not second["ok"] and second["requests"] == 1000, "second run: %r" % second)
        check(fake.pulls[1000][0] == 1000, "resumed at %r" % (fake.pulls[1000],))
    finally:
        fake.stop()


def case_resync_loop(srv, mk):
    """A server that asks for a resync again during the resync (as fieldsync-server
    did for a resync's second page below the floor) gets one restart, then an
    error and the backoff, not a loop."""
    fake = FakeServer(lambda cursor, full: resync_required() if cursor > 0 else
                      pull_page(5, True))
    try:
        dev = mk("laptop", enroll=False)
        dev.enroll_at(fake.url)
        done = dev.wait_done()
        check(not done["ok"] and "resync" in done["message"], "failed run: %r" % done)
        check(fake.pulls[:4] == [(0, False), (5, False), (0, True), (5, True)] and
              done["requests"] == 4, "pulls %r, run %r" % (fake.pulls[:6], done))
        st = wait_state(dev, "error")
        check("resync" in st["reason"] and st["resyncing"], "status %r" % st)
    finally:
        fake.stop()


def case_clock_ahead(srv, mk):
    """A laptop whose clock is 1 h 02 min fast, against a server (fake: it
    refuses every push CLOCK_AHEAD) whose Date headers say so: status shows the
    offset and the change waiting for the server's clock, which is not sent
    again while the server's clock is behind it."""
    fake = FakeServer(lambda cursor, full: pull_page(cursor, False),
                      push_refusal=(CLOCK_AHEAD, "dated 3725 s ahead"), date_offset_s=-3725)
    try:
        dev = mk("laptop", enroll=False)
        dev.enroll_at(fake.url)
        dev.wait_done()  # the first sync starts by itself
        dev.put("account", "acc-1", {"name": "Dated ahead"})
        done = dev.sync()
        check(done["refused"] == 1 and fake.push_count() == 1, "refused: %r" % done)
        st = dev.c.call("sync.status")
        offset = st["clock_offset_s"]
        check(offset is not None and -3727 <= offset <= -3724 and
              st["waiting_for_clock"] == 1 and 3600 < st["clock_wait_s"] <= 3727, "status %r" % st)
        done = dev.sync()
        check(done["refused"] == 0 and fake.push_count() == 1, "sent again: %r" % done)
        out = dev.cli("status")
        check("clock:" in out and "this computer's clock is 1 h 02 min ahead of the server's "
              "(set it right)" in out, "status: %s" % out)
        check("1 change(s) dated ahead of the server's clock, sent again by themselves in "
              "about 1 h 0" in out, "status: %s" % out)
    finally:
        fake.stop()


def case_before_enroll(srv, mk):
    # a new laptop: the rep works before it is enrolled (provisional replica id)
    a = mk("laptop", enroll=False)
    a.put("account", "acc-1", {"name": "Juniper Mills"})
    a.put("contact", "con-1", {"account_id": "acc-1", "name": "Jo Jansen"})
    done = a.enroll()
    check(done["ok"] and done["pushed"] == 2 and done["refused"] == 0,
          "the first sync pushes the offline work: %r" % done)
    check(a.c.call("sync.status")["pending"] == 0, "outbox empty")
    b = mk("tablet")
    check(b.get("account", "acc-1")["record"]["name"] == "Juniper Mills", "b has the account")
    check(b.get("contact", "con-1")["record"]["name"] == "Jo Jansen", "b has the contact")


def case_copied_store(srv, mk):
    # a store copied to a second laptop before either was enrolled: both hold
    # the same provisional replica id, which only the first to enroll gets
    a = mk("laptop", enroll=False)
    a.put("account", "acc-1", {"name": "Kestrel Boats"})
    a.d.stop()
    copy_root = a.d.root + "-copy"
    shutil.copytree(a.d.root, copy_root, ignore=shutil.ignore_patterns("run", "*.log"))
    a.d.start(["--init"])
    a.connect()
    c = mk("copy", enroll=False, root=copy_root)
    c.put("account", "acc-2", {"name": "Written on the copy"})
    check(a.enroll()["pushed"] == 1, "the first laptop's work goes out")
    done = c.enroll()
    check(done["ok"] and done["pushed"] == 1 and done["refused"] == 1,
          "the copy's shared record goes, its own write is refused: %r" % done)
    refused = c.c.call("outbox.list", {"status": "refused"})["entries"]
    check(len(refused) == 1 and refused[0]["id"] == "acc-2" and
          refused[0]["reason"] == "foreign_write" and "own writes" in refused[0]["message"],
          "the refusal and its reason: %r" % refused)
    out = c.cli("outbox", "--status", "refused")
    check("acc-2" in out and "foreign_write" in out, "the CLI lists it: %s" % out)
    check("1 refused" in c.cli("status"), "status counts it: %s" % c.cli("status"))
    check(c.get("account", "acc-2")["record"]["name"] == "Written on the copy",
          "nothing lost on the device")
    a.sync()
    check(a.get("account", "acc-1")["record"]["name"] == "Kestrel Boats", "a keeps its own")
    never = a.c.call_raw("record.get", {"kind": "account", "id": "acc-2"})
    check(never.get("error", {}).get("code") == -32002, "acc-2 never reached a: %r" % never)


CASES = {"travel": case_travel, "merge": case_merge, "conflict": case_conflict,
         "conflict_names": case_conflict_names, "manager": case_manager,
         "edit_vs_delete": case_edit_vs_delete, "offline": case_offline,
         "offline_edits": case_offline_edits, "bad_text": case_bad_text,
         "bad_pull": case_bad_pull, "revoked": case_revoked, "resync": case_resync,
         "resync_pages": case_resync_pages, "resync_progress": case_resync_progress,
         "resync_removed": case_resync_removed,
         "enroll_loopback": case_enroll_loopback, "endless_pages": case_endless_pages,
         "resync_loop": case_resync_loop, "before_enroll": case_before_enroll,
         "copied_store": case_copied_store, "clock_ahead": case_clock_ahead}


def run_case(server_bin, daemon_bin, cli_bin, case, fn, users=(("rep", "--role", "rep"),)):
    """Runs fn(srv, mk) against a server with the users (`user add` arguments;
    by default the rep "rep"); mk(name, ...) makes a Device. Prints the
    outcome (the daemons' logs on failure) and returns the exit code."""
    root = tempfile.mkdtemp(prefix="fs-sync-it-")
    srv = Server(server_bin, root)
    devices = []

    def mk(name, **kw):
        dev = Device(daemon_bin, cli_bin, srv, name, **kw)
        devices.append(dev)
        return dev

    try:
        for user in users:
            srv.admin("user", "add", *user)
        srv.start()
        fn(srv, mk)
        print("%s: ok" % case)
        return 0
    except TestFailure as e:
        print("FAIL %s: %s" % (case, e))
        for dev in devices:
            print("--- %s daemon log ---\n%s" % (dev.name, dev.d.log_text()[-3000:]))
        return 1
    finally:
        for dev in devices:
            dev.cleanup()
        srv.stop()
        shutil.rmtree(root, ignore_errors=True)


def main():
    if len(sys.argv) != 5 or sys.argv[4] not in CASES:
        print(__doc__)
        return 2
    server_bin, daemon_bin, cli_bin, case = sys.argv[1:]
    return run_case(server_bin, daemon_bin, cli_bin, case, CASES[case])


if __name__ == "__main__":
    sys.exit(main())
