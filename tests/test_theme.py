"""Light and dark: .streamlit/config.toml lets the browser's preference pick the theme, and no chart pins a colour
that one of the two pages cannot show (issue 17, point 10).

A colour drawn on the page's background (axis and legend text, the "so far" and "projected" notes, outlines,
legend symbols) is either left to Streamlit's theme, or is currentColor (the page's text colour, which SVG
resolves in the browser), or stands at least 3:1 against both backgrounds. A colour drawn on a chart's own fill
(a calendar glyph on its cell) stands at least 3:1 against that fill."""
import tomllib
from datetime import date, datetime, timezone

import pandas as pd
import pytest
from streamlit import config as streamlit_config

from conftest import ROOT
from usage_analytics import charts
from usage_analytics.periods import Period

# Streamlit 1.67's page backgrounds (streamlit/config.py, theme.backgroundColor: "#ffffff for the light theme and
# #171614 for the dark theme"); the app sets no background of its own.
LIGHT_BG, DARK_BG = "#ffffff", "#171614"
GRAPHICS = 3.0  # WCAG 2.1, 1.4.11: graphical objects and large text
TEXT = 4.5  # WCAG 2.1, 1.4.3: normal text
CURRENT = "currentcolor"
# Vega-Lite properties that hold a colour
COLOUR_KEYS = {"color", "fill", "stroke", "labelColor", "titleColor", "gridColor", "domainColor", "tickColor",
               "symbolFillColor", "symbolStrokeColor", "strokeColor", "background"}
# CSS names the charts may use
NAMED = {"white": "#ffffff", "black": "#000000"}


def luminance(colour: str) -> float:
    colour = NAMED.get(colour.lower(), colour).lstrip("#")
    channels = [int(colour[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    low, high = sorted((luminance(a), luminance(b)))
    return (high + 0.05) / (low + 0.05)


# --- config.toml -------------------------------------------------------------------------------------------

def theme() -> dict:
    with open(ROOT / ".streamlit" / "config.toml", "rb") as file:
        return tomllib.load(file)["theme"]


def test_config_defines_a_light_and_a_dark_theme_and_pins_neither():
    found = theme()
    assert set(found) >= {"light", "dark"}
    # a base (or only a plain [theme]) would pin one theme for every browser
    assert "base" not in found
    for name in ("light", "dark"):
        assert found[name], f"[theme.{name}] is empty"
        for option in found[name]:  # options Streamlit knows, so none is dropped with a warning
            assert f"theme.{name}.{option}" in streamlit_config._config_options_template, option


def test_the_primary_colour_reads_in_both_themes():
    light, dark = theme()["light"]["primaryColor"], theme()["dark"]["primaryColor"]
    assert light == "#3b6fd6"  # the app's blue, as it was
    # as text (a picked segment) on its page, and under white text (a tag, the Log in button)
    assert contrast(light, LIGHT_BG) >= TEXT and contrast(light, "white") >= TEXT
    assert contrast(dark, DARK_BG) >= TEXT and contrast(dark, "white") >= GRAPHICS


def test_no_full_garbage_collection_after_every_run():
    """Streamlit's default runs gc.collect(2) after every script run, which walks every cached figure: at 100M rows
    it was 150-220 ms of the server's CPU on each click. The option must be one Streamlit knows (else it is dropped
    with a warning and the collection runs)."""
    with open(ROOT / ".streamlit" / "config.toml", "rb") as file:
        runner = tomllib.load(file)["runner"]
    assert runner == {"postScriptGC": False}
    assert "runner.postScriptGC" in streamlit_config._config_options_template


# --- charts ------------------------------------------------------------------------------------------------

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc)
MARCH = Period.month(2026, 3)


def every_chart() -> dict:
    ai = pd.DataFrame({
        "day": [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 4)],
        "provider": ["openai", "anthropic", "openai", "google"], "model": ["m1", "m2", "m1", "m3"],
        "requests": [1, 2, 3, 4], "input_tokens": [10, 20, 30, 40], "cached_input_tokens": [0, 0, 0, 0],
        "output_tokens": [1, 2, 3, 4], "cost_usd": [1.5, 2.0, 0.25, 1.0],
        "reconciliation_status": ["matched", "pending", "mismatch", "missing"]})
    runtime = pd.DataFrame({"day": [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)],
                            "workspace_id": ["ws1", "ws2", "ws1"], "template": ["gpu", "standard", "gpu"],
                            "runtime_hours": [1.5, 2.0, 4.0], "is_running": [False, False, True]})
    days = charts.calendar_days(ai, "provider", NOW)
    return {
        "runtime by day, today and projection": charts.runtime_over_time(runtime, "day", "template", MARCH, NOW,
                                                                         projection=3.0),
        "runtime by week": charts.runtime_over_time(runtime, "week", "template", MARCH, NOW),
        "managed AI, every state": charts.ai_over_time(ai, "cost_usd", "provider", "day", MARCH, NOW,
                                                       projection=2.0),
        "hours by template": charts.hours_by(runtime, "template"),
        "hours by workspace": charts.hours_by(runtime, "workspace_id", color="template"),
        "bars": charts.bars(pd.DataFrame({"c": ["a", "b"], "v": [1.0, 2.0]}), "c", "v", "v", money=True),
        "calendar": charts.reconciliation_calendar(days, "provider", period=MARCH, now=NOW),
    }


def colours(node, path=()):
    """(path, key, value) of every colour property in a spec, outside its data."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("datasets", "data"):
                continue
            if key in COLOUR_KEYS and isinstance(value, str):
                yield path, key, value
            else:
                yield from colours(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from colours(value, path + (i,))


@pytest.fixture(scope="module", params=list(every_chart()))
def spec(request):
    return request.param, every_chart()[request.param].to_dict()


def test_axes_legends_and_grid_take_their_colours_from_streamlits_theme(spec):
    name, found = spec
    pinned = [(path, key, value) for path, key, value in colours(found.get("config", {}))]
    assert pinned == [], f"{name}: config pins {pinned}; Streamlit's theme would set these per theme"
    assert "background" not in found


def test_every_colour_on_the_page_background_reads_on_white_and_on_dark(spec):
    name, found = spec
    for path, key, value in colours({k: v for k, v in found.items() if k != "config"}):
        if "scale" in path:  # series and status colours: the palette test below, and the glyphs' grounds
            continue
        if value.lower() == CURRENT:
            continue
        worst = min(contrast(value, LIGHT_BG), contrast(value, DARK_BG))
        assert worst >= GRAPHICS, f"{name}: {key} {value} at {path} is {worst:.2f}:1 on one of the pages"


def test_current_color_is_drawn_as_svg(spec):
    # Streamlit draws a chart of over 2,000 rows on a canvas, where currentColor is black whatever the page
    name, found = spec
    if any(value.lower() == CURRENT for _, _, value in colours(found)):
        assert found["usermeta"]["embedOptions"]["renderer"] == "svg", name


def test_today_and_the_notes_follow_the_pages_text_colour():
    found = every_chart()["runtime by day, today and projection"].to_dict()
    bars, outline, so_far, projection, projected = found["layer"]
    assert so_far["mark"]["type"] == "text" and so_far["mark"]["color"].lower() == CURRENT
    assert bars["mark"]["stroke"].lower() == CURRENT  # the dashed outline of a day not yet reconciled
    assert projected["mark"]["type"] == "text" and contrast(projected["mark"]["color"], DARK_BG) >= TEXT


def test_the_calendar_draws_no_white_grid_and_its_glyphs_read_on_their_cells():
    found = every_chart()["calendar"].to_dict()
    rect, text = found["layer"]
    assert "stroke" not in rect["mark"]  # gaps between the cells show the page, light or dark
    for status, ground in charts.STATUS_COLORS.items():
        assert contrast(charts.GLYPH_COLORS[status], ground) >= 4.0, status


def test_every_series_colour_stands_out_on_the_dark_page():
    for colour in [*charts.PALETTE, charts.OTHER_COLOUR]:
        assert contrast(colour, DARK_BG) >= GRAPHICS, colour
