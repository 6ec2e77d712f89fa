"""The small pure decisions of docs/product.md §5: reconciliation lag and badges, final totals, billing readiness."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache
from itertools import repeat
from typing import Iterable, NamedTuple

CURRENT, LAGGING, STALE, MISMATCH, NOT_CONFIGURED = "current", "lagging", "stale", "mismatch", "not configured"
FINAL, PROVISIONAL = "final", "provisional"
INCOMPLETE = "incomplete"  # a file the figure is made from could not be read: never final, never quoted
NO_DATA = "no data"  # the period lies outside the exports: nothing to be final about
UNKNOWN = "unknown"  # a billing state that cannot be known (its latest snapshot was refused or not read)
NONE, SETUP, FUNDING, SUPPORT = "none", "setup", "funding", "support"
MICRO_USD = Decimal("0.000001")
_HALF_UP = Context(rounding=ROUND_HALF_UP)  # Python's default context (28 digits, its traps), rounding half up
_NO_USD = Decimal("0.000000")


def usd(amount: Decimal | None) -> Decimal:
    """Money rounded to 6 decimal places, half up (the precision of every total we show or export). Through a
    context of its own: a third of the time of quantize(..., rounding=...) on the thread's, and an operators' month
    rounds 42,000 amounts."""
    return _NO_USD if amount is None else _HALF_UP.quantize(amount, MICRO_USD)


def usd_all(amounts: Iterable[Decimal]) -> list[Decimal]:
    """usd of each of many amounts, none of them None: a column of money rounded without a Python call per value."""
    return list(map(_HALF_UP.quantize, amounts, repeat(MICRO_USD)))


def reconciled_through(first_open_day: date | None, today: date) -> date:
    """The day before the first open day, or yesterday when no day is open."""
    yesterday = today - timedelta(days=1)
    if first_open_day is None or first_open_day > yesterday:
        return yesterday
    return first_open_day - timedelta(days=1)


def lag_days(through: date, today: date) -> int:
    """Days from reconciled-through to yesterday."""
    return max(0, ((today - timedelta(days=1)) - through).days)


def badge(lag: int, mismatch_in_period: bool) -> str:
    """The badge of a linked provider (one without a link is NOT_CONFIGURED, and has no lag)."""
    if mismatch_in_period:
        return MISMATCH
    if lag == 0:
        return CURRENT
    return LAGGING if lag <= 3 else STALE


BADGE_ORDER = (MISMATCH, STALE, LAGGING, CURRENT, NOT_CONFIGURED)  # worst first
NEEDS_ATTENTION = (MISMATCH, STALE)  # a mismatch in the period, or a provider more than 3 days behind


def worst_badge(badges: list[str]) -> str:
    """The worst of several badges (a customer's, from its providers'); not configured when there are none."""
    return min(badges, key=BADGE_ORDER.index) if badges else NOT_CONFIGURED


def needs_attention(badge: str) -> bool:
    """Whether a reconciliation badge asks an operator to look: a mismatch, or stale."""
    return badge in NEEDS_ATTENTION


def not_yet_due(day: date, today: date) -> bool:
    """Whether a day's reconciliation is not due yet: it arrives after the day ends, so today and yesterday."""
    return day >= today - timedelta(days=1)


def open_day_text(status: str | None, day: date, today: date) -> str:
    """An open (not matched) day, said shortly: 'mismatch on 2026-10-15', 'reconciliation of … not due yet'.
    (Only the text it returns is made: the attention queue says this for thousands of providers.)"""
    text = day.isoformat()
    if not_yet_due(day, today):
        return f"reconciliation of {text} not due yet"
    if status == "mismatch":
        return f"mismatch on {text}"
    if status == "pending":
        return f"pending on {text}"
    return f"no reconciliation row for {text}"


def total_status(period_ended: bool, usage_days: int, matched_days: int) -> str:
    """Final only when the period has ended and every day with usage in it is matched."""
    return FINAL if period_ended and matched_days == usage_days else PROVISIONAL


@dataclass(frozen=True)
class BillingSnapshot:
    as_of: datetime
    billing_mode: str
    payment_verified: bool = False
    trial_status: str | None = None
    trial_ends_at: datetime | None = None
    prepaid_workspace_hours: float | None = None
    prepaid_ai_usd: Decimal | None = None

    @property
    def terms(self) -> _Terms:
        """Everything the verdict reads: all but as_of."""
        return _Terms(self.billing_mode, self.payment_verified, self.trial_status, self.trial_ends_at,
                      self.prepaid_workspace_hours, self.prepaid_ai_usd)


class _Terms(NamedTuple):
    billing_mode: str
    payment_verified: bool
    trial_status: str | None
    trial_ends_at: datetime | None
    prepaid_workspace_hours: float | None
    prepaid_ai_usd: Decimal | None


@dataclass(frozen=True)
class Gate:
    gate: str
    passed: bool
    detail: str
    action: str  # the next action this gate asks for while it fails


@dataclass(frozen=True)
class Readiness:
    billing_mode: str
    creation_allowed: bool | None  # None: the billing state is unknown (see unknown_billing)
    next_action: str
    reason: str
    gates: tuple[Gate, ...]
    snapshot: BillingSnapshot | None = None  # the snapshot in force, for its as-of time and balances


def _account_gate(status: str) -> Gate:
    action = {"active": NONE, "onboarding": SETUP}.get(status, SUPPORT)
    detail = "account is active" if status == "active" else f"account is {status or 'without a status'}"
    return Gate("account active", status == "active", detail, action)


def _mode_gates(terms: _Terms, now: datetime) -> list[Gate]:
    mode = terms.billing_mode
    if mode == "paid":
        verified = bool(terms.payment_verified)
        detail = "payment method verified" if verified else "payment method not verified yet"
        return [Gate("payment verified", verified, detail, SETUP)]
    if mode == "trial":
        status = terms.trial_status
        approved = Gate(
            "trial approved", status == "approved", f"trial is {status or 'not requested'}",
            SUPPORT if status == "pending" else SETUP,
        )
        ends = terms.trial_ends_at
        running = ends is None or ends > now
        detail = "trial has no end date" if ends is None else (
            f"trial {'ends' if running else 'ended'} {ends:%Y-%m-%d %H:%M} UTC")
        return [approved, Gate("trial not ended", running, detail, SETUP)]
    if mode == "prepaid":
        hours, ai = terms.prepaid_workspace_hours or 0.0, terms.prepaid_ai_usd or Decimal(0)
        return [
            Gate("prepaid workspace hours", hours > 0,
                 f"{hours:,.2f} workspace hours left" if hours > 0 else "prepaid workspace hours are empty", FUNDING),
            Gate("prepaid AI balance", ai > 0,
                 f"${usd(ai):,.2f} AI balance left" if ai > 0 else "prepaid AI balance is empty", FUNDING),
        ]
    return []


def unknown_billing(reason: str) -> Readiness:
    """The verdict when the billing state cannot be known: the customer's latest snapshot was refused by the
    checks, or a billing file could not be read. Never "no billing account": creation is neither allowed nor
    blocked, and support must look."""
    return Readiness(UNKNOWN, None, SUPPORT, reason, (Gate("billing state known", False, reason, SUPPORT),))


def billing_readiness(account_status: str, snapshot: BillingSnapshot | None, now: datetime) -> Readiness:
    """Whether workspace creation is allowed as of now, every gate, and the next action."""
    return Readiness(*_verdict(account_status, snapshot and snapshot.terms, now), snapshot)


@lru_cache(maxsize=4096)  # thousands of customers share a few sets of terms; the verdict never reads as_of
def _verdict(account_status: str, terms: _Terms | None, now: datetime) -> tuple[str, bool, str, str, tuple[Gate, ...]]:
    mode = terms.billing_mode if terms else "none"
    configured = mode in ("paid", "trial", "prepaid")
    detail = f"billing mode is {mode}" if terms else "no billing account on record"
    gates = [_account_gate(account_status), Gate("billing set up", configured, detail, SETUP)]
    if terms and configured:
        gates += _mode_gates(terms, now)
    failing = [g for g in gates if not g.passed]
    if not failing:
        return mode, True, NONE, "every gate passes", tuple(gates)
    action = failing[0].action  # the first failing gate decides; its siblings explain too
    reason = "; ".join(g.detail for g in failing if g.action == action)
    return mode, False, action, reason, tuple(gates)
