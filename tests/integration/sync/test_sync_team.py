#!/usr/bin/env python3
"""A team between real processes: one fieldsync-server, the laptops of two reps
(anna, ben) and of their manager (boss), each a real fieldsyncd driven over its
socket and through the fieldsync CLI. What the manager and the reps see of who
owns an account: after a reassignment, after a CSV import, and in the team
table.

usage: test_sync_team.py SERVER DAEMON CLI CASE
Cases: reassign_owner, import_owner, team_report.
"""
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))
from fsd import TestFailure, check  # noqa: E402
from test_sync_daemons import run_case  # noqa: E402

ALL_FIVE = {"decision_maker": True, "plan_fits_need": True, "budget_discussed": True,
            "signing_in_cycle": True, "next_step_agreed": True}


def owner(dev, rid):
    got = dev.get("account", rid)
    return None if got["deleted"] else got["record"].get("owner")


def case_reassign_owner(team):
    anna, ben, boss = team["anna"], team["ben"], team["boss"]
    anna.put("account", "acc-1", {"name": "Alder Foods", "owner": "anna"})
    anna.put("opportunity", "opp-1", {"account_id": "acc-1", "title": "Alder Foods: forklifts"})
    anna.sync()
    boss.sync()
    check(owner(boss, "acc-1") == "anna", "the manager sees anna's account")
    team["srv"].admin("reassign", "acc-1", "ben")
    for dev in (ben, boss):
        dev.sync()
        check(owner(dev, "acc-1") == "ben", "%s shows the new owner: %r" %
              (dev.name, dev.get("account", "acc-1")))
        check(dev.conflicts() == [], "%s: the new owner is no conflict" % dev.name)
        mine = dev.c.call("record.list", {"kind": "account", "owner": "ben"})["items"]
        check([a["id"] for a in mine] == ["acc-1"], "%s lists it under ben: %r" % (dev.name, mine))
    anna.sync()
    check(anna.c.call("record.list", {"kind": "account"})["items"] == [],
          "the account left anna's laptop")
    # the new owner works on it as on any of his accounts
    ben.put("account", "acc-1", {"notes": "took over from anna"})
    done = ben.sync()
    check(done["pushed"] == 1 and done["refused"] == 0, "ben's edit is accepted: %r" % done)
    boss.sync()
    got = boss.get("account", "acc-1")["record"]
    check(got["notes"] == "took over from anna" and got["owner"] == "ben", "boss sees %r" % got)


def case_import_owner(team):
    anna, boss = team["anna"], team["boss"]
    path = os.path.join(team["root"], "leads.csv")
    with open(path, "w") as f:
        f.write("id,name,city\nacc-a,Birch Logistics,Leeds\nacc-b,Cobalt Tools,York\n")
    out = anna.cli("import", "accounts", path)
    check("imported 2" in out, "import said %r" % out)
    # a typed owner that is not the territory's is put right too
    anna.put("account", "acc-c", {"name": "Dune Haulage", "owner": "someone-else"})
    anna.sync()
    boss.sync()
    for dev in (anna, boss):
        for rid in ("acc-a", "acc-b", "acc-c"):
            check(owner(dev, rid) == "anna", "%s: %s owned by %r" % (dev.name, rid, owner(dev, rid)))
        check(dev.conflicts() == [], "%s: no conflict" % dev.name)
    listed = anna.cli("accounts", "list", "--owner", "anna")
    check(all(n in listed for n in ("Birch", "Cobalt", "Dune")), "anna's list: %s" % listed)


def case_team_report(team):
    anna, ben, boss = team["anna"], team["ben"], team["boss"]
    today = datetime.date.today()
    since = (today - datetime.timedelta(days=3)).isoformat()
    anna.put("account", "acc-a", {"name": "Alder Foods"})
    anna.put("opportunity", "o-a1", {"account_id": "acc-a", "stage": "pct_50", "criteria": ALL_FIVE,
                                     "amount": {"minor_units": 500000, "currency": "EUR"}})
    anna.put("opportunity", "o-a2", {"account_id": "acc-a", "stage": "pct_50", "criteria": ALL_FIVE,
                                     "amount": {"minor_units": 120000, "currency": "GBP"}})
    ben.put("account", "acc-b", {"name": "Brook Logistics"})
    ben.put("opportunity", "o-b1", {"account_id": "acc-b", "stage": "pct_90",
                                    "signed_date": since, "prepaid_date": since,
                                    "amount": {"minor_units": 900000, "currency": "EUR"}})
    for dev in (anna, ben, boss):
        dev.sync()
    rep = boss.c.call("report.team", {})
    reps = {r["owner"]: r for r in rep["reps"]}
    check(sorted(reps) == ["anna", "ben"], "one row per rep: %r" % rep)

    def stage(r, name):
        return [s for s in r["stages"] if s["stage"] == name][0]
    a50 = stage(reps["anna"], "pct_50")
    check(a50["count"] == 2 and a50["amounts"] == [
        {"currency": "EUR", "minor_units": 500000}, {"currency": "GBP", "minor_units": 120000}],
        "anna's 50%%, per currency: %r" % a50)
    b90 = stage(reps["ben"], "pct_90")
    check(b90["count"] == 1 and b90["amounts"] == [{"currency": "EUR", "minor_units": 900000}],
          "ben's 90%%: %r" % b90)
    check(stage(reps["ben"], "pct_50")["count"] == 0, "ben has no 50%%: %r" % reps["ben"])
    table = boss.cli("report", "team")
    lines = {l.split()[0]: l for l in table.splitlines() if l.split()}
    check("anna" in lines and "ben" in lines, "the team table: %s" % table)
    check("5000.00 EUR; 1200.00 GBP" in lines["anna"] and
          "9000.00 EUR" in lines["ben"], "amounts per currency in the table: %s" % table)
    # a rep's own device has only the rep's row
    own = anna.c.call("report.team", {})
    check([r["owner"] for r in own["reps"]] == ["anna"], "anna's own team report: %r" % own)


CASES = {"reassign_owner": case_reassign_owner, "import_owner": case_import_owner,
         "team_report": case_team_report}


def main():
    if len(sys.argv) != 5 or sys.argv[4] not in CASES:
        print(__doc__)
        return 2
    server_bin, daemon_bin, cli_bin, case = sys.argv[1:]
    users = [("boss", "--role", "manager")] + [
        (rep, "--role", "rep", "--manager", "boss") for rep in ("anna", "ben")]

    def with_team(srv, mk):
        team = {"srv": srv, "root": srv.root}
        for user in ("anna", "ben", "boss"):
            team[user] = mk(user, user=user)
        CASES[case](team)

    return run_case(server_bin, daemon_bin, cli_bin, case, with_team, users)


if __name__ == "__main__":
    sys.exit(main())
