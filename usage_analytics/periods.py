"""Reporting periods: whole UTC days, start inclusive, end exclusive."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from datetime import date, datetime, time, timedelta, timezone
from typing import NamedTuple

_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")  # ASCII digits only: no full-width or other scripts' digits
_RANGE = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})\.\.([0-9]{4}-[0-9]{2}-[0-9]{2})$")
# The days a period and "now" may lie in: wide enough for any export, narrow enough that a previous period,
# a following month and a comparison can always be made (9999-12 has no following month).
EARLIEST, LATEST = date(1970, 1, 1), date(2199, 12, 31)


class PeriodError(ValueError):
    """A period text that is not YYYY-MM or YYYY-MM-DD..YYYY-MM-DD."""


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date  # inclusive

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise PeriodError(f"period {self.first_day}..{self.last_day} ends before it starts")
        if self.first_day < EARLIEST or self.last_day > LATEST:
            raise PeriodError(f"period {self.first_day}..{self.last_day} is outside the supported range "
                              f"{EARLIEST}..{LATEST}")

    # Worked out once per period (kept in the instance's __dict__, which equality and hashing do not read): an
    # operators' month asks each of thousands of customers' figures whether their period has ended.
    @cached_property
    def start(self) -> datetime:
        return _midnight(self.first_day)

    @cached_property
    def end(self) -> datetime:
        """The exclusive end: midnight UTC after the last day."""
        return _midnight(self.last_day + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def label(self) -> str:
        if self.first_day.day == 1 and self == Period.month(self.first_day.year, self.first_day.month):
            return self.first_day.strftime("%Y-%m")
        return f"{self.first_day.isoformat()}..{self.last_day.isoformat()}"

    @property
    def is_month(self) -> bool:
        """Whether this is one whole calendar month (what a month close and a FOCUS file are for)."""
        return self.label == self.first_day.strftime("%Y-%m")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls(first, following - timedelta(days=1))

    @classmethod
    def parse(cls, text: str) -> Period:
        """`YYYY-MM` (a calendar month) or `YYYY-MM-DD..YYYY-MM-DD` (end inclusive)."""
        text = text.strip()
        if m := _MONTH.match(text):
            if not 1 <= int(m[2]) <= 12:
                raise PeriodError(f"period {text!r}: month must be in 1..12")
            if not EARLIEST.year <= int(m[1]) <= LATEST.year:
                raise PeriodError(f"period {text!r} is outside the supported range {EARLIEST:%Y-%m}..{LATEST:%Y-%m}")
            return cls.month(int(m[1]), int(m[2]))
        if m := _RANGE.match(text):
            try:
                first, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            except ValueError as error:
                raise PeriodError(f"period {text!r}: {error}") from None
            return cls(first, last)
        raise PeriodError(f"period {text!r} is neither YYYY-MM nor YYYY-MM-DD..YYYY-MM-DD")

    def previous(self) -> Period:
        """The period of equal length just before this one."""
        return Period(self.first_day - timedelta(days=self.days), self.first_day - timedelta(days=1))

    def has_ended(self, now: datetime) -> bool:
        return now >= self.end


class Comparison(NamedTuple):
    """What a period's figures are compared with: the previous period, cut at the same offset from its start as
    this one is (cut); how far this one's figures reach (reach: now, the period's end, or where stale exports
    stop); and a caption naming both stretches."""
    previous: Period
    cut: datetime
    label: str
    reach: datetime


def _stretch(start: datetime, stop: datetime) -> str:
    return f"{start:%b %d %H:%M} → {stop:%b %d %H:%M} UTC"


def comparison(period: Period, moment: datetime, data_until: datetime | None = None) -> Comparison | None:
    """Like for like: what this period's figures are compared with, or None before it starts (or before the
    exports reach it).

    A calendar month is compared with the previous calendar month; any other period (last N days, a custom
    range) with the period of equal length just before it. While the period is open, or when its exports stop
    early (data_until: the data as-of of stale exports), both are cut at the same offset from their starts:
    November to the 24th 12:00 against October to the 24th 12:00. An ended period with fresh exports is
    compared whole with the whole previous one (a month of 28 days against one of 31)."""
    reach = min(moment, period.end) if data_until is None else min(moment, period.end, data_until)
    if reach <= period.start:
        return None
    if period.is_month:
        before = period.first_day - timedelta(days=1)
        previous = Period.month(before.year, before.month)
    else:
        previous = period.previous()
    whole = reach == period.end
    cut = previous.end if whole else min(previous.end, previous.start + (reach - period.start))
    kind = f"{previous.first_day:%B %Y}" if period.is_month else f"the previous {previous.days} days"
    if whole:
        label = f"{kind} ({previous.first_day:%Y-%m-%d} → {previous.last_day:%Y-%m-%d} UTC, whole)"
    else:
        label = (f"{kind} cut at the same point: {_stretch(period.start, reach)} against "
                 f"{_stretch(previous.start, cut)}")
    return Comparison(previous, cut, label, reach)


PRESETS = ("Calendar month", "Previous month", "Last 7 days", "Last 30 days", "Last 90 days", "Custom range")


def recent_months(today: date, count: int = 13) -> list[Period]:
    """The calendar month of today and the count - 1 before it, newest first."""
    year, month = today.year, today.month
    result = []
    for _ in range(count):
        result.append(Period.month(year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return result


def preset(choice: str, today: date, month: Period | None = None, custom: tuple[date, date] | None = None) -> Period:
    """The period a picker choice means on a given UTC day; "Last N days" ends today, included."""
    if choice == "Calendar month":
        return month or Period.month(today.year, today.month)
    if choice == "Previous month":
        return recent_months(today, 2)[1]
    if choice.startswith("Last ") and choice.endswith(" days"):
        days = int(choice.split()[1])
        return Period(today - timedelta(days=days - 1), today)
    if choice == "Custom range":
        if not custom:
            raise PeriodError("choose the first and the last day of the range")
        return Period(*custom)
    raise PeriodError(f"unknown period choice {choice!r}")
