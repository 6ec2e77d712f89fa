"""The query rows behind a scope's figures: fetched once on a pool of threads, shared by the scope's
summaries, cut per customer when a page asks; and the small conversions of those rows into Python values."""
from __future__ import annotations

import contextlib
import gc
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal
from functools import cache
from typing import Callable

import numpy as np
import pandas as pd

from . import sql
from .areas import DETAILS, Area
from .contract import USAGE_COUNTS
from .store import Store


@cache
def _pool() -> ThreadPoolExecutor:
    """The process's threads for queries (DuckDB runs them outside the GIL), made on first use."""
    return ThreadPoolExecutor(max_workers=16, thread_name_prefix="figures")


@contextlib.contextmanager
def uncollected():
    """Python's cyclic garbage collector held off while thousands of small objects are made (figures, providers,
    reasons and entries of thousands of customers, none of them in a cycle, so reference counting frees them as
    ever): each few hundred new objects would set it walking a heap that holds every cached month's figures. At
    5,000 customers that was 40% of an operators' month's Python (446 against 262 ms) and 10-40% of the attention
    queue's. It runs again afterwards, unless it was off already (another thread's figures, or the host's)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


Fetch = Callable[[Store, str, dict], pd.DataFrame]  # (store, query name, window) -> its rows, as rows() gives them


def submit(store: Store, name: str, window: dict, fetch: Fetch | None = None) -> Future:
    """Run a query on the pool with the window's parameters it declares (through fetch when given: e.g. the
    app's caches, which keep the rows of a query that reads no period for every period of the same moment)."""
    return _pool().submit(fetch or rows, store, name, window)


def rows(store: Store, name: str, window: dict) -> pd.DataFrame:
    return store.run(name, **{k: v for k, v in window.items() if k in sql.load(name).params})


def no_rows(name: str) -> pd.DataFrame:
    return pd.DataFrame(columns=[column for column, _ in sql.load(name).returns])


_MICROSECONDS_PER_HOUR = 3_600_000_000


def summed_here(name: str, days: pd.DataFrame) -> pd.DataFrame:
    """A totals query's rows (per customer) from the days of the query it is summed from. Summed in plain
    Python: these are one customer's days, a few hundred rows, where a pandas groupby costs milliseconds.
    Hours are added as whole microseconds, so the total is the one SQL gives (seconds summed, then divided)
    and rounds the same way for a handoff even on a half cent of an hour."""
    if name == "runtime_totals":
        runtime: dict[str, list] = {}
        for cid, workspace, hours, running in zip(*columns(days, "customer_id", "workspace_id", "runtime_hours",
                                                            "is_running")):
            summed = runtime.setdefault(cid, [0, set(), set()])
            summed[0] += round(hours * _MICROSECONDS_PER_HOUR)  # exact: the days' hours are whole microseconds
            summed[1].add(workspace)
            if running:
                summed[2].add(workspace)
        return pd.DataFrame([(cid, micros / _MICROSECONDS_PER_HOUR, len(workspaces), bool(running), len(running))
                             for cid, (micros, workspaces, running) in sorted(runtime.items())],
                            columns=["customer_id", "runtime_hours", "active_workspaces", "is_running",
                                     "running_workspaces"])
    ai: dict[tuple[str, str], list] = {}
    for cid, provider, cost, *counts in zip(*columns(days, "customer_id", "provider", "cost_usd", *USAGE_COUNTS)):
        summed = ai.setdefault((cid, provider), [Decimal(0), 0, 0, 0, 0])
        summed[0] += cost  # exact
        for index, count in enumerate(counts, 1):
            summed[index] += count
    return pd.DataFrame([(*key, *summed) for key, summed in sorted(ai.items())],
                        columns=["customer_id", "provider", "cost_usd", *USAGE_COUNTS])


def columns(frame: pd.DataFrame, *names: str) -> list[list]:
    """Columns as Python lists with None for nulls: thousands of rows read this way, not row by row."""
    return [values(frame[name]) for name in names]


def values(column: pd.Series) -> list:
    if isinstance(column.dtype, pd.StringDtype) or column.dtype == object:  # (every null as None in one step;
        return column.to_numpy(dtype=object, na_value=None).tolist()        # an Arrow-backed column iterates slowly)
    if pd.api.types.is_datetime64_dtype(column.dtype):  # tables hold naive UTC: aware datetimes, at once
        values = column.dt.tz_localize("UTC").dt.to_pydatetime().tolist()
    else:
        values = column.tolist()
    if not column.hasnans:
        return values
    return [None if missing else v for v, missing in zip(values, column.isna().to_numpy().tolist())]


class Frames:
    """The rows of the scope's queries, shared by its summaries: those the totals were made from, and the
    per-day rows (DETAILS), run only when a page first asks for them. An operator's month of thousands of
    customers then never fetches every customer's days unless a page draws them. Each customer's rows are
    found by position (queries order them by customer_id) and cut only when asked for."""

    def __init__(self, store: Store, window: dict, gaps: dict[Area, str], frames: dict[str, pd.DataFrame]):
        self._store, self._window, self._gaps = store, window, gaps
        self._lock = threading.Lock()  # summaries are shared by sessions, which run on threads
        self._running: dict[str, Future] = {}
        for name, frame in frames.items():
            self._running[name] = done = Future()
            done.set_result(frame)
        self._bounds: dict[str, dict[str, tuple[int, int]]] = {}

    def _fetch(self, name: str) -> pd.DataFrame:
        if DETAILS[name] in self._gaps:  # the area's data is unusable: no rows, and the gap says why
            return no_rows(name)
        return rows(self._store, name, self._window)

    def frame(self, name: str) -> pd.DataFrame:
        """A query's whole result (shared: not to be written to), run on first use."""
        with self._lock:
            if name not in self._running:
                self._running[name] = _pool().submit(self._fetch, name)
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
