"""A customer's figures for one period as of now: the one code path for pages, downloads and CLI."""
from __future__ import annotations

import weakref
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache, cached_property
from itertools import repeat
from typing import NamedTuple

import pandas as pd

from . import coverage, outlook, rules
from .areas import TOTALS, Area
from .coverage import Coverage
from .contract import TOKEN_COUNTS, USAGE_COUNTS
from .frames import Fetch, Frames, columns, no_rows, submit, summed_here, uncollected
from .periods import Period
from .store import DataError, Store


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
    status: str  # final | provisional | incomplete | no data (coverage.Coverage.status)
    badge: str
    reconciled_through: date
    lag_days: int
    first_open_day: date | None = None  # the first day not matched, up to today (lag is counted from it)
    first_open_status: str | None = None  # its status: pending | mismatch | missing
    period_open_day: date | None = None  # the period's first day with usage that is not matched
    period_open_status: str | None = None
    provider_cost_usd: Decimal | None = None  # the provider's own cost over the period's days that have one
    mismatch_usd: Decimal = Decimal(0)  # provider minus metered cost over the period's mismatch days


class Refused(NamedTuple):
    """A customer's own rows the checks refused (in its period, or its billing snapshot in force)."""
    dataset: str
    column: str
    reason: str
    value: str | None
    rows: int


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
    frames: Frames = field(repr=False, compare=False)
    gaps: dict[Area, str] = field(default_factory=dict)  # an area whose data cannot be used -> why
    data: Coverage = Coverage(None, None, coverage.NONE, "")  # what the exports cover of the period (shared)
    refused: tuple[Refused, ...] = ()  # this customer's own rows that were not used
    running_workspaces: int = 0  # workspaces with a session running now
    ahead: outlook.Usage = outlook.Usage()  # usage over the last 7 whole days, and since a prepaid snapshot
    low_days: float = outlook.DEFAULT_LOW_DAYS  # LOW_BALANCE_DAYS

    @property
    def balances(self) -> tuple[outlook.Balance, ...] | None:
        """The prepaid balances estimated now (None: not prepaid, or the billing state or the usage since the
        snapshot cannot be known)."""
        if self.billing is None or self.billing.creation_allowed is None or Area.AHEAD in self.gaps:
            return None
        return outlook.balances(self.billing.snapshot, self.ahead, self.now, self.low_days, self.account.created_at)

    @property
    def trial(self) -> outlook.Trial | None:
        """An approved trial's countdown (None for any other account)."""
        if self.billing is None or self.billing.creation_allowed is None:
            return None
        return outlook.trial(self.billing.snapshot, self.now, self.low_days)

    def can_project(self, figure: str) -> bool:
        """Whether runtime_hours or ai_cost_usd can be projected honestly: the period is open, the figure's status
        is provisional, and the usage of the last 7 days is known (stale exports would understate its rate)."""
        if Area.AHEAD in self.gaps or self.data.stale_until is not None or outlook.days_left(self.period,
                                                                                            self.now) is None:
            return False
        return (self.runtime_status if figure == "runtime_hours" else self.ai_status) == rules.PROVISIONAL

    def projected(self, figure: str) -> float | Decimal | None:
        """runtime_hours or ai_cost_usd projected to the period's end while it is open, from the last 7 whole days'
        daily average; None when it cannot be projected (can_project). Never part of a total or an export."""
        if not self.can_project(figure):
            return None
        if figure == "runtime_hours":
            return outlook.projected(self.runtime_hours, self.ahead.runtime_hours_7d, self.period, self.now)
        return outlook.projected(self.ai_cost_usd, self.ahead.ai_usd_7d, self.period, self.now)

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
    def reconciliation_days(self) -> pd.DataFrame:
        """provider, day, status, metered_cost_usd, provider_cost_usd, difference_usd (days with a row)"""
        return self.frames.part("reconciliation_days", self.account.customer_id)

    # The figures below are made once per summary (cached_property keeps them in the instance's __dict__, which
    # equality, hashing and the frozen check do not read): they read only its own frozen fields, and pages ask them
    # of 5,000 customers on every run (the Overview's totals three times, for now and both sides of a change).
    @cached_property
    def ai_cost_usd(self) -> Decimal:
        return sum((p.cost_usd for p in self.providers), Decimal(0))

    def ai_total(self, field: str) -> int:
        return sum(getattr(p, field) for p in self.providers)

    @cached_property
    def ai_tokens(self) -> int:
        """Input, cached input and output tokens together."""
        return sum(self.ai_total(name) for name in TOKEN_COUNTS)

    @cached_property
    def ai_status(self) -> str:
        """Final only when the period has ended, the exports cover it, every file was read, and every linked
        provider is final; incomplete when a file could not be read; no data outside the exports."""
        ended = self.period.has_ended(self.now)
        return self.data.status(coverage.MANAGED_AI, ended and all(p.status == rules.FINAL for p in self.providers))

    @cached_property
    def runtime_status(self) -> str:
        """The runtime figure's status, by the same rule: final once the period has ended and is covered."""
        return self.data.status(coverage.RUNTIME, self.period.has_ended(self.now))

    @property
    def provisional_because(self) -> list[str]:
        """Why the managed-AI total is not final, one short reason each (empty when it is final)."""
        status = self.ai_status
        if status == rules.FINAL:
            return []
        reasons = [f"{name}: {count} file{'s' if count != 1 else ''} could not be read"
                   for name, count in self.data.unread_in(coverage.MANAGED_AI).items()]
        if self.data.level != coverage.FULL:
            reasons.append(f"coverage {self.data.level}: {self.data.note}")
        if not self.period.has_ended(self.now):
            reasons.append(f"the period is open until {self.period.end:%Y-%m-%d %H:%M} UTC")
        today = self.now.date()
        for p in self.providers:
            if p.period_open_day is not None:
                reasons.append(f"{p.provider}: {rules.open_day_text(p.period_open_status, p.period_open_day, today)}")
        return reasons

    @property
    def rejected_rows(self) -> dict[str, int]:
        """This customer's own refused rows per dataset."""
        found: dict[str, int] = {}
        for r in self.refused:
            found[r.dataset] = found.get(r.dataset, 0) + r.rows
        return found

    @cached_property
    def badge(self) -> str:
        """The worst reconciliation badge of the linked providers."""
        return rules.worst_badge([p.badge for p in self.providers])


def overall_status(found: list[CustomerSummary]) -> str:
    """The managed-AI total of several customers: incomplete when any is, no data when all are, final only when
    there are some and every one is final; else provisional."""
    statuses = {s.ai_status for s in found}
    if rules.INCOMPLETE in statuses:
        return rules.INCOMPLETE
    if statuses == {rules.NO_DATA}:
        return rules.NO_DATA
    return rules.FINAL if statuses == {rules.FINAL} else rules.PROVISIONAL


def daily_rate(found: list[CustomerSummary], figure: str) -> float | None:
    """The scope's daily rate over the last 7 whole days of runtime_hours or ai_cost_usd (a chart's dashed
    projection), or None when the figure cannot be projected (CustomerSummary.can_project says when)."""
    if not found or not all(s.can_project(figure) for s in found):  # (without working out each projection)
        return None
    if figure == "runtime_hours":
        return sum(s.ahead.runtime_hours_7d for s in found) / outlook.TRAILING_DAYS
    return float(sum((s.ahead.ai_usd_7d for s in found), Decimal(0))) / outlook.TRAILING_DAYS


# Every customer's accounts, read once per store: a store's tables never change (new exports make a new store),
# and every figures of all customers, and the app's customer picker, read them (10-15 ms of CPU for 5,000 at 100M).
# Weak keys: a store no longer used takes its accounts with it. Accounts are frozen, so callers may share them.
_EVERY_ACCOUNT: weakref.WeakKeyDictionary[Store, dict[str, Account]] = weakref.WeakKeyDictionary()


def accounts(store: Store, customer_id: str | None = None) -> dict[str, Account]:
    """Customer accounts by id: one, or every customer when customer_id is None. One customer's come from every
    customer's when this store has read them, else from a query of its own."""
    every = _EVERY_ACCOUNT.get(store)
    if every is None and customer_id is None:
        every = _EVERY_ACCOUNT[store] = _accounts(store, None)
    if every is None:
        return _accounts(store, customer_id)
    if customer_id is None:
        return dict(every)  # (a dict of its own: a caller may add to it)
    return {customer_id: every[customer_id]} if customer_id in every else {}


def _accounts(store: Store, customer_id: str | None) -> dict[str, Account]:
    rows = store.run("customer_accounts", customer_id=customer_id)
    return {cid: Account(cid, name, status, created)  # (aware: frames.values localizes datetimes)
            for cid, name, status, created in zip(*columns(rows, "customer_id", "customer_name", "account_status",
                                                             "created_at"))}


def _snapshots(frame: pd.DataFrame) -> dict[str, rules.BillingSnapshot]:
    """The billing snapshot in force per customer (billing_snapshot's rows)."""
    return {cid: rules.BillingSnapshot(as_of, mode, bool(verified), trial, ends, None if hours is None else float(hours), ai)
            for cid, as_of, mode, verified, trial, ends, hours, ai in zip(*columns(
                frame, "customer_id", "as_of", "billing_mode", "payment_verified", "trial_status", "trial_ends_at",
                "prepaid_workspace_hours", "prepaid_ai_usd"))}


def _providers(frames: dict[str, pd.DataFrame], period: Period, now: datetime, data: Coverage
               ) -> tuple[dict[str, list[ProviderUsage]], dict[str, list[str]]]:
    """Each customer's linked providers: totals, reconciliation badge, status (final/provisional, or as the
    coverage makes it), why, and the provider's own cost and mismatch; the largest cost first. And each
    customer's providers with usage in the period but no link (reconciliation_summary's rows not linked).

    Made column by column, then into rows at once (an operators' month has 13,500 linked providers): each rule
    runs once per distinct input (the lag per first open day), money is rounded by the rule's own context over a
    whole column, and the rows are made by tuple's constructor, not ProviderUsage's Python one."""
    usage = frames["ai_usage_by_provider"]
    totals = dict(zip(zip(*columns(usage, "customer_id", "provider")),  # (zips: thousands of rows)
                      zip(*columns(usage, "cost_usd", *USAGE_COUNTS))))
    today, ended = now.date(), period.has_ended(now)
    final, provisional = (data.status(coverage.MANAGED_AI, is_final) for is_final in (True, False))

    @cache  # a few hundred distinct first open days among thousands of providers
    def lag(first_open: date | None, mismatch: bool) -> tuple[date, int, str]:
        through = rules.reconciled_through(first_open, today)
        days = rules.lag_days(through, today)
        return through, days, rules.badge(days, mismatch)

    rows = frames["reconciliation_summary"]
    linked = rows["linked"].to_numpy(dtype=bool)
    unlinked: dict[str, list[str]] = {}
    if not linked.all():
        for cid, provider in zip(*columns(rows[~linked], "customer_id", "provider")):
            unlinked.setdefault(cid, []).append(provider)
        rows = rows[linked]
    (cids, providers, first_open, first_status, usage_days, matched, mismatched, period_open, period_status,
     provider_cost, mismatch) = columns(rows, "customer_id", "provider", "first_open_day", "first_open_status",
                                        "period_usage_days", "period_matched_days", "period_mismatch_days",
                                        "period_first_open_day", "period_first_open_status", "provider_cost_usd",
                                        "mismatch_usd")
    if not cids:
        return {}, unlinked
    first_open, period_open = _dates(first_open), _dates(period_open)
    through, days, badges = zip(*map(lag, first_open, [count > 0 for count in mismatched]))
    cost, requests, inputs, cached, outputs = zip(*map(totals.get, zip(cids, providers), repeat(_NO_USAGE)))
    statuses = [final if status == rules.FINAL else provisional
                for status in map(rules.total_status, repeat(ended), usage_days, matched)]
    found: dict[str, list[ProviderUsage]] = {}
    for cid, row in zip(cids, map(_new_tuple, repeat(ProviderUsage), zip(
            providers, rules.usd_all(cost), requests, inputs, cached, outputs, statuses, badges, through, days,
            first_open, first_status, period_open, period_status,
            [None if amount is None else rules.usd(amount) for amount in provider_cost], rules.usd_all(mismatch)))):
        found.setdefault(cid, []).append(row)  # (linked, unused: zeros from totals)
    for listed in found.values():
        if len(listed) > 1:
            listed.sort(key=_largest_cost_first)
    return found, unlinked


_new_tuple = tuple.__new__  # ProviderUsage's rows made from an iterable of their fields (NamedTuple._make's way)


def _dates(values: list) -> list:
    """A column of days as dates (as_date), left as it is when it holds no datetime."""
    return [as_date(v) for v in values] if any(isinstance(v, datetime) for v in values) else values


_NO_USAGE = (Decimal(0), 0, 0, 0, 0)


def _largest_cost_first(usage: ProviderUsage) -> tuple[Decimal, str]:
    return -usage.cost_usd, usage.provider


def as_date(value) -> date | None:
    """A day as the query rows hold it (a date, or a datetime or Timestamp at midnight) as a date."""
    return value.date() if isinstance(value, (pd.Timestamp, datetime)) else value


# One customer's pages draw its days, so for one customer these are fetched instead of the totals queries
# and summed here: two queries fewer on the page that must answer fastest.
SUMMED_HERE = {"runtime_totals": "runtime_by_workspace_day", "ai_usage_by_provider": "ai_usage_by_day"}

# Asked for one customer only once its billing snapshot in force says it is prepaid (_since): the usage since a
# snapshot is read for nothing else, and most accounts are not prepaid (15-20 ms of CPU for no row at 100M).
IF_PREPAID = "outlook_since"


def _start(store: Store, window: dict, areas: tuple[Area, ...], fetch: Fetch | None = None
           ) -> dict[str, tuple[str, Future]]:
    """These areas' totals queries, started at once, each on a cursor of its own: DuckDB runs them outside
    the GIL, so they take about as long as the slowest, and the rows of one area are turned into figures
    here while the others still run. For one customer its days are fetched instead (SUMMED_HERE), and its usage
    since a prepaid snapshot later (IF_PREPAID). A store whose checks refused no row is not asked for a customer's
    refused rows: there are none (_area gives a query not asked no rows)."""
    one = window["customer_id"] is not None
    return {name: (query, submit(store, query, window, fetch))
            for area in areas for name in TOTALS[area]
            if (name != "customer_refused_rows" or store.refused_any) and not (one and name == IF_PREPAID)
            for query in [SUMMED_HERE.get(name, name) if one else name]}


def _since(store: Store, window: dict, running: dict, snapshot: rules.BillingSnapshot | None,
           fetch: Fetch | None) -> None:
    """One customer's usage since its billing snapshot, started when that snapshot is prepaid (see IF_PREPAID)."""
    if snapshot is not None and snapshot.billing_mode == "prepaid":
        running[IF_PREPAID] = (IF_PREPAID, submit(store, IF_PREPAID, window, fetch))


def _area(area: Area, running: dict, strict: bool, fetched: dict[str, pd.DataFrame], gaps: dict[Area, str]
          ) -> dict[str, pd.DataFrame]:
    """An area's totals by query name, once its queries are done; in lenient mode an area whose data is
    unusable gets empty rows and a gap. The query results go into fetched (the frames pages may cut)."""
    totals = {name: no_rows(name) for name in TOTALS[area] if name not in running}  # (not asked: no rows)
    try:
        for name in TOTALS[area]:
            if name not in running:
                continue
            query, future = running[name]
            fetched[query] = future.result()
            totals[name] = fetched[query] if query == name else summed_here(name, fetched[query])
    except DataError as error:
        if strict:
            raise
        gaps[area] = str(error)
        for name in TOTALS[area]:
            totals[name] = no_rows(name)
            if name in running:
                fetched.pop(running[name][0], None)
    return totals


def _refused(frame: pd.DataFrame) -> dict[str, list[Refused]]:
    found: dict[str, list[Refused]] = {}
    for cid, *row in zip(*columns(frame, "customer_id", "dataset", "column", "reason", "value", "rows")):
        found.setdefault(cid, []).append(Refused(*row))
    return found


def _readiness(found: dict[str, Account], snapshots: dict[str, rules.BillingSnapshot],
               refused: dict[str, list[Refused]], data: Coverage, now: datetime) -> dict[str, rules.Readiness]:
    """Each customer's billing readiness, or unknown when the snapshot in force may be another than the one read:
    a newer one was refused by the checks (named with its value), or a billing file could not be read (asked once
    for every customer: it is the exports', not a customer's)."""
    unknown = None
    if data.unread_in(coverage.BILLING):
        unknown = rules.unknown_billing(f"the billing export has files that could not be read ("
                                        f"{data.unread_text(coverage.BILLING)}), so the latest snapshot may be missing")
    found_ready = {}
    for cid, account in found.items():
        mine = [r for r in refused.get(cid, ()) if r.dataset == "billing_accounts"]
        if mine:
            why = "; ".join(f"column {r.column} {r.reason}" + (f" ({r.value!r})" if r.value is not None else "")
                            for r in mine)
            found_ready[cid] = rules.unknown_billing(f"the latest billing snapshot on record was not used: {why}")
        else:
            found_ready[cid] = unknown or rules.billing_readiness(account.account_status, snapshots.get(cid), now)
    return found_ready


def _ahead(rows: dict[str, pd.DataFrame]) -> dict[str, outlook.Usage]:
    """Each customer's usage of the last 7 days (outlook) and, when prepaid, since its snapshot (outlook_since)."""
    last_7 = {cid: (float(hours), ai) for cid, hours, ai in zip(*columns(
        rows["outlook"], "customer_id", "runtime_hours_7d", "ai_usd_7d"))}
    since = {cid: (float(hours), ai) for cid, hours, ai in zip(*columns(
        rows[IF_PREPAID], "customer_id", "runtime_hours_since", "ai_usd_since"))}
    return {cid: outlook.Usage(*last_7.get(cid, _NOTHING_7D), *since.get(cid, _NOT_PREPAID))
            for cid in last_7.keys() | since.keys()}


_NOTHING_7D, _NOT_PREPAID = (0.0, Decimal(0)), (None, None)
_NO_USAGE_AHEAD = outlook.Usage()  # (frozen: one for every customer without a row)


NOT_ASKED = "the look ahead was not computed for these figures (summaries(ahead=False))"
RUNTIME_NOT_ASKED = "workspace runtime was not computed for these figures (summaries(runtime=False))"


def summaries(store: Store, period: Period, now: datetime, customer_id: str | None = None,
              strict: bool = True, fresh_hours: float = coverage.DEFAULT_FRESH_HOURS,
              low_days: float = outlook.DEFAULT_LOW_DAYS, ahead: bool = True, runtime: bool = True,
              fetch: Fetch | None = None) -> dict[str, CustomerSummary]:
    """Everything the review flow shows per customer (one, or all when customer_id is None), as of now.

    The same queries serve one customer and all of them, so an operator's table and a customer's
    pages, downloads and command line can never disagree. strict=False (pages) keeps going when a
    dataset is unusable and records the gap per area instead; the handoff is always strict.

    ahead=False leaves out the look ahead (the outlook query: balances estimated now, projections), which a
    restatement never reads and which costs more than every other query of a month together; its area is then
    a gap that says so (NOT_ASKED), so no balance is ever estimated from usage that was not read.

    runtime=False leaves out the runtime totals of the period (hours, workspaces, running now), which the attention
    queue never reads (the `attention` command's figures; the look ahead's runtime is the outlook's): they read
    zero, and the runtime area carries the gap RUNTIME_NOT_ASKED, so nothing may take them for figures.

    fetch: how the totals queries' rows are fetched (frames.rows when None); the app's caches pass one that keeps
    the rows of the queries that read no period (the outlook, the billing snapshot) for every period.

    Per-day rows (runtime, ai_daily, trends) are fetched when first asked for, except one customer's, which
    its totals are summed from."""
    with uncollected():  # (thousands of objects for all customers)
        return _summaries(store, period, now, customer_id, strict, fresh_hours, low_days, ahead, runtime, fetch)


def _summaries(store: Store, period: Period, now: datetime, customer_id: str | None, strict: bool,
               fresh_hours: float, low_days: float, ahead: bool, runtime: bool, fetch: Fetch | None
               ) -> dict[str, CustomerSummary]:
    window = dict(customer_id=customer_id, period_start=period.start, period_end=period.end, now=now)
    running = _start(store, window, tuple(a for a in TOTALS if (ahead or a is not Area.AHEAD)
                                          and (runtime or a is not Area.RUNTIME)), fetch)
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
    data = coverage.coverage(store.reports, period, now, fresh_hours)
    # The fastest areas first (billing, then AI): their figures are made while runtime still runs.
    billing_rows = _area(Area.BILLING, running, strict, fetched, gaps)
    snapshots, refused = _snapshots(billing_rows["billing_snapshot"]), _refused(billing_rows["customer_refused_rows"])
    billing = {} if Area.BILLING in gaps else _readiness(found, snapshots, refused, data, now)
    if ahead and customer_id is not None:
        _since(store, window, running, snapshots.get(customer_id), fetch)
    ai = _area(Area.AI, running, strict, fetched, gaps)
    providers, unlinked = _providers(ai, period, now, data)
    by_customer = {cid: (hours, workspaces, running_now, count) for cid, hours, workspaces, running_now, count in zip(
        *columns(_area(Area.RUNTIME, running, strict, fetched, gaps)["runtime_totals"], "customer_id",
                 "runtime_hours", "active_workspaces", "is_running", "running_workspaces")) if cid}
    if ahead:
        usage_ahead = _ahead(_area(Area.AHEAD, running, strict, fetched, gaps))
    else:
        usage_ahead, gaps[Area.AHEAD] = {}, NOT_ASKED
    if not runtime:
        gaps[Area.RUNTIME] = RUNTIME_NOT_ASKED
    shared = Frames(store, window, gaps, fetched)
    result = {}
    for cid, acct in found.items():
        hours, workspaces, running_now, running_count = by_customer.get(cid, (0.0, 0, False, 0))
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
            running_workspaces=int(running_count or 0),
            frames=shared,
            gaps=gaps,
            data=data,
            refused=tuple(refused.get(cid, ())),
            ahead=usage_ahead.get(cid, _NO_USAGE_AHEAD),
            low_days=low_days,
        )
    return result


def _shared(found: dict[str, CustomerSummary]) -> list[Frames]:
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


def customer_summary(store: Store, customer_id: str, period: Period, now: datetime,
                     low_days: float = outlook.DEFAULT_LOW_DAYS) -> CustomerSummary:
    """Everything the review flow shows for one customer and period, evaluated as of now."""
    found = summaries(store, period, now, customer_id, low_days=low_days)
    if customer_id not in found:
        raise UnknownCustomer(f"customer {customer_id!r} is not in the customers dataset")
    return found[customer_id]
