"""Rollups and macros in a store being built: tables summed once from the checked datasets (queries/rollups),
made whole or, where only rows were added, refreshed from the first new day; then the table macros."""
from __future__ import annotations

from datetime import date
from typing import Callable

import duckdb

from . import sql
from .checking import identifier
from .validation import DatasetReport

# A rollup made month by month ('-- made month by month') is, over fewer rows than this, made in one statement:
# at a few million rows a month's group-by is no cheaper than the whole one, and each statement costs planning.
MONTHLY_ROWS = 5_000_000
# At most this many of its latest months have a statement of their own; anything older goes with the first (one
# stray event of 1970 would otherwise plan a statement for each month since).
MONTHLY_AT_MOST = 36


def make_free_macros(con: duckdb.DuckDBPyConnection) -> None:
    """The macros that read no table (a day's reconciliation status; runs of the sessions a rollup or a refresh
    names): made first, since rollups use them."""
    for macro in sql.macros().values():
        if not macro.reads:
            con.execute(macro.text.replace("create macro", "create or replace macro", 1))


def roll_up(con: duckdb.DuckDBPyConnection, changed: set[str], since: dict[str, date | None], problems: set[str],
            progress: Callable[[str], None], reports: dict[str, DatasetReport] | None = None) -> None:
    """(Re)compute the rollups over changed datasets: all of a rollup, or, where only rows were added
    (since: dataset -> the first day of its new rows), a rollup kept per day (or per run) from that day on.
    A rollup over an unusable dataset (problems) is dropped. Then the table macros that read tables, which
    DuckDB binds when they are made, so after what they read. reports (what checking found, by dataset): how
    many rows a rollup is made from, and their first and last event, for one made month by month."""
    for rollup in sql.rollups().values():  # summed once here, read by every page
        table = identifier(rollup.table)
        if rollup.reads & problems:
            con.execute(f"drop table if exists {table}")
            continue
        touched = rollup.reads & changed
        if not touched:
            continue
        exists = con.execute("select count(*) from duckdb_tables() where table_name = $t",
                             {"t": rollup.table}).fetchone()[0]
        days = [since[name] for name in touched if name in since and since[name] is not None]
        if exists and rollup.refresh_from and touched <= since.keys() and not touched & rollup.whole_when:
            if days:
                _refresh(con, rollup, min(days), progress)
            continue
        progress(f"summing {rollup.table}")
        _make(con, rollup, reports or {})
    for macro in sql.macros().values():
        if macro.reads and not macro.reads & problems:
            con.execute(macro.text.replace("create macro", "create or replace macro", 1))


def _make(con: duckdb.DuckDBPyConnection, rollup: sql.Rollup, reports: dict[str, DatasetReport]) -> None:
    """A rollup made whole from its select; one made month by month (kept in order of its refresh column, by
    day or month first) from its select for each month of the events it is made from, in turn, so that each
    group-by holds a month's groups (at 100M rows a month's ai_usage_daily is 220,000 groups of 2.8M, and its
    group-by 6.9 against 8.9 CPU-s whole). Each row is in exactly one of the statements, whatever the months:
    the first takes everything before the second month, the last everything from its month on (the column is
    the day of a required event, never null, as a refresh from a day counts on too); and the months in turn keep
    the table's order."""
    table = identifier(rollup.table)
    months = _months(rollup, reports) if rollup.by_month else []
    if len(months) < 2:
        con.execute(f"create or replace table {table} as {rollup.select}")
        return
    column = identifier(rollup.refresh_from)
    con.execute(f"create or replace table {table} as select * from ({rollup.select}) limit 0")
    edges = months[1:]
    for lower, upper in zip([None, *edges], [*edges, None]):
        params = {name: edge for name, edge in (("lower", lower), ("upper", upper)) if edge is not None}
        where = " and ".join(f"{column} {'>=' if name == 'lower' else '<'} ${name}" for name in params)
        con.execute(f"insert into {table} select * from ({rollup.select}) where {where}", params)


def _months(rollup: sql.Rollup, reports: dict[str, DatasetReport]) -> list[date]:
    """The first day of each month from the earliest event to the latest of the datasets a rollup is made from
    (the latest MONTHLY_AT_MOST of them), when they hold MONTHLY_ROWS rows or more (none otherwise)."""
    found = [reports[name] for name in sorted(rollup.reads) if name in reports]
    spans = [(r.oldest, r.newest) for r in found if r.oldest is not None and r.newest is not None]
    if sum(r.rows_kept for r in found) < MONTHLY_ROWS or not spans:
        return []
    first, last = min(s for s, _ in spans), max(e for _, e in spans)
    stop = last.year * 12 + last.month  # (months counted from year 0, so that a month's number steps by one)
    start = max(first.year * 12 + first.month, stop - MONTHLY_AT_MOST + 1)
    return [date((number - 1) // 12, (number - 1) % 12 + 1, 1) for number in range(start, stop + 1)]


def _refresh(con: duckdb.DuckDBPyConnection, rollup: sql.Rollup, day: date, progress: Callable[[str], None]) -> None:
    """A rollup's rows from a day on, made again: by day, its own select from that day; by run or file, the
    statements of its refresh file (queries/refresh/<table>.sql)."""
    if rollup.refresh_from in sql.BY_FILE:
        progress(f"numbering {rollup.table} again from {day}" if rollup.refresh_from == "run" else
                 f"refreshing {rollup.table} from {day}")
        for statement in rollup.refresh:
            con.execute(statement, {"day": day} if "$day" in statement else None)
        return
    progress(f"summing {rollup.table} from {day}")
    table, column = identifier(rollup.table), identifier(rollup.refresh_from)
    con.execute(f"delete from {table} where {column} >= $day", {"day": day})
    con.execute(f"insert into {table} select * from ({rollup.select}) where {column} >= $day", {"day": day})
