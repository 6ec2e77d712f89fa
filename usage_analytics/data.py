"""DuckDB over the parquet exports: one checked table per dataset, run(query_name, **params)."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import stat
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

import duckdb
import pandas as pd

from . import contract, sql, validation
from .contract import DATASETS, Dataset

log = logging.getLogger("usage_analytics")
_EMPTY_TYPE = {
    "text": "varchar", "timestamp": "timestamp", "date": "date", "bool": "boolean",
    "int": "bigint", "double": "double", "money": "decimal(18, 9)",
}


BUILD_MEMORY = "3GB"  # DuckDB's cap while checking exports into a store file; beyond it, it spills to disk
# The store file is rebuilt when the code that fills it changes, not only when the exports do.
CODE_VERSION = hashlib.sha256(b"".join(
    (Path(__file__).parent / name).read_bytes() for name in ("data.py", "validation.py", "contract.py"))
    + b"".join(p.read_bytes() for folder in (sql.MACROS_DIR, sql.ROLLUPS_DIR) for p in sorted(folder.glob("*.sql")))
).hexdigest()[:12]

DATASET_COLUMNS = {d.name: {c.name: c for c in d.columns} for d in DATASETS.values()}


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


# Queries run with execute(), not sql(): a relation parses and binds a query once to learn its columns and
# again to run it, about 2 ms of a page's 5-10 ms query. DuckDB warns that Arrow output of an executed query
# copies its rows once more: a page's few hundred rows, and no slower for the operators' 200,000 (measured).
warnings.filterwarnings("ignore", "Arrow output on a DB-API result", UserWarning, __name__)

# Managed-AI buckets are read from their table only for the day a window cuts (whole days come from the
# daily rollup), for every customer at once on the operators' pages: time first, so DuckDB's min/max per
# row group finds that day at once. Every other dataset is read per customer: customer first.
TIME_FIRST = {"ai_usage"}


def _sort_columns(dataset: Dataset) -> list[str]:
    events = [c.name for c in dataset.columns if c.event]
    return [*events[:1], "customer_id"] if dataset.name in TIME_FIRST else ["customer_id", *events[:1]]


class DataError(RuntimeError):
    """A dataset cannot be used; the message names the dataset, and the file and column where known."""


def first_line(error: BaseException) -> str:
    """The first line of an error's message (DuckDB adds hints below it), or its type when it has none."""
    return (str(error).splitlines() or [type(error).__name__])[0]


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    # View DDL cannot take prepared parameters; file paths come from our own directory listing.
    return "'" + text.replace("'", "''") + "'"


def _folder(data_dir: Path) -> Path:
    """The exports folder in one spelling ("data", "./data", "/srv/app/data", a link to it), so that its
    store file's name, its fingerprint and the files named in reports agree whichever way it was given."""
    return Path(data_dir).resolve()


def _other_states(database: Path) -> list[Path]:
    """The store files of the same exports folder in other states (named store-<folder>-<state>.duckdb)."""
    return [p for p in database.parent.glob(database.name.rsplit("-", 1)[0] + "-*.duckdb") if p != database]


def _paths(files: list[Path]) -> str:
    return "[" + ", ".join(_literal(str(f)) for f in files) + "]"


_REJECTED = "_rejected_keys_"  # + dataset: the keys of its refused rows


def _day(now: datetime | None) -> str:
    return "-" if now is None else f"{_naive_utc(now):%Y-%m-%d}"


def _signatures(files: list[Path]) -> list[list]:
    """Each file's path, size and modification time: a file whose signature is unchanged is unchanged."""
    found = []
    for path in files:
        try:
            info = path.stat()
            found.append([str(path), info.st_size, info.st_mtime_ns])
        except OSError:
            found.append([str(path), None, None])
    return found


class _Rebuild(Exception):
    """A dataset's new files cannot simply be added (see Store._plan): check all of its files again."""


class Store:
    """DuckDB with one validated table per usable dataset; a fresh cursor per query.

    Rows that fail a check of SPEC §4 are kept out and counted per reason in reports (never dropped
    silently); a file that cannot be read is left out and named; a dataset is unusable only when its
    folder is missing or unreadable or none of its files can be read, and then only the queries that
    read it fail."""

    def __init__(self, data_dir: Path, now: datetime | None = None, store_dir: Path | None = None,
                 progress: Callable[[str], None] | None = None):
        """store_dir: keep the checked tables in a DuckDB file there, reused while the exports (and the UTC
        day and this code) are unchanged; None: check into memory (the tests' fixtures)."""
        self.data_dir = _folder(data_dir)
        self.now = now  # rows with an event more than a day after this are rejected; None: no such check
        self.problems: dict[str, str] = {}  # dataset -> why it cannot be used
        self.files: dict[str, list[Path]] = {}
        self.reports: dict[str, validation.DatasetReport] = {}
        self._types: dict[str, dict[str, str]] = {}  # dataset -> the column types its files were read as
        self._lock = threading.Lock()
        self._progress = progress or (lambda message: None)
        self.database: Path | None = None  # the store file, when there is one
        self.made = ""  # "built" or "refreshed" when this call made the store file
        if store_dir is not None:
            try:
                self._con = self._open(Path(store_dir))
                return
            except (OSError, duckdb.IOException) as error:  # e.g. a read-only STATE_DIR: still serve
                log.warning("store folder %s cannot be used (%s); checking the exports in memory", store_dir,
                            first_line(error))
                self.problems, self.files, self.reports = {}, {}, {}
        self._con = self._connect(":memory:")
        self._build()

    @staticmethod
    def _connect(path: str, read_only: bool = False, spill: Path | None = None) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(path, read_only=read_only)
        con.execute("set enable_progress_bar = false")  # never draw a bar on a server's stdout
        if spill is not None:  # building: DuckDB would take 80% of RAM; cap it, and spill to disk beyond
            con.execute(f"set memory_limit = '{BUILD_MEMORY}'")
            con.execute(f"set temp_directory = {_literal(str(spill))}")
        return con

    def _build(self) -> None:
        for macro in sql.macros().values():  # shared rules, e.g. a day's reconciliation status
            if not macro.is_table:
                self._con.execute(macro.text)
        for number, dataset in enumerate(DATASETS.values(), 1):
            self._progress(f"checking {dataset.name} ({number}/{len(DATASETS)})")
            self._check(dataset)
        self._roll_up(set(DATASETS), {})

    def _check(self, dataset: Dataset) -> None:
        """Check every file of a dataset into its table (the dataset is unusable when that fails)."""
        report = self.reports[dataset.name] = validation.DatasetReport(dataset.name)
        self.problems.pop(dataset.name, None)
        try:
            self._register(dataset, report)
        except DataError as error:
            report.unusable = str(error).removeprefix(f"dataset {dataset.name}: ")
            self.problems[dataset.name] = str(error)

    def _roll_up(self, changed: set[str], since: dict[str, date | None]) -> None:
        """(Re)compute the rollups over changed datasets: all of a rollup, or, where only rows were added
        (since: dataset -> the first day of its new rows), a rollup kept per day from that day on. Then
        the table macros, which DuckDB binds when they are made, so after what they read."""
        for rollup in sql.rollups().values():  # summed once here, read by every page
            table = _identifier(rollup.table)
            if rollup.reads & set(self.problems):
                self._con.execute(f"drop table if exists {table}")
                continue
            touched = rollup.reads & changed
            if not touched:
                continue
            exists = self._con.execute("select count(*) from duckdb_tables() where table_name = $t",
                                       {"t": rollup.table}).fetchone()[0]
            if exists and rollup.refresh_from and touched <= since.keys() and not touched & rollup.whole_when:
                days = [since[name] for name in touched if since[name] is not None]
                if days and rollup.refresh_from == "run":
                    self._progress(f"numbering {rollup.table} again from {min(days)}")
                    self._renumber_runs(rollup, min(days))
                elif days:
                    self._progress(f"summing {rollup.table} from {min(days)}")
                    column = _identifier(rollup.refresh_from)
                    self._con.execute(f"delete from {table} where {column} >= $day", {"day": min(days)})
                    self._con.execute(f"insert into {table} select * from ({rollup.select}) "
                                      f"where {column} >= $day", {"day": min(days)})
                continue
            self._progress(f"summing {rollup.table}")
            self._con.execute(f"create or replace table {table} as {rollup.select}")
        for macro in sql.macros().values():
            if macro.is_table and not macro.reads & set(self.problems):
                self._con.execute(macro.text.replace("create macro", "create or replace macro", 1))

    def _renumber_runs(self, rollup: sql.Rollup, day: date) -> None:
        """Sessions were added from this day on: the runs that reach it (and every run after them, and the new
        sessions) are numbered again, after the runs of the same workspace that ended before it, which
        stay as they are: a run that ended before the day cannot touch a session starting on it. Per
        workspace with a session reaching the day, _renumbered holds the start of its first run to number
        again (cut_at; the day itself when none reaches it) and the number of runs before it (runs_before).
        workspace_session_runs makes it, and takes its sessions from cut_at on; workspace_runs sums its
        runs after runs_before again. Each rollup's own SQL does the work, on those rows only."""
        table = _identifier(rollup.table)
        numbering = "from workspace_sessions as s" in rollup.select  # (else it sums workspace_session_runs)
        if numbering:
            self._con.execute(f"""
                create or replace temp table _renumbered as
                with reaching as (
                    select distinct s.customer_id, s.workspace_id from workspace_sessions as s
                    where coalesce(s.ended_at, timestamp 'infinity') >= $day
                ),
                cut as (
                    select r.customer_id, r.workspace_id, min(r.started_at) as cut_at, min(r.run_no) - 1 as runs_before
                    from {table} as r
                    semi join (select distinct customer_id, workspace_id, run_no from {table}
                               where coalesce(ended_at, timestamp 'infinity') >= $day) as a
                        using (customer_id, workspace_id, run_no)
                    group by all
                ),
                ended as (
                    select r.customer_id, r.workspace_id, max(r.run_no) as runs_before from {table} as r
                    semi join reaching using (customer_id, workspace_id)
                    anti join cut using (customer_id, workspace_id)
                    group by all
                )
                select w.customer_id, w.workspace_id, coalesce(c.cut_at, $day) as cut_at,
                    coalesce(c.runs_before, e.runs_before, 0) as runs_before
                from reaching as w
                left join cut as c using (customer_id, workspace_id)
                left join ended as e using (customer_id, workspace_id)""", {"day": day})
            self._con.execute(f"delete from {table} as r using _renumbered as c where r.customer_id = c.customer_id "
                              "and r.workspace_id = c.workspace_id and r.started_at >= c.cut_at")
            rows = ("(select s.* from workspace_sessions as s join _renumbered as c using (customer_id, workspace_id) "
                    "where s.started_at >= c.cut_at)")
            replaced = "from workspace_sessions as s"
        else:
            self._con.execute(f"delete from {table} as r using _renumbered as c where r.customer_id = c.customer_id "
                              "and r.workspace_id = c.workspace_id and r.run_no > c.runs_before")
            rows = ("(select s.* from workspace_session_runs as s join _renumbered as c using (customer_id, workspace_id) "
                    "where s.run_no > c.runs_before)")
            replaced = "from workspace_session_runs as s"
        if rollup.select.count(replaced) != 1:
            raise RuntimeError(f"rollup {rollup.table}: refreshed by run, it must read '{replaced}' once")
        select = rollup.select.replace(replaced, f"from {rows} as s")
        if numbering:  # numbered from 1 per workspace: after the runs that stay
            select = (f"select n.* replace (n.run_no + c.runs_before as run_no) from ({select}) as n "
                      "join _renumbered as c using (customer_id, workspace_id) order by n.started_at")
        self._con.execute(f"insert into {table} {select}")

    def _key(self) -> str:
        """What the checked tables depend on: the exports' files, the day 'now' falls on, this code."""
        return _store_key(self.data_dir, self.now)

    def _open(self, store_dir: Path) -> duckdb.DuckDBPyConnection:
        """The store file of these exports; built first when there is none, under a temporary name and
        renamed into place (atomic). Each state of the exports has a file of its own: DuckDB keeps a file
        open once per process and path, and a reader of the previous state must keep reading it."""
        key = self._key()
        database = store_file(self.data_dir, key, store_dir)
        if database.exists():
            try:
                con = self._connect(str(database), read_only=True)
                found, state = con.execute("select key, state from _store").fetchone()
                if found == key:
                    self._restore(json.loads(state))
                    self.database = database
                    return con
                con.close()
            except (duckdb.Error, TypeError, ValueError, KeyError):
                pass  # a broken file: build it again
        store_dir.mkdir(parents=True, exist_ok=True)
        building = store_dir / f".{database.name}.{os.getpid()}.{threading.get_ident()}.building"
        building.unlink(missing_ok=True)
        started = time.perf_counter()
        previous = self._previous(database)
        try:
            if previous is not None:  # only files were added: copy the last file and check the new ones
                _copy(previous[0], building)
                self._con = self._connect(str(building), spill=store_dir / ".spill")
                self._refresh(*previous[1:])
            else:
                self._con = self._connect(str(building), spill=store_dir / ".spill")
                self._build()
            self._con.execute("create or replace table _store (key varchar, state varchar)")
            self._con.execute("insert into _store values ($key, $state)", {"key": key, "state": json.dumps(self._state())})
            self._con.execute("checkpoint")
            self._con.close()
            os.replace(building, database)  # a reader finds the whole file or none
        except BaseException:
            self._con.close()
            building.unlink(missing_ok=True)
            raise
        for old in _other_states(database):  # this folder's earlier states (a process reading one keeps
            old.unlink(missing_ok=True)  # reading its copy: the file goes when the last reader closes it)
        self.made = "refreshed" if previous else "built"
        self._progress(f"store {self.made} in {time.perf_counter() - started:.1f} s")
        self.database = database
        return self._connect(str(database), read_only=True)

    def _previous(self, database: Path) -> tuple[Path, dict, dict] | None:
        """The newest earlier store file of these exports that a refresh can start from, with its state and
        the plan (see _plan); None when a full build is needed (or simpler)."""
        earlier = sorted(_other_states(database), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        if not earlier:
            return None
        try:
            with duckdb.connect(str(earlier[0]), read_only=True) as con:
                found, state = con.execute("select key, state from _store").fetchone()
            state = json.loads(state)
            _, day, code = found.rsplit("@", 2)
        except (duckdb.Error, TypeError, ValueError):
            return None
        today = _day(self.now)  # (same day, or a later one; "-" is a store checked without a "now")
        later = day == today or ("-" not in (day, today) and day < today)
        if code != CODE_VERSION or "signatures" not in state or not later:
            return None
        plan = self._plan(state, day)
        if all(step == "check" for step in plan.values()):
            return None
        return earlier[0], state, plan

    def _plan(self, state: dict, day: str) -> dict[str, str | list[Path]]:
        """Per dataset: 'keep' (its files are unchanged), the list of new files to add (only files were
        added, and they sort after the others, so a full check would see them last), or 'check' (all
        again: a file changed or went, a dataset was unusable, or a new 'now' could accept rows that
        were refused as being in the future)."""
        plan: dict[str, str | list[Path]] = {}
        for name, dataset in DATASETS.items():
            old = state["signatures"].get(name)
            report = state["reports"].get(name, {})
            future = any(r["reason"] == validation.IN_THE_FUTURE for r in report.get("rejected", []))
            try:
                now = _signatures(self._listing(dataset))
            except DataError:
                plan[name] = "check"
                continue
            if old is None or name in state["problems"] or name not in state.get("types", {}) \
                    or (future and day != _day(self.now)):
                plan[name] = "check"
            elif now == old:
                plan[name] = "keep"
            elif now[:len(old)] == old and all(path > old[-1][0] for path, _, _ in now[len(old):]):
                plan[name] = [Path(path) for path, _, _ in now[len(old):]]
            else:
                plan[name] = "check"
        return plan

    def _refresh(self, state: dict, plan: dict[str, str | list[Path]]) -> None:
        """Bring a copy of the previous store file up to date: datasets by plan, then their rollups."""
        self._restore(state)
        changed, since = set(), {}
        for number, (name, step) in enumerate(plan.items(), 1):
            dataset = DATASETS[name]
            if step == "keep":
                continue
            changed.add(name)
            if isinstance(step, list):
                self._progress(f"adding {len(step)} new file{'s' if len(step) != 1 else ''} of {name} "
                               f"({number}/{len(plan)})")
                try:
                    since[name] = self._append(dataset, step)
                    continue
                except _Rebuild:
                    pass
            self._progress(f"checking {name} ({number}/{len(plan)})")
            self._check(dataset)
        self._roll_up(changed, since)

    def _append(self, dataset: Dataset, files: list[Path]) -> date | None:
        """Check new files of a dataset and add their rows, judged as a full check would judge them (the
        earlier files' rows, kept or refused, come first for duplicates). Returns the first day of the
        added rows, or None when none were added."""
        name, table = dataset.name, _identifier(dataset.name)
        report = self.reports[name]
        readable = self._readable(dataset, files, report)
        self.files[name] = [*self.files[name], *files]
        report.files += [str(f) for f in files]
        if not readable:
            return None
        if self._file_types(dataset, readable) != self._types[name]:
            raise _Rebuild  # read together, the files' columns would be read as other types
        keys = ", ".join(_identifier(k) for k in dataset.key_columns)
        # (the earlier files' keys, kept or refused: a new row with one repeats it, as in a full check)
        seen = f"select {keys} from {table} union all select {keys} from {_identifier(_REJECTED + name)}"
        checked = self._checked(dataset, readable, self._types[name], seen)
        contract = ", ".join(_identifier(c) for c in dataset.column_names)
        order = ", ".join(_identifier(c) for c in _sort_columns(dataset))
        self._con.execute(f"insert into {table} select {contract} from {checked} where len(_failed) = 0 order by {order}")
        self._con.execute(f"insert into {_identifier(_REJECTED + name)} select {keys} from {checked} "
                          "where len(_failed) > 0")
        events = [c.name for c in dataset.columns if c.event]
        first = self._con.execute(f"select min(cast({_identifier(events[0])} as date)) from {checked} "
                                  "where len(_failed) = 0").fetchone()[0] if events else None
        added = validation.DatasetReport(name)
        self._summarise(dataset, added, f"(select * from {checked} where len(_failed) > 0)",
                        self._con.execute(f"select count(*) from {checked}").fetchone()[0], readable)
        self._con.execute(f"drop table {checked}")
        report.rows_read += added.rows_read
        report.rows_kept += added.rows_kept
        report.rejected_rows += added.rejected_rows
        if added.newest is not None:  # (taken over the whole table; None when the new files kept no row)
            report.newest = added.newest
        order_of = {(column, reason): n for n, (column, reason) in enumerate(validation.reasons(dataset))}
        merged = {(r.column, r.reason): r for r in report.rejected}
        for r in added.rejected:
            if (r.column, r.reason) in merged:
                old = merged[(r.column, r.reason)]
                old.rows += r.rows
                old.samples = (old.samples + r.samples)[:validation.SAMPLES]
            else:
                merged[(r.column, r.reason)] = r
        report.rejected = sorted(merged.values(), key=lambda r: order_of[(r.column, r.reason)])
        return first

    def _state(self) -> dict:
        return {"problems": self.problems, "files": {k: [str(f) for f in v] for k, v in self.files.items()},
                "signatures": {k: _signatures(v) for k, v in self.files.items()}, "types": self._types,
                "day": _day(self.now),
                "reports": {name: {**asdict(r), "newest": r.newest.isoformat() if r.newest else None}
                            for name, r in self.reports.items()}}

    def _restore(self, state: dict) -> None:
        self.problems = state["problems"]
        self._types = state.get("types", {})
        self.files = {k: [Path(f) for f in v] for k, v in state["files"].items()}
        for name, r in state["reports"].items():
            rejected = [validation.Rejection(x["column"], x["reason"], x["rows"], [tuple(s) for s in x["samples"]])
                        for x in r.pop("rejected")]
            newest = r.pop("newest")
            newest = datetime.fromisoformat(newest) if newest else None
            self.reports[name] = validation.DatasetReport(
                **{**r, "rejected": rejected, "newest": newest, "bad_files": [tuple(b) for b in r["bad_files"]],
                   "forbidden": [tuple(f) for f in r["forbidden"]]})

    def _listing(self, dataset: Dataset) -> list[Path]:
        folder = self.data_dir / dataset.name
        if not folder.is_dir():
            raise DataError(f"dataset {dataset.name}: folder {folder} is missing")
        try:  # paths starting with . or _ are hidden or in-progress output by convention (Spark, Hive)
            return sorted(f for f in folder.rglob("*.parquet")
                          if not any(part.startswith((".", "_")) for part in f.relative_to(folder).parts))
        except OSError as error:
            raise DataError(f"dataset {dataset.name}: folder {folder} cannot be read ({error.strerror})") from None

    def _register(self, dataset: Dataset, report: validation.DatasetReport) -> None:
        for table in (dataset.name, _REJECTED + dataset.name):
            self._con.execute(f"drop table if exists {_identifier(table)}")
        files = self._listing(dataset)
        self.files[dataset.name] = files
        report.files = [str(f) for f in files]
        table = _identifier(dataset.name)
        readable = self._readable(dataset, files, report)
        keys = ", ".join(_identifier(c) for c in dataset.key_columns)
        if not readable:
            if files:
                raise DataError(f"dataset {dataset.name}: none of its {len(files)} files can be read")
            empty = ", ".join(f"cast(null as {_EMPTY_TYPE[c.kind]}) as {_identifier(c.name)}" for c in dataset.columns)
            self._con.execute(f"create table {table} as select {empty} limit 0")
            self._con.execute(f"create table {_identifier(_REJECTED + dataset.name)} as select {keys} from {table}")
            return
        types = self._types[dataset.name] = self._file_types(dataset, readable)
        # Two passes over the files: the rows that fail a check (few) into a temp table with their verdicts and
        # text, then every other row straight into the store file as its contract columns. Writing all 100M
        # rows with the verdict columns and taking the refused ones out took 66 s of a build, these two 51 s.
        refused = self._checked(dataset, readable, types, failed_only=True)
        # The keys of refused rows too: a later file's row with such a key is a duplicate, as in a full check.
        self._con.execute(f"create table {_identifier(_REJECTED + dataset.name)} as select {keys} from {refused}")
        kept = validation.kept_rows_sql(dataset, _paths(readable), types, refused)
        # Sorted by customer, then time: a customer's rows sit together, so DuckDB's min/max per row group
        # skips the others (exports arrive in time order, which scatters every customer over every group).
        # Managed-AI buckets are sorted by time, unless they already are (as dated exports arrive): sorting
        # 100M rows took about a third of a build.
        order = ", ".join(_identifier(c) for c in _sort_columns(dataset))
        self._read(dataset, f"create table {table} as " + (kept if dataset.name in TIME_FIRST else
                                                             f"select * from ({kept}) order by {order}"))
        if dataset.name in TIME_FIRST and not self._in_time_order(dataset.name, _sort_columns(dataset)[0]):
            self._progress(f"sorting {dataset.name} by time (its files are not in time order)")
            unsorted = _identifier(f"_unsorted_{dataset.name}")
            self._con.execute(f"alter table {table} rename to {unsorted}")
            self._con.execute(f"create table {table} as select * from {unsorted} order by {order}")
            self._con.execute(f"drop table {unsorted}")
        rows_read = sum(self._con.execute(f"select count(*) from {name}").fetchone()[0] for name in (table, refused))
        self._summarise(dataset, report, refused, rows_read, readable)
        self._con.execute(f"drop table {refused}")

    def _in_time_order(self, table: str, column: str) -> bool:
        """Whether a table's rows are close enough to time order for DuckDB's min/max per row group to find a
        day at once: on average, an instant falls inside at most four row groups' [min, max]. Rows in time
        order, written by DuckDB's two threads, give two; in random order, every row group holds every instant."""
        spans = self._con.execute(
            "select min(stats['min']), max(stats['max']) from pragma_storage_info($table) "
            "where column_name = $column and segment_type <> 'VALIDITY' group by row_group_id",
            {"table": table, "column": column}).fetchall()
        if any(low is None or high is None for low, high in spans):
            return False
        if len(spans) < 2:
            return True
        covered = max(high for _, high in spans) - min(low for low, _ in spans)
        return sum((high - low for low, high in spans), timedelta()) <= 4 * covered

    def _file_types(self, dataset: Dataset, files: list[Path]) -> dict[str, str]:
        contract = ", ".join(_identifier(c) for c in dataset.column_names)
        return dict(self._con.execute(
            f"select column_name, column_type from (describe select {contract} from "
            f"read_parquet({_paths(files)}, union_by_name = true, hive_partitioning = false))").fetchall())

    def _checked(self, dataset: Dataset, files: list[Path], types: dict[str, str], seen: str | None = None,
                 failed_only: bool = False) -> str:
        """A temp table of the files' rows with their failed checks (see validation.checked_rows_sql), or of
        only the rows that fail one."""
        name = _identifier(f"_{'refused' if failed_only else 'checked'}_{dataset.name}")
        now = "cast(null as timestamp)" if self.now is None else f"timestamp '{_naive_utc(self.now):%Y-%m-%d %H:%M:%S}'"
        rows = validation.checked_rows_sql(dataset, _paths(files), types, seen).replace("$now", now)
        self._read(dataset, f"create or replace temp table {name} as "
                            + (f"select * from ({rows}) where len(_failed) > 0" if failed_only else rows))
        return name

    def _read(self, dataset: Dataset, statement: str) -> None:
        """A statement that reads a dataset's files; the dataset is unusable when they cannot be read together."""
        try:
            self._con.execute(statement)
        except duckdb.Error as error:
            raise DataError(f"dataset {dataset.name}: its files cannot be read together ({first_line(error)})") from None

    def _readable(self, dataset: Dataset, files: list[Path], report: validation.DatasetReport) -> list[Path]:
        """The files that are parquet and carry every contract column; the others are named in the report."""
        readable = []
        for path in files:
            try:
                names = [name for (name,) in self._con.execute(
                    "select name from parquet_schema($file)", {"file": str(path)}).fetchall()]
            except duckdb.Error as error:
                report.bad_files.append((str(path), f"not readable parquet ({first_line(error)})"))
                continue
            report.forbidden += [(str(path), name) for name in names if contract.forbidden(name)]
            missing = [c for c in dataset.column_names if c not in names]
            if missing:
                report.bad_files.append((str(path), f"has no column {', '.join(missing)}"))
            else:
                readable.append(path)
        return readable

    def _summarise(self, dataset: Dataset, report: validation.DatasetReport, refused: str, rows_read: int,
                   files: list[Path]) -> None:
        """Rows read, kept and rejected per reason with a few sample values, from the refused rows (refused:
        a table or subquery of checked rows that fail a check; files: those checked, in order, for the
        samples' file names); the newest event kept."""
        report.rows_read = rows_read
        report.rejected_rows = self._con.execute(f"select count(*) from {refused}").fetchone()[0]
        report.rows_kept = report.rows_read - report.rejected_rows
        reasons = validation.reasons(dataset)
        counts = self._con.execute(f"select check_no, count(*) from (select unnest(_failed) as check_no "
                                   f"from {refused}) group by 1 order by 1").fetchall()
        for check_no, rows in counts:
            column, reason = reasons[check_no]
            value = ", ".join(f"coalesce({validation.raw(DATASET_COLUMNS[dataset.name][name])}, 'null')"
                              for name in column.split(", "))  # a duplicate's sample is its whole key
            samples = self._con.execute(
                f"select _file_no, concat_ws(', ', {value}) "
                f"from {refused} where list_contains(_failed, $n) order by _file_no, _row limit {validation.SAMPLES}",
                {"n": check_no}).fetchall()
            report.rejected.append(validation.Rejection(column, reason, rows, [(str(files[f]), v) for f, v in samples]))
        events = [c.name for c in dataset.columns if c.event]
        if events and report.rows_kept:
            newest = self._con.execute(
                "select max(greatest(" + ", ".join(f"cast({_identifier(e)} as timestamp)" for e in events)
                + f")) from {_identifier(dataset.name)}").fetchone()[0]
            report.newest = newest.replace(tzinfo=timezone.utc) if newest else None

    @contextmanager
    def _bound(self, name: str, params: dict[str, object]) -> Iterator[tuple[duckdb.DuckDBPyConnection, str, dict]]:
        """A cursor of its own (sessions run on threads), and queries/<name>.sql with its parameters bound."""
        query = sql.load(name)
        bound = query.bind(params)
        broken = sorted(query.datasets() & set(self.problems))
        if broken:
            raise DataError("; ".join(self.problems[dataset] for dataset in broken))
        with self._lock:  # cursor() itself is not thread-safe; the query runs outside the lock
            cursor = self._con.cursor()
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

    def close(self) -> None:
        self._con.close()


def connect(data_dir: Path, now: datetime | None = None, store_dir: Path | None = None,
            progress: Callable[[str], None] | None = None) -> Store:
    return Store(data_dir, now, store_dir, progress)


def store_file(data_dir: Path, key: str, store_dir: Path) -> Path:
    """Where the store of this exports folder in this state lives: one file per state, named by both."""
    folder = hashlib.sha256(str(_folder(data_dir)).encode()).hexdigest()[:8]
    return Path(store_dir) / f"store-{folder}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.duckdb"


def _store_key(data_dir: Path, now: datetime | None) -> str:
    return f"{fingerprint(data_dir)}@{_day(now)}@{CODE_VERSION}"


def _copy(source: Path, target: Path) -> None:
    """A copy of a store file. copy_file_range lets the kernel copy inside the file system; shutil's
    sendfile copy of a 2 GB store file took 2-41 s here where this took 0.6-3 s (same runs, cache dropped
    or not), and the copy is most of an incremental refresh."""
    if not hasattr(os, "copy_file_range"):  # (Linux only)
        shutil.copyfile(source, target)
        return
    try:
        with open(source, "rb") as reading, open(target, "wb") as writing:
            left = os.fstat(reading.fileno()).st_size
            while left > 0:
                copied = os.copy_file_range(reading.fileno(), writing.fileno(), left)
                if copied == 0:
                    raise OSError(f"{source}: copy_file_range stopped with {left} bytes left")
                left -= copied
    except OSError:  # not supported for these files (an old kernel, some file systems): copy them plainly
        shutil.copyfile(source, target)


def store_ready(data_dir: Path, now: datetime | None, store_dir: Path) -> bool:
    """Whether the store of the exports as they are now is already built (opening it is then quick)."""
    return store_file(data_dir, _store_key(data_dir, now), store_dir).exists()


def fingerprint(data_dir: Path) -> str:
    """Changes whenever a file under data_dir is added, removed, rewritten or touched (cache key). Folders
    themselves do not count: making and removing an empty folder changes nothing the app reads."""
    digest = hashlib.sha256()
    for path in sorted(_folder(data_dir).rglob("*")):
        try:
            info = path.stat()
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
