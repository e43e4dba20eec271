#!/usr/bin/env python3
"""test_store_reliability.py: the store's reliability through the real
fieldsyncd and its socket. Usage: test_store_reliability.py FIELDSYNCD CASE;
each CASE is one ctest test.

Cases:
  kill_loop      SIGKILL while a client writes, round after round: each restart
                 unlocks and finds every acknowledged write (half the rounds die
                 right after a WAL frame header went out: crash point
                 store.vfs.wal_frame_header)
  empty_store    a database file truncated to 0 bytes is refused, never
                 recreated as a new store
  damaged_store  unlock tells a wrong passphrase from a damaged database
  check          the `check` method finds a damaged page and names it
  core_dumps     the daemon cannot dump core
  lock           lock closes the store and leaves no record in the daemon's
                 memory

FIELDSYNC_IT_SCALE (default 1) multiplies the kill loop's rounds.
"""
import os
import random
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

from fsd import Daemon, RpcError, TestFailure, check, flip_byte, wait_for

SCALE = int(os.environ.get("FIELDSYNC_IT_SCALE", "1"))
PASS = "reliability passphrase"
PAGE = 4096


def expect_error(c, method, params, name):
    e = c.error(method, params)
    check(e.name == name, "%s: expected %s, got %s (%s)" % (method, name, e.name, e.message))
    return e


def db_file(d):
    return os.path.join(d.data, "fieldsync", "fieldsync.db")


def new_store(binary, records=0):
    """A daemon on a new passphrase store holding `records` accounts, stopped
    cleanly (everything checkpointed into the database file)."""
    d = Daemon(binary)
    d.start(["--init"], env={"FIELDSYNC_PASSPHRASE": PASS})
    c = d.client()
    for i in range(records):
        c.call("record.put", {"kind": "account", "id": "acc%04d" % i, "record": {
            "name": "Account %d" % i, "notes": "visit notes %d " % i + "x" * 300}})
    c.close()
    check(d.stop() == 0, "clean stop")
    return d


# ---------------------------------------------------------------------------
def wal_backfilled(db):
    """SQLite's WAL index (-shm, native byte order) says every committed frame is
    in the database file: mxFrame (header offset 16) == nBackfill (offset 96).
    The daemon's idle maintenance does that passive checkpoint; the next write
    then starts the WAL again from its first frame, over the old ones."""
    try:
        with open(db + "-shm", "rb") as f:
            hdr = f.read(100)
    except FileNotFoundError:
        return False
    if len(hdr) < 100:
        return False
    mx_frame = struct.unpack_from("=I", hdr, 16)[0]
    backfill = struct.unpack_from("=I", hdr, 96)[0]
    return mx_frame > 0 and backfill == mx_frame


def write_until_killed(c, round_no, acked, kill_after):
    """Puts new accounts, recording each acknowledged one, until the daemon dies
    (its crash point) or, with kill_after, until that many were acknowledged
    plus 0-4 ms, when the caller kills it (the random moment is the point of the
    test, not a synchronisation)."""
    for i in range(400):
        rid, name = "k%d-%d" % (round_no, i), "round %d write %d" % (round_no, i)
        try:
            c.call("record.put", {"kind": "account", "id": rid,
                                  "record": {"name": name, "notes": "n" * random.randint(0, 900)}})
        except (ConnectionError, OSError, RpcError):
            break
        acked[rid] = name
        if kill_after is not None and i + 1 >= kill_after:
            time.sleep(random.random() * 0.004)
            break


def case_kill_loop(binary):
    """Every acknowledged write is there after every restart."""
    seed = int(os.environ.get("FIELDSYNC_IT_SEED", random.randrange(1 << 30)))
    random.seed(seed)
    rounds = 20 * SCALE
    d = new_store(binary)
    db, acked = db_file(d), {}
    try:
        for r in range(rounds):
            torn = r % 2 == 1
            env = {"FIELDSYNC_CRASH_AT": "store.vfs.wal_frame_header@%d" % random.randint(1, 80)}
            d.start(env=env if torn else None)
            c = d.client()
            try:
                c.call("unlock", {"passphrase": PASS})
            except RpcError as e:
                raise TestFailure("seed %d round %d: unlock after the kill failed: %s"
                                  % (seed, r, e.message))
            except ConnectionError:
                d.kill()  # the crash point fired while unlocking: a kill like any other
                continue
            for rid, name in acked.items():
                got = c.call("record.get", {"kind": "account", "id": rid})["record"]["name"]
                check(got == name, "seed %d round %d: %s is %r, acknowledged %r"
                      % (seed, r, rid, got, name))
            # after the idle maintenance's checkpoint, writes restart the WAL
            wait_for(lambda: wal_backfilled(db) or d.proc.poll() is not None, 10,
                     "the idle checkpoint")
            if d.proc.poll() is None:
                write_until_killed(c, r, acked, None if torn else random.randint(1, 12))
            d.kill()
            c.close()
        d.start()
        c = d.client()
        c.call("unlock", {"passphrase": PASS})
        for rid, name in acked.items():
            check(c.call("record.get", {"kind": "account", "id": rid})["record"]["name"] == name,
                  "seed %d: %s lost after the last kill" % (seed, rid))
        r = c.call("check")
        check(r["ok"], "seed %d: check after the kill loop: %r" % (seed, r))
        print("kill loop: seed %d, %d rounds, %d acknowledged writes found" % (seed, rounds,
                                                                               len(acked)))
        check(len(acked) > rounds, "the kills did not all land before any write")
        check(d.stop() == 0, "clean stop")
    finally:
        d.cleanup()


# ---------------------------------------------------------------------------
def case_empty_store(binary):
    """A database file cut to 0 bytes: unlock says so and writes nothing into it."""
    d = new_store(binary, records=3)
    try:
        db = db_file(d)
        os.truncate(db, 0)
        d.start()
        c = d.client()
        e = expect_error(c, "unlock", {"passphrase": PASS}, "store_error")
        check("is empty" in e.message and db in e.message, "message: %s" % e.message)
        check(os.path.getsize(db) == 0, "nothing was written into the empty file")
        st = c.call("status")
        check(st["state"] == "locked" and "replica" not in st, "still locked: %r" % st)
        check(d.stop() == 0, "clean stop")
    finally:
        d.cleanup()


def case_damaged_store(binary):
    """The right passphrase on a damaged database is not 'wrong passphrase'."""
    d = new_store(binary, records=3)
    try:
        db = db_file(d)
        flip_byte(db, 200)  # page 1's ciphertext
        d.start()
        c = d.client()
        e = expect_error(c, "unlock", {"passphrase": PASS}, "store_error")
        check("is intact" in e.message and "page 1 of %s" % db in e.message
              and "passphrase" not in e.message, "message: %s" % e.message)
        expect_error(c, "unlock", {"passphrase": "not it"}, "auth_failed")
        check(c.call("status")["state"] == "locked", "still locked")
        check("unlock failed" in d.log_text(), "the failure is logged")
        check(d.stop() == 0, "clean stop")
    finally:
        d.cleanup()


def case_check(binary):
    """check: a sound store passes; a damaged page is found and named."""
    d = new_store(binary, records=200)
    try:
        db = db_file(d)
        d.start()
        c = d.client()
        expect_error(c, "check", {}, "locked")
        c.call("unlock", {"passphrase": PASS})
        r = c.call("check")
        check(r["ok"] and r["problem_count"] == 0 and r["problems"] == []
              and r["pages"] == os.path.getsize(db) // PAGE, "sound store: %r" % r)
        pgno = r["pages"] // 2
        flip_byte(db, (pgno - 1) * PAGE + 1000)
        r = c.call("check")
        want = "page %d of %s failed authentication" % (pgno, db)
        check(not r["ok"] and r["problem_count"] >= 1
              and any(want in p for p in r["problems"]), "damaged store: %r" % r)
        check(c.call("status")["state"] == "unlocked", "the daemon goes on serving")
        check(d.stop() == 0, "clean stop")
    finally:
        d.cleanup()


# ---------------------------------------------------------------------------
def unlimited_cores():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def aborted_with_core(proc):
    """SIGABRTs proc and returns whether the kernel wrote a core (WCOREDUMP)."""
    os.kill(proc.pid, signal.SIGABRT)
    _, status = os.waitpid(proc.pid, 0)
    proc.returncode = -signal.SIGABRT
    check(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGABRT, "aborted")
    return os.WCOREDUMP(status)


def case_core_dumps(binary):
    """RLIMIT_CORE 0 and not dumpable: an abort leaves no core holding the
    store's pages and keys, even when the parent allowed cores."""
    tmp = tempfile.mkdtemp(prefix="fsd-core-")
    d = new_store(binary, records=3)
    try:
        logf = open(d.log, "ab")
        d.proc = subprocess.Popen([binary], env=d.env(), cwd=tmp, preexec_fn=unlimited_cores,
                                  stdout=logf, stderr=logf)
        logf.close()
        wait_for(d.connectable, 10, "the daemon's socket")
        c = d.client()
        c.call("unlock", {"passphrase": PASS})
        with open("/proc/%d/limits" % d.proc.pid) as f:
            limit = [line for line in f if line.startswith("Max core file size")][0].split()
        check(limit[4:6] == ["0", "0"], "RLIMIT_CORE of the daemon: %r" % limit)
        check(not aborted_with_core(d.proc), "the daemon dumped core")
        check(not [n for n in os.listdir(tmp) if n.startswith("core")],
              "a core file appeared: %r" % os.listdir(tmp))
        # the control: an ordinary process started the same way (shows whether
        # this machine writes cores at all, i.e. whether the check above can fail)
        ctl = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                               cwd=tmp, preexec_fn=unlimited_cores)
        print("core dumps: an ordinary process here %s" % (
            "dumps core" if aborted_with_core(ctl) else "does not dump core either"))
    finally:
        d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def writable_memory_hits(pid, needle):
    """Where needle occurs in the writable memory of pid (/proc/PID/maps and
    /proc/PID/mem); PermissionError without the right to read it."""
    hits = []
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            if "w" not in fields[1]:
                continue
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except OSError:  # a guard page, a vanished mapping
                continue
            start = data.find(needle)
            while start >= 0:
                hits.append("%s+%#x" % (fields[5] if len(fields) > 5 else "anon", start))
                start = data.find(needle, start + 1)
    return hits


def case_lock(binary):
    """lock closes the store, and leaves no record that was written, read,
    listed or found in the daemon's memory: its writable memory is read whole
    through /proc/PID/mem (that needs the right to trace it: root or
    CAP_SYS_PTRACE, else the scan is skipped; under the sanitizers too, whose
    allocator keeps freed blocks on purpose)."""
    marker = "ZQXJ-visit-notes-marker"
    d = new_store(binary)
    try:
        d.start()
        c = d.client()
        c.call("unlock", {"passphrase": PASS})
        for i in range(40):
            c.call("record.put", {"kind": "account", "id": "a%d" % i,
                                  "record": {"name": "Account %d" % i,
                                             "notes": "%s %d: a press line" % (marker, i)}})
        for i in range(40):
            c.call("record.get", {"kind": "account", "id": "a%d" % i})
        c.call("record.list", {"kind": "account", "limit": 100})
        c.call("search", {"query": marker.split("-")[0]})
        scan, before = not os.environ.get("FIELDSYNC_IT_SANITIZED"), []
        if not scan:
            print("lock: no memory scan under the sanitizers (their allocator keeps freed blocks)")
        try:
            before = writable_memory_hits(d.proc.pid, marker.encode()) if scan else []
        except PermissionError:
            print("lock: no right to read the daemon's memory; the scan is skipped")
            scan = False
        check(not scan or len(before) > 0, "the scan finds the records while unlocked")
        c.call("lock")
        expect_error(c, "record.get", {"kind": "account", "id": "a1"}, "locked")
        expect_error(c, "search", {"query": "ZQXJ"}, "locked")
        if scan:
            after = writable_memory_hits(d.proc.pid, marker.encode())
            check(after == [], "after lock the daemon's memory still holds records at %s"
                  % after[:8])
            print("lock: %d copies of the records in memory before lock, none after"
                  % len(before))
        c.call("unlock", {"passphrase": PASS})
        check(marker in c.call("record.get", {"kind": "account", "id": "a7"})["record"]["notes"],
              "the records are back after unlock")
        check(d.stop() == 0, "clean stop")
    finally:
        d.cleanup()


CASES = {"kill_loop": case_kill_loop, "empty_store": case_empty_store,
         "damaged_store": case_damaged_store, "check": case_check,
         "core_dumps": case_core_dumps, "lock": case_lock}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        print("usage: %s FIELDSYNCD {%s}" % (sys.argv[0], ",".join(CASES)), file=sys.stderr)
        return 2
    try:
        CASES[sys.argv[2]](os.path.abspath(sys.argv[1]))
    except TestFailure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    print("ok: %s" % sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
