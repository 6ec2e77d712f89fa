"""The sample generator: deterministic, and the bundled data/ is exactly its output."""
import json
from datetime import datetime, timezone

import pyarrow.parquet as pq
import pytest

from conftest import ROOT
from usage_analytics import sample
from usage_analytics.contract import DATASETS
from usage_analytics.periods import Period

NOW = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    return out, sample.generate(out, NOW)


def test_bundled_data_is_the_generator_output(regenerated):
    out, manifest = regenerated
    assert json.loads((ROOT / "data" / "sample.json").read_text()) == manifest
    for name in DATASETS:
        ours, bundled = pq.read_table(out / name), pq.read_table(ROOT / "data" / name)
        assert ours.equals(bundled), f"data/{name} differs from `python -m usage_analytics sample-data`"


def test_the_generator_is_deterministic(tmp_path):
    a = sample.generate(tmp_path / "a", NOW, customers=6)
    b = sample.generate(tmp_path / "b", NOW, customers=6)
    assert a == b
    for name in DATASETS:
        assert pq.read_table(tmp_path / "a" / name).equals(pq.read_table(tmp_path / "b" / name))


def test_six_months_ending_at_the_current_month(regenerated):
    out, _ = regenerated
    starts = pq.read_table(out / "ai_usage", columns=["bucket_start"]).column(0).to_pylist()
    assert min(starts) >= datetime(2026, 6, 1, tzinfo=timezone.utc)
    assert max(starts) < NOW and max(starts).date() == NOW.date()
    assert {f"{s:%Y-%m}" for s in starts} == {"2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"}


def test_the_sample_has_the_situations_the_demo_needs(sample_store):
    sessions = pq.read_table(ROOT / "data" / "workspace_sessions").to_pylist()
    assert sum(s["ended_at"] is None for s in sessions) >= 5, "some workspaces run now"
    assert any(s["ended_at"] and s["ended_at"].date() > s["started_at"].date() for s in sessions), "cross midnight"
    assert {s["template"] for s in sessions} == {"standard", "large", "gpu"}
    by_ws = {}
    overlaps = 0
    for s in sorted(sessions, key=lambda s: (s["workspace_id"], s["started_at"])):
        end = s["ended_at"] or NOW
        if s["workspace_id"] in by_ws and s["started_at"] < by_ws[s["workspace_id"]]:
            overlaps += 1
        by_ws[s["workspace_id"]] = max(end, by_ws.get(s["workspace_id"], end))
    assert overlaps >= 20
    assert 200 <= len({s["workspace_id"] for s in sessions}) <= 500
    customers = pq.read_table(ROOT / "data" / "customers").to_pylist()
    assert {c["account_status"] for c in customers} == {"active", "onboarding", "suspended"}
    billing = pq.read_table(ROOT / "data" / "billing_accounts").to_pylist()
    assert {b["trial_status"] for b in billing} == {None, "approved", "pending", "expired"}
    balances = {b["prepaid_ai_usd"] for b in billing if b["billing_mode"] == "prepaid"}
    assert min(balances) == 0 and max(balances) >= 1000 and any(0 < b < 10 for b in balances)
    assert len({c["customer_id"] for c in billing}) < len(customers), "a customer with no billing row"
    month = Period.parse("2026-11")
    runtime = sample_store.run("runtime_by_workspace_day", customer_id="cus_northwind_traders",
                               period_start=month.start, period_end=month.end, now=NOW)
    assert runtime["runtime_hours"].sum() > 100 and runtime["is_running"].any()


def test_regenerating_replaces_the_old_sample_and_never_touches_real_exports(tmp_path):
    sample.generate(tmp_path / "s", datetime(2026, 3, 10, tzinfo=timezone.utc), customers=2)
    sample.generate(tmp_path / "s", NOW, customers=2)
    months = {p.name for p in (tmp_path / "s" / "ai_usage").iterdir()}
    assert months == {"month=2026-06", "month=2026-07", "month=2026-08", "month=2026-09", "month=2026-10",
                      "month=2026-11"}
    (tmp_path / "real" / "customers").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="not a generated sample"):
        sample.generate(tmp_path / "real", NOW, customers=2)
    assert (tmp_path / "real" / "customers").is_dir()
