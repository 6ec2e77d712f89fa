"""`python -m usage_analytics bench --ai-rows N`: a large dataset in the contract, and each page's data path
timed as the app runs it, next to the same figures computed the way an analyst would with pandas.

The dataset: thousands of customers with skewed sizes (a few very large, many small), 12 months of
hourly managed-AI buckets and workspace sessions, written in arrival (time) order as exports come, one
file per month, row groups of DuckDB's default size. It is generated once per size under
STATE_DIR/bench/ and reused.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

NOW = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)  # the bench's "now"; 12 months of data end here
MONTHS = 12
PROVIDERS = {"openai": ("gpt-4.1", "gpt-4.1-mini", "o4-mini"),
             "anthropic": ("claude-sonnet-4", "claude-haiku-4"),
             "google": ("gemini-2.5-pro", "gemini-2.5-flash")}
SKEW = 4  # row j of an hour's R rows belongs to customer floor(K·((j+0.5)/R)^SKEW): a few giants, a long tail
ROW_GROUP = 122_880  # DuckDB's default; pyarrow would write 1M-row groups


def customers_for(ai_rows: int) -> int:
    return max(40, min(5000, ai_rows // 20_000))


def _start() -> datetime:
    year, month = NOW.year, NOW.month - MONTHS
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 1, tzinfo=timezone.utc)


def _months(first: datetime) -> list[tuple[datetime, datetime]]:
    out, start = [], first
    while start < NOW:
        end = datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=timezone.utc)
        out.append((start, min(end, NOW)))
        start = end
    return out


def _ts(moment: datetime) -> str:
    return f"timestamp '{moment:%Y-%m-%d %H:%M:%S}'"


def generate(out: Path, ai_rows: int, progress=print) -> dict:
    """Write the bench dataset under out/ (one folder per dataset); returns its manifest."""
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "bench.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("ai_rows") == ai_rows:
            return manifest
    k = customers_for(ai_rows)
    start = _start()
    hours = int((NOW - start).total_seconds() // 3600)
    combos = [(p, m) for p, models in PROVIDERS.items() for m in models]
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false; set preserve_insertion_order = true")
    con.execute("set memory_limit = '4GB'")
    con.execute(f"set temp_directory = '{out / '.spill'}'")
    con.execute("create table combos as select * from (values "
                + ", ".join(f"({i}, '{p}', '{m}')" for i, (p, m) in enumerate(combos)) + ") t(combo, provider, model)")
    for name in ("customers", "billing_accounts", "provider_links", "reconciliation", "workspace_sessions", "ai_usage"):
        (out / name).mkdir(exist_ok=True)

    def write(query: str, dataset: str, part: str) -> None:
        con.execute(f"copy ({query}) to '{out / dataset / part}.parquet' "
                    f"(format parquet, compression zstd, row_group_size {ROW_GROUP})")

    customer = "format('cus_{:05d}', c)"
    write(f"select {customer} as customer_id, format('Customer {{:05d}}', c) as customer_name, "
          f"{_ts(start)} - interval 30 day as created_at, 'active' as account_status from range({k}) t(c)",
          "customers", "part-0")
    write(f"select {customer} as customer_id, {_ts(start)} as as_of, "
          "case when c % 5 = 0 then 'prepaid' else 'paid' end as billing_mode, true as payment_verified, "
          "cast(null as varchar) as trial_status, cast(null as timestamp) as trial_ends_at, "
          "case when c % 5 = 0 then 5000.0 end as prepaid_workspace_hours, "
          f"case when c % 5 = 0 then cast(2500 as decimal(18, 6)) end as prepaid_ai_usd from range({k}) t(c)",
          "billing_accounts", "part-0")
    write(f"select {customer} as customer_id, p.provider, format('proj_{{:05d}}_{{}}', c, p.provider) "
          f"as provider_project_id, {_ts(start)} as linked_at from range({k}) t(c) "
          f"cross join (select distinct provider from combos) p where c % 10 <> 9",
          "provider_links", "part-0")
    last_reconciled = (NOW - timedelta(days=3)).date()
    write(f"select {customer} as customer_id, p.provider, d::date as usage_date, "
          "case when hash(c, d) % 50 = 0 then 'mismatch' else 'matched' end as status, "
          "cast(1 as decimal(18, 6)) as metered_cost_usd, cast(1 as decimal(18, 6)) as provider_cost_usd, "
          "d + interval 2 day as reconciled_at "
          f"from range({k}) t(c) cross join (select distinct provider from combos) p "
          f"cross join range(timestamp '{start:%Y-%m-%d}', timestamp '{last_reconciled}', interval 1 day) r(d) "
          "where c % 10 <> 9", "reconciliation", "part-0")

    # Sessions: about one per 20 AI rows, skewed like the AI usage, 0.5 to 9.5 hours, in start order.
    sessions = max(1000, ai_rows // 20)
    per_month = sessions // len(_months(start)) + 1
    for month_start, month_end in _months(start):
        span = int((month_end - month_start).total_seconds())
        write("select format('cus_{:05d}', cust) as customer_id, format('ws_{:05d}_{}', cust, i % 7) "
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

    # AI usage: each month gets its share of the rows, spread evenly over its hours; row j of an hour goes
    # to a skewed customer, and a big customer's several rows in one hour spread over the 7 models and then
    # over extra projects (so keys stay unique).
    months = _months(start)
    written = 0
    for index, (month_start, month_end) in enumerate(months):
        month_hours = int((month_end - month_start).total_seconds() // 3600)
        rows = ai_rows - written if index == len(months) - 1 else round(ai_rows * month_hours / hours)
        per_hour = -(-rows // month_hours)
        write("with slots as ("
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
              "order by bucket_start, j",
              "ai_usage", f"{month_start:%Y-%m}")
        written += rows
        progress(f"bench data: ai_usage {month_start:%Y-%m} ({written:,} rows)")
    con.close()
    manifest = {"ai_rows": written, "customers": k, "sessions": sessions, "now": NOW.isoformat()}
    manifest_path.write_text(json.dumps(manifest))
    return manifest


def _add_a_day(folder: Path) -> list[Path]:
    """One more day of exports, as a new file per dataset that sorts after the others: the last whole day's
    AI buckets and sessions again, under other project and workspace ids (a day of late data). Returns the
    folders to remove afterwards."""
    day = (NOW - timedelta(days=1)).date()
    added = folder / "ai_usage" / f"day={day}"
    added.mkdir(exist_ok=True)
    sessions = folder / "workspace_sessions" / f"day={day}"
    sessions.mkdir(exist_ok=True)
    con = duckdb.connect()
    con.execute(f"copy (select * replace (provider_project_id || '_late' as provider_project_id) "
                f"from read_parquet('{folder / 'ai_usage'}/*.parquet') where cast(bucket_start as date) = date '{day}') "
                f"to '{added / 'part-0.parquet'}' (format parquet, compression zstd, row_group_size {ROW_GROUP})")
    con.execute(f"copy (select * replace (workspace_id || '_late' as workspace_id) "
                f"from read_parquet('{folder / 'workspace_sessions'}/*.parquet') where cast(started_at as date) = "
                f"date '{day}') to '{sessions / 'part-0.parquet'}' (format parquet, compression zstd)")
    con.close()
    return [added, sessions]


@dataclass
class Timing:
    what: str
    app_ms: float | None
    pandas_ms: float | None = None
    note: str = ""

    @property
    def ratio(self) -> str:
        if self.app_ms is None or self.pandas_ms is None or self.app_ms == 0:
            return ""
        return f"{self.pandas_ms / self.app_ms:,.1f}×"


def _median_ms(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _pandas_customer_month(folder: Path, customer_id: str | None, first: datetime, end: datetime):
    """The analyst's way: read_parquet with filters, then groupby (daily series per provider/model + totals)."""
    import pandas as pd

    first, end = first.replace(tzinfo=None), end.replace(tzinfo=None)  # the exports' timestamps are naive UTC
    filters = [("bucket_start", ">=", first), ("bucket_start", "<", end)]
    if customer_id:
        filters.append(("customer_id", "==", customer_id))
    frame = pd.read_parquet(folder / "ai_usage", filters=filters,
                            columns=["customer_id", "bucket_start", "provider", "model", "requests", "input_tokens",
                                     "cached_input_tokens", "output_tokens", "cost_usd"])
    frame["day"] = frame["bucket_start"].dt.floor("D")
    keys = ["customer_id", "day", "provider", "model"]
    daily = frame.groupby(keys, observed=True)[["requests", "input_tokens", "cached_input_tokens", "output_tokens",
                                                 "cost_usd"]].sum()
    return daily, daily.groupby(level="customer_id").sum()


def _pandas_runtime_month(folder: Path, customer_id: str | None, first: datetime, end: datetime):
    """The analyst's way for workspace runtime: read_parquet with filters, clip the sessions to the period
    (a running one up to now), merge the overlapping sessions of a workspace (sorted, running max of the
    ends), split the runs at UTC midnights, then groupby per day, workspace and template, plus totals."""
    import numpy as np
    import pandas as pd

    first, end = first.replace(tzinfo=None), end.replace(tzinfo=None)
    cap = min(end, NOW.replace(tzinfo=None))
    filters = [("started_at", "<", cap)] + ([("customer_id", "==", customer_id)] if customer_id else [])
    s = pd.read_parquet(folder / "workspace_sessions", filters=filters,
                        columns=["customer_id", "workspace_id", "template", "started_at", "ended_at"])
    s["start"] = s["started_at"].clip(lower=first)
    s["end"] = s["ended_at"].fillna(cap).clip(upper=cap)
    s = s[s["end"] > s["start"]].sort_values(["customer_id", "workspace_id", "start", "started_at", "template"])
    keys = ["customer_id", "workspace_id"]
    reach = s.groupby(keys)["end"].cummax()
    new_run = (s["start"] > reach.groupby([s["customer_id"], s["workspace_id"]]).shift()).fillna(True)
    s["run"] = new_run.groupby([s["customer_id"], s["workspace_id"]]).cumsum()
    runs = s.groupby([*keys, "run"], sort=False).agg(template=("template", "first"), start=("start", "min"),
                                                      end=("end", "max")).reset_index()
    first_day = runs["start"].dt.floor("D")
    days = ((runs["end"] - pd.Timedelta(microseconds=1)).dt.floor("D") - first_day).dt.days + 1
    parts = runs.loc[runs.index.repeat(days)].reset_index(drop=True)
    offset = np.concatenate([np.arange(n) for n in days]) if len(days) else np.array([], dtype=int)
    parts["day"] = first_day.loc[first_day.index.repeat(days)].reset_index(drop=True) + pd.to_timedelta(offset, "D")
    parts["hours"] = ((parts["end"].clip(upper=parts["day"] + pd.Timedelta(days=1))
                       - parts["start"].clip(lower=parts["day"])).dt.total_seconds() / 3600)
    daily = parts.groupby(["customer_id", "day", "workspace_id", "template"])["hours"].sum()
    return daily, daily.groupby(level="customer_id").sum()


def _pandas_page(folder: Path, customer_id: str | None, first: datetime, end: datetime):
    """What the analyst computes for a page: the managed-AI month and the runtime month."""
    return (_pandas_customer_month(folder, customer_id, first, end),
            _pandas_runtime_month(folder, customer_id, first, end))


def customer_page(store, period, customer_id: str) -> tuple:
    """What a customer's pages read, as the app runs it: its figures, and the days its charts draw."""
    from . import summary

    found = summary.summaries(store, period, NOW, customer_id, strict=False)
    return found[customer_id].runtime, found[customer_id].ai_daily


def operators_page(store, period) -> tuple:
    """What the Operators page reads: every customer's figures, and the trends summed across them."""
    from . import summary

    found = summary.summaries(store, period, NOW, None, strict=False)
    return found, summary.trend(found, "runtime"), summary.trend(found, "ai_daily")


def _in_fresh_process(code: str) -> tuple[float, float]:
    """Seconds the code took in a new Python process (imports included), and that process's peak memory (MB):
    VmHWM, not ru_maxrss, which a process inherits from its parent across fork and exec."""
    program = ("import time, re; t = time.perf_counter()\n" + code
               + "\npeak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)"
               + "\nprint(time.perf_counter() - t, int(peak) / 1024)")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent)
    if done.returncode:
        raise RuntimeError(f"bench step failed: {done.stderr.strip().splitlines()[-1]}")
    seconds, peak = done.stdout.split()[-2:]
    return float(seconds), float(peak)


def run(ai_rows: int, state_dir: Path, repeat: int = 5, progress=print) -> list[Timing]:
    from . import data
    from .periods import Period

    folder = Path(state_dir) / "bench" / f"ai-{ai_rows}"
    store_dir = Path(state_dir) / "bench" / f"store-{ai_rows}"
    started = time.perf_counter()
    manifest = generate(folder, ai_rows, progress)
    progress(f"bench data ready in {folder} ({manifest['ai_rows']:,} AI rows, {manifest['customers']:,} customers, "
             f"{time.perf_counter() - started:.1f} s)")
    month = Period.month(2026, 10)
    big, small = "cus_00000", f"cus_{manifest['customers'] // 2:05d}"
    setup = ("from datetime import datetime; from pathlib import Path\n"
             "from usage_analytics import bench, data; from usage_analytics.periods import Period\n"
             f"now = datetime.fromisoformat({NOW.isoformat()!r})\n"
             f"store = data.Store(Path({str(folder)!r}), now, Path({str(store_dir)!r}))\n")  # built, refreshed or opened
    timings = []

    for old in store_dir.glob("store-*.duckdb"):
        old.unlink()
    # Each timed step starts with the disk quiet: the last step's writes flushed, and the blocks of a removed
    # 2 GB store file given back (this disk is mounted with discard, which the kernel does on a commit).
    os.sync()
    progress("building the store file (fresh process)")
    seconds, peak = _in_fresh_process(setup)
    rows = sum(manifest[k] for k in ("ai_rows", "sessions"))
    timings.append(Timing("build the store file from every export (fresh process)", seconds * 1000,
                          note=f"{rows / seconds / 1e6:,.2f}M AI and session rows/s, peak memory {peak:,.0f} MB"))
    os.sync()
    progress("first page data (fresh process)")
    # Twice: as found after the build, and again. This machine's kernel pages out files it finds cold (DAMON),
    # and a cold start read 11 s of Python imports alone; the second run shows the process, not the disk.
    for when in ("", ", again"):
        seconds, peak = _in_fresh_process(
            setup + f"bench.customer_page(store, Period.month(2026, 10), {big!r})")
        timings.append(Timing(f"first page data in a fresh process{when}, store file exists (largest customer)",
                              seconds * 1000, note=f"imports included; peak memory {peak:,.0f} MB"))

    store = data.Store(folder, NOW, store_dir)
    whole, alike = "pandas does AI and runtime, not reconciliation or billing", "like for like"
    pairs = []  # (what, app, pandas, runs, note)
    for label, customer in (("largest customer", big), ("a median customer", small)):
        pairs += [
            (f"customer page, one month, {label}: every query (warm median)",
             lambda c=customer: customer_page(store, month, c),
             lambda c=customer: _pandas_page(folder, c, month.start, month.end), repeat, whole),
            (f"customer page, one month, {label}: AI daily series (warm median)",
             lambda c=customer: store.run("ai_usage_by_day", customer_id=c, period_start=month.start,
                                          period_end=month.end, now=NOW),
             lambda c=customer: _pandas_customer_month(folder, c, month.start, month.end), repeat, alike)]
    few = max(1, repeat // 2)
    pairs += [
        ("operators, all customers, one month: table and trends, every query (warm median)",
         lambda: operators_page(store, month), lambda: _pandas_page(folder, None, month.start, month.end), few, whole),
        ("operators, all customers, one month: AI daily series (warm median)",
         lambda: store.run("ai_usage_by_day", customer_id=None, period_start=month.start, period_end=month.end,
                           now=NOW),
         lambda: _pandas_customer_month(folder, None, month.start, month.end), few, alike)]
    # Every app timing first, then every pandas one, so pandas' gigabytes of arrays are not in the process while
    # the app is timed. One A/B here suggested they slowed the app (34 -> 48 ms); a second showed no such
    # effect (43 -> 38 ms), so the first was the machine drifting: this order is caution, not a measured cure.
    progress("the app's data paths: largest and median customer, all customers")
    app = [_median_ms(run, runs) for _, run, _, runs, _ in pairs]
    progress("the same computations with pandas")
    analyst = [_median_ms(run, runs) for _, _, run, runs, _ in pairs]
    timings += [Timing(what, ms, pandas_ms, note) for (what, _, _, _, note), ms, pandas_ms in zip(pairs, app, analyst)]
    store.close()
    progress("incremental refresh: one more day of exports (fresh process)")
    [built] = store_dir.glob("store-*.duckdb")
    kept = built.with_name(".full-" + built.name)
    os.link(built, kept)  # the full build stays, for the next run or the app on this dataset
    added = _add_a_day(folder)
    os.sync()  # (as above; the refresh starts by copying the last store file, as a day after the build)
    try:
        seconds, peak = _in_fresh_process(setup)
    finally:
        for day in added:  # the dataset as generated again, and its store file
            shutil.rmtree(day)
        for made in store_dir.glob("store-*.duckdb"):
            made.unlink()
        os.replace(kept, built)
    build = timings[0].app_ms / 1000
    timings.append(Timing("incremental refresh after one more day of exports (fresh process)", seconds * 1000,
                          note=f"{seconds / build:.1%} of the full build; peak memory {peak:,.0f} MB"))
    timings.append(Timing("peak memory of this process (warm runs and pandas)", None,
                          note=f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"))
    return timings


def table(timings: list[Timing], ai_rows: int) -> str:
    lines = [f"bench: {ai_rows:,} AI usage rows, {customers_for(ai_rows):,} customers, "
             f"{os.cpu_count()} cores",
             "| data path | app (ms) | pandas (ms) | pandas ÷ app | note |", "|---|---:|---:|---:|---|"]
    for t in timings:
        app = "" if t.app_ms is None else f"{t.app_ms:,.1f}"
        analyst = "" if t.pandas_ms is None else f"{t.pandas_ms:,.1f}"
        lines.append(f"| {t.what} | {app} | {analyst} | {t.ratio} | {t.note} |")
    return "\n".join(lines)
