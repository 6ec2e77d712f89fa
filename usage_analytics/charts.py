"""Pure DataFrame -> Altair chart builders with one theme. Money is drawn as float; tables show exact."""
from __future__ import annotations

import altair as alt
import pandas as pd

FONT = "Source Sans Pro, sans-serif"
PALETTE = ["#3b6fd6", "#e07b39", "#2f9e8f", "#8e5cc8", "#d04f72", "#6f8f2f", "#b08a2e", "#5a6b7d"]
STATUS_COLORS = {  # a day's reconciliation status
    "matched": "#2e8b57",
    "pending": "#f0b429",
    "missing": "#a0a7b4",
    "mismatch": "#d64545",
}
RECONCILED, OPEN = "reconciled", "not yet reconciled"
HEIGHT = 300


def _themed(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The one look of every chart (fonts, grid, legend), applied at the top level."""
    return (chart
            .configure(font=FONT)
            .configure_range(category=PALETTE)
            .configure_axis(labelFontSize=12, titleFontSize=12, titleFontWeight="normal", gridColor="#eceff3",
                            domainColor="#c4cad3", tickColor="#c4cad3", labelColor="#3d4451", titleColor="#3d4451")
            .configure_legend(orient="bottom", labelFontSize=12, titleFontSize=12, titleFontWeight="normal",
                              symbolType="square")
            .configure_view(strokeWidth=0)
            .configure_title(fontSize=14, anchor="start", fontWeight="normal"))


def _period_column(frame: pd.DataFrame, grain: str) -> pd.Series:
    days = pd.to_datetime(frame["day"])
    if grain == "week":  # ISO weeks start on Monday (UTC)
        return days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    return days


def _time_axis(grain: str) -> alt.X:
    title = "week starting (UTC)" if grain == "week" else "day (UTC)"
    return alt.X("period:T", title=title, axis=alt.Axis(format="%b %d", labelAngle=0),
                 timeUnit="utcyearmonthdate")


def runtime_over_time(runtime: pd.DataFrame, grain: str = "day", by: str = "template") -> alt.Chart:
    """Stacked bars of runtime hours per day or week, coloured by template (or customer)."""
    frame = runtime.assign(period=_period_column(runtime, grain)) \
        .groupby(["period", by], as_index=False)["runtime_hours"].sum()
    chart = alt.Chart(frame, height=HEIGHT).mark_bar().encode(
        x=_time_axis(grain),
        y=alt.Y("sum(runtime_hours):Q", title="runtime hours"),
        color=alt.Color(f"{by}:N", title=by.replace("_", " ")),
        tooltip=[alt.Tooltip("period:T", title="day" if grain == "day" else "week of", format="%Y-%m-%d",
                             timeUnit="utcyearmonthdate"),
                 alt.Tooltip(f"{by}:N", title=by.replace("_", " ")),
                 alt.Tooltip("sum(runtime_hours):Q", title="hours", format=",.2f")],
    )
    return _themed(chart)


def hours_by(frame: pd.DataFrame, field: str, color: str | None = None, limit: int = 15) -> alt.Chart:
    """Horizontal bars of total runtime hours per template, workspace or customer, largest first."""
    keys = [field] + ([color] if color and color != field else [])
    totals = frame.groupby(keys, as_index=False)["runtime_hours"].sum() \
        .sort_values("runtime_hours", ascending=False).head(limit)
    # A band per bar: a fixed height shrinks under a legend, which squeezed a few workspaces into one line.
    chart = alt.Chart(totals, height=alt.Step(24)).mark_bar().encode(
        y=alt.Y(f"{field}:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False, labelLimit=220)),
        x=alt.X("runtime_hours:Q", title="runtime hours"),
        color=alt.Color(f"{color or field}:N", title=(color or field).replace("_", " "),
                        legend=None if not color or color == field else alt.Legend()),
        tooltip=[alt.Tooltip(f"{k}:N", title=k.replace("_", " ")) for k in keys]
        + [alt.Tooltip("runtime_hours:Q", title="hours", format=",.2f")],
    )
    return _themed(chart)


def _reconciled(ai_daily: pd.DataFrame) -> pd.Series:
    return ai_daily["reconciliation_status"].map(lambda s: RECONCILED if s == "matched" else OPEN)


def ai_over_time(ai_daily: pd.DataFrame, metric: str = "cost_usd", by: str = "provider", grain: str = "day") -> alt.Chart:
    """Stacked bars of a managed-AI metric per day; the not-yet-reconciled part is lighter and dashed."""
    frame = ai_daily.assign(period=_period_column(ai_daily, grain), reconciliation=_reconciled(ai_daily),
                            value=ai_daily[metric].astype(float))
    frame = frame.groupby(["period", by, "reconciliation"], as_index=False)["value"].sum()
    money = metric == "cost_usd"
    title = {"cost_usd": "cost (USD)"}.get(metric, metric.replace("_", " "))
    chart = alt.Chart(frame, height=HEIGHT).mark_bar(stroke="#3d4451", strokeWidth=1).encode(
        x=_time_axis(grain),
        y=alt.Y("sum(value):Q", title=title, axis=alt.Axis(format="$,.2f" if money else "~s")),
        color=alt.Color(f"{by}:N", title=by),
        opacity=alt.Opacity("reconciliation:N", title="reconciliation",
                            scale=alt.Scale(domain=[RECONCILED, OPEN], range=[1.0, 0.35])),
        strokeOpacity=alt.StrokeOpacity("reconciliation:N", title="reconciliation",
                                        scale=alt.Scale(domain=[RECONCILED, OPEN], range=[0.0, 0.9])),
        strokeDash=alt.StrokeDash("reconciliation:N", title="reconciliation",
                                  scale=alt.Scale(domain=[RECONCILED, OPEN], range=[[1, 0], [3, 2]])),
        order=alt.Order("reconciliation:N", sort="ascending"),
        tooltip=[alt.Tooltip("period:T", title="day" if grain == "day" else "week of", format="%Y-%m-%d",
                             timeUnit="utcyearmonthdate"),
                 alt.Tooltip(f"{by}:N", title=by),
                 alt.Tooltip("reconciliation:N", title="reconciliation"),
                 alt.Tooltip("sum(value):Q", title=title, format="$,.6f" if money else ",d")],
    )
    return _themed(chart)


def reconciliation_calendar(days: pd.DataFrame, row: str = "provider", order: list[str] | None = None) -> alt.Chart:
    """A calendar heat map: one cell per row (provider, or customer · provider) and UTC day with usage; rows
    in the given order, else alphabetical."""
    domain = list(STATUS_COLORS)
    chart = alt.Chart(days, height=alt.Step(26)).mark_rect(  # a band per row: a fixed height shrinks under the legend
        stroke="white", strokeWidth=1.5, cornerRadius=2).encode(
        x=alt.X("day:T", title="day (UTC)", timeUnit="utcyearmonthdate",
                axis=alt.Axis(format="%b %d", labelAngle=0, grid=False)),
        y=alt.Y(f"{row}:N", title=None, sort=order or "ascending", axis=alt.Axis(labelLimit=260)),
        color=alt.Color("status:N", title="status", scale=alt.Scale(domain=domain,
                                                                    range=[STATUS_COLORS[s] for s in domain])),
        tooltip=[alt.Tooltip("day:T", format="%Y-%m-%d", timeUnit="utcyearmonthdate"),
                 alt.Tooltip(f"{row}:N", title=row), alt.Tooltip("status:N"),
                 alt.Tooltip("cost_usd:Q", title="metered cost (USD)", format="$,.6f")],
    )
    return _themed(chart)


def calendar_days(ai_daily: pd.DataFrame, row: str = "provider") -> pd.DataFrame:
    """One row per (row, day) with usage: its status and metered cost, for the calendar."""
    frame = ai_daily.assign(cost_usd=ai_daily["cost_usd"].astype(float), day=pd.to_datetime(ai_daily["day"]))
    keys = [row, "day"]
    return frame.groupby(keys, as_index=False).agg(status=("reconciliation_status", "first"),
                                                   cost_usd=("cost_usd", "sum"))


def bars(table: pd.DataFrame, category: str, value: str, title: str, money: bool = False, limit: int = 15) -> alt.Chart:
    """Horizontal bars of one value per category, largest first (operators' comparisons)."""
    top = table.assign(value=table[value].astype(float)).sort_values("value", ascending=False).head(limit)
    chart = alt.Chart(top, height=max(120, 24 * len(top))).mark_bar(color=PALETTE[0]).encode(
        y=alt.Y(f"{category}:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False, labelLimit=220)),
        x=alt.X("value:Q", title=title, axis=alt.Axis(format="$,.0f" if money else ",.0f")),
        tooltip=[alt.Tooltip(f"{category}:N", title=category.replace("_", " ")),
                 alt.Tooltip("value:Q", title=title, format="$,.6f" if money else ",.2f")],
    )
    return _themed(chart)
