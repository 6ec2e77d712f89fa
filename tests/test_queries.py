"""Every queries/*.sql: header present, declared params == used params, result columns == header."""
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from usage_analytics import sql
from usage_analytics.store import GIVEN

SAMPLE_VALUES = {
    "VARCHAR": "cus_acme_robotics",
    "TIMESTAMP": datetime(2026, 11, 1, tzinfo=timezone.utc),
    "INTEGER": 10,
    "VARCHAR[]": ["cus_acme_robotics"],
}
NAMES = sql.names()


def test_every_query_file_is_run_by_the_app_and_every_query_it_runs_has_a_file():
    from usage_analytics import areas, summary

    root = Path(sql.__file__).parent
    named = {name for path in root.glob("*.py") for name in re.findall(r'\.run\("(\w+)"', path.read_text())}
    named |= {name for names in areas.TOTALS.values() for name in names} | set(areas.DETAILS) | set(areas.DRAWN)
    named |= set(summary.SUMMED_HERE.values())
    assert named == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_header_declares_exactly_the_params_used(name):
    query = sql.load(name)
    assert query.description
    assert query.used_params() == set(query.params), "params declared in the header differ from those used"


@pytest.mark.parametrize("name", NAMES)
def test_result_columns_and_types_match_the_header(name, sample_store):
    query = sql.load(name)
    params = {key: SAMPLE_VALUES[kind] for key, kind in query.params.items() if key not in GIVEN}  # (the store's)
    if "period_start" in params:
        params["period_start"] = datetime(2026, 10, 1, tzinfo=timezone.utc)
    actual = sample_store.result_types(name, **params)
    assert [c for c, _ in actual] == [c for c, _ in query.returns]
    for (column, declared), (_, real) in zip(query.returns, actual):
        assert real == declared or real.startswith(declared + "("), f"{column}: header says {declared}, is {real}"
        if declared == "DECIMAL":  # money keeps the contract's 9 places until a figure rounds it, once
            assert real.endswith(",9)"), f"{column}: money at {real}, not 9 places"


def test_every_money_column_of_every_rollup_keeps_9_places(sample_store):
    # (a union takes its first side's scale: an empty amount typed DECIMAL(38,6) once rounded every day's sums)
    found = sample_store.cursor().execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where data_type like 'DECIMAL%' and table_name in $tables", {"tables": list(sql.rollups())}).fetchall()
    assert {table for table, _, _ in found} >= {"ai_usage_daily", "ai_provider_days", "ai_provider_months"}
    assert [(table, column, kind) for table, column, kind in found if not kind.endswith(",9)")] == []


@pytest.mark.parametrize("name", NAMES)
def test_query_style(name):
    text = sql.load(name).text
    body = re.sub(r"--[^\n]*", "", text)
    assert "select *" not in body.replace("select * from final", ""), "name the columns; only final may be *"
    assert re.search(r"select \* from final\s*(order by [^;]*)?$", body.strip()), "end in select * from final"
    assert ".parquet" not in body and "read_parquet" not in body, "queries use the dataset views"


@pytest.mark.parametrize("name", NAMES)
def test_each_query_reads_at_least_one_dataset_view(name):
    assert sql.load(name).datasets()


def test_calling_with_wrong_params_names_them(sample_store):
    with pytest.raises(sql.QueryError, match=r"missing params \['now'\], unexpected \['when'\]"):
        sample_store.run("billing_snapshot", customer_id="cus_x", when=datetime(2026, 1, 1))


def test_header_parsing_rejects_a_file_without_returns():
    with pytest.raises(sql.QueryError, match="needs a description"):
        sql.parse("broken", "-- Something.\n-- params: $a VARCHAR\nselect $a\n")
    assert sql.parse("ok", "-- Thing.\n-- params: none\n-- returns: x INTEGER\nselect 1 as x\n").params == {}
