"""Charts: assert on chart.to_dict() (mark, fields, types), with literal frames; presets and sentences."""
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from usage_analytics import charts, periods
from usage_analytics.periods import Period, PeriodError


def ai_rows():
    return pd.DataFrame({
        "day": [date(2026, 3, 2), date(2026, 3, 2), date(2026, 3, 3)],
        "provider": ["openai", "anthropic", "openai"], "model": ["m1", "m2", "m1"],
        "requests": [1, 2, 3], "input_tokens": [10, 20, 30], "cached_input_tokens": [0, 0, 0],
        "output_tokens": [1, 2, 3], "cost_usd": [Decimal("1.5"), Decimal("2"), Decimal("0.25")],
        "reconciliation_status": ["matched", "pending", "mismatch"]})


def runtime_rows():
    return pd.DataFrame({"day": [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 9)],
                         "workspace_id": ["ws1", "ws2", "ws1"], "template": ["gpu", "standard", "gpu"],
                         "runtime_hours": [1.5, 2.0, 4.0], "is_running": [False, False, True]})


def encoding(chart):
    spec = chart.to_dict()
    return spec, spec["encoding"]


def test_unreconciled_managed_ai_cost_is_lighter_and_dashed():
    spec, enc = encoding(charts.ai_over_time(ai_rows()))
    assert spec["mark"]["type"] == "bar"
    assert enc["x"]["field"] == "period" and enc["x"]["type"] == "temporal"
    assert enc["y"]["field"] == "value" and enc["y"]["aggregate"] == "sum"
    assert enc["color"] == {"field": "provider", "type": "nominal", "title": "provider"}
    assert enc["opacity"]["field"] == "reconciliation"
    assert enc["opacity"]["scale"] == {"domain": ["reconciled", "not yet reconciled"], "range": [1.0, 0.35]}
    assert enc["strokeDash"]["scale"]["range"] == [[1, 0], [3, 2]]
    assert [t["title"] for t in enc["tooltip"]] == ["day", "provider", "reconciliation", "cost (USD)"]
    rows = pd.DataFrame(spec["datasets"][spec["data"]["name"]])
    # matched -> reconciled; pending and mismatch -> not yet; cost summed per day, provider and state
    assert sorted(zip(rows["provider"], rows["reconciliation"], rows["value"])) == [
        ("anthropic", "not yet reconciled", 2.0), ("openai", "not yet reconciled", 0.25),
        ("openai", "reconciled", 1.5)]


def test_managed_ai_by_model_and_tokens_per_week():
    spec, enc = encoding(charts.ai_over_time(ai_rows(), "input_tokens", "model", "week"))
    assert enc["color"]["field"] == "model" and enc["y"]["title"] == "input tokens"
    rows = pd.DataFrame(spec["datasets"][spec["data"]["name"]])
    assert set(pd.to_datetime(rows["period"]).dt.date) == {date(2026, 3, 2)}  # both days in the week of Monday 2nd


def test_runtime_per_week_starts_on_monday_and_sums_hours():
    spec, enc = encoding(charts.runtime_over_time(runtime_rows(), "week"))
    rows = pd.DataFrame(spec["datasets"][spec["data"]["name"]])
    weeks = sorted(zip(pd.to_datetime(rows["period"]).dt.date, rows["template"], rows["runtime_hours"]))
    assert weeks == [(date(2026, 3, 2), "gpu", 1.5), (date(2026, 3, 2), "standard", 2.0), (date(2026, 3, 9), "gpu", 4.0)]
    assert enc["x"]["title"] == "week starting (UTC)" and enc["color"]["field"] == "template"


def test_hours_by_workspace_is_sorted_largest_first():
    spec, enc = encoding(charts.hours_by(runtime_rows(), "workspace_id", color="template"))
    assert enc["y"]["sort"] == "-x" and enc["x"]["field"] == "runtime_hours"
    rows = spec["datasets"][spec["data"]["name"]]
    assert [(r["workspace_id"], r["runtime_hours"]) for r in rows] == [("ws1", 5.5), ("ws2", 2.0)]
    # a band per workspace: a fixed height shrank under the template legend until 7 workspaces overlapped
    assert spec["height"] == {"step": 24}


def test_reconciliation_calendar_has_one_cell_per_row_and_day_with_fixed_status_colours():
    days = charts.calendar_days(ai_rows(), "provider")
    assert list(zip(days["provider"], days["status"], days["cost_usd"])) == [
        ("anthropic", "pending", 2.0), ("openai", "matched", 1.5), ("openai", "mismatch", 0.25)]
    spec, enc = encoding(charts.reconciliation_calendar(days))
    assert spec["mark"]["type"] == "rect"
    assert enc["color"]["scale"]["domain"] == ["matched", "pending", "missing", "mismatch"]
    assert enc["color"]["scale"]["range"] == ["#2e8b57", "#f0b429", "#a0a7b4", "#d64545"]
    assert enc["y"]["field"] == "provider"
    # a band per row: a fixed height for three providers left no room under the axis and legend in the app
    assert spec["height"] == {"step": 26}


def test_every_chart_has_the_one_theme():
    for chart in (charts.ai_over_time(ai_rows()), charts.runtime_over_time(runtime_rows()),
                  charts.bars(pd.DataFrame({"c": ["a"], "v": [1.0]}), "c", "v", "v")):
        config = chart.to_dict()["config"]
        assert config["font"] == charts.FONT and config["range"]["category"] == charts.PALETTE


TODAY = date(2026, 11, 24)


@pytest.mark.parametrize("choice, first, last", [
    ("Calendar month", date(2026, 11, 1), date(2026, 11, 30)),
    ("Previous month", date(2026, 10, 1), date(2026, 10, 31)),
    ("Last 7 days", date(2026, 11, 18), date(2026, 11, 24)),
    ("Last 30 days", date(2026, 10, 26), date(2026, 11, 24)),
    ("Last 90 days", date(2026, 8, 27), date(2026, 11, 24)),
])
def test_period_presets_are_whole_utc_days_ending_today(choice, first, last):
    assert periods.preset(choice, TODAY) == Period(first, last)


def test_month_and_custom_choices():
    assert periods.preset("Calendar month", TODAY, month=Period.month(2026, 2)) == Period.month(2026, 2)
    assert periods.preset("Previous month", date(2026, 1, 15)) == Period.month(2025, 12)
    assert periods.preset("Custom range", TODAY, custom=(date(2026, 1, 1), date(2026, 1, 3))).days == 3
    assert [p.label for p in periods.recent_months(date(2026, 1, 5), 3)] == ["2026-01", "2025-12", "2025-11"]
    with pytest.raises(PeriodError, match="first and the last day"):
        periods.preset("Custom range", TODAY)
    with pytest.raises(PeriodError, match="ends before it starts"):
        periods.preset("Custom range", TODAY, custom=(date(2026, 1, 3), date(2026, 1, 1)))
