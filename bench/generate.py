"""The benchmark's large dataset in the data contract, generated once per size and reused.

Thousands of customers with skewed sizes (a few very large, many small), 12 months of hourly managed-AI
buckets and workspace sessions, written in arrival (time) order as exports come, one file per month, row
groups of DuckDB's default size."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import duckdb

NOW = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)  # the bench's "now"; 12 months of data end here
MONTHS = 12
PROVIDERS = {"openai": ("gpt-4.1", "gpt-4.1-mini", "o4-mini"),
             "anthropic": ("claude-sonnet-4", "claude-haiku-4"),
             "google": ("gemini-2.5-pro", "gemini-2.5-flash")}
SKEW = 4  # row j of an hour's R rows belongs to customer floor(K·((j+0.5)/R)^SKEW): a few giants, a long tail
ROW_GROUP = 122_880  # DuckDB's default; pyarrow would write 1M-row groups
DATASETS = ("customers", "billing_accounts", "provider_links", "reconciliation", "workspace_sessions", "ai_usage")
CUSTOMER = "format('cus_{:05d}', c)"
BILLING = "spread"  # the billing snapshots' generation (the manifest's "billing"): see _snapshots


def customers_for(ai_rows: int) -> int:
    """How many customers a dataset of ai_rows managed-AI rows has."""
    return max(40, min(5000, ai_rows // 20_000))


def _start() -> datetime:
    """The first day of the dataset: the first of the month MONTHS before NOW's."""
    year, month = NOW.year, NOW.month - MONTHS
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 1, tzinfo=timezone.utc)


def _months(first: datetime) -> list[tuple[datetime, datetime]]:
    """(start, end) of each calendar month from first, the last one ending at NOW."""
    out, start = [], first
    while start < NOW:
        end = datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=timezone.utc)
        out.append((start, min(end, NOW)))
        start = end
    return out


def _ts(moment: datetime) -> str:
    """A datetime as a DuckDB timestamp literal."""
    return f"timestamp '{moment:%Y-%m-%d %H:%M:%S}'"


class _Writer:
    """One DuckDB connection that writes query results as the dataset's parquet files under out/."""

    def __init__(self, out: Path):
        self.out = out
        self.con = duckdb.connect()
        # Insertion order kept: the files must come in arrival (time) order, as real exports do.
        self.con.execute("set enable_progress_bar = false; set preserve_insertion_order = true")
        self.con.execute("set memory_limit = '4GB'")
        self.con.execute(f"set temp_directory = '{out / '.spill'}'")
        combos = [(p, m) for p, models in PROVIDERS.items() for m in models]
        self.con.execute("create table combos as select * from (values "
                         + ", ".join(f"({i}, '{p}', '{m}')" for i, (p, m) in enumerate(combos))
                         + ") t(combo, provider, model)")
        for name in DATASETS:
            (out / name).mkdir(exist_ok=True)

    def write(self, query: str, dataset: str, part: str) -> None:
        """The rows of query as out/<dataset>/<part>.parquet."""
        self.con.execute(f"copy ({query}) to '{self.out / dataset / part}.parquet' "
                         f"(format parquet, compression zstd, row_group_size {ROW_GROUP})")


def generate(out: Path, ai_rows: int, progress: Callable[[str], None] = print) -> dict:
    """Write the bench dataset under out/ (one folder per dataset), unless it is there already; its manifest."""
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "bench.json"
    k, start = customers_for(ai_rows), _start()
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("ai_rows") == ai_rows:
            if manifest.get("billing") != BILLING:  # (a dataset of an earlier generator: its snapshots again)
                writer = _Writer(out)
                _snapshots(writer, k, start)
                writer.con.close()
                manifest["billing"] = BILLING
                manifest_path.write_text(json.dumps(manifest))
                progress("bench data: billing snapshots made again (spread over the year)")
            return manifest
    writer = _Writer(out)
    _accounts(writer, k, start)
    sessions = _sessions(writer, k, start, ai_rows, progress)
    written = _ai_usage(writer, k, start, ai_rows, progress)
    writer.con.close()
    manifest = {"ai_rows": written, "customers": k, "sessions": sessions, "now": NOW.isoformat(), "billing": BILLING}
    manifest_path.write_text(json.dumps(manifest))
    return manifest


def _accounts(writer: _Writer, k: int, start: datetime) -> None:
    """The small datasets: customers, one billing snapshot each, provider links and daily reconciliation."""
    writer.write(f"select {CUSTOMER} as customer_id, format('Customer {{:05d}}', c) as customer_name, "
                 f"{_ts(start)} - interval 30 day as created_at, 'active' as account_status from range({k}) t(c)",
                 "customers", "part-0")
    _snapshots(writer, k, start)
    writer.write(f"select {CUSTOMER} as customer_id, p.provider, format('proj_{{:05d}}_{{}}', c, p.provider) "
                 f"as provider_project_id, {_ts(start)} as linked_at from range({k}) t(c) "
                 f"cross join (select distinct provider from combos) p where c % 10 <> 9",
                 "provider_links", "part-0")
    last_reconciled = (NOW - timedelta(days=3)).date()
    writer.write(f"select {CUSTOMER} as customer_id, p.provider, d::date as usage_date, "
                 "case when hash(c, d) % 50 = 0 then 'mismatch' else 'matched' end as status, "
                 "cast(1 as decimal(18, 6)) as metered_cost_usd, cast(1 as decimal(18, 6)) as provider_cost_usd, "
                 "d + interval 2 day as reconciled_at "
                 f"from range({k}) t(c) cross join (select distinct provider from combos) p "
                 f"cross join range(timestamp '{start:%Y-%m-%d}', timestamp '{last_reconciled}', interval 1 day) r(d) "
                 "where c % 10 <> 9", "reconciliation", "part-0")


def _snapshots(writer: _Writer, k: int, start: datetime) -> None:
    """Billing snapshots, 1 to 3 per customer, at times spread over the year before NOW (any second of a day), so
    the latest one in force is a day, a month or a year old, as a customer's last top-up or change is. Every fifth
    customer is prepaid. (The generator before put one snapshot per customer at the dataset's first midnight,
    which let the look ahead's usage since a snapshot read one day for every customer: its costs did not show.)"""
    thirds = int((NOW - start).total_seconds()) // 3
    writer.write(f"select {CUSTOMER} as customer_id, "
                 f"{_ts(start)} + to_seconds(cast(j * {thirds} + hash(c, j) % {thirds} as bigint)) as as_of, "
                 "case when c % 5 = 0 then 'prepaid' else 'paid' end as billing_mode, true as payment_verified, "
                 "cast(null as varchar) as trial_status, cast(null as timestamp) as trial_ends_at, "
                 "case when c % 5 = 0 then 5000.0 end as prepaid_workspace_hours, "
                 "case when c % 5 = 0 then cast(2500 as decimal(18, 6)) end as prepaid_ai_usd "
                 f"from range({k}) t(c) cross join range(3) s(j) where j <= hash(c) % 3 order by as_of",
                 "billing_accounts", "part-0")


def _sessions(writer: _Writer, k: int, start: datetime, ai_rows: int, progress: Callable[[str], None]) -> int:
    """Workspace sessions, one file per month; returns how many were asked for (the manifest's count)."""
    # About one per 20 AI rows, skewed like the AI usage, 0.5 to 9.5 hours, in start order.
    sessions = max(1000, ai_rows // 20)
    per_month = sessions // len(_months(start)) + 1
    for month_start, month_end in _months(start):
        span = int((month_end - month_start).total_seconds())
        writer.write("select format('cus_{:05d}', cust) as customer_id, format('ws_{:05d}_{}', cust, i % 7) "
                     "as workspace_id, format('usr_{:05d}', cust) as user_id, "
                     "['standard', 'large', 'gpu'][1 + i % 3] as template, started_at, "
                     "case when started_at + duration < " + _ts(NOW) + " then started_at + duration end as ended_at "
                     "from (select i, "
                     f"cast(floor({k} * pow((hash(i, 1) % 1000000 + 0.5) / 1000000, {SKEW})) as bigint) as cust, "
                     f"{_ts(month_start)} + to_seconds(cast(i * {span} // {per_month} as bigint)) as started_at, "
                     "to_seconds(1800 + hash(i, 2) % 32400) as duration "
                     f"from range({per_month}) t(i)) order by started_at",
                     "workspace_sessions", f"{month_start:%Y-%m}")
        progress(f"bench data: sessions {month_start:%Y-%m}")
    return sessions


def _ai_usage(writer: _Writer, k: int, start: datetime, ai_rows: int, progress: Callable[[str], None]) -> int:
    """Managed-AI buckets, one file per month; returns the rows written."""
    # Each month gets its share of the rows, spread evenly over its hours; row j of an hour goes to a skewed
    # customer, and a big customer's several rows in one hour spread over the 7 models and then over extra
    # projects (so keys stay unique).
    months = _months(start)
    hours = int((NOW - start).total_seconds() // 3600)
    written = 0
    for index, (month_start, month_end) in enumerate(months):
        month_hours = int((month_end - month_start).total_seconds() // 3600)
        rows = ai_rows - written if index == len(months) - 1 else round(ai_rows * month_hours / hours)
        writer.write(_ai_month_query(k, month_start, month_hours, rows), "ai_usage", f"{month_start:%Y-%m}")
        written += rows
        progress(f"bench data: ai_usage {month_start:%Y-%m} ({written:,} rows)")
    return written


def _ai_month_query(k: int, month_start: datetime, month_hours: int, rows: int) -> str:
    """The select of one month's managed-AI buckets: rows spread over month_hours, in time order."""
    per_hour = -(-rows // month_hours)
    return ("with slots as ("
            f"select i, i * {month_hours} // {rows} as h from range({rows}) t(i)), "
            "placed as (select i, h, row_number() over (partition by h order by i) - 1 as j from slots), "
            f"owned as (select *, cast(floor({k} * pow((j + 0.5) / {per_hour}, {SKEW})) as bigint) as cust "
            "from placed), "
            "ranked as (select *, row_number() over (partition by h, cust order by j) - 1 as n from owned) "
            f"select format('cus_{{:05d}}', cust) as customer_id, {_ts(month_start)} + to_hours(h) as bucket_start, "
            "c.provider, c.model, "
            "case when n < 7 then format('proj_{:05d}_{}', cust, c.provider) "
            "else format('proj_{:05d}_{}_{}', cust, c.provider, n // 7) end as provider_project_id, "
            "1 + hash(i) % 40 as requests, 1000 + hash(i, 1) % 90000 as input_tokens, "
            "hash(i, 2) % 1000 as cached_input_tokens, 100 + hash(i, 3) % 9000 as output_tokens, "
            "cast((hash(i, 4) % 5000000) / 1e6 as decimal(18, 6)) as cost_usd "
            "from ranked join combos c on c.combo = (n + cust) % 7 "
            "order by bucket_start, j")


def add_a_day(folder: Path) -> list[Path]:
    """One more day of exports, as new files that sort last; returns the folders to remove afterwards."""
    # A day of late data: the last whole day's AI buckets and sessions again, under other project and
    # workspace ids (so no key repeats), in a folder per dataset whose name sorts after the month files.
    day = (NOW - timedelta(days=1)).date()
    added = folder / "ai_usage" / f"day={day}"
    added.mkdir(exist_ok=True)
    sessions = folder / "workspace_sessions" / f"day={day}"
    sessions.mkdir(exist_ok=True)
    con = duckdb.connect()
    con.execute(f"copy (select * replace (provider_project_id || '_late' as provider_project_id) "
                f"from read_parquet('{folder / 'ai_usage'}/*.parquet') "
                f"where cast(bucket_start as date) = date '{day}') "
                f"to '{added / 'part-0.parquet'}' (format parquet, compression zstd, row_group_size {ROW_GROUP})")
    con.execute(f"copy (select * replace (workspace_id || '_late' as workspace_id) "
                f"from read_parquet('{folder / 'workspace_sessions'}/*.parquet') where cast(started_at as date) = "
                f"date '{day}') to '{sessions / 'part-0.parquet'}' (format parquet, compression zstd)")
    con.close()
    return [added, sessions]
