"""The areas of a scope's figures: each reads its own datasets, so an unusable dataset takes down only its areas."""
from __future__ import annotations

from enum import Enum


class Area(Enum):
    """An area of the figures; its value is how a user is told which figures are missing. An Enum, so a
    misspelt area fails at once instead of never being reported missing."""
    RUNTIME = "workspace runtime"
    AI = "managed-AI usage and reconciliation"
    BILLING = "billing"
    AHEAD = "balance estimates and projections"  # (usage since a snapshot and over the last 7 days)


# The totals queries each area reads at once (the fastest areas first: their figures are made while the
# others still run).
TOTALS = {
    Area.BILLING: ("billing_snapshot", "customer_refused_rows"),
    Area.AI: ("ai_usage_by_provider", "reconciliation_summary"),  # (the latter names the providers not linked too)
    Area.RUNTIME: ("runtime_totals",),
    Area.AHEAD: ("outlook", "outlook_since"),  # (the latter one customer's only when prepaid: summary._start)
}
DETAILS = {  # rows fetched when a page first asks for them -> their area
    "runtime_by_workspace_day": Area.RUNTIME,
    "ai_usage_by_day": Area.AI,
    "ai_usage_trend": Area.AI,
    "reconciliation_days": Area.AI,
    "runtime_totals": Area.RUNTIME,  # (its rows across customers are the runtime trend)
}

# Rows a page fetches for what it draws and no figure reads, cached apart from the figures (caches.rows) -> their
# area. The all-customers pages draw a top-N and totals from these instead of every customer's days.
DRAWN = {
    "runtime_by_user": Area.RUNTIME,
    "runtime_active_users": Area.RUNTIME,
    "runtime_top_workspaces": Area.RUNTIME,
    "runtime_customer_series": Area.RUNTIME,
    "ai_customer_series": Area.AI,
    "ai_pair_days": Area.AI,
}


def checked(areas: tuple) -> tuple[Area, ...]:
    """The areas as given, refused at once when one is not an Area (a string such as "ai" included)."""
    wrong = [a for a in areas if not isinstance(a, Area)]
    if wrong:
        raise TypeError(f"not an Area: {wrong!r}")
    return areas
