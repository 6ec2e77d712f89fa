"""A customer's figures for one period as of now: the one code path for pages, downloads and CLI."""
from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import NamedTuple

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


class ProviderUsage(NamedTuple):  # a tuple: thousands are made for an operators' month
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


class _Frames:
    """The rows of the scope's queries, shared by its summaries: those the totals were made from, and the
    per-day rows (DETAILS), run only when a page first asks for them. An operator's month of thousands of
    customers then never fetches every customer's days unless a page draws them. Each customer's rows are
    found by position (queries order them by customer_id) and cut only when asked for."""

    def __init__(self, store: Store, window: dict, gaps: dict[str, str], frames: dict[str, pd.DataFrame]):
        self._store, self._window, self._gaps = store, window, gaps
        self._lock = threading.Lock()  # summaries are shared by sessions, which run on threads
        self._running: dict[str, Future] = {}
        for name, frame in frames.items():
            self._running[name] = done = Future()
            done.set_result(frame)
        self._bounds: dict[str, dict[str, tuple[int, int]]] = {}

    def _fetch(self, name: str) -> pd.DataFrame:
        if DETAILS[name] in self._gaps:  # the area's data is unusable: no rows, and the gap says why
            return _no_rows(name)
        return _rows(self._store, name, self._window)

    def frame(self, name: str) -> pd.DataFrame:
        """A query's whole result (shared: not to be written to), run on first use."""
        with self._lock:
            if name not in self._running:
                self._running[name] = _POOL.submit(self._fetch, name)
            running = self._running[name]
        return running.result()

    def part(self, name: str, customer_id: str) -> pd.DataFrame:
        frame = self.frame(name)
        with self._lock:
            if name not in self._bounds:
                self._bounds[name] = _bounds(name, frame)
            start, stop = self._bounds[name].get(customer_id, (0, 0))
        return frame.iloc[start:stop].drop(columns="customer_id").reset_index(drop=True)


def _bounds(name: str, frame: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Where each customer's rows start and stop in a result ordered by customer_id."""
    ids = frame["customer_id"].to_numpy()
    starts = [0, *(np.flatnonzero(ids[1:] != ids[:-1]) + 1).tolist()] if len(ids) else []
    stops = [*starts[1:], len(ids)]
    found = {ids[a]: (a, b) for a, b in zip(starts, stops)}
    if len(found) != len(starts):
        raise ValueError(f"query {name} did not return its rows ordered by customer_id")
    return found


@dataclass(frozen=True)
class CustomerSummary:
    account: Account
    period: Period
    now: datetime
    providers: tuple[ProviderUsage, ...]
    not_configured: tuple[str, ...]
    billing: rules.Readiness | None  # None only when the billing data cannot be read (see gaps)
    runtime_hours: float  # runtime_totals: hours, workspaces with runtime, and whether one runs now
    active_workspaces: int
    is_running: bool
    frames: _Frames = field(repr=False, compare=False)
    gaps: dict[str, str] = field(default_factory=dict)  # area (runtime, ai, billing) -> why it is missing

    # A new frame on every access (a cut of the shared result, copied by pandas only when written to): the
    # app caches summaries as shared objects, so no page may get a frame that another session reads.
    @property
    def runtime(self) -> pd.DataFrame:
        """day, workspace_id, template, runtime_hours, is_running"""
        return self.frames.part("runtime_by_workspace_day", self.account.customer_id)

    @property
    def ai_daily(self) -> pd.DataFrame:
        """day, provider, model, token counts, cost_usd, reconciliation_status"""
        return self.frames.part("ai_usage_by_day", self.account.customer_id)

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
    return {cid: Account(cid, name, status, created)  # (aware: _values localizes datetimes)
            for cid, name, status, created in zip(*_columns(rows, "customer_id", "customer_name", "account_status",
                                                             "created_at"))}


def _columns(frame: pd.DataFrame, *names: str) -> list[list]:
    """Columns as Python lists with None for nulls: thousands of rows read this way, not row by row."""
    return [_values(frame[name]) for name in names]


def _values(column: pd.Series) -> list:
    if isinstance(column.dtype, pd.StringDtype):  # (Arrow-backed: its own iteration is slow)
        values = column.to_numpy(dtype=object, na_value=None).tolist()
    elif pd.api.types.is_datetime64_dtype(column.dtype):  # tables hold naive UTC: aware datetimes, at once
        values = column.dt.tz_localize("UTC").dt.to_pydatetime().tolist()
    else:
        values = column.tolist()
    if not column.hasnans:
        return values
    return [None if missing else v for v, missing in zip(values, column.isna().to_numpy().tolist())]


def _snapshots(frame: pd.DataFrame) -> dict[str, rules.BillingSnapshot]:
    """The billing snapshot in force per customer (billing_snapshot's rows)."""
    return {cid: rules.BillingSnapshot(as_of, mode, bool(verified), trial, ends, None if hours is None else float(hours), ai)
            for cid, as_of, mode, verified, trial, ends, hours, ai in zip(*_columns(
                frame, "customer_id", "as_of", "billing_mode", "payment_verified", "trial_status", "trial_ends_at",
                "prepaid_workspace_hours", "prepaid_ai_usd"))}


def _providers(frames: dict[str, pd.DataFrame], period: Period, now: datetime) -> dict[str, list[ProviderUsage]]:
    """Each customer's linked providers: totals, reconciliation badge and final/provisional status, the
    largest cost first."""
    usage = frames["ai_usage_by_provider"]
    totals = dict(zip(zip(*_columns(usage, "customer_id", "provider")),  # (zips: thousands of rows)
                      zip(*_columns(usage, "cost_usd", *TOKEN_FIELDS))))
    today, ended = now.date(), period.has_ended(now)

    @cache  # a few hundred distinct first open days among thousands of providers
    def lag(first_open: date | None, mismatch: bool) -> tuple[date, int, str]:
        through = rules.reconciled_through(_day(first_open), today)
        days = rules.lag_days(through, today)
        return through, days, rules.badge(days, mismatch)

    found: dict[str, list[ProviderUsage]] = {}
    for cid, provider, first_open, usage_days, matched, mismatched in zip(*_columns(
            frames["reconciliation_summary"], "customer_id", "provider", "first_open_day", "period_usage_days",
            "period_matched_days", "period_mismatch_days")):
        through, days, badge = lag(first_open, mismatched > 0)
        cost, requests, inputs, cached, outputs = totals.get((cid, provider), _NO_USAGE)  # linked, unused: zeros
        found.setdefault(cid, []).append(ProviderUsage(
            provider, rules.usd(cost), requests, inputs, cached, outputs,
            rules.total_status(ended, usage_days, matched), badge, through, days))
    for listed in found.values():
        if len(listed) > 1:
            listed.sort(key=_largest_cost_first)
    return found


_NO_USAGE = (Decimal(0), 0, 0, 0, 0)


def _largest_cost_first(usage: ProviderUsage) -> tuple[Decimal, str]:
    return -usage.cost_usd, usage.provider


def _day(value) -> date | None:
    return value.date() if isinstance(value, (pd.Timestamp, datetime)) else value


AREAS = {  # the totals each area reads at once; a dataset that cannot be used takes down only its areas
    "billing": ("billing_snapshot",),
    "ai": ("ai_usage_by_provider", "reconciliation_summary", "ai_unlinked_providers"),
    "runtime": ("runtime_totals",),
}
# One customer's pages draw its days, so for one customer these are fetched instead of the totals queries
# and summed here: two queries fewer on the page that must answer fastest.
SUMMED_HERE = {"runtime_totals": "runtime_by_workspace_day", "ai_usage_by_provider": "ai_usage_by_day"}
DETAILS = {  # rows fetched when a page first asks for them -> their area
    "runtime_by_workspace_day": "runtime",
    "ai_usage_by_day": "ai",
    "ai_usage_trend": "ai",
    "runtime_totals": "runtime",  # (its rows across customers are the runtime trend)
}

_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="figures")


def _rows(store: Store, name: str, window: dict) -> pd.DataFrame:
    return store.run(name, **{k: v for k, v in window.items() if k in sql.load(name).params})


def _no_rows(name: str) -> pd.DataFrame:
    return pd.DataFrame(columns=[column for column, _ in sql.load(name).returns])


_MICROSECONDS_PER_HOUR = 3_600_000_000


def _summed_here(name: str, days: pd.DataFrame) -> pd.DataFrame:
    """A totals query's rows (per customer) from the days of the query it is summed from. Summed in plain
    Python: these are one customer's days, a few hundred rows, where a pandas groupby costs milliseconds.
    Hours are added as whole microseconds, so the total is the one SQL gives (seconds summed, then divided)
    and rounds the same way for a handoff even on a half cent of an hour."""
    if name == "runtime_totals":
        runtime: dict[str, list] = {}
        for cid, workspace, hours, running in zip(*_columns(days, "customer_id", "workspace_id", "runtime_hours",
                                                            "is_running")):
            summed = runtime.setdefault(cid, [0, set(), False])
            summed[0] += round(hours * _MICROSECONDS_PER_HOUR)  # exact: the days' hours are whole microseconds
            summed[1].add(workspace)
            summed[2] = summed[2] or bool(running)
        return pd.DataFrame([(cid, micros / _MICROSECONDS_PER_HOUR, len(workspaces), running)
                             for cid, (micros, workspaces, running) in sorted(runtime.items())],
                            columns=["customer_id", "runtime_hours", "active_workspaces", "is_running"])
    ai: dict[tuple[str, str], list] = {}
    for cid, provider, cost, *counts in zip(*_columns(days, "customer_id", "provider", "cost_usd", *TOKEN_FIELDS)):
        summed = ai.setdefault((cid, provider), [Decimal(0), 0, 0, 0, 0])
        summed[0] += cost  # exact
        for index, count in enumerate(counts, 1):
            summed[index] += count
    return pd.DataFrame([(*key, *summed) for key, summed in sorted(ai.items())],
                        columns=["customer_id", "provider", "cost_usd", *TOKEN_FIELDS])


def _start(store: Store, window: dict) -> dict[str, tuple[str, Future]]:
    """Every area's totals queries, started at once, each on a cursor of its own: DuckDB runs them outside
    the GIL, so they take about as long as the slowest, and the rows of one area are turned into figures
    here while the others still run. For one customer its days are fetched instead (SUMMED_HERE)."""
    one = window["customer_id"] is not None
    return {name: (query, _POOL.submit(_rows, store, query, window))
            for names in AREAS.values() for name in names
            for query in [SUMMED_HERE.get(name, name) if one else name]}


def _area(area: str, running: dict, strict: bool, fetched: dict[str, pd.DataFrame], gaps: dict[str, str]
          ) -> dict[str, pd.DataFrame]:
    """An area's totals by query name, once its queries are done; in lenient mode an area whose data is
    unusable gets empty rows and a gap. The query results go into fetched (the frames pages may cut)."""
    totals = {}
    try:
        for name in AREAS[area]:
            query, future = running[name]
            fetched[query] = future.result()
            totals[name] = fetched[query] if query == name else _summed_here(name, fetched[query])
    except DataError as error:
        if strict:
            raise
        gaps[area] = str(error)
        for name in AREAS[area]:
            totals[name] = _no_rows(name)
            fetched.pop(running[name][0], None)
    return totals


def summaries(store: Store, period: Period, now: datetime, customer_id: str | None = None,
              strict: bool = True) -> dict[str, CustomerSummary]:
    """Everything the review flow shows per customer (one, or all when customer_id is None), as of now.

    The same queries serve one customer and all of them, so an operator's table and a customer's
    pages, downloads and command line can never disagree. strict=False (pages) keeps going when a
    dataset is unusable and records the gap per area instead; the handoff is always strict.

    Per-day rows (runtime, ai_daily, trends) are fetched when first asked for, except one customer's, which
    its totals are summed from."""
    window = dict(customer_id=customer_id, period_start=period.start, period_end=period.end, now=now)
    running = _start(store, window)
    found: dict[str, Account] = {}
    try:
        found = accounts(store, customer_id)
    finally:
        if not found:  # (no figures to make; the store must not be closed under running queries)
            wait([future for _, future in running.values()])
    if not found:
        return {}
    fetched: dict[str, pd.DataFrame] = {}
    gaps: dict[str, str] = {}
    # The fastest areas first (billing, then AI): their figures are made while runtime still runs.
    snapshots = _snapshots(_area("billing", running, strict, fetched, gaps)["billing_snapshot"])
    billing = {} if "billing" in gaps else {
        cid: rules.billing_readiness(acct.account_status, snapshots.get(cid), now) for cid, acct in found.items()}
    ai = _area("ai", running, strict, fetched, gaps)
    providers = _providers(ai, period, now)
    unlinked: dict[str, list[str]] = {}
    for cid, provider in zip(*_columns(ai["ai_unlinked_providers"], "customer_id", "provider")):
        unlinked.setdefault(cid, []).append(provider)
    runtime = {cid: (hours, workspaces, running_now) for cid, hours, workspaces, running_now in zip(*_columns(
        _area("runtime", running, strict, fetched, gaps)["runtime_totals"], "customer_id", "runtime_hours",
        "active_workspaces", "is_running")) if cid}
    shared = _Frames(store, window, gaps, fetched)
    result = {}
    for cid, acct in found.items():
        hours, workspaces, running_now = runtime.get(cid, (0.0, 0, False))
        result[cid] = CustomerSummary(
            account=acct,
            period=period,
            now=now,
            providers=tuple(providers.get(cid, ())),
            not_configured=tuple(unlinked.get(cid, ())),
            billing=billing.get(cid),
            runtime_hours=float(hours),
            active_workspaces=int(workspaces),
            is_running=bool(running_now),
            frames=shared,
            gaps=gaps,
        )
    return result


def _shared(found: dict[str, CustomerSummary]) -> list[_Frames]:
    return list({id(s.frames): s.frames for s in found.values()}.values())


def _joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames one after another, or an empty frame (no columns) when they hold no row."""
    joined = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return joined if not joined.empty else pd.DataFrame()


def combined(found: dict[str, CustomerSummary], part: str) -> pd.DataFrame:
    """One frame of a part (runtime or ai_daily) across these customers, with a customer (name) column."""
    name = {"runtime": "runtime_by_workspace_day", "ai_daily": "ai_usage_by_day"}[part]
    names = {cid: s.account.customer_name for cid, s in found.items()}
    frames = []
    for shared in _shared(found):
        frame = shared.frame(name)
        frame = frame[frame["customer_id"].isin(names.keys())]
        frames.append(frame.drop(columns="customer_id").assign(customer=frame["customer_id"].map(names)))
    return _joined(frames)


def trend(found: dict[str, CustomerSummary], part: str) -> pd.DataFrame:
    """A part summed across the whole scope these figures were computed for (the operators' trends):
    runtime per day and template, or ai_daily per day, provider, model and reconciliation status."""
    frames = []
    for shared in _shared(found):
        if part == "runtime":
            totals = shared.frame("runtime_totals")
            frames.append(totals.loc[totals["customer_id"].isna(), ["day", "template", "runtime_hours"]])
        else:
            frames.append(shared.frame({"ai_daily": "ai_usage_trend"}[part]))
    return _joined(frames)


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
