#!/usr/bin/env python3
"""test_pipeline.py: the sales method in the real fieldsyncd, through its socket
and the real fieldsync CLI: the rules of a move between stages, the dates a
move writes, the reports as of a day, per currency and per week, and the demo
book loaded through those rules.

usage: test_pipeline.py FIELDSYNCD FIELDSYNC FIELDSYNC_DEMO CASE
Cases: rules, override, stage_dates, currencies, weekly, demo.
"""
import datetime
import json
import subprocess
import sys
import time

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

    def stages(self, report):
        return {s["stage"]: s for s in report["stages"]}

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


def case_stage_dates(rep, demo_bin):
    """A move dates the stage; stale covers every open stage; as of a day."""
    rep.put("a1", {"name": "Cedar Plastics"}, kind="account")
    old = rep.day(-40)
    # the newest stale deal, of the account that sorts first: the report
    # puts the longest in its stage first
    rep.put("o9", {"account_id": "a0", "title": "Press line", "stage": "first_meeting_set",
                   "first_meeting_date": rep.day(5), "stage_entered_date": rep.day(-29),
                   "amount": {"minor_units": 1250000, "currency": "EUR"}})
    rep.put("o25", {"account_id": "a1", "stage": "pct_25", "first_meeting_date": rep.day(-45),
                    "stage_entered_date": old})
    rep.put("o90", {"account_id": "a1", "stage": "pct_90", "signed_date": rep.day(-41),
                    "prepaid_date": rep.day(-41), "stage_entered_date": old})
    rep.put("ofm", {"account_id": "a1", "stage": "first_meeting_set",
                    "first_meeting_date": rep.day(5), "stage_entered_date": old})
    rep.put("ocl", {"account_id": "a1", "stage": "closed", "signed_date": rep.day(-60),
                    "prepaid_date": rep.day(-60), "stage_entered_date": old})
    stale = rep.c.call("report.pipeline")["stale"]
    check([o["id"] for o in stale] == ["o25", "o90", "ofm", "o9"],
          "open stages over the cycle, longest in its stage first: %r" % stale)
    # each stale deal says what a rep needs to act on it, account known or not
    by_id = {o["id"]: o for o in stale}
    check(by_id["o9"] == {"id": "o9", "title": "Press line", "account_id": "a0",
                          "account_name": None, "stage": "first_meeting_set",
                          "since": rep.day(-29), "days": 29,
                          "amount": {"currency": "EUR", "minor_units": 1250000}},
          "a stale deal of an account not here: %r" % by_id["o9"])
    check(by_id["o90"] == {"id": "o90", "title": None, "account_id": "a1",
                           "account_name": "Cedar Plastics", "stage": "pct_90", "since": old,
                           "days": 40, "amount": None}, "a stale deal: %r" % by_id["o90"])
    # an edit that moves the deal dates the new stage: no longer stale
    got = rep.put("o25", {"stage": "pct_50", "criteria": ALL_FIVE})
    check(got["stage_entered_date"] == rep.day(0), "the move is dated today: %r" % got)
    check(got["stage_history"] == [{"stage": "pct_25", "date": old},
                                   {"stage": "pct_50", "date": rep.day(0)}],
          "the earlier stage opens the history: %r" % got["stage_history"])
    rep.put("o25", {"title": "an edit that is no move"})
    rep_now = rep.c.call("report.pipeline")
    check(sorted(o["id"] for o in rep_now["stale"]) == ["o9", "o90", "ofm"],
          "stale after the move: %r" % rep_now)
    check(rep.stages(rep_now)["pct_50"]["count"] == 1 and
          rep.stages(rep_now)["pct_25"]["count"] == 0, "counts now: %r" % rep_now)
    # as of ten days ago o25 was at 25% and stale already
    then = rep.c.call("report.pipeline", {"today": rep.day(-10)})
    check(rep.stages(then)["pct_25"]["count"] == 1 and rep.stages(then)["pct_50"]["count"] == 0,
          "as of ten days ago: %r" % then)
    then_stale = {o["id"]: o for o in then["stale"]}
    check(sorted(then_stale) == ["o25", "o90", "ofm"], "stale then: %r" % then["stale"])
    check((then_stale["o25"]["stage"], then_stale["o25"]["since"], then_stale["o25"]["days"]) ==
          ("pct_25", old, 30), "o25 as of ten days ago: %r" % then_stale["o25"])
    # before anything existed: nothing counts
    before = rep.c.call("report.pipeline", {"today": rep.day(-41)})
    check(sum(s["count"] for s in before["stages"]) == 0, "before: %r" % before)
    out = rep.cli("report", "pipeline", "--today", rep.day(-10))
    check("pipeline on %s" % rep.day(-10) in out, out)
    rows = [" ".join(l.split()) for l in out.splitlines()]
    check("OPPORTUNITY ACCOUNT STAGE SINCE DAYS AMOUNT ID" in rows and
          "an edit that is no move Cedar Plastics 25%% %s 30 o25" % old in rows and
          "ofm Cedar Plastics first meeting set %s 30 ofm" % old in rows,
          "the stale deals as a rep reads them: %s" % out)
    out = rep.cli("report", "pipeline")
    check("Press line a0 first meeting set %s 29 12500.00 EUR o9" % rep.day(-29) in
          [" ".join(l.split()) for l in out.splitlines()], "an account not here: %s" % out)


def case_currencies(rep, demo_bin):
    """Amounts add up per currency, never across currencies."""
    rep.put("a1", {"name": "Dune Haulage"}, kind="account")
    for rid, minor, cur in (("o1", 500000, "EUR"), ("o2", 120000, "GBP"), ("o3", 250000, "EUR")):
        rep.put(rid, {"account_id": "a1", "stage": "pct_50", "criteria": ALL_FIVE,
                      "amount": {"minor_units": minor, "currency": cur}})
    row = rep.stages(rep.c.call("report.pipeline"))["pct_50"]
    check(row["count"] == 3 and row.get("amounts") == [
        {"currency": "EUR", "minor_units": 750000}, {"currency": "GBP", "minor_units": 120000}],
        "per currency: %r" % row)
    check("amount_minor" not in row, "no sum across currencies: %r" % row)
    out = rep.cli("report", "pipeline")
    line = [l for l in out.splitlines() if l.startswith("50%")]
    check(line and "7500.00 EUR; 1200.00 GBP" in line[0], out)


def noon(day):
    """Unix seconds of local noon on a datetime.date."""
    return int(time.mktime(datetime.datetime(day.year, day.month, day.day, 12).timetuple()))


def case_weekly(rep, demo_bin):
    """The week: stages on each review day, and the funnel from calls on."""
    today = rep.today
    monday = today - datetime.timedelta(days=today.weekday())
    rep.put("a1", {"name": "Elm Print", "funnel_stage": "lead"}, kind="account")
    rep.put("a2", {"name": "Fir Tools", "funnel_stage": "funnel_target"}, kind="account")
    rep.put("a3", {"name": "Gorse Farms", "funnel_stage": "contract"}, kind="account")
    visits = [("phone_call", "done"), ("phone_call", "done"), ("phone_call", "cancelled"),
              ("phone_call", "planned"), ("follow_up", "done"), ("demo", "cancelled")] + \
        [("regular", "done")] * 5
    for i, (kind, status) in enumerate(visits):
        rep.put("v%d" % i, {"account_id": "a1", "kind": kind, "status": status,
                            "planned_at": noon(monday)}, kind="visit")
    rep.put("v-old", {"account_id": "a1", "kind": "phone_call", "status": "done",
                      "planned_at": noon(monday - datetime.timedelta(days=1))}, kind="visit")
    # two first meetings set this Monday, one of them on to 25% today
    for rid in ("o1", "o2"):
        rep.put(rid, {"account_id": "a1", "stage": "first_meeting_set",
                      "first_meeting_date": monday.isoformat(),
                      "stage_entered_date": monday.isoformat()})
    rep.put("o1", {"stage": "pct_25"})
    rep.put("o-last-week", {"account_id": "a1", "stage": "sales_opportunity",
                            "stage_entered_date": (monday - datetime.timedelta(days=3)).isoformat()})
    r = rep.c.call("report.weekly")
    check(len(r["weeks"]) == 1, "one week by default: %r" % r)
    w = r["weeks"][0]
    check(w["from"] == monday.isoformat(), "the week starts on Monday: %r" % w)
    steps = {s["step"]: s for s in w["funnel"]}
    check(steps["calls"]["count"] == 3 and steps["connections"]["count"] == 2 and
          steps["connections"]["ratio"] == 0.667, "calls and connections: %r" % w["funnel"])
    check(steps["first_meeting_set"]["count"] == 2 and steps["meetings"]["count"] == 6 and
          steps["pct_25"]["count"] == 1 and steps["pct_50"]["count"] == 0,
          "the funnel: %r" % w["funnel"])
    # each ratio is over the step it comes from: connections per call, first
    # meetings set per connection, deals moved on per meeting held
    check([(s["step"], s.get("base"), s.get("ratio")) for s in w["funnel"]] ==
          [("calls", None, None), ("connections", "calls", 0.667),
           ("first_meeting_set", "connections", 1.0), ("meetings", None, None),
           ("pct_25", "meetings", 0.167), ("pct_50", "meetings", 0.0),
           ("pct_90", "meetings", 0.0), ("closed", "meetings", 0.0)],
          "the ratios and their bases: %r" % w["funnel"])
    days = [d["date"] for d in w["review_days"]]
    check(days == [(monday + datetime.timedelta(days=k)).isoformat() for k in (0, 2, 4)
                   if monday + datetime.timedelta(days=k) <= today], "review days: %r" % days)
    first = {s["stage"]: s["count"] for s in w["review_days"][0]["stages"]}
    check(first["first_meeting_set"] == 2 and first["sales_opportunity"] == 1 and
          first["pct_25"] == (1 if today == monday else 0), "Monday's stages: %r" % first)
    acc = {a["funnel_stage"]: a for a in r["accounts"]}
    check(acc["funnel_target"]["reached"] == 3 and acc["lead"]["reached"] == 2 and
          acc["lead"]["count"] == 1 and acc["contract"]["reached"] == 1 and
          acc["contract"]["ratio"] == 1.0, "accounts through the funnel: %r" % r["accounts"])
    two = rep.c.call("report.weekly", {"weeks": 2})
    last = {s["step"]: s for s in two["weeks"][0]["funnel"]}
    check(last["calls"]["count"] == 1 and last["first_meeting_set"]["count"] == 0,
          "last week: %r" % last)
    check(last["connections"]["ratio"] == 1.0 and last["first_meeting_set"]["ratio"] == 0.0 and
          "ratio" not in last["closed"] and last["closed"]["base"] == "meetings",
          "no ratio where its base is 0: %r" % last)
    out = rep.cli("report", "weekly", "--weeks", "2")
    rows = {}
    for l in out.splitlines():  # the funnel rows of the last week shown win
        for label in ("connections", "first meeting set", "meetings held", "25%", "closed"):
            if l.startswith(label + "  "):
                rows[label] = " ".join(l[len(label):].split())
    check(rows == {"connections": "2 67% of calls", "first meeting set": "2 100% of connections",
                   "meetings held": "6", "25%": "1 17% of meetings held (1 in 6)",
                   "closed": "0 0% of meetings held"}, "the funnel as a rep reads it: %s" % out)
    acc_rows = [" ".join(l.split()) for l in out.splitlines()]
    check("target 1 3 100% of target group" in acc_rows and
          "prospect 0 2 67% of target" in acc_rows and "opportunity 0 1 50% of lead" in acc_rows,
          "the accounts' funnel by labels: %s" % out)
    check("SALES OPP." in out and "1ST MEETING" in out and monday.isoformat() in out, out)
    for name in ("first_meeting_set", "pct_", "funnel_", "target_group", "sales_opportunity",
                 "meetings  "):
        check(name not in out, "no machine name %r in the tables: %s" % (name, out))


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


CASES = {"rules": case_rules, "override": case_override, "stage_dates": case_stage_dates,
         "currencies": case_currencies, "weekly": case_weekly, "demo": case_demo}


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
