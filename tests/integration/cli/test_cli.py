#!/usr/bin/env python3
"""test_cli.py: the fieldsync command line against the real fieldsyncd.

Starts fieldsyncd on a temporary data directory and socket, then runs the real
`fieldsync` binary through every subcommand's success and error paths and
asserts its output and exit code (docs/cli.md): init/unlock/lock/passwd with
passphrases from files and descriptors, records of every kind with --json,
filters and paging, search, follow-ups, the pipeline report, conflicts, the
outbox, the sync stubs, export (JSON lines and CSV) and import (good and bad
rows, a CSV round trip), and --help everywhere.

The daemon is waited for by polling for its socket with a deadline (never a
fixed sleep) and is always stopped at the end, also when a check fails.

usage: test_cli.py --daemon PATH/fieldsyncd --cli PATH/fieldsync
"""
import argparse
import fcntl
import pty
import select
import struct
import termios
import calendar
import csv
import datetime
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))
from fsd import flip_byte, zone_off_utc  # noqa: E402

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
EXIT_LOCKED, EXIT_NOT_FOUND, EXIT_AUTH, EXIT_NOT_INIT = 4, 5, 6, 7
EXIT_NO_SERVER, EXIT_PARTIAL, EXIT_DAMAGED = 8, 9, 10
EXIT_PIPE = 141
PASSPHRASE = "correct horse battery staple"


class Harness:
    def __init__(self, daemon, cli):
        self.daemon, self.cli = daemon, cli
        self.tmp = tempfile.mkdtemp(prefix="fs-cli-")
        self.runtime = os.path.join(self.tmp, "run")
        os.mkdir(self.runtime, 0o700)
        self.socket = os.path.join(self.runtime, "fieldsync", "fieldsyncd.sock")
        self.proc = None
        self.failures = []
        self.checks = 0

    # ---- processes ----
    def start_daemon(self):
        log = open(os.path.join(self.tmp, "daemon.log"), "ab")
        env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(self.tmp, "config"),
                   XDG_RUNTIME_DIR=self.runtime)
        self.proc = subprocess.Popen(
            [self.daemon, "--data-dir", os.path.join(self.tmp, "data"), "--socket",
             self.socket, "--set", "test_fast_kdf=true", "--log-level", "debug"],
            stdout=log, stderr=log, env=env, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("fieldsyncd exited with %d; see %s/daemon.log"
                                   % (self.proc.returncode, self.tmp))
            if os.path.exists(self.socket):
                return
            time.sleep(0.02)  # polling a condition, with a deadline
        raise RuntimeError("fieldsyncd did not create its socket within 20 s")

    def stop_daemon(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def run(self, *args, stdin=None, env=None, pass_fds=(), socket=True):
        e = dict(os.environ)
        e.pop("XDG_RUNTIME_DIR", None)
        if socket:
            e["FIELDSYNC_SOCKET"] = self.socket
        else:
            e.pop("FIELDSYNC_SOCKET", None)
        e.setdefault("TZ", "UTC0")  # times typed and shown are local: a known zone
        e.update(env or {})
        p = subprocess.run([self.cli] + list(args), input=stdin, capture_output=True,
                           text=True, errors="replace", env=e, pass_fds=pass_fds, timeout=60,
                           start_new_session=True)  # no controlling terminal
        return p.returncode, p.stdout, p.stderr

    def json(self, *args, **kw):
        rc, out, err = self.run(*args, "--json", **kw)
        self.expect(rc == 0, "%s --json succeeds" % " ".join(args), err)
        try:
            return json.loads(out) if out.strip() else None
        except ValueError:
            self.expect(False, "%s --json prints JSON" % " ".join(args), out)
            return None

    def run_tty(self, args, answers, cols=80):
        """Runs the CLI on a pseudo-terminal of cols columns, typing answers[i]
        after the i-th prompt (a line ending in ": "). Returns (rc, output)."""
        pid, fd = pty.fork()
        if pid == 0:  # child: the pty is its controlling terminal
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
                env = dict(os.environ, FIELDSYNC_SOCKET=self.socket)
                os.execve(self.cli, [self.cli] + list(args), env)
            finally:
                os._exit(127)
        out, answered = b"", 0
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                out += chunk
                if answered < len(answers) and out.count(b": ") > answered and \
                        out.rstrip(b" ").endswith(b":"):
                    os.write(fd, answers[answered].encode() + b"\n")
                    answered += 1
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        return os.waitstatus_to_exitcode(status), out.decode(errors="replace")

    def json_partial(self, *args):
        """A --json call expected to exit 9 (some rows rejected)."""
        rc, out, err = self.run(*args, "--json")
        self.expect(rc == EXIT_PARTIAL, "%s: exit 9" % " ".join(args), err)
        try:
            return json.loads(out)
        except ValueError:
            return None

    def file(self, name, text, mode=0o600):
        path = os.path.join(self.tmp, name)
        with open(path, "w", newline="") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    # ---- checks ----
    def expect(self, cond, what, detail=""):
        self.checks += 1
        if not cond:
            self.failures.append(what)
            print("FAIL: %s\n      %s" % (what, str(detail).strip()[:800]))

    def expect_run(self, what, args, rc, out_has=None, err_has=None, **kw):
        got, out, err = self.run(*args, **kw)
        self.expect(got == rc, "%s: exit code %d (got %d)" % (what, rc, got), err or out)
        if out_has is not None:
            self.expect(out_has in out, "%s: stdout has %r" % (what, out_has), out)
        if err_has is not None:
            self.expect(err_has in err, "%s: stderr has %r" % (what, err_has), err)
        if rc != 0:
            lines = [l for l in err.splitlines() if l]
            self.expect(len(lines) >= 1 and lines[0].startswith("fieldsync: "),
                        "%s: the error is a `fieldsync: ` sentence" % what, err)
        return out, err


KIND_SUBS = ["list", "show", "add", "edit", "rm"]
COMMANDS = [["status"], ["init"], ["unlock"], ["lock"], ["passwd"], ["check"], ["search"],
            ["followups"], ["report"], ["conflicts", "list"], ["conflicts", "resolve"],
            ["watch"], ["outbox", "retry"], ["outbox", "drop"],
            ["conflicts"], ["outbox"], ["sync"], ["resync"], ["export"], ["import"]]
KINDS = ["accounts", "contacts", "visits", "opportunities", "transactions"]


def test_help_on_every_subcommand(h):
    h.expect_run("--version", ["--version"], 0, out_has="fieldsync ")
    h.expect_run("--help", ["--help"], 0, out_has="usage: fieldsync")
    for cmd in COMMANDS + [[k] for k in KINDS] + [[k, s] for k in KINDS for s in KIND_SUBS]:
        h.expect_run("%s --help" % " ".join(cmd), cmd + ["--help"], 0, out_has="usage:")
    out, _ = h.expect_run("accounts add --help lists the fields", ["accounts", "add", "--help"],
                          0, out_has="--tier NAME")
    for field in ["--name", "--city", "--postal-code", "--phone", "--budget", "--tags"]:
        h.expect(field in out, "accounts add --help lists %s" % field, out)
    h.expect("quoted|contracted" in out, "accounts add --help lists tier values", out)
    h.expect_run("no command", [], EXIT_USAGE, err_has="no command")
    h.expect_run("unknown command", ["frobnicate"], EXIT_USAGE, err_has="unknown command")
    h.expect_run("kind without subcommand", ["accounts"], EXIT_USAGE)
    h.expect_run("unknown option", ["status", "--frob"], EXIT_USAGE, err_has="--frob")


def test_unreachable_daemon_exits_3(h):
    h.expect_run("status, no socket", ["status"], EXIT_UNREACHABLE,
                 err_has="cannot reach fieldsyncd",
                 env={"FIELDSYNC_SOCKET": os.path.join(h.tmp, "nothing.sock")})
    h.expect_run("no XDG_RUNTIME_DIR and no --socket", ["status"], EXIT_UNREACHABLE,
                 err_has="--socket", socket=False)


def test_uninitialized_store(h):
    st = h.json("status")
    h.expect(st and st.get("state") == "uninitialized", "status says uninitialized", st)
    h.expect_run("list before init", ["accounts", "list"], EXIT_NOT_INIT,
                 err_has="fieldsync init")
    h.expect_run("unlock before init", ["unlock"], EXIT_NOT_INIT, err_has="fieldsync init")
    h.expect_run("init without terminal or file", ["init"], EXIT_USAGE,
                 err_has="--passphrase-file", stdin="")
    empty = h.file("empty.pass", "\n")
    h.expect_run("init with an empty passphrase", ["init", "--passphrase-file", empty],
                 EXIT_ERROR, err_has="empty")
    h.expect_run("init with a missing passphrase file",
                 ["init", "--passphrase-file", os.path.join(h.tmp, "none")], EXIT_ERROR,
                 err_has="cannot open passphrase file")


def test_init_and_status_via_xdg_socket(h):
    pf = h.file("pass", PASSPHRASE + "\n")
    out, _ = h.expect_run("init", ["init", "--passphrase-file", pf], 0, out_has="unlocked")
    h.expect(PASSPHRASE not in out, "init does not echo the passphrase", out)
    h.expect_run("init twice", ["init", "--passphrase-file", pf], EXIT_ERROR)
    out, _ = h.expect_run("status through $XDG_RUNTIME_DIR", ["status"], 0,
                          out_has="state:", socket=False, env={"XDG_RUNTIME_DIR": h.runtime})
    h.expect("unlocked" in out and "passphrase" in out, "status shows unlocked + passphrase",
             out)
    st = h.json("status")
    h.expect(st and st.get("state") == "unlocked" and "replica" in st, "status --json", st)
    log = open(os.path.join(h.tmp, "daemon.log"), errors="replace").read()
    h.expect(PASSPHRASE not in log, "the passphrase never reaches the daemon's log")


def add(h, kind, *flags, **kw):
    r = h.json(kind, "add", *flags, **kw)
    h.expect(r and r.get("created") is True and r.get("id"), "%s add creates" % kind, r)
    return (r or {}).get("id", "missing")


def test_records_add_show_edit_rm(h):
    aid = add(h, "accounts", "--name", "Acme Hydraulics", "--tier", "quoted", "--city",
              "Bramley", "--street", "1 Mill Lane", "--postal-code", "LS13 3AA", "--phone",
              "+44 113 000", "--mobile", "+44 7700 900", "--budget", "12500.50 EUR",
              "--staff", "40", "--tags", "pumps", "--tags", "hydraulics",
              "--funnel-stage", "quote", "--source", "referral", "--owner", "rep1")
    h.aid = aid
    r = h.json("accounts", "show", aid)
    rec = (r or {}).get("record", {})
    h.expect(rec.get("name") == "Acme Hydraulics" and rec.get("tier") == "quoted",
             "show: name and tier", rec)
    h.expect(rec.get("address") == {"street": "1 Mill Lane", "postal_code": "LS13 3AA",
                                     "city": "Bramley"}, "show: nested address", rec)
    h.expect(rec.get("phones") == [{"kind": "office", "number": "+44 113 000"},
                                   {"kind": "mobile", "number": "+44 7700 900"}],
             "show: phones with kinds", rec)
    h.expect(rec.get("purchase_plan") == {"budget": {"minor_units": 1250050,
                                                     "currency": "EUR"}},
             "show: money as minor units", rec)
    h.expect(rec.get("tags") == ["pumps", "hydraulics"] and rec.get("funnel_stage") == "quote"
             and rec.get("source") == "referral", "show: tags, enums", rec)
    out, _ = h.expect_run("show as a table", ["accounts", "show", aid], 0,
                          out_has="address.city")
    h.expect("12500.50 EUR" in out, "show formats money", out)
    # edit keeps nested siblings, clears fields
    h.json("accounts", "edit", aid, "--city", "Leeds", "--clear", "tags")
    rec = (h.json("accounts", "show", aid) or {}).get("record", {})
    h.expect(rec.get("address", {}).get("street") == "1 Mill Lane" and
             rec["address"].get("city") == "Leeds", "edit --city keeps the street", rec)
    h.expect("tags" not in rec, "edit --clear tags", rec)
    h.json("accounts", "edit", aid, "--clear", "postal_code", "--set", "size.fleet=3",
           "--json", '{"notes":"met the buyer"}')
    rec = (h.json("accounts", "show", aid) or {}).get("record", {})
    h.expect("postal_code" not in rec.get("address", {}) and rec["address"].get("city") ==
             "Leeds", "edit --clear of a nested field keeps the rest", rec)
    h.expect(rec.get("size") == {"staff": 40, "fleet": 3} and rec.get("notes") ==
             "met the buyer", "edit --set nested and --json", rec)
    # usage errors never reach the daemon
    h.expect_run("bad enum", ["accounts", "add", "--name", "X", "--tier", "hot"], EXIT_USAGE,
                 err_has="quoted")
    h.expect_run("bad number", ["accounts", "add", "--name", "X", "--staff", "-3"],
                 EXIT_USAGE, err_has="size.staff")
    h.expect_run("bad money", ["accounts", "add", "--name", "X", "--budget", "lots"],
                 EXIT_USAGE, err_has="amount")
    h.expect_run("unknown field flag", ["accounts", "add", "--colour", "red"], EXIT_USAGE,
                 err_has="--colour")
    h.expect_run("unknown --set field", ["accounts", "add", "--set", "colour=red"], EXIT_USAGE,
                 err_has="colour")
    h.expect_run("--json not an object", ["accounts", "add", "--json", "{nope"], EXIT_USAGE)
    h.expect_run("add with no fields", ["accounts", "add"], EXIT_USAGE, err_has="no fields")
    out, _ = h.expect_run("--json '{...}' gives fields, not JSON output",
                          ["accounts", "add", "--json", '{"name":"Json Co"}', "--city", "Ely"],
                          0, out_has="created")
    h.expect(out.startswith("account "), "human output after --json fields", out)
    jid = out.split()[1] if out.startswith("account ") else "missing"
    rec = (h.json("accounts", "show", jid) or {}).get("record", {})
    h.expect(rec.get("name") == "Json Co" and rec.get("address") == {"city": "Ely"},
             "--json fields and flags combine", rec)
    h.expect_run("rm the json account", ["accounts", "rm", jid], 0)
    h.expect_run("edit with nothing", ["accounts", "edit", aid], EXIT_USAGE,
                 err_has="nothing to change")
    h.expect_run("edit a missing record", ["accounts", "edit", "nope", "--name", "x"],
                 EXIT_NOT_FOUND)
    h.expect_run("show a missing record", ["accounts", "show", "nope"], EXIT_NOT_FOUND)
    h.expect_run("show needs an id", ["accounts", "show"], EXIT_USAGE)
    h.expect_run("visits add with a bad date",
                 ["visits", "add", "--account-id", aid, "--next-step-date", "2026-02-30"],
                 EXIT_USAGE, err_has="next_step_date")
    # rm
    tmp = add(h, "accounts", "--name", "Temporary")
    h.expect_run("rm", ["accounts", "rm", tmp], 0, out_has="deleted")
    h.expect_run("show after rm", ["accounts", "show", tmp], EXIT_NOT_FOUND, err_has="deleted")
    h.expect_run("rm twice", ["accounts", "rm", tmp], EXIT_NOT_FOUND)
    h.expect_run("edit after rm", ["accounts", "edit", tmp, "--name", "x"], EXIT_NOT_FOUND)


def test_other_kinds_and_lists(h):
    aid = h.aid
    h.cid = add(h, "contacts", "--account-id", aid, "--name", "Dana Buyer", "--title",
                "Head of purchasing", "--buying-role", "buyer", "--level", "decision",
                "--email", "dana@example.com", "--hobbies", "sailing")
    h.vid = add(h, "visits", "--account-id", aid, "--kind", "cold", "--status", "done",
                "--planned-at", "2026-11-20 10:00", "--outcome",
                "needs hydraulic pumps for the new press line", "--next-step", "send quote",
                "--next-step-date", "2026-11-21", "--contact-ids", h.cid)
    h.oid = add(h, "opportunities", "--account-id", aid, "--title", "Press line pumps",
                "--stage", "50", "--amount", "50000 EUR", "--stage-entered-date", "2026-09-01",
                "--decision-maker", "true", "--override", "the other four agreed on the phone")
    add(h, "transactions", "--account-id", aid, "--date", "2026-10-01", "--amount",
        "1999.99 EUR", "--description", "spare seals")
    v = (h.json("visits", "show", h.vid) or {}).get("record", {})
    h.expect(v.get("planned_at") == calendar.timegm((2026, 11, 20, 10, 0, 0)) and v.get("kind") == "cold" and
             v.get("contact_ids") == [h.cid], "visit: time, enum, repeated id", v)
    o = (h.json("opportunities", "show", h.oid) or {}).get("record", {})
    h.expect(o.get("stage") == "pct_50" and o.get("criteria") == {"decision_maker": True},
             "opportunity: stage alias 50 and nested bool", o)
    h.expect(o.get("stage_history") == [{"stage": "pct_50", "date": "2026-09-01", "override":
                                         "the other four agreed on the phone"}],
             "opportunity: the override is recorded with the move", o)
    for kind in ["contacts", "visits", "opportunities", "transactions"]:
        items = (h.json(kind, "list", "--account", aid) or {}).get("items", [])
        h.expect(len(items) == 1, "%s list --account finds one" % kind, items)
        items = (h.json(kind, "list", "--account", "other") or {}).get("items", [])
        h.expect(items == [], "%s list --account other finds none" % kind, items)
    for i in range(5):
        add(h, "accounts", "--name", "Zeta %d" % i, "--tier", "target", "--city", "York")
    page = h.json("accounts", "list", "--tier", "target", "--limit", "2")
    h.expect(len(page.get("items", [])) == 2 and isinstance(page.get("next_cursor"), str),
             "list --limit 2 gives a page and a cursor", page)
    allp = h.json("accounts", "list", "--tier", "target", "--limit", "2", "--all")
    names = [i["name"] for i in allp.get("items", [])]
    h.expect(names == ["Zeta %d" % i for i in range(5)] and allp.get("next_cursor") is None,
             "list --all follows cursors to the end, in name order", names)
    desc = h.json("accounts", "list", "--city", "York", "--order", "desc", "--all")
    h.expect([i["name"] for i in desc.get("items", [])] == names[::-1], "list --order desc")
    h.expect_run("list bad filter value", ["accounts", "list", "--tier", "hot"], EXIT_USAGE)
    h.expect_run("list bad limit", ["accounts", "list", "--limit", "0"], EXIT_USAGE)
    h.expect_run("list bad order", ["accounts", "list", "--order", "up"], EXIT_USAGE)
    h.expect_run("list filter of another kind", ["contacts", "list", "--tier", "quoted"],
                 EXIT_USAGE)
    out, err = h.expect_run("list as a table", ["accounts", "list", "--tier", "target",
                                                "--limit", "2"], 0, out_has="NAME")
    lines = out.splitlines()
    h.expect(len(lines) == 3 and lines[0].startswith("ID") and
             lines[1].index("Zeta") == lines[0].index("NAME"), "table columns align", out)
    h.expect("--all" in err, "a partial page says how to get more", err)


def test_search_followups_report(h):
    hits = (h.json("search", "hydraul") or {}).get("hits", [])
    h.expect(any(x.get("id") == h.vid for x in hits) and
             any(x.get("id") == h.aid for x in hits), "search finds visit note and account",
             hits)
    h.expect_run("search as a table", ["search", "dana"], 0, out_has="contact")
    hit = [x for x in hits if x.get("id") == h.vid]
    h.expect(hit and hit[0].get("account_id") == h.aid and
             hit[0].get("account_name") == "Acme Hydraulics", "a hit names its account", hits)
    out, _ = h.expect_run("search table: the account of a visit note", ["search", "pumps"], 0,
                          out_has="Acme Hydraulics")
    zid = add(h, "accounts", "--name", "华东液压机械有限公司", "--city", "上海")
    zv = add(h, "visits", "--account-id", zid, "--outcome", "客户希望在北京建立第二条生产线")
    for word, want in (("北京", [zv]), ("液压", [zid]), ("生产线", [zv]), ("京", [zv]),
                       ("北海", [])):
        got = [x["id"] for x in (h.json("search", word) or {}).get("hits", [])]
        h.expect(got == want, "search %s finds a Chinese word inside a sentence" % word, got)
    out, _ = h.expect_run("search 北京 as a table", ["search", "北京"], 0,
                          out_has="华东液压机械有限公司")
    h.expect("[北京]" in out, "the CJK match is marked in the snippet", out)
    h.expect_run("rm the Chinese account", ["accounts", "rm", zid, "--cascade"], 0)
    h.expect_run("search with no hits says so", ["search", "zzyzx"], 0,
                 out_has='no hits for "zzyzx"')
    h.expect_run("search without words", ["search"], EXIT_USAGE)
    h.expect_run("search bad limit", ["search", "x", "--limit", "x"], EXIT_USAGE)
    items = (h.json("followups", "--until", "2026-11-30") or {}).get("items", [])
    h.expect([i.get("visit_id") for i in items] == [h.vid], "followups due by a date", items)
    items = (h.json("followups", "--until", "2026-11-01") or {}).get("items", [])
    h.expect(items == [], "followups before the date: none", items)
    h.expect_run("followups table when none are due", ["followups", "--until", "2026-11-01"], 0,
                 out_has="no follow-ups due by 2026-11-01")
    out, _ = h.expect_run("followups table", ["followups", "--until", "2026-11-30"], 0,
                          out_has="send quote")
    h.expect("Dana Buyer" in out and "+44 7700 900" in out,
             "followups show the contact to call and a number (the account's mobile)", out)
    h.expect_run("followups bad date", ["followups", "--until", "soon"], EXIT_USAGE)
    rep = h.json("report", "pipeline", "--today", "2026-11-23", "--cycle-days", "28")
    stages = {s["stage"]: s for s in (rep or {}).get("stages", [])}
    h.expect(len(stages) == 8 and stages.get("pct_50", {}).get("count") == 1 and
             stages["pct_50"].get("amounts") == [{"currency": "EUR", "minor_units": 5000000}],
             "pipeline counts per stage", rep)
    h.expect(h.oid in [o.get("id") for o in (rep or {}).get("stale", [])],
             "pipeline lists the stale opportunity", rep)
    out, _ = h.expect_run("pipeline table", ["report", "pipeline", "--today", "2026-11-23"], 0)
    h.expect("50%" in out and "pct_50" not in out and "sales opportunity" in out and
             "sales_opportunity" not in out, "the stages by their labels", out)
    h.expect_run("report without a name", ["report"], EXIT_USAGE)
    h.expect_run("unknown report", ["report", "quarterly"], EXIT_USAGE)
    h.expect_run("report bad cycle", ["report", "pipeline", "--cycle-days", "0"], EXIT_USAGE)
    h.expect_run("weeks are for the weekly report", ["report", "pipeline", "--weeks", "2"],
                 EXIT_USAGE)
    h.expect_run("report bad weeks", ["report", "weekly", "--weeks", "53"], EXIT_USAGE)
    h.expect_run("team table", ["report", "team", "--today", "2026-11-23"], 0, out_has="REP")
    h.expect_run("weekly tables", ["report", "weekly", "--today", "2026-11-23"], 0,
                 out_has="FUNNEL STAGE")


def test_account_delete_says_what_happens_to_its_records(h):
    aid = add(h, "accounts", "--name", "Doomed Ltd")
    cid = add(h, "contacts", "--account-id", aid, "--name", "Lee Doomed")
    vid = add(h, "visits", "--account-id", aid, "--next-step", "call")
    h.expect_run("rm an account with records under it", ["accounts", "rm", aid], EXIT_ERROR,
                 err_has="still has 1 contact, 1 visit")
    _, err = h.expect_run("... says how to delete them too", ["accounts", "rm", aid], EXIT_ERROR)
    h.expect("--cascade" in err, "the refusal names --cascade", err)
    for kind, rid in (("accounts", aid), ("contacts", cid), ("visits", vid)):
        h.expect_run("refused: %s still there" % kind, [kind, "show", rid], 0)
    h.expect_run("--cascade is for accounts", ["contacts", "rm", cid, "--cascade"], EXIT_ERROR,
                 err_has="cascade")
    h.expect_run("rm --cascade", ["accounts", "rm", aid, "--cascade"], 0,
                 out_has="deleted, with 1 contact, 1 visit")
    for kind, rid in (("accounts", aid), ("contacts", cid), ("visits", vid)):
        h.expect_run("cascade: %s gone" % kind, [kind, "show", rid], EXIT_NOT_FOUND)
    items = (h.json("contacts", "list", "--account", aid) or {}).get("items")
    h.expect(items == [], "no contact left listed under the deleted account", items)


def test_dates_and_times_are_local(h):
    tz, hours, day = zone_off_utc()
    env = {"TZ": tz}
    for text, offset in (("today", 0), ("tomorrow", 1), ("+3", 3)):
        r = h.json("followups", "--until", text, env=env)
        h.expect(r and r.get("until") == day(offset),
                 "--until %s is the local day in %s (%s)" % (text, tz, day(offset)), r)
    vid = add(h, "visits", "--account-id", h.aid, "--planned-at", "2026-11-20 10:00",
              "--next-step", "overdue call", "--next-step-date", day(-2), env=env)
    v = (h.json("visits", "show", vid) or {}).get("record", {})
    want = calendar.timegm((2026, 11, 20, 10, 0, 0)) - hours * 3600
    h.expect(v.get("planned_at") == want, "a typed time is local to TZ", v)
    out, _ = h.expect_run("a time shows in the local zone", ["visits", "show", vid], 0,
                          out_has="2026-11-20 10:00 TST", env=env)
    out, _ = h.expect_run("UTC when TZ says so", ["visits", "show", vid], 0,
                          out_has="2026-11-19 20:00 UTC" if hours > 0 else "2026-11-20 22:00 UTC")
    for typed in ("2026-11-20 10:00 TST", "%s 10:00%+03d:00" % ("2026-11-20", hours)):
        r = h.json("visits", "edit", vid, "--planned-at", typed, env=env)
        h.expect(r and r["record"].get("planned_at") == want, "%r reads back" % typed, r)
    r = h.json("followups", env=env) or {}
    mine = [i for i in r.get("items", []) if i["visit_id"] == vid]
    late = (datetime.date.fromisoformat(r.get("today", day())) -
            datetime.date.fromisoformat(day(-2))).days  # the daemon's own today
    h.expect(mine and mine[0]["overdue"] and mine[0]["days_overdue"] == late,
             "overdue by the days since it was due", r)
    h.expect_run("overdue follow-ups say by how much", ["followups"], 0,
                 out_has="%d day%s" % (late, "" if late == 1 else "s"), env=env)
    _, err = h.expect_run("a partial list of follow-ups", ["followups", "--limit", "1"], 0,
                          env=env)
    h.expect("1 of 2 follow-ups" in err and "--limit" in err, "a partial list says so", err)
    h.expect_run("rm the local visit", ["visits", "rm", vid], 0)


def test_conflicts_outbox_sync(h):
    c = h.json("conflicts", "list")
    h.expect(c == {"records": []} or (c and c.get("records") == []), "no conflicts", c)
    h.expect_run("conflicts list table", ["conflicts", "list"], 0, out_has="no conflicts")
    h.expect_run("resolve a field not in conflict",
                 ["conflicts", "resolve", "account", h.aid, "tier", "--value", "quoted"],
                 EXIT_NOT_FOUND)
    h.expect_run("resolve without a choice", ["conflicts", "resolve", "account", h.aid, "tier"],
                 EXIT_USAGE, err_has="exactly one")
    h.expect_run("resolve --keep on a field", ["conflicts", "resolve", "account", h.aid, "tier",
                                               "--keep"], EXIT_USAGE, err_has="alive")
    h.expect_run("resolve bad kind", ["conflicts", "resolve", "thing", "x", "y", "--keep"],
                 EXIT_USAGE)
    h.expect_run("conflicts without subcommand lists them", ["conflicts"], 0,
                 out_has="no conflicts")
    h.expect_run("conflicts with an unknown subcommand", ["conflicts", "show"], EXIT_USAGE,
                 err_has="list or resolve")
    ob = h.json("outbox")
    h.expect(ob and ob["counts"]["pending"] == len(ob["entries"]) >= 10,
             "outbox lists pending local changes", ob)
    ob = h.json("outbox", "--status", "refused")
    h.expect(ob and ob["entries"] == [], "outbox --status refused: none", ob)
    h.expect_run("outbox table", ["outbox"], 0, out_has="pending")
    h.expect_run("outbox bad status", ["outbox", "--status", "lost"], EXIT_USAGE)
    h.expect_run("outbox list", ["outbox", "list", "--status", "pending"], 0, out_has="pending")
    h.expect_run("outbox retry of a pending entry", ["outbox", "retry", "1"], EXIT_NOT_FOUND,
                 err_has="not a refused entry")
    h.expect_run("outbox drop of a pending entry", ["outbox", "drop", "1"], EXIT_NOT_FOUND)
    h.expect_run("outbox drop needs a number", ["outbox", "drop", "x"], EXIT_USAGE)
    h.expect_run("outbox retry needs SEQ", ["outbox", "retry"], EXIT_USAGE)
    for cmd in (["sync"], ["resync"], ["resync", "--full"]):
        h.expect_run(" ".join(cmd), cmd, EXIT_NO_SERVER, err_has="no server configured")


def test_lock_unlock_passwd(h):
    pf = os.path.join(h.tmp, "pass")
    h.expect_run("lock", ["lock"], 0, out_has="locked")
    h.expect_run("lock twice", ["lock"], 0, err_has="already locked")
    for cmd in (["accounts", "list"], ["accounts", "show", h.aid], ["search", "x"],
                ["export"], ["outbox"], ["sync"]):
        h.expect_run("%s while locked" % " ".join(cmd), cmd, EXIT_LOCKED,
                     err_has="the store is locked: run `fieldsync unlock`")
    out, _ = h.expect_run("export while locked writes nothing",
                          ["export", "--kind", "accounts", "--format", "csv"], EXIT_LOCKED)
    h.expect(out == "", "no partial CSV on stdout", out)
    bad = h.file("bad.pass", "wrong\n")
    h.expect_run("unlock wrong passphrase", ["unlock", "--passphrase-file", bad], EXIT_AUTH,
                 err_has="passphrase")
    h.expect_run("unlock without terminal", ["unlock"], EXIT_USAGE, stdin="")
    h.expect_run("unlock both sources", ["unlock", "--passphrase-file", pf, "--passphrase-fd",
                                         "0"], EXIT_USAGE)
    r, w = os.pipe()
    os.write(w, (PASSPHRASE + "\r\n").encode())
    os.close(w)
    try:
        h.expect_run("unlock --passphrase-fd", ["unlock", "--passphrase-fd", str(r)], 0,
                     out_has="unlocked", pass_fds=(r,))
    finally:
        os.close(r)
    h.expect_run("unlock twice", ["unlock", "--passphrase-file", pf], 0,
                 err_has="already unlocked")
    h.expect(len((h.json("accounts", "list") or {}).get("items", [])) == 6,
             "records are back after unlock")
    new = h.file("new.pass", "new passphrase\n")
    h.expect_run("passwd wrong old", ["passwd", "--passphrase-file", bad,
                                      "--new-passphrase-file", new], EXIT_AUTH)
    h.expect_run("passwd", ["passwd", "--passphrase-file", pf, "--new-passphrase-file", new],
                 0, out_has="changed")
    h.expect_run("lock", ["lock"], 0)
    h.expect_run("old passphrase refused", ["unlock", "--passphrase-file", pf], EXIT_AUTH)
    h.expect_run("new passphrase works", ["unlock", "--passphrase-file", new], 0)


def test_terminal_prompts_without_echo_and_tables_fit(h):
    new = "new passphrase"
    h.expect_run("lock for the tty test", ["lock"], 0)
    rc, out = h.run_tty(["unlock"], ["wrong one", new])
    h.expect(rc == 0 and out.count("Passphrase:") == 2 and "unlocked" in out,
             "tty unlock: a second try after a wrong passphrase", out)
    h.expect("wrong one" not in out and new not in out, "tty: passphrases are not echoed", out)
    rc, out = h.run_tty(["passwd"], [new, "first", "second"])
    h.expect(rc == EXIT_ERROR and "differ" in out and "Repeat it:" in out,
             "tty passwd: the new passphrase is asked twice and must match", out)
    rc, out = h.run_tty(["accounts", "list", "--all"], [], cols=50)
    lines = [l for l in out.replace("\r", "").splitlines() if l]
    table = [l for l in lines if not l.startswith("fieldsync: ")]
    h.expect(rc == 0 and len(table) >= 7 and all(len(l) <= 50 for l in table) and
             any("..." in l for l in table), "tty tables are cut to the terminal width", out)
    ids = {i["id"] for i in h.json("accounts", "list", "--all")["items"]}
    h.expect(len(ids) >= 6 and {l.split()[0] for l in table[1:]} == ids,
             "a narrow terminal never cuts the ids the next command needs", out)
    h.expect(any("columns left out" in l for l in lines),
             "the columns left out for a narrow terminal are mentioned", out)
    rc, out = h.run_tty(["contacts", "list", "--account", h.aid], [], cols=40)
    h.expect(rc == 0 and h.cid in out and h.aid in out, "contact and account ids whole at 40",
             out)
    rc, out = h.run_tty(["accounts", "show", h.aid, "--json"], [])
    h.expect(rc == 0 and '\n  "kind"' in out.replace("\r", ""), "tty --json is indented", out)


def test_watch_sees_another_clients_changes(h):
    env = dict(os.environ, FIELDSYNC_SOCKET=h.socket)
    w = subprocess.Popen([h.cli, "watch", "--json", "--count", "2", "--topics",
                          "record.changed"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env, text=True, start_new_session=True)
    try:
        ready, _, _ = select.select([w.stderr], [], [], 20)  # subscribed: it says so
        line = w.stderr.readline() if ready else ""
        h.expect("watching" in line, "watch reports that it is subscribed", line)
        wid = add(h, "accounts", "--name", "Watched Ltd")
        h.expect_run("rm watched", ["accounts", "rm", wid], 0)
        out, err = w.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        w.kill()
        out, err = w.communicate()
    notes = [json.loads(l) for l in out.splitlines() if l.strip()]
    h.expect(w.returncode == 0 and len(notes) == 2, "watch --count 2 exits after two", (out, err))
    if len(notes) == 2:
        h.expect(all(n["method"] == "record.changed" for n in notes) and
                 notes[0]["params"].get("id") == wid and
                 notes[0]["params"].get("origin") == "local" and
                 notes[1]["params"].get("deleted") is True,
                 "watch sees another client's put and delete", notes)
    h.expect_run("watch with an unknown topic", ["watch", "--topics", "gossip"], EXIT_ERROR,
                 err_has="unknown topic")
    h.expect_run("watch bad count", ["watch", "--count", "0"], EXIT_USAGE)


def run_to_closed_pipe(h, args):
    """Runs the CLI with stdout a pipe whose reader is already gone (`| head`
    that stopped reading): (exit code, stderr)."""
    r, w = os.pipe()
    os.close(r)
    env = dict(os.environ, FIELDSYNC_SOCKET=h.socket)
    try:
        p = subprocess.run([h.cli] + args, stdout=w, stderr=subprocess.PIPE, env=env,
                           text=True, timeout=60, start_new_session=True)
    finally:
        os.close(w)
    return p.returncode, p.stderr


def test_a_closed_pipe_ends_quietly(h):
    for args in (["export"], ["accounts", "list", "--all"], ["search", "hydraul"],
                 ["accounts", "show", h.aid, "--json"], ["status"]):
        rc, err = run_to_closed_pipe(h, args)
        h.expect(rc == EXIT_PIPE and err == "", "%s | head: exit 141, nothing on stderr"
                 % " ".join(args), (rc, err))
    # watch notices the closed pipe at its next line and stops
    r, w = os.pipe()
    os.close(r)
    env = dict(os.environ, FIELDSYNC_SOCKET=h.socket)
    watch = subprocess.Popen([h.cli, "watch", "--topics", "record.changed"], stdout=w,
                             stderr=subprocess.PIPE, env=env, text=True,
                             start_new_session=True)
    os.close(w)
    ready, _, _ = select.select([watch.stderr], [], [], 20)
    h.expect(ready and "watching" in watch.stderr.readline(), "watch subscribed")
    rid = add(h, "accounts", "--name", "Piped Ltd")
    try:
        rc = watch.wait(timeout=20)
        h.expect(rc == EXIT_PIPE and watch.stderr.read() == "",
                 "watch | head stops quietly at its next line", rc)
    except subprocess.TimeoutExpired:
        watch.kill()
        watch.wait()
        h.expect(False, "watch | head stops quietly at its next line (it kept running)")
    h.expect_run("rm piped", ["accounts", "rm", rid], 0)


def read_csv(text):
    return list(csv.reader(io.StringIO(text)))


def test_export_import_round_trip(h):
    rc, out, err = h.run("export")
    lines = [json.loads(l) for l in out.splitlines()]
    kinds = sorted({l["kind"] for l in lines})
    h.expect(rc == 0 and kinds == ["account", "contact", "opportunity", "transaction", "visit"]
             and all(l["record"]["id"] == l["id"] for l in lines), "export jsonl: all kinds",
             err)
    h.expect(sum(1 for l in lines if l["kind"] == "account") == 6, "export: 6 accounts")
    path = os.path.join(h.tmp, "accounts.csv")
    h.expect_run("export csv to a file", ["export", "--kind", "accounts", "--output", path], 0,
                 err_has="exported 6")
    h.expect(stat.S_IMODE(os.stat(path).st_mode) == 0o600, "the export file is mode 0600")
    rows = read_csv(open(path, newline="").read())
    h.expect(rows[0][0] == "id" and "name" in rows[0] and "city" in rows[0], "csv header",
             rows[0])
    # Re-import without ids: each row is the account of the same name, so
    # importing the file again (twice) changes nothing and makes no duplicate.
    body = [r[1:] for r in rows]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(body)
    noid = h.file("noid.csv", buf.getvalue())
    for _ in range(2):
        r = h.json("import", "accounts", noid)
        h.expect(r and r.get("imported") == 6 and r.get("updated") == 6 and
                 r.get("rejected") == 0, "import 6 back onto the accounts of the same name", r)
    rc, out, _ = h.run("export", "--kind", "accounts", "--format", "csv")
    again = sorted(tuple(x[1:]) for x in read_csv(out)[1:])
    h.expect(again == sorted(tuple(x) for x in body[1:]),
             "importing an export again makes no duplicates", again[:3])
    # --new: every field must travel through CSV into new records.
    r = h.json("import", "accounts", noid, "--new")
    h.expect(r and r.get("imported") == 6 and r.get("updated") == 0, "import --new 6", r)
    rc, out, _ = h.run("export", "--kind", "accounts", "--format", "csv")
    again = sorted(tuple(x[1:]) for x in read_csv(out)[1:])
    h.expect(again == sorted([tuple(x) for x in body[1:]] * 2),
             "csv export -> import --new -> export gives the same rows", again[:3])
    r = h.json_partial("import", "accounts", noid)
    h.expect(r and r.get("rejected") == 6 and "matches 2 accounts by name" in
             r["errors"][0]["message"], "two accounts of one name: the row says so", r)


BAD_CSV = (
    "\ufeffname,Industry,street,postal code,city,phone,website,tier,tags\r\n"
    "\"Bolt, Nut & Co\",fasteners,\"2 \"\"Old\"\" Road\",BD1 1AA,Bradford,+44 1274,"
    "bolt.example,prospect,a;b\r\n"                             # line 2: quotes, commas
    "Cog Works,gears,\"Unit 4\nDock Lane\",HU1,Hull,,,target,\r\n"  # 3-4: embedded newline
    "Hot Lead Ltd,,,,,,,hot,\n"                                 # line 5: bad tier
    "Short Row,only\n"                                          # line 6: field count
    "\"Broken \"quote,x,,,,,,target,\n"                         # line 7: text after quote
    "\n"                                                        # line 8: blank, skipped
    "Dynamo Ltd,motors,,,Derby,,,contracted,\n"                 # line 9: good
)


def test_import_with_bad_rows(h):
    path = h.file("leads.csv", BAD_CSV)
    before = len((h.json("accounts", "list", "--all", "--limit", "1000") or {})["items"])
    out, err = h.expect_run("import --dry-run", ["import", "accounts", path, "--dry-run"],
                            EXIT_PARTIAL, out_has="would import 3")
    after = len((h.json("accounts", "list", "--all", "--limit", "1000") or {})["items"])
    h.expect(after == before, "--dry-run imports nothing", (before, after))
    out, err = h.expect_run("import with bad rows", ["import", "accounts", path], EXIT_PARTIAL,
                            out_has="imported 3 accounts, 3 rows rejected")
    for line, word in ((5, "hot"), (6, "header has"), (7, "quote")):
        h.expect("line %d: " % line in err and word in err,
                 "bad row reported with line %d" % line, err)
    h.expect("line 2:" not in err and "line 3:" not in err and "line 9:" not in err,
             "good rows are not reported", err)
    found = {i["name"]: i for i in h.json("accounts", "list", "--all", "--limit",
                                          "1000")["items"]}
    bolt = found.get("Bolt, Nut & Co", {})
    h.expect(bolt.get("address", {}).get("street") == '2 "Old" Road' and
             bolt.get("tags") == ["a", "b"] and bolt.get("tier") == "prospect" and
             bolt.get("phones") == [{"kind": "office", "number": "+44 1274"}],
             "quoted fields, escaped quotes, lists and phone imported", bolt)
    h.expect(found.get("Cog Works", {}).get("address", {}).get("street") ==
             "Unit 4\nDock Lane", "an embedded newline survives", found.get("Cog Works"))
    h.expect("Dynamo Ltd" in found and "Hot Lead Ltd" not in found,
             "rows after bad ones still import; bad ones do not")
    r = h.json_partial("import", "accounts", path, "--dry-run")
    h.expect(r and [e["line"] for e in r.get("errors", [])] == [5, 6, 7],
             "import --json lists errors with line numbers", r)
    unk = h.file("unknown.csv", "name,colour\nA,red\n")
    h.expect_run("import unknown column", ["import", "accounts", unk], EXIT_USAGE,
                 err_has="colour")
    h.expect_run("import --ignore-unknown", ["import", "accounts", unk, "--ignore-unknown",
                                             "--dry-run"], 0, out_has="would import 1")
    h.expect_run("import a missing file", ["import", "accounts", os.path.join(h.tmp, "no")],
                 EXIT_ERROR, err_has="cannot open")
    h.expect_run("import an empty file", ["import", "accounts", h.file("e.csv", "")],
                 EXIT_USAGE, err_has="empty")
    h.expect_run("import unknown kind", ["import", "things", path], EXIT_USAGE)
    h.expect_run("import from stdin", ["import", "accounts", "-"], 0,
                 out_has="imported 1 account", stdin="name,city\nStdin Co,Leeds\n")
    h.expect_run("export csv needs a kind", ["export", "--format", "csv"], EXIT_USAGE)


def test_import_text_outside_the_limits(h):
    path = os.path.join(h.tmp, "limits.csv")
    with open(path, "wb") as f:
        f.write(b"id,name,notes\n"
                b"imp-1,Long Notes Ltd," + b"n" * 70000 + b"\n"  # line 2: notes over 64 KiB
                b"imp-\xff,Bad Id Ltd,\n"                       # line 3: an id not in UTF-8
                b"imp-3,Caf\xe9 Latin-1,\n"                     # line 4: a Latin-1 name
                b"imp-4," + b"N" * 600 + b",\n")                # line 5: a long name, fine
    out, err = h.expect_run("import text outside the limits", ["import", "accounts", path],
                            EXIT_PARTIAL, out_has="imported 1 account, 3 rows rejected")
    for line, words in ((2, "notes is 70000 bytes long, over the limit of 65536"),
                        (3, "column 1 is not UTF-8"), (4, "column 2 is not UTF-8")):
        h.expect("line %d: " % line in err and words in err,
                 "row %d rejected with %r" % (line, words), err)
    # every account, one per page: the cursor of a 600-byte name works
    pages = h.json("accounts", "list", "--all", "--limit", "1")
    names = [i.get("name", "") for i in (pages or {}).get("items", [])]
    h.expect("N" * 600 in names and "Long Notes Ltd" not in names and
             "Bad Id Ltd" not in names, "only the good row is in, and listed", names[:3])


STRAY_QUOTES = (
    "name,city\n"
    "\"Quote Acme,Leeds\n"       # line 2: a stray quote would swallow lines 3-4
    "Quote Bolt,York\n"
    "Quote Cog,\"Hull\"\n"
    "Quote Dyn \"Best,Derby\n"   # line 5: a quote inside an unquoted field
    "Quote Eel,Ely\n"
)


def test_import_reports_stray_quotes_on_their_rows(h):
    path = h.file("stray.csv", STRAY_QUOTES)
    r = h.json_partial("import", "accounts", path)
    h.expect(r and r.get("imported") == 3 and [e["line"] for e in r["errors"]] == [2, 5],
             "stray quotes are reported on lines 2 and 5 only", r)
    h.expect(r and "stray quote" in r["errors"][0]["message"], "line 2 says stray quote", r)
    names = {i["name"]: i.get("address", {}).get("city")
             for i in h.json("accounts", "list", "--all")["items"]
             if i.get("name", "").startswith("Quote ")}
    h.expect(names == {"Quote Bolt": "York", "Quote Cog": "Hull", "Quote Eel": "Ely"},
             "the rows after a stray quote import whole", names)
    contacts = h.file("contacts.csv", "account_id,name,title\n%s,Pat Twice,buyer\n"
                      "%s,Pat Twice,head buyer\n" % (h.aid, h.aid))
    r = h.json("import", "contacts", contacts)
    h.expect(r and r["imported"] == 2 and r["updated"] == 1,
             "a contact named twice in one file is made once, then updated", r)
    r = h.json("import", "contacts", contacts)
    h.expect(r and r["updated"] == 2, "the same contacts again: updated", r)
    pats = [c for c in h.json("contacts", "list", "--account", h.aid, "--all")["items"]
            if c.get("name") == "Pat Twice"]
    h.expect(len(pats) == 1 and pats[0].get("title") == "head buyer",
             "one contact per account and name, with the last values", pats)


def test_check_and_a_damaged_store(h):
    db = os.path.join(h.tmp, "data", "fieldsync.db")
    new = os.path.join(h.tmp, "new.pass")
    out, _ = h.expect_run("check a sound store", ["check"], 0, out_has="store ok: ")
    r = h.json("check")
    h.expect(r and r["ok"] and r["problems"] == [] and r["pages"] > 1, "check --json", r)
    # the right passphrase on a damaged database: exit 1 with the page, no retry
    h.stop_daemon()
    flip_byte(db, 300)  # page 1's ciphertext
    h.start_daemon()
    h.expect_run("unlock a damaged store", ["unlock", "--passphrase-file", new], EXIT_ERROR,
                 err_has="page 1 of %s failed authentication" % db)
    rc, out = h.run_tty(["unlock"], ["new passphrase", "new passphrase"])
    h.expect(rc == EXIT_ERROR and out.count("Passphrase:") == 1 and "is intact" in out,
             "tty unlock of a damaged store does not ask again", out)
    flip_byte(db, 300)
    h.expect_run("unlock once repaired", ["unlock", "--passphrase-file", new], 0)
    # a page damaged under the running daemon: check names it, exit 10
    pgno = r["pages"] - 1
    flip_byte(db, (pgno - 1) * 4096 + 100)
    out, err = h.expect_run("check a damaged store", ["check"], EXIT_DAMAGED,
                            out_has="page %d of %s failed authentication" % (pgno, db),
                            err_has="the store is damaged")
    flip_byte(db, (pgno - 1) * 4096 + 100)


TESTS = [test_help_on_every_subcommand, test_unreachable_daemon_exits_3,
         test_uninitialized_store, test_init_and_status_via_xdg_socket,
         test_records_add_show_edit_rm, test_other_kinds_and_lists,
         test_search_followups_report, test_dates_and_times_are_local,
         test_account_delete_says_what_happens_to_its_records,
         test_conflicts_outbox_sync, test_lock_unlock_passwd,
         test_terminal_prompts_without_echo_and_tables_fit,
         test_watch_sees_another_clients_changes, test_a_closed_pipe_ends_quietly,
         test_export_import_round_trip,
         test_import_with_bad_rows, test_import_text_outside_the_limits,
         test_import_reports_stray_quotes_on_their_rows, test_check_and_a_damaged_store]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--cli", required=True)
    args = ap.parse_args()
    h = Harness(args.daemon, args.cli)
    t0 = time.monotonic()
    try:
        h.start_daemon()
        for t in TESTS:
            try:
                t(h)
            except Exception:  # one broken test must not hide the others' results
                h.expect(False, "%s raised" % t.__name__, traceback.format_exc())
    finally:
        h.stop_daemon()
    print("%d checks, %d failed, %.1f s" % (h.checks, len(h.failures), time.monotonic() - t0))
    if h.failures:
        print("kept for inspection: %s (daemon.log, test files)" % h.tmp)
    if not h.failures:
        shutil.rmtree(h.tmp, ignore_errors=True)
    return 1 if h.failures else 0


if __name__ == "__main__":
    sys.exit(main())
