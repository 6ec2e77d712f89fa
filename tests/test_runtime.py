"""Runtime of workspace sessions: clipping, merging overlaps, exact day split (given/expect)."""
from datetime import date

import pytest

from conftest import at, session
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
