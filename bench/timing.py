"""The timed runs: each page's data path as the app runs it on the bench dataset, next to pandas and polars (the
two baselines over the raw parquet exports); the table. Every row with a wall time has the CPU time it took."""
from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from usage_analytics import summary
from usage_analytics.build import build
from usage_analytics.periods import Period

from . import attention_timing
from .attention_timing import load, note, rusage_ms, warm
from .baseline import pandas_ai_month, pandas_page
from .generate import NOW, add_a_day, customers_for, generate
from .polars_baseline import polars_ai_month, polars_page

ROOT = Path(__file__).resolve().parent.parent  # the fresh processes run here, so `bench` and the app import
MONTH = Period.month(2026, 10)  # a closed month: the one before NOW's
MONTH_NOW = Period.month(NOW.year, NOW.month)  # the month holding NOW: open, so read from its days
LARGEST = "cus_00000"  # the skew gives customer 0 the most rows
WHOLE, ALIKE = "pandas and polars do AI and runtime, not reconciliation or billing", "like for like"


@dataclass
class Timing:
    """One row of the table: the app's wall and CPU time, each baseline's where it has one, and a note."""
    what: str
    app_ms: float | None
    pandas_ms: float | None = None
    note: str = ""
    cpu_ms: float | None = None  # the app's CPU time (process_time; a fresh process's getrusage), where measured
    pandas_cpu_ms: float | None = None
    polars_ms: float | None = None
    polars_cpu_ms: float | None = None

    def _over_app(self, baseline_ms: float | None) -> str:
        if self.app_ms is None or baseline_ms is None or self.app_ms == 0:
            return ""
        return f"{baseline_ms / self.app_ms:,.1f}×"

    @property
    def ratio(self) -> str:
        """pandas' time over the app's, or "" when either is missing."""
        return self._over_app(self.pandas_ms)

    @property
    def polars_ratio(self) -> str:
        """polars' time over the app's, or "" when either is missing."""
        return self._over_app(self.polars_ms)


def customer_page(store, period, customer_id: str) -> tuple:
    """What a customer's pages read, as the app runs it: its figures, and the days its charts draw."""
    found = summary.summaries(store, period, NOW, customer_id, strict=False)
    return found[customer_id].runtime, found[customer_id].ai_daily


def operators_page(store, period) -> tuple:
    """What the Operators page reads: every customer's figures, and the trends summed across them."""
    found = summary.summaries(store, period, NOW, None, strict=False)
    return found, summary.trend(found, "runtime"), summary.trend(found, "ai_daily")


@dataclass
class Fresh:
    """A step run in a new Python process: its wall time (measured in it, from before the step's imports), the
    CPU time it took (getrusage of the ended child: every thread, the interpreter's start included), its peak
    memory, and the load average when it started."""
    seconds: float
    cpu_ms: float
    peak_mb: float
    load: str

    @property
    def said(self) -> str:
        """What a row's note says of it besides the columns: the load average, and where the CPU comes from."""
        return f"CPU the child's getrusage user+sys; {self.load}"


def in_fresh_process(code: str) -> Fresh:
    """The code run in a new Python process (imports included): its Fresh."""
    # VmHWM, not ru_maxrss, which a process inherits from its parent across fork and exec.
    program = ("import time, re; t = time.perf_counter()\n" + code
               + "\npeak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)"
               + "\nprint(time.perf_counter() - t, int(peak) / 1024)")
    at, used = load(), rusage_ms(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT)
    used = rusage_ms(resource.RUSAGE_CHILDREN) - used
    if done.returncode:
        raise RuntimeError(f"bench step failed: {done.stderr.strip().splitlines()[-1]}")
    seconds, peak = done.stdout.split()[-2:]
    return Fresh(float(seconds), used, float(peak), at)


def _setup(folder: Path, store_dir: Path) -> str:
    """The code that opens the bench store in a fresh process: built, refreshed or opened, as build() finds it."""
    return ("from datetime import datetime; from pathlib import Path\n"
            "from usage_analytics.build import build\n"
            f"now = datetime.fromisoformat({NOW.isoformat()!r})\n"
            f"store = build(Path({str(folder)!r}), now, Path({str(store_dir)!r}))\n")


ONLY = ("attention",)  # the parts `--only` can run alone


def run(ai_rows: int, state_dir: Path, repeat: int = 11, progress: Callable[[str], None] = print,
        only: str | None = None) -> list[Timing]:
    """Generate (or reuse) the dataset of ai_rows rows under state_dir/bench/, and time every step on it (only
    "attention": issue 16's rows alone, on the store file as found, built first when missing)."""
    folder = Path(state_dir) / "bench" / f"ai-{ai_rows}"
    store_dir = Path(state_dir) / "bench" / f"store-{ai_rows}"
    started = time.perf_counter()
    manifest = generate(folder, ai_rows, progress)
    progress(f"bench data ready in {folder} ({manifest['ai_rows']:,} AI rows, {manifest['customers']:,} customers, "
             f"{time.perf_counter() - started:.1f} s)")
    setup = _setup(folder, store_dir)
    timings = [] if only else _fresh_starts(setup, store_dir, manifest, progress)
    store = build(folder, NOW, store_dir, progress)
    try:
        # First in this process after opening the store, so the queue's first call is as cold as a command's.
        timings += _attention(store, folder, Path(state_dir) / "bench" / f"attention-{ai_rows}", manifest, repeat,
                              progress)
        if only:
            return timings
        timings += _warm(_pairs(store, folder, manifest, repeat), repeat, progress)
        timings.append(_open_month(store, repeat, progress))
    finally:
        store.close()
    timings += _month_close(setup, Path(state_dir) / "bench" / f"close-{ai_rows}", manifest, progress)
    timings.append(_refresh(setup, folder, store_dir, timings[0].app_ms / 1000, progress))
    timings.append(Timing("peak memory of this process (warm runs, pandas and polars)", None,
                          note=f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"))
    return timings


def _attention(store, folder: Path, work_dir: Path, manifest: dict, repeat: int,
               progress: Callable[[str], None]) -> list[Timing]:
    """Issue 16's rows (bench/attention_timing.py): the attention queue, the Operators page's queue, the outlook
    query; wall time, CPU time and the load average for each."""
    customers = [f"cus_{i:05d}" for i in range(manifest["customers"])]  # cus_00000 is the largest (LARGEST)
    rows = attention_timing.run(store, folder, store.database, work_dir, repeat, customers, progress)
    return [Timing(what, sample and sample.wall_ms, note=said, cpu_ms=sample and sample.cpu_ms)
            for what, sample, said in rows]


def _fresh_starts(setup: str, store_dir: Path, manifest: dict, progress: Callable[[str], None]) -> list[Timing]:
    """The full build of the store file, then the first page's data twice, each in a fresh process."""
    for old in store_dir.glob("store-*.duckdb"):
        old.unlink()
    # Each timed step starts with the disk quiet: the last step's writes flushed, and the blocks of a removed
    # 2 GB store file given back (this disk is mounted with discard, which the kernel does on a commit).
    os.sync()
    progress("building the store file (fresh process)")
    built = in_fresh_process(setup)
    rows = sum(manifest[k] for k in ("ai_rows", "sessions"))
    timings = [Timing("build the store file from every export (fresh process)", built.seconds * 1000,
                      note=f"{rows / built.seconds / 1e6:,.2f}M AI and session rows/s, peak memory "
                           f"{built.peak_mb:,.0f} MB; {built.said}", cpu_ms=built.cpu_ms)]
    os.sync()
    progress("first page data (fresh process)")
    # Twice: as found after the build, and again. This machine's kernel pages out files it finds cold (DAMON),
    # and a cold start read 11 s of Python imports alone; the second run shows the process, not the disk.
    for when in ("", ", again"):
        page = in_fresh_process(
            setup + "from bench.timing import LARGEST, MONTH, customer_page\ncustomer_page(store, MONTH, LARGEST)")
        timings.append(Timing(f"first page data in a fresh process{when}, store file exists (largest customer)",
                              page.seconds * 1000, note=f"imports included; peak memory {page.peak_mb:,.0f} MB; "
                                                        f"{page.said}", cpu_ms=page.cpu_ms))
    return timings


def _pairs(store, folder: Path, manifest: dict, repeat: int) -> list[tuple]:
    """(what, the app's call, pandas' call, polars' call, the baselines' runs, note) for the largest and a median
    customer (both prepaid), a median one on paid billing (the page of most customers: no usage since a snapshot to
    read), and operators. The app's call runs `repeat` times on every row (_warm); the baselines as many times on a
    customer's rows, and a third as many on all customers' (seconds a call)."""
    big, small = LARGEST, f"cus_{manifest['customers'] // 2:05d}"
    paid = f"cus_{manifest['customers'] // 2 + 1:05d}"  # (every fifth customer is prepaid, the two above among them)
    pairs = []
    for label, customer in (("largest customer", big), ("a median customer", small)):
        pairs += [
            (f"customer page, one month, {label}: every query (warm median)",
             lambda c=customer: customer_page(store, MONTH, c),
             lambda c=customer: pandas_page(folder, c, MONTH.start, MONTH.end),
             lambda c=customer: polars_page(folder, c, MONTH.start, MONTH.end), repeat, WHOLE),
            (f"customer page, one month, {label}: AI daily series (warm median)",
             lambda c=customer: store.run("ai_usage_by_day", customer_id=c, period_start=MONTH.start,
                                          period_end=MONTH.end, now=NOW),
             lambda c=customer: pandas_ai_month(folder, c, MONTH.start, MONTH.end),
             lambda c=customer: polars_ai_month(folder, c, MONTH.start, MONTH.end), repeat, ALIKE)]
    pairs.append((f"customer page, one month, a median customer on paid billing, as most are: every query (warm "
                  "median)", lambda: customer_page(store, MONTH, paid),
                  lambda: pandas_page(folder, paid, MONTH.start, MONTH.end),
                  lambda: polars_page(folder, paid, MONTH.start, MONTH.end), repeat, WHOLE))
    few = max(1, repeat // 3)
    pairs += [
        ("operators, all customers, one month: table and trends, every query (warm median)",
         lambda: operators_page(store, MONTH), lambda: pandas_page(folder, None, MONTH.start, MONTH.end),
         lambda: polars_page(folder, None, MONTH.start, MONTH.end), few, WHOLE),
        ("operators, all customers, one month: AI daily series (warm median)",
         lambda: store.run("ai_usage_by_day", customer_id=None, period_start=MONTH.start, period_end=MONTH.end,
                           now=NOW),
         lambda: pandas_ai_month(folder, None, MONTH.start, MONTH.end),
         lambda: polars_ai_month(folder, None, MONTH.start, MONTH.end), few, ALIKE)]
    return pairs


def _open_month(store, repeat: int, progress: Callable[[str], None]) -> Timing:
    """The operators' month that holds now, as an operator opening the page first sees it: a month not ended is
    read from its days and runs (the monthly rollups serve ended months only), so it is timed beside the closed
    one. The app's call alone: the baselines' month is the closed one."""
    progress("the app's data path: all customers, the month so far")
    at, sample = load(), warm(lambda: operators_page(store, MONTH_NOW), repeat)
    return Timing(f"operators, all customers, {MONTH_NOW.label} so far (open: from its days, not the monthly "
                  "rollups): table and trends, every query (warm median)", sample.wall_ms,
                  note=note(sample, f"medians of {repeat} calls", when=at), cpu_ms=sample.cpu_ms)


def _warm(pairs: list[tuple], repeat: int, progress: Callable[[str], None]) -> list[Timing]:
    """The warm medians of every pair, wall and CPU (process_time: every thread, DuckDB's and polars' included):
    all of the app's first (repeat calls each: the targets are judged on medians of at least 11), then all of
    pandas', then all of polars' (the pair's own runs). The note gives the load average when the app's were timed,
    the 1-minute load when each baseline's were, and how many calls each median is of."""
    # Every app timing first, then every baseline one, so pandas' gigabytes of arrays are not in the process while
    # the app is timed. One A/B here suggested they slowed the app (34 -> 48 ms); a second showed no such
    # effect (43 -> 38 ms), so the first was the machine drifting: this order is caution, not a measured cure.
    progress("the app's data paths: largest and median customer, all customers")
    app = [(load(), warm(call, repeat)) for _, call, _, _, _, _ in pairs]
    progress("the same computations with pandas")
    analyst = [(os.getloadavg()[0], warm(call, runs)) for _, _, call, _, runs, _ in pairs]
    progress("the same computations with polars")
    lazy = [(os.getloadavg()[0], warm(call, runs)) for _, _, _, call, runs, _ in pairs]
    timings = []
    for (what, *_, runs, said), (at, mine), (pandas_load, pandas), (polars_load, polars) in zip(pairs, app, analyst,
                                                                                                lazy):
        loads = (f"1-min load at pandas' runs {pandas_load:.2f}, at polars' {polars_load:.2f}; medians of {repeat} "
                 f"calls (pandas and polars {runs})")
        timings.append(Timing(what, mine.wall_ms, pandas.wall_ms, note(mine, said, loads, when=at), cpu_ms=mine.cpu_ms,
                              pandas_cpu_ms=pandas.cpu_ms, polars_ms=polars.wall_ms, polars_cpu_ms=polars.cpu_ms))
    return timings


def _month_close(setup: str, close_dir: Path, manifest: dict, progress: Callable[[str], None]) -> list[Timing]:
    """Closing the month for every customer, then comparing it with today's figures, each in a fresh process
    (opening the store file included, as `close` and `restatements` do)."""
    shutil.rmtree(close_dir, ignore_errors=True)
    close_dir.mkdir(parents=True)
    revisions = (f"from usage_analytics import closing, revisions, state_db\nfrom bench.timing import MONTH\n"
                 f"found = revisions.Revisions(Path({str(close_dir)!r}), state_db.StateDB(Path({str(close_dir)!r})))\n"
                 "from usage_analytics import focus, handoff\n")
    timings = []
    # (as `close` makes every pack, and `restatements` only the figures it compares, without the look ahead)
    for what, step in (("close the month for every customer", "figures = closing.figures_of(store, MONTH, now)\n"
                        "packs = {cid: handoff.pack(item) for cid, item in figures.items()}\n"
                        "closing.close(found, closing.Scope(MONTH, packs, True, {}, 'bench', 'bench', "
                        "focus.charges(figures), 'bench'), now)"),
                       ("restatements of the closed month",
                        "closing.restatements(found, MONTH, closing.now_compared(store, MONTH, now))")):
        progress(f"{what} (fresh process)")
        os.sync()
        done = in_fresh_process(setup + revisions + step)
        timings.append(Timing(f"{what}, {manifest['customers']:,} customers (fresh process)", done.seconds * 1000,
                              note=f"imports and opening the store included; peak memory {done.peak_mb:,.0f} MB; "
                                   f"{done.said}", cpu_ms=done.cpu_ms))
    shutil.rmtree(close_dir)
    return timings


def _refresh(setup: str, folder: Path, store_dir: Path, build_seconds: float,
             progress: Callable[[str], None]) -> Timing:
    """The incremental refresh after one more day of exports, in a fresh process; then the dataset as it was."""
    progress("incremental refresh: one more day of exports (fresh process)")
    [built] = store_dir.glob("store-*.duckdb")
    kept = built.with_name(".full-" + built.name)
    os.link(built, kept)  # the full build stays, for the next run or the app on this dataset
    added = add_a_day(folder)
    os.sync()  # (as above; the refresh starts by copying the last store file, as a day after the build)
    try:
        refreshed = in_fresh_process(setup)
    finally:
        for day in added:  # the dataset as generated again, and its store file
            shutil.rmtree(day)
        for made in store_dir.glob("store-*.duckdb"):
            made.unlink()
        os.replace(kept, built)
    return Timing("incremental refresh after one more day of exports (fresh process)", refreshed.seconds * 1000,
                  note=f"{refreshed.seconds / build_seconds:.1%} of the full build; peak memory "
                       f"{refreshed.peak_mb:,.0f} MB; {refreshed.said}", cpu_ms=refreshed.cpu_ms)


def table(timings: list[Timing], ai_rows: int) -> str:
    """The timings as a markdown table, under a line naming the size and the machine's cores."""
    lines = [f"bench: {ai_rows:,} AI usage rows, {customers_for(ai_rows):,} customers, "
             f"{os.cpu_count()} cores",
             "| data path | app (ms) | app CPU (ms) | pandas (ms) | pandas CPU (ms) | pandas ÷ app | polars (ms) "
             "| polars CPU (ms) | polars ÷ app | note |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for t in timings:
        cells = ["" if ms is None else f"{ms:,.1f}" for ms in (t.app_ms, t.cpu_ms, t.pandas_ms, t.pandas_cpu_ms)]
        cells.append(t.ratio)
        cells += ["" if ms is None else f"{ms:,.1f}" for ms in (t.polars_ms, t.polars_cpu_ms)]
        cells.append(t.polars_ratio)
        lines.append("| " + " | ".join([t.what, *cells, t.note]) + " |")
    return "\n".join(lines)
