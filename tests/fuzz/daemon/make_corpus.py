#!/usr/bin/env python3
"""make_corpus.py: writes the seed corpus of fuzz_jsonrpc (one small file per
seed, a few request lines each) to tests/fuzz/corpus/fuzz_jsonrpc/."""
import json
import os
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "corpus", "fuzz_jsonrpc")
os.makedirs(out, exist_ok=True)


def req(method, params=None, rid=1):
    r = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        r["params"] = params
    return json.dumps(r, separators=(",", ":"))


seeds = {
    "status": [req("status")],
    "put_get": [req("record.put", {"kind": "account", "id": "a1", "record": {
        "name": "Acme", "tier": "quoted", "address": {"city": "Ulm"}, "tags": ["x"],
        "purchase_plan": {"budget": {"minor_units": 100, "currency": "EUR"}}}}),
        req("record.get", {"kind": "account", "id": "a1"}, 2)],
    "put_visit": [req("record.put", {"kind": "visit", "id": "v1", "record": {
        "account_id": "a1", "kind": "cold", "planned_at": 1700000000, "next_step_date": "2026-01-02",
        "objections": [{"objection": "price", "handling": "roi"}], "next_step_done": False}})],
    "put_opp": [req("record.put", {"kind": "opportunity", "record": {
        "stage": "pct_50", "criteria": {"decision_maker": True},
        "amount": {"minor_units": 5, "currency": "EUR"}, "stage_entered_date": "2025-01-01"}})],
    "opp_moves": [req("record.put", {"kind": "opportunity", "id": "o1", "record": {
        "stage": "pct_90", "signed_date": "2025-01-01", "prepaid_date": "2025-01-03",
        "stage_history": [{"stage": "pct_50", "date": "2024-12-01"}]}}),
        req("record.put", {"kind": "opportunity", "id": "o1", "record": {"stage": "closed"},
                           "override": "cooling-off waived"}, 2),
        req("record.put", {"kind": "opportunity", "id": "o1", "record": {
            "cooling_off_end_date": None, "prepaid_date": None}}, 3)],
    "clear": [req("record.put", {"kind": "contact", "id": "c1", "record": {
        "name": "B", "phones": [], "email": None, "personal": {"hobbies": "golf"}}})],
    "list": [req("record.list", {"kind": "account", "tier": "quoted", "limit": 2, "order": "desc"}),
             req("record.list", {"kind": "opportunity", "stage": "pct_25", "cursor": "abc"}, 2)],
    "delete": [req("record.delete", {"kind": "account", "id": "a1"})],
    "queries": [req("search", {"query": "acme ulm", "limit": 5}),
                req("search", {"query": "\"acme\" OR ulm*", "raw": True}, 2),
                req("followups", {"until": "2026-12-31"}, 3),
                req("report.pipeline", {"today": "2026-01-01", "cycle_days": 28}, 4),
                req("report.team", {"today": "2026-01-01"}, 5),
                req("report.weekly", {"today": "2026-01-01", "weeks": 3}, 6)],
    "conflicts": [req("conflicts.list", {"limit": 10}),
                  req("conflicts.resolve", {"kind": "account", "id": "a1", "field": "tier",
                                            "sibling": 0}, 2),
                  req("conflicts.resolve", {"kind": "account", "id": "a1", "field": "alive",
                                            "value": True}, 3)],
    "admin": [req("subscribe", {"topics": ["record.changed"]}), req("unsubscribe", {}, 2),
              req("outbox.list", {"status": "pending"}, 3), req("sync.now", {}, 4),
              req("lock", {}, 5), req("unlock", {}, 6),
              req("change_passphrase", {"old": "a", "new": "b"}, 7), req("init", {}, 8)],
    "notification": ['{"jsonrpc":"2.0","method":"record.put","params":{"kind":"transaction",'
                     '"record":{"date":"2026-02-28"}}}'],
    "garbage": ['{"jsonrpc":"2.0","id":[1],"method":"x"}', '[1,2]', 'null', '{"a":1,"a":2}',
                '{"jsonrpc":"2.0","id":1,"method":"status","params":[1]}'],
}
for name, lines in seeds.items():
    with open(os.path.join(out, name), "w") as f:
        f.write("\n".join(lines) + "\n")
print("wrote %d seeds to %s" % (len(seeds), out))
