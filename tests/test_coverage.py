"""What the figures cannot tell: comparisons that match the period kind and cut where data stops, the exports'
coverage of a period, unread files, a customer's own refused rows, mismatch amounts and why a total is
provisional. Given/expect, every value worked out by hand."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import at, customer, link, recon, session, usage
from usage_analytics import coverage, handoff, rules
from usage_analytics.contract import DATASETS
from usage_analytics.periods import Period, comparison
from usage_analytics.store import Store
from usage_analytics.summary import customer_summary, summaries
from usage_analytics.validation import DatasetReport

UTC = timezone.utc
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- comparisons -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("period, moment, until, previous, cut, reach", [
    # an open month: month to date against the same days and hour of the previous month
    ("2026-11", NOW, None, "2026-10", utc(2026, 10, 24, 12), NOW),
    # an ended month: the whole previous month (31 days against 30, and 28 against 31)
    ("2026-10", NOW, None, "2026-09", utc(2026, 10, 1), utc(2026, 11, 1)),
    ("2026-02", NOW, None, "2026-01", utc(2026, 2, 1), utc(2026, 3, 1)),
    # March to the 31st 15:00 against February: the previous month is shorter, so all of it
    ("2026-03", utc(2026, 3, 31, 15), None, "2026-02", utc(2026, 3, 1), utc(2026, 3, 31, 15)),
    # exports three days stale: both months cut where the data stops (the 21st 12:00), not at now
    ("2026-11", NOW, utc(2026, 11, 21, 12), "2026-10", utc(2026, 10, 21, 12), utc(2026, 11, 21, 12)),
    # an ended month whose exports stop on its 20th: cut there too
    ("2026-10", NOW, utc(2026, 10, 20), "2026-09", utc(2026, 9, 20), utc(2026, 10, 20)),
    # last 7 days (18th..24th, open today): the 7 days before, cut at the same point
    ("2026-11-18..2026-11-24", NOW, None, "2026-11-11..2026-11-17", utc(2026, 11, 17, 12), NOW),
    # a custom range that has ended: the range of equal length before it, whole
    ("2026-11-01..2026-11-10", NOW, None, "2026-10-22..2026-10-31", utc(2026, 11, 1), utc(2026, 11, 11)),
])
def test_a_comparison_matches_the_period_kind_and_cuts_both_at_the_same_offset(period, moment, until, previous,
                                                                                 cut, reach):
    found = comparison(Period.parse(period), moment, until)
    assert (found.previous, found.cut, found.reach) == (Period.parse(previous), cut, reach)


def test_a_comparison_names_both_stretches():
    assert comparison(Period.parse("2026-11"), NOW).label == (
        "October 2026 cut at the same point: Nov 01 00:00 → Nov 24 12:00 UTC against Oct 01 00:00 → Oct 24 12:00 UTC")
    assert comparison(Period.parse("2026-10"), NOW).label == "September 2026 (2026-09-01 → 2026-09-30 UTC, whole)"


def test_nothing_is_compared_before_a_period_starts_or_before_its_data_does():
    assert comparison(Period.parse("2026-12"), NOW) is None
    assert comparison(Period.parse("2026-11"), NOW, utc(2026, 10, 30)) is None  # stale since before it began


# --- coverage of a period by the exports -------------------------------------------------------------------

def reports(oldest: datetime | None, newest: datetime | None, unread: int = 0) -> dict[str, DatasetReport]:
    """Both usage exports spanning oldest..newest; unread files in ai_usage."""
    found = {name: DatasetReport(name, oldest=oldest, newest=newest) for name in ("workspace_sessions", "ai_usage")}
    found["ai_usage"].bad_files = [(f"part-{n}.parquet", "not parquet") for n in range(unread)]
    return found


SPAN = reports(utc(2026, 5, 31, 22, 2), utc(2026, 11, 24, 10, 45))  # the sample's exports


@pytest.mark.parametrize("period, level", [
    ("2025-11", coverage.NONE),  # wholly before the exports
    ("2026-05", coverage.PARTIAL),  # the exports start on its last day
    ("2026-05-31..2026-06-30", coverage.FULL),  # starts the day the exports do: whole days
    ("2026-10", coverage.FULL),
    ("2026-11", coverage.FULL),  # open, the exports 1h15 behind now: fresh
    ("2026-12", coverage.NONE),  # not started
])
def test_coverage_of_a_period_before_across_and_inside_the_exports(period, level):
    assert coverage.coverage(SPAN, Period.parse(period), NOW).level == level


def test_stale_exports_cover_an_open_period_partly_and_say_where_they_stop():
    found = coverage.coverage(reports(utc(2026, 1, 1), utc(2026, 11, 21, 12)), Period.parse("2026-11"), NOW)
    assert (found.level, found.stale_until) == (coverage.PARTIAL, utc(2026, 11, 21, 12))
    assert found.note == "the exports end 2026-11-21 12:00 UTC, before the period's now: usage outside the " \
                         "exports is missing"
    # within EXPORT_MAX_AGE_HOURS (36 by default; here 80) the same exports reach now
    assert coverage.coverage(reports(utc(2026, 1, 1), utc(2026, 11, 21, 12)), Period.parse("2026-11"), NOW,
                             80).level == coverage.FULL


def test_no_usage_at_all_covers_nothing():
    assert coverage.coverage(reports(None, None), Period.parse("2026-10"), NOW).level == coverage.NONE


@pytest.mark.parametrize("unread, level, final, status", [
    (1, coverage.FULL, True, rules.INCOMPLETE),  # an unread file beats everything
    (1, coverage.NONE, True, rules.INCOMPLETE),  # (the unread file may hold the period)
    (0, coverage.NONE, True, rules.NO_DATA),
    (0, coverage.PARTIAL, True, rules.PROVISIONAL),  # never final when partly covered
    (0, coverage.FULL, True, rules.FINAL),
    (0, coverage.FULL, False, rules.PROVISIONAL),
])
def test_a_figures_status_from_unread_files_coverage_and_its_own_rule(unread, level, final, status):
    found = coverage.Coverage(None, None, level, "", {"ai_usage": unread} if unread else {})
    assert found.status(coverage.MANAGED_AI, final) == status
    assert found.status(coverage.RUNTIME, final) == (status if not unread else
                                                     rules.NO_DATA if level == coverage.NONE else
                                                     rules.FINAL if final and level == coverage.FULL else
                                                     rules.PROVISIONAL)  # runtime is not made from ai_usage


# --- a customer's figures ----------------------------------------------------------------------------------

BILLING = {"customer_id": "cus_a", "billing_mode": "paid", "payment_verified": True}


def snapshot(when: str, **fields) -> dict:
    return {**BILLING, "as_of": at(when), **fields}


@pytest.fixture
def october(exports):
    """cus_a, openai linked, October 2026: a matched day (2nd: $1), a mismatch day (12th: $2 metered, provider
    says $2.30), a pending day (20th: $4, provider $3.90 so far); usage from Sep 30 to Nov 24 (full coverage)."""
    def write(**extra):
        rows = dict(
            billing_accounts=[snapshot("2026-09-01 00:00")],
            workspace_sessions=[session("ws1", "2026-09-30 10:00", "2026-09-30 11:00"),
                                session("ws1", "2026-11-24 09:00", "2026-11-24 10:00")],
            ai_usage=[usage("2026-09-30 10:00", cost="0.500000"), usage("2026-10-02 10:00", cost="1.000000"),
                      usage("2026-10-12 10:00", cost="2.000000"), usage("2026-10-20 10:00", cost="4.000000"),
                      usage("2026-11-24 10:00", cost="0.100000")],
            provider_links=[link("openai")],
            reconciliation=[recon("2026-09-30", "matched"), recon("2026-10-02", "matched"),
                            {**recon("2026-10-12", "mismatch"), "metered_cost_usd": Decimal("2.000000"),
                             "provider_cost_usd": Decimal("2.300000")},
                            {**recon("2026-10-20", "pending"), "metered_cost_usd": Decimal("4.000000"),
                             "provider_cost_usd": Decimal("3.900000")}],
        )
        rows.update(extra)
        return exports(**rows)
    return write


def test_mismatch_amounts_and_why_a_total_is_provisional(october):
    item = customer_summary(october(), "cus_a", Period.parse("2026-10"), NOW)
    (openai,) = item.providers
    # provider cost over the days that have one: 1 (the 2nd: recon() gives metered = provider) + 2.3 + 3.9
    assert (openai.cost_usd, openai.provider_cost_usd, openai.mismatch_usd) == (
        Decimal("7.000000"), Decimal("7.200000"), Decimal("0.300000"))  # mismatch: 2.3 - 2.0 on the 12th only
    assert (openai.period_open_day, openai.period_open_status) == (date(2026, 10, 12), "mismatch")
    assert item.ai_status == rules.PROVISIONAL
    assert item.provisional_because == ["openai: mismatch on 2026-10-12"]
    pack = handoff.pack(item)
    assert pack["managed_ai"]["providers"][0]["provider_cost_usd"] == "7.200000"
    assert pack["managed_ai"]["providers"][0]["mismatch_usd"] == "0.300000"
    assert pack["data"] == {"as_of": "2026-11-24T09:00:00Z", "coverage": "full", "note": "", "unread_files": {},
                            "rejected_rows": {}}


def test_a_providers_own_cost_is_summed_exact_to_9_places_and_rounded_once(october, tmp_path, open_store):
    # Given: the provider's cost carries 9 places on the 12th and the 20th (2.300000400 and 3.900000400), as the
    # data contract allows (money is read as DECIMAL(18,9)); the 2nd has $1 exactly.
    october()  # (its reconciliation file is written again below, with money at 9 places)
    rows = [recon("2026-09-30", "matched"), recon("2026-10-02", "matched"),
            {**recon("2026-10-12", "mismatch"), "metered_cost_usd": Decimal("2"),
             "provider_cost_usd": Decimal("2.3000004")},
            {**recon("2026-10-20", "pending"), "metered_cost_usd": Decimal("4"),
             "provider_cost_usd": Decimal("3.9000004")}]
    path, columns = tmp_path / "reconciliation" / "part-0.parquet", DATASETS["reconciliation"].columns
    written = pq.read_schema(path)
    schema = pa.schema([pa.field(c.name, pa.decimal128(18, 9)) if c.kind == "money" else written.field(c.name)
                        for c in columns])
    pq.write_table(pa.Table.from_pylist([{c.name: r.get(c.name) for c in columns} for r in rows], schema=schema), path)
    item = customer_summary(open_store(), "cus_a", Period.parse("2026-10"), NOW)
    (openai,) = item.providers
    # Expect: 1 + 2.3000004 + 3.9000004 = 7.2000008, rounded half up once: 7.200001 (each day rounded to 6 places
    # first gives 7.200000); the mismatch 2.3000004 - 2 = 0.3000004 -> 0.300000.
    assert (openai.provider_cost_usd, openai.mismatch_usd) == (Decimal("7.200001"), Decimal("0.300000"))


def test_a_period_before_the_exports_is_no_data_never_a_final_zero(october):
    item = customer_summary(october(), "cus_a", Period.parse("2025-11"), NOW)
    pack = handoff.pack(item)
    assert (pack["managed_ai"]["status"], pack["workspace_runtime_status"], pack["data"]["coverage"]) == (
        rules.NO_DATA, rules.NO_DATA, coverage.NONE)
    assert pack["managed_ai"]["cost_usd"] == "0.000000"


def test_a_customer_without_usage_in_a_covered_ended_period_is_a_true_final_zero(october):
    store = october(customers=[customer(), customer("cus_b", "Customer B")])
    item = customer_summary(store, "cus_b", Period.parse("2026-10"), NOW)
    assert (item.ai_status, item.runtime_status, item.ai_cost_usd, item.runtime_hours) == (
        rules.FINAL, rules.FINAL, Decimal(0), 0.0)


def test_a_rejected_latest_snapshot_makes_the_billing_state_unknown_not_the_earlier_one(october):
    store = october(billing_accounts=[snapshot("2026-09-01 00:00"),
                                      snapshot("2026-11-20 00:00", billing_mode="platinum")])
    item = customer_summary(store, "cus_a", Period.parse("2026-11"), NOW)
    billing = handoff.pack(item)["billing"]
    assert (billing["billing_mode"], billing["creation_allowed"], billing["next_action"]) == ("unknown", None, "support")
    assert billing["reason"] == ("the latest billing snapshot on record was not used: column billing_mode has an "
                                 "unknown value ('platinum')")
    assert handoff.pack(item)["data"]["rejected_rows"] == {"billing_accounts": 1}


def test_a_rejected_snapshot_older_than_the_one_in_force_changes_nothing(october):
    store = october(billing_accounts=[snapshot("2026-08-01 00:00", billing_mode="platinum"),
                                      snapshot("2026-09-01 00:00")])
    item = customer_summary(store, "cus_a", Period.parse("2026-11"), NOW)
    assert (item.billing.billing_mode, item.billing.creation_allowed, item.rejected_rows) == ("paid", True, {})


def test_a_rejected_session_of_the_customer_is_counted_in_its_period_only(october):
    bad = {**session("ws2", "2026-10-05 10:00", "2026-10-05 12:00"), "template": None}  # template is required
    store = october(workspace_sessions=[session("ws1", "2026-09-30 10:00", "2026-09-30 11:00"), bad,
                                        session("ws1", "2026-11-24 09:00", "2026-11-24 10:00")])
    october_item = customer_summary(store, "cus_a", Period.parse("2026-10"), NOW)
    assert october_item.rejected_rows == {"workspace_sessions": 1}
    assert [(r.dataset, r.column, r.reason, r.rows) for r in october_item.refused] == [
        ("workspace_sessions", "template", "is missing", 1)]
    assert customer_summary(store, "cus_a", Period.parse("2026-11"), NOW).rejected_rows == {}


def test_a_store_whose_checks_refused_no_row_is_not_asked_for_a_customers_refused_rows(october, monkeypatch):
    """No refused row in the exports: no customer has one, so the figures, of one customer or of all, do not run
    the query (4-6 ms of CPU at 100M). With one, they run it and name the row."""
    asked = []
    run = Store.run
    monkeypatch.setattr(Store, "run", lambda self, name, **params: asked.append(name) or run(self, name, **params))
    clean = october()
    assert clean.refused_any is False
    for scope in ("cus_a", None):
        assert summaries(clean, Period.parse("2026-10"), NOW, scope)["cus_a"].refused == ()
    assert "billing_snapshot" in asked and "customer_refused_rows" not in asked
    bad = {**session("ws2", "2026-10-05 10:00", "2026-10-05 12:00"), "template": None}  # template is required
    refused = october(workspace_sessions=[session("ws1", "2026-09-30 10:00", "2026-09-30 11:00"), bad])
    assert refused.refused_any is True
    for scope in ("cus_a", None):
        assert [(r.dataset, r.column, r.rows) for r in summaries(refused, Period.parse("2026-10"), NOW,
                                                                 scope)["cus_a"].refused] == [
            ("workspace_sessions", "template", 1)]
    assert asked.count("customer_refused_rows") == 2
