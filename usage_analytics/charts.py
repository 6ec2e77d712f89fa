"""Pure DataFrame -> Altair chart builders with one theme. Money is drawn as float; tables show exact.

Every chart over time draws the period it is given (whole UTC days): a day is a bar from its midnight to the
next, an ISO week (Monday, UTC) one from its Monday to the next, cut to the period and labelled partial when
cut. The current UTC day holds usage only up to now, so its part of a bar is drawn outlined, as "today, to
HH:MM UTC (partial)", unlike the light dashed part not yet reconciled. An open period's daily chart may also draw
a projection to its end (`projection_days`): unfilled grey dashed bars in a layer of their own, never stacked
into or summed with the real bars.

A series (template, provider, model, customer, workspace) has one colour on every chart: its name hashed
into PALETTE (`series_colours`), so it keeps its colour whatever else a chart shows. More than MAX_SERIES
names: the largest MAX_SERIES - 1 by total, and the rest summed as one grey "other (N)"."""
from __future__ import annotations

import functools
import hashlib
import threading
import zlib
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Callable, Iterable

import altair as alt
import numpy as np
import pandas as pd

from .formatting import plain
from .periods import Period

FONT = "Source Sans Pro, sans-serif"
# Ten hues told apart side by side (no two greens, blues or browns alike); a light grey is kept for "other".
# Each stands at least 3:1 (WCAG's contrast for graphics) on Streamlit's dark page (#171614): the slate and the
# brown, the darkest, were lightened for it (test_theme).
PALETTE = ["#3b6fd6", "#e07b39", "#2f9e8f", "#8e5cc8", "#d04f72", "#6f8f2f", "#c9a227", "#66788b", "#56b4e9",
           "#a0562f"]
OTHER_COLOUR = "#bcc2cb"
MAX_SERIES = 10  # series (and legend entries) on one chart, "other" included
NOT_YET_DUE = "not yet due"  # today and yesterday (UTC): their reconciliation is not expected yet
STATUS_COLORS = {  # a day's reconciliation status
    "matched": "#2e8b57",
    "pending": "#f0b429",
    "missing": "#a0a7b4",
    "mismatch": "#d64545",
    NOT_YET_DUE: "#e9edf2",
}
CELL_GAP = 1.5  # px between the calendar's cells: the page's background shows through, light or dark
GLYPHS = {"matched": "✓", "pending": "…", "missing": "?", "mismatch": "✕", NOT_YET_DUE: "◷"}
GLYPH_COLORS = {"matched": "white", "pending": "#3d4451", "missing": "#1f2430", "mismatch": "white",
                NOT_YET_DUE: "#5a6372"}
RECONCILED, OPEN = "reconciled", "not yet reconciled"
WHOLE_DAY = "whole day"
HEIGHT = 300
LABEL_LIMIT = 160  # legend labels, px
# Text and outlines drawn on the chart's background take the page's text colour, whichever theme (light or dark)
# the browser shows: "currentColor" is the CSS colour of the element holding the chart (Streamlit's body text).
# Axes, legends and grid lines are left to Streamlit's theme (st.altair_chart's theme="streamlit"), which sets
# them per theme unless a chart's config pins them. Colours that stand on a chart's own fills (the calendar's
# glyphs on their cells) are fixed: their ground does not change with the theme. (Streamlit's "Download as PNG"
# redraws a chart on a canvas, where currentColor is black: in a dark-theme download the "so far" note and the
# dashed outlines do not show; on screen they always do, see _themed.)
TEXT = "currentColor"
MUTED = "#7d8796"  # a grey that reads on both pages: 3.6:1 on white, 5:1 on the dark page (#171614)
DAY, WEEK = timedelta(days=1), timedelta(days=7)


# The one look of every chart (fonts, legend). No colour of text, axis or grid: Streamlit's theme gives those,
# light or dark as the page is. Made once and set in one step: each configure_*() call copies the whole chart,
# its layers included (six copies were a third of building a chart over time).
CONFIG = alt.Config(
    font=FONT, padding={"left": 4, "right": 12, "top": 6, "bottom": 4},
    range=alt.RangeConfig(category=PALETTE),
    axis=alt.AxisConfig(labelFontSize=12, titleFontSize=12, titleFontWeight="normal"),
    legend=alt.LegendConfig(orient="bottom", labelFontSize=12, titleFontSize=12, titleFontWeight="normal",
                            symbolType="square", labelLimit=LABEL_LIMIT),
    view=alt.ViewConfig(strokeWidth=0),
    title=alt.TitleConfig(fontSize=14, anchor="start", fontWeight="normal"))
# A text mark's tooltip turned off. Channels are given as objects, never as "field:type" strings or alt.value()
# dicts: Altair turns those into objects through from_dict, which hashes its whole schema on every call (7 ms each).
NO_TOOLTIP = alt.TooltipValue(None)


def _themed(chart: alt.TopLevelMixin, **properties) -> alt.TopLevelMixin:
    """The one look of every chart (CONFIG), applied at the top level with the chart's own properties (one copy
    of the chart for all of them: properties() copies it too)."""
    # fit-x: as wide as the container, and as tall as the plot and its legends need (a fixed total height
    # squeezed the plot under a legend of several rows)
    # SVG always: Streamlit draws a chart of over 2,000 rows on a canvas, where currentColor (TEXT) is black
    return chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"),
                            usermeta={"embedOptions": {"renderer": "svg"}}, config=CONFIG, **properties)


# --- charts made again only for new data ----------------------------------------------------------------

BUILT_CHARTS = 64  # charts kept for reuse, the least recently used dropped first
_built: OrderedDict[tuple, alt.TopLevelMixin] = OrderedDict()
_built_lock = threading.Lock()


def _key(value: object) -> object:
    """A builder's argument as part of a key: a frame (or series, array, list) by the content of every row, so
    a rerun with the same rows finds its chart, and a changed row never does; anything else by its repr."""
    if isinstance(value, (pd.DataFrame, pd.Series)):
        frame = value.to_frame() if isinstance(value, pd.Series) else value
        # (pandas hashes an object column's values by their text: 1 and "1", None and NaN alike; their types too)
        types = [frame.iloc[:, i].map(lambda v: type(v).__name__).rename(i) for i in range(frame.shape[1])
                 if frame.dtypes.iloc[i] == object]
        rows = pd.util.hash_pandas_object(pd.concat([frame.set_axis(range(frame.shape[1]), axis=1), *types], axis=1)
                                          if types else frame, index=False).to_numpy().tobytes()
        shape = repr((list(frame.columns), [str(kind) for kind in frame.dtypes], len(frame)))
        return type(value).__name__, hashlib.sha256(rows + shape.encode()).hexdigest()
    if isinstance(value, (np.ndarray, pd.Index, list, tuple)):
        return "items", tuple(_key(item) for item in value)
    return type(value).__name__, repr(value)


def _reused(builder: Callable[..., alt.TopLevelMixin]) -> Callable[..., alt.TopLevelMixin]:
    """A chart builder whose charts are kept (BUILT_CHARTS of them) and handed out again for the same arguments.
    Every page run draws its charts again, and building one over time costs 50-100 ms of CPU in Altair, where a
    rerun for a click elsewhere on the page (or another session's same view) has the same rows. Charts are never
    changed after they are built (drawing.draw only reads them), so one object can serve every session."""
    @functools.wraps(builder)
    def reuse(*args, **kwargs):
        key = (builder.__name__, tuple(_key(a) for a in args), tuple(sorted((k, _key(v)) for k, v in kwargs.items())))
        with _built_lock:
            chart = _built.get(key)
            if chart is not None:
                _built.move_to_end(key)
                return chart
        chart = builder(*args, **kwargs)
        with _built_lock:
            _built[key] = chart
            while len(_built) > BUILT_CHARTS:
                _built.popitem(last=False)
        return chart
    return reuse


# --- colours ---------------------------------------------------------------------------------------------

def _slot(name: str) -> int:
    """A name's own place in PALETTE: CRC-32 of its UTF-8 bytes (stable across runs, unlike hash())."""
    return zlib.crc32(str(name).encode("utf-8")) % len(PALETTE)


def series_colours(names: Iterable[str], universe: Iterable[str] | None = None) -> dict[str, str]:
    """The colour of each name: PALETTE at its hashed slot. Names that share a slot are kept apart within a
    chart: in alphabetical order each takes its slot or the next free one. Resolved over `universe` (every
    name of that kind in the data the page passed in, so two charts of one page agree even when one draws a
    subset) while it fits in the palette, else over the names drawn (at most MAX_SERIES)."""
    names = [n for n in dict.fromkeys(names)]
    pool = set(universe or ()) | set(names)
    if len(pool) > len(PALETTE):
        pool = set(names)
    taken: dict[str, int] = {}
    used: set[int] = set()
    for name in sorted(pool, key=str):
        slot = _slot(name)
        while slot in used and len(used) < len(PALETTE):
            slot = (slot + 1) % len(PALETTE)
        taken[name] = slot
        used.add(slot)
    return {name: PALETTE[taken[name]] for name in names}


def columns(labels: list[str], limit: int = LABEL_LIMIT) -> alt.ExprRef:
    """A legend's columns: as many as the plot is wide (a single row of names was cut off at the right edge of
    half-width charts and phones; a legend below the plot starts at its left edge, after the y axis, so the
    plot's width is the room it has). Entries fill rows left to right, so with c columns column j holds
    entries j, j + c, ...; its width is its widest entry (symbol and paddings 40 px, 6.8 px a character of
    12 px text at most). The widths each count of columns needs are worked out here, the choice is made by
    the browser from the plot's width (the `width` signal, set by autosize fit-x)."""
    widths = [40 + min(limit, 6.8 * len(str(label))) for label in labels]
    expr = "1"
    for count in range(2, len(widths) + 1):
        need = sum(max(widths[j::count]) for j in range(count)) + 16
        expr = f"width >= {need:.0f} ? {count} : ({expr})"
    return alt.ExprRef(expr)


def _legend(names: list[str], title: str) -> alt.Legend:
    return alt.Legend(title=title, orient="bottom", direction="horizontal", columns=columns(names),
                      labelLimit=alt.ExprRef(f"min({LABEL_LIMIT}, max(60, width - 40))"))


def _colour(field: str, names: list[str], universe: Iterable[str], other: str | None = None,
            legend: bool = True, channel=alt.Color) -> alt.Color:
    """A colour channel with its domain fixed to the names drawn, each in its own colour; "other" is grey."""
    colours = series_colours([n for n in names if n != other], [n for n in universe if n != other])
    title = field.replace("_", " ")
    return channel(f"{field}:N", title=title, sort=names,
                   scale=alt.Scale(domain=names, range=[colours.get(n, OTHER_COLOUR) for n in names]),
                   legend=_legend(names, title) if legend else None)


LABEL_CHARS = 60  # an export string on a chart (label, legend, tooltip); the table and downloads keep it whole


def as_text(frame: pd.DataFrame, *fields: str) -> pd.DataFrame:
    """Export strings as a chart may draw them (formatting.plain): Vega draws text as text, but SVG text obeys a
    right-to-left override and a 5,000-character name would fill the chart. Only the distinct values are
    looked at, and the column is rewritten only when one of them changes."""
    changed = {}
    for field in fields:
        if field not in frame.columns:
            continue
        shown = {v: plain(v, LABEL_CHARS) for v in frame[field].unique() if isinstance(v, str)}
        moved = {v: s for v, s in shown.items() if s != v}
        if moved:
            changed[field] = frame[field].replace(moved)
    return frame.assign(**changed) if changed else frame


def other_label(count: int) -> str:
    """The name of the one grey series that holds the rest of the names: "other (N)"."""
    return f"other ({count})"


def cut_series(ids: pd.Series, others: pd.Series, names: dict[str, str]) -> tuple[pd.Series, str | None]:
    """The series of rows a query cut to the largest names (a null id holds the rest, and `others` says how many
    names it holds), named: each id by names, the rest as other_label. Returns the names and the other label, or
    None when the query drew every name (pass it on as the charts' `other`)."""
    count = int(others.max()) if len(others) else 0
    other = other_label(count) if count else None
    return ids.map(names).where(ids.notna(), other), other


def top_series(frame: pd.DataFrame, by: str, value: str, limit: int = MAX_SERIES, other: str | None = None
               ) -> tuple[pd.DataFrame, list[str], str | None]:
    """At most `limit` series: with more names, the largest limit - 1 by total `value` and the rest renamed
    "other (N)". Returns the frame, the names largest first ("other" last) and the other label (or None).
    other: the name of a series that already holds the rest (a query cut the series), drawn last and grey."""
    totals = frame.groupby(by)[value].sum().astype(float)
    ranked = sorted(totals.index, key=lambda n: (n == other, -totals[n], str(n)))
    if other in totals.index:
        if len(ranked) > limit:
            raise ValueError(f"{len(ranked)} series, one of them {other!r}: cut to at most {limit}")
        return frame, ranked, other
    if len(ranked) <= limit:
        return frame, ranked, None
    kept = ranked[:limit - 1]
    other = other_label(len(ranked) - len(kept))
    frame = frame.assign(**{by: frame[by].where(frame[by].isin(kept), other)})
    return frame, kept + [other], other


# --- time -------------------------------------------------------------------------------------------------

def _utc_days(values: pd.Series) -> pd.Series:
    days = pd.to_datetime(values)
    days = days.dt.tz_localize("UTC") if days.dt.tz is None else days.dt.tz_convert("UTC")
    return days.dt.normalize()


def _ms(moment: pd.Timestamp) -> int:
    return int(moment.timestamp() * 1000)


def _short(first: pd.Timestamp, last: pd.Timestamp) -> str:
    if first == last:
        return f"{first:%b %d}"
    return f"{first:%b %d}–{last:%d}" if first.month == last.month else f"{first:%b %d}–{last:%b %d}"


def today_label(now: datetime) -> str:
    """How the current UTC day is named on the charts: it holds usage up to now only."""
    return f"today, to {now:%H:%M} UTC (partial)"


def _extent(starts: pd.Series, ends: pd.Series, period: Period | None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The x extent: the period's whole days, or (no period) the bins drawn."""
    if period is not None:
        return pd.Timestamp(period.start), pd.Timestamp(period.end)
    return starts.min(), ends.max()


def bins(days: pd.Series, grain: str, period: Period | None = None, now: datetime | None = None) -> pd.DataFrame:
    """The bin of each day: start, end (exclusive) and label. A week is an ISO week (Monday, UTC) cut to the
    period: a week starting before the period starts at its first day, one running past its end stops there,
    and such a week is labelled partial; the week holding now says up to when it counts."""
    days = _utc_days(days)
    if grain == "day":
        start = days
        end = days + DAY
    else:
        monday = days - pd.to_timedelta(days.dt.day_of_week, unit="D")
        start, end = monday, monday + WEEK
        if period is not None:  # cut to the period
            start, end = start.clip(lower=pd.Timestamp(period.start)), end.clip(upper=pd.Timestamp(period.end))
    labels = {}
    for s, e in set(zip(start, end)):
        labels[(s, e)] = _bin_label(s, e, grain, now)
    return pd.DataFrame({"start": start, "end": end,
                         "label": [labels[(s, e)] for s, e in zip(start, end)]}, index=days.index)


def _bin_label(start: pd.Timestamp, end: pd.Timestamp, grain: str, now: datetime | None) -> str:
    live = now is not None and start <= pd.Timestamp(now) < end
    if grain == "day":
        return f"{start:%b %d}" + (f" (today, partial: to {now:%H:%M} UTC)" if live else "")
    text = _short(start, end - DAY)
    notes = (["partial"] if start.day_of_week != 0 or end.day_of_week != 0 else []) \
        + ([f"so far: to {now:%b %d %H:%M} UTC"] if live else [])
    return text + (f" ({', '.join(notes)})" if notes else "")


def _week_ticks(first: pd.Timestamp, last: pd.Timestamp, now: datetime | None) -> tuple[list[int], list]:
    """Every week of the extent, cut to it: a tick in the middle of its bar and its label (two lines when
    it has a note)."""
    ticks, labels = [], []
    start = first
    while start < last:
        end = min(start - pd.Timedelta(days=start.day_of_week) + WEEK, last)
        label = _bin_label(start, end, "week", now)
        ticks.append(_ms(start + (end - start) / 2))
        # on the axis the note is short, on a second line: "(partial)", "(so far)"
        text, _, note = label.partition(" (")
        labels.append([text, "(" + note.split(":")[0].rstrip(")") + ")"] if note else [text])
        start = end
    return ticks, labels


def _time_x(grain: str, first: pd.Timestamp, last: pd.Timestamp, now: datetime | None) -> alt.X:
    scale = alt.Scale(type="utc", domain=[_ms(first), _ms(last)], nice=False)
    if grain == "week":
        ticks, labels = _week_ticks(first, last, now)
        lookup = "[" + ",".join("[" + ",".join(repr(p) for p in parts) + "]" for parts in labels) + "]"
        moments = [pd.Timestamp(t, unit="ms", tz="UTC") for t in ticks]
        values = [alt.DateTime(year=m.year, month=m.month, date=m.day, hours=m.hour, minutes=m.minute, utc=True)
                  for m in moments]  # (a number is not read as a moment here: no tick was drawn)
        axis = alt.Axis(values=values, grid=False, labelAngle=0, labelOverlap=True, labelSeparation=6,
                        labelExpr=f"{lookup}[indexof({ticks}, time(datum.value))] || ''")
        title = "ISO week, Monday to Sunday (UTC)"
    else:
        axis = alt.Axis(format="%b %d", grid=False, labelAngle=0, labelOverlap=True, labelSeparation=6,
                        tickCount={"interval": "day", "step": 1})
        title = "day (UTC)"
    return alt.X("start:T", title=title, scale=scale, axis=axis)


def _per_bin(frame: pd.DataFrame, by: str, value: str, grain: str, period: Period | None,
             now: datetime | None) -> pd.DataFrame:
    """`value` summed per bin, series and state: per day first (every workspace-day of every customer can be
    many rows), then the few days binned."""
    daily = frame.groupby(["day", by, "state"], as_index=False, sort=False)[value].sum()
    daily = pd.concat([daily, bins(daily["day"], grain, period, now).reset_index(drop=True)], axis=1)
    return daily.groupby(["start", "end", "label", by, "state"], as_index=False)[value].sum()


def _is_today(frame: pd.DataFrame, now: datetime | None) -> pd.Series:
    if now is None:
        return pd.Series(False, index=frame.index)
    return _utc_days(frame["day"]) == pd.Timestamp(now).tz_convert("UTC").normalize()


def _state_channels(states: list[str]) -> dict:
    """Opacity, outline and dash per state: solid (a whole day, or reconciled), light with a dashed outline (not
    yet reconciled), faint with a solid outline (today, a partial day; its outline is drawn again on top in
    the series' colour). Opacity, not fill-opacity: a legend draws only the former."""
    opacity = {WHOLE_DAY: 1.0, RECONCILED: 1.0, OPEN: 0.35, "today": 0.2}
    dash = {WHOLE_DAY: [1, 0], RECONCILED: [1, 0], OPEN: [3, 2], "today": [1, 0]}
    width = {WHOLE_DAY: 0.0, RECONCILED: 0.0, OPEN: 1.0, "today": 2.0}
    keys = [s if s in opacity else "today" for s in states]
    legend = None if states == [WHOLE_DAY] else alt.Legend(  # (one plain state: nothing to tell apart)
        title=None, orient="top", direction="horizontal", symbolFillColor=MUTED, symbolStrokeColor=TEXT,
        symbolSize=160, labelLimit=260, columns=columns(states, 260))
    return dict(
        opacity=alt.Opacity("state:N", scale=alt.Scale(domain=states, range=[opacity[k] for k in keys]), legend=legend),
        strokeDash=alt.StrokeDash("state:N", scale=alt.Scale(domain=states, range=[dash[k] for k in keys]),
                                  legend=legend),
        strokeWidth=alt.StrokeWidth("state:N", scale=alt.Scale(domain=states, range=[width[k] for k in keys]),
                                    legend=legend),
    )


def stacked(frame: pd.DataFrame, by: str, value: str, states: list[str], names: list[str]) -> pd.DataFrame:
    """Each bar's bottom and top, stacked per bin: whole (or reconciled) parts at the bottom, then the part not
    yet reconciled, then today's; within each the largest series first and "other" last. (Stacked here:
    Vega-Lite takes a bar ranged on x, from start to end, for a horizontal one and does not stack it.)"""
    rank = {n: i for i, n in enumerate(names)}
    frame = frame.assign(order=frame["state"].map({s: i for i, s in enumerate(states)}) * 1000 + frame[by].map(rank))
    frame = frame.sort_values(["start", "order"], kind="stable").reset_index(drop=True)
    top = frame.groupby("start")[value].cumsum()
    return frame.assign(bottom=top - frame[value], top=top)


PROJECTED = "projected"
PROJECTION_STROKE = MUTED  # grey: a projection is no series, and its dashes tell it from the real bars
PROJECTION_DASH = [4, 3]
LABEL_SHARE = 6  # "projected" takes about a sixth of the narrowest plot (a phone's)


def projection_days(period: Period, now: datetime, rate: float, today_top: float = 0.0) -> pd.DataFrame:
    """The dashed bars of an open period's projection to its end, at `rate` a day (the trailing 7 whole days'
    daily average): one row per UTC day from today to the period's last day, with columns start, end (UTC
    midnights, as `bins` draws a day), bottom, top and label.

    Today's row is the rest of today only: rate × the fraction of the UTC day after now, stacked on today's
    real bar (bottom = today_top, the top of what today has accrued so far; top = bottom + that rest). Each
    later day is a whole day's rate, from 0. So the rows' heights (top - bottom) add up to rate × the days
    left, what `outlook.projected` adds to the accrued figure. Empty (same columns) when the period is not
    open at now (not started, or ended) or the rate is not a positive number."""
    empty = pd.DataFrame({"start": pd.Series(dtype="datetime64[ns, UTC]"),
                          "end": pd.Series(dtype="datetime64[ns, UTC]"),
                          "bottom": pd.Series(dtype=float), "top": pd.Series(dtype=float),
                          "label": pd.Series(dtype=object)})
    rate = float(rate)
    if not period.start <= now < period.end or not np.isfinite(rate) or rate <= 0:
        return empty
    moment = pd.Timestamp(now).tz_convert("UTC")
    today = moment.normalize()
    starts = pd.date_range(today, pd.Timestamp(period.end) - DAY, freq="D")
    rest = (today + DAY - moment) / DAY  # fraction of today after now: 0.5 at noon
    bottom = np.where(starts == today, float(today_top), 0.0)
    height = np.where(starts == today, rate * rest, rate)
    labels = [f"{s:%b %d} (today: projected rest, after {moment:%H:%M} UTC)" if s == today
              else f"{s:%b %d} (projected)" for s in starts]
    frame = pd.DataFrame({"start": starts, "end": starts + DAY, "bottom": bottom, "top": bottom + height,
                          "label": labels})
    return frame[frame["top"] > frame["bottom"]].reset_index(drop=True)  # (now at midnight: today is whole)


def _projection_layers(frame: pd.DataFrame, period: Period | None, now: datetime | None, grain: str,
                       rate: float | None, title: str, fmt: str) -> list[alt.Chart]:
    """The projection's layers, each with its own data (never the real rows): unfilled dashed grey bars, and
    "projected" written once above them, right-aligned at the period's end (away from today's "so far").
    None drawn by week, without a rate or outside an open period."""
    if rate is None or grain != "day" or period is None or now is None:
        return []
    today = pd.Timestamp(now).tz_convert("UTC").normalize()
    today_top = float(frame.loc[frame["start"] == today, "top"].max()) if (frame["start"] == today).any() else 0.0
    days = projection_days(period, now, rate, today_top)
    if (frame["start"] == today).any():  # today's rest would be drawn through its "so far": the days after only
        days = days[days["start"] > today]
    if days.empty:
        return []
    days = days.assign(part=PROJECTED, projected=days["top"] - days["bottom"])
    bars = alt.Chart(days).mark_bar(filled=False, xOffset=1.5, x2Offset=-1.5, stroke=PROJECTION_STROKE,
                                    strokeWidth=1.5, strokeDash=PROJECTION_DASH).encode(
        tooltip=[alt.Tooltip("label:N", title=grain), alt.Tooltip("part:N", title="part"),
                 alt.Tooltip("projected:Q", title=title, format=fmt)])
    # The label ends at the period's end and is ~55 px wide, a sixth of a phone's plot: over that many days to
    # come it stands on their even tops; over fewer it would run into the bars before them, so it stands on the
    # highest bar of the chart, a line up (clear of today's "so far").
    later = days[days["start"] > today]
    roomy = len(later) * LABEL_SHARE >= period.days
    top = later["top"].max() if roomy else max(days["top"].max(), frame["top"].max() if len(frame) else 0.0)
    note = pd.DataFrame({"at": [pd.Timestamp(period.end)], "top": [top], "note": [PROJECTED]})
    text = alt.Chart(note).mark_text(align="right", baseline="bottom", dx=-2, dy=-3 if roomy else -16, fontSize=11,
                                     fontStyle="italic", color=PROJECTION_STROKE).encode(
        x=alt.X("at:T"), y=alt.Y("top:Q"), text=alt.Text("note:N"), tooltip=NO_TOOLTIP)
    return [bars, text]


def _over_time(frame: pd.DataFrame, by: str, states: list[str], today: str | None, grain: str,
               period: Period | None, now: datetime | None, y: alt.Y, value: str, value_tooltip: alt.Tooltip,
               universe: Iterable[str], other: str | None, names: list[str], projection: float | None = None,
               projection_format: str = ",.2f") -> alt.LayerChart:
    """Stacked bars from start to end of each bin, coloured by series, styled by state; today's part outlined
    in its series' colour, and "so far" written over the bar that holds now. With a projection (a daily rate)
    and an open period by day: the projected days drawn dashed on top, as layers of their own."""
    first, last = _extent(frame["start"], frame["end"], period)
    frame = stacked(frame, by, value, states, names)
    bars = alt.Chart().mark_bar(xOffset=1, x2Offset=-1, stroke=TEXT).encode(
        color=_colour(by, names, universe, other), order=alt.Order("order:Q", sort="ascending"),
        **_state_channels(states))
    layers = [bars]
    if today:
        live = frame[frame["state"] == today]
        layers.append(alt.Chart().transform_filter(alt.datum.state == today).mark_bar(
            filled=False, xOffset=1.5, x2Offset=-1.5, strokeWidth=2).encode(
            stroke=_colour(by, names, universe, other, legend=False, channel=alt.Stroke)))
        notes = live.groupby(["start", "end"], as_index=False)["top"].max()
        notes = notes.assign(mid=notes["start"] + (notes["end"] - notes["start"]) / 2, note="so far")
        layers.append(alt.Chart(notes).mark_text(baseline="bottom", dy=-3, fontSize=11, color=TEXT).encode(
            x=alt.X("mid:T"), y=alt.Y("top:Q"), text=alt.Text("note:N"), tooltip=NO_TOOLTIP))
    layers += _projection_layers(frame, period, now, grain, projection, value_tooltip.to_dict()["title"],
                                projection_format)
    chart = alt.layer(*layers, data=frame).encode(
        x=_time_x(grain, first, last, now), x2=alt.X2("end:T"), y=y, y2=alt.Y2("bottom:Q"),
        tooltip=[alt.Tooltip("label:N", title=grain), alt.Tooltip(f"{by}:N", title=by.replace("_", " ")),
                 alt.Tooltip("state:N", title="part"), value_tooltip])
    return _themed(chart, height=HEIGHT)


@_reused
def runtime_over_time(runtime: pd.DataFrame, grain: str = "day", by: str = "template",
                      period: Period | None = None, now: datetime | None = None, *,
                      projection: float | None = None, other: str | None = None) -> alt.Chart:
    """Stacked bars of runtime hours per day or ISO week of the period, coloured by template (or customer);
    today's hours (up to now) are outlined. projection: hours a day (the trailing 7 whole days' hours / 7) to
    draw the rest of an open period dashed, by day only (`projection_days`); None draws none. other: the series
    that already holds the rest, when a query cut them (`top_series`)."""
    runtime = as_text(runtime, by)
    today_rows = _is_today(runtime, now).to_numpy()
    today = today_label(now) if today_rows.any() else None
    shown, names, other = top_series(runtime, by, "runtime_hours", other=other)
    frame = _per_bin(shown.assign(state=WHOLE_DAY).assign(state=lambda f: f["state"].where(~today_rows, today)),
                     by, "runtime_hours", grain, period, now)
    states = [WHOLE_DAY] + ([today] if today else [])
    return _over_time(frame, by, states, today, grain, period, now,
                      alt.Y("top:Q", title="runtime hours"), "runtime_hours",
                      alt.Tooltip("runtime_hours:Q", title="hours", format=",.2f"),
                      runtime[by].unique(), other, names, projection, ",.2f")


def _reconciled(ai_daily: pd.DataFrame) -> pd.Series:
    return pd.Series(np.where(ai_daily["reconciliation_status"] == "matched", RECONCILED, OPEN), index=ai_daily.index)


@_reused
def ai_over_time(ai_daily: pd.DataFrame, metric: str = "cost_usd", by: str = "provider", grain: str = "day",
                 period: Period | None = None, now: datetime | None = None, *,
                 projection: float | None = None, other: str | None = None) -> alt.Chart:
    """Stacked bars of a managed-AI metric per day or ISO week; the not-yet-reconciled part is lighter and
    dashed, today's part (up to now) outlined. projection: USD a day (the trailing 7 whole days' cost / 7) to
    draw the rest of an open period dashed, by day and for cost_usd only (`projection_days`); None draws
    none. other: the series that already holds the rest, when a query cut them (`top_series`)."""
    ai_daily = as_text(ai_daily, by)
    today_rows = _is_today(ai_daily, now).to_numpy()
    today = today_label(now) if today_rows.any() else None
    frame = ai_daily.assign(value=ai_daily[metric].astype(float))
    frame = frame.assign(state=_reconciled(ai_daily).where(~today_rows, today))
    shown, names, other = top_series(frame, by, "value", other=other)
    frame = _per_bin(shown, by, "value", grain, period, now)
    states = [s for s in (RECONCILED, OPEN, today) if s and (frame["state"] == s).any()]
    money = metric == "cost_usd"
    title = {"cost_usd": "cost (USD)"}.get(metric, metric.replace("_", " "))
    return _over_time(frame, by, states, today, grain, period, now,
                      alt.Y("top:Q", title=title, axis=alt.Axis(format="$,.2f" if money else "~s")), "value",
                      alt.Tooltip("value:Q", title=title, format="$,.6f" if money else ",d"),
                      ai_daily[by].unique(), other, names, projection if money else None, "$,.2f")


# --- totals -----------------------------------------------------------------------------------------------

def _label_limit(share: float = 0.4, most: int = 220) -> alt.ExprRef:
    """Category labels take at most this share of the chart's container (phones), and `most` px."""
    return alt.ExprRef(f"min({most}, max(70, containerSize()[0] * {share}))")


@_reused
def hours_by(frame: pd.DataFrame, field: str, color: str | None = None, limit: int = 15,
             universe: Iterable[str] | None = None) -> alt.Chart:
    """Horizontal bars of total runtime hours per template, workspace or customer, largest first; coloured
    by the field itself (no legend) or by `color` (template), in the series' colours. universe: every name of
    the colour's kind on the page, when the frame holds only some (a top-N), so that its colours are theirs."""
    keys = [field] + ([color] if color and color != field else [])
    frame = as_text(frame, *keys)
    totals = frame.groupby(keys, as_index=False)["runtime_hours"].sum() \
        .sort_values("runtime_hours", ascending=False).head(limit)
    by = color or field
    names = sorted(totals[by].unique(), key=str)
    # A band per bar: a fixed height shrinks under a legend, which squeezed a few workspaces into one line.
    chart = alt.Chart(totals, height=alt.Step(24)).mark_bar().encode(
        y=alt.Y(f"{field}:N", sort="-x", title=None,
                axis=alt.Axis(labelOverlap=False, labelLimit=_label_limit())),
        x=alt.X("runtime_hours:Q", title="runtime hours"),
        color=_colour(by, names, frame[by].unique() if universe is None else
                      [plain(n, LABEL_CHARS) if isinstance(n, str) else n for n in universe],
                      legend=bool(color) and color != field),
        tooltip=[alt.Tooltip(f"{k}:N", title=k.replace("_", " ")) for k in keys]
        + [alt.Tooltip("runtime_hours:Q", title="hours", format=",.2f")],
    )
    return _themed(chart)


@_reused
def bars(table: pd.DataFrame, category: str, value: str, title: str, money: bool = False, limit: int = 15) -> alt.Chart:
    """Horizontal bars of one value per category, largest first (operators' comparisons)."""
    top = as_text(table.assign(value=table[value].astype(float)).sort_values("value", ascending=False).head(limit),
                  category)
    chart = alt.Chart(top, height=max(120, 24 * len(top))).mark_bar(color=PALETTE[0]).encode(
        y=alt.Y(f"{category}:N", sort="-x", title=None,
                axis=alt.Axis(labelOverlap=False, labelLimit=_label_limit())),
        x=alt.X("value:Q", title=title, axis=alt.Axis(format="$,.0f" if money else ",.0f", tickCount=4)),
        tooltip=[alt.Tooltip(f"{category}:N", title=category.replace("_", " ")),
                 alt.Tooltip("value:Q", title=title, format="$,.6f" if money else ",.2f")],
    )
    return _themed(chart)


# --- reconciliation calendar ------------------------------------------------------------------------------

def not_yet_due(day: pd.Series, now: datetime) -> pd.Series:
    """Whether a day's reconciliation is not expected yet: today and yesterday (UTC), relative to now."""
    today = pd.Timestamp(now).tz_convert("UTC").normalize()
    return _utc_days(day) >= today - DAY


def calendar_days(ai_daily: pd.DataFrame, row: str = "provider", now: datetime | None = None) -> pd.DataFrame:
    """One row per (row, day) with usage: its status and metered cost, for the calendar. With now, a day not
    yet due (today, yesterday) that is pending or missing is "not yet due" (its recorded status kept in
    `recorded`); a result already in (matched, mismatch) stays. The lag rule is not changed by this."""
    frame = as_text(ai_daily.assign(cost_usd=ai_daily["cost_usd"].astype(float), day=pd.to_datetime(ai_daily["day"])),
                    row)
    days = frame.groupby([row, "day"], as_index=False).agg(recorded=("reconciliation_status", "first"),
                                                         cost_usd=("cost_usd", "sum"))
    due = ~not_yet_due(days["day"], now) if now is not None else pd.Series(True, index=days.index)
    waiting = ~due & days["recorded"].isin(["pending", "missing"])
    days.insert(2, "status", days["recorded"].where(~waiting, NOT_YET_DUE))
    return days


PAIR = " · "  # between a customer's name and a provider's in one row name ("Acme Robotics · openai")
NARROW = 640  # a chart narrower than this (px) is on a phone or in a narrow column


@_reused
def reconciliation_calendar(days: pd.DataFrame, row: str = "provider", order: list[str] | None = None,
                            period: Period | None = None, now: datetime | None = None) -> alt.LayerChart:
    """A calendar heat map: one cell per row (provider, or customer · provider) and UTC day with usage, in a
    status colour and with the status' glyph (✓ … ? ✕ ◷) so that colour is never the only cue; rows in the
    given order, else alphabetical. Days of the period without usage are left blank."""
    order = None if order is None else [plain(name, LABEL_CHARS) for name in order]  # (as calendar_days drew them)
    frame = days.assign(day=_utc_days(days["day"]))
    frame = frame.assign(end=frame["day"] + DAY, mid=frame["day"] + DAY / 2,
                         key=[f"{GLYPHS[s]} {s}" for s in frame["status"]],
                         glyph=frame["status"].map(GLYPHS), ink=frame["status"].map(GLYPH_COLORS),
                         label=bins(frame["day"], "day", period, now)["label"].to_numpy())
    first, last = _extent(frame["day"], frame["end"], period)
    statuses = list(STATUS_COLORS)
    n_days = max(1, (last - first).days)
    x_scale = alt.Scale(type="utc", domain=[_ms(first), _ms(last)], nice=False)
    # cells inset from their day and row (not a white outline, which drew a white grid on a dark page)
    rect = alt.Chart().mark_rect(xOffset=CELL_GAP / 2, x2Offset=-CELL_GAP / 2, yOffset=CELL_GAP / 2,
                                 y2Offset=-CELL_GAP / 2, cornerRadius=2).encode(
        x=alt.X("day:T", title="day (UTC)", scale=x_scale,
                axis=alt.Axis(format="%b %d", labelAngle=0, grid=False, labelOverlap=True, labelSeparation=6)),
        x2=alt.X2("end:T"),
        color=alt.Color("key:N", title="status", scale=alt.Scale(domain=[f"{GLYPHS[s]} {s}" for s in statuses],
                                                                 range=[STATUS_COLORS[s] for s in statuses]),
                        legend=alt.Legend(title="status", orient="bottom", direction="horizontal",
                                          columns=columns([f"{GLYPHS[s]} {s}" for s in statuses]),
                                          symbolStrokeColor=MUTED, symbolStrokeWidth=1)))
    # the glyph shrinks with the cell (a month on a phone leaves ~9 px a day), and is left out below 7 px
    cell = f"(width / {n_days})"
    text = alt.Chart().mark_text(fontWeight="bold", baseline="middle",
                                 fontSize=alt.ExprRef(f"clamp({cell} - 1, 7, 12)"),
                                 opacity=alt.ExprRef(f"{cell} >= 7 ? 1 : 0")).encode(
        x=alt.X("mid:T", title="day (UTC)", scale=x_scale), text=alt.Text("glyph:N"),
        color=alt.Color("ink:N", scale=None, legend=None))
    tooltip = [alt.Tooltip("label:N", title="day"), alt.Tooltip(f"{row}:N", title=row), alt.Tooltip("status:N"),
               alt.Tooltip("recorded:N", title="recorded status"),
               alt.Tooltip("cost_usd:Q", title="metered cost (USD)", format="$,.6f")]
    chart = alt.layer(rect, text, data=frame).encode(  # a band per row: a fixed height shrinks under the legend
        # row names give way (to 90 px, full in the tooltip) so that a day keeps 9 px, room for its glyph; on a
        # narrow screen a "customer · provider" name takes two lines, so that the cut falls on the customer's name
        # and never hides the provider (three rows of one customer read "Umbrella Anal…" alike)
        y=alt.Y(f"{row}:N", title=None, sort=order or "ascending", axis=alt.Axis(
            labelLimit=alt.ExprRef(f"clamp(containerSize()[0] - 16 - {9 * n_days}, 90, "
                                   "min(260, containerSize()[0] * 0.42))"),
            labelExpr=(f"containerSize()[0] < {NARROW} && lastindexof(datum.label, '{PAIR}') > 0 ? "
                       f"[substring(datum.label, 0, lastindexof(datum.label, '{PAIR}')), "
                       f"substring(datum.label, lastindexof(datum.label, '{PAIR}') + {len(PAIR)})] : datum.label"),
            labelLineHeight=11, labelFontSize=alt.ExprRef(f"containerSize()[0] < {NARROW} ? 10 : 11"),
            labelOverlap=False)),
        tooltip=tooltip)
    return _themed(chart, height=alt.Step(26))
