"""A customer's figures for one period as of now: the one code path for pages, downloads and CLI."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

import numpy as np
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


class _Rows:
    """The rows of every query for a set of customers, ordered by customer_id, and where each customer's
    rows start and stop: a customer's frame is cut only when a page asks for it (an operator's month of
    thousands of customers would otherwise cost a pandas copy per customer and part)."""

    def __init__(self, frames: dict[str, pd.DataFrame]):
        self.frames = frames
        self.bounds: dict[str, dict[str, tuple[int, int]]] = {}
        for name, frame in frames.items():
            ids = frame["customer_id"].to_numpy()
            # (queries order by customer_id, so each customer's rows are one run)
            starts = [0, *(np.flatnonzero(ids[1:] != ids[:-1]) + 1).tolist()] if len(ids) else []
            stops = [*starts[1:], len(ids)]
            self.bounds[name] = {ids[a]: (a, b) for a, b in zip(starts, stops)}
            if len(self.bounds[name]) != len(starts):
                raise ValueError(f"query {name} did not return its rows ordered by customer_id")

    def part(self, name: str, customer_id: str) -> pd.DataFrame:
        start, stop = self.bounds[name].get(customer_id, (0, 0))
        return self.frames[name].iloc[start:stop].drop(columns="customer_id").reset_index(drop=True)


@dataclass(frozen=True)
class CustomerSummary:
    account: Account
    period: Period
    now: datetime
    providers: tuple[ProviderUsage, ...]
    not_configured: tuple[str, ...]
    billing: rules.Readiness | None  # None only when the billing data cannot be read (see gaps)
    runtime_hours: float  # the runtime frame's sum, distinct workspaces and whether one runs now, taken for
    active_workspaces: int  # all customers at once (cutting thousands of frames to ask would take seconds)
    is_running: bool
    rows: _Rows = field(repr=False, compare=False)
    gaps: dict[str, str] = field(default_factory=dict)  # area (runtime, ai, billing) -> why it is missing

    # A new frame on every access (a cut of the shared result, copied by pandas only when written to): the
    # app caches summaries as shared objects, so no page may get a frame that another session reads.
    @property
    def runtime(self) -> pd.DataFrame:
        """day, workspace_id, template, runtime_hours, is_running"""
        return self.rows.part("runtime_by_workspace_day", self.account.customer_id)

    @property
    def ai_daily(self) -> pd.DataFrame:
        """day, provider, model, token counts, cost_usd, reconciliation_status"""
        return self.rows.part("ai_usage_by_day", self.account.customer_id)

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


def _provider(row, totals: dict, period: Period, now: datetime) -> ProviderUsage:
    """One linked provider's totals, reconciliation badge and final/provisional status."""
    today = now.date()
    through = rules.reconciled_through(_value(row.first_open_day), today)
    lag = rules.lag_days(through, today)
    cost, *counts = totals.get((row.customer_id, row.provider), _NO_USAGE)
    return ProviderUsage(
        provider=row.provider,
        cost_usd=rules.usd(cost),
        **{f: int(n) for f, n in zip(TOKEN_FIELDS, counts)},
        status=rules.total_status(period.has_ended(now), int(row.period_usage_days), int(row.period_matched_days)),
        badge=rules.badge(lag, int(row.period_mismatch_days) > 0),
        reconciled_through=through,
        lag_days=lag,
    )


_NO_USAGE = (Decimal(0), *(0 for _ in TOKEN_FIELDS))


def _provider_totals(ai_daily: pd.DataFrame) -> dict[tuple[str, str], tuple]:
    """(customer, provider) -> exact cost sum and token counts, over the daily rows, in one pass."""
    if ai_daily.empty:
        return {}
    sums = ai_daily.groupby(["customer_id", "provider"], sort=False)[["cost_usd", *TOKEN_FIELDS]].sum()
    return {key: (Decimal(row[0]), *row[1:]) for key, row in zip(sums.index, sums.itertuples(index=False))}


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
    rows = _Rows(frames)
    totals = _provider_totals(frames["ai_usage_by_day"])
    providers: dict[str, list[ProviderUsage]] = {}
    for row in frames["reconciliation_summary"].itertuples(index=False):
        providers.setdefault(row.customer_id, []).append(_provider(row, totals, period, now))
    unlinked: dict[str, list[str]] = {}
    for cid, provider in zip(frames["ai_unlinked_providers"]["customer_id"], frames["ai_unlinked_providers"]["provider"]):
        unlinked.setdefault(cid, []).append(provider)
    snapshots = {row.customer_id: row for row in frames["billing_snapshot"].itertuples(index=False)}
    runtime = frames["runtime_by_workspace_day"].groupby("customer_id", sort=False)
    hours, workspaces = runtime["runtime_hours"].sum().to_dict(), runtime["workspace_id"].nunique().to_dict()
    running = runtime["is_running"].any().to_dict()
    result = {}
    for cid, acct in found.items():
        billing = snapshots.get(cid)
        result[cid] = CustomerSummary(
            account=acct,
            period=period,
            now=now,
            providers=tuple(sorted(providers.get(cid, ()), key=lambda p: (-p.cost_usd, p.provider))),
            not_configured=tuple(unlinked.get(cid, ())),
            billing=None if "billing" in gaps else rules.billing_readiness(
                acct.account_status, _snapshot(billing) if billing is not None else None, now),
            runtime_hours=float(hours.get(cid, 0.0)),
            active_workspaces=int(workspaces.get(cid, 0)),
            is_running=bool(running.get(cid, False)),
            rows=rows,
            gaps=gaps,
        )
    return result


def combined(found: dict[str, CustomerSummary], part: str) -> pd.DataFrame:
    """One frame of a part (runtime or ai_daily) across these customers, with a customer (name) column."""
    name = {"runtime": "runtime_by_workspace_day", "ai_daily": "ai_usage_by_day"}[part]
    names = {cid: s.account.customer_name for cid, s in found.items()}
    frames = []
    for rows in {id(s.rows): s.rows for s in found.values()}.values():
        frame = rows.frames[name]
        frame = frame[frame["customer_id"].isin(names.keys())]
        frames.append(frame.drop(columns="customer_id").assign(customer=frame["customer_id"].map(names)))
    joined = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return joined if not joined.empty else pd.DataFrame()


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
