#!/usr/bin/env python3
"""test_cli_contract.py: the fieldsync CLI against a scripted fake daemon.

What the real daemon cannot show yet (or on demand) is scripted here from
docs/socket-api.md: fields in conflict (they need a second replica and a
server), refused outbox entries, a sync that succeeds, notifications
interleaved with answers, and a daemon that misbehaves (garbage, silence,
a closed connection). Each test checks the requests the CLI sends as well as
what it prints and its exit code.

usage: test_cli_contract.py --cli PATH/fieldsync
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

CONFLICTS = {"records": [{"kind": "account", "id": "a1", "name": "Acme", "fields": [
    {"field": "tier", "number": 10, "siblings": [
        {"value": "prospect", "cleared": False, "replica": "00000000000000aa",
         "device": "laptop (ann)", "this_device": False, "counter": 3,
         "hlc": "0180aa55e4c00000", "time": "2026-11-23T10:02:11Z", "visible": False},
        {"value": "quoted", "cleared": False, "replica": "00000000000000bb", "device": None,
         "this_device": False, "counter": 4,
         "hlc": "0180aa55e4c10000", "time": "2026-11-23T10:05:00Z", "visible": True}]},
    {"field": "alive", "number": 0, "siblings": [
        {"value": False, "cleared": False, "replica": "00000000000000aa", "counter": 5,
         "hlc": "0180aa55e4c20000", "time": "2026-11-23T10:06:00Z", "visible": True},
        {"value": True, "cleared": False, "replica": "00000000000000bb", "counter": 6,
         "hlc": "0180aa55e4c30000", "time": "2026-11-23T10:07:00Z", "visible": True}]}]}]}
OUTBOX = {"entries": [
    {"seq": 12, "kind": "account", "id": "a9", "status": "refused",
     "reason": "not_your_territory", "message": "account a9 belongs to rep2",
     "queued_at": 1763891234},
    {"seq": 13, "kind": "visit", "id": "v1", "status": "pending", "queued_at": 1763891300}],
    "counts": {"pending": 1, "in_flight": 0, "refused": 1}}


class FakeDaemon:
    """Answers one JSON-RPC line at a time from self.answers[method], which is a
    result dict, ("error", code, message[, data]) or ("raw", bytes) or ("close",)."""

    def __init__(self, path):
        self.path = path
        self.requests = []
        self.answers = {}
        self.notify_first = False
        self.after = {}  # method -> notifications (method, params) sent after its answer
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.client, args=(conn,), daemon=True).start()

    def client(self, conn):
        buf = b""
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if not self.answer(conn, json.loads(line)):
                        return

    def answer(self, conn, req):
        self.requests.append(req)
        a = self.answers.get(req["method"], {})
        if isinstance(a, tuple) and a[0] == "close":
            return False
        if isinstance(a, tuple) and a[0] == "raw":
            conn.sendall(a[1])
            return True
        if self.notify_first:
            conn.sendall(b'{"jsonrpc":"2.0","method":"record.changed","params":{"kind":'
                         b'"account","id":"zz","origin":"remote","deleted":false}}\n')
        if isinstance(a, tuple) and a[0] == "error":
            err = {"code": a[1], "message": a[2], "data": a[3] if len(a) > 3 else {}}
            msg = {"jsonrpc": "2.0", "id": req["id"], "error": err}
        else:
            msg = {"jsonrpc": "2.0", "id": req["id"], "result": a}
        data = json.dumps(msg).encode() + b"\r\n"
        conn.sendall(data[:7])  # split writes: the client must reassemble lines
        conn.sendall(data[7:])
        for method, params in self.after.get(req["method"], []):
            note = {"jsonrpc": "2.0", "method": method, "params": params}
            conn.sendall(json.dumps(note).encode() + b"\n")
        return True

    def close(self):
        self.sock.close()


class Suite:
    def __init__(self, cli):
        self.cli = cli
        self.tmp = tempfile.mkdtemp(prefix="fs-cli-contract-")
        self.fake = FakeDaemon(os.path.join(self.tmp, "fake.sock"))
        self.failures, self.checks = [], 0

    def run(self, *args, timeout=None):
        env = dict(os.environ, FIELDSYNC_SOCKET=self.fake.path)
        if timeout:
            env["FIELDSYNC_TIMEOUT"] = str(timeout)
        self.fake.requests = []
        p = subprocess.run([self.cli] + list(args), capture_output=True, text=True, env=env,
                           timeout=60, start_new_session=True)
        return p.returncode, p.stdout, p.stderr

    def expect(self, cond, what, detail=""):
        self.checks += 1
        if not cond:
            self.failures.append(what)
            print("FAIL: %s\n      %s" % (what, str(detail).strip()[:800]))

    def requests_of(self, method):
        return [r for r in self.fake.requests if r["method"] == method]

    def last_params(self, method):
        reqs = self.requests_of(method)
        return reqs[-1].get("params") if reqs else None


def test_conflicts_table_numbers_siblings(s):
    s.fake.answers["conflicts.list"] = CONFLICTS
    rc, out, err = s.run("conflicts", "list")
    lines = out.splitlines()
    s.expect(rc == 0 and lines[0].split() == ["KIND", "ID", "FIELD", "#", "RECORD", "VALUE",
                                               "TIME", "DEVICE", "VISIBLE"], "conflicts header",
             out)
    s.expect(len(lines) == 5 and lines[1].split()[2:6] == ["tier", "0", "Acme", "prospect"] and
             lines[2].split()[2:6] == ["tier", "1", "Acme", "quoted"] and
             lines[2].rstrip().endswith("yes") and not lines[1].rstrip().endswith("yes"),
             "one row per sibling, numbered, the record named, the visible one marked", out)
    s.expect("laptop (ann)" in lines[1] and "00000000000000bb" in lines[2],
             "the device that wrote a sibling by name, else its replica id", out)
    s.expect(lines[3].split()[2:6] == ["alive", "0", "Acme", "false"], "alive siblings listed",
             out)
    rc, out, _ = s.run("conflicts", "list", "--json", "--limit", "5")
    s.expect(rc == 0 and json.loads(out) == CONFLICTS, "conflicts list --json is the result")
    s.expect(s.last_params("conflicts.list") == {"limit": 5}, "--limit is sent",
             s.fake.requests)


def test_conflicts_resolve_sends_the_choice(s):
    s.fake.answers["conflicts.resolve"] = {"kind": "account", "id": "a1", "deleted": False,
                                           "record": {"id": "a1"}, "conflicts": []}
    cases = [
        (["--value", "opportunity"], "tier", {"value": "opportunity_tier"}),
        (["--sibling", "1"], "tier", {"sibling": 1}),
        (["--keep"], "alive", {"value": True}),
        (["--delete"], "alive", {"value": False}),
        (["--value", '{"city":"Leeds"}'], "address", {"value": {"city": "Leeds"}}),
        (["--value", "2026-12-01"], "notes", {"value": "2026-12-01"}),
    ]
    for flags, field, want in cases:
        rc, out, err = s.run("conflicts", "resolve", "accounts", "a1", field, *flags)
        want = dict({"kind": "account", "id": "a1", "field": field}, **want)
        s.expect(rc == 0 and s.last_params("conflicts.resolve") == want,
                 "resolve %s %s sends %s" % (field, flags, want),
                 (s.last_params("conflicts.resolve"), err))
    for args, want in ((["accounts", "a1", "--visible"], {"keep": "visible"}),
                       (["accounts", "a1", "tier", "--mine"], {"field": "tier", "keep": "mine"})):
        rc, out, err = s.run("conflicts", "resolve", *args)
        want = dict({"kind": "account", "id": "a1"}, **want)
        s.expect(rc == 0 and s.last_params("conflicts.resolve") == want,
                 "resolve %s sends %s" % (args, want), (s.last_params("conflicts.resolve"), err))
    for args in (["accounts", "a1"], ["--all"], ["accounts", "a1", "--all", "--visible"],
                 ["accounts", "a1", "--visible", "--mine"]):
        rc, out, err = s.run("conflicts", "resolve", *args)
        s.expect(rc == 2, "resolve %s is a usage error" % args, err)
    s.fake.answers["conflicts.list"] = CONFLICTS
    before = len(s.requests_of("conflicts.resolve"))
    rc, out, err = s.run("conflicts", "resolve", "--all", "--mine")
    s.expect(rc == 0 and "1 record resolved" in out and
             len(s.requests_of("conflicts.resolve")) == before + 1 and
             s.last_params("conflicts.resolve") == {"kind": "account", "id": "a1",
                                                    "keep": "mine"},
             "--all resolves every listed record in one call each", (out, err))
    rc, out, err = s.run("conflicts", "resolve", "account", "a1", "tier", "--value", "hot")
    s.expect(rc == 2 and s.last_params("conflicts.resolve") is None,
             "a bad enum value is refused before sending", err)
    s.fake.answers["conflicts.resolve"] = ("error", -32002, "tier of account a1 is not in "
                                           "conflict", {"name": "not_found"})
    rc, out, err = s.run("conflicts", "resolve", "account", "a1", "tier", "--sibling", "0")
    s.expect(rc == 5 and "not in conflict" in err, "resolve: not in conflict is exit 5", err)


def test_outbox_shows_refusals(s):
    s.fake.answers["outbox.list"] = OUTBOX
    rc, out, err = s.run("outbox")
    s.expect(rc == 0 and out.startswith("1 pending, 0 in flight, 1 refused") and
             "not_your_territory" in out and "belongs to rep2" in out and
             "2025-11-23 09:47" in out, "outbox table with reason, message and time", out)
    rc, out, err = s.run("outbox", "--status", "in-flight", "--limit", "3")
    s.expect(s.last_params("outbox.list") == {"status": "in_flight", "limit": 3},
             "outbox params", s.fake.requests)
    s.fake.answers["outbox.retry"] = {}
    s.fake.answers["outbox.drop"] = {}
    rc, out, err = s.run("outbox", "retry", "12")
    s.expect(rc == 0 and "12 queued again" in out and s.last_params("outbox.retry") ==
             {"seq": 12}, "outbox retry sends the seq", (out, err))
    rc, out, err = s.run("outbox", "drop", "12", "--json")
    s.expect(rc == 0 and json.loads(out) == {} and s.last_params("outbox.drop") == {"seq": 12},
             "outbox drop", (out, err))


def test_sync_success_and_notifications_between_answers(s):
    s.fake.notify_first = True
    s.fake.answers["subscribe"] = {"topics": ["sync.progress"]}
    s.fake.answers["sync.now"] = {"started": True, "state": "syncing"}
    done = {"ok": True, "resync": False, "pushed": 3, "refused": 0, "pulled": 7, "changed": 2,
            "removed": 0, "requests": 2, "bytes_up": 900, "bytes_down": 2100}
    s.fake.after["sync.now"] = [("sync.progress", {"phase": "push", "records": 3, "bytes": 900,
                                                   "rate": 30.0, "eta_ms": None}),
                                ("sync.done", done)]
    rc, out, err = s.run("sync")
    s.expect(rc == 0 and "pushed 3" in out and "pulled 7 (2 changed)" in out,
             "sync waits for sync.done and prints its counts", (out, err))
    s.expect(s.requests_of("subscribe") and
             s.fake.requests.index(s.requests_of("subscribe")[-1]) <
             s.fake.requests.index(s.requests_of("sync.now")[-1]),
             "sync subscribes before it starts the run", s.fake.requests)
    rc, out, err = s.run("--json", "sync")
    events = [json.loads(l) for l in out.splitlines()]
    s.expect(rc == 0 and events[-1] == {"event": "sync.done", "params": done},
             "sync --json prints the notifications as JSON lines", out)
    s.fake.after["sync.now"] = [("sync.done", dict(done, ok=False, message="server unreachable"))]
    rc, out, err = s.run("sync")
    s.expect(rc == 1 and "server unreachable" in err, "a failed run: exit 1 and the reason", err)
    del s.fake.after["sync.now"]
    s.fake.answers["record.list"] = {"items": [{"id": "a1", "name": "Acme"}],
                                     "next_cursor": None}
    rc, out, err = s.run("accounts", "list")
    s.expect(rc == 0 and "Acme" in out, "a notification before the answer is skipped", err)
    s.fake.notify_first = False


def test_passphrase_from_file_is_sent_verbatim(s):
    s.fake.answers["status"] = {"state": "locked", "passphrase": True}
    s.fake.answers["unlock"] = {"state": "unlocked"}
    path = os.path.join(s.tmp, "p")
    with open(path, "w") as f:
        f.write("  spaced pass phrase \r\nsecond line\n")
    rc, out, err = s.run("unlock", "--passphrase-file", path)
    s.expect(rc == 0 and s.last_params("unlock") == {"passphrase": "  spaced pass phrase "},
             "unlock sends the first line without its line end", s.fake.requests)
    s.fake.answers["status"] = {"state": "locked", "passphrase": False}
    rc, out, err = s.run("unlock")
    s.expect(rc == 0 and s.last_params("unlock") == {}, "a raw key file needs no passphrase",
             (s.fake.requests, err))


def test_misbehaving_daemon(s):
    s.fake.answers["status"] = ("raw", b"SSH-2.0-OpenSSH\r\n")
    rc, out, err = s.run("status")
    s.expect(rc == 3 and "right socket" in err, "garbage answer: exit 3", err)
    s.fake.answers["status"] = ("close",)
    rc, out, err = s.run("status")
    s.expect(rc == 3 and "closed the connection" in err, "closed connection: exit 3", err)
    s.fake.answers["status"] = ("raw", b"")
    t0 = time.monotonic()
    rc, out, err = s.run("status", timeout=1)
    s.expect(rc == 3 and "did not answer" in err and time.monotonic() - t0 < 10,
             "a silent daemon times out: exit 3", err)
    s.fake.answers["status"] = ("raw", b'{"jsonrpc":"2.0","id":null,"error":{"code":-32010,'
                                       b'"message":"request line too large"}}\n')
    rc, out, err = s.run("status")
    s.expect(rc == 1 and "too large" in err, "an error with a null id ends the call", err)
    s.fake.answers["status"] = ("error", -32603, "internal error: out of memory",
                                {"name": "internal_error"})
    rc, out, err = s.run("status")
    s.expect(rc == 1 and err.startswith("fieldsync: internal error"), "daemon error: exit 1",
             err)


def test_show_names_fields_in_conflict(s):
    s.fake.answers["record.get"] = {"kind": "account", "id": "a1", "deleted": False,
                                    "record": {"id": "a1", "name": "Acme", "tier": "quoted",
                                               "future_field": 1},
                                    "conflicts": ["alive", "tier"]}
    rc, out, err = s.run("accounts", "show", "a1")
    s.expect(rc == 0 and "conflicts: alive, tier" in out and "conflicts list" in err,
             "show lists the fields in conflict and how to see them", (out, err))
    s.expect(s.last_params("record.get") == {"kind": "account", "id": "a1"}, "get params")
    rc, out, err = s.run("accounts", "show", "a1", "--json")
    s.expect(rc == 0 and json.loads(out)["record"]["future_field"] == 1,
             "--json keeps fields this CLI does not know", out)
    s.fake.answers["status"] = {"version": "0.1.0", "state": "locked", "encrypted": True,
                                "passphrase": True, "sync": {"state": "unconfigured"},
                                "clients": 1, "uptime_s": 3725}
    rc, out, err = s.run("status")
    s.expect(rc == 0 and "state:     locked" in out and "replica" not in out and
             "1h 02m 05s" in out, "status while locked", out)


TESTS = [test_show_names_fields_in_conflict, test_conflicts_table_numbers_siblings, test_conflicts_resolve_sends_the_choice,
         test_outbox_shows_refusals, test_sync_success_and_notifications_between_answers,
         test_passphrase_from_file_is_sent_verbatim, test_misbehaving_daemon]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    s = Suite(ap.parse_args().cli)
    t0 = time.monotonic()
    try:
        for t in TESTS:
            try:
                t(s)
            except Exception as e:  # report and go on with the other tests
                s.expect(False, "%s raised %r" % (t.__name__, e))
    finally:
        s.fake.close()
        shutil.rmtree(s.tmp, ignore_errors=True)
    print("%d checks, %d failed, %.1f s" % (s.checks, len(s.failures), time.monotonic() - t0))
    return 1 if s.failures else 0


if __name__ == "__main__":
    sys.exit(main())
