"""A customer's figures for one period as of now: the one code path for pages, downloads and CLI."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

import pandas as pd

from . import rules, sql
from .data import DataError, Store
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
    billing: rules.Readiness | None  # None only when the billing data cannot be read (see gaps)
    gaps: dict[str, str] = field(default_factory=dict)  # area (runtime, ai, billing) -> why it is missing

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


def accounts(store: Store, customer_id: str | None = None) -> dict[str, Account]:
    """Customer accounts by id: one, or every customer when customer_id is None."""
    rows = store.run("customer_accounts", customer_id=customer_id)
    return {row.customer_id: Account(row.customer_id, row.customer_name, row.account_status, _aware(row.created_at))
            for row in rows.itertuples()}


def _snapshot(row) -> rules.BillingSnapshot:
    return rules.BillingSnapshot(
        as_of=_aware(row.as_of),
        billing_mode=row.billing_mode,
        payment_verified=bool(_value(row.payment_verified)),
        trial_status=_value(row.trial_status),
        trial_ends_at=_aware(row.trial_ends_at),
        prepaid_workspace_hours=_float(row.prepaid_workspace_hours),
        prepaid_ai_usd=_value(row.prepaid_ai_usd),
    )


def _value(value):
    """A cell's value, None for a null (pandas gives NaN, NaT or NA)."""
    return None if value is None or pd.isna(value) else value


def _float(value) -> float | None:
    value = _value(value)
    return None if value is None else float(value)  # a plain float, so rules give plain bools


def _aware(value) -> datetime | None:
    value = _value(value)
    return value.to_pydatetime().replace(tzinfo=timezone.utc) if value is not None else None  # tables hold naive UTC


def _provider(row, ai_daily: pd.DataFrame, period: Period, now: datetime) -> ProviderUsage:
    """One linked provider's totals, reconciliation badge and final/provisional status."""
    rows = ai_daily[ai_daily["provider"] == row.provider]
    today = now.date()
    through = rules.reconciled_through(_value(row.first_open_day), today)
    lag = rules.lag_days(through, today)
    return ProviderUsage(
        provider=row.provider,
        cost_usd=rules.usd(sum(rows["cost_usd"], Decimal(0))),
        **{f: int(rows[f].sum()) for f in TOKEN_FIELDS},
        status=rules.total_status(period.has_ended(now), int(row.period_usage_days), int(row.period_matched_days)),
        badge=rules.badge(lag, int(row.period_mismatch_days) > 0),
        reconciled_through=through,
        lag_days=lag,
    )


def _by_customer(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """A query result split per customer, each part without the customer_id column and re-indexed."""
    return {customer_id: part.drop(columns="customer_id").reset_index(drop=True)
            for customer_id, part in frame.groupby("customer_id", sort=False)}


AREAS = {  # what each part of the figures reads; a dataset that cannot be used takes down only its areas
    "runtime": ("runtime_by_workspace_day",),
    "ai": ("ai_usage_by_day", "reconciliation_summary", "ai_unlinked_providers"),
    "billing": ("billing_snapshot",),
}


_POOL = ThreadPoolExecutor(max_workers=sum(len(names) for names in AREAS.values()), thread_name_prefix="figures")


def _run_areas(store: Store, window: dict, strict: bool) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Every query's rows; in lenient mode an area whose data is unusable gets empty rows and a gap.

    The queries run at once, each on a cursor of its own: DuckDB runs them outside the GIL, so a page's
    figures take about as long as its slowest query, not the sum of all."""
    def rows(name: str) -> pd.DataFrame:
        return store.run(name, **{k: v for k, v in window.items() if k in sql.load(name).params})

    running = {name: _POOL.submit(rows, name) for names in AREAS.values() for name in names}
    frames, gaps = {}, {}
    for area, names in AREAS.items():
        try:
            for name in names:
                frames[name] = running[name].result()
        except DataError as error:
            if strict:
                raise
            gaps[area] = str(error)
            for name in names:
                frames[name] = pd.DataFrame(columns=[column for column, _ in sql.load(name).returns])
    return frames, gaps


def summaries(store: Store, period: Period, now: datetime, customer_id: str | None = None,
              strict: bool = True) -> dict[str, CustomerSummary]:
    """Everything the review flow shows per customer (one, or all when customer_id is None), as of now.

    The same queries serve one customer and all of them, so an operator's table and a customer's
    pages, downloads and command line can never disagree. strict=False (pages) keeps going when a
    dataset is unusable and records the gap per area instead; the handoff is always strict."""
    found = accounts(store, customer_id)
    if not found:
        return {}
    window = dict(customer_id=customer_id, period_start=period.start, period_end=period.end, now=now)
    frames, gaps = _run_areas(store, window, strict)
    parts = {name: _by_customer(frame) for name, frame in frames.items()}
    empty = {name: frame.iloc[0:0].drop(columns="customer_id") for name, frame in frames.items()}
    result = {}
    for cid, acct in found.items():
        def part(name: str) -> pd.DataFrame:
            return parts[name].get(cid, empty[name])
        daily = part("ai_usage_by_day")
        billing = parts["billing_snapshot"].get(cid)
        result[cid] = CustomerSummary(
            account=acct,
            period=period,
            now=now,
            runtime=part("runtime_by_workspace_day"),
            ai_daily=daily,
            providers=tuple(sorted((_provider(row, daily, period, now)
                                    for row in part("reconciliation_summary").itertuples()),
                                   key=lambda p: (-p.cost_usd, p.provider))),
            not_configured=tuple(part("ai_unlinked_providers")["provider"]),
            billing=None if "billing" in gaps else rules.billing_readiness(
                acct.account_status, _snapshot(billing.iloc[0]) if billing is not None else None, now),
            gaps=gaps,
        )
    return result


def customer_summary(store: Store, customer_id: str, period: Period, now: datetime) -> CustomerSummary:
    """Everything the review flow shows for one customer and period, evaluated as of now."""
    found = summaries(store, period, now, customer_id)
    if customer_id not in found:
        raise UnknownCustomer(f"customer {customer_id!r} is not in the customers dataset")
    return found[customer_id]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def final_quote(summary: CustomerSummary) -> tuple[bool, str]:
    """Can a final managed-AI number be quoted for this period, and why (or why not), in one sentence."""
    unlinked = f" Reconciliation is not configured for {', '.join(summary.not_configured)}, so its usage is not " \
               "attributed." if summary.not_configured else ""
    if not summary.providers:
        return False, "There is no customer-attributed managed-AI usage to quote: no provider is linked." + unlinked
    if summary.ai_status == rules.FINAL:
        return True, ("Yes: a final managed-AI number can be quoted. The period has ended and every day with usage "
                      "is matched for every linked provider." + unlinked)
    reasons = []
    if not summary.period.has_ended(summary.now):
        reasons.append(f"the period is open until {summary.period.end:%Y-%m-%d %H:%M} UTC")
    days = summary.ai_daily.drop_duplicates(["provider", "day"])
    for p in summary.providers:
        if p.status == rules.FINAL:
            continue
        statuses = days[days["provider"] == p.provider]["reconciliation_status"]
        mismatched = int((statuses == "mismatch").sum())
        waiting = int(statuses.isin(["pending", "missing"]).sum())
        parts = ([_plural(mismatched, "mismatched day")] if mismatched else []) + \
                ([f"{_plural(waiting, 'day')} not yet reconciled"] if waiting else [])
        if parts:
            reasons.append(f"{p.provider} has {' and '.join(parts)}")
    because = "; ".join(reasons) if reasons else "not every day with usage is matched yet"
    return False, f"Not yet: the managed-AI total is provisional because {because}." + unlinked
