"""Looking ahead (docs/product.md §5.12): prepaid balances estimated now, with burn and runway; an approved trial's
days left; a projection of an open period to its end. Pure: the usage they read comes from queries/outlook.sql.

The readiness verdict stays the platform's (rules.billing_readiness, as of the billing snapshot); what is here is
an estimate beside it, and a projection is never added into a total, a pack's figures or an export."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from . import rules
from .periods import Period

TRAILING_DAYS = 7  # the burn and a projection's daily rate: the 7 whole UTC days before today's midnight
DEFAULT_LOW_DAYS = 7.0  # LOW_BALANCE_DAYS
DEFAULT_STALL_DAYS = 14.0  # ONBOARDING_STALL_DAYS
WORKSPACE_HOURS, AI_USD = "workspace_hours", "ai_usd"
NAMES = {WORKSPACE_HOURS: "workspace-hours balance", AI_USD: "managed-AI balance"}
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Usage:
    """One customer's rows of the outlook query: the trailing 7 days, and (prepaid) since the snapshot."""
    runtime_hours_7d: float = 0.0
    ai_usd_7d: Decimal = Decimal(0)
    runtime_hours_since: float | None = None
    ai_usd_since: Decimal | None = None


def tenth(value: float) -> float:
    """Rounded to 0.1, half up (a runway, a trial's days left)."""
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), ROUND_HALF_UP))


@dataclass(frozen=True)
class Balance:
    """A prepaid balance as of now: the snapshot's, less what was used since, and how long it lasts."""
    kind: str  # WORKSPACE_HOURS (float hours) | AI_USD (Decimal dollars)
    snapshot: float | Decimal
    as_of: datetime
    used_since: float | Decimal
    estimated_now: float | Decimal
    burn_per_day: float | Decimal
    runway_days: float | None  # rounded to 0.1; 0 when overdrawn or empty; None when nothing was burnt
    runs_out_on: date | None  # the UTC day it reaches zero at this burn (today when it already has)
    low: bool
    notes: tuple[str, ...] = ()  # what makes the estimate less than plain (a null balance, a snapshot's date)

    @property
    def name(self) -> str:
        return NAMES[self.kind]

    @property
    def state(self) -> str:
        """overdrawn (below zero) | empty (zero) | low | ok"""
        if self.estimated_now < 0:
            return "overdrawn"
        if self.estimated_now == 0:
            return "empty"
        return "low" if self.low else "ok"

    def amount(self, value: float | Decimal) -> str:
        """A value of this balance as people read it: '$2.00', '-$2.70' or '12.00 h' (the sign as every other
        amount of the app writes it, so a copied figure pastes as a number)."""
        if self.kind == AI_USD:
            return ("-" if value < 0 else "") + f"${abs(rules.usd(value)):,.2f}"
        return ("-" if value < 0 else "") + f"{abs(value):,.2f} h"

    def exact(self, value: float | Decimal) -> str:
        """Money as a download writes it, to its 6 places ('Exact: -$2.700000.'); hours are shown whole already."""
        if self.kind == AI_USD:
            return f"Exact: {'-' if value < 0 else ''}${abs(rules.usd(value)):,.6f}."
        return ""

    def runway_text(self) -> str:
        """'runs out in about 4.0 days, on 2026-11-28', 'is overdrawn by $2.70', 'lasts: nothing used in …'."""
        if self.state == "overdrawn":
            return f"is overdrawn by {self.amount(-self.estimated_now)}"
        if self.state == "empty":
            return "is used up"
        if self.runway_days is None:
            return f"has no runway estimate: nothing was used in the last {TRAILING_DAYS} whole days"
        return f"runs out in about {self.runway_days:.1f} days, on {self.runs_out_on:%Y-%m-%d}"

    def block(self) -> dict:
        """The pack's form: hours rounded to 0.01 (runway to 0.1), money as 6-place strings."""
        def value(amount: float | Decimal) -> float | str:
            return f"{rules.usd(amount):f}" if self.kind == AI_USD else round(amount, 2)

        return {"snapshot": value(self.snapshot), "as_of": self.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "used_since": value(self.used_since), "estimated_now": value(self.estimated_now),
                "burn_per_day": value(self.burn_per_day), "runway_days": self.runway_days,
                "runs_out_on": None if self.runs_out_on is None else self.runs_out_on.isoformat(), "low": self.low}


def balance(kind: str, snapshot: float | Decimal | None, as_of: datetime, used_since: float | Decimal | None,
            used_7d: float | Decimal, now: datetime, low_days: float = DEFAULT_LOW_DAYS,
            created_at: datetime | None = None) -> Balance:
    """A prepaid balance estimated now: estimated_now = snapshot − used_since (below zero: overdrawn); burn = the
    trailing 7 whole days' usage ÷ 7; runway = estimated_now ÷ burn, to 0.1 (0 when none is left, None when the
    burn is 0); low when the runway is under low_days or nothing is left. A null balance counts as 0 (as the
    readiness gate counts it) and says so."""
    money = kind == AI_USD
    zero = Decimal(0) if money else 0.0
    notes = []
    if snapshot is None:
        notes.append(f"the billing snapshot records no {NAMES[kind]}, so it counts as empty")
    if as_of > now:  # (not a snapshot in force: billing_snapshot takes the latest as_of at or before now)
        notes.append(f"the snapshot is dated {as_of:%Y-%m-%d %H:%M} UTC, after now: nothing is counted as used yet")
        used_since = zero
    if created_at is not None and as_of < created_at:
        notes.append(f"the snapshot is dated before the account was created ({created_at:%Y-%m-%d}): usage is "
                     "counted from the snapshot on")
    snapshot_value = (Decimal(snapshot) if money else float(snapshot)) if snapshot is not None else zero
    used = (Decimal(used_since) if money else float(used_since)) if used_since is not None else zero
    burnt = Decimal(used_7d) if money else float(used_7d)
    estimated = snapshot_value - used
    burn = burnt / TRAILING_DAYS
    if estimated <= 0:
        runway, runs_out = 0.0, now.date()
    elif burn > 0:
        days = float(estimated / burn)
        runway, runs_out = tenth(days), (now + timedelta(days=min(days, 365_000))).date()
    else:
        runway, runs_out = None, None
    low = estimated <= 0 or (runway is not None and runway < low_days)
    if money:
        snapshot_value, used, estimated, burn = (rules.usd(v) for v in (snapshot_value, used, estimated, burn))
    return Balance(kind, snapshot_value, as_of, used, estimated, burn, runway, runs_out, low, tuple(notes))


def balances(snapshot: rules.BillingSnapshot | None, usage: Usage, now: datetime, low_days: float = DEFAULT_LOW_DAYS,
             created_at: datetime | None = None) -> tuple[Balance, ...] | None:
    """Both prepaid balances of a prepaid account as of now; None for an account that is not prepaid."""
    if snapshot is None or snapshot.billing_mode != "prepaid":
        return None
    return (balance(WORKSPACE_HOURS, snapshot.prepaid_workspace_hours, snapshot.as_of, usage.runtime_hours_since,
                    usage.runtime_hours_7d, now, low_days, created_at),
            balance(AI_USD, snapshot.prepaid_ai_usd, snapshot.as_of, usage.ai_usd_since, usage.ai_usd_7d, now,
                    low_days, created_at))


@dataclass(frozen=True)
class Trial:
    """An approved trial: when it ends, the days left (0.1), and whether it ends within the low-balance days."""
    ends_at: datetime | None
    days_left: float | None  # None: the trial has no end date
    ending: bool

    def text(self) -> str:
        if self.ends_at is None:
            return "the trial has no end date"
        if self.days_left <= 0:
            return f"the trial ended on {self.ends_at:%Y-%m-%d}"
        return f"the trial ends in about {self.days_left:.1f} days, on {self.ends_at:%Y-%m-%d %H:%M} UTC"


def trial(snapshot: rules.BillingSnapshot | None, now: datetime, low_days: float = DEFAULT_LOW_DAYS) -> Trial | None:
    """The trial of an account on an approved trial, else None (a pending or rejected trial is a readiness
    matter, not a countdown)."""
    if snapshot is None or snapshot.billing_mode != "trial" or snapshot.trial_status != "approved":
        return None
    if snapshot.trial_ends_at is None:
        return Trial(None, None, False)
    left = (snapshot.trial_ends_at - now) / _DAY
    return Trial(snapshot.trial_ends_at, tenth(max(left, 0.0)), 0 < left < low_days)


def days_left(period: Period, now: datetime) -> float | None:
    """Days (fractional) from now to the period's end while it is open; None when it has not started or ended."""
    if not period.start <= now < period.end:
        return None
    return (period.end - now) / _DAY


def projected(accrued: float | Decimal, trailing_7d: float | Decimal, period: Period, now: datetime
              ) -> float | Decimal | None:
    """An open period's figure at its end: accrued + the trailing 7 whole days' daily average × the days left
    (GitHub's billing projects the same way). None when the period is not open. Money stays exact."""
    left = days_left(period, now)
    if left is None:
        return None
    if isinstance(accrued, Decimal) or isinstance(trailing_7d, Decimal):
        seconds = Decimal(round((period.end - now).total_seconds() * 1_000_000)) / Decimal(86_400_000_000)
        return rules.usd(Decimal(accrued) + Decimal(trailing_7d) / TRAILING_DAYS * seconds)
    return accrued + trailing_7d / TRAILING_DAYS * left


def soon(balances: tuple[Balance, ...] | None, trial_: Trial | None) -> tuple[str, list[str]] | None:
    """What the estimates ask for before the platform's snapshot does: ("funding", why) when a prepaid balance is
    low or overdrawn, ("setup", why) when an approved trial ends within the low-balance days; None otherwise.
    (Beside the verdict, never in place of it.)"""
    low = [f"the {b.name} {b.runway_text()}" for b in balances or () if b.low]
    if low:
        return "funding", low
    if trial_ is not None and trial_.ending:
        return "setup", [trial_.text()]
    return None
