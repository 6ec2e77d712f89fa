"""Billing readiness: every branch of docs/product.md §5, and the snapshot that is in force."""
from datetime import timedelta
from decimal import Decimal

import pytest

from conftest import at, customer
from usage_analytics.rules import BillingSnapshot, billing_readiness
from usage_analytics.periods import Period
from usage_analytics.summary import customer_summary

NOW = at("2026-03-20 12:00")


def snap(mode, **fields):
    return BillingSnapshot(as_of=NOW - timedelta(days=1), billing_mode=mode, **fields)


CASES = [
    # (account status, snapshot, allowed, next action, failing gates)
    ("active", snap("paid", payment_verified=True), True, "none", []),
    ("active", snap("paid", payment_verified=False), False, "setup", ["payment verified"]),
    ("active", snap("trial", trial_status="approved", trial_ends_at=NOW + timedelta(days=3)), True, "none", []),
    ("active", snap("trial", trial_status="approved"), True, "none", []),  # no end date
    ("active", snap("trial", trial_status="approved", trial_ends_at=NOW), False, "setup", ["trial not ended"]),
    ("active", snap("trial", trial_status="pending"), False, "support", ["trial approved"]),
    ("active", snap("trial", trial_status="expired", trial_ends_at=NOW - timedelta(days=1)), False, "setup",
     ["trial approved", "trial not ended"]),
    ("active", snap("trial"), False, "setup", ["trial approved"]),  # trial mode, never requested
    ("active", snap("prepaid", prepaid_workspace_hours=10.0, prepaid_ai_usd=Decimal("5")), True, "none", []),
    ("active", snap("prepaid", prepaid_workspace_hours=0.0, prepaid_ai_usd=Decimal("5")), False, "funding",
     ["prepaid workspace hours"]),
    ("active", snap("prepaid", prepaid_workspace_hours=10.0, prepaid_ai_usd=Decimal("0")), False, "funding",
     ["prepaid AI balance"]),
    ("active", snap("prepaid"), False, "funding", ["prepaid workspace hours", "prepaid AI balance"]),
    ("active", snap("none"), False, "setup", ["billing set up"]),
    ("active", None, False, "setup", ["billing set up"]),
    ("onboarding", snap("paid", payment_verified=True), False, "setup", ["account active"]),
    ("suspended", snap("paid", payment_verified=True), False, "support", ["account active"]),
    ("suspended", snap("prepaid", prepaid_workspace_hours=0.0), False, "support",
     ["account active", "prepaid workspace hours", "prepaid AI balance"]),
]


@pytest.mark.parametrize("status, snapshot, allowed, action, failing", CASES)
def test_billing_readiness(status, snapshot, allowed, action, failing):
    result = billing_readiness(status, snapshot, NOW)
    assert (result.creation_allowed, result.next_action) == (allowed, action)
    assert [g.gate for g in result.gates if not g.passed] == failing
    assert result.gates[0].gate == "account active" and result.gates[1].gate == "billing set up"


def test_funding_reason_names_the_empty_balance_or_both():
    result = billing_readiness("active", snap("prepaid", prepaid_workspace_hours=4.0, prepaid_ai_usd=Decimal(0)), NOW)
    assert result.reason == "prepaid AI balance is empty"
    both = billing_readiness("active", snap("prepaid", prepaid_workspace_hours=0.0, prepaid_ai_usd=Decimal(0)), NOW)
    assert both.reason == "prepaid workspace hours are empty; prepaid AI balance is empty"
    suspended = billing_readiness("suspended", snap("prepaid", prepaid_workspace_hours=0.0), NOW)
    assert (suspended.next_action, suspended.reason) == ("support", "account is suspended")


def test_every_gate_is_listed_for_the_mode():
    gates = billing_readiness("active", snap("prepaid", prepaid_workspace_hours=1.0, prepaid_ai_usd=Decimal(1)), NOW)
    assert [g.gate for g in gates.gates] == ["account active", "billing set up", "prepaid workspace hours",
                                             "prepaid AI balance"]


def test_verdicts_are_shared_by_equal_terms_but_each_keeps_its_own_snapshot():
    # The verdict is worked out once per set of terms (thousands of customers share a few), never per as_of.
    older = BillingSnapshot(as_of=NOW - timedelta(days=9), billing_mode="prepaid", prepaid_workspace_hours=2.0,
                            prepaid_ai_usd=Decimal("1.5"))
    newer = BillingSnapshot(as_of=NOW - timedelta(days=1), billing_mode="prepaid", prepaid_workspace_hours=2.0,
                            prepaid_ai_usd=Decimal("1.5"))
    first, second = billing_readiness("active", older, NOW), billing_readiness("active", newer, NOW)
    assert (first.snapshot, second.snapshot) == (older, newer)
    assert first.gates == second.gates and first.gates[3].detail == "$1.50 AI balance left"
    emptier = billing_readiness("active", snap("prepaid", prepaid_workspace_hours=2.0, prepaid_ai_usd=Decimal("0.5")),
                                NOW)
    assert emptier.gates[3].detail == "$0.50 AI balance left"
    ended = billing_readiness("active", snap("trial", trial_status="approved", trial_ends_at=NOW), NOW)
    running = billing_readiness("active", snap("trial", trial_status="approved", trial_ends_at=NOW),
                                NOW - timedelta(hours=1))
    assert (ended.creation_allowed, running.creation_allowed) == (False, True)


def billing(store, customer_id, now):
    """The readiness the pages and the handoff show for this customer as of now."""
    return customer_summary(store, customer_id, Period.month(2026, 3), now).billing


def _row(as_of, mode, **fields):
    return {"customer_id": "cus_a", "as_of": at(as_of), "billing_mode": mode, "payment_verified": False, **fields}


def test_the_latest_snapshot_not_after_now_is_in_force(exports):
    store = exports(customers=[customer(), customer("cus_b"), customer("cus_c")], billing_accounts=[
        _row("2026-03-01 00:00", "trial", trial_status="pending"),
        _row("2026-03-18 00:00", "paid", payment_verified=True),
        _row("2026-03-25 00:00", "none"),  # after now: not yet in force
        _row("2026-03-19 00:00", "paid", customer_id="cus_b"),
    ])
    result = billing(store, "cus_a", NOW)
    assert (result.billing_mode, result.creation_allowed, result.next_action) == ("paid", True, "none")
    assert billing(store, "cus_a", at("2026-03-10 00:00")).next_action == "support"
    assert billing(store, "cus_c", NOW).billing_mode == "none"  # no snapshot at all
    assert billing(store, "cus_b", NOW).billing_mode == "paid"


def test_a_trial_end_read_from_parquet_is_compared_in_utc(exports):
    store = exports(customers=[customer()], billing_accounts=[
        _row("2026-03-01 00:00", "trial", trial_status="approved", trial_ends_at=at("2026-03-20 11:59")),
    ])
    assert billing(store, "cus_a", NOW).next_action == "setup"
    assert billing(store, "cus_a", at("2026-03-20 11:58")).creation_allowed
