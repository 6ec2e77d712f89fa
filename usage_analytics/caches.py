"""Where Streamlit's caches meet the core: the store once per process and state of the exports, and results
keyed by every parameter (the customer scope included), so a cache can never hand one customer's rows to
another. Nothing here draws a page, except the status box of a first build.

The shared results live in process-level caches of our own (_shared), not in st.cache_resource/st.cache_data:
any browser, logged in or not, can send Streamlit's "clear caches" message, and Streamlit 1.67 then clears
every st.cache_* of the process (app_session.py, _handle_clear_cache_request; client.toolbarMode only hides
the menu item). Here that message clears nothing of ours."""
from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections import OrderedDict
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import streamlit as st

from . import attention, build, config, frames, revisions, sql, summary
from . import every_customer as every_customer_module
from .config import Settings
from .periods import Period
from .store import DataError, Store, first_line
from .summary import Account, CustomerSummary

log = logging.getLogger("usage_analytics")
Source = tuple[str, str]  # the exports' folder and their fingerprint on this UTC day: the caches' key


class _ProcessCache:
    """One function's results for the whole process, by arguments, as st.cache_resource keeps them (one
    object per key, made once even when sessions ask at the same moment; at most max_entries, each for ttl
    seconds, the least recently used dropped first), but out of reach of st.cache_*.clear(). `copy` hands
    every caller its own copy of a mutable result, as st.cache_data's pickling did.

    max_rows bounds what the entries hold together, by rows (a result's len(): customers' figures, a frame's
    rows), so that memory is bounded by what is kept and not only by how many keys: 256 one-customer months
    are small, 256 months of 5,000 customers are gigabytes. The newest entry is kept even when it alone
    holds more (it was just made for a page that is drawing it)."""

    def __init__(self, function: Callable, max_entries: int, ttl: float | None, spinner: str | None,
                 copy: Callable[[Any], Any] | None, max_rows: int | None = None):
        functools.update_wrapper(self, function)
        self._function, self._max, self._ttl, self._spinner = function, max_entries, ttl, spinner
        self._copy = copy or (lambda value: value)
        self._max_rows = max_rows
        self._rows: dict[tuple, int] = {}  # key -> its result's rows (when max_rows is given)
        self._entries: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()  # key -> (made at, value)
        self._making: dict[tuple, threading.Lock] = {}  # one lock per key being made
        self._guard = threading.Lock()

    def _fresh(self, key: tuple) -> tuple[float, Any] | None:
        found = self._entries.get(key)
        if found is None or (self._ttl is not None and time.monotonic() - found[0] >= self._ttl):
            return None
        self._entries.move_to_end(key)
        return found

    def __call__(self, *args):
        with self._guard:
            found = self._fresh(args)
            making = found is None and self._making.setdefault(args, threading.Lock())
        if found is None:
            with making:  # a second caller of the same key waits here, then finds the first one's result
                with self._guard:
                    found = self._fresh(args)
                if found is None:
                    try:
                        with st.spinner(self._spinner) if self._spinner else contextlib.nullcontext():
                            value = self._function(*args)
                    finally:
                        with self._guard:
                            self._making.pop(args, None)
                    with self._guard:
                        found = self._entries[args] = (time.monotonic(), value)
                        self._entries.move_to_end(args)
                        if self._max_rows is not None:
                            self._rows[args] = len(value)
                        while len(self._entries) > self._max or (
                                len(self._entries) > 1 and self._max_rows is not None
                                and sum(self._rows.values()) > self._max_rows):
                            self._rows.pop(self._entries.popitem(last=False)[0], None)
        return self._copy(found[1])

    def held_rows(self) -> int:
        """The rows the kept entries hold together (0 unless max_rows is given)."""
        with self._guard:
            return sum(self._rows.values())

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()
            self._rows.clear()


def _shared(max_entries: int, ttl: float | None = None, spinner: str | None = None,
            copy: Callable[[Any], Any] | None = None, max_rows: int | None = None
            ) -> Callable[[Callable], _ProcessCache]:
    return lambda function: _ProcessCache(function, max_entries, ttl, spinner, copy, max_rows)


# Customers' figures kept at most (summed over the kept months and scopes): five months of 5,000 customers (about
# 30 MB of Python objects and rows each at 100M rows), or any number of one-customer months up to 256 of them.
FIGURES_KEPT = 25_000
ROWS_KEPT = 250_000  # rows of the frames and tables a cache keeps (a few MB per 5,000-row frame)


@_shared(max_entries=2, spinner="Opening the usage store…")
def _store(data_dir: str, fingerprint: str) -> Store:
    """The process's store over the exports as they are now: opened again when a file changes, and each
    UTC day, since rows dated in the future are refused as of the day it was built. A file under STATE_DIR,
    built once per state of the exports (by the first process to need it, see _prepare) and then reused."""
    settings = config.load()
    store = build.build(Path(data_dir), settings.now(), settings.store_dir)
    _hand_back_freed_memory(store)
    return store


def _hand_back_freed_memory(store: Store) -> None:
    """DuckDB's allocator (jemalloc) keeps what a query has freed, and a server lives for days: an operators' month
    of 5,000 customers left about 250 MB resident for 30 MB of figures. Its background threads hand freed pages back
    to the system, and a task that peaked over 16 MB flushes its thread's cache when it ends (the default is 128
    MB). At 100M: 448 MB resident 2 s after two months' figures, 366 MB with these, at no measurable cost in CPU.
    The app's own store only (not the build, nor a command that ends in seconds); settings of the whole process."""
    with contextlib.closing(store.cursor()) as cursor:
        cursor.execute("set allocator_background_threads = true")
        cursor.execute("set allocator_flush_threshold = '16MB'")


_PREPARED: set[Source] = set()  # exports states this process has found or built a store file for


def _prepare(settings: Settings, source: Source) -> None:
    """The first load after new exports checks them into a store file: show that, step by step. Looked at
    once per exports state and process: a rerun must not walk the exports folder again to find out."""
    if source in _PREPARED:
        return
    if not build.ready(settings.data_dir, settings.now(), settings.store_dir):
        box = st.empty()  # (gone once the store is ready: no leftover box above the first page)
        with box.status("New usage exports: checking them into the analytics store…", expanded=True) as status:
            # built here, outside the cached _store (a cached function may not write to this box), then opened
            build.build(settings.data_dir, settings.now(), settings.store_dir, status.write).close()
        box.empty()
        _PRIMING.clear()  # (the latest build's only: one entry, however long the process runs)
        _PRIMING[source] = _prime(settings, source)
    _PREPARED.add(source)  # also when STATE_DIR cannot hold the file (the exports are then in memory)


_PRIMING: dict[Source, threading.Thread | None] = {}  # the comparison started after the latest build


def _prime(settings: Settings, source_: Source) -> threading.Thread | None:
    """After this process built the store for new exports: every customer's closed months compared with it on a
    thread of its own (None when no month is closed), as `ingest` does after its build, so that neither the
    `attention` command nor the Operators page's queue has to make them first; nobody waits for it. The result is
    kept where both read it (attention.Kept) and in this process's cache of the page's queue (_restated: a page
    asking meanwhile waits for this one instead of making them twice). It opens the store here, on the page's
    thread (which opens it next anyway), so that the cache's spinner is drawn where a page runs."""
    try:
        closed = _closed(settings)
        if not closed:
            return None
        store(source_)
    except (OSError, DataError) as error:  # (the page that follows says what it cannot read)
        log.warning("the closed months were not compared with the new store: %s", first_line(error))
        return None
    reach = _reach(now(settings), closed)

    def compare() -> None:
        try:
            _restated(*source_, None, reach, settings, closed)
        except Exception as error:  # (a thread's error would reach no one: the page or command makes them again)
            log.warning("the closed months could not be compared with the new store: %s", first_line(error))

    thread = threading.Thread(target=compare, name="closed-months", daemon=True)
    thread.start()
    return thread


def now(settings: Settings) -> datetime:
    """The evaluation instant: pinned, or the clock to the minute (so a minute's reruns share the cache)."""
    moment = settings.now()
    return moment if settings.analytics_now else moment.replace(second=0, microsecond=0)


def source(settings: Settings) -> Source:
    """The cache key of the exports: folder, and its files' fingerprint on this UTC day."""
    return str(settings.data_dir), f"{build.fingerprint(settings.data_dir)}@{now(settings):%Y-%m-%d}"


def store(source_: Source) -> Store:
    return _store(*source_)


# A resource, not data: st.cache_data would pickle the figures in and out on every rerun (about half a
# second for 5,000 customers). Summaries are frozen and hand out a new frame on each access, so sharing
# them across sessions is safe.
@_shared(max_entries=256, ttl=3600, spinner="Computing figures…", max_rows=FIGURES_KEPT)
def _summaries(data_dir: str, fingerprint: str, customer_id: str | None, first_day: date, last_day: date,
               now: datetime, fresh_hours: float, low_days: float, ahead: bool) -> dict[str, CustomerSummary]:
    # (ahead has no default: the cache keys on the arguments as given, so every caller passes all of them)
    def fetch(store: Store, name: str, window: dict) -> pd.DataFrame:
        if PERIOD_PARAMS & set(sql.load(name).params):
            return frames.rows(store, name, window)
        return _periodless(data_dir, fingerprint, name, window["customer_id"], window["now"])

    return summary.summaries(_store(data_dir, fingerprint), Period(first_day, last_day), now, customer_id,
                             strict=False, fresh_hours=fresh_hours, low_days=low_days, ahead=ahead, fetch=fetch)


PERIOD_PARAMS = {"period_start", "period_end"}


# The rows of a query that reads no period (the look ahead as of now, the billing snapshot in force), kept for
# every period's figures of the same scope and moment: the outlook for every customer costs more than the rest
# of an operators' month, and an operator going from month to month would make it again for each. Never
# written to (summaries read them; pages cut their own frames), so shared as they are.
@_shared(max_entries=64, ttl=3600, max_rows=ROWS_KEPT)
def _periodless(data_dir: str, fingerprint: str, name: str, customer_id: str | None, now: datetime) -> pd.DataFrame:
    return frames.rows(_store(data_dir, fingerprint), name, {"customer_id": customer_id, "now": now})


@_shared(max_entries=16, ttl=3600, copy=pd.DataFrame.copy, max_rows=ROWS_KEPT)
def _every_customer(data_dir: str, fingerprint: str, customer_id: str | None, first_day: date, last_day: date,
                    now: datetime, fresh_hours: float, low_days: float) -> pd.DataFrame:
    return every_customer_module.table(_summaries(data_dir, fingerprint, customer_id, first_day, last_day, now,
                                                  fresh_hours, low_days, True))


def every_customer(source_: Source, customer_id: str | None, period: Period, moment: datetime,
                   settings: Settings) -> pd.DataFrame:
    """The Operators page's table of the figures summaries() gives for the same arguments (made once with them;
    every caller gets its own copy)."""
    return _every_customer(*source_, customer_id, period.first_day, period.last_day, moment,
                           settings.export_max_age_hours, settings.low_balance_days)


def summaries(source_: Source, customer_id: str | None, period: Period, moment: datetime,
              settings: Settings, ahead: bool = True) -> dict[str, CustomerSummary]:
    """Figures per customer in scope (one, or all for None) for a period as of a moment; exports this many
    hours old still reach the moment (EXPORT_MAX_AGE_HOURS), balances under LOW_BALANCE_DAYS are low. ahead=False:
    without the look ahead (summary.summaries), for figures only compared with (the Overview's other side)."""
    return _summaries(*source_, customer_id, period.first_day, period.last_day, moment,
                      settings.export_max_age_hours, settings.low_balance_days, ahead)


def _closed(settings: Settings) -> tuple[tuple[str, int], ...]:
    """Every month-close revision, as (month, revision): read on every run, so a new close counts at once."""
    return tuple((r.period, r.revision) for r in revisions.for_settings(settings).all())


def _reach(moment: datetime, closed: tuple[tuple[str, int], ...]) -> datetime:
    """The instant the restated months are made as of: now, or the end of the latest closed month when now is
    later (as it is but for a pinned ANALYTICS_NOW): an ended month's figures do not move with the clock, so
    a new minute does not make them again."""
    return min(moment, max(Period.parse(label).end for label, _ in closed))


@_shared(max_entries=32, ttl=3600)
def _restated(data_dir: str, fingerprint: str, customer_id: str | None, reach: datetime, settings: Settings,
              closed: tuple[tuple[str, int], ...]) -> dict[str, list[tuple[str, int, str]]]:
    store = _store(data_dir, fingerprint)

    def figures(period: Period) -> dict[str, CustomerSummary]:  # (made once per month and kept: not cached here)
        return summary.summaries(store, period, reach, customer_id, strict=False,
                                 fresh_hours=settings.export_max_age_hours, ahead=False)

    return attention.restated_months(revisions.for_settings(settings), figures,
                                     attention.kept(settings, store, reach, customer_id))


@_shared(max_entries=64, ttl=3600, copy=list)
def _queue(data_dir: str, fingerprint: str, customer_id: str | None, first_day: date, last_day: date,
           now: datetime, fresh_hours: float, low_days: float, stall_days: float, settings: Settings,
           closed: tuple[tuple[str, int], ...]) -> list[attention.Entry]:
    found = _summaries(data_dir, fingerprint, customer_id, first_day, last_day, now, fresh_hours, low_days, True)
    moved = _restated(data_dir, fingerprint, customer_id, _reach(now, closed), settings, closed) if closed else {}
    return attention.queue(found, stall_days, moved)


def queue(source_: Source, customer_id: str | None, moment: datetime, settings: Settings) -> list[attention.Entry]:
    """The attention queue of the scope as of a moment (from the calendar month holding it), kept with the figures
    it is made from: the same key as theirs, and the stall days and every closed revision (read on every run),
    so a rerun of a page costs a lookup, not the queue again."""
    month = attention.month_of(moment)
    return _queue(*source_, customer_id, month.first_day, month.last_day, moment, settings.export_max_age_hours,
                  settings.low_balance_days, settings.onboarding_stall_days, settings, _closed(settings))


@_shared(max_entries=64, ttl=3600, copy=pd.DataFrame.copy, max_rows=ROWS_KEPT)
def provider_projects(data_dir: str, fingerprint: str, customer_id: str | None) -> pd.DataFrame:
    return _store(data_dir, fingerprint).run("provider_projects", customer_id=customer_id)


@_shared(max_entries=64, ttl=3600, copy=pd.DataFrame.copy, max_rows=ROWS_KEPT)
def unlinked(data_dir: str, fingerprint: str, first_day: date, last_day: date, now: datetime) -> pd.DataFrame:
    period = Period(first_day, last_day)
    return _store(data_dir, fingerprint).run("ai_unlinked_providers", customer_id=None, period_start=period.start,
                                             period_end=period.end, now=now)


@_shared(max_entries=16, ttl=3600, copy=dict)
def _accounts(data_dir: str, fingerprint: str) -> dict[str, Account]:
    return summary.accounts(_store(data_dir, fingerprint))


def accounts(settings: Settings) -> tuple[dict[str, Account] | None, str]:
    """Every customer account by id, or None and the reason when the customers dataset is unusable."""
    try:
        found = source(settings)
        _prepare(settings, found)
        return _accounts(*found), ""
    except DataError as error:
        log.warning("customers unavailable: %s", error)
        return None, str(error)


@_shared(max_entries=64, ttl=3600, copy=pd.DataFrame.copy, max_rows=ROWS_KEPT)
def rows(data_dir: str, fingerprint: str, name: str, customer_id: str | None, first_day: date, last_day: date,
         now: datetime, extra: tuple[tuple[str, object], ...] = ()) -> pd.DataFrame:
    """The rows of a query a page draws (areas.DRAWN) for one customer (all customers for None) in a period as of
    now, with the query's own further parameters (extra: name and value pairs, hashable for the key: a list
    parameter is given as a tuple). Fetched only by the pages that draw them, so they are no part of the
    summaries every page computes; at most 64 kept, each for an hour."""
    period = Period(first_day, last_day)
    window = {"customer_id": customer_id, "period_start": period.start, "period_end": period.end, "now": now}
    params = sql.load(name).params
    return _store(data_dir, fingerprint).run(name, **{k: list(v) if isinstance(v, tuple) else v  # (a list param)
                                                      for k, v in [*window.items(), *extra] if k in params})
