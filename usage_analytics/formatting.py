"""How figures read on a page: money, hours, counts, changes, reconciliation badges and periods, as text."""
from __future__ import annotations

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
