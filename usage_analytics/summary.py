"""A customer's figures for one period as of now: the one code path for pages, downloads and CLI."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

import pandas as pd

from . import rules
from .data import Store
from .periods import Period

TOKEN_FIELDS = ("requests", "input_tokens", "cached_input_tokens", "output_tokens")


class UnknownCustomer(LookupError):
    """No customers row has this customer id."""


@dataclass(frozen=True)
class Account:
    customer_id: str
    customer_name: str
    account_status: str
    created_at: datetime


@dataclass(frozen=True)
class ProviderUsage:
    provider: str
    cost_usd: Decimal  # rounded to 6 places; totals add these so they foot
    requests: int
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    status: str  # final | provisional
    badge: str
    reconciled_through: date
    lag_days: int


@dataclass(frozen=True)
class CustomerSummary:
    account: Account
    period: Period
    now: datetime
    runtime: pd.DataFrame  # day, workspace_id, template, runtime_hours, is_running
    ai_daily: pd.DataFrame  # day, provider, model, token counts, cost_usd, reconciliation_status
    providers: tuple[ProviderUsage, ...]
    not_configured: tuple[str, ...]
    billing: rules.Readiness

    @property
    def runtime_hours(self) -> float:
        return float(self.runtime["runtime_hours"].sum())

    @property
    def active_workspaces(self) -> int:
        return int(self.runtime["workspace_id"].nunique())

    @property
    def ai_cost_usd(self) -> Decimal:
        return sum((p.cost_usd for p in self.providers), Decimal(0))

    def ai_total(self, field: str) -> int:
        return sum(getattr(p, field) for p in self.providers)

    @property
    def ai_status(self) -> str:
        """Final only when the period has ended and every linked provider is final."""
        ended = self.period.has_ended(self.now)
        return rules.FINAL if ended and all(p.status == rules.FINAL for p in self.providers) else rules.PROVISIONAL


def account(store: Store, customer_id: str) -> Account:
    rows = store.run("customer_account", customer_id=customer_id)
    if rows.empty:
        raise UnknownCustomer(f"customer {customer_id!r} is not in the customers dataset")
    row = rows.iloc[0]
    return Account(row.customer_id, row.customer_name, row.account_status, _aware(row.created_at))


def billing(store: Store, account_status: str, customer_id: str, now: datetime) -> rules.Readiness:
    rows = store.run("billing_snapshot", customer_id=customer_id, now=now)
    snapshot = None
    if not rows.empty:
        row = rows.iloc[0]
        snapshot = rules.BillingSnapshot(
            as_of=_aware(row.as_of),
            billing_mode=row.billing_mode,
            payment_verified=bool(_value(row.payment_verified)),
            trial_status=_value(row.trial_status),
            trial_ends_at=_aware(row.trial_ends_at),
            prepaid_workspace_hours=_float(row.prepaid_workspace_hours),
            prepaid_ai_usd=_value(row.prepaid_ai_usd),
        )
    return rules.billing_readiness(account_status, snapshot, now)


def _value(value):
    """A cell's value, None for a null (pandas gives NaN, NaT or NA)."""
    return None if value is None or pd.isna(value) else value


def _float(value) -> float | None:
    value = _value(value)
    return None if value is None else float(value)  # a plain float, so rules give plain bools


def _aware(value) -> datetime | None:
    value = _value(value)
    return value.to_pydatetime().replace(tzinfo=timezone.utc) if value is not None else None  # views hold naive UTC


def providers(store: Store, customer_id: str, period: Period, now: datetime, ai_daily: pd.DataFrame) -> tuple[ProviderUsage, ...]:
    """Every linked provider with its totals, reconciliation badge and final/provisional status."""
    reconciliation = store.run("reconciliation_summary", customer_id=customer_id,
                               period_start=period.start, period_end=period.end, now=now)
    today = now.date()
    result = []
    for row in reconciliation.itertuples():
        rows = ai_daily[ai_daily["provider"] == row.provider]
        through = rules.reconciled_through(_value(row.first_open_day), today)
        lag = rules.lag_days(through, today)
        result.append(ProviderUsage(
            provider=row.provider,
            cost_usd=rules.usd(sum(rows["cost_usd"], Decimal(0))),
            **{f: int(rows[f].sum()) for f in TOKEN_FIELDS},
            status=rules.total_status(period.has_ended(now), int(row.period_usage_days), int(row.period_matched_days)),
            badge=rules.badge(lag, int(row.period_mismatch_days) > 0),
            reconciled_through=through,
            lag_days=lag,
        ))
    return tuple(sorted(result, key=lambda p: (-p.cost_usd, p.provider)))


def customer_summary(store: Store, customer_id: str, period: Period, now: datetime) -> CustomerSummary:
    """Everything the review flow shows for one customer and period, evaluated as of now."""
    acct = account(store, customer_id)
    window = dict(customer_id=customer_id, period_start=period.start, period_end=period.end, now=now)
    ai_daily = store.run("ai_usage_by_day", **window)
    unlinked = store.run("ai_unlinked_providers", **window)
    return CustomerSummary(
        account=acct,
        period=period,
        now=now,
        runtime=store.run("runtime_by_workspace_day", **window),
        ai_daily=ai_daily,
        providers=providers(store, customer_id, period, now, ai_daily),
        not_configured=tuple(unlinked["provider"]),
        billing=billing(store, acct.account_status, customer_id, now),
    )
