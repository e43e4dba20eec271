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

FIELDSYNC_IT_SCALE (default 1) multiplies the kill loop's rounds.
"""
import os
import random
import struct
import sys
import time

from fsd import Daemon, RpcError, TestFailure, check, wait_for

SCALE = int(os.environ.get("FIELDSYNC_IT_SCALE", "1"))
PASS = "reliability passphrase"
PAGE = 4096


def expect_error(c, method, params, name):
    e = c.error(method, params)
    check(e.name == name, "%s: expected %s, got %s (%s)" % (method, name, e.name, e.message))
    return e


def db_file(d):
    return os.path.join(d.data, "fieldsync", "fieldsync.db")


def new_store(binary, records=0, env=None):
    """A daemon on a new passphrase store holding `records` accounts, stopped
    cleanly (everything checkpointed into the database file)."""
    d = Daemon(binary)
    d.start(["--init"], env=dict(env or {}, FIELDSYNC_PASSPHRASE=PASS))
    c = d.client()
    for i in range(records):
        c.call("record.put", {"kind": "account", "id": "acc%04d" % i, "record": {
            "name": "Account %d" % i, "notes": "visit notes %d " % i + "x" * 300}})
    c.close()
    check(d.stop() == 0, "clean stop")
    return d


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x20]))


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


def write_until_killed(d, c, round_no, acked, kill_after):
    """Puts new accounts, recording each acknowledged one, until the daemon dies
    (its crash point) or, with kill_after, we kill it after that many acks plus
    0-4 ms (the random moment is the point of the test, not a synchronisation)."""
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
    d.kill()


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
                write_until_killed(d, c, r, acked, None if torn else random.randint(1, 12))
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
CASES = {"kill_loop": case_kill_loop, "empty_store": case_empty_store,
         "damaged_store": case_damaged_store, "check": case_check}


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
