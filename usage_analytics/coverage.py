"""What the exports can and cannot tell about a period: their span of usage (coverage), how fresh they are
(the data as-of), which files could not be read, and what that makes of a figure's status. One place for
these rules; pages, packs, closes and the command line read them from a summary's `data`."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone

from . import rules, validation
from .periods import Period

FULL, PARTIAL, NONE = "full", "partial", "none"
DEFAULT_FRESH_HOURS = 36.0  # EXPORT_MAX_AGE_HOURS' default: exports this recent reach "now"

# The datasets each figure is made from: a file of one that could not be read makes the figure incomplete.
# (customers: a customer in an unread file is missing from every list, so every all-customer figure and file.)
RUNTIME = ("workspace_sessions",)
MANAGED_AI = ("ai_usage", "provider_links", "reconciliation")
BILLING = ("billing_accounts",)
PACK = ("customers", *BILLING, *RUNTIME, *MANAGED_AI)  # what a handoff pack or a close is made from
FOCUS = ("customers", *MANAGED_AI)  # what a FOCUS file is made from


def unread_files(reports: dict, datasets: tuple[str, ...] | None = None) -> dict[str, int]:
    """Files that could not be read, per dataset (of these datasets; None: every one)."""
    return {name: len(r.bad_files) for name, r in reports.items()
            if r.bad_files and (datasets is None or name in datasets)}


def files_text(counts: dict[str, int]) -> str:
    """{'ai_usage': 1} as 'ai_usage: 1 file', for one-line messages ('' when there are none)."""
    return ", ".join(f"{name}: {count} file{'s' if count != 1 else ''}" for name, count in counts.items())


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Coverage:
    """How much of a period (up to now) the exports cover, and which of their files could not be read."""
    as_of: datetime | None  # the newest moment every usage export reaches (validation.data_as_of)
    since: datetime | None  # the first moment of usage the exports hold
    level: str  # FULL | PARTIAL | NONE
    note: str  # why it is not full, for people ("" when full)
    unread: dict[str, int] = field(default_factory=dict)  # dataset -> files that could not be read
    stale_until: datetime | None = None  # as_of, when the exports stop before the period's end or now

    def unread_in(self, datasets: tuple[str, ...]) -> dict[str, int]:
        return {name: count for name, count in self.unread.items() if name in datasets}

    def status(self, datasets: tuple[str, ...], final: bool) -> str:
        """A figure's status: incomplete when a file it is made from could not be read; no data when the period
        lies outside the exports; final only when the figure would be final (final) and coverage is full."""
        if self.unread_in(datasets):
            return rules.INCOMPLETE
        if self.level == NONE:
            return rules.NO_DATA
        return rules.FINAL if final and self.level == FULL else rules.PROVISIONAL

    def unread_text(self, datasets: tuple[str, ...]) -> str:
        """'ai_usage: 1 file' …, for one-line messages ('' when every file was read)."""
        return files_text(self.unread_in(datasets))

    def block(self) -> dict:
        """The pack's `data` block without the customer's own rejected rows (handoff.pack adds them)."""
        return {"as_of": _iso(self.as_of), "coverage": self.level, "note": self.note,
                "unread_files": dict(self.unread)}


def coverage(reports: dict, period: Period, now: datetime, fresh_hours: float = DEFAULT_FRESH_HOURS) -> Coverage:
    """The exports' coverage of a period up to now.

    The exports hold usage from `since` (the first session or AI bucket) to `as_of` (the older of the newest
    session and AI bucket). The period up to now (its end, once ended) is covered fully when the exports start
    at or before the period's start and reach its end, or now, to within fresh_hours (the staleness allowed by
    EXPORT_MAX_AGE_HOURS: exports are written in batches); partly when they cover some of it; not at all when
    none of it lies inside them, or the exports hold no usage."""
    as_of, first = validation.data_as_of(reports), validation.usage_since(reports)
    # The exports are taken to start at the beginning of the UTC day of their first event: a period starting
    # that day is covered (exports hold whole days; the first customer rarely starts at midnight).
    since = None if first is None else datetime.combine(first.date(), time(0), tzinfo=timezone.utc)
    unread = unread_files(reports)
    reach = min(now, period.end)
    if as_of is None or since is None:
        return Coverage(as_of, since, NONE, "the exports hold no usage yet", unread)
    if reach <= period.start:
        return Coverage(as_of, since, NONE, "the period has not started yet", unread)
    fresh = timedelta(hours=fresh_hours)
    if reach <= since:
        return Coverage(as_of, since, NONE, f"the period ends before the exports start on {since:%Y-%m-%d} UTC",
                        unread)
    if period.start >= as_of + fresh:
        return Coverage(as_of, since, NONE, f"the period starts after the exports end on "
                                            f"{as_of:%Y-%m-%d %H:%M} UTC", unread)
    gaps = []
    if since > period.start:
        gaps.append(f"the exports start {since:%Y-%m-%d} UTC, inside the period")
    stale = as_of + fresh < reach
    if stale:
        gaps.append(f"the exports end {as_of:%Y-%m-%d %H:%M} UTC, before the period's "
                    + ("end" if period.has_ended(now) else "now"))
    if gaps:
        return Coverage(as_of, since, PARTIAL, "; ".join(gaps) + ": usage outside the exports is missing", unread,
                        as_of if stale else None)
    return Coverage(as_of, since, FULL, "", unread)
