"""The store file under STATE_DIR (issue 6): the same figures as checking the exports in memory, reused
while the exports are unchanged, rebuilt and swapped in atomically when they change."""
import os
import shutil
from pathlib import Path
from datetime import datetime, timezone

import duckdb
import pytest

from conftest import ROOT
from usage_analytics import checking, handoff, sql, summary
from usage_analytics.build import build
from usage_analytics.periods import Period

NOW = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)
PERIODS = [Period.month(2026, 10), Period.month(2026, 11), Period.parse("2026-11-18..2026-11-24")]


@pytest.fixture
def exports(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "data", folder)
    return folder


def _open(folder, store_dir, log=None):
    return build(folder, NOW, store_dir, progress=(log.append if log is not None else None))


def _files(store_dir):
    return sorted(p.name for p in store_dir.iterdir() if not p.name.startswith(".spill"))


def test_figures_and_handoff_packs_are_identical_from_the_store_file_and_from_memory(exports, tmp_path):
    memory, filed = build(exports, NOW), _open(exports, tmp_path / "state")
    try:
        _assert_same(memory, filed)
    finally:
        memory.close()
        filed.close()


ROLLUPS = tuple(sql.rollups())  # every one, including any added later


def _assert_same(memory, filed):
    """Every figure of every customer in three periods, every handoff CSV, the reports, and every rollup row."""
    for period in PERIODS:
        expected, found = summary.summaries(memory, period, NOW), summary.summaries(filed, period, NOW)
        assert list(found) == list(expected)
        for part in ("runtime", "ai_daily"):
            assert summary.trend(found, part).equals(summary.trend(expected, part)), (period, part)
        for customer_id, figures in expected.items():
            same = found[customer_id]
            assert same.runtime.equals(figures.runtime) and same.ai_daily.equals(figures.ai_daily), customer_id
            assert (same.account, same.providers, same.not_configured, same.billing, same.gaps) == \
                   (figures.account, figures.providers, figures.not_configured, figures.billing, figures.gaps)
    for customer_id in summary.accounts(memory):
        packs = [handoff.to_csv(handoff.pack(summary.customer_summary(store, customer_id, PERIODS[0], NOW)))
                 for store in (memory, filed)]
        assert packs[0] == packs[1], customer_id
    assert filed.reports == memory.reports and filed.problems == memory.problems
    for query in ("provider_projects", "customer_accounts"):
        assert filed.run(query, customer_id=None).equals(memory.run(query, customer_id=None))
    for table in ROLLUPS:
        rows = [store.cursor().execute(f"select * from {table} order by all").fetchall() for store in (memory, filed)]
        assert rows[0] == rows[1], table


def test_the_file_is_reused_until_the_exports_change_and_then_swapped_in(exports, tmp_path):
    store_dir = tmp_path / "state"
    log = []
    first = _open(exports, store_dir, log)
    assert log[0] == "checking customers (1/6)" and log[-1].startswith("store built in")
    [built] = _files(store_dir)
    log.clear()
    again = _open(exports, store_dir, log)
    assert log == [] and _files(store_dir) == [built]  # opened, not rebuilt
    again.close()

    runtime = summary.summaries(first, PERIODS[1], NOW, "cus_acme_robotics")["cus_acme_robotics"].runtime_hours
    sessions = exports / "workspace_sessions"
    (sessions / "month=2026-11").rename(sessions / "_month=2026-11")  # November's export withdrawn
    changed = _open(exports, store_dir, log)  # a new file is made, renamed into place, the old one removed
    # (a file went: that dataset is checked again, in a copy of the last file; the others are kept)
    assert "checking workspace_sessions (3/6)" in log and not any("ai_usage" in line for line in log)
    assert log[-1].startswith("store refreshed in") and len(_files(store_dir)) == 1 and _files(store_dir) != [built]
    assert summary.summaries(changed, PERIODS[1], NOW, "cus_acme_robotics")["cus_acme_robotics"].runtime_hours \
        < runtime / 2
    # a reader that opened the old file keeps reading it, untouched by the swap
    assert summary.summaries(first, PERIODS[1], NOW, "cus_acme_robotics")["cus_acme_robotics"].runtime_hours == runtime
    first.close()
    changed.close()


def test_a_broken_store_file_is_rebuilt(exports, tmp_path):
    store_dir = tmp_path / "state"
    _open(exports, store_dir).close()
    [built] = _files(store_dir)
    (store_dir / built).write_bytes(b"not a duckdb file")
    store = _open(exports, store_dir)
    try:
        assert len(summary.accounts(store)) == 40
    finally:
        store.close()


def test_ingest_builds_the_store_once_and_bench_runs_at_a_tiny_size(tmp_path):
    """The command line: `ingest` says what it did; `python -m bench` prints its table (CI's smoke run of it)."""
    import subprocess
    import sys

    env = {**os.environ, "STATE_DIR": str(tmp_path)}

    def run(module, *args):
        return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=600)

    built, again = run("usage_analytics", "ingest"), run("usage_analytics", "ingest")
    assert built.returncode == 0 and built.stdout.startswith("built: ") and "checking reconciliation (6/6)" in built.stderr
    assert again.returncode == 0 and again.stdout.startswith("up to date: ") and again.stderr == ""
    bench = run("bench", "--ai-rows", "3000", "--repeat", "1")
    assert bench.returncode == 0, bench.stderr
    lines = bench.stdout.splitlines()
    assert lines[0] == "bench: 3,000 AI usage rows, 40 customers, " + f"{os.cpu_count()} cores"
    assert len(lines) == 3 + 28 and all(line.startswith("|") for line in lines[1:])
    header, *rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[1:]]
    assert header == ["data path", "app (ms)", "app CPU (ms)", "pandas (ms)", "pandas CPU (ms)", "pandas ÷ app",
                      "polars (ms)", "polars CPU (ms)", "polars ÷ app", "note"]
    rows = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    # every row with a wall time has its CPU time and the load average; every pair's baselines both theirs
    assert all(row["app CPU (ms)"] and "load " in row["note"] for row in rows if row["app (ms)"])
    pairs = [row for row in rows if row["pandas (ms)"] or row["polars (ms)"]]
    assert len(pairs) == 7 and all(row["app (ms)"] and row["pandas CPU (ms)"] and row["polars CPU (ms)"]
                                   and row["pandas ÷ app"] and row["polars ÷ app"] for row in pairs)
    assert "like for like" in bench.stdout and "rows/s" in bench.stdout and "of the full build" in bench.stdout
    assert "first page data in a fresh process, again" in bench.stdout
    assert "a median customer on paid billing" in bench.stdout  # (its page reads no usage since a snapshot)
    assert "2026-11 so far (open: from its days" in bench.stdout  # (beside the closed month, which rollups serve)
    assert "close the month for every customer, 40 customers" in bench.stdout and "restatements of the closed" in bench.stdout
    # the baselines compute the app's figures: pandas and polars the runtime to the day, workspace and template
    # (hours to 1e-9); polars the managed-AI series per day, provider and model as pandas does (counts and money
    # exactly) and as the app does for the providers it counts (linked ones)
    from bench.baseline import pandas_ai_month, pandas_runtime_month
    from bench.generate import NOW as BENCH_NOW
    from bench.polars_baseline import polars_ai_month, polars_runtime_month

    folder, month = tmp_path / "bench" / "ai-3000", Period.month(2026, 10)
    store = build(folder, BENCH_NOW, tmp_path / "bench" / "store-3000")
    window = dict(period_start=month.start, period_end=month.end, now=BENCH_NOW)
    try:
        for customer_id in (None, "cus_00000"):
            app = store.run("runtime_by_workspace_day", customer_id=customer_id, **window)
            expected = app.groupby(["customer_id", "day", "workspace_id", "template"])["runtime_hours"].sum()
            keys = [(c, day, w, t) for c, day, w, t in expected.index]
            daily, totals = pandas_runtime_month(folder, customer_id, month.start, month.end)
            assert len(daily) == len(expected) > 0
            assert daily.tolist() == pytest.approx(expected.tolist(), abs=1e-9)
            assert [(c, day.date(), w, t) for c, day, w, t in daily.index] == keys
            polars_daily, polars_totals = polars_runtime_month(folder, customer_id, month.start, month.end)
            assert [(c, day.date(), w, t) for c, day, w, t, _ in polars_daily.rows()] == keys
            assert polars_daily["hours"].to_list() == pytest.approx(expected.tolist(), abs=1e-9)
            assert polars_totals["customer_id"].to_list() == totals.index.tolist()
            assert polars_totals["hours"].to_list() == pytest.approx(totals.tolist(), abs=1e-9)
        everyone, _ = polars_ai_month(folder, None, month.start, month.end)
        for customer_id in (None, everyone["customer_id"][0]):
            daily, totals = pandas_ai_month(folder, customer_id, month.start, month.end)
            polars_daily, polars_totals = polars_ai_month(folder, customer_id, month.start, month.end)
            assert len(polars_daily) == len(daily) > 0 and polars_daily.schema["cost_usd"].is_decimal()
            assert polars_daily.rows() == list(daily.reset_index().itertuples(index=False, name=None))
            assert polars_totals.rows() == list(totals.reset_index().itertuples(index=False, name=None))
            app = store.run("ai_usage_by_day", customer_id=customer_id, **window)
            linked = {tuple(link) for link in store.run("provider_projects", customer_id=customer_id)
                      [["customer_id", "provider"]].itertuples(index=False, name=None)}
            counted = [(c, day.date(), p, *rest) for c, day, p, *rest in polars_daily.rows() if (c, p) in linked]
            assert 0 < len(counted) == len(app)
            assert counted == list(app.drop(columns="reconciliation_status").itertuples(index=False, name=None))
    finally:
        store.close()


def test_new_files_are_added_to_a_copy_of_the_store_and_give_what_a_full_check_gives(exports, tmp_path):
    """The incremental refresh: November's exports arrive after the rest, with a late file holding a
    duplicate of an October row, a refused row and a row whose key repeats a refused one."""
    store_dir, log = tmp_path / "state", []
    usage, sessions = exports / "ai_usage", exports / "workspace_sessions"
    for folder in (usage, sessions):
        (folder / "month=2026-11").rename(folder / "_month=2026-11")
    october = next((usage / "month=2026-10").glob("*.parquet"))
    refused = tmp_path / "refused.parquet"  # an October file with one refused row (negative tokens)
    duckdb.execute(f"copy (select * replace (case when row_number() over () = 1 then -5 else output_tokens end "
                   f"as output_tokens) from read_parquet('{october}')) to '{refused}' (format parquet)")
    october.unlink()
    shutil.copy(refused, october)
    _open(exports, store_dir).close()  # built without November

    for folder in (usage, sessions):
        (folder / "_month=2026-11").rename(folder / "month=2026-11")
    late = usage / "month=2026-11" / "part-9-late.parquet"  # sorts after November's part-0
    duckdb.execute(f"copy (select * from read_parquet('{october}') limit 3) to '{late}' (format parquet)")
    refreshed = _open(exports, store_dir, log)
    memory = build(exports, NOW)
    try:
        assert "adding 2 new files of ai_usage (4/6)" in log and "adding 1 new file of workspace_sessions (3/6)" in log
        assert not any(line.startswith("checking") for line in log), log
        assert log[-1].startswith("store refreshed in")
        duplicates = [r for r in memory.reports["ai_usage"].rejected if "duplicate" in r.reason]
        assert duplicates and duplicates[0].rows == 3  # two kept October rows and one refused one, seen again
        _assert_same(memory, refreshed)
        assert len(_files(store_dir)) == 1
    finally:
        memory.close()
        refreshed.close()


def test_rows_that_arrive_in_the_middle_of_a_month_make_that_months_rows_again_from_all_its_days(exports, tmp_path):
    """A rollup kept per month (ai_provider_months) refreshed from a day in the middle of a month: the month that
    holds the day is summed again from every day of it, the days before the new rows included."""
    store_dir, log = tmp_path / "state", []
    november = exports / "ai_usage" / "month=2026-11"
    whole = tmp_path / "november.parquet"
    shutil.move(next(november.glob("*.parquet")), whole)
    split = "timestamp '2026-11-15 00:00:00'"
    duckdb.execute(f"copy (select * from read_parquet('{whole}') where bucket_start < {split}) "
                   f"to '{november / 'part-0.parquet'}' (format parquet)")
    _open(exports, store_dir).close()  # built with November up to the 14th
    duckdb.execute(f"copy (select * from read_parquet('{whole}') where bucket_start >= {split}) "
                   f"to '{november / 'part-1.parquet'}' (format parquet)")
    refreshed = _open(exports, store_dir, log)
    memory = build(exports, NOW)
    try:
        assert "adding 1 new file of ai_usage (4/6)" in log and "summing ai_provider_months from 2026-11-15" in log
        _assert_same(memory, refreshed)
    finally:
        memory.close()
        refreshed.close()


def test_a_new_link_sums_the_rollups_it_changes_again_whole(exports, tmp_path):
    # New AI rows alone refresh ai_usage_daily_across from their first day; a new link changes every day of
    # its provider, so with one the rollup is summed again whole (and equals a full check).
    from conftest import link
    from usage_analytics.sample import write_dataset

    store_dir, log = tmp_path / "state", []
    usage = exports / "ai_usage"
    (usage / "month=2026-11").rename(usage / "_month=2026-11")
    _open(exports, store_dir).close()
    (usage / "_month=2026-11").rename(usage / "month=2026-11")
    unlinked = duckdb.execute(
        f"select distinct customer_id, provider from read_parquet('{usage}/*/*.parquet') where bucket_start < "
        f"'2026-11-01' except select customer_id, provider from read_parquet('{exports}/provider_links/*.parquet') "
        "order by all").fetchall()
    assert unlinked  # (the sample has usage of providers that are not linked, before November)
    late = datetime(2026, 11, 20, tzinfo=timezone.utc)  # a link counts whole, whenever it was made
    write_dataset(exports, "provider_links", [{**link(provider, cid), "linked_at": late} for cid, provider in unlinked],
                  "part-9-new")
    refreshed = _open(exports, store_dir, log)
    memory = build(exports, NOW)
    try:
        assert "adding 1 new file of provider_links (5/6)" in log and "summing ai_usage_daily_across" in log
        assert not any("checking" in line for line in log)
        _assert_same(memory, refreshed)
    finally:
        memory.close()
        refreshed.close()


def test_a_late_running_session_that_joins_an_ended_run_takes_its_earlier_days_out_of_the_runtime_rollup(
        exports, tmp_path):
    # workspace_runtime_daily holds ended runs only. A running session in a new file, starting on the last day
    # of a run that had ended and began a day earlier, keeps that run running: the refresh sums every day from
    # the run's start again (not only from the new session's day, the first day of the added rows), so the
    # run's earlier day leaves the rollup as in a full check, and the outlook counts it live.
    store_dir, log = tmp_path / "state", []
    november = exports / "workspace_sessions" / "month=2026-11"
    _open(exports, store_dir).close()
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    joined = con.execute(
        f"select customer_id, workspace_id, started_at, ended_at from read_parquet('{november}/*.parquet') "
        "where ended_at > date_trunc('day', ended_at) + interval 1 minute and started_at < date_trunc('day', ended_at) "
        "and ended_at < timestamptz '2026-11-23 00:00:00+00' order by started_at limit 1").fetchone()
    assert joined  # (the sample has a session across a midnight in November)
    late = november / "part-9-late.parquet"  # sorts after November's part-0
    con.execute(f"copy (select * replace (date_trunc('day', ended_at) + interval 1 minute as started_at, "
                f"cast(null as timestamptz) as ended_at) from read_parquet('{november}/*.parquet') "
                f"where customer_id = $c and workspace_id = $w and started_at = $s) to '{late}' (format parquet)",
                {"c": joined[0], "w": joined[1], "s": joined[2]})
    con.close()
    refreshed = _open(exports, store_dir, log)
    memory = build(exports, NOW)
    try:
        assert "adding 1 new file of workspace_sessions (3/6)" in log, log
        assert not any(line.startswith("checking") for line in log), log
        day_before = joined[2].date()
        rows = [store.cursor().execute("select runtime_us from workspace_runtime_daily where customer_id = $c "
                                       "and day = $d", {"c": joined[0], "d": day_before}).fetchall()
                for store in (memory, refreshed)]
        assert rows[0] == rows[1]
        _assert_same(memory, refreshed)
    finally:
        memory.close()
        refreshed.close()


def test_a_relative_and_an_absolute_path_to_the_exports_share_one_store_file(exports, tmp_path, monkeypatch):
    store_dir, log = tmp_path / "state", []
    _open(exports, store_dir).close()
    monkeypatch.chdir(exports.parent)
    again = build(Path(exports.name), NOW, store_dir, progress=log.append)  # "data", not "/tmp/.../data"
    try:
        assert log == [] and again.made == "" and len(_files(store_dir)) == 1  # opened, not checked again
        assert all(Path(path).is_absolute() for report in again.reports.values() for path in report.files)
    finally:
        again.close()
    (tmp_path / "link").symlink_to(exports)  # a link to the folder is the same folder
    linked = build(tmp_path / "link" / ".." / "link", NOW, store_dir, progress=log.append)
    try:
        assert log == [] and linked.made == "" and len(_files(store_dir)) == 1
    finally:
        linked.close()


def test_a_new_file_whose_rows_are_all_refused_keeps_the_newest_event_and_is_reported(exports, tmp_path):
    store_dir = tmp_path / "state"
    _open(exports, store_dir).close()
    october = next((exports / "ai_usage" / "month=2026-10").glob("*.parquet"))
    late = exports / "ai_usage" / "month=2026-12" / "part-0.parquet"  # sorts last; every row negative
    late.parent.mkdir()
    duckdb.execute(f"copy (select * replace (-1 - requests as requests) from read_parquet('{october}') limit 4) "
                   f"to '{late}' (format parquet)")  # (the column keeps its type: another type checks all again)
    log = []
    refreshed, memory = _open(exports, store_dir, log), build(exports, NOW)
    try:
        assert refreshed.made == "refreshed" and "adding 1 new file of ai_usage (4/6)" in log
        assert refreshed.reports["ai_usage"] == memory.reports["ai_usage"]
        assert refreshed.reports["ai_usage"].newest is not None
    finally:
        refreshed.close()
        memory.close()


def test_buckets_in_time_order_are_kept_as_they_came_and_others_are_sorted(tmp_path):
    """Sorting 100M buckets took a third of a build, and dated exports come in time order: the store keeps
    them as they came unless DuckDB's min/max per row group shows they are not (then it sorts them). Either
    way a day is found in a few row groups, and every figure is the same."""
    from bench.generate import NOW as BENCH_NOW, generate

    generate(tmp_path / "ordered", 800_000, progress=lambda line: None)  # 7 row groups
    shuffled = tmp_path / "shuffled"
    shutil.copytree(tmp_path / "ordered", shuffled)
    parts = sorted((shuffled / "ai_usage").glob("*.parquet"))
    duckdb.execute(  # the same rows in one file, in an order unrelated to time
        f"copy (select * from read_parquet({[str(p) for p in parts]}) order by hash(customer_id, bucket_start, model)) "
        f"to '{shuffled / 'ai_usage' / 'all.parquet'}' (format parquet, row_group_size 122880)")
    for part in parts:
        part.unlink()
    stores = {}
    for name in ("ordered", "shuffled"):
        log = []
        stores[name] = build(tmp_path / name, BENCH_NOW, tmp_path / f"state-{name}", log.append)
        sorted_ = any(line.startswith("sorting ai_usage by time") for line in log)
        assert sorted_ == (name == "shuffled"), log
        assert checking.in_time_order(stores[name].cursor(), "ai_usage", "bucket_start")
    try:
        month = Period.month(2026, 10)
        found = [summary.summaries(stores[name], month, BENCH_NOW) for name in ("ordered", "shuffled")]
        assert list(found[0]) == list(found[1])
        for cid, figures in found[0].items():
            assert figures.providers == found[1][cid].providers and figures.ai_daily.equals(found[1][cid].ai_daily)
    finally:
        for store in stores.values():
            store.close()


def test_the_apps_store_hands_freed_memory_back_and_a_commands_does_not_bother(monkeypatch, tmp_path):
    """A server lives for days: its store asks DuckDB's allocator to return freed pages to the system (background
    threads, a 16 MB flush threshold); a store opened by a command keeps DuckDB's defaults."""
    from usage_analytics import caches, config

    monkeypatch.setenv("STATE_DIR", str(tmp_path))
    settings = "select current_setting('allocator_background_threads'), current_setting('allocator_flush_threshold')"
    served = caches.store(caches.source(config.load()))
    assert served.cursor().execute(settings).fetchone() == (True, "16MB")
    command = build(ROOT / "data", store_dir=tmp_path / "command")
    try:
        assert command.cursor().execute(settings).fetchone() == (False, "134217728B")
    finally:
        command.close()


def test_a_late_session_that_starts_a_run_earlier_on_its_day_is_numbered_in_the_refresh(exports, tmp_path):
    """A late file with a session that starts an hour before the first November session of a workspace and ends half
    an hour into it, on the same day: the refresh numbers the runs again from the day itself, not from the start of
    that day's first run (which left the new session out of every run: an hour of runtime missing), so the runs,
    the days and every figure are what a full check gives. The same user's later session it overlaps gets its
    previous end (workspace_user_sessions) again from the day, so runtime_by_user counts the overlap once."""
    store_dir, log = tmp_path / "state", []
    november = exports / "workspace_sessions" / "month=2026-11"
    _open(exports, store_dir).close()
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    late = november / "part-9-late.parquet"  # sorts after November's part-0
    con.execute(f"copy (select * replace (started_at - interval 1 hour as started_at, started_at + interval 30 minute "
                f"as ended_at) from read_parquet('{november}/*.parquet') where ended_at is not null "
                f"and started_at >= timestamptz '2026-11-01 01:00:00+00' order by started_at limit 1) "
                f"to '{late}' (format parquet)")
    customer, start = con.execute(f"select customer_id, started_at from read_parquet('{late}')").fetchone()
    con.close()
    refreshed = _open(exports, store_dir, log)
    memory = build(exports, NOW)
    try:
        assert f"numbering workspace_session_runs again from {start.date()}" in log, log
        assert f"refreshing workspace_user_sessions from {start.date()}" in log, log
        window = dict(customer_id=customer, period_start=PERIODS[1].start, period_end=PERIODS[1].end, now=NOW)
        hours = [store.run("runtime_by_user", **window) for store in (memory, refreshed)]
        assert hours[0].equals(hours[1]) and len(hours[0])
        _assert_same(memory, refreshed)
    finally:
        memory.close()
        refreshed.close()


def test_a_run_still_running_is_carried_into_the_months_a_refresh_adds_after_a_month_without_sessions(
        exports, tmp_path):
    """workspace_runtime_months carries a running run to the month of the newest session start. Sessions up to
    September with one running since September 20; October's never arrive and November's are added: the refresh
    makes October again too (not only the month of the first new row), so the running run has its October, as in a
    full check, and every customer's October reads it from the rollup."""
    store_dir, log = tmp_path / "state", []
    sessions = exports / "workspace_sessions"
    shutil.rmtree(sessions / "month=2026-10")
    (sessions / "month=2026-11").rename(tmp_path / "november")
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    running = sessions / "month=2026-09" / "part-9-running.parquet"
    con.execute(f"copy (select * replace (timestamptz '2026-09-20 08:00:00+00' as started_at, "
                f"cast(null as timestamptz) as ended_at, 'ws_carried' as workspace_id) "
                f"from read_parquet('{sessions}/month=2026-09/*.parquet') limit 1) to '{running}' (format parquet)")
    con.close()
    _open(exports, store_dir).close()  # sessions up to September
    (tmp_path / "november").rename(sessions / "month=2026-11")
    refreshed = _open(exports, store_dir, log)
    memory = build(exports, NOW)
    try:
        assert "adding 1 new file of workspace_sessions (3/6)" in log, log
        assert not any(line.startswith("checking") for line in log), log
        october = [store.cursor().execute("select runtime_us, last_end_at from workspace_runtime_months "
                                          "where month_end = '2026-10-31' and workspace_id = 'ws_carried'").fetchall()
                   for store in (memory, refreshed)]
        assert october[0] == october[1] == [(31 * 24 * 3600 * 10**6, datetime.max)]
        _assert_same(memory, refreshed)
    finally:
        memory.close()
        refreshed.close()
