"""A built store: DuckDB with one checked table per usable dataset, and run(query_name, **params).

This is all pages and the command line need of the data layer. Building a store (checking the exports,
rollups, the incremental refresh) is build.py's explicit step; opening one never builds it."""
from __future__ import annotations

import contextlib
import json
import threading
import warnings
from contextlib import contextmanager
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd

from . import sql
from .validation import DatasetReport

STATE_TABLE = "_store"  # one row: the store's key and what checking the exports found (JSON)
# Every refused row of every dataset (written by checking), for the customer it names: its event time and its first
# failed check, so a customer's pages and pack can say which of its own rows were not used, and why (the Data
# health page has the totals per reason).
REFUSED_ROWS = "refused_rows"
# Parameters a query may declare that the store gives itself rather than its caller: how far a rollup reaches,
# which the query needs when it is planned (bound as a value, DuckDB drops the way it does not take), and which
# a subquery would only say while it runs.
GIVEN = ("runtime_months_until",)

# Queries run with execute(), not sql(): a relation parses and binds a query once to learn its columns and
# again to run it, about 2 ms of a page's 5-10 ms query. DuckDB warns that Arrow output of an executed query
# copies its rows once more: a page's few hundred rows, and no slower for the operators' 200,000 (measured).
# Warning filters are process-wide by nature; this one names this module, so it silences only our queries.
warnings.filterwarnings("ignore", "Arrow output on a DB-API result", UserWarning, __name__)


class DataError(RuntimeError):
    """A dataset cannot be used; the message names the dataset, and the file and column where known."""


def first_line(error: BaseException) -> str:
    """The first line of an error's message (DuckDB adds hints below it), or its type when it has none."""
    return (str(error).splitlines() or [type(error).__name__])[0]


def connect(path: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(path, read_only=read_only)
    con.execute("set enable_progress_bar = false")  # never draw a bar on a server's stdout
    return con


def read_state(con: duckdb.DuckDBPyConnection) -> tuple[str, dict]:
    """The key and state a store file was written with (DataError when it holds none)."""
    try:
        key, state = con.execute(f"select key, state from {STATE_TABLE}").fetchone()
        return key, json.loads(state)
    except (duckdb.Error, TypeError, ValueError) as error:
        raise DataError(f"not a finished store file ({first_line(error)})") from None


class Store:
    """Checked tables and rollups on one DuckDB connection; a fresh cursor per query (sessions run on threads).

    problems: dataset -> why it cannot be used (only the queries that read it fail);
    reports: dataset -> what checking its files found (rows kept and rejected per reason, files not read)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, state: dict, database: Path | None = None, made: str = ""):
        self._con = con
        self._lock = threading.Lock()
        self.problems: dict[str, str] = dict(state["problems"])
        self.reports = {name: DatasetReport.from_json(r) for name, r in state["reports"].items()}
        self.database = database  # the store file; None for a store in memory
        self.made = made  # "built" or "refreshed" when the step that opened it made the file

    @cached_property
    def refused_any(self) -> bool:
        """Whether the checks refused any row of the exports (refused_rows holds one). Without one, no customer
        has refused rows in any period, so the figures need not ask (the query alone is 4-6 ms of CPU at 100M).
        True when that cannot be read: the query then runs and says what is wrong."""
        with contextlib.closing(self.cursor()) as cursor:
            try:
                return bool(cursor.execute(f"select exists (select 1 from {REFUSED_ROWS})").fetchone()[0])
            except duckdb.Error:
                return True

    @cached_property
    def runtime_months_until(self) -> date:
        """The last month whose every run workspace_runtime_months holds: that of the newest session start, up to
        which it carries the runs still running (runtime_totals reads a closed month from it only up to there).
        A store with no session, or none usable, gives a day before any month."""
        with contextlib.closing(self.cursor()) as cursor:
            try:
                last = cursor.execute("select last_day(cast(max(started_at) as date)) from workspace_session_runs"
                                      ).fetchone()[0]
            except duckdb.Error:
                last = None
        return last or date.min

    @contextmanager
    def _bound(self, name: str, params: dict[str, object]) -> Iterator[tuple[duckdb.DuckDBPyConnection, str, dict]]:
        """A cursor of its own, and queries/<name>.sql with its parameters bound."""
        query = sql.load(name)
        bound = query.bind({**{given: getattr(self, given) for given in GIVEN if given in query.params}, **params})
        broken = sorted(query.datasets() & set(self.problems))
        if broken:
            raise DataError("; ".join(self.problems[dataset] for dataset in broken))
        cursor = self.cursor()  # (under a lock: cursor() itself is not thread-safe; the query runs outside it)
        try:
            yield cursor, query.text, bound
        except duckdb.Error as error:
            raise DataError(f"query {name}: {first_line(error)}") from None
        finally:
            cursor.close()

    def run(self, name: str, **params: object) -> pd.DataFrame:
        """The rows of queries/<name>.sql for these parameters (DECIMAL columns hold exact Decimals)."""
        with self._bound(name, params) as (cursor, text, bound):  # (execute, not sql: see the warnings filter)
            return cursor.execute(text, bound).to_arrow_table().to_pandas()

    def result_types(self, name: str, **params: object) -> list[tuple[str, str]]:
        """(column, DuckDB type) of a query's result, for checking its header."""
        with self._bound(name, params) as (cursor, text, bound):
            relation = cursor.sql(text, params=bound)
            return [(column, str(kind)) for column, kind in zip(relation.columns, relation.types)]

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own, for a statement that is no named query (the tests' checks of rollups)."""
        with self._lock:
            return self._con.cursor()

    def close(self) -> None:
        self._con.close()


def open_file(database: Path) -> tuple[Store, str]:
    """A finished store file, read-only, and the key it was built for (DataError when it is not one)."""
    try:
        con = connect(str(database), read_only=True)
    except duckdb.Error as error:
        raise DataError(f"store file {database} cannot be opened ({first_line(error)})") from None
    try:
        key, state = read_state(con)
    except DataError:
        con.close()
        raise
    return Store(con, state, database), key
