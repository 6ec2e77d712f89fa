"""Shareable links: the period and (operators) the customer in the query string. Pure: what a query string asks
for, and the query string of what is picked (controls keeps the two in step).

    ?period=2026-10                 a calendar month
    ?period=previous-month          the month before the current one
    ?period=last-7-days             also last-30-days, last-90-days (ending today, included)
    ?from=2026-10-01&to=2026-10-15  a custom range, both days included
    ?customer=cus_x                 an operator's customer; none means all customers
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping

from .periods import PRESETS, Period, PeriodError

MONTH, CUSTOM = PRESETS[0], PRESETS[-1]  # "Calendar month", "Custom range"
SLUGS = {choice.lower().replace(" ", "-"): choice for choice in PRESETS if choice not in (MONTH, CUSTOM)}
KEYS = ("period", "from", "to", "customer")  # the parameters the app reads and writes; others are dropped
PERIOD_FORMS = "YYYY-MM, " + ", ".join(SLUGS) + ", or from=YYYY-MM-DD&to=YYYY-MM-DD"


@dataclass(frozen=True)
class Pick:
    """A period as the sidebar picks it: a preset, and its month or range when it needs one."""
    choice: str
    month: Period | None = None
    custom: tuple[date, date] | None = None


def _day(text: str, name: str) -> date:
    try:
        return Period.parse(f"{text}..{text}").first_day
    except PeriodError:
        raise PeriodError(f"{name}={text!r} is not a day YYYY-MM-DD in 1970..2199") from None


def period_pick(params: Mapping[str, str]) -> tuple[Pick | None, str | None]:
    """What the query string asks for: (the pick, None), (None, None) when it names no period, or (None, the
    one-line notice) when it names one that cannot be used."""
    period, start, end = params.get("period"), params.get("from"), params.get("to")
    try:
        if start is not None or end is not None:
            if period is not None:
                raise PeriodError("give either period= or from= and to=, not both")
            if start is None or end is None:
                raise PeriodError("a range needs both from= and to=")
            first, last = _day(start, "from"), _day(end, "to")
            if first > last:
                return _refuse(f"from={start} is after to={end}")
            return Pick(CUSTOM, custom=(first, last)), None
        if period is None:
            return None, None
        if period in SLUGS:
            return Pick(SLUGS[period]), None
        month = Period.parse(period)
        if not month.is_month:
            raise PeriodError(f"period={period!r} is not a month")
        return Pick(MONTH, month=month), None
    except PeriodError as error:
        return _refuse(str(error))


def _refuse(why: str) -> tuple[None, str]:
    return None, f"The link's period cannot be used ({why}; it takes {PERIOD_FORMS}), so the current month is shown."


def period_params(pick: Pick, today: date) -> dict[str, str]:
    """The query string of a pick (a calendar month by its label, even the current one: a shared link must mean
    the same month next month)."""
    if pick.choice == MONTH:
        month = pick.month or Period.month(today.year, today.month)
        return {"period": month.label}
    if pick.choice == CUSTOM and pick.custom:
        return {"from": pick.custom[0].isoformat(), "to": pick.custom[1].isoformat()}
    if pick.choice == CUSTOM:
        return {}
    return {"period": pick.choice.lower().replace(" ", "-")}


def ours(params: Mapping[str, str]) -> dict[str, str]:
    """The query string's parameters the app reads and writes."""
    return {key: params[key] for key in KEYS if key in params}
