"""The data layer: views over the exports, clear messages for bad input, no extra column read."""
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import ROOT, at, customer, link, usage
from usage_analytics import handoff
from usage_analytics.contract import DATASETS
from usage_analytics.store import DataError
from usage_analytics.periods import Period
from usage_analytics.sample import write_dataset
from usage_analytics.summary import customer_summary

SENTINEL = "SENTINEL-7f3a-do-not-show"


def test_views_hold_exactly_the_contract_columns(sample_store):
    for name, dataset in DATASETS.items():
        columns = sample_store.cursor().execute(f'select * from "{name}" limit 0').description
        assert tuple(c[0] for c in columns) == dataset.column_names


def test_hive_style_month_folders_are_read(sample_store):
    files = sample_store.reports["ai_usage"].files
    assert any("month=" in str(f) for f in files) and len(files) >= 6


def test_a_missing_dataset_folder_is_named_and_other_datasets_keep_working(tmp_path, open_store):
    write_dataset(tmp_path, "customers", [customer()])
    store = open_store()
    assert "dataset ai_usage: folder" in store.problems["ai_usage"]
    assert store.run("customer_accounts", customer_id="cus_a").customer_name.tolist() == ["Customer A"]
    with pytest.raises(DataError, match=r"dataset ai_usage: folder .*ai_usage is missing; "
                                        r"dataset provider_links: folder .*provider_links is missing"):
        store.run("ai_unlinked_providers", customer_id="cus_a", period_start=at("2026-03-01 00:00"),
                  period_end=at("2026-04-01 00:00"), now=at("2026-05-01 00:00"))


def test_a_file_missing_a_column_is_left_out_and_named_with_the_column(exports, tmp_path, open_store):
    exports(provider_links=[link("openai")])
    table = pa.table({"customer_id": ["cus_a"], "provider": ["google"], "linked_at": [at("2026-01-01 00:00")]})
    pq.write_table(table, tmp_path / "provider_links" / "late.parquet")
    store = open_store()
    assert "provider_links" not in store.problems  # the other file still counts
    warnings = store.reports["provider_links"].warnings()
    assert warnings == [f"dataset provider_links: file {tmp_path}/provider_links/late.parquet was not read: "
                        "has no column provider_project_id"]
    assert store.reports["provider_links"].status == "degraded" and store.reports["provider_links"].rows_kept == 1


def test_a_dataset_whose_only_file_lacks_a_column_is_unusable(exports, tmp_path, open_store):
    exports()
    for old in (tmp_path / "provider_links").glob("*.parquet"):
        old.unlink()
    pq.write_table(pa.table({"customer_id": ["cus_a"]}), tmp_path / "provider_links" / "only.parquet")
    store = open_store()
    assert store.problems["provider_links"] == "dataset provider_links: none of its 1 files can be read"
    assert store.reports["provider_links"].status == "unusable"


def test_a_corrupt_file_is_named(exports, tmp_path, open_store):
    exports()  # every dataset present, with no rows
    (tmp_path / "ai_usage" / "junk.parquet").write_bytes(os.urandom(64))
    store = open_store()
    (file, why), = store.reports["ai_usage"].bad_files
    assert file.endswith("ai_usage/junk.parquet") and why.startswith("not readable parquet")


def test_extra_and_forbidden_columns_are_never_read_into_a_pack(exports, tmp_path, open_store):
    exports()  # every dataset present, with no rows
    rows = [usage("2026-03-02 10:00")]
    table = pq.read_table(write_dataset(tmp_path, "ai_usage", rows))
    for column in ("prompt", "api_key", "response"):
        table = table.append_column(column, pa.array([SENTINEL]))
    pq.write_table(table, tmp_path / "ai_usage" / "part-0.parquet")
    write_dataset(tmp_path, "provider_links", [link("openai")])
    store = open_store()
    data = handoff.pack(customer_summary(store, "cus_a", Period.parse("2026-03"), at("2026-04-02 00:00")))
    text = handoff.to_json(data) + handoff.to_csv(data)
    assert data["managed_ai"]["cost_usd"] == "1.000000"
    assert SENTINEL not in text and "proj_secret" not in text


def test_timestamps_with_a_zone_and_naive_ones_are_read_as_utc(exports, tmp_path, open_store):
    exports()  # every dataset present, with no rows
    ny = pa.timestamp("us", tz="America/New_York")
    table = pa.table({
        "customer_id": ["cus_a", "cus_a"], "workspace_id": ["ws1", "ws2"], "user_id": ["u", "u"],
        "template": ["standard", "standard"],
        "started_at": pa.array([at("2026-03-10 22:00"), at("2026-03-10 23:00")], ny),  # instants in UTC
        "ended_at": pa.array([at("2026-03-11 01:00"), None], ny),
    })
    pq.write_table(table, tmp_path / "workspace_sessions" / "part-0.parquet")
    naive = table.set_column(4, "started_at", pa.array([at("2026-03-12 22:00").replace(tzinfo=None)] * 2,
                                                       pa.timestamp("ns")))
    naive = naive.set_column(5, "ended_at", pa.array([at("2026-03-13 02:00").replace(tzinfo=None)] * 2,
                                                     pa.timestamp("ns")))
    naive = naive.set_column(1, "workspace_id", pa.array(["ws3", "ws3"]))
    pq.write_table(naive, tmp_path / "workspace_sessions" / "naive.parquet")
    store = open_store()
    rows = store.run("runtime_by_workspace_day", customer_id="cus_a", period_start=at("2026-03-01 00:00"),
                     period_end=at("2026-04-01 00:00"), now=at("2026-03-11 02:00"))
    assert [(r.day.day, r.workspace_id, r.runtime_hours) for r in rows.itertuples()] == [
        (10, "ws1", 2.0), (10, "ws2", 1.0), (11, "ws1", 1.0), (11, "ws2", 2.0)]
    later = store.run("runtime_by_workspace_day", customer_id="cus_a", period_start=at("2026-03-12 00:00"),
                      period_end=at("2026-03-14 00:00"), now=at("2026-03-20 00:00"))
    assert [(r.day.day, r.workspace_id, r.runtime_hours) for r in later.itertuples()] == [
        (12, "ws2", 24.0), (12, "ws3", 2.0), (13, "ws2", 24.0), (13, "ws3", 2.0)]


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_the_host_time_zone_changes_nothing(zone):
    command = [sys.executable, "-m", "usage_analytics", "handoff", "--customer", "cus_acme_robotics",
               "--period", "2026-10-31..2026-11-02", "--format", "csv"]
    outputs = [subprocess.run(command, cwd=ROOT, env={**os.environ, "TZ": tz}, capture_output=True, text=True,
                              check=True).stdout for tz in ("UTC", zone)]
    assert outputs[0] == outputs[1]


def test_hidden_and_in_progress_files_are_skipped(exports, tmp_path, open_store):
    exports(provider_links=[link("openai")], ai_usage=[usage("2026-03-02 10:00")]).close()
    for hidden in ("_temporary/part-9.parquet", ".part-8.parquet"):
        write_dataset(tmp_path, "ai_usage", [usage("2026-03-02 11:00")], part=hidden.removesuffix(".parquet"))
    store = open_store()
    assert [Path(f).name for f in store.reports["ai_usage"].files] == ["part-0.parquet"]


def test_queries_from_many_threads_get_their_own_rows(sample_store):
    from concurrent.futures import ThreadPoolExecutor

    ids = sample_store.run("customer_accounts", customer_id="cus_acme_robotics")  # warm
    customers = ["cus_acme_robotics", "cus_northwind_traders", "cus_globex_systems", "cus_hooli_cloud"] * 6
    month = Period.parse("2026-11")

    def hours(customer_id):
        rows = sample_store.run("runtime_by_workspace_day", customer_id=customer_id, period_start=month.start,
                                period_end=month.end, now=at("2026-11-24 12:00"))
        return customer_id, round(rows["runtime_hours"].sum(), 6)

    expected = dict(hours(c) for c in set(customers))
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(hours, customers)) == [(c, expected[c]) for c in customers]
    assert len(set(expected.values())) == 4 and not ids.empty


def test_duplicates_are_found_by_their_real_key_even_when_key_hashes_collide(tmp_path):
    # The duplicate check groups a hash of each key; rows whose hash repeats are numbered by their real key.
    # With every hash forced equal (all keys collide), the verdicts must be exactly the same.
    import duckdb

    from usage_analytics import validation

    rows = [usage("2026-03-01 10:00"), usage("2026-03-01 11:00"), usage("2026-03-01 10:00", cost="2.000000"),
            usage("2026-03-01 10:00", provider="anthropic"), usage("2026-03-01 12:00", customer="cus_b")]
    first = write_dataset(tmp_path, "ai_usage", rows, "part-0")
    second = write_dataset(tmp_path, "ai_usage", [usage("2026-03-01 11:00", cost="3.000000"),
                                                  usage("2026-03-01 12:00")], "part-1")
    files = f"['{first}', '{second}']"
    con = duckdb.connect()
    types = dict(con.execute(f"select column_name, column_type from (describe select * from read_parquet({files}))")
                 .fetchall())
    query = validation.checked_rows_sql(DATASETS["ai_usage"], files, types).replace("$now", "timestamp '2026-03-02'")
    collided = query.replace("select hash(", "select 0 * hash(").replace("where hash(", "where 0 * hash(")
    assert collided.count("0 * hash(") == 2
    verdicts = [con.execute(q + " order by _file_no, _row").fetchall() for q in (query, collided)]
    assert verdicts[0] == verdicts[1]
    # refused (file, row): the repeat of 10:00 in part-0 and of 11:00 in part-1; the first of each is kept
    assert [(row[10], row[11]) for row in verdicts[0] if row[-1]] == [(0, 3), (1, 1)]


def test_hour_buckets_are_checked_for_duplicates_by_their_day_with_the_same_verdicts(tmp_path):
    # ai_usage's duplicate check groups the rows of one day (the rest of the key alike) and numbers by their real
    # key only the days whose buckets are not each on an hour of their own; a check by every key (bucket_start not
    # marked hourly) must give every row the same verdict, buckets off the hour and missing ones included.
    import dataclasses

    import duckdb

    from usage_analytics import validation

    def missing_bucket() -> dict:
        return {**usage("2026-03-01 10:00"), "bucket_start": None}

    first = write_dataset(tmp_path, "ai_usage", [
        usage("2026-03-01 10:00"), usage("2026-03-01 10:00", cost="2.000000"),  # row 2 (from 1) repeats row 1
        usage("2026-03-02 10:00"),  # the same hour of another day: no repeat
        usage("2026-03-01 10:15"), usage("2026-03-01 10:45"),  # off the hour, in one hour: no repeat
        usage("2026-03-01 10:15", cost="3.000000"),  # row 6 repeats row 4
        usage("2026-03-01 11:00", model="m2"), missing_bucket(), missing_bucket()], "part-0")  # row 9 repeats 8
    second = write_dataset(tmp_path, "ai_usage", [usage("2026-03-01 11:00"), usage("2026-03-02 10:00")], "part-1")
    files = f"['{first}', '{second}']"
    con = duckdb.connect()
    types = dict(con.execute(f"select column_name, column_type from (describe select * from read_parquet({files}))")
                 .fetchall())
    hourly = DATASETS["ai_usage"]
    by_key = dataclasses.replace(hourly, columns=tuple(dataclasses.replace(c, hourly=False) for c in hourly.columns))
    duplicate = len(validation.reasons(hourly)) - 1  # (the last check)
    verdicts = [con.execute(validation.checked_rows_sql(dataset, files, types).replace("$now", "timestamp '2026-03-03'")
                            + " order by _file_no, _row").fetchall() for dataset in (hourly, by_key)]
    assert verdicts[0] == verdicts[1]
    assert [(row[10], row[11]) for row in verdicts[0] if duplicate in row[-1]] == [(0, 2), (0, 6), (0, 9), (1, 2)]

    # Buckets each on an hour of its own: no day is a suspect, so no row is numbered.
    def suspects(files: str) -> int:
        return con.execute(f"{validation._typed_sql(hourly, files, types)}, {validation._suspects(hourly)} "
                           "select count(*) from suspects").fetchone()[0]

    distinct = write_dataset(tmp_path / "distinct", "ai_usage", [
        usage("2026-03-01 10:00"), usage("2026-03-01 11:00"), usage("2026-03-01 22:00"), usage("2026-03-02 10:00"),
        usage("2026-03-01 10:00", model="m2")], "part-0")
    assert suspects(f"['{distinct}']") == 0
    assert suspects(files) == 3  # cus_a's openai m1 days: 1 March (10:00 twice), 2 March (in both files), none
