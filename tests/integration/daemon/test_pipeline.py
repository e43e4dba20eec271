#!/usr/bin/env python3
"""test_pipeline.py: the sales method in the real fieldsyncd, through its socket
and the real fieldsync CLI: the rules of a move between stages, what a move
writes, and the demo book loaded through those rules.

usage: test_pipeline.py FIELDSYNCD FIELDSYNC FIELDSYNC_DEMO CASE
Cases: rules, override, demo.
"""
import datetime
import json
import subprocess
import sys

from fsd import Daemon, RpcError, TestFailure, check

ALL_FIVE = {"decision_maker": True, "plan_fits_need": True, "budget_discussed": True,
            "signing_in_cycle": True, "next_step_agreed": True}


class Rep:
    """A daemon with a fresh store, and the CLI pointed at it."""

    def __init__(self, daemon_bin, cli_bin):
        self.d = Daemon(daemon_bin).start(["--init"])
        self.c = self.d.client()
        self.cli_bin = cli_bin
        # the daemon's one "today": every date of a case is relative to it
        self.today = datetime.date.fromisoformat(self.c.call("report.pipeline")["today"])

    def day(self, offset):
        return (self.today + datetime.timedelta(days=offset)).isoformat()

    def put(self, rid, record, override=None, kind="opportunity"):
        params = {"kind": kind, "id": rid, "record": record}
        if override is not None:
            params["override"] = override
        return self.c.call("record.put", params)["record"]

    def refused(self, rid, record, name="pipeline_rule"):
        e = self.c.error("record.put", {"kind": "opportunity", "id": rid, "record": record})
        check(e.name == name, "%s %r: expected %s, got %s (%s)" % (rid, record, name, e.name,
                                                                     e.message))
        return e

    def cli(self, *args, expect=0):
        p = subprocess.run([self.cli_bin, "--socket", self.d.socket] + list(args),
                           capture_output=True, text=True, timeout=60, env=self.d.env())
        check(p.returncode == expect, "fieldsync %s: exit %d, expected %d: %s%s" %
              (" ".join(args), p.returncode, expect, p.stdout, p.stderr))
        return p.stdout + p.stderr

    def cleanup(self):
        self.d.cleanup()


def case_rules(rep, demo_bin):
    """Each stage's rule, with the reason it names."""
    rep.put("a1", {"name": "Alder Foods"}, kind="account")
    rep.put("o1", {"account_id": "a1", "title": "Alder Foods: forklifts",
                   "stage": "sales_opportunity"})
    e = rep.refused("o1", {"stage": "first_meeting_set"})
    check(e.field == "stage" and "first_meeting_date" in e.message, e.message)
    rep.put("o1", {"stage": "first_meeting_set", "first_meeting_date": rep.day(3)})
    e = rep.refused("o1", {"stage": "pct_25"})  # the meeting is still to come
    check("first_meeting_date %s is after today" % rep.day(3) in e.message, e.message)
    rep.put("o1", {"stage": "pct_25", "first_meeting_date": rep.day(-1)})
    e = rep.refused("o1", {"stage": "pct_50", "criteria": {"decision_maker": True,
                                                          "plan_fits_need": True}})
    check("not met: budget_discussed, signing_in_cycle, next_step_agreed" in e.message, e.message)
    check(rep.c.call("record.get", {"kind": "opportunity", "id": "o1"})["record"]["stage"] ==
          "pct_25", "a refused move changes nothing")
    rep.put("o1", {"stage": "pct_50", "criteria": ALL_FIVE})
    e = rep.refused("o1", {"stage": "pct_90", "signed_date": rep.day(-2)})
    check("prepaid_date is not set" in e.message, e.message)
    e = rep.refused("o1", {"stage": "pct_90", "signed_date": rep.day(-2),
                           "prepaid_date": rep.day(2)})
    check("prepaid_date %s is after today" % rep.day(2) in e.message, e.message)
    got = rep.put("o1", {"stage": "pct_90", "signed_date": rep.day(-2),
                         "prepaid_date": rep.day(-1)})
    # the cooling-off: 10 days after the later date, computed, never typed
    check(got["cooling_off_end_date"] == rep.day(9), "cooling-off end: %r" % got)
    e = rep.refused("o1", {"cooling_off_end_date": rep.day(8)}, "invalid_params")
    check(e.field == "cooling_off_end_date" and rep.day(9) in e.message, e.message)
    e = rep.refused("o1", {"stage": "closed"})
    check("until %s" % rep.day(9) in e.message and "from %s" % rep.day(10) in e.message,
          e.message)
    # the deal signed and paid 11 days ago has passed it
    got = rep.put("o1", {"signed_date": rep.day(-13), "prepaid_date": rep.day(-11)})
    check(got["cooling_off_end_date"] == rep.day(-1), "recomputed: %r" % got)
    got = rep.put("o1", {"stage": "closed"})
    check([m["stage"] for m in got["stage_history"]] ==
          ["sales_opportunity", "first_meeting_set", "pct_25", "pct_50", "pct_90", "closed"],
          "every move in the history: %r" % got["stage_history"])
    # lost is always allowed; the CLI says how to move against a rule
    rep.put("o2", {"account_id": "a1", "stage": "lost"})
    out = rep.cli("opportunities", "edit", "o2", "--stage", "90", expect=1)
    check("signed_date is not set" in out and "--override REASON" in out, out)


def case_override(rep, demo_bin):
    """An override makes the move and records why; it needs a move."""
    rep.put("a1", {"name": "Birch Logistics"}, kind="account")
    got = rep.put("o1", {"account_id": "a1", "stage": "pct_50"},
                  override="the managing director confirmed all five on the phone")
    check(got["stage"] == "pct_50" and got["stage_entered_date"] == rep.day(0), repr(got))
    check(got["stage_history"] == [{"stage": "pct_50", "date": rep.day(0), "override":
                                    "the managing director confirmed all five on the phone"}],
          "the override is recorded: %r" % got)
    e = rep.c.error("record.put", {"kind": "opportunity", "id": "o1", "record": {"title": "x"},
                                   "override": "no move"})
    check(e.name == "invalid_params" and e.field == "override", e.message)
    # through the CLI
    out = rep.cli("opportunities", "edit", "o1", "--stage", "90", "--override",
                  "signed today, the prepayment is wired tomorrow")
    check("updated" in out, out)
    rec = json.loads(rep.cli("--json", "opportunities", "show", "o1"))["record"]
    check(rec["stage"] == "pct_90" and
          rec["stage_history"][-1]["override"] == "signed today, the prepayment is wired tomorrow",
          "CLI override recorded: %r" % rec)


def case_demo(rep, demo_bin):
    """The demo book goes in through the rules and follows the method."""
    p = subprocess.run([demo_bin, "--socket", rep.d.socket, "--accounts", "120", "--quiet"],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "the demo loads through the rules: %s%s" % (p.stdout, p.stderr))
    names, opps, cursor = {}, [], None
    for kind, into in (("account", None), ("opportunity", opps)):
        cursor = None
        while True:
            params = {"kind": kind, "limit": 1000}
            if cursor:
                params["cursor"] = cursor
            page = rep.c.call("record.list", params)
            for item in page["items"]:
                if into is None:
                    names[item["id"]] = item["name"]
                else:
                    into.append(item)
            cursor = page["next_cursor"]
            if not cursor:
                break
    check(len(opps) > 50, "the demo has opportunities: %d" % len(opps))
    stages = set()
    for o in opps:
        stages.add(o["stage"])
        check(names[o["account_id"]] in o["title"], "the title names its account: %r" % o)
        if o["stage"] == "closed":
            check(o["cooling_off_end_date"] < rep.day(0), "closed after the cooling-off: %r" % o)
    check({"sales_opportunity", "first_meeting_set", "pct_25", "pct_50", "pct_90",
           "closed"} <= stages, "every stage: %r" % stages)


CASES = {"rules": case_rules, "override": case_override, "demo": case_demo}


def main():
    if len(sys.argv) != 5 or sys.argv[4] not in CASES:
        print(__doc__)
        return 2
    daemon_bin, cli_bin, demo_bin, case = sys.argv[1:]
    rep = Rep(daemon_bin, cli_bin)
    try:
        CASES[case](rep, demo_bin)
        print("ok %s" % case)
        return 0
    except (TestFailure, RpcError) as e:
        print("FAIL %s: %s" % (case, e))
        print(rep.d.log_text()[-3000:])
        return 1
    finally:
        rep.cleanup()


if __name__ == "__main__":
    sys.exit(main())
