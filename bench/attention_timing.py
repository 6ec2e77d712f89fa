"""Issue 16's rows: the attention queue end to end (in this process, and the `attention` command in a fresh one),
what the Operators page's queue adds to the operators' month, and the outlook query every summaries now runs.

Each row says wall time, CPU time and the load average when it ran: this machine is shared and its wall time
swings 2-3x, while the CPU a step takes moves much less. CPU is time.process_time() (every thread of the process on
Linux, DuckDB's included), and the note gives getrusage's user + system as well; for a fresh process, its CPU is
the child's getrusage."""
from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd
import streamlit as st

from usage_analytics import attention, build, closing, config, coverage, focus, handoff, revisions, summary, tables
from usage_analytics.frames import no_rows
from usage_analytics.areas import TOTALS, Area
from usage_analytics.periods import Period

from .generate import NOW

MONTH_NOW = attention.month_of(NOW)  # the month the queue is made from (open: NOW is in it)


@dataclass
class Sample:
    """One timed call: wall, process CPU (process_time) and getrusage user + system, in milliseconds."""
    wall_ms: float
    cpu_ms: float
    rusage_ms: float


def rusage_ms(who: int = resource.RUSAGE_SELF) -> float:
    """getrusage's user + system time in milliseconds: this process's, or (RUSAGE_CHILDREN) its ended children's."""
    used = resource.getrusage(who)
    return (used.ru_utime + used.ru_stime) * 1000


def load() -> str:
    """The load averages over 1, 5 and 15 minutes, as the note says them."""
    return "load " + " / ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(function: Callable[[], object]) -> tuple[Sample, object]:
    """One call of function: its Sample, and what it returned."""
    wall, cpu, used = time.perf_counter(), time.process_time(), rusage_ms()
    result = function()
    return Sample((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000,
                  rusage_ms() - used), result


def median(samples: list[Sample]) -> Sample:
    """The median of each measure on its own (wall, CPU and getrusage may come from different calls)."""
    return Sample(*(statistics.median(getattr(s, f) for s in samples) for f in ("wall_ms", "cpu_ms", "rusage_ms")))


def warm(function: Callable[[], object], repeat: int) -> Sample:
    return median([timed(function)[0] for _ in range(repeat)])


def note(sample: Sample, *more: str, when: str | None = None) -> str:
    """A row's note: getrusage's CPU, the load average at the time, and anything else."""
    return "; ".join([f"getrusage user+sys {sample.rusage_ms:,.1f} ms", when or load(), *more])


# -- what the `attention` command does (usage_analytics/__main__.py `_attention`), from an open store ----------

def restated(store, settings: config.Settings, kept: bool = True) -> dict:
    """The restated months as the `attention` command makes them: each closed month's figures without the look
    ahead, compared, and kept in STATE_DIR/restated (read instead when kept there already); kept=False makes
    them whatever is kept."""
    now = settings.now()
    return attention.restated_months(revisions.for_settings(settings),
                                     lambda period: closing.figures_of(store, period, now, ahead=False),
                                     attention.kept(settings, store, now) if kept else None)


def attention_json(store, settings: config.Settings) -> str:
    """The `attention` command's work after opening the store: whether a file was unread, every customer's
    figures of the month holding now, the restated months from the revisions (or as kept), the queue, and its
    JSON."""
    now = settings.now()
    coverage.files_text(coverage.unread_files(store.reports, coverage.PACK))
    moved = restated(store, settings)
    entries = attention.queue(closing.figures_of(store, attention.month_of(now), now,
                                                 low_days=settings.low_balance_days),
                              settings.onboarding_stall_days, moved)
    return attention.to_json(entries)


def forget_kept(settings: config.Settings) -> None:
    """The restated months kept in the state folder removed, so that the next call makes them again."""
    shutil.rmtree(settings.state_dir / "restated", ignore_errors=True)


def cli(folder: Path, settings: config.Settings) -> tuple[Sample, str]:
    """`python -m usage_analytics attention` in a fresh process on the bench's exports, now and state (imports
    and opening the store file included): its Sample (CPU: the child's getrusage) and its output."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("CLOSE_DIR", "DATABASE_URL", "LOW_BALANCE_DAYS", "ONBOARDING_STALL_DAYS",
                        "EXPORT_MAX_AGE_HOURS")}
    env.update(USAGE_DATA_DIR=str(folder), ANALYTICS_NOW=NOW.isoformat(), STATE_DIR=str(settings.state_dir))
    wall, used = time.perf_counter(), rusage_ms(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-m", "usage_analytics", "attention"], capture_output=True, text=True,
                          env=env, cwd=Path(__file__).resolve().parent.parent)
    wall, used = (time.perf_counter() - wall) * 1000, rusage_ms(resource.RUSAGE_CHILDREN) - used
    if done.returncode:
        raise RuntimeError(f"`attention` exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return Sample(wall, used, used), done.stdout


def built_its_own(store_file: Path, store_dir: Path) -> bool:
    """Whether the command built (or refreshed) a store file of its own instead of opening the bench's: the app's
    code changed since the bench built it (another store file then stands in store_dir, and the link is gone).
    The link is put back for the next run."""
    others = [p for p in store_dir.glob("store-*.duckdb") if p.name != store_file.name]
    linked = store_dir / store_file.name
    for other in others:
        other.unlink()
    if not linked.exists():
        os.link(store_file, linked)
    return bool(others)


# -- what the Operators page's queue adds (pages/operators.py `_queue`, usage_analytics/view.py `attention`) ---

QUEUE_COLUMNS = ["customer", "reason", "detail", "next_action", "due", "customer_id"]


def queue_column_config() -> dict:
    """The queue table's column_config, as the page gives it (its CSV download's headers come from it)."""
    return {"customer": "Customer", "reason": "Reason",
            "detail": st.column_config.TextColumn("Why", width="large"),
            "next_action": "Next action",
            "due": st.column_config.TextColumn("Due", help="When a balance runs out or a trial ends"),
            "customer_id": "Customer id"}


def page_queue(found: dict, settings: config.Settings, entries: list) -> pd.DataFrame:
    """What the page computes for its queue on a rerun once it has the month's figures: the revisions read (the
    key of the queue kept with the figures, caches.queue, read on every run; entries: the kept queue), the counts
    per reason and the queue table's frame as `_queue` makes it (nothing picked), and the rank by which `_table`
    puts every customer in the queue's order."""
    tuple((r.period, r.revision) for r in revisions.for_settings(settings).all())  # (caches._closed)
    counts = attention.counts(entries)
    [k for k in attention.KINDS if counts[k]]  # (the pills' options)
    picked: list[str] = []
    shown = [e for e in entries if not picked or any(r.kind in picked for r in e.reasons)]
    frame = pd.DataFrame([{  # one row per reason
        "customer": e.customer_name, "reason": attention.KIND_LABELS[r.kind], "detail": r.detail,
        "next_action": r.next_action, "due": r.due.isoformat() if r.due else "", "customer_id": e.customer_id}
        for e in shown for r in e.reasons], columns=QUEUE_COLUMNS)
    {e.customer_id: (i, attention.KIND_LABELS[e.reasons[0].kind]) for i, e in enumerate(entries or [])}  # (_table)
    return frame


def table_work(frame: pd.DataFrame) -> None:
    """tables.show's own work for the queue on every run, before Streamlit draws it: the screen copy, and the
    digest its CSV is cached by (tables._csv)."""
    tables.on_screen(frame)
    pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()


@contextmanager
def without_outlook() -> Iterator[None]:
    """summaries as before issue 16 (bench only): the outlook queries answered at once with no rows."""
    real = summary.submit

    def submit(store, name: str, window: dict, fetch=None) -> Future:
        if name not in TOTALS[Area.AHEAD]:
            return real(store, name, window, fetch)
        done: Future = Future()
        done.set_result(no_rows(name))
        return done

    summary.submit = submit
    try:
        yield
    finally:
        summary.submit = real


# -- the rows ---------------------------------------------------------------------------------------------

def run(store, folder: Path, store_file: Path, work_dir: Path, repeat: int, customers: list[str],
        progress: Callable[[str], None]) -> list[tuple[str, Sample | None, str]]:
    """Issue 16's rows as (what, sample, note), on an open store of the bench's exports. work_dir (removed after)
    is the state folder they run with: no revision at first, then October 2026 closed for every customer. The
    store file is linked into its store folder, so the `attention` command opens it instead of building one."""
    shutil.rmtree(work_dir, ignore_errors=True)
    (work_dir / "store").mkdir(parents=True)
    try:
        os.link(store_file, work_dir / "store" / store_file.name)
        settings = config.Settings(data_dir=folder, state_dir=work_dir, analytics_now=NOW)
        rows = _queue_rows(store, folder, settings, repeat, customers, progress, "no revision",
                           "the first call after opening the store; no month closed in the bench's state")
        rows += _page_rows(store, settings, repeat, customers, progress)
        progress("closing October 2026 for every customer (for the restated months)")
        closed, _ = timed(lambda: _close(store, settings))
        rows += _queue_rows(store, folder, settings, max(1, repeat // 2), customers, progress, "October closed",
                            f"October 2026 closed for every customer just before (not counted: "
                            f"{closed.wall_ms / 1000:,.1f} s), so its restated months are compared")
        return rows
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _queue_rows(store, folder: Path, settings: config.Settings, repeat: int, customers: list[str],
                progress: Callable[[str], None], revisions_said: str, state_said: str
                ) -> list[tuple[str, Sample | None, str]]:
    """The first call makes the restated months (none kept yet, as after a close or new exports) and keeps them;
    the warm calls and the command read them as kept, as a rerun does. The notes give the restated months made
    again, and the command's first run after a close."""
    progress(f"attention, in this process and as the command ({revisions_said})")
    what = f"every customer's figures of {MONTH_NOW.label}, restated months, queue, JSON"
    rows = []
    closed = bool(revisions.for_settings(settings).all())
    forget_kept(settings)
    at = load()
    first, text = timed(lambda: attention_json(store, settings))
    entries = len(json.loads(text))
    rows.append((f"attention, in process, first call ({revisions_said})", first,
                 note(first, state_said, *(["restated months made (none kept yet)"] if closed else []),
                      f"{what}; {entries:,} of {len(customers):,} customers in the queue", when=at)))
    at = load()
    again = warm(lambda: attention_json(store, settings), repeat)
    made = warm(lambda: restated(store, settings, kept=False), repeat)
    as_kept = warm(lambda: restated(store, settings), repeat)
    rows.append((f"attention, in process, warm median ({revisions_said})", again,
                 note(again, f"restated months read as kept {as_kept.wall_ms:,.1f} ms wall / {as_kept.cpu_ms:,.1f} ms "
                             f"CPU; made again {made.wall_ms:,.1f} ms wall / {made.cpu_ms:,.1f} ms CPU", when=at)))
    label = f"`python -m usage_analytics attention` (fresh process, {revisions_said})"
    runs = []
    for forget in ([True, False] if closed else [False]):
        if forget:
            forget_kept(settings)
        at = load()
        os.sync()
        command, output = cli(folder, settings)
        if built_its_own(store.database, settings.store_dir):
            rows.append((label, None, "not timed: the command built a store file of its own (the app's code "
                                      f"changed since the bench's build, {command.wall_ms / 1000:,.1f} s)"))
            return rows
        runs.append((command, at, "the same JSON as in process" if output == text else
                     "NOT the same JSON as in process"))
    (command, at, same), *before = reversed(runs)
    said = [f"a rerun (restated months as kept); first run after the close (made and kept): "
            f"{b.wall_ms:,.1f} ms wall / {b.cpu_ms:,.1f} ms CPU, {b_at}, {b_same}" for b, b_at, b_same in before]
    rows.append((label, command, "; ".join(["imports and opening the store file included; CPU is the child's", at,
                                            same, *said])))
    return rows


def _page_rows(store, settings: config.Settings, repeat: int, customers: list[str],
               progress: Callable[[str], None]) -> list[tuple[str, Sample, str]]:
    progress("the Operators page's queue, and the outlook query")
    rows = []

    def month() -> dict:  # as the page's caches.summaries makes them
        return summary.summaries(store, MONTH_NOW, NOW, None, strict=False, fresh_hours=settings.export_max_age_hours,
                                 low_days=settings.low_balance_days)

    # The page's period is the month holding now (the common case): the figures are the page's own, and the queue
    # is kept with them (caches.queue), so a rerun adds only its own work on the kept queue. The queue itself is
    # made when its figures are (the first run of a minute of the clock, or new exports).
    found = month()
    at = load()
    made = warm(lambda: attention.queue(found, settings.onboarding_stall_days, {}), repeat)
    entries = attention.queue(found, settings.onboarding_stall_days, {})
    first, frame = timed(lambda: page_queue(found, settings, entries))
    queue = warm(lambda: page_queue(found, settings, entries), repeat)
    rows.append((f"operators' queue on the page's own figures ({MONTH_NOW.label}), a rerun: revisions read, the "
                 "kept queue's counts, frame, table order (warm median)", queue,
                 note(queue, f"{len(frame):,} rows (one per reason); first call {first.wall_ms:,.1f} ms wall / "
                             f"{first.cpu_ms:,.1f} ms CPU; the queue made with new figures (kept with them) "
                             f"{made.wall_ms:,.1f} ms wall / {made.cpu_ms:,.1f} ms CPU", when=at)))
    at = load()
    table = warm(lambda: table_work(frame), repeat)
    csv = warm(lambda: tables.to_csv(frame, queue_column_config()), repeat)
    rows.append(("the queue table's own work in tables.show on every run: screen copy, CSV digest (warm median)",
                 table, note(table, f"its CSV, made again only when the queue changes (cached by that digest): "
                                    f"{csv.wall_ms:,.1f} ms wall / {csv.cpu_ms:,.1f} ms CPU; Streamlit's drawing "
                                    "not included", when=at)))
    # Another period picked: the queue needs the month holding now as well. Measured with and without the
    # outlook query, one call of each in turn, so the machine's drift falls on both.
    at = load()
    with_, without = [], []
    for _ in range(repeat):
        with_.append(timed(month)[0])
        with without_outlook():
            without.append(timed(month)[0])
    with_, without = median(with_), median(without)
    rows.append((f"summaries of {MONTH_NOW.label} for every customer: what the queue adds when the page shows "
                 "another month (warm median)", with_, note(with_, when=at)))
    rows.append(("the same without the outlook queries (bench only: patched out; in turn with the row above)",
                 without, note(without, f"outlook adds {with_.wall_ms - without.wall_ms:,.1f} ms wall, "
                                        f"{with_.cpu_ms - without.cpu_ms:,.1f} ms CPU", when=at)))
    for label, customer in (("every customer", None), ("largest customer", customers[0]),
                            ("a median customer", customers[len(customers) // 2])):
        at = load()
        alone = warm(lambda c=customer: [store.run(name, customer_id=c, now=NOW) for name in TOTALS[Area.AHEAD]],
                     repeat)
        rows.append((f"outlook queries alone (the last 7 days, since the snapshot), {label} (warm median)", alone,
                     note(alone, when=at)))
    return rows


def _close(store, settings: config.Settings) -> None:
    """October 2026 closed for every customer into the state folder's revisions, as `close` does."""
    month = Period.month(2026, 10)
    figures = closing.figures_of(store, month, NOW, low_days=settings.low_balance_days)
    packs = {cid: handoff.pack(item) for cid, item in figures.items()}
    closing.close(revisions.for_settings(settings),
                  closing.Scope(month, packs, True, {}, build.fingerprint(settings.data_dir), "bench",
                                focus.charges(figures), "bench"), NOW)
