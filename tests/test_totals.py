"""The totals and trends the pages read equal the per-day rows they stand for, for any window and 'now'.

An operators' month reads one row per customer (runtime_totals, ai_usage_by_provider) and per-day trends
summed across customers (ai_usage_trend, whose whole days come from a rollup summed across customers);
these must be exactly what summing ai_usage_by_day and runtime_by_workspace_day gives."""
from datetime import datetime, time, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from tests.test_rollups import windows

CUSTOMERS = [None, "cus_acme_robotics"]
COUNTS = ["requests", "input_tokens", "cached_input_tokens", "output_tokens"]


def _params(customer, start: datetime, end: datetime) -> dict:
    return dict(customer_id=customer, period_start=start, period_end=end, now=datetime(2026, 11, 24, 12))


def _summed(frame: pd.DataFrame, keys: list[str]) -> list[tuple]:
    if frame.empty:
        return []
    counts = frame.groupby(keys)[COUNTS].sum()
    cost = frame.groupby(keys)["cost_usd"].agg(lambda amounts: sum(amounts, Decimal(0)))
    return [(*key, *map(int, row), cost[key]) for key, row in zip(counts.index, counts.itertuples(index=False))]


def _rows(frame: pd.DataFrame, keys: list[str]) -> list[tuple]:
    return [tuple(row) for row in frame[[*keys, *COUNTS, "cost_usd"]].itertuples(index=False)]


@pytest.mark.parametrize("customer", CUSTOMERS)
def test_ai_totals_and_trend_equal_the_summed_days(sample_store, customer):
    checked = 0
    for start, end in windows():
        params = _params(customer, start, end)
        days = sample_store.run("ai_usage_by_day", **params)
        trend_keys = ["day", "provider", "model", "reconciliation_status"]
        assert _rows(sample_store.run("ai_usage_trend", **params), trend_keys) == _summed(days, trend_keys), \
            (start, end)
        assert _rows(sample_store.run("ai_usage_by_provider", **params), ["customer_id", "provider"]) == \
            _summed(days, ["customer_id", "provider"]), (start, end)
        checked += not days.empty
    assert checked > 30  # most windows hold usage


@pytest.mark.parametrize("customer", CUSTOMERS)
def test_runtime_totals_and_trend_equal_the_summed_days(sample_store, customer):
    checked = 0
    for start, end in windows():
        params = _params(customer, start, end)
        days = sample_store.run("runtime_by_workspace_day", **params)
        totals = sample_store.run("runtime_totals", **params)
        per_customer = totals[totals["customer_id"].notna()]
        across = totals[totals["customer_id"].isna()]
        if days.empty:
            assert totals.empty
            continue
        expected = days.groupby("customer_id").agg(hours=("runtime_hours", "sum"),
                                                   workspaces=("workspace_id", "nunique"),
                                                   running=("is_running", "any"))
        running_now = days[days["is_running"]].groupby("customer_id")["workspace_id"].nunique()
        assert per_customer["customer_id"].tolist() == expected.index.tolist()
        assert per_customer["runtime_hours"].tolist() == pytest.approx(expected["hours"].tolist(), abs=1e-9)
        assert per_customer["active_workspaces"].tolist() == expected["workspaces"].tolist()
        assert per_customer["is_running"].tolist() == expected["running"].tolist()
        assert per_customer["running_workspaces"].tolist() == [int(running_now.get(c, 0)) for c in expected.index]
        trend = days.groupby(["day", "template"])["runtime_hours"].sum()
        assert list(zip(across["day"], across["template"])) == trend.index.tolist(), (start, end)
        assert across["runtime_hours"].tolist() == pytest.approx(trend.tolist(), abs=1e-9)
        checked += 1
    assert checked > 30


def test_the_rollup_across_customers_holds_every_linked_day_once(sample_store):
    con = sample_store.cursor()
    linked = ("from ai_usage_daily as u semi join (select distinct customer_id, provider from provider_links) as l "
              "on u.customer_id = l.customer_id and u.provider = l.provider")
    assert con.execute("select sum(requests), sum(cost_usd) from ai_usage_daily_across").fetchone() == \
        con.execute(f"select sum(u.requests), sum(u.cost_usd) {linked}").fetchone()


@pytest.mark.parametrize("customer", [None, "cus_prestige_worldwide"])  # (a customer with usage of both kinds)
def test_the_providers_not_linked_are_the_pairs_the_unlinked_query_names(sample_store, customer):
    """reconciliation_summary's rows not linked name the providers with usage in a period (whole UTC days, as
    every period is) up to now but no link: what ai_unlinked_providers finds from the buckets themselves."""
    named = 0
    for start, end in windows():
        first, after = datetime.combine(start.date(), time(0)), datetime.combine(end.date(), time(0)) + timedelta(1)
        for now in (datetime(2026, 11, 24, 12), datetime(2026, 11, 24), datetime(2026, 10, 15, 6, 30),
                    datetime(2026, 9, 30, 23, 30)):
            params = dict(customer_id=customer, period_start=first, period_end=after, now=now)
            summary = sample_store.run("reconciliation_summary", **params)
            unlinked = sample_store.run("ai_unlinked_providers", **params)
            pairs = list(zip(unlinked["customer_id"], unlinked["provider"]))
            rows = summary[~summary["linked"]]
            assert list(zip(rows["customer_id"], rows["provider"])) == pairs, (first, after, now)
            linked = set(zip(summary.loc[summary["linked"], "customer_id"], summary.loc[summary["linked"], "provider"]))
            assert not linked & set(pairs)
            named += len(pairs)
    assert named > 0  # (the sample has usage of providers that are not linked)
