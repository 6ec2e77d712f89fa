"""Runtime of workspace sessions: clipping, merging overlaps, exact day split (given/expect)."""
from datetime import date

import pytest

from conftest import at, customer, session
from usage_analytics.periods import Period

MARCH = Period.parse("2026-03")
LATER = at("2026-06-01 00:00")


def runtime(store, period=MARCH, now=LATER, customer="cus_a"):
    rows = store.run("runtime_by_workspace_day", customer_id=customer, period_start=period.start,
                     period_end=period.end, now=now)
    return [(r.day, r.workspace_id, r.template, round(r.runtime_hours, 6), bool(r.is_running))
            for r in rows.itertuples()]


def test_session_crossing_midnight_is_split_at_utc_midnight(exports):
    store = exports(workspace_sessions=[session("ws1", "2026-03-10 22:00", "2026-03-11 02:30")])
    assert runtime(store) == [
        (date(2026, 3, 10), "ws1", "standard", 2.0, False),
        (date(2026, 3, 11), "ws1", "standard", 2.5, False),
    ]


def test_session_crossing_a_month_edge_counts_only_the_part_inside_each_month(exports):
    store = exports(workspace_sessions=[session("ws1", "2026-02-28 20:00", "2026-03-01 04:15")])
    assert runtime(store) == [(date(2026, 3, 1), "ws1", "standard", 4.25, False)]
    assert runtime(store, Period.parse("2026-02")) == [(date(2026, 2, 28), "ws1", "standard", 4.0, False)]


def test_a_session_spanning_several_days_gives_full_days_between(exports):
    store = exports(workspace_sessions=[session("ws1", "2026-03-10 12:00", "2026-03-13 06:00")])
    assert [(r[0].day, r[3]) for r in runtime(store)] == [(10, 12.0), (11, 24.0), (12, 24.0), (13, 6.0)]


def test_overlapping_sessions_of_one_workspace_are_counted_once(exports):
    store = exports(workspace_sessions=[
        session("ws1", "2026-03-10 10:00", "2026-03-10 12:00"),
        session("ws1", "2026-03-10 11:00", "2026-03-10 14:00"),  # overlaps: union is 10:00-14:00
        session("ws1", "2026-03-10 14:00", "2026-03-10 15:00"),  # touches: 15:00
        session("ws1", "2026-03-10 16:00", "2026-03-10 20:00"),
        session("ws1", "2026-03-10 17:00", "2026-03-10 18:00"),  # nested inside 16:00-20:00
        session("ws2", "2026-03-10 10:00", "2026-03-10 12:00"),  # another workspace counts on its own
    ])
    assert runtime(store) == [
        (date(2026, 3, 10), "ws1", "standard", 9.0, False),
        (date(2026, 3, 10), "ws2", "standard", 2.0, False),
    ]


def test_overlap_across_midnight_is_merged_before_the_day_split(exports):
    store = exports(workspace_sessions=[
        session("ws1", "2026-03-10 20:00", "2026-03-11 01:00"),
        session("ws1", "2026-03-10 23:00", "2026-03-11 03:00"),
    ])
    assert [(r[0].day, r[3]) for r in runtime(store)] == [(10, 4.0), (11, 3.0)]


def test_running_session_counts_up_to_now(exports):
    store = exports(workspace_sessions=[session("ws1", "2026-03-15 09:00", None, template="gpu")])
    assert runtime(store, now=at("2026-03-15 12:30")) == [(date(2026, 3, 15), "ws1", "gpu", 3.5, True)]


def test_running_session_never_counts_past_the_period_end(exports):
    store = exports(workspace_sessions=[session("ws1", "2026-03-31 20:00", None)])
    now = at("2026-04-01 03:00")
    assert runtime(store, now=now) == [(date(2026, 3, 31), "ws1", "standard", 4.0, True)]
    assert runtime(store, Period.parse("2026-04"), now=now) == [(date(2026, 4, 1), "ws1", "standard", 3.0, True)]


def test_a_session_ending_after_now_is_running_and_counted_to_now(exports):
    store = exports(workspace_sessions=[session("ws1", "2026-03-15 09:00", "2026-03-15 18:00")])
    assert runtime(store, now=at("2026-03-15 10:00")) == [(date(2026, 3, 15), "ws1", "standard", 1.0, True)]


def test_sessions_outside_the_period_or_of_other_customers_count_nothing(exports):
    store = exports(workspace_sessions=[
        session("ws1", "2026-02-01 09:00", "2026-02-28 23:59"),
        session("ws1", "2026-02-27 09:00", "2026-03-01 00:00"),  # ends exactly at the period start
        session("ws1", "2026-04-01 00:00", "2026-04-02 00:00"),  # starts exactly at the period end
        session("ws9", "2026-03-10 09:00", "2026-03-10 10:00", customer="cus_b"),
        session("ws1", "2026-03-20 09:00", "2026-03-20 10:00"),  # starts after now
    ])
    assert runtime(store, now=at("2026-03-20 08:00")) == []


def test_template_of_a_merged_run_is_the_template_of_its_first_session(exports):
    store = exports(workspace_sessions=[
        session("ws1", "2026-03-10 10:00", "2026-03-10 12:00", template="large"),
        session("ws1", "2026-03-10 11:00", "2026-03-10 13:00", template="standard"),
    ])
    assert runtime(store) == [(date(2026, 3, 10), "ws1", "large", 3.0, False)]


@pytest.mark.parametrize("split", ["2026-03-10", "2026-03-11", "2026-03-17"])
def test_splitting_a_period_in_two_adds_up_to_the_whole(exports, split):
    store = exports(workspace_sessions=[
        session("ws1", "2026-03-09 22:00", "2026-03-11 02:00"),
        session("ws2", "2026-03-10 23:30", None),
    ])
    now = at("2026-03-18 06:00")
    whole = sum(r[3] for r in runtime(store, now=now))
    first = Period.parse(f"2026-03-01..{split}")
    second = Period(first.last_day.replace(day=first.last_day.day + 1), MARCH.last_day)
    parts = sum(r[3] for p in (first, second) for r in runtime(store, p, now=now))
    assert parts == pytest.approx(whole, abs=1e-9)
    assert whole == pytest.approx((2 + 24 + 2) + (0.5 + 24 * 7 + 6))  # ws1 28 h, ws2 to now 174.5 h


def totals(store, period, now, customer=None):
    rows = store.run("runtime_totals", customer_id=customer, period_start=period.start, period_end=period.end, now=now)
    customers = rows["customer_id"].notna()
    return ([(r.customer_id, round(r.runtime_hours, 6), int(r.active_workspaces), bool(r.is_running),
              int(r.running_workspaces)) for r in rows[customers].itertuples()],
            [(r.day, r.template, round(r.runtime_hours, 6)) for r in rows[~customers].itertuples()])


def test_every_customers_closed_month_is_read_from_the_monthly_rollup_with_the_runs_its_edges_cut(exports):
    """A closed month of every customer comes from workspace_runtime_months (runs cut by the month, merged from
    their sessions at its edges); the month after the newest session start, and one customer's, from the runs."""
    store = exports(customers=[customer(), customer("cus_b", "Customer B")], workspace_sessions=[
        session("ws1", "2026-02-28 20:00", "2026-03-01 04:15", template="large"),  # crosses into March, and
        session("ws1", "2026-03-01 03:00", "2026-03-01 05:00"),  # joins it: March holds 00:00-05:00, "large"
        session("ws2", "2026-03-10 10:00", "2026-03-10 12:00"),  # whole in March
        session("ws3", "2026-03-31 22:00", "2026-07-01 00:00"),  # into April, ending after now: running
        session("ws4", "2026-03-30 12:00", None, template="gpu"),  # running
        session("ws9", "2026-03-05 00:00", "2026-03-05 01:00", customer="cus_b"),
    ])
    assert store.runtime_months_until == date(2026, 3, 31)  # the month of the newest session start (not ws3's end)
    march = ([("cus_a", 5 + 2 + 2 + 36.0, 4, True, 2), ("cus_b", 1.0, 1, False, 0)],
             [(date(2026, 3, 1), "large", 5.0), (date(2026, 3, 5), "standard", 1.0),
              (date(2026, 3, 10), "standard", 2.0), (date(2026, 3, 30), "gpu", 12.0),
              (date(2026, 3, 31), "gpu", 24.0), (date(2026, 3, 31), "standard", 2.0)])
    assert totals(store, MARCH, LATER) == march
    rolled = store.cursor().execute("select customer_id, workspace_id, runtime_us, last_end_at from "
                                    "workspace_runtime_months where month_end = '2026-03-31' and customer_id "
                                    "is not null order by all").fetchall()
    assert [r[:3] for r in rolled] == [("cus_a", "ws1", 5 * 3600 * 10**6), ("cus_a", "ws2", 2 * 3600 * 10**6),
                                       ("cus_a", "ws3", 2 * 3600 * 10**6), ("cus_a", "ws4", 36 * 3600 * 10**6),
                                       ("cus_b", "ws9", 3600 * 10**6)]
    assert totals(store, MARCH, LATER, "cus_a")[0] == march[0][:1]  # one customer's, from its runs, the same
    april = Period.parse("2026-04")  # closed, but after the rollup's last month: from the runs
    every_day = [(date(2026, 4, d), t, 24.0) for d in range(1, 31) for t in ("gpu", "standard")]
    assert totals(store, april, LATER) == ([("cus_a", 2 * 720.0, 2, True, 2)], every_day)
    # March as of a day in it (open): from the runs, ws3 not started yet and ws4 up to now
    assert totals(store, MARCH, at("2026-03-31 00:00"))[0] == [("cus_a", 5 + 2 + 12.0, 3, True, 1),
                                                                ("cus_b", 1.0, 1, False, 0)]
