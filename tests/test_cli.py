"""The command line: packs for every sample customer checked against an independent oracle, and errors."""
import csv
import io
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from conftest import ROOT
from usage_analytics import config, rules
from usage_analytics.__main__ import main
from usage_analytics.handoff import CSV_COLUMNS

UTC = timezone.utc
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)  # the bundled sample's own 'now'
PERIODS = {"2026-10": (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)),
           "2026-11": (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))}
FORBIDDEN = re.compile(r"prompt|response|completion|messages|transcript|payload|api_key|secret|cookie|"
                       r"authorization|password|proj_", re.IGNORECASE)
MONEY = re.compile(r"^\d+\.\d{6}$")


def _rows(dataset):
    return pq.read_table(ROOT / "data" / dataset).to_pylist()


@pytest.fixture(scope="module")
def raw():
    return {name: _rows(name) for name in
            ("customers", "billing_accounts", "workspace_sessions", "ai_usage", "provider_links", "reconciliation")}


def oracle_runtime(raw, customer_id, start, end):
    """Hours by clipping, merging per workspace in Python: written apart from the SQL on purpose."""
    horizon = min(end, NOW)
    spans = defaultdict(list)
    for s in raw["workspace_sessions"]:
        if s["customer_id"] != customer_id:
            continue
        a, b = max(s["started_at"], start), min(s["ended_at"] or horizon, horizon)
        if b > a:
            spans[s["workspace_id"]].append((a, b))
    total = timedelta()
    for intervals in spans.values():
        intervals.sort()
        cur_a, cur_b = intervals[0]
        for a, b in intervals[1:]:
            if a <= cur_b:
                cur_b = max(cur_b, b)
            else:
                total += cur_b - cur_a
                cur_a, cur_b = a, b
        total += cur_b - cur_a
    return total.total_seconds() / 3600


def oracle_pack(raw, customer_id, start, end):
    linked = {l["provider"] for l in raw["provider_links"] if l["customer_id"] == customer_id}
    horizon, today = min(end, NOW), NOW.date()
    totals = defaultdict(lambda: defaultdict(Decimal))
    unlinked, days = set(), defaultdict(set)
    for u in raw["ai_usage"]:
        if u["customer_id"] != customer_id:
            continue
        if u["bucket_start"] < NOW:
            days[u["provider"]].add(u["bucket_start"].date())
        if start <= u["bucket_start"] < horizon:
            if u["provider"] not in linked:
                unlinked.add(u["provider"])
                continue
            for field in ("cost_usd", "requests", "input_tokens", "cached_input_tokens", "output_tokens"):
                totals[u["provider"]][field] += u[field]
    status = defaultdict(dict)
    compared = defaultdict(lambda: defaultdict(list))  # provider -> day in the period -> (metered, provider cost)
    for r in raw["reconciliation"]:
        if r["customer_id"] == customer_id and r["usage_date"] <= today:
            days[r["provider"]].add(r["usage_date"])
            status[r["provider"]][r["usage_date"]] = r["status"]
            if start.date() <= r["usage_date"] < end.date():
                compared[r["provider"]][r["usage_date"]].append((r["metered_cost_usd"], r["provider_cost_usd"]))
    providers = {}
    for p in linked:
        open_days = sorted(d for d in days[p] if status[p].get(d) != "matched")
        through = open_days[0] - timedelta(days=1) if open_days else today - timedelta(days=1)
        lag = (today - timedelta(days=1) - through).days
        in_period = [d for d in days[p] if start.date() <= d < end.date()]
        mismatch = any(status[p].get(d) == "mismatch" for d in in_period)
        final = end <= NOW and all(status[p].get(d) == "matched" for d in in_period)
        badge = "mismatch" if mismatch else "current" if lag == 0 else "lagging" if lag <= 3 else "stale"
        providers[p] = {"cost_usd": f"{totals[p]['cost_usd'].quantize(Decimal('0.000001'))}",
                        **{f: int(totals[p][f]) for f in ("requests", "input_tokens", "cached_input_tokens",
                                                           "output_tokens")},
                        "status": "final" if final else "provisional", "badge": badge,
                        "reconciled_through": through.isoformat(), "lag_days": lag,
                        "provider_cost_usd": None, "mismatch_usd": "0.000000"}
        costs = [c for rows in compared[p].values() for _, c in rows if c is not None]
        if costs:
            providers[p]["provider_cost_usd"] = f"{sum(costs, Decimal(0)).quantize(Decimal('0.000001'))}"
        mismatch_usd = sum((c - m for d, rows in compared[p].items() if status[p][d] == "mismatch"
                            for m, c in rows if c is not None), Decimal(0))
        providers[p]["mismatch_usd"] = f"{mismatch_usd.quantize(Decimal('0.000001'))}"
    return providers, sorted(unlinked)


def test_every_sample_customer_gets_a_correct_pack_in_both_formats(raw, capsys):
    customers = {c["customer_id"]: c for c in raw["customers"]}
    assert len(customers) == 40
    for customer_id, account in customers.items():
        for label, (start, end) in PERIODS.items():
            assert main(["handoff", "--customer", customer_id, "--period", label]) == 0
            pack = json.loads(capsys.readouterr().out)
            assert main(["handoff", "--customer", customer_id, "--period", label, "--format", "csv"]) == 0
            table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))

            providers, unlinked = oracle_pack(raw, customer_id, start, end)
            where = f"{customer_id} {label}"
            assert pack["customer"] == {"customer_id": customer_id, "customer_name": account["customer_name"]}, where
            assert pack["period"] == {"start": f"{start:%Y-%m-%dT%H:%M:%SZ}", "end": f"{end:%Y-%m-%dT%H:%M:%SZ}",
                                      "final": end <= NOW}, where
            assert pack["workspace_runtime_hours"] == round(oracle_runtime(raw, customer_id, start, end), 2), where
            ai = pack["managed_ai"]
            assert {p.pop("provider"): p for p in json.loads(json.dumps(ai["providers"]))} == providers, where
            assert ai["not_configured"] == unlinked, where
            assert Decimal(ai["cost_usd"]) == sum((Decimal(p["cost_usd"]) for p in providers.values()), Decimal(0))
            assert ai["requests"] == sum(p["requests"] for p in providers.values())
            assert ai["status"] == ("final" if end <= NOW and all(p["status"] == "final" for p in providers.values())
                                    else "provisional"), where
            assert all(MONEY.match(v) for v in [ai["cost_usd"]] + [p["cost_usd"] for p in ai["providers"]])
            assert not FORBIDDEN.search(json.dumps(pack)), where

            assert [r["provider"] for r in table] == [p["provider"] for p in ai["providers"]] + unlinked + ["TOTAL"]
            total = table[-1]
            assert list(total) == list(CSV_COLUMNS)
            assert total["cost_usd"] == ai["cost_usd"] and total["next_action"] == pack["billing"]["next_action"]
            assert Decimal(total["cost_usd"]) == sum(Decimal(r["cost_usd"]) for r in table[:-1] if r["cost_usd"])
            assert float(total["workspace_runtime_hours"]) == pack["workspace_runtime_hours"]


def test_the_sample_packs_cover_every_badge_status_and_next_action(raw, capsys):
    seen = defaultdict(set)
    for customer in raw["customers"]:
        assert main(["handoff", "--customer", customer["customer_id"], "--period", "2026-11"]) == 0
        pack = json.loads(capsys.readouterr().out)
        seen["next_action"].add(pack["billing"]["next_action"])
        seen["mode"].add(pack["billing"]["billing_mode"])
        seen["badge"].update(p["badge"] for p in pack["managed_ai"]["providers"])
        seen["not_configured"].update(pack["managed_ai"]["not_configured"])
    assert seen["next_action"] == {"none", "setup", "funding", "support"}
    assert seen["mode"] == {"paid", "trial", "prepaid", "none"}
    assert seen["badge"] == {"current", "lagging", "stale", "mismatch"}
    assert seen["not_configured"]


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "usage_analytics", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)


def test_a_good_pack_from_the_real_command_line():
    result = run_cli("handoff", "--customer", "cus_acme_robotics", "--period", "2026-10", "--format", "json")
    assert result.returncode == 0, result.stderr
    pack = json.loads(result.stdout)
    assert pack["period"]["final"] is True and pack["generated_at"] == "2026-11-24T12:00:00Z"
    assert set(pack) == {"customer", "period", "generated_at", "data", "workspace_runtime_hours",
                         "workspace_runtime_status", "managed_ai", "billing", "close"}
    assert pack["data"] == {"as_of": "2026-11-24T10:45:58Z", "coverage": "full", "note": "", "unread_files": {},
                            "rejected_rows": {}}
    assert pack["managed_ai"]["provisional_because"] == ["openai: mismatch on 2026-10-15"]
    assert pack["close"] is None  # the month was never closed in this state folder
    assert set(pack["managed_ai"]) == {"cost_usd", "requests", "input_tokens", "cached_input_tokens",
                                       "output_tokens", "status", "provisional_because", "providers", "not_configured"}


def test_output_to_a_file(tmp_path):
    out = tmp_path / "pack.csv"
    result = run_cli("handoff", "--customer", "cus_acme_robotics", "--period", "2026-10", "--format", "csv",
                     "--output", str(out))
    assert result.returncode == 0 and result.stdout == ""
    assert out.read_text().startswith("customer_id,customer_name,")


@pytest.mark.parametrize("args, message", [
    (["--customer", "cus_nope", "--period", "2026-10"], "error: customer 'cus_nope' is not in the customers dataset"),
    (["--customer", "cus_acme_robotics", "--period", "2026-13"], "error: period '2026-13': month must be in 1..12"),
    (["--customer", "cus_acme_robotics", "--period", "October"], "error: period 'October' is neither YYYY-MM nor"),
    (["--customer", "cus_acme_robotics", "--period", "2026-10-09..2026-10-01"], "error: period 2026-10-09..2026-10-01 ends before it starts"),
    (["--customer", "cus_acme_robotics", "--period", "2026-10", "--format", "xml"], "error: argument --format"),
    (["--period", "2026-10"], "error: one of the arguments --customer --all is required"),
])
def test_bad_input_exits_non_zero_with_one_line(args, message):
    result = run_cli("handoff", *args)
    assert result.returncode != 0
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_setting_or_data_folder_is_one_line(tmp_path):
    bad_now = run_cli("handoff", "--customer", "cus_acme_robotics", "--period", "2026-10",
                      env={"ANALYTICS_NOW": "soon"})
    assert bad_now.returncode == 2 and bad_now.stderr.strip() == (
        "error: ANALYTICS_NOW: 'soon' is not an ISO timestamp such as 2026-11-24T12:00:00Z")
    empty = run_cli("handoff", "--customer", "cus_a", "--period", "2026-10", env={"USAGE_DATA_DIR": str(tmp_path)})
    assert empty.returncode == 1 and len(empty.stderr.strip().splitlines()) == 1
    assert empty.stderr.startswith(f"error: dataset customers: folder {tmp_path}/customers is missing")


def test_billing_rule_sanity_on_the_pack():
    assert rules.usd(Decimal("0.0000005")) == Decimal("0.000001")  # half up
    assert rules.usd(Decimal("-0.0000005")) == Decimal("-0.000001")  # half away from zero, like a refund
    # six places kept as written, whatever the thread's context rounds: "1.250000", not "1.25"
    for given, expected in [(None, "0.000000"), (Decimal(0), "0.000000"), (Decimal("1.25"), "1.250000"),
                            (Decimal("0.0000004999"), "0.000000"), (Decimal("2.0000025"), "2.000003"),
                            (Decimal("123456789012.3456785"), "123456789012.345679")]:
        assert str(rules.usd(given)) == expected, given
    # a whole column the same way (the figures of every customer round their columns at once)
    column = [Decimal("0.0000005"), Decimal("-0.0000005"), Decimal(0), Decimal("1.25"), Decimal("2.0000025")]
    assert [str(v) for v in rules.usd_all(column)] == ["0.000001", "-0.000001", "0.000000", "1.250000", "2.000003"]
    # with no ANALYTICS_NOW, 'now' is the bundled sample's own (its manifest), which NOW states by hand
    assert config.sample_now(ROOT / "data") == NOW


def test_even_a_bug_is_one_line_without_a_traceback(monkeypatch, capsys):
    import usage_analytics.__main__ as cli

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(cli, "customer_summary", broken)
    assert main(["handoff", "--customer", "cus_acme_robotics", "--period", "2026-10"]) == 70
    assert capsys.readouterr().err == "error: unexpected KeyError: 'boom'\n"


def test_analytics_now_drives_a_running_session_end_to_end(tmp_path):
    from conftest import customer, session
    from usage_analytics.contract import DATASETS
    from usage_analytics.sample import write_dataset

    rows = {"customers": [customer()], "workspace_sessions": [
        session("ws1", "2026-03-31 20:00", None),  # running
        session("ws2", "2026-03-31 23:00", "2026-04-01 01:30"),  # crosses the month edge
    ]}
    for name in DATASETS:
        write_dataset(tmp_path, name, rows.get(name, []))

    def hours(now, period):
        result = run_cli("handoff", "--customer", "cus_a", "--period", period,
                         env={"USAGE_DATA_DIR": str(tmp_path), "ANALYTICS_NOW": now})
        assert result.returncode == 0, result.stderr
        pack = json.loads(result.stdout)
        return pack["workspace_runtime_hours"], pack["period"]["final"]

    assert hours("2026-03-31T22:30:00Z", "2026-03") == (2.5, False)  # ws1 to now; ws2 not started
    assert hours("2026-04-01T03:00:00Z", "2026-03") == (4 + 1, True)  # both stop at the period end
    assert hours("2026-04-01T03:00:00Z", "2026-04") == (3 + 1.5, False)  # ws1 to now, ws2's April part
