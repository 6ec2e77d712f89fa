"""How figures read on a page: money, hours, counts, changes, reconciliation badges and periods, as text."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from . import rules
from .periods import Period

BADGE_COLORS = {rules.CURRENT: "green", rules.LAGGING: "orange", rules.STALE: "red", rules.MISMATCH: "red",
                rules.NOT_CONFIGURED: "gray"}


def usd(amount: Decimal, places: int = 2) -> str:
    """Money for people: exact Decimal rounded half up (cents on cards, 6 places in tables)."""
    value = rules.usd(amount) if places == 6 else Decimal(amount).quantize(Decimal(1).scaleb(-places),
                                                                            rounding="ROUND_HALF_UP")
    return f"${value:,.{places}f}"


def usd_card(amount: Decimal) -> str:
    """Money on a card that shares a row with three others: cents up to a million, then $13.9M (the card's
    help carries the exact amount)."""
    return usd(amount) if abs(amount) < 1_000_000 else f"${compact(float(amount))}"


def compact(count: int) -> str:
    """A large count in a few characters (81.0M); cards carry the exact figure in their help."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(count) >= size:
            return f"{count / size:.1f}{suffix}"
    return f"{count:,}"


def hours(value: float) -> str:
    return f"{value:,.2f} h"


def delta(current: float, previous: float) -> str | None:
    """The change against the comparison period, as a card shows it ("new" from nothing)."""
    if previous == 0:
        return None if current == 0 else "new"
    return f"{(current - previous) / previous:+.1%}"


def badge(label: str) -> str:
    """A reconciliation badge in Streamlit's markdown, coloured by how bad it is."""
    return f":{BADGE_COLORS.get(label, 'gray')}-badge[{label}]"


def lag_text(through: datetime, lag_days: int) -> str:
    behind = "up to date" if lag_days == 0 else f"{lag_days} day{'s' if lag_days != 1 else ''} behind"
    return f"reconciled through {through:%Y-%m-%d} · {behind}"


def period_text(period: Period, moment: datetime) -> str:
    """The period as the scope line shows it: its name, its UTC days, and whether it is closed or open."""
    label = period.first_day.strftime("%B %Y") if period.is_month else period.label
    span = f"{period.first_day:%Y-%m-%d} → {period.last_day:%Y-%m-%d} UTC"
    if period.has_ended(moment):
        return f"**{label}** · {span} · closed"
    if moment < period.start:
        return f"**{label}** · {span} · not started yet"
    return f"**{label}** · {span} · open, figures to {moment:%Y-%m-%d %H:%M} UTC"


# Export strings are data, never markup. Streamlit renders Markdown (with its own colour, icon and LaTeX
# syntax) in every message, caption, label and help text, so a value from the exports goes through literal()
# on its way into any of them; tables and charts draw text as text.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")  # controls that reorder text
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # line breaks and other control characters
_MARKUP = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark: each has a backslash escape
LONG = 80  # characters of an export string shown on screen; the rest is on hover and in downloads


def plain(text: object, limit: int | None = LONG) -> str:
    """An export string as it may be shown: bidirectional controls made visible as \ufffd, other control
    characters as spaces, and shortened to limit characters with an ellipsis (None: whole). For tables,
    chart labels and file contents' screen copies, which draw text as text."""
    value = _INVISIBLE.sub(" ", _BIDI.sub("\ufffd", "" if text is None else str(text)))
    return value if limit is None or len(value) <= limit else value[:limit - 1] + "…"


def literal(text: object, limit: int | None = LONG) -> str:
    """An export string (customer name or id, provider, model, template, workspace, user) for Streamlit
    Markdown: plain(), then every punctuation mark escaped, so no Markdown, colour or icon directive, LaTeX,
    link or image is ever made from data. The one way pages put data into a message."""
    return _MARKUP.sub(r"\\\1", plain(text, limit))


def code(text: object, limit: int | None = LONG) -> str:
    """An export string shown as inline code (ids): plain(), its backticks made into a fence no value can close."""
    value = plain(text, limit)
    fence = "`" * (max((len(run) for run in re.findall("`+", value)), default=0) + 1)
    return f"{fence} {value} {fence}"


def file_part(text: object) -> str:
    """An export string as part of a download's file name: letters, digits, '.', '_' and '-' only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", plain(text, 60)).strip(".-") or "unnamed"
