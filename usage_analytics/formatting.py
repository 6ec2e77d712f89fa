"""How figures read on a page: money, hours, counts, changes, reconciliation badges and periods, as text."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from . import rules
from .periods import Period

BADGE_COLORS = {rules.CURRENT: "green", rules.LAGGING: "orange", rules.STALE: "red", rules.MISMATCH: "red",
                rules.NOT_CONFIGURED: "gray"}


def rounded(amount: Decimal | str, places: int = 2) -> Decimal:
    """An exact amount as it is shown: rounded half up to `places` (2: cents)."""
    return Decimal(amount).quantize(Decimal(1).scaleb(-places), rounding="ROUND_HALF_UP")


def usd(amount: Decimal, places: int = 2) -> str:
    """Money for people: exact Decimal rounded half up (cents on cards, 6 places in tables)."""
    value = rules.usd(amount) if places == 6 else rounded(amount, places)
    return f"${value:,.{places}f}"


def usd_text(amount: Decimal | str | float | None, places: int = 2) -> str:
    """Money as text wherever it cannot be a number column (a table cell that may be empty, a help or tooltip):
    the sign before the dollar, thousands separators, rounded half up to `places` (2: cents as shown; 6: the
    exact amount of every download, as in "Exact: $1,148.299073"). Accepts the packs' 6-place strings; no
    amount (None, "", NaN) is an empty string, never "None" or "$nan"."""
    if amount is None or (isinstance(amount, str) and not amount.strip()):
        return ""
    text = amount.strip() if isinstance(amount, str) else repr(amount) if isinstance(amount, float) else amount
    value = Decimal(text)
    if not value.is_finite():
        return ""
    value = rounded(value, places)
    return f"{'-' if value < 0 else ''}${abs(value):,.{places}f}"


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


STATUS_COLORS = {rules.FINAL: "green", rules.PROVISIONAL: "orange", rules.INCOMPLETE: "red", rules.NO_DATA: "gray"}


WITHOUT_FIGURE = (rules.INCOMPLETE, rules.NO_DATA)  # statuses whose number is not shown as a figure on a card


def figure(text: str, status: str) -> str:
    """A card's figure: the number, or "—" when its status says the number is no figure (an unread file, or no
    data): a big $0.00 would be read as a zero. The card's label and help carry the status and the number."""
    return "—" if status in WITHOUT_FIGURE else text


def status_badge(status: str) -> str:
    """A total's status (final, provisional, incomplete, no data) as a coloured badge."""
    return f":{STATUS_COLORS.get(status, 'gray')}-badge[{status}]"


def period_badge(badge_now: str, status: str) -> str:
    """An ended period's reconciliation badge: a mismatch in the period, else its total's status (today's lag
    is not the period's)."""
    return badge(rules.MISMATCH) if badge_now == rules.MISMATCH else status_badge(status)


def today_badge(lag_days: int) -> str:
    """Today's lag alone, as a badge (without the period's mismatch)."""
    return badge(rules.badge(lag_days, False))


_OPEN_STATE = {"mismatch": "a mismatch", "pending": "pending", "missing": "no reconciliation row"}


def lag_explained(provider: str, through: datetime, lag_days: int, first_open, state: str | None, period: Period,
                  today) -> str:
    """A provider's lag that explains itself: how far it is reconciled, its first open day (state, and whether
    it lies inside the period), and what happens next. provider is shown literally."""
    name = literal(provider)
    if first_open is None or rules.not_yet_due(first_open, today):
        due = "" if first_open is None else f"; {first_open:%Y-%m-%d} is not due yet (a day is reconciled after it ends)"
        return f"{lag_text(through, lag_days)}{due}."
    where = "inside this period" if period.first_day <= first_open <= period.last_day else \
        "before this period" if first_open < period.first_day else "after this period"
    day = f"{first_open:%Y-%m-%d}"
    then = {"mismatch": f"the platform is resolving a mismatch with {name} on {day}",
            "pending": f"waiting for {name} to confirm {day}"}.get(
        state or "", f"the platform's reconciliation has not reached {day} yet")
    return f"{lag_text(through, lag_days)} · first open day **{day}** ({_OPEN_STATE.get(state or '', state)}, {where}): {then}."


def lag_text(through: datetime, lag_days: int) -> str:
    behind = "up to date" if lag_days == 0 else f"{lag_days} day{'s' if lag_days != 1 else ''} behind"
    return f"reconciled through {through:%Y-%m-%d} · {behind}"


def period_name(period: Period, moment: datetime) -> str:
    """A period's name as people say it: "October 2026", "Last 7 days" (a range ending today), "15 days"."""
    if period.is_month:
        return period.first_day.strftime("%B %Y")
    days = f"{period.days} day{'s' if period.days != 1 else ''}"
    return f"Last {days}" if period.last_day == moment.date() else days[0].upper() + days[1:]


def period_text(period: Period, moment: datetime, until: datetime | None = None) -> str:
    """The period as the scope line shows it: its name, its UTC days, and whether it has ended or is open; until:
    where stale exports stop, when before the period's end or now."""
    label = period_name(period, moment)
    span = f"{period.first_day:%Y-%m-%d} → {period.last_day:%Y-%m-%d} UTC"
    if period.has_ended(moment):
        return f"**{label}** · {span} · ended"  # ("closed" is what a month close does)
    if moment < period.start:
        return f"**{label}** · {span} · not started yet"
    if until is not None:
        return f"**{label}** · {span} · open, figures to {until:%Y-%m-%d %H:%M} UTC (where the exports stop)"
    return f"**{label}** · {span} · open, figures to {moment:%Y-%m-%d %H:%M} UTC"


# Export strings are data, never markup. Streamlit renders Markdown (with its own colour, icon and LaTeX
# syntax) in every message, caption, label and help text, so a value from the exports goes through literal()
# on its way into any of them; tables and charts draw text as text.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")  # controls that reorder text
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # line breaks and other control characters
_MARKUP = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark: each has a backslash escape
LONG = 80  # characters of an export string shown on screen; the rest is on hover and in downloads
# GFM links bare URLs and e-mail addresses in the text after escapes are read (http://…, www.…, a@b.c): an
# invisible word joiner goes where each would be found, before '://', between 'www' and '.', and before '@'.
_AUTOLINK = re.compile(r"(?=://)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)


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
    return _MARKUP.sub(r"\\\1", _AUTOLINK.sub("\u2060", plain(text, limit)))


def code(text: object, limit: int | None = LONG) -> str:
    """An export string shown as inline code (ids): plain(), its backticks made into a fence no value can close."""
    value = plain(text, limit)
    fence = "`" * (max((len(run) for run in re.findall("`+", value)), default=0) + 1)
    return f"{fence} {value} {fence}"


def file_part(text: object) -> str:
    """An export string as part of a download's file name: letters, digits, '.', '_' and '-' only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", plain(text, 60)).strip(".-") or "unnamed"
