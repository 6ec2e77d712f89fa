"""Rollups and macros in a store being built: tables summed once from the checked datasets (queries/rollups),
made whole or, where only rows were added, refreshed from the first new day; then the table macros."""
from __future__ import annotations

from datetime import date
from typing import Callable

import duckdb

from . import sql
from .checking import identifier


def make_free_macros(con: duckdb.DuckDBPyConnection) -> None:
    """The macros that read no table (a day's reconciliation status; runs of the sessions a rollup or a refresh
    names): made first, since rollups use them."""
    for macro in sql.macros().values():
        if not macro.reads:
            con.execute(macro.text.replace("create macro", "create or replace macro", 1))


def roll_up(con: duckdb.DuckDBPyConnection, changed: set[str], since: dict[str, date | None], problems: set[str],
            progress: Callable[[str], None]) -> None:
    """(Re)compute the rollups over changed datasets: all of a rollup, or, where only rows were added
    (since: dataset -> the first day of its new rows), a rollup kept per day (or per run) from that day on.
    A rollup over an unusable dataset (problems) is dropped. Then the table macros that read tables, which
    DuckDB binds when they are made, so after what they read."""
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
        con.execute(f"create or replace table {table} as {rollup.select}")
    for macro in sql.macros().values():
        if macro.reads and not macro.reads & problems:
            con.execute(macro.text.replace("create macro", "create or replace macro", 1))


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
