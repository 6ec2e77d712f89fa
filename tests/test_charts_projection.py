"""Projection to an open period's end on the daily charts (issue 16): dashed bars of their own, never mixed into
the real ones. Values worked by hand; charts compared through chart.to_dict()."""
import math
from datetime import datetime, timezone
from decimal import Decimal

import pandas as pd
import pytest

from test_charts import utc
from usage_analytics import charts
from usage_analytics.periods import Period

NOVEMBER = Period.parse("2026-11")  # 30 days: Nov 01 00:00 .. Dec 01 00:00 UTC
NOON_24TH = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)  # half of Nov 24 and Nov 25..30 left: 6.5 days


def spans(days: pd.DataFrame) -> list[tuple]:
    return list(zip(days["start"], days["end"], days["bottom"], days["top"], days["label"]))


# --- projection_days --------------------------------------------------------------------------------------

def test_the_days_left_of_an_open_period_at_the_rate_and_todays_rest_on_its_bar():
    # rate 10 a day, now Nov 24 12:00: today's rest is half a day, 5.0, on top of the 3.0 today has so far;
    # Nov 25..30 are six whole days of 10 each, from 0
    days = charts.projection_days(NOVEMBER, NOON_24TH, 10.0, today_top=3.0)
    assert list(days.columns) == ["start", "end", "bottom", "top", "label"]
    assert spans(days) == [
        (utc("2026-11-24"), utc("2026-11-25"), 3.0, 8.0, "Nov 24 (today: projected rest, after 12:00 UTC)"),
        (utc("2026-11-25"), utc("2026-11-26"), 0.0, 10.0, "Nov 25 (projected)"),
        (utc("2026-11-26"), utc("2026-11-27"), 0.0, 10.0, "Nov 26 (projected)"),
        (utc("2026-11-27"), utc("2026-11-28"), 0.0, 10.0, "Nov 27 (projected)"),
        (utc("2026-11-28"), utc("2026-11-29"), 0.0, 10.0, "Nov 28 (projected)"),
        (utc("2026-11-29"), utc("2026-11-30"), 0.0, 10.0, "Nov 29 (projected)"),
        (utc("2026-11-30"), utc("2026-12-01"), 0.0, 10.0, "Nov 30 (projected)")]
    # the heights add up to the rate × the days left (6.5): 5 + 6 × 10 = 65, what outlook.projected adds
    assert (days["top"] - days["bottom"]).sum() == 65.0
    # without today's top, today's rest starts at 0
    assert spans(charts.projection_days(NOVEMBER, NOON_24TH, 10.0))[0][2:4] == (0.0, 5.0)


def test_at_midnight_today_is_a_whole_day_and_on_the_last_day_only_its_rest_is_left():
    midnight = datetime(2026, 11, 24, 0, 0, tzinfo=timezone.utc)
    days = charts.projection_days(NOVEMBER, midnight, 10.0, today_top=0.0)
    assert len(days) == 7 and list(days["top"] - days["bottom"]) == [10.0] * 7  # 7 whole days: 70
    # Nov 30 18:00: a quarter of the day left, 10 × 0.25 = 2.5, on the 4.0 so far; no later day
    evening = datetime(2026, 11, 30, 18, 0, tzinfo=timezone.utc)
    assert spans(charts.projection_days(NOVEMBER, evening, 10.0, today_top=4.0)) == [
        (utc("2026-11-30"), utc("2026-12-01"), 4.0, 6.5, "Nov 30 (today: projected rest, after 18:00 UTC)")]


@pytest.mark.parametrize("now, rate", [
    (datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc), 10.0),  # ended: its end is exclusive
    (datetime(2026, 10, 31, 23, 59, tzinfo=timezone.utc), 10.0),  # not started
    (NOON_24TH, 0.0),  # nothing used in the trailing 7 days: nothing to draw
    (NOON_24TH, -1.0),
    (NOON_24TH, math.nan),
])
def test_no_projection_outside_an_open_period_or_without_a_positive_rate(now, rate):
    days = charts.projection_days(NOVEMBER, now, rate)
    assert days.empty and list(days.columns) == ["start", "end", "bottom", "top", "label"]


def test_a_decimal_rate_is_drawn_as_float():
    # $24.50 over the trailing 7 days: $3.50 a day; half of today left: $1.75
    days = charts.projection_days(NOVEMBER, NOON_24TH, Decimal("24.50") / 7)
    assert list(days["top"])[:2] == [1.75, 3.5]
