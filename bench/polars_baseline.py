"""The polars baseline (issue 19): the pandas baseline's computations (bench/baseline.py) done the polars way, from
the same parquet exports: lazy scans whose filters polars pushes down into the parquet reader, then group-bys.

polars is the benchmark's own requirement (bench/requirements.txt); the app never imports it. Each function
returns polars frames with the same rows as its pandas twin, sorted by the same keys (pandas' groupby sorts
them), and the smoke test (tests/test_store_file.py) checks that the answers are equal: money as decimals,
counts exactly, hours to 1e-9."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from .baseline import AI_COLUMNS
from .generate import NOW

if TYPE_CHECKING:
    import polars as pl  # imported where used, as pandas is in baseline.py: `bench.timing` stays light for the
    # fresh processes that import it

AI_KEYS = ["customer_id", "day", "provider", "model"]
RUNTIME_KEYS = ["customer_id", "day", "workspace_id", "template"]
WORKSPACE = ["customer_id", "workspace_id"]


def _scan(folder: Path, dataset: str) -> pl.LazyFrame:
    """Every parquet file under folder/dataset (as pandas reads the folder), for a lazy query."""
    import polars as pl

    return pl.scan_parquet(folder / dataset, hive_partitioning=False)


def polars_ai_month(folder: Path, customer_id: str | None, first: datetime, end: datetime
                    ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Managed AI: the daily series per customer, day, provider and model (cost_usd stays a decimal), and each
    customer's totals."""
    import polars as pl

    first, end = first.replace(tzinfo=None), end.replace(tzinfo=None)  # the exports' timestamps are naive UTC
    where = (pl.col("bucket_start") >= first) & (pl.col("bucket_start") < end)
    if customer_id:
        where &= pl.col("customer_id") == customer_id
    daily = (_scan(folder, "ai_usage").filter(where)
             .group_by(pl.col("customer_id"), pl.col("bucket_start").dt.truncate("1d").alias("day"),
                       pl.col("provider"), pl.col("model"))
             .agg(pl.col(AI_COLUMNS).sum())
             .sort(AI_KEYS)
             .collect())
    return daily, daily.group_by("customer_id").agg(pl.col(AI_COLUMNS).sum()).sort("customer_id")


def polars_runtime_month(folder: Path, customer_id: str | None, first: datetime, end: datetime
                         ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Workspace runtime, as the app counts it (and as pandas_runtime_month does): sessions clipped to the period,
    a running one up to now; a workspace's overlapping sessions merged into runs; the runs split at UTC
    midnights; hours per day, workspace and template, and each customer's totals."""
    import polars as pl

    first, end = first.replace(tzinfo=None), end.replace(tzinfo=None)
    cap = min(end, NOW.replace(tzinfo=None))  # a running session counts up to now
    where = pl.col("started_at") < cap
    if customer_id:
        where &= pl.col("customer_id") == customer_id
    sessions = (_scan(folder, "workspace_sessions").filter(where)
                .select(*WORKSPACE, "template", "started_at",
                        pl.col("started_at").clip(lower_bound=first).alias("start"),
                        pl.col("ended_at").fill_null(cap).clip(upper_bound=cap).alias("end"))
                .filter(pl.col("end") > pl.col("start"))
                .sort([*WORKSPACE, "start", "started_at", "template"]))
    # A new run where a session starts after every earlier session of its workspace has ended.
    reach = pl.col("end").cum_max().shift(1).over(WORKSPACE)
    runs = (sessions.with_columns((pl.col("start") > reach).fill_null(True).cum_sum().over(WORKSPACE).alias("run"))
            .group_by(*WORKSPACE, "run")
            .agg(pl.col("template").first(), pl.col("start").min(), pl.col("end").max()))
    day = pl.col("day")
    parts = (runs.with_columns(pl.datetime_ranges(pl.col("start").dt.truncate("1d"),
                                                  (pl.col("end") - timedelta(microseconds=1)).dt.truncate("1d"),
                                                  "1d").alias("day"))
             .explode("day", empty_as_null=False)
             .with_columns(((pl.min_horizontal("end", day + timedelta(days=1)) - pl.max_horizontal("start", day))
                            .dt.total_microseconds() / 3_600_000_000).alias("hours")))
    daily = parts.group_by(RUNTIME_KEYS).agg(pl.col("hours").sum()).sort(RUNTIME_KEYS).collect()
    return daily, daily.group_by("customer_id").agg(pl.col("hours").sum()).sort("customer_id")


def polars_page(folder: Path, customer_id: str | None, first: datetime, end: datetime):
    """What pandas_page computes, with polars: the managed-AI month and the runtime month."""
    return (polars_ai_month(folder, customer_id, first, end),
            polars_runtime_month(folder, customer_id, first, end))
