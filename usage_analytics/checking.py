"""Checking exports into a store: each dataset's files read, every row checked (validation), the rows that
pass kept as the dataset's table, and a report of what was kept and refused, and why.

Rows that fail a check are kept out and counted per reason in reports (never dropped silently); a file that
cannot be read is left out and named; a dataset is unusable only when its folder is missing or unreadable or
none of its files can be read, and then only the queries that read it fail."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import duckdb

from . import contract, validation
from .contract import DATASETS, Dataset
from .store import REFUSED_ROWS, DataError, first_line

_EMPTY_TYPE = {
    "text": "varchar", "timestamp": "timestamp", "date": "date", "bool": "boolean",
    "int": "bigint", "double": "double", "money": "decimal(18, 9)",
}
_REJECTED = "_rejected_keys_"  # + dataset: the keys of its refused rows
DATASET_COLUMNS = {d.name: {c.name: c for c in d.columns} for d in DATASETS.values()}

# Managed-AI buckets are read from their table only for the day a window cuts (whole days come from the
# daily rollup), for every customer at once on the operators' pages: time first, so DuckDB's min/max per
# row group finds that day at once. Every other dataset is read per customer: customer first.
TIME_FIRST = {"ai_usage"}


def _sort_columns(dataset: Dataset) -> list[str]:
    events = [c.name for c in dataset.columns if c.event]
    return [*events[:1], "customer_id"] if dataset.name in TIME_FIRST else ["customer_id", *events[:1]]


def identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    # DDL cannot take prepared parameters; file paths come from our own directory listing.
    return "'" + text.replace("'", "''") + "'"


def _paths(files: list[Path]) -> str:
    return "[" + ", ".join(literal(str(f)) for f in files) + "]"


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def signatures(files: list[Path]) -> list[list]:
    """Each file's path, size and modification time: a file whose signature is unchanged is unchanged."""
    found = []
    for path in files:
        try:
            info = path.stat()
            found.append([str(path), info.st_size, info.st_mtime_ns])
        except OSError:
            found.append([str(path), None, None])
    return found


def day_text(now: datetime | None) -> str:
    """The UTC day of 'now' as a store's key has it ("-": checked without a 'now')."""
    return "-" if now is None else f"{naive_utc(now):%Y-%m-%d}"


def in_time_order(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    """Whether a table's rows are close enough to time order for DuckDB's min/max per row group to find a
    day at once: on average, an instant falls inside at most four row groups' [min, max]. Rows in time
    order, written by DuckDB's two threads, give two; in random order, every row group holds every instant."""
    spans = con.execute(
        "select min(stats['min']), max(stats['max']) from pragma_storage_info($table) "
        "where column_name = $column and segment_type <> 'VALIDITY' group by row_group_id",
        {"table": table, "column": column}).fetchall()
    if any(low is None or high is None for low, high in spans):
        return False
    if len(spans) < 2:
        return True
    covered = max(high for _, high in spans) - min(low for low, _ in spans)
    return sum((high - low for low, high in spans), timedelta()) <= 4 * covered


class Rebuild(Exception):
    """A dataset's new files cannot simply be added (see build._plan): check all of its files again."""


class Checker:
    """Checks an exports folder's datasets into tables on one DuckDB connection, and keeps what it found."""

    def __init__(self, con: duckdb.DuckDBPyConnection, data_dir: Path, now: datetime | None,
                 progress: Callable[[str], None]):
        self._con = con
        self.data_dir = data_dir
        self.now = now  # rows with an event more than a day after this are rejected; None: no such check
        self._progress = progress
        self.problems: dict[str, str] = {}  # dataset -> why it cannot be used
        self.files: dict[str, list[Path]] = {}
        self.reports: dict[str, validation.DatasetReport] = {}
        self._types: dict[str, dict[str, str]] = {}  # dataset -> the column types its files were read as

    def check(self, dataset: Dataset) -> None:
        """Check every file of a dataset into its table (the dataset is unusable when that fails)."""
        report = self.reports[dataset.name] = validation.DatasetReport(dataset.name)
        self.problems.pop(dataset.name, None)
        self._con.execute(f"create table if not exists {REFUSED_ROWS} (dataset varchar, customer_id varchar, "
                          "event_at timestamp, \"column\" varchar, reason varchar, value varchar)")
        self._con.execute(f"delete from {REFUSED_ROWS} where dataset = $name", {"name": dataset.name})
        try:
            self._register(dataset, report)
        except DataError as error:
            report.unusable = str(error).removeprefix(f"dataset {dataset.name}: ")
            self.problems[dataset.name] = str(error)

    def append(self, dataset: Dataset, files: list[Path]) -> date | None:
        """Check new files of a dataset and add their rows, judged as a full check would judge them (the
        earlier files' rows, kept or refused, come first for duplicates). Returns the first day of the
        added rows, or None when none were added."""
        name, table = dataset.name, identifier(dataset.name)
        report = self.reports[name]
        readable = self._readable(dataset, files, report)
        self.files[name] = [*self.files[name], *files]
        report.files += [str(f) for f in files]
        if not readable:
            return None
        if self._file_types(dataset, readable) != self._types[name]:
            raise Rebuild  # read together, the files' columns would be read as other types
        keys = ", ".join(identifier(k) for k in dataset.key_columns)
        # (the earlier files' keys, kept or refused: a new row with one repeats it, as in a full check)
        seen = f"select {keys} from {table} union all select {keys} from {identifier(_REJECTED + name)}"
        checked = self._checked(dataset, readable, self._types[name], seen)
        contract = ", ".join(identifier(c) for c in dataset.column_names)
        order = ", ".join(identifier(c) for c in _sort_columns(dataset))
        self._con.execute(f"insert into {table} select {contract} from {checked} where len(_failed) = 0 order by {order}")
        self._con.execute(f"insert into {identifier(_REJECTED + name)} select {keys} from {checked} "
                          "where len(_failed) > 0")
        self._note_refused(dataset, f"(select * from {checked} where len(_failed) > 0)")
        events = [c.name for c in dataset.columns if c.event]
        first = self._con.execute(f"select min(cast({identifier(events[0])} as date)) from {checked} "
                                  "where len(_failed) = 0").fetchone()[0] if events else None
        added = validation.DatasetReport(name)
        self._summarise(dataset, added, f"(select * from {checked} where len(_failed) > 0)",
                        self._con.execute(f"select count(*) from {checked}").fetchone()[0], readable)
        self._con.execute(f"drop table {checked}")
        report.add(added, validation.reasons(dataset))
        return first

    def state(self) -> dict:
        """What checking found, as JSON-ready data: kept in the store file, restored by a refresh."""
        return {"problems": self.problems, "files": {k: [str(f) for f in v] for k, v in self.files.items()},
                "signatures": {k: signatures(v) for k, v in self.files.items()}, "types": self._types,
                "day": day_text(self.now), "reports": {name: r.to_json() for name, r in self.reports.items()}}

    def restore(self, state: dict) -> None:
        self.problems = dict(state["problems"])
        self._types = state.get("types", {})
        self.files = {k: [Path(f) for f in v] for k, v in state["files"].items()}
        self.reports = {name: validation.DatasetReport.from_json(r) for name, r in state["reports"].items()}

    def listing(self, dataset: Dataset) -> list[Path]:
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
            self._con.execute(f"drop table if exists {identifier(table)}")
        files = self.listing(dataset)
        self.files[dataset.name] = files
        report.files = [str(f) for f in files]
        table = identifier(dataset.name)
        readable = self._readable(dataset, files, report)
        keys = ", ".join(identifier(c) for c in dataset.key_columns)
        if not readable:
            if files:
                raise DataError(f"dataset {dataset.name}: none of its {len(files)} files can be read")
            empty = ", ".join(f"cast(null as {_EMPTY_TYPE[c.kind]}) as {identifier(c.name)}" for c in dataset.columns)
            self._con.execute(f"create table {table} as select {empty} limit 0")
            self._con.execute(f"create table {identifier(_REJECTED + dataset.name)} as select {keys} from {table}")
            return
        types = self._types[dataset.name] = self._file_types(dataset, readable)
        # Two passes over the files: the rows that fail a check (few) into a temp table with their verdicts and
        # text, then every other row straight into the store file as its contract columns. Writing all 100M
        # rows with the verdict columns and taking the refused ones out took 66 s of a build, these two 51 s.
        refused = self._checked(dataset, readable, types, failed_only=True)
        # The keys of refused rows too: a later file's row with such a key is a duplicate, as in a full check.
        self._con.execute(f"create table {identifier(_REJECTED + dataset.name)} as select {keys} from {refused}")
        self._note_refused(dataset, refused)
        refused_rows = self._con.execute(f"select count(*) from {refused}").fetchone()[0]
        kept = validation.kept_rows_sql(dataset, _paths(readable), types, refused if refused_rows else None)
        # Sorted by customer, then time: a customer's rows sit together, so DuckDB's min/max per row group
        # skips the others (exports arrive in time order, which scatters every customer over every group).
        # Managed-AI buckets are sorted by time, unless they already are (as dated exports arrive): sorting
        # 100M rows took about a third of a build.
        order = ", ".join(identifier(c) for c in _sort_columns(dataset))
        self._read(dataset, f"create table {table} as " + (kept if dataset.name in TIME_FIRST else
                                                             f"select * from ({kept}) order by {order}"))
        if dataset.name in TIME_FIRST and not in_time_order(self._con, dataset.name, _sort_columns(dataset)[0]):
            self._progress(f"sorting {dataset.name} by time (its files are not in time order)")
            unsorted = identifier(f"_unsorted_{dataset.name}")
            self._con.execute(f"alter table {table} rename to {unsorted}")
            self._con.execute(f"create table {table} as select * from {unsorted} order by {order}")
            self._con.execute(f"drop table {unsorted}")
        rows_read = self._con.execute(f"select count(*) from {table}").fetchone()[0] + refused_rows
        self._summarise(dataset, report, refused, rows_read, readable)
        self._con.execute(f"drop table {refused}")

    def _note_refused(self, dataset: Dataset, refused: str) -> None:
        """Each refused row (checked rows that fail a check) into REFUSED_ROWS: the customer it names (as it
        came, when it cannot be read), its event time (null when that cannot be read), and its first failed
        check with the value that failed it (none for a duplicate, which is about several columns)."""
        checks = validation.reasons(dataset)
        columns = DATASET_COLUMNS[dataset.name]
        text = lambda value: literal(value)  # noqa: E731 (check texts are ours)
        column = "case _failed[1] " + " ".join(f"when {n} then {text(c)}" for n, (c, _) in enumerate(checks)) + " end"
        reason = "case _failed[1] " + " ".join(f"when {n} then {text(r)}" for n, (_, r) in enumerate(checks)) + " end"
        value = "case _failed[1] " + " ".join(
            f"when {n} then cast({validation.raw(columns[c])} as varchar)" for n, (c, _) in enumerate(checks)
            if c in columns) + " end"
        events = [c.name for c in dataset.columns if c.event]
        at = f"cast({identifier(events[0])} as timestamp)" if events else "cast(null as timestamp)"
        self._con.execute(
            f"insert into {REFUSED_ROWS} select $name, coalesce(cast(customer_id as varchar), "
            f"cast(customer_id__raw as varchar)), {at}, {column}, {reason}, {value} from {refused}",
            {"name": dataset.name})

    def _file_types(self, dataset: Dataset, files: list[Path]) -> dict[str, str]:
        contract = ", ".join(identifier(c) for c in dataset.column_names)
        return dict(self._con.execute(
            f"select column_name, column_type from (describe select {contract} from "
            f"read_parquet({_paths(files)}, union_by_name = true, hive_partitioning = false))").fetchall())

    def _checked(self, dataset: Dataset, files: list[Path], types: dict[str, str], seen: str | None = None,
                 failed_only: bool = False) -> str:
        """A temp table of the files' rows with their failed checks (see validation.checked_rows_sql), or of
        only the rows that fail one."""
        name = identifier(f"_{'refused' if failed_only else 'checked'}_{dataset.name}")
        now = "cast(null as timestamp)" if self.now is None else f"timestamp '{naive_utc(self.now):%Y-%m-%d %H:%M:%S}'"
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
        samples' file names); the oldest and newest event kept."""
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
            moments = ", ".join(f"cast({identifier(e)} as timestamp)" for e in events)
            oldest, newest = self._con.execute(
                f"select min(least({moments})), max(greatest({moments})) from {identifier(dataset.name)}").fetchone()
            report.oldest = oldest.replace(tzinfo=timezone.utc) if oldest else None
            report.newest = newest.replace(tzinfo=timezone.utc) if newest else None
