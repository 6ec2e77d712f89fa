"""Charts: assert on chart.to_dict() (mark, fields, types), with literal frames; presets and sentences."""
import zlib
from datetime import date, datetime, timezone
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


def rows_of(spec, layer=None) -> pd.DataFrame:
    """The rows a chart (or one layer with its own data) draws, times back as UTC timestamps."""
    data = spec["layer"][layer]["data"] if layer is not None and "data" in spec["layer"][layer] else spec["data"]
    rows = pd.DataFrame(spec["datasets"][data["name"]])
    for column in ("start", "end", "day", "mid"):
        if column in rows:
            rows[column] = pd.to_datetime(rows[column], utc=True)
    return rows


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def ms(text: str) -> int:
    return int(utc(text).timestamp() * 1000)


MARCH = Period.month(2026, 3)
NOON_3RD = datetime(2026, 3, 3, 12, 0, tzinfo=timezone.utc)


def test_unreconciled_managed_ai_cost_is_lighter_and_dashed_and_today_is_outlined_as_partial():
    spec, enc = encoding(charts.ai_over_time(ai_rows(), period=MARCH, now=NOON_3RD))
    bars, outline, note = spec["layer"]
    assert bars["mark"]["type"] == "bar" and outline["mark"] == {"type": "bar", "filled": False, "xOffset": 1.5,
                                                                  "x2Offset": -1.5, "strokeWidth": 2}
    assert enc["x"]["field"] == "start" and enc["x"]["type"] == "temporal" and enc["x2"]["field"] == "end"
    assert enc["y"]["field"] == "top" and enc["y2"]["field"] == "bottom"
    today = "today, to 12:00 UTC (partial)"
    states = ["reconciled", "not yet reconciled", today]
    assert bars["encoding"]["opacity"]["scale"] == {"domain": states, "range": [1.0, 0.35, 0.2]}
    assert bars["encoding"]["strokeDash"]["scale"]["range"] == [[1, 0], [3, 2], [1, 0]]
    assert bars["encoding"]["strokeWidth"]["scale"]["range"] == [0.0, 1.0, 2.0]
    assert outline["transform"] == [{"filter": f"(datum.state === '{today}')"}]  # only today's part is outlined
    assert [t["title"] for t in enc["tooltip"]] == ["day", "provider", "part", "cost (USD)"]
    rows = rows_of(spec)
    # Mar 2: openai 1.5 matched -> reconciled, at the bottom; anthropic 2 pending -> not yet, on top of it.
    # Mar 3 is today (now is 12:00): openai's 0.25 mismatch is drawn as today's partial part, not as not yet.
    assert list(zip(rows["start"], rows["provider"], rows["state"], rows["value"], rows["bottom"], rows["top"])) == [
        (utc("2026-03-02"), "openai", "reconciled", 1.5, 0.0, 1.5),
        (utc("2026-03-02"), "anthropic", "not yet reconciled", 2.0, 1.5, 3.5),
        (utc("2026-03-03"), "openai", today, 0.25, 0.0, 0.25)]
    assert list(rows["end"]) == [utc("2026-03-03"), utc("2026-03-03"), utc("2026-03-04")]  # a day wide
    assert list(rows["label"]) == ["Mar 02", "Mar 02", "Mar 03 (today, partial: to 12:00 UTC)"]
    notes = rows_of(spec, 2)  # "so far" over the bar that holds now
    assert list(zip(notes["mid"], notes["top"], notes["note"])) == [(utc("2026-03-03 12:00"), 0.25, "so far")]
    # the whole period is the axis: the days after now are there, empty
    assert enc["x"]["scale"] == {"type": "utc", "domain": [ms("2026-03-01"), ms("2026-04-01")], "nice": False}


def test_without_now_nothing_is_partial_and_the_axis_spans_the_days_drawn():
    spec, enc = encoding(charts.ai_over_time(ai_rows()))
    assert len(spec["layer"]) == 1
    assert spec["layer"][0]["encoding"]["opacity"]["scale"]["domain"] == ["reconciled", "not yet reconciled"]
    assert enc["x"]["scale"]["domain"] == [ms("2026-03-02"), ms("2026-03-04")]


def test_managed_ai_by_model_and_tokens_per_week():
    spec, enc = encoding(charts.ai_over_time(ai_rows(), "input_tokens", "model", "week", MARCH))
    assert spec["layer"][0]["encoding"]["color"]["field"] == "model" and enc["y"]["title"] == "input tokens"
    rows = rows_of(spec)
    # both days in the ISO week of Monday 2nd; m1 (10 + 30 tokens) outranks m2 (20)
    assert list(zip(rows["start"], rows["end"], rows["model"], rows["state"], rows["value"])) == [
        (utc("2026-03-02"), utc("2026-03-09"), "m1", "reconciled", 10.0),
        (utc("2026-03-02"), utc("2026-03-09"), "m1", "not yet reconciled", 30.0),
        (utc("2026-03-02"), utc("2026-03-09"), "m2", "not yet reconciled", 20.0)]


def test_weeks_are_iso_weeks_cut_to_the_period_and_say_partial():
    """November 2026 begins on a Sunday and ends on a Monday: its first and last weeks are one day long."""
    november = Period.month(2026, 11)
    days = pd.Series([date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 8), date(2026, 11, 29),
                      date(2026, 11, 30)])
    bins = charts.bins(days, "week", november)
    assert list(zip(bins["start"], bins["end"], bins["label"])) == [
        (utc("2026-11-01"), utc("2026-11-02"), "Nov 01 (partial)"),  # week of Mon Oct 26, from the period's start
        (utc("2026-11-02"), utc("2026-11-09"), "Nov 02–08"),
        (utc("2026-11-02"), utc("2026-11-09"), "Nov 02–08"),
        (utc("2026-11-23"), utc("2026-11-30"), "Nov 23–29"),
        (utc("2026-11-30"), utc("2026-12-01"), "Nov 30 (partial)")]  # week of Mon Nov 30, to the period's end
    # a week across a month end, cut at both ends of a custom period
    bins = charts.bins(pd.Series([date(2026, 10, 28), date(2026, 11, 3)]), "week", Period(date(2026, 10, 28),
                                                                                         date(2026, 11, 3)))
    assert list(bins["label"]) == ["Oct 28–Nov 01 (partial)", "Nov 02–03 (partial)"]
    # the week that holds now says so
    now = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)
    assert charts.bins(pd.Series([date(2026, 11, 23)]), "week", november, now)["label"][0] == \
        "Nov 23–29 (so far: to Nov 24 12:00 UTC)"


def test_runtime_per_week_draws_week_wide_bars_on_a_week_axis():
    period = Period(date(2026, 3, 3), date(2026, 3, 12))  # Tue 3rd .. Thu 12th
    rows = runtime_rows().assign(day=[date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 9)])
    spec, enc = encoding(charts.runtime_over_time(rows, "week", period=period))
    drawn = rows_of(spec)
    assert list(zip(drawn["start"], drawn["end"], drawn["label"], drawn["template"], drawn["runtime_hours"])) == [
        (utc("2026-03-03"), utc("2026-03-09"), "Mar 03–08 (partial)", "gpu", 1.5),
        (utc("2026-03-03"), utc("2026-03-09"), "Mar 03–08 (partial)", "standard", 2.0),
        (utc("2026-03-09"), utc("2026-03-13"), "Mar 09–12 (partial)", "gpu", 4.0)]
    x = enc["x"]
    assert x["title"] == "ISO week, Monday to Sunday (UTC)"
    assert x["scale"]["domain"] == [ms("2026-03-03"), ms("2026-03-13")]
    # a tick in the middle of each (cut) week: Mar 3 + 3 days, Mar 9 + 2 days; its label on two lines
    assert x["axis"]["values"] == [
        {"year": 2026, "month": 3, "date": 6, "hours": 0, "minutes": 0, "utc": True},
        {"year": 2026, "month": 3, "date": 11, "hours": 0, "minutes": 0, "utc": True}]
    assert x["axis"]["labelExpr"].startswith("[['Mar 03–08','(partial)'],['Mar 09–12','(partial)']][indexof(")


def test_runtime_today_is_drawn_as_partial_up_to_now():
    now = datetime(2026, 3, 9, 8, 30, tzinfo=timezone.utc)
    spec, enc = encoding(charts.runtime_over_time(runtime_rows(), period=MARCH, now=now))
    today = "today, to 08:30 UTC (partial)"
    assert spec["layer"][0]["encoding"]["opacity"]["scale"] == {"domain": ["whole day", today], "range": [1.0, 0.2]}
    drawn = rows_of(spec)
    assert list(zip(drawn["start"], drawn["state"], drawn["runtime_hours"])) == [
        (utc("2026-03-02"), "whole day", 1.5), (utc("2026-03-03"), "whole day", 2.0), (utc("2026-03-09"), today, 4.0)]
    assert drawn["label"].iloc[-1] == "Mar 09 (today, partial: to 08:30 UTC)"
    assert enc["x"]["title"] == "day (UTC)"


def customers_rows(count: int) -> pd.DataFrame:
    """count customers on one day: customer 01 ran 1 hour, customer 02 2 hours, ..."""
    return pd.DataFrame({"day": [date(2026, 3, 2)] * count, "workspace_id": [f"ws{i}" for i in range(count)],
                         "template": ["gpu"] * count, "runtime_hours": [float(i + 1) for i in range(count)],
                         "is_running": [False] * count, "customer": [f"C{i + 1:02d}" for i in range(count)]})


def test_more_than_ten_series_are_the_top_nine_and_other():
    frame, names, other = charts.top_series(customers_rows(12), "customer", "runtime_hours")
    # 12 customers: C12 .. C04 (12 .. 4 hours) kept, C03 + C02 + C01 = 3 + 2 + 1 = 6 hours as "other (3)"
    assert names == ["C12", "C11", "C10", "C09", "C08", "C07", "C06", "C05", "C04", "other (3)"]
    assert frame.groupby("customer")["runtime_hours"].sum()["other (3)"] == 6.0
    assert charts.top_series(customers_rows(10), "customer", "runtime_hours")[2] is None  # ten fit
    spec, _ = encoding(charts.runtime_over_time(customers_rows(12), by="customer"))
    color = spec["layer"][0]["encoding"]["color"]
    assert color["scale"]["domain"] == names and color["scale"]["range"][-1] == charts.OTHER_COLOUR
    assert len(set(color["scale"]["range"])) == 10  # ten colours for ten series
    drawn = rows_of(spec)
    assert drawn.loc[drawn["customer"] == "other (3)", "runtime_hours"].tolist() == [6.0]
    assert drawn["runtime_hours"].sum() == sum(range(1, 13))  # nothing lost
    # the legend wraps into as many columns as the chart is wide, and never cuts a label wider than the chart
    legend = color["legend"]
    assert legend["columns"] == charts.columns(names).to_dict()
    assert legend["labelLimit"] == {"expr": "min(160, max(60, width - 40))"}


def test_a_legend_takes_as_many_columns_as_its_plot_is_wide():
    # 40 px of symbol and padding + 6.8 px a character: "ten chars!" 108 px, "a" 46.8 px, "b" 46.8 px.
    # Three columns: 108 + 46.8 + 46.8 + 16 = 217.6; two: column 1 holds entries 1 and 3 (max 108),
    # column 2 entry 2 (46.8): 108 + 46.8 + 16 = 170.8; else one.
    assert charts.columns(["ten chars!", "a", "b"]).to_dict() == {
        "expr": "width >= 218 ? 3 : (width >= 171 ? 2 : (1))"}
    # a label is counted at most at its limit (160 px): 40 + 160 = 200 each
    assert charts.columns(["x" * 50, "y" * 50]).to_dict() == {"expr": "width >= 416 ? 2 : (1)"}


def test_a_name_has_one_colour_on_every_chart():
    # gpt-4.1 and gpt-4.1-mini share slot 4 of 10 (CRC-32 mod 10): on one chart the first alphabetically keeps
    # it and the other takes the next free one
    assert len(charts.PALETTE) == 10
    assert zlib.crc32(b"gpt-4.1") % 10 == zlib.crc32(b"gpt-4.1-mini") % 10 == 4
    assert charts.series_colours(["gpt-4.1-mini", "gpt-4.1"]) == {"gpt-4.1-mini": charts.PALETTE[5],
                                                                  "gpt-4.1": charts.PALETTE[4]}
    assert charts.series_colours(["gpt-4.1-mini"]) == {"gpt-4.1-mini": charts.PALETTE[4]}
    # ... but with the page's names as the universe, one chart that draws gpt-4.1-mini alone agrees with another
    assert charts.series_colours(["gpt-4.1-mini"], ["gpt-4.1", "gpt-4.1-mini"]) == {"gpt-4.1-mini": charts.PALETTE[5]}
    # openai (slot 6), anthropic (9), google (5): the same colour whatever else a chart draws
    one = charts.series_colours(["openai", "anthropic"])
    two = charts.series_colours(["google", "openai"])
    assert one["openai"] == two["openai"] == charts.PALETTE[6] and one["anthropic"] == charts.PALETTE[9]
    assert two["google"] == charts.PALETTE[5]

    def colours(color: dict) -> dict:
        return dict(zip(color["scale"]["domain"], color["scale"]["range"]))

    # the runtime page: the template colours of the time chart, of the template bars and of the top workspaces
    # (a subset: only ws1 with limit=1) are the same
    over_time = colours(charts.runtime_over_time(runtime_rows()).to_dict()["layer"][0]["encoding"]["color"])
    by_template = colours(charts.hours_by(runtime_rows(), "template").to_dict()["encoding"]["color"])
    top = colours(charts.hours_by(runtime_rows(), "workspace_id", color="template", limit=1).to_dict()["encoding"]["color"])
    assert over_time == by_template == {"gpu": charts.PALETTE[6], "standard": charts.PALETTE[3]}
    assert top == {"gpu": charts.PALETTE[6]}
    # "gpu-a100" and "standard" share slot 3: gpu-a100 keeps it, standard takes 4 -- also on the top-workspaces
    # chart that draws standard alone, since the page's frame (both templates) is what it resolves over
    assert zlib.crc32(b"gpu-a100") % 10 == zlib.crc32(b"standard") % 10 == 3
    both = runtime_rows().assign(template=["gpu-a100", "standard", "gpu-a100"], runtime_hours=[1.0, 9.0, 2.0])
    over_time = colours(charts.runtime_over_time(both).to_dict()["layer"][0]["encoding"]["color"])
    top = colours(charts.hours_by(both, "workspace_id", color="template", limit=1).to_dict()["encoding"]["color"])
    assert over_time == {"standard": charts.PALETTE[4], "gpu-a100": charts.PALETTE[3]}
    assert top == {"standard": charts.PALETTE[4]}
    ai = colours(charts.ai_over_time(ai_rows()).to_dict()["layer"][0]["encoding"]["color"])
    assert ai == {"anthropic": charts.PALETTE[9], "openai": charts.PALETTE[6]}


def test_hours_by_workspace_is_sorted_largest_first():
    spec, enc = encoding(charts.hours_by(runtime_rows(), "workspace_id", color="template"))
    assert enc["y"]["sort"] == "-x" and enc["x"]["field"] == "runtime_hours"
    rows = spec["datasets"][spec["data"]["name"]]
    assert [(r["workspace_id"], r["runtime_hours"]) for r in rows] == [("ws1", 5.5), ("ws2", 2.0)]
    # a band per workspace: a fixed height shrank under the template legend until 7 workspaces overlapped
    assert spec["height"] == {"step": 24}
    # names take at most 40% of a narrow chart (a phone), 220 px on a wide one
    assert enc["y"]["axis"]["labelLimit"] == {"expr": "min(220, max(70, containerSize()[0] * 0.4))"}


def calendar_rows():
    """Given now = Mar 4 10:00 UTC: Mar 4 is today and Mar 3 yesterday (not yet due), Mar 2 is due."""
    return pd.DataFrame({
        "day": [date(2026, 3, 2), date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 3), date(2026, 3, 4)],
        "provider": ["openai", "anthropic", "openai", "google", "openai"],
        "cost_usd": [Decimal("1.5"), Decimal("2"), Decimal("0.25"), Decimal("1"), Decimal("3")],
        "reconciliation_status": ["matched", "pending", "mismatch", "missing", "missing"]})


NOW_4TH = datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc)


def test_days_not_yet_due_are_not_drawn_as_missing_or_pending():
    days = charts.calendar_days(calendar_rows(), "provider", NOW_4TH)
    assert list(zip(days["provider"], days["day"].dt.date, days["status"], days["recorded"])) == [
        ("anthropic", date(2026, 3, 2), "pending", "pending"),  # due: pending stays pending
        ("google", date(2026, 3, 3), "not yet due", "missing"),  # yesterday: not missing, not yet due
        ("openai", date(2026, 3, 2), "matched", "matched"),
        ("openai", date(2026, 3, 3), "mismatch", "mismatch"),  # a result already in is shown as it is
        ("openai", date(2026, 3, 4), "not yet due", "missing")]  # today
    assert list(charts.not_yet_due(pd.Series([date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]), NOW_4TH)) == \
        [False, True, True]
    # without now nothing is re-read
    assert list(charts.calendar_days(calendar_rows(), "provider")["status"]) == [
        "pending", "missing", "matched", "mismatch", "missing"]


def test_reconciliation_calendar_has_a_glyph_per_status_besides_its_colour():
    days = charts.calendar_days(calendar_rows(), "provider", NOW_4TH)
    spec, enc = encoding(charts.reconciliation_calendar(days, period=MARCH, now=NOW_4TH))
    rect, text = spec["layer"]
    assert rect["mark"]["type"] == "rect" and text["mark"]["type"] == "text"
    color = rect["encoding"]["color"]
    assert color["scale"]["domain"] == ["✓ matched", "… pending", "? missing", "✕ mismatch", "◷ not yet due"]
    assert color["scale"]["range"] == ["#2e8b57", "#f0b429", "#a0a7b4", "#d64545", "#e9edf2"]
    assert text["encoding"]["text"]["field"] == "glyph"
    drawn = rows_of(spec)
    assert list(zip(drawn["provider"], drawn["glyph"], drawn["key"])) == [
        ("anthropic", "…", "… pending"), ("google", "◷", "◷ not yet due"), ("openai", "✓", "✓ matched"),
        ("openai", "✕", "✕ mismatch"), ("openai", "◷", "◷ not yet due")]
    assert drawn["label"].iloc[-1] == "Mar 04 (today, partial: to 10:00 UTC)"
    assert enc["y"]["field"] == "provider" and enc["y"]["sort"] == "ascending"
    # a band per row: a fixed height for three providers left no room under the axis and legend in the app
    assert spec["height"] == {"step": 26}
    # March has 31 days: a glyph shrinks with its cell and is left out below 7 px
    assert text["mark"]["fontSize"] == {"expr": "clamp((width / 31) - 1, 7, 12)"}
    assert rect["encoding"]["x"]["scale"]["domain"] == [ms("2026-03-01"), ms("2026-04-01")]


def test_the_calendar_keeps_the_order_it_is_given():
    days = charts.calendar_days(calendar_rows(), "provider", NOW_4TH)
    spec, enc = encoding(charts.reconciliation_calendar(days, "provider", ["openai", "google", "anthropic"]))
    assert enc["y"]["sort"] == ["openai", "google", "anthropic"]


def test_a_customer_provider_row_name_takes_two_lines_on_a_narrow_screen():
    """On a phone the row names are cut to 90 px: "Umbrella Analytics · anthropic" and "· openai" both read
    "Umbrella Anal…". Narrower than 640 px, a name is split at its last " · " (a customer's own name may hold
    one; a provider's does not), the customer's name on the first line and the provider on the second, each cut
    alone; wider, and for a provider alone, the name is drawn as it is."""
    days = charts.calendar_days(calendar_rows(), "provider", NOW_4TH)
    axis = encoding(charts.reconciliation_calendar(days))[1]["y"]["axis"]
    assert axis["labelExpr"] == (
        "containerSize()[0] < 640 && lastindexof(datum.label, ' · ') > 0 ? "
        "[substring(datum.label, 0, lastindexof(datum.label, ' · ')), "
        "substring(datum.label, lastindexof(datum.label, ' · ') + 3)] : datum.label")
    assert axis["labelOverlap"] is False  # (two lines in a 26 px row: Vega would hide every other name)
    assert axis["labelFontSize"] == {"expr": "containerSize()[0] < 640 ? 10 : 11"} and axis["labelLineHeight"] == 11


def test_every_chart_has_the_one_theme_and_fits_the_width_it_is_given():
    days = charts.calendar_days(calendar_rows(), "provider", NOW_4TH)
    for chart in (charts.ai_over_time(ai_rows()), charts.runtime_over_time(runtime_rows()),
                  charts.hours_by(runtime_rows(), "template"), charts.reconciliation_calendar(days),
                  charts.bars(pd.DataFrame({"c": ["a"], "v": [1.0]}), "c", "v", "v")):
        spec = chart.to_dict()
        assert spec["config"]["font"] == charts.FONT and spec["config"]["range"]["category"] == charts.PALETTE
        # as wide as the container (Streamlit's width), as tall as the plot and its legends need
        assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}


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


def test_no_chart_is_built_through_altairs_from_dict(monkeypatch):
    """Every channel is given as an object and the look is set in one step (charts.CONFIG): Altair turns a
    "field:type" string or an alt.value() dict into an object through SchemaBase.from_dict, which hashes its whole
    schema on every call (about 7 ms each, several per chart, on every page run). Counted, not timed."""
    import altair as alt
    calls = []
    real = alt.SchemaBase.from_dict.__func__
    monkeypatch.setattr(alt.SchemaBase, "from_dict",
                        classmethod(lambda cls, *args, **kwargs: calls.append(cls.__name__) or real(cls, *args, **kwargs)))
    monkeypatch.setattr(charts, "_built", type(charts._built)())  # (built here, not handed out from earlier tests)
    period, now = Period.parse("2026-03"), datetime(2026, 3, 3, 12, tzinfo=timezone.utc)
    built = [charts.runtime_over_time(runtime_rows(), "day", "template", period, now, projection=2.0),
             charts.runtime_over_time(runtime_rows(), "week", "workspace_id", period, now),
             charts.ai_over_time(ai_rows(), "cost_usd", "provider", "day", period, now, projection=1.0),
             charts.hours_by(runtime_rows(), "workspace_id", color="template"),
             charts.bars(runtime_rows(), "workspace_id", "runtime_hours", "runtime hours"),
             charts.reconciliation_calendar(charts.calendar_days(ai_rows(), "provider", now), "provider")]
    specs = [chart.to_dict() for chart in built]
    assert calls == []
    assert all(spec["config"]["range"]["category"] == charts.PALETTE for spec in specs)
    assert specs[0]["layer"][2]["mark"]["type"] == "text" and specs[0]["layer"][2]["encoding"]["tooltip"] == \
        {"value": None}


def test_a_chart_is_built_again_only_for_new_rows_or_arguments(monkeypatch):
    """A page's rerun hands drawing.draw the chart it built for the same rows; a changed row, type or argument
    builds a new one; at most BUILT_CHARTS are kept, the least recently used dropped first."""
    monkeypatch.setattr(charts, "_built", type(charts._built)())
    monkeypatch.setattr(charts, "BUILT_CHARTS", 3)
    period, now = Period.parse("2026-03"), datetime(2026, 3, 3, 12, tzinfo=timezone.utc)
    first = charts.runtime_over_time(runtime_rows(), "day", "template", period, now)
    assert charts.runtime_over_time(runtime_rows(), "day", "template", period, now) is first  # new frame, same rows
    changed = runtime_rows()
    changed.loc[2, "runtime_hours"] = 4.5
    other = charts.runtime_over_time(changed, "day", "template", period, now)
    assert other is not first and rows_of(other.to_dict())["top"].max() == 4.5  # (its own rows)
    assert charts.runtime_over_time(runtime_rows(), "week", "template", period, now) is not first  # an argument
    typed = runtime_rows().astype({"template": object})
    typed.loc[0, "template"] = 1  # 1, not "1": a type pandas would hash by its text
    assert charts.hours_by(typed, "template") is not charts.hours_by(typed.astype({"template": str}), "template")
    assert len(charts._built) == 3  # (five built, the first two dropped)
    assert charts.runtime_over_time(runtime_rows(), "day", "template", period, now) is not first


def test_a_kept_spec_draws_what_st_altair_chart_draws():
    """drawing.draw sends the element st.altair_chart sends for the same chart (spec and Arrow datasets), a second
    time from the kept spec, for a chart over time with its projection and today's layers and for the calendar."""
    from streamlit.testing.v1 import AppTest

    def script():
        from datetime import datetime, timezone

        import streamlit as st

        from tests.test_charts import ai_rows, runtime_rows
        from usage_analytics import charts, drawing
        from usage_analytics.periods import Period
        period, now = Period.parse("2026-03"), datetime(2026, 3, 3, 12, tzinfo=timezone.utc)
        for chart in (charts.runtime_over_time(runtime_rows(), "day", "template", period, now, projection=2.0),
                      charts.reconciliation_calendar(charts.calendar_days(ai_rows(), "provider", now), "provider")):
            st.altair_chart(chart, width="stretch")
            drawing.draw(chart, width="stretch")
            drawing.draw(chart, width="stretch")

    at = AppTest.from_function(script).run()
    assert not at.exception
    drawn = [element.proto for element in at.get("vega_lite_chart")]
    assert len(drawn) == 6
    for first in (0, 3):
        theirs, *ours = drawn[first:first + 3]
        assert theirs.datasets and theirs.spec
        for mine in ours:
            assert mine.spec == theirs.spec
            assert [(d.name, d.data.data) for d in mine.datasets] == [(d.name, d.data.data) for d in theirs.datasets]
            assert (mine.use_container_width, mine.theme, mine.selection_mode) == \
                (theirs.use_container_width, theirs.theme, theirs.selection_mode)
