"""The pandas baseline: each page's figures computed the way an analyst would, from the parquet exports."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from .generate import NOW

AI_COLUMNS = ["requests", "input_tokens", "cached_input_tokens", "output_tokens", "cost_usd"]


def pandas_ai_month(folder: Path, customer_id: str | None, first: datetime, end: datetime):
    """Managed AI: read_parquet with filters, then the daily series per provider and model, and totals."""
    import pandas as pd

    first, end = first.replace(tzinfo=None), end.replace(tzinfo=None)  # the exports' timestamps are naive UTC
    filters = [("bucket_start", ">=", first), ("bucket_start", "<", end)]
    if customer_id:
        filters.append(("customer_id", "==", customer_id))
    frame = pd.read_parquet(folder / "ai_usage", filters=filters,
                            columns=["customer_id", "bucket_start", "provider", "model", *AI_COLUMNS])
    frame["day"] = frame["bucket_start"].dt.floor("D")
    keys = ["customer_id", "day", "provider", "model"]
    daily = frame.groupby(keys, observed=True)[AI_COLUMNS].sum()
    return daily, daily.groupby(level="customer_id").sum()


def pandas_runtime_month(folder: Path, customer_id: str | None, first: datetime, end: datetime):
    """Workspace runtime, as the app counts it: hours per day, workspace and template, and totals."""
    first, end = first.replace(tzinfo=None), end.replace(tzinfo=None)
    cap = min(end, NOW.replace(tzinfo=None))  # a running session counts up to now
    parts = _split_at_midnights(_runs(_sessions_in(folder, customer_id, first, cap)))
    daily = parts.groupby(["customer_id", "day", "workspace_id", "template"])["hours"].sum()
    return daily, daily.groupby(level="customer_id").sum()


def _sessions_in(folder: Path, customer_id: str | None, first: datetime, cap: datetime):
    """read_parquet with filters, each session clipped to [first, cap), sorted per workspace by start."""
    import pandas as pd

    filters = [("started_at", "<", cap)] + ([("customer_id", "==", customer_id)] if customer_id else [])
    s = pd.read_parquet(folder / "workspace_sessions", filters=filters,
                        columns=["customer_id", "workspace_id", "template", "started_at", "ended_at"])
    s["start"] = s["started_at"].clip(lower=first)
    s["end"] = s["ended_at"].fillna(cap).clip(upper=cap)
    return s[s["end"] > s["start"]].sort_values(["customer_id", "workspace_id", "start", "started_at", "template"])


def _runs(s):
    """A workspace's overlapping sessions merged into runs: a new run where a start passes the running max end."""
    keys = ["customer_id", "workspace_id"]
    reach = s.groupby(keys)["end"].cummax()
    new_run = (s["start"] > reach.groupby([s["customer_id"], s["workspace_id"]]).shift()).fillna(True)
    s["run"] = new_run.groupby([s["customer_id"], s["workspace_id"]]).cumsum()
    return s.groupby([*keys, "run"], sort=False).agg(template=("template", "first"), start=("start", "min"),
                                                     end=("end", "max")).reset_index()


def _split_at_midnights(runs):
    """Each run as one row per UTC day it touches, with its hours in that day."""
    import numpy as np
    import pandas as pd

    first_day = runs["start"].dt.floor("D")
    days = ((runs["end"] - pd.Timedelta(microseconds=1)).dt.floor("D") - first_day).dt.days + 1
    parts = runs.loc[runs.index.repeat(days)].reset_index(drop=True)
    offset = np.concatenate([np.arange(n) for n in days]) if len(days) else np.array([], dtype=int)
    parts["day"] = first_day.loc[first_day.index.repeat(days)].reset_index(drop=True) + pd.to_timedelta(offset, "D")
    parts["hours"] = ((parts["end"].clip(upper=parts["day"] + pd.Timedelta(days=1))
                       - parts["start"].clip(lower=parts["day"])).dt.total_seconds() / 3600)
    return parts


def pandas_page(folder: Path, customer_id: str | None, first: datetime, end: datetime):
    """What the analyst computes for a page: the managed-AI month and the runtime month."""
    return (pandas_ai_month(folder, customer_id, first, end),
            pandas_runtime_month(folder, customer_id, first, end))
