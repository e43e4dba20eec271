#!/usr/bin/env python3
"""Several fieldsync-server instances on one PostgreSQL database behind
haproxy, with real fieldsyncd daemons syncing through it.

A throwaway cluster (tests/pg/pgcluster.py), two `serve` processes on it, an
haproxy on loopback in front (config written here), three devices of one
rep and one of the rep's manager (put in the team with `team add`). The devices write in rounds (new
accounts, contacts, and edits of shared accounts) and sync all at once;
halfway one instance is killed with SIGKILL while their syncs are in flight.
In the end every device holds identical books, and every change a device saw
acknowledged (its outbox emptied by a successful sync) is on every device and
in the database. Also: admin commands on PostgreSQL (user add, team add,
enroll-code, device list, gc) and `migrate` from a SQLite file.

usage: test_multi_instance.py SERVER DAEMON CLI
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "pg"))
sys.path.insert(0, HERE)
from fsd import TestFailure, check, print_logs, wait_for  # noqa: E402
from pgcluster import Cluster  # noqa: E402
from test_sync_daemons import Device  # noqa: E402

ROUNDS = 6
KILL_AFTER = 3  # rounds before instance 0 is killed
SYNC_TIMEOUT = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Instance:
    def __init__(self, binary, db, root, n):
        self.port_file = os.path.join(root, "server%d.port" % n)
        self.log = os.path.join(root, "server%d.log" % n)
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen([binary, "--db", db, "serve", "--listen", "127.0.0.1:0",
                                          "--threads", "2", "--port-file", self.port_file],
                                         stdout=logf, stderr=logf, stdin=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(self.port_file), 20, "server %d's port file" % n)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)


class Front:
    """haproxy on loopback, round robin over the instances, health-checked."""

    def __init__(self, instances, root):
        self.port = free_port()
        cfg = os.path.join(root, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write("global\n  maxconn 512\n"
                    "defaults\n  mode http\n  timeout connect 1s\n  timeout client 60s\n"
                    "  timeout server 60s\n  retries 3\n  option redispatch\n"
                    "frontend sync\n  bind 127.0.0.1:%d\n  default_backend servers\n"
                    "backend servers\n  balance roundrobin\n  option httpchk GET /v1/health\n"
                    % self.port)
            for i, inst in enumerate(instances):
                f.write("  server s%d 127.0.0.1:%d check inter 200ms fall 1 rise 2\n" %
                        (i, inst.port))
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", cfg], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.listening, 10, "haproxy")

    def listening(self):
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Admin:
    """What Device needs of a server: admin commands and the URL to enroll at.
    Device enrolls as "rep"; user names another user for its codes."""

    def __init__(self, binary, db, url, user="rep"):
        self.binary, self.db, self.url, self.user = binary, db, url, user

    def admin(self, *args):
        if args[:1] == ("enroll-code",):
            args = ("enroll-code", self.user)
        out = subprocess.run([self.binary, "--db", self.db] + list(args), capture_output=True,
                             text=True)
        check(out.returncode == 0, "fieldsync-server %s: %s" % (" ".join(args), out.stderr))
        return out.stdout.strip()


def sync_until_ok(devices):
    """Starts a sync on every device at once, then repeats it on those whose
    run failed (a killed instance) until all succeeded with empty outboxes."""
    pending = list(devices)
    for _ in range(10):
        for d in pending:
            d.c.notes = [n for n in d.c.notes if n.get("method") != "sync.done"]
            d.c.call("sync.now")
        failed = [d for d in pending if not d.wait_done()["ok"]]
        failed += [d for d in pending if d not in failed and
                   d.c.call("sync.status")["pending"] != 0]
        if not failed:
            return
        pending = failed
    raise TestFailure("devices never synced: %s" % [d.name for d in pending])


def book(dev):
    """Every account and contact with its visible fields, by id."""
    out = {}
    for kind in ("account", "contact"):
        for it in dev.c.call("record.list", {"kind": kind, "limit": 1000})["items"]:
            out[(kind, it["id"])] = dev.get(kind, it["id"])["record"]
    return out


def write_round(devs, r, expected):
    for i, d in enumerate(devs):
        acc = "acc-d%d-r%d" % (i, r)
        d.put("account", acc, {"name": "Account %d/%d" % (i, r)})
        d.put("contact", "con-d%d-r%d" % (i, r), {"account_id": acc, "name": "Contact %d" % r})
        expected[("account", acc)] = "Account %d/%d" % (i, r)
        expected[("contact", "con-d%d-r%d" % (i, r))] = "Contact %d" % r
        # the device that created an earlier account edits it again: one writer
        # per field, so the last value is known
        if r > 0:
            old = "acc-d%d-r%d" % (i, r - 1)
            d.put("account", old, {"name": "Renamed %d/%d" % (i, r)})
            expected[("account", old)] = "Renamed %d/%d" % (i, r)


def check_migrate(server_bin, pg, root):
    sqlite = os.path.join(root, "old.db")
    old = Admin(server_bin, sqlite, None)
    old.admin("user", "add", "olga", "--role", "manager")
    old.admin("user", "add", "oscar", "--role", "rep", "--manager", "olga")
    new = Admin(server_bin, pg.create_db("migrated"), None)
    out = new.admin("migrate", sqlite)
    check("copied" in out, "migrate said %r" % out)
    users = new.admin("user", "list")
    check("oscar" in users and "olga" in users.split("oscar", 1)[1], "migrated: %s" % users)


def run(server_bin, daemon_bin, cli_bin, root, pg, cleanup):
    check_migrate(server_bin, pg, root)
    db = pg.create_db("fieldsync")
    setup = Admin(server_bin, db, None)
    setup.admin("user", "add", "mgr", "--role", "manager")
    setup.admin("user", "add", "rep", "--role", "rep")
    setup.admin("team", "add", "mgr", "rep")
    instances = [Instance(server_bin, db, root, n) for n in range(2)]
    cleanup += [i.stop for i in instances]
    front = Front(instances, root)
    cleanup.append(front.stop)
    srv = Admin(server_bin, db, front.url)
    devs = [Device(daemon_bin, cli_bin, srv, "laptop%d" % i) for i in range(3)]
    cleanup += [d.cleanup for d in devs]
    boss = Device(daemon_bin, cli_bin, Admin(server_bin, db, front.url, "mgr"), "boss")
    cleanup.append(boss.cleanup)
    expected = {}
    for r in range(ROUNDS):
        write_round(devs, r, expected)
        if r == KILL_AFTER:  # syncs in flight on both instances, then one dies
            for d in devs:
                d.c.call("sync.now")
            instances[0].proc.send_signal(signal.SIGKILL)
            instances[0].proc.wait()
        sync_until_ok(devs)
    sync_until_ok(devs + [boss])  # everyone pulls the others' last round
    books = [book(d) for d in devs]
    for i in (1, 2):
        check(books[i] == books[0], "laptop%d's book differs from laptop0's" % i)
    check(book(boss) == books[0], "the manager's book differs from the rep's")
    for (kind, rid), name in expected.items():
        got = books[0].get((kind, rid))
        check(got is not None and got["name"] == name, "%s %s: %r, not %r" % (kind, rid, got, name))
    check(len(books[0]) == len(expected), "%d records, %d written" % (len(books[0]), len(expected)))
    rows = pg.psql("fieldsync", "SELECT count(*) FROM records")
    check(int(rows) == len(books[0]), "the database holds %s records, devices %d" %
          (rows, len(books[0])))
    listing = srv.admin("device", "list", "rep")
    check(listing.count("laptop") == 3, "device list: %s" % listing)
    check("gc:" in srv.admin("gc"), "gc on PostgreSQL")


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    server_bin, daemon_bin, cli_bin = sys.argv[1:]
    if shutil.which("haproxy") is None:
        print("haproxy is missing: scripts/install-deps.sh installs it")
        return 1
    root = tempfile.mkdtemp(prefix="fs-multi-")
    cleanup = []
    try:
        with Cluster() as pg:
            try:
                run(server_bin, daemon_bin, cli_bin, root, pg, cleanup)
            finally:
                for fn in reversed(cleanup):
                    fn()
        print("multi_instance: ok")
        return 0
    except TestFailure as e:
        print("FAIL multi_instance: %s" % e)
        print_logs(root)
        return 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
