"""The benchmark's baselines (bench/baseline.py with pandas, bench/polars_baseline.py with polars, issue 19) on a
few sessions and buckets written by hand, where each rule of the app's counting shows: a session nested in a
longer one, a run across a midnight, a session clipped at the period's start, one still running, one ending at
midnight, buckets just outside the period, and cents that a float would not add exactly. (The smoke test in
test_store_file.py compares both with the app on the bench's generated data.)"""
from datetime import date, datetime
from decimal import Decimal

import ast

import duckdb
import pytest

from conftest import ROOT

from bench.baseline import pandas_ai_month, pandas_runtime_month
from bench.polars_baseline import polars_ai_month, polars_runtime_month
from usage_analytics.periods import Period

OCTOBER = Period.month(2026, 10)  # the bench's NOW is in November: a session running now counts to Oct 31's end

SESSIONS = [  # customer, workspace, template, started_at, ended_at
    ("cus_a", "ws_1", "standard", "2026-10-01 10:00", "2026-10-01 20:00"),
    ("cus_a", "ws_1", "large", "2026-10-01 11:00", "2026-10-01 12:00"),  # inside the one above
    ("cus_a", "ws_1", "gpu", "2026-10-01 19:00", "2026-10-02 02:00"),  # overlaps it: one run, across midnight
    ("cus_a", "ws_1", "gpu", "2026-10-05 08:00", None),  # running
    ("cus_a", "ws_2", "large", "2026-09-30 22:00", "2026-10-01 01:00"),  # clipped at the period's start
    ("cus_b", "ws_3", "standard", "2026-10-02 12:00", "2026-10-03 00:00"),  # ends at midnight
    ("cus_b", "ws_3", "standard", "2026-11-01 00:00", "2026-11-01 05:00"),  # after the period
]
BUCKETS = [  # customer, bucket_start, provider, model, requests, cost_usd
    ("cus_a", "2026-09-30 23:00", "openai", "o4-mini", 1, "9.000000"),  # before the period
    ("cus_a", "2026-10-01 00:00", "openai", "o4-mini", 2, "0.100000"),
    ("cus_a", "2026-10-01 23:00", "openai", "o4-mini", 3, "0.200000"),
    ("cus_a", "2026-10-01 05:00", "openai", "gpt-4.1", 4, "1.000001"),
    ("cus_a", "2026-10-31 23:00", "google", "gemini-2.5-pro", 5, "0.000001"),
    ("cus_b", "2026-10-02 00:00", "anthropic", "claude-haiku-4", 6, "2.500000"),
    ("cus_b", "2026-11-01 00:00", "anthropic", "claude-haiku-4", 7, "8.000000"),  # after the period
]


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """The rows above as parquet exports, with the bench's column types (bench/generate.py)."""
    folder = tmp_path_factory.mktemp("exports")
    con = duckdb.connect()
    for name in ("workspace_sessions", "ai_usage"):
        (folder / name).mkdir()
    con.execute("create table s (customer_id varchar, workspace_id varchar, template varchar, started_at timestamp, "
                "ended_at timestamp)")
    con.executemany("insert into s values (?, ?, ?, ?, ?)", SESSIONS)
    con.execute(f"copy (select customer_id, workspace_id, 'usr' as user_id, template, started_at, ended_at from s) "
                f"to '{folder / 'workspace_sessions' / '2026.parquet'}' (format parquet)")
    con.execute("create table u (customer_id varchar, bucket_start timestamp, provider varchar, model varchar, "
                "requests ubigint, cost_usd decimal(18, 6))")
    con.executemany("insert into u values (?, ?, ?, ?, ?, ?)", BUCKETS)
    con.execute(f"copy (select customer_id, bucket_start, provider, model, 'proj' as provider_project_id, requests, "
                f"requests * 1000 as input_tokens, requests as cached_input_tokens, requests * 10 as output_tokens, "
                f"cost_usd from u) to '{folder / 'ai_usage' / '2026.parquet'}' (format parquet)")
    con.close()
    return folder


def hours(*parts):
    """Hours per (customer, October day, workspace, template), in that order (both baselines sort so)."""
    return dict(sorted(((c, date(2026, 10, d), w, t), h) for c, d, w, t, h in parts))


RUNTIME = hours(
    ("cus_a", 1, "ws_1", "standard", 14.0), ("cus_a", 2, "ws_1", "standard", 2.0),  # 10:00 to 02:00, one run
    ("cus_a", 5, "ws_1", "gpu", 16.0), *[("cus_a", d, "ws_1", "gpu", 24.0) for d in range(6, 32)],  # running
    ("cus_a", 1, "ws_2", "large", 1.0),
    ("cus_b", 2, "ws_3", "standard", 12.0))


@pytest.mark.parametrize("customer_id", [None, "cus_a", "cus_b"])
def test_pandas_and_polars_count_workspace_runtime_as_the_app_does(exports, customer_id):
    expected = {key: h for key, h in RUNTIME.items() if customer_id in (None, key[0])}
    totals = {}
    for (c, *_), h in expected.items():
        totals[c] = totals.get(c, 0) + h
    daily, by_customer = pandas_runtime_month(exports, customer_id, OCTOBER.start, OCTOBER.end)
    assert {(c, day.date(), w, t): h for (c, day, w, t), h in daily.items()} == pytest.approx(expected, abs=1e-9)
    assert by_customer.to_dict() == pytest.approx(totals, abs=1e-9)
    daily, by_customer = polars_runtime_month(exports, customer_id, OCTOBER.start, OCTOBER.end)
    assert [(c, day.date(), w, t) for c, day, w, t, _ in daily.rows()] == list(expected)  # in the same order
    assert daily["hours"].to_list() == pytest.approx(list(expected.values()), abs=1e-9)
    assert dict(by_customer.rows()) == pytest.approx(totals, abs=1e-9)


AI = [  # customer, day, provider, model, requests, input, cached, output tokens, cost
    ("cus_a", 1, "openai", "gpt-4.1", 4, 4000, 4, 40, "1.000001"),
    ("cus_a", 1, "openai", "o4-mini", 5, 5000, 5, 50, "0.3"),  # 0.1 + 0.2, exactly
    ("cus_a", 31, "google", "gemini-2.5-pro", 5, 5000, 5, 50, "0.000001"),
    ("cus_b", 2, "anthropic", "claude-haiku-4", 6, 6000, 6, 60, "2.5")]


@pytest.mark.parametrize("customer_id", [None, "cus_a", "cus_b"])
def test_pandas_and_polars_sum_managed_ai_per_day_provider_and_model_exactly(exports, customer_id):
    rows = sorted((c, datetime(2026, 10, d), p, m, *counts, Decimal(cost))
                  for c, d, p, m, *counts, cost in AI if customer_id in (None, c))
    totals = {}
    for c, _, _, _, *sums in rows:
        totals[c] = [a + b for a, b in zip(totals.get(c, [0] * 5), sums)]
    daily, by_customer = pandas_ai_month(exports, customer_id, OCTOBER.start, OCTOBER.end)
    assert list(daily.reset_index().itertuples(index=False, name=None)) == rows
    assert {c: list(sums) for c, *sums in by_customer.reset_index().itertuples(index=False, name=None)} == totals
    daily, by_customer = polars_ai_month(exports, customer_id, OCTOBER.start, OCTOBER.end)
    assert daily.rows() == rows and daily.schema["cost_usd"].is_decimal()
    assert {c: sums for c, *sums in by_customer.rows()} == totals


def test_polars_is_the_benchmarks_requirement_and_never_the_apps():
    """polars is in bench/requirements.txt (which requirements-test.txt includes), not in requirements.txt, and
    no module of the app imports it."""
    assert "polars" in (ROOT / "bench" / "requirements.txt").read_text()
    assert "-r bench/requirements.txt" in (ROOT / "requirements-test.txt").read_text().splitlines()
    assert "polars" not in (ROOT / "requirements.txt").read_text()
    app = [ROOT / "app.py", *(ROOT / "pages").rglob("*.py"), *(ROOT / "usage_analytics").rglob("*.py")]
    assert len(app) > 10
    for path in app:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(name.split(".")[0] == "polars" for name in names), path
