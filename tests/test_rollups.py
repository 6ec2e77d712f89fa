"""The daily rollups answer exactly what the hourly buckets answer, for any window and any 'now'.

Whole days come from ai_usage_daily and the days a window cuts from ai_usage itself (ai_usage_in); the
app's periods are whole UTC days, but 'now' cuts today and a comparison cuts a day in the past."""
import random
from datetime import datetime, timedelta

import pandas as pd
import pytest

SUMS = ("count(*) as metered_rows, sum(requests) as requests, sum(input_tokens) as input_tokens, "
        "sum(cached_input_tokens) as cached_input_tokens, sum(output_tokens) as output_tokens, "
        "sum(cost_usd) as cost_usd")
KEYS = "customer_id, day, provider, model"


def windows() -> list[tuple[datetime, datetime]]:
    chosen = random.Random(6)
    base = datetime(2026, 8, 1)
    found = [(datetime(2026, 10, 1), datetime(2026, 11, 1)),  # a closed month
             (datetime(2026, 11, 1), datetime(2026, 11, 24, 12)),  # this month to now
             (datetime(2026, 11, 24), datetime(2026, 11, 24, 12)),  # today only
             (datetime(2026, 10, 2), datetime(2026, 10, 25, 12)),  # a comparison's cut
             (datetime(2026, 11, 24, 3, 30), datetime(2026, 11, 24, 3, 30)),  # empty
             (datetime(2026, 11, 20, 5), datetime(2026, 11, 10))]  # end before start
    for _ in range(40):
        start = base + timedelta(minutes=chosen.randrange(0, 120 * 24 * 60, 30))
        found.append((start, start + timedelta(minutes=chosen.choice([0, 30, 60 * 23, 60 * 24, 60 * 49, 60 * 24 * 31])
                                               + chosen.randrange(0, 24 * 60, 30))))
    return found


@pytest.mark.parametrize("customer", [None, "cus_acme_robotics"])
def test_usage_in_any_window_from_rollups_equals_the_hourly_buckets(sample_store, customer):
    con = sample_store.cursor()
    checked = 0
    for start, end in windows():
        params = {"c": customer, "s": start, "e": end}
        rolled = con.execute(f"select {KEYS}, sum(metered_rows) as metered_rows, sum(requests) as requests, "
                         "sum(input_tokens) as input_tokens, sum(cached_input_tokens) as cached_input_tokens, "
                         "sum(output_tokens) as output_tokens, sum(cost_usd) as cost_usd "
                         f"from ai_usage_in($c, $s, $e) group by all order by all", params).fetchall()
        raw = con.execute(f"select customer_id, cast(bucket_start as date) as day, provider, model, {SUMS} "
                      "from ai_usage where ($c is null or customer_id = $c) and bucket_start >= $s "
                      "and bucket_start < $e group by all order by all", params).fetchall()
        assert rolled == raw, (start, end)
        checked += bool(raw)
    assert checked > 30  # most windows hold usage: the comparison is not of empty sets


def test_rollups_hold_every_checked_row_once(sample_store):
    con = sample_store.cursor()
    assert con.execute("select count(*), sum(cost_usd) from ai_usage").fetchone() == \
        con.execute("select sum(metered_rows), sum(cost_usd) from ai_usage_daily").fetchone()
    usage_days = con.execute("select count(*) from (select distinct customer_id, provider, cast(bucket_start as date) "
                         "from ai_usage)").fetchone()[0]
    assert con.execute("select count(*) filter (where first_bucket_start is not null) from ai_provider_days"
                   ).fetchone()[0] == usage_days


def test_runtime_rollup_holds_every_ended_run_split_at_midnights(sample_store):
    """workspace_runtime_daily: the runs that ended, split at UTC midnights (runtime_day_parts_in over all time,
    as of a now after every end), summed per customer and day, in whole microseconds."""
    con = sample_store.cursor()
    rolled = con.execute("select customer_id, day, runtime_us from workspace_runtime_daily order by all").fetchall()
    raw = con.execute("select customer_id, day, cast(round(sum(runtime_seconds) * 1000000) as bigint) "
                      "from runtime_day_parts_in(null, timestamp '2000-01-01', timestamp '2100-01-01', "
                      "timestamp '2100-01-01') where not is_running group by all order by all").fetchall()
    assert rolled == raw and len(raw) > 100
    running = con.execute("select count(*) from workspace_runs where ended_at is null").fetchone()[0]
    assert running > 0  # the sample has running sessions, which the rollup leaves to be counted live


def test_the_runs_still_running_are_kept_apart_by_customer(sample_store):
    """workspace_running_runs: every run of workspace_runs without an end (the look ahead counts them live), no
    other, kept by customer and start."""
    con = sample_store.cursor()
    kept = con.execute("select * from workspace_running_runs").fetchall()
    runs = con.execute("select * from workspace_runs where ended_at is null order by customer_id, started_at"
                       ).fetchall()
    assert kept == runs and len(runs) >= 2


def snapshots() -> list[tuple[datetime, datetime]]:
    """(as_of, now) pairs: a snapshot on an earlier day, on today's day, at a midnight, at now; windows of
    minutes, hours, days and months that cut their first day, today, both or neither."""
    chosen = random.Random(16)
    found = [(datetime(2026, 11, 1), datetime(2026, 11, 24, 12)),  # from a midnight to now
             (datetime(2026, 11, 24, 1), datetime(2026, 11, 24, 12)),  # the snapshot's day is today
             (datetime(2026, 11, 24, 12), datetime(2026, 11, 24, 12)),  # as_of is now: nothing
             (datetime(2026, 11, 23, 23, 59, 59), datetime(2026, 11, 24)),  # now at a midnight
             (datetime(2026, 10, 2, 7, 15), datetime(2026, 10, 25, 12)),  # both days cut
             (datetime(2026, 10, 2), datetime(2026, 10, 3)),  # one whole day
             (datetime(2026, 5, 1), datetime(2026, 11, 24, 12))]  # before the first session
    for _ in range(25):
        as_of = datetime(2026, 6, 1) + timedelta(minutes=chosen.randrange(0, 170 * 24 * 60, 7))
        found.append((as_of, as_of + timedelta(minutes=chosen.choice([0, 30, 60 * 23, 60 * 24, 60 * 49, 60 * 24 * 31])
                                                + chosen.randrange(0, 24 * 60, 7))))
    return found


@pytest.mark.parametrize("customer", [None, "cus_acme_robotics"])
def test_runtime_since_a_snapshot_from_the_rollup_equals_the_runs(sample_store, customer):
    """The outlook's runtime since a prepaid snapshot (whole days from workspace_runtime_daily; the days it cuts
    and the runs still running, live) is what the runtime rule gives on the runs themselves: runtime_runs_in
    from as_of to now, as of now. Each customer's snapshot is made prepaid at as_of (a temp table, in this
    cursor only), and the runtime of each snapshot's day before it summed again for them (runtime_before_snapshots,
    as a build makes it)."""
    from usage_analytics import sql

    con = sample_store.cursor()
    outlook = sql.load("outlook_since").text
    before = sql.rollups()["runtime_before_snapshots"].select
    checked = 0
    for as_of, now in snapshots():
        con.execute("create or replace temp table billing_accounts as select * replace "
                    "(cast($a as timestamp) as as_of, 'prepaid' as billing_mode) from main.billing_accounts "
                    "qualify row_number() over (partition by customer_id order by as_of desc) = 1", {"a": as_of})
        con.execute(f"create or replace temp table runtime_before_snapshots as {before}")
        found = dict(con.execute(f"select customer_id, runtime_hours_since from ({outlook})",
                                 {"customer_id": customer, "now": now}).fetchall())
        raw = dict(con.execute("select r.customer_id, sum(epoch(r.end_at - r.start_at)) / 3600.0 "
                               "from runtime_runs_in($c, $a, $n, $n) as r semi join billing_accounts using (customer_id) "
                               "group by all", {"c": customer, "a": as_of, "n": now}).fetchall())
        prepaid = {c for c, in con.execute("select customer_id from billing_accounts where $c is null "
                                           "or customer_id = $c", {"c": customer}).fetchall()}
        assert {c for c, h in found.items() if h is not None} == prepaid and {c: h for c, h in found.items() if h} == raw, (as_of, now)
        checked += bool(raw)
    con.execute("drop table temp.billing_accounts")
    con.execute("drop table temp.runtime_before_snapshots")
    assert checked > 20  # most snapshots have runtime since: the comparison is not of empty sets


def closed_months_and_nows() -> list[tuple[datetime, datetime, datetime]]:
    """(month start, month end, now): every month of the sample, as of its own end, a day later, and the sample's
    now; and as of a day inside it (not closed: from the runs)."""
    found = []
    for month in range(5, 12):
        start, end = datetime(2026, month, 1), datetime(2026 + month // 12, month % 12 + 1, 1)
        found += [(start, end, end), (start, end, end + timedelta(days=1)), (start, end, datetime(2026, 11, 24, 12)),
                  (start, end, start + timedelta(days=9, hours=7))]
    return found


def test_the_monthly_runtime_rollup_is_every_run_cut_by_its_month(sample_store):
    """workspace_runtime_months: per month, what runtime_day_parts_in gives with that month as the window, summed
    per customer and workspace (whether one runs compared as of several nows) and per day and template."""
    con = sample_store.cursor()
    for start, end, now in closed_months_and_nows():
        if now < end:
            continue
        month = {"m": (end - timedelta(days=1)).date()}
        window = {"s": start, "e": end, "n": now}
        rolled = con.execute("select customer_id, workspace_id, runtime_us, last_end_at > $n from "
                             "workspace_runtime_months where month_end = $m and customer_id is not null order by all",
                             {**month, "n": now}).fetchall()
        raw = con.execute("select customer_id, workspace_id, sum(runtime_us), bool_or(is_running) "
                          "from runtime_day_parts_in(null, $s, $e, $n) group by all order by all", window).fetchall()
        assert rolled == raw and raw, (start, now)
        rolled = con.execute("select day, template, runtime_us from workspace_runtime_months "
                             "where month_end = $m and customer_id is null order by all", month).fetchall()
        raw = con.execute("select day, template, sum(runtime_us) from runtime_day_parts_in(null, $s, $e, $n) "
                          "group by all order by all", window).fetchall()
        assert rolled == raw, (start, now)
    running = con.execute("select count(*) from workspace_runtime_months where last_end_at = 'infinity'").fetchone()[0]
    assert running > 0  # the sample's running runs are carried to the month of the newest session start


def test_every_customers_runtime_in_a_closed_month_from_the_rollup_is_what_the_runs_give(sample_store):
    """runtime_totals of every customer in a closed month reads the monthly rollup (and neither the runs nor their
    sessions); given a rollup that reaches no month (runtime_months_until before any) it splits the runs: the
    two give the same rows to the last bit. Any month not closed, and one customer's, are read from the runs."""
    from datetime import date

    from usage_analytics import sql

    text = sql.load("runtime_totals").text
    for start, end, now in closed_months_and_nows():
        for customer in (None, "cus_acme_robotics"):
            window = {"customer_id": customer, "period_start": start, "period_end": end, "now": now}
            rolled = sample_store.run("runtime_totals", **window)
            assert rolled.equals(sample_store.run("runtime_totals", **window, runtime_months_until=date.min)), window
            plan = "\n".join(row[1] for row in sample_store.cursor().execute(
                f"explain {text}", {**window, "runtime_months_until": sample_store.runtime_months_until}).fetchall())
            read = {table for table in ("workspace_runtime_months", "workspace_runs", "workspace_session_runs",
                                        "workspace_customer_sessions") if table in plan}
            if customer is None and now >= end:
                assert read == {"workspace_runtime_months"}, window
            else:
                assert "workspace_runtime_months" not in read, window


@pytest.mark.parametrize("name", ["reconciliation_summary", "ai_usage_by_provider"])
def test_every_customers_closed_month_from_a_monthly_rollup_is_each_customers_own_days(sample_store, name):
    """reconciliation_summary and ai_usage_by_provider of every customer in a closed month read one month's rows of
    ai_reconciliation_months and ai_provider_months (and no day of ai_provider_days or ai_usage_daily): the rows are
    each customer's own, whose queries sum its days."""
    from usage_analytics import sql

    text = sql.load(name).text
    customers = [c for c, in sample_store.cursor().execute("select customer_id from customers order by 1").fetchall()]
    read_monthly = 0
    for start, end, now in closed_months_and_nows():
        window = {"period_start": start, "period_end": end, "now": now}
        every = sample_store.run(name, customer_id=None, **window)
        each = [sample_store.run(name, customer_id=c, **window) for c in customers]
        each = [f for f in each if len(f)]
        assert every.equals(pd.concat(each, ignore_index=True)) if each else every.empty, window
        plan = "\n".join(row[1] for row in sample_store.cursor().execute(f"explain {text}", {
            **window, "customer_id": None}).fetchall())
        # (a month before the first export's has no rows to read: DuckDB's statistics drop the scan)
        if now >= end:
            assert "ai_provider_days" not in plan and "ai_usage_daily" not in plan, window
            read_monthly += "_months" in plan
        else:
            assert "_months" not in plan, window
    assert len(every) > 40 and read_monthly >= 5 * 3  # (every customer's providers; June to October, closed)


def test_the_first_open_day_as_of_any_now_is_the_earliest_open_day_kept(sample_store):
    """ai_first_open_days keeps one open day per customer and provider, the earliest: as of any now, the first open
    day reconciliation_summary gives is the earliest of every open day that counts then (usage before now, or a
    reconciliation row dated no later than today), found from ai_provider_days itself."""
    con = sample_store.cursor()
    nows = [datetime(2026, 5, 1), datetime(2026, 6, 3, 4), datetime(2026, 10, 31, 23), datetime(2026, 11, 24, 12),
            datetime(2026, 11, 24), datetime(2030, 1, 1)]
    seen = 0
    for now in nows:
        found = sample_store.run("reconciliation_summary", customer_id=None, period_start=datetime(2026, 10, 1),
                                 period_end=datetime(2026, 11, 1), now=now)
        found = {(r.customer_id, r.provider): (r.first_open_day, r.first_open_status)
                 for r in found.itertuples() if r.linked and not pd.isna(r.first_open_day)}
        raw = {(c, p): (d, s) for c, p, d, s in con.execute(
            "select customer_id, provider, min(day), arg_min(status, day) from ai_provider_days "
            "semi join provider_links using (customer_id, provider) where status <> 'matched' "
            "and (first_bucket_start < $n or (has_reconciliation and day <= cast($n as date))) group by all",
            {"n": now}).fetchall()}
        assert found == raw, now
        seen += len(raw)
    assert seen > 40


def test_the_buckets_before_each_prepaid_snapshot_in_its_month_are_summed_once(sample_store):
    """ai_before_snapshots: per prepaid snapshot and provider, the cost of the customer's buckets in the snapshot's
    month before as_of (what the usage since the snapshot takes away from that month), as the buckets themselves
    give it; none for a snapshot at the start of its month."""
    con = sample_store.cursor()
    rolled = con.execute("select customer_id, as_of, provider, cost_usd from ai_before_snapshots order by all"
                         ).fetchall()
    raw = con.execute(
        "select b.customer_id, b.as_of, u.provider, sum(u.cost_usd) from billing_accounts as b join ai_usage as u "
        "on u.customer_id = b.customer_id and u.bucket_start >= date_trunc('month', b.as_of) "
        "and u.bucket_start < b.as_of where b.billing_mode = 'prepaid' group by all order by all").fetchall()
    assert rolled == raw and len(raw) >= 5
    first = con.execute("select count(*) from ai_before_snapshots where as_of = date_trunc('month', as_of)").fetchone()
    assert first == (0,)


def test_rollups_made_month_by_month_hold_the_rows_of_their_select_in_its_order(sample_store, monkeypatch):
    # A big build makes these rollups a month at a time (rollups.MONTHLY_ROWS); the sample, made so, must give
    # each the rows its select gives at once, in the same order (the table's, which pages' scans skip by).
    from conftest import ROOT
    from usage_analytics import build, rollups, sql

    monthly = [r for r in sql.rollups().values() if r.by_month]
    assert {r.table for r in monthly} == {"ai_usage_daily", "ai_provider_days"}
    executed, roll_up = [], rollups.roll_up

    class Seen:  # the build's connection, noting each statement the rollups run
        def __init__(self, con):
            self._con = con

        def execute(self, statement, *args):
            executed.append(statement)
            return self._con.execute(statement, *args)

        def __getattr__(self, name):
            return getattr(self._con, name)

    monkeypatch.setattr(rollups, "MONTHLY_ROWS", 0)
    monkeypatch.setattr(rollups, "roll_up", lambda con, *args: roll_up(Seen(con), *args))
    store = build.build(ROOT / "data")
    try:
        con, whole = store.cursor(), sample_store.cursor()
        for rollup in monthly:
            rows = con.execute(f"select * from {rollup.table}").fetchall()
            assert rows == whole.execute(rollup.select).fetchall() and len(rows) > 100, rollup.table
            inserts = [s for s in executed if s.startswith(f"insert into \"{rollup.table}\" ")]
            assert len(inserts) >= 3, rollup.table  # the sample's months, a statement each
    finally:
        store.close()


def test_the_months_a_rollup_is_made_in_span_its_events_and_at_most_the_latest_36():
    from usage_analytics import rollups, sql
    from usage_analytics.validation import DatasetReport

    daily = sql.rollups()["ai_usage_daily"]

    def months(oldest: datetime, newest: datetime, rows: int = 6_000_000) -> list:
        found = rollups._months(daily, {"ai_usage": DatasetReport("ai_usage", rows_kept=rows, oldest=oldest,
                                                                  newest=newest)})
        return [(m.year, m.month, m.day) for m in found]

    thirteen = [(2025, 11, 1), (2025, 12, 1), *[(2026, m, 1) for m in range(1, 12)]]
    assert months(datetime(2025, 11, 1), datetime(2026, 11, 24, 12)) == thirteen
    assert months(datetime(2025, 11, 30, 23), datetime(2026, 11, 1)) == thirteen  # (by month, whatever the day)
    stray = months(datetime(1970, 1, 1), datetime(2026, 11, 24))  # one old event: the latest 36 months only
    assert len(stray) == 36 and stray[0] == (2023, 12, 1) and stray[-1] == (2026, 11, 1)
    assert months(datetime(2025, 11, 1), datetime(2026, 11, 24), rows=4_999_999) == []  # small: one statement
