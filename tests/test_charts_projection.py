"""Projection to an open period's end on the daily charts (issue 16): dashed bars of their own, never mixed into
the real ones. Values worked by hand; charts compared through chart.to_dict()."""
import json
import math
from datetime import date, datetime, timezone
from decimal import Decimal

import pandas as pd
import pytest

from test_charts import rows_of, utc  # noqa: F401 (helpers of the chart tests)
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


# --- on the charts ----------------------------------------------------------------------------------------

def runtime_rows():
    """Nov 23: gpu 8 hours; Nov 24 (today, to 12:00): standard 3 hours."""
    return pd.DataFrame({"day": [date(2026, 11, 23), date(2026, 11, 24)], "workspace_id": ["ws1", "ws2"],
                         "template": ["gpu", "standard"], "runtime_hours": [8.0, 3.0], "is_running": [False, True]})


def ai_rows():
    """Nov 23: openai $1.50 matched, anthropic $0.50 pending; Nov 24 (today): openai $0.25."""
    return pd.DataFrame({
        "day": [date(2026, 11, 23), date(2026, 11, 23), date(2026, 11, 24)],
        "provider": ["openai", "anthropic", "openai"], "model": ["m1", "m2", "m1"],
        "requests": [1, 2, 3], "input_tokens": [10, 20, 30], "cached_input_tokens": [0, 0, 0],
        "output_tokens": [1, 2, 3], "cost_usd": [Decimal("1.5"), Decimal("0.5"), Decimal("0.25")],
        "reconciliation_status": ["matched", "pending", "matched"]})


def test_runtime_projection_is_a_dashed_layer_of_its_own_on_top_of_todays_bar():
    plain = charts.runtime_over_time(runtime_rows(), period=NOVEMBER, now=NOON_24TH).to_dict()
    spec = charts.runtime_over_time(runtime_rows(), period=NOVEMBER, now=NOON_24TH, projection=10.0).to_dict()
    # the real layers are as they were, the projection two more: bars and the "projected" label
    assert spec["layer"][:3] == plain["layer"][:3] and len(spec["layer"]) == 5
    assert spec["encoding"] == plain["encoding"]  # same x, y (top..bottom), tooltips of the real bars
    bars, note = spec["layer"][3:]
    assert bars["mark"] == {"type": "bar", "filled": False, "stroke": "#7d8796", "strokeDash": [4, 3],
                            "strokeWidth": 1.5, "xOffset": 1.5, "x2Offset": -1.5}
    assert [(t["field"], t["title"], t.get("format")) for t in bars["encoding"]["tooltip"]] == [
        ("label", "day", None), ("part", "part", None), ("projected", "hours", ",.2f")]
    # the real rows, their tops and values are unchanged: nothing of the projection is stacked into them
    assert rows_of(spec).equals(rows_of(plain))
    assert list(zip(rows_of(spec)["template"], rows_of(spec)["bottom"], rows_of(spec)["top"])) == [
        ("gpu", 0.0, 8.0), ("standard", 0.0, 3.0)]
    # the projection's own rows: Nov 25..30 from 0 to 10 (today's rest is not drawn: it would cross its "so far")
    drawn = rows_of(spec, 3)
    assert list(drawn.columns) == ["start", "end", "bottom", "top", "label", "part", "projected"]
    assert list(zip(drawn["start"], drawn["bottom"], drawn["top"], drawn["projected"])) == [
        (utc(f"2026-11-{d}"), 0.0, 10.0, 10.0) for d in range(25, 31)]
    assert set(drawn["part"]) == {"projected"} and "template" not in drawn and "state" not in drawn
    # one label, over the days to come, right-aligned at the period's end (away from today's "so far")
    assert note["mark"]["type"] == "text" and note["mark"]["align"] == "right"
    label = rows_of(spec, 4)
    assert list(zip(pd.to_datetime(label["at"], utc=True), label["top"], label["note"])) == [
        (utc("2026-12-01"), 10.0, "projected")]
    assert note["encoding"]["tooltip"] == {"value": None}
    # "so far" still stands on today's real top, not the projection's
    assert list(rows_of(spec, 2)["top"]) == [3.0]


def test_the_projected_bars_share_the_y_scale_so_the_axis_reaches_them():
    spec = charts.runtime_over_time(runtime_rows(), period=NOVEMBER, now=NOON_24TH, projection=10.0).to_dict()
    # one y scale for all layers (no resolve, no layer's own y): its domain takes in the projection's tops (10)
    assert "resolve" not in spec
    assert all("y" not in layer.get("encoding", {}) or layer["mark"]["type"] == "text" for layer in spec["layer"])
    assert spec["encoding"]["y"]["field"] == "top" and spec["encoding"]["y2"]["field"] == "bottom"
    assert "domain" not in spec["encoding"]["y"].get("scale", {})


def test_managed_ai_cost_projection_is_in_dollars_and_tokens_get_none():
    now = NOON_24TH
    spec = charts.ai_over_time(ai_rows(), period=NOVEMBER, now=now, projection=2.0).to_dict()
    plain = charts.ai_over_time(ai_rows(), period=NOVEMBER, now=now).to_dict()
    assert rows_of(spec).equals(rows_of(plain)) and spec["layer"][:3] == plain["layer"][:3]
    bars = spec["layer"][3]
    assert bars["encoding"]["tooltip"][-1] == {"field": "projected", "type": "quantitative", "title": "cost (USD)",
                                               "format": "$,.2f"}
    drawn = rows_of(spec, 3)
    # Nov 25..30 at $2.00 (today's $0.25 so far keeps its label clear)
    assert list(zip(drawn["bottom"], drawn["top"])) == [(0.0, 2.0)] * 6
    # a token metric has no projection: the chart is the same as without one
    for metric in ("input_tokens", "output_tokens"):
        assert charts.ai_over_time(ai_rows(), metric, period=NOVEMBER, now=now, projection=2.0).to_dict() == \
            charts.ai_over_time(ai_rows(), metric, period=NOVEMBER, now=now).to_dict()


def test_without_usage_today_the_rest_of_today_starts_at_zero():
    rows = runtime_rows().iloc[:1]  # Nov 23 only
    spec = charts.runtime_over_time(rows, period=NOVEMBER, now=NOON_24TH, projection=4.0).to_dict()
    # no today's outline nor "so far": the projection's bars come right after the real ones
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["bar", "bar", "text"]
    assert spec["layer"][1]["mark"]["strokeDash"] == [4, 3]
    drawn = rows_of(spec, 1)
    assert list(zip(drawn["start"], drawn["bottom"], drawn["top"]))[:2] == [
        (utc("2026-11-24"), 0.0, 2.0), (utc("2026-11-25"), 0.0, 4.0)]


@pytest.mark.parametrize("grain, now", [
    ("week", NOON_24TH),  # by week: no projection
    ("day", datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)),  # November has ended
    ("day", datetime(2026, 10, 20, 9, 0, tzinfo=timezone.utc)),  # ... or not started
])
def test_by_week_or_outside_an_open_period_the_chart_is_exactly_as_without_a_projection(grain, now):
    for build in (lambda **kw: charts.runtime_over_time(runtime_rows(), grain, period=NOVEMBER, now=now, **kw),
                  lambda **kw: charts.ai_over_time(ai_rows(), grain=grain, period=NOVEMBER, now=now, **kw)):
        assert build(projection=10.0).to_dict() == build().to_dict() == build(projection=None).to_dict()


def test_the_chart_json_says_projected_and_draws_it_dashed():
    text = charts.runtime_over_time(runtime_rows(), period=NOVEMBER, now=NOON_24TH, projection=10.0).to_json()
    assert [layer["mark"].get("strokeDash") for layer in json.loads(text)["layer"]][3] == [4, 3]
    assert '"strokeDash"' in text and '"projected"' in text
    # with no projection neither appears
    assert "projected" not in charts.runtime_over_time(runtime_rows(), period=NOVEMBER, now=NOON_24TH).to_json()


def test_the_projection_is_keyword_only():
    with pytest.raises(TypeError):
        charts.runtime_over_time(runtime_rows(), "day", "template", NOVEMBER, NOON_24TH, 10.0)


def test_with_few_days_left_the_label_stands_over_the_highest_bar_a_line_up():
    """"projected" ends at the period's end and is about a sixth of a phone's plot wide: over fewer days to come
    than a sixth of the period (30 / 6 = 5 for November) it would run into the real bars before them."""
    def label(day: int):  # 12 hours the day before, 3 hours today (to 12:00)
        rows = pd.DataFrame({"day": [date(2026, 11, day - 1), date(2026, 11, day)], "workspace_id": ["ws1", "ws2"],
                             "template": ["gpu", "standard"], "runtime_hours": [12.0, 3.0],
                             "is_running": [False, True]})
        now = datetime(2026, 11, day, 12, 0, tzinfo=timezone.utc)
        spec = charts.runtime_over_time(rows, period=NOVEMBER, now=now, projection=10.0).to_dict()
        return rows_of(spec, 4)["top"].tolist(), spec["layer"][4]["mark"]["dy"]

    # Nov 25 12:00: Nov 26..30 are 5 days to come, 5 × 6 >= 30: over their tops (10), just above them
    assert label(25) == ([10.0], -3)
    # Nov 27 12:00: Nov 28..30 are 3: over the highest bar, Nov 26's 12 hours (today's: 3 + 5 = 8), a line up
    assert label(27) == ([12.0], -16)
