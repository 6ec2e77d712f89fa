"""Row checks of docs/product.md §5 as SQL over one dataset's parquet files, and the report of what was kept and why not.

Every contract column is read twice: as its kind (a failed cast gives null) and as it came, whose text is
kept for the messages about the rows that fail a check.
A row with any failed check is kept out of the dataset and counted under each reason, never dropped silently.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from .contract import Column, Dataset

CLOCK_SKEW = "interval 1 day"  # an event this far after now is "in the future"
IN_THE_FUTURE = "is more than a day in the future"  # the reason; a later "now" could accept such a row
SAMPLES = 3  # sample values kept per reason


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def raw(column: Column) -> str:
    return _q(column.name + "__raw")


def read_expression(column: Column, source_type: str) -> str:
    """The column as its contract kind, from whatever parquet type it arrived as; null when it cannot be."""
    c, t = _q(column.name), source_type.upper()
    kind = column.kind
    if kind == "text":
        return f"cast({c} as varchar)"
    if kind in ("timestamp", "date"):
        if t.startswith("TIMESTAMP"):  # via epoch micros: a cast of TIMESTAMPTZ would follow the host's zone
            value = f"make_timestamp(epoch_us({c}))"
        elif t == "DATE":
            value = f"cast({c} as timestamp)"
        elif t == "VARCHAR":  # text is accepted as naive UTC or with Z / +00:00; another offset is refused
            value = (f"case when regexp_matches({c}, '[+-]\\d\\d:?\\d\\d$') and not regexp_matches({c}, "
                     f"'[+-]00:?00$') then null else try_cast({c} as timestamp) end")
        else:
            value = "cast(null as timestamp)"
        return f"cast({value} as date)" if kind == "date" else value
    target = {"bool": "boolean", "int": "bigint", "double": "double", "money": "decimal(18, 9)"}[kind]
    return f"try_cast({c} as {target})"


def _checks(dataset: Dataset) -> list[tuple[str, str, str]]:
    """(SQL condition that fails a row, column, reason) in the order they are reported."""
    checks = []
    for column in dataset.columns:
        c = _q(column.name)
        checks.append((f"{raw(column)} is not null and {c} is null", column.name,
                       f"cannot be read as {column.kind}"))
        if not column.nullable:
            checks.append((f"{raw(column)} is null", column.name, "is missing"))
        if column.values:
            allowed = ", ".join("'" + v + "'" for v in column.values)
            checks.append((f"{c} not in ({allowed})", column.name, "has an unknown value"))
        if column.non_negative:
            checks.append((f"{c} < 0", column.name, "is negative"))
        if column.event:
            checks.append((f"$now is not null and {c} > $now + {CLOCK_SKEW}", column.name,
                           IN_THE_FUTURE))
    names = dataset.column_names
    if "started_at" in names and "ended_at" in names:
        checks.append(('"ended_at" < "started_at"', "ended_at", "is before started_at"))
    checks.append(("_repeat > 1", ", ".join(dataset.key_columns),  # (_repeat: see checked_rows_sql)
                   "repeats a key already seen (duplicate)" if dataset.key else "repeats a whole row (duplicate)"))
    return checks


def _typed_sql(dataset: Dataset, files_sql: str, types: dict[str, str]) -> str:
    """The CTEs both passes read: every row of the files (source) with its file's position in files_sql and
    its row number in that file (_file, _row: together they name the row), and each contract column as its
    kind and as it came (typed). Neither is materialized: a copy of 100M rows cost more than reading the
    files again."""
    columns = ", ".join(f"{read_expression(c, types[c.name])} as {_q(c.name)}, {_q(c.name)} as {raw(c)}"
                        for c in dataset.columns)  # (raw: the value as it came; made text only to be shown)
    contract = ", ".join(_q(c) for c in dataset.column_names)
    return (
        f"with source as not materialized (select {contract}, file_index as _file, file_row_number + 1 as _row "
        f"from read_parquet({files_sql}, union_by_name = true, hive_partitioning = false, "
        f"file_row_number = true)), "
        f"typed as not materialized (select {columns}, _file, _row from source)"
    )


def checked_rows_sql(dataset: Dataset, files_sql: str, types: dict[str, str], seen_sql: str | None = None) -> str:
    """Every row of the files with its contract columns, its file's position in files_sql and its row number
    in that file (_file_no, _row: together they name the row), its failed checks, and, for a row that fails
    one, its columns' raw text (for messages). A row whose key is among seen_sql's rows (earlier files, kept
    or refused) repeats it."""
    contract = ", ".join(_q(c) for c in dataset.column_names)
    texts = ", ".join(f"case when len(_failed) > 0 then cast({raw(c)} as varchar) end as {raw(c)}"
                      for c in dataset.columns)
    checks = _checks(dataset)
    reasons = ", ".join(f"case when {condition} then {index} end" for index, (condition, _, _) in enumerate(checks))
    any_failed = " or ".join(f"coalesce({condition}, false)" for condition, _, _ in checks)
    key_of_t = ", ".join(f"t.{_q(k)}" for k in dataset.key_columns)
    same = " and ".join(f"t.{_q(k)} is not distinct from r.{_q(k)}" for k in dataset.key_columns)
    seen = (f"seen as ({seen_sql}), "
            f"marked as (select t._file, t._row from typed as t semi join seen as r on {same}), ") if seen_sql else ""
    repeat = ("case when m._row is not null then 2 else n._repeat end" if seen_sql else "n._repeat")
    marked = "left join marked as m on t._file = m._file and t._row = m._row" if seen_sql else ""
    # Duplicates: only the rows of a key that may be seen more than once are numbered (a window over every row
    # would sort them all), found by a group-by (_suspects) over a hash (8 bytes a row, not the key's text: at
    # 100M rows the keys spilled to disk); the rows found are then numbered by their real key, so a collision of
    # two hashes costs a little work and never a wrong verdict. The first by file (in the order of files_sql) and
    # row is kept, unless seen_sql holds its key. The list of failed checks, and the raw text, are made only for
    # rows that fail one: most rows pass, and both are costly at 100M rows.
    return (
        f"{_typed_sql(dataset, files_sql, types)}, "
        f"{_suspects(dataset)}, "
        f"numbered as (select t._file, t._row, row_number() over (partition by {key_of_t} "
        f"order by t._file, t._row) as _repeat from typed as t "
        f"where {_suspect_hash(dataset, 't.')} in (select _hash from suspects)), "
        f"{seen}"
        f"flagged as (select t.*, {repeat} as _repeat from typed as t "
        f"left join numbered as n on t._file = n._file and t._row = n._row {marked}), "
        f"checked as (select * exclude (_repeat), case when {any_failed} then list_filter([{reasons}], "
        f"lambda x: x is not null) else []::integer[] end as _failed from flagged) "
        f"select {contract}, _file as _file_no, _row, {texts}, _failed from checked"
    )


def _hour_bucket(dataset: Dataset) -> str | None:
    """The key's column that holds an hour bucket's start, if any."""
    return next((c.name for c in dataset.columns if c.hourly and c.name in dataset.key_columns), None)


def _suspect_hash(dataset: Dataset, prefix: str = "") -> str:
    """The hash the duplicate check groups a row by: of its key; with an hour bucket in the key, of the rest of
    the key and the bucket's day (see _suspects)."""
    bucket = _hour_bucket(dataset)
    if bucket is None:
        return f"hash({', '.join(prefix + _q(k) for k in dataset.key_columns)})"
    day = f"date_trunc('day', {prefix}{_q(bucket)})"
    return f"hash({', '.join([*(prefix + _q(k) for k in dataset.key_columns if k != bucket), day])})"


def _suspects(dataset: Dataset) -> str:
    """The CTE suspects: the hashes (_suspect_hash) of the rows that may repeat a key, a superset of those that do.
    A key's hash seen more than once; or, for a key holding an hour bucket's start, a day's rows of the rest of
    the key whose buckets are not each on an hour of their own (a missing one has none): two rows of one key are
    two in the same hour, so when every row of a day has an hour to itself none repeats a key. Buckets start on
    the hour (the contract), so a day holds few rows, and a group-by of the day (a few million groups at 100M rows:
    6 CPU-s) finds the suspects instead of one of every key (100M groups: 15 CPU-s); buckets off the hour that
    share an hour only make their day a suspect."""
    bucket = _hour_bucket(dataset)
    if bucket is None:
        return f"suspects as (select {_suspect_hash(dataset)} as _hash from typed group by all having count(*) > 1)"
    return (f"suspects as (select {_suspect_hash(dataset)} as _hash from typed group by all "
            f"having count(*) <> coalesce(bit_count(bit_or(1 << hour({_q(bucket)}))), 0))")


def kept_rows_sql(dataset: Dataset, files_sql: str, types: dict[str, str], refused: str | None) -> str:
    """The contract columns of every row of the files that passes every check: all but the rows of refused
    (checked_rows_sql's rows that fail one, over the same files_sql), matched by _file_no and _row; every row
    when refused is None (no row failed one: the join with no rows cost 3-4 of 50 CPU-s at 100M rows)."""
    contract = ", ".join(f"t.{_q(c)}" for c in dataset.column_names)
    if refused is None:
        return f"{_typed_sql(dataset, files_sql, types)} select {contract} from typed as t"
    return (f"{_typed_sql(dataset, files_sql, types)} "
            f"select {contract} from typed as t anti join {refused} as r on t._file = r._file_no and t._row = r._row")


def reasons(dataset: Dataset) -> list[tuple[str, str]]:
    """(column, reason) by check number, as used in _failed."""
    return [(column, reason) for _, column, reason in _checks(dataset)]


@dataclass
class Rejection:
    column: str
    reason: str
    rows: int
    samples: list[tuple[str, str]]  # (file, value as text)


@dataclass
class DatasetReport:
    name: str
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_kept: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    rejected_rows: int = 0
    bad_files: list[tuple[str, str]] = field(default_factory=list)  # (file, why it was not read)
    forbidden: list[tuple[str, str]] = field(default_factory=list)  # (file, column): flagged, never read
    newest: datetime | None = None  # the latest event in the kept rows
    oldest: datetime | None = None  # the earliest event in the kept rows
    unusable: str = ""  # why the dataset cannot be used at all
    unreachable: str = ""  # exports in a bucket that cannot be reached: this report is the last store's (stale)

    @property
    def status(self) -> str:
        if self.unusable:
            return "unusable"
        if self.bad_files or self.rejected_rows or self.forbidden:
            return "degraded"
        return "empty" if not self.rows_kept else "ok"

    def warnings(self) -> list[str]:
        """One sentence per problem, naming the dataset, file and column, for pages and the command line."""
        found = [f"dataset {self.name}: {self.unusable}"] if self.unusable else []
        found += [f"dataset {self.name}: file {file} was not read: {why}" for file, why in self.bad_files]
        for r in self.rejected:
            sample = "; ".join(f"{value!r} in {file}" for file, value in r.samples)
            found.append(f"dataset {self.name}: {r.rows} row{'s' if r.rows != 1 else ''} not used: column "
                         f"{r.column} {r.reason} (e.g. {sample})")
        found += [f"dataset {self.name}: file {file} has a column {column!r} that looks like content or a "
                  "credential; it is never read" for file, column in self.forbidden]
        if not self.unusable and not self.files:
            found.append(f"dataset {self.name}: the folder holds no parquet files")
        return found

    def add(self, added: DatasetReport, reasons: list[tuple[str, str]]) -> None:
        """Count the report of a dataset's new files into this one (rejections in the order of reasons)."""
        self.rows_read += added.rows_read
        self.rows_kept += added.rows_kept
        self.rejected_rows += added.rejected_rows
        if added.newest is not None:  # (taken over the whole table; None when the new files kept no row)
            self.newest = added.newest
            self.oldest = added.oldest
        merged = {(r.column, r.reason): r for r in self.rejected}
        for r in added.rejected:
            if (r.column, r.reason) in merged:
                old = merged[(r.column, r.reason)]
                old.rows += r.rows
                old.samples = (old.samples + r.samples)[:SAMPLES]
            else:
                merged[(r.column, r.reason)] = r
        self.rejected = sorted(merged.values(), key=lambda r: reasons.index((r.column, r.reason)))

    def to_json(self) -> dict:
        """The report as JSON-ready data (kept in the store file beside the tables it describes)."""
        return {**asdict(self), "newest": self.newest.isoformat() if self.newest else None,
                "oldest": self.oldest.isoformat() if self.oldest else None}

    @classmethod
    def from_json(cls, data: dict) -> DatasetReport:
        rejected = [Rejection(r["column"], r["reason"], r["rows"], [tuple(s) for s in r["samples"]])
                    for r in data["rejected"]]
        return cls(**{**data, "rejected": rejected,
                      "newest": datetime.fromisoformat(data["newest"]) if data["newest"] else None,
                      "oldest": datetime.fromisoformat(data["oldest"]) if data.get("oldest") else None,
                      "bad_files": [tuple(b) for b in data["bad_files"]],
                      "forbidden": [tuple(f) for f in data["forbidden"]]})


FRESHNESS = ("workspace_sessions", "ai_usage")  # what "data as of" means: the newest usage both exports hold


def data_as_of(reports: dict[str, DatasetReport]) -> datetime | None:
    """The newest moment every usage export reaches: the older of the newest session and AI bucket."""
    newest = [reports[name].newest for name in FRESHNESS if name in reports and reports[name].newest]
    return min(newest) if newest else None


def usage_since(reports: dict[str, DatasetReport]) -> datetime | None:
    """The first moment of usage the exports hold: the older of the first session and the first AI bucket."""
    oldest = [reports[name].oldest for name in FRESHNESS if name in reports and reports[name].oldest]
    return min(oldest) if oldest else None


def stale(reports: dict[str, DatasetReport], now: datetime, max_age_hours: float) -> list[str]:
    """A sentence per usage export whose newest row is older than the allowed age; first, when the exports'
    bucket cannot be reached, that the figures are the last store's and may be stale."""
    found = sorted({r.unreachable for r in reports.values() if r.unreachable})
    for name in FRESHNESS:
        newest = reports[name].newest if name in reports else None
        if newest is not None and (now - newest).total_seconds() > max_age_hours * 3600:
            age = (now - newest).total_seconds() / 3600
            found.append(f"dataset {name} is stale: its newest row is from {newest:%Y-%m-%d %H:%M} UTC, "
                         f"{age:,.0f} hours before now (allowed: {max_age_hours:g}); later usage is missing")
    return found


def report_lines(reports: dict[str, DatasetReport], now: datetime, max_age_hours: float) -> list[str]:
    """The data check as text: a line per dataset, then every problem, then freshness."""
    lines = []
    for r in reports.values():
        counts = (f"{len(r.files)} file{'s' if len(r.files) != 1 else ''}, {r.rows_read:,} rows read, "
                  f"{r.rows_kept:,} used, {r.rejected_rows:,} rejected")
        newest = f", newest {r.newest:%Y-%m-%d %H:%M} UTC" if r.newest else ""
        lines.append(f"{r.name:<20} {r.status:<9} {counts}{newest}")
    problems = [w for r in reports.values() for w in r.warnings()] + stale(reports, now, max_age_hours)
    lines += [f"  - {p}" for p in problems]
    as_of = data_as_of(reports)
    lines.append(f"data as of {as_of:%Y-%m-%d %H:%M} UTC" if as_of else "data as of: no usage rows")
    return lines
