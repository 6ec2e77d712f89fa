"""Pages that never take a figure for more than it is, through app.py's real router (AppTest): a period outside
the exports, an unreadable export file, a refused latest billing snapshot, a closed month's lag, and the
mismatch amounts; each as a customer admin and as an operator."""
import os
import shutil
from datetime import datetime, timezone

import pytest

from conftest import ROOT
from test_app import ADMIN, OPERATOR, page, texts
from usage_analytics.periods import Period
from usage_analytics.sample import write_dataset

ACME = "cus_acme_robotics"


def month(at_label: str) -> dict:
    return {"period_month": Period.parse(at_label)}


def metric(at, starts: str):
    return next(m for m in at.metric if m.label.startswith(starts))


@pytest.fixture
def copy(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "data", tmp_path / "data")
    monkeypatch.setenv("USAGE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.mark.parametrize("who, customer", [(ADMIN, None), (OPERATOR, ACME)])
def test_a_period_before_the_exports_says_so_and_is_no_data_not_a_final_zero(who, customer):
    at = page(who, "overview", customer, "Calendar month", **month("2025-11"))
    assert not at.exception
    assert any(w.value.startswith("**This period is outside the exports:** the period ends before the exports start "
                                  "on 2026-05-31 UTC") for w in at.warning)
    cost = metric(at, "Managed-AI cost")
    assert (cost.label, cost.value, cost.delta) == ("Managed-AI cost · no data", "—", "")  # not a big $0.00
    assert not [m for m in at.markdown if "final" in m.value and "can be quoted" in m.value]
    at = page(who, "reconciliation", customer, "Calendar month", **month("2025-11"))
    assert any(w.value.startswith("No\\: there is no data for this period") for w in at.warning)


@pytest.mark.parametrize("who, customer", [(ADMIN, None), (OPERATOR, ACME)])
def test_an_unreadable_export_file_marks_the_figures_incomplete_next_to_them(copy, who, customer):
    (copy / "ai_usage" / "month=2026-10" / "part-0.parquet").write_bytes(os.urandom(4096))
    at = page(who, "overview", customer, "Calendar month", **month("2026-10"))
    assert not at.exception
    assert [e.value for e in at.error if e.value.startswith("**Incomplete figures:**")] == [
        "**Incomplete figures:** export files could not be read (ai_usage: 1 file). Every figure made from them is "
        "marked incomplete and none of them is final; "
        + ("the Data health page lists them." if who == OPERATOR else "the platform's operators can see which.")]
    cost = metric(at, "Managed-AI cost")
    assert cost.label == "Managed-AI cost · incomplete" and cost.delta == ""  # no −100 % from a missing file
    assert metric(at, "Workspace runtime").label == "Workspace runtime · final"  # sessions were all read
    if who == ADMIN:
        assert str(copy) not in texts(at)  # no server path for a customer
    at = page(who, "reconciliation", customer, "Calendar month", **month("2026-10"))
    assert any(w.value.startswith("No\\: the managed\\-AI total is incomplete") for w in at.warning)


def test_an_unreadable_file_keeps_the_handoff_and_the_close_from_claiming_anything(copy):
    (copy / "ai_usage" / "month=2026-10" / "part-0.parquet").write_bytes(os.urandom(4096))
    at = page(OPERATOR, "handoff", ACME, "Calendar month", **month("2026-10"))
    assert any(e.value.startswith("This pack is **incomplete**: ai\\_usage\\: 1 file could not be read") for e in at.error)
    at = page(OPERATOR, "close", None, "Calendar month", **month("2026-10"))
    assert not at.exception and not [b for b in at.button if b.label.startswith("Close ")]


@pytest.mark.parametrize("who, customer", [(ADMIN, None), (OPERATOR, ACME)])
def test_a_refused_latest_billing_snapshot_is_an_unknown_state_never_no_account(copy, who, customer):
    write_dataset(copy, "billing_accounts", [{
        "customer_id": ACME, "as_of": datetime(2026, 11, 24, 11, tzinfo=timezone.utc), "billing_mode": "platinum",
        "payment_verified": True}], part="part-9")
    at = page(who, "billing", customer)
    assert not at.exception
    assert [w.value for w in at.warning if "billing state is unknown" in w.value] == [
        "**The billing state is unknown:** the latest billing snapshot on record was not used\\: column billing\\_mode "
        "has an unknown value \\(\\'platinum\\'\\). Whether workspace creation is allowed cannot be told from the "
        "exports. Next action: **support**."]
    assert any(w.value.startswith("**Some of this account's own rows in the exports were not used**") and
               "billing_accounts: 1 row, column billing_mode has an unknown value" in w.value for w in at.warning)
    assert "no billing account on record" not in texts(at)
    if who == ADMIN:
        assert str(copy) not in texts(at)


def test_a_closed_months_lag_is_the_periods_and_today_is_said_apart():
    at = page(ADMIN, "reconciliation", None, "Calendar month", **month("2026-10"))
    lines = [m.value for m in at.markdown]
    assert ":red-badge[mismatch]" in lines and ":green-badge[final]" in lines  # openai; anthropic and google
    assert ("In this period: mismatch on 2026-10-15. Today: :red-badge[stale] reconciled through 2026-10-14 · 40 days "
            "behind · first open day **2026-10-15** (a mismatch, inside this period): the platform is resolving a "
            "mismatch with openai on 2026-10-15.") in lines
    assert "Metered and provider cost" in [s.value for s in at.subheader]
    assert not [e for e in at.expander if e.label.startswith("Per day (operators)")]  # operators only
    at = page(OPERATOR, "reconciliation", ACME, "Calendar month", **month("2026-10"))
    assert [e.label for e in at.expander if e.label.startswith("Per day")] == [
        "Per day (operators) · 81 provider-days with a reconciliation row"]  # 81 (provider, day) rows in October
    november = page(OPERATOR, "reconciliation", ACME, "Calendar month", **month("2026-11"))
    assert [c.value for c in november.caption if "half a cent" in c.value] == [  # openai's $0.003661 on Nov 18th
        "1 mismatched provider-day differs by under half a cent, so the table shows $0.00 there; Download CSV has "
        "every amount exactly. A day with no provider amount: the provider has sent no figure for it yet."]
    assert not [c for c in at.caption if "half a cent" in c.value]  # October's mismatch shows its cents


@pytest.mark.parametrize("who, customer", [(ADMIN, None), (OPERATOR, ACME)])
def test_a_mismatch_under_a_cent_is_said_exactly_beside_its_zero_cents(who, customer):
    """Acme's openai mismatch in November is $0.003661: the table's cents say $0.00 beside a mismatch badge, so
    the page says the exact amount."""
    at = page(who, "reconciliation", customer, "Calendar month", **month("2026-11"))
    assert not at.exception
    assert [c.value for c in at.caption if "under a cent" in c.value] == [
        "openai's mismatch is $0.003661: under a cent, so the table shows $0.00."]
    october = page(who, "reconciliation", customer, "Calendar month", **month("2026-10"))
    assert not [c for c in october.caption if "under a cent" in c.value]  # (its mismatch is dollars)


@pytest.mark.parametrize("who, customer", [(ADMIN, None), (OPERATOR, ACME)])
def test_amounts_that_do_not_add_up_in_cents_are_said_exactly(who, customer):
    """October for Acme's openai: metered $9.62 and provider $9.63 on the compared days beside a $0.02 mismatch, each
    rounded on its own (9.634143 - 9.618905 = 0.015238); the page says the exact amounts. November's sub-cent
    mismatch has its own sentence, and a provider whose cents add up gets none."""
    october = page(who, "reconciliation", customer, "Calendar month", **month("2026-10"))
    assert not october.exception
    assert [c.value for c in october.caption if "one by one" in c.value] == [
        "openai's amounts are rounded to the cent one by one: exactly $9.618905 metered and $9.634143 from the "
        "provider on those days, and a mismatch of $0.015238."]
    november = page(who, "reconciliation", customer, "Calendar month", **month("2026-11"))
    assert not [c for c in november.caption if "one by one" in c.value]


def test_stale_exports_cut_both_months_where_the_data_stops(monkeypatch):
    """Three days after the sample's exports stop (10:45:58 on Nov 24th), November's change against October is
    the one the exports can support: both cut at Nov 24 10:45, exactly as on the day the exports were fresh."""
    monkeypatch.setenv("ANALYTICS_NOW", "2026-11-24T10:45:58Z")  # fresh: now is where the data stops
    fresh = page(ADMIN, "overview")
    monkeypatch.setenv("ANALYTICS_NOW", "2026-11-27T12:00:00Z")  # the same exports, three days stale
    stale = page(ADMIN, "overview")
    assert not stale.exception
    changes = lambda at: [(m.label.split(" · ")[0], m.delta) for m in at.metric[:3]]  # noqa: E731 (the cards)
    assert changes(stale) == changes(fresh) and all(delta for _, delta in changes(fresh))
    assert ("Change vs October 2026 cut at the same point: Nov 01 00:00 → Nov 24 10:45 UTC against Oct 01 00:00 → "
            "Oct 24 10:45 UTC.") in [c.value for c in stale.caption]
    assert any("open, figures to 2026-11-24 10:45 UTC (where the exports stop)" in m.value for m in stale.markdown)
    assert any(w.value.startswith("**This period is only partly inside the exports:** the exports end 2026-11-24 "
                                  "10:45 UTC, before the period's now") for w in stale.warning)
    assert metric(stale, "Managed-AI cost").label == "Managed-AI cost · provisional"
