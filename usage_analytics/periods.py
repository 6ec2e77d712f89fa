"""Reporting periods: whole UTC days, start inclusive, end exclusive."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import NamedTuple

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


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

    @property
    def start(self) -> datetime:
        return _midnight(self.first_day)

    @property
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
    """What a period's figures are compared with: the previous period, its figures as of cut, and a label."""
    previous: Period
    cut: datetime
    label: str


def comparison(period: Period, moment: datetime) -> Comparison | None:
    """The previous period of equal length, cut at the same point as this one (like for like); None before
    the period starts.

    An open period is compared with the same elapsed time of the previous one: November to the 24th
    noon against October 2nd to the 26th noon, not against all thirty days."""
    if moment <= period.start:
        return None
    previous = period.previous()
    cut = previous.start + (min(moment, period.end) - period.start)
    label = (f"the previous {previous.days} days ({previous.first_day:%Y-%m-%d} → {previous.last_day:%Y-%m-%d} UTC)"
             if period.has_ended(moment) else
             f"the same stretch of the previous {previous.days} days ({previous.start:%Y-%m-%d %H:%M} → "
             f"{cut:%Y-%m-%d %H:%M} UTC)")
    return Comparison(previous, cut, label)


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
