"""A corpus of broken exports built in code: each gives its message (dataset, file, column, value), the rest
keeps working, nothing is dropped silently, no traceback, and a forbidden column's value is never seen."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import ROOT, at, customer, link, recon, session, usage
from usage_analytics.build import build
from usage_analytics.sample import write_dataset

NOW = at("2026-03-11 12:00")  # the exports below are fresh as of now
SENTINEL = "SENTINEL-never-shown-7f3a"


@pytest.fixture
def folder(tmp_path):
    """Valid exports of one customer (cus_a, linked to openai) to break one piece at a time."""
    rows = {
        "customers": [customer()],
        "billing_accounts": [{"customer_id": "cus_a", "as_of": at("2026-03-01 00:00"), "billing_mode": "paid",
                              "payment_verified": True}],
        "workspace_sessions": [session("ws1", "2026-03-10 09:00", "2026-03-10 17:00")],
        "ai_usage": [usage("2026-03-10 10:00"), usage("2026-03-11 10:00", cost="2.000000")],
        "provider_links": [link("openai")],
        "reconciliation": [recon("2026-03-10", "matched")],
    }
    for name, data in rows.items():
        write_dataset(tmp_path, name, data)
    return tmp_path


def store_of(path):
    store = build(path, NOW)
    return store, store.reports


def one_file(path: Path, dataset: str) -> Path:
    return path / dataset / "part-0.parquet"


def rewrite(path: Path, dataset: str, change) -> None:
    """Read the dataset's file, change the arrow table, write it back."""
    table = pq.read_table(one_file(path, dataset))
    pq.write_table(change(table), one_file(path, dataset))


def replace_column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


def cli(path, *args):
    return subprocess.run([sys.executable, "-m", "usage_analytics", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "USAGE_DATA_DIR": str(path), "ANALYTICS_NOW": "2026-03-11T12:00:00Z"})


def test_the_valid_folder_is_all_ok(folder):
    _, reports = store_of(folder)
    assert {r.status for r in reports.values()} == {"ok"}
    done = cli(folder, "check")
    assert done.returncode == 0 and "  - " not in done.stdout and "data as of 2026-03-10 09:00 UTC" in done.stdout


def test_a_truncated_file_is_left_out_and_named(folder):
    data = one_file(folder, "ai_usage").read_bytes()
    (folder / "ai_usage" / "cut.parquet").write_bytes(data[: len(data) // 2])
    _, reports = store_of(folder)
    (file, why), = reports["ai_usage"].bad_files
    assert file.endswith("ai_usage/cut.parquet") and why.startswith("not readable parquet")
    assert reports["ai_usage"].rows_kept == 2  # the good file still counts


def test_random_bytes_named_parquet_as_the_only_file_make_the_dataset_unusable_and_check_fail(folder):
    one_file(folder, "provider_links").write_bytes(os.urandom(300))
    store, reports = store_of(folder)
    assert reports["provider_links"].unusable == "none of its 1 files can be read"
    assert store.run("runtime_by_workspace_day", customer_id="cus_a", period_start=at("2026-03-01 00:00"),
                     period_end=at("2026-04-01 00:00"), now=NOW).runtime_hours.sum() == 8.0  # others work
    done = cli(folder, "check")
    assert done.returncode == 1 and done.stderr.strip() == "error: unusable: provider_links"
    assert "dataset provider_links: none of its 1 files can be read" in done.stdout
    assert "provider_links/part-0.parquet was not read: not readable parquet" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_a_renamed_column_names_the_file_and_the_missing_column(folder):
    rewrite(folder, "ai_usage", lambda t: t.rename_columns(["cost" if c == "cost_usd" else c for c in t.column_names]))
    write_dataset(folder, "ai_usage", [usage("2026-03-12 10:00")], part="good")
    _, reports = store_of(folder)
    assert reports["ai_usage"].warnings() == [
        f"dataset ai_usage: file {folder}/ai_usage/part-0.parquet was not read: has no column cost_usd"]
    assert reports["ai_usage"].rows_kept == 1


def test_a_string_in_a_numeric_column_rejects_that_row_only(folder):
    rewrite(folder, "ai_usage", lambda t: replace_column(t, "cost_usd", pa.array(["abc", "2.5"])))
    _, reports = store_of(folder)
    report = reports["ai_usage"]
    assert (report.rows_read, report.rows_kept, report.rejected_rows) == (2, 1, 1)
    assert report.warnings() == [f"dataset ai_usage: 1 row not used: column cost_usd cannot be read as money "
                                 f"(e.g. 'abc' in {folder}/ai_usage/part-0.parquet)"]


def test_an_unknown_billing_mode_is_rejected_with_its_value(folder):
    write_dataset(folder, "billing_accounts", [
        {"customer_id": "cus_a", "as_of": at("2026-03-01 00:00"), "billing_mode": "paid", "payment_verified": True},
        {"customer_id": "cus_a", "as_of": at("2026-03-02 00:00"), "billing_mode": "enterprise",
         "payment_verified": True}])
    store, reports = store_of(folder)
    rejection, = reports["billing_accounts"].rejected
    assert (rejection.column, rejection.reason, rejection.rows) == ("billing_mode", "has an unknown value", 1)
    assert rejection.samples[0][1] == "enterprise"
    assert store.run("billing_snapshot", customer_id="cus_a", now=NOW).billing_mode.tolist() == ["paid"]


@pytest.mark.parametrize("dataset, rows, column, reason", [
    ("customers", [customer(), customer(None)], "customer_id", "is missing"),
    ("ai_usage", [usage("2026-03-10 10:00", requests=-3)], "requests", "is negative"),
    ("ai_usage", [usage("2026-03-10 10:00", cost="-0.5")], "cost_usd", "is negative"),
    ("ai_usage", [usage("2026-03-10 10:00", tokens=(-1, 0, 0))], "input_tokens", "is negative"),
    ("workspace_sessions", [session("ws1", "2026-03-10 09:00", "2026-03-10 08:00")], "ended_at", "is before started_at"),
    ("ai_usage", [usage("2026-03-10 10:00"), usage("2026-03-10 10:00")],
     "customer_id, bucket_start, provider, model, provider_project_id", "repeats a key already seen (duplicate)"),
    ("ai_usage", [usage("2027-01-01 00:00")], "bucket_start", "is more than a day in the future"),
    ("customers", [customer(), customer("cus_b", status="vip")], "account_status", "has an unknown value"),
])
def test_each_row_check_counts_its_rejections(folder, dataset, rows, column, reason):
    write_dataset(folder, dataset, rows)
    _, reports = store_of(folder)
    report = reports[dataset]
    assert [(r.column, r.reason, r.rows) for r in report.rejected] == [(column, reason, 1)]
    assert report.rows_kept == report.rows_read - 1 and report.status == "degraded"


def test_an_empty_folder_is_reported_not_fatal(folder):
    one_file(folder, "reconciliation").unlink()
    _, reports = store_of(folder)
    assert reports["reconciliation"].status == "empty"
    assert reports["reconciliation"].warnings() == ["dataset reconciliation: the folder holds no parquet files"]
    assert cli(folder, "check").returncode == 0


def test_a_folder_without_permission_is_named(folder, monkeypatch):
    target = folder / "workspace_sessions"
    if os.geteuid() != 0:  # a real permission problem
        target.chmod(0)
        try:
            _, reports = store_of(folder)
        finally:
            target.chmod(0o755)
    else:  # root reads every folder, so the listing's own error is raised where it would come from
        real = Path.rglob

        def denied(self, pattern):
            if self == target:
                raise PermissionError(13, "Permission denied", str(self))
            return real(self, pattern)

        monkeypatch.setattr(Path, "rglob", denied)
        _, reports = store_of(folder)
    assert reports["workspace_sessions"].unusable == f"folder {target} cannot be read (Permission denied)"


def _with_sentinel(folder):
    rewrite(folder, "ai_usage", lambda t: t.append_column("prompt", pa.array([SENTINEL] * t.num_rows))
            .append_column("api_key", pa.array([SENTINEL] * t.num_rows)))


def test_a_forbidden_column_is_flagged_by_name_and_its_value_never_leaves(folder):
    _with_sentinel(folder)
    _, reports = store_of(folder)
    assert [column for _, column in reports["ai_usage"].forbidden] == ["prompt", "api_key"]
    assert reports["ai_usage"].rows_kept == 2  # the rows themselves are fine
    outputs = [cli(folder, "check"), cli(folder, "handoff", "--customer", "cus_a", "--period", "2026-03"),
               cli(folder, "handoff", "--customer", "cus_a", "--period", "2026-03", "--format", "csv")]
    for done in outputs:
        assert SENTINEL not in done.stdout + done.stderr
    assert "column 'prompt' that looks like content or a credential; it is never read" in outputs[0].stdout


def test_a_forbidden_column_never_reaches_a_rendered_page_or_the_log(folder, monkeypatch, caplog):
    from test_app import OPERATOR, page, texts

    _with_sentinel(folder)
    monkeypatch.setenv("USAGE_DATA_DIR", str(folder))
    monkeypatch.setenv("ANALYTICS_NOW", "2026-03-11T12:00:00Z")
    for page_id in ("data-health", "managed-ai", "operators", "handoff", "reconciliation"):
        app = page(OPERATOR, page_id, "cus_a")
        assert not app.exception
        assert SENTINEL not in texts(app), page_id
    assert SENTINEL not in caplog.text


# --- one unreadable file never yields a confident answer (issue: broken input) ------------------------------

def _corrupt_second_file(folder: Path) -> None:
    """Random bytes named like parquet beside ai_usage's good file: the dataset is usable, but incomplete."""
    (folder / "ai_usage" / "part-1.parquet").write_bytes(os.urandom(4096))


def test_check_exits_1_on_a_file_it_could_not_read(folder):
    _corrupt_second_file(folder)
    result = cli(folder, "check")
    assert result.returncode == 1 and result.stderr == "error: files not read: ai_usage (1 file)\n"
    assert f"file {folder}/ai_usage/part-1.parquet was not read" in result.stdout


@pytest.mark.parametrize("args, what", [
    (("handoff", "--customer", "cus_a", "--period", "2026-03"), "the pack"),
    (("handoff", "--all", "--period", "2026-03", "--format", "csv"), "the pack"),
    (("close", "--period", "2026-02"), "the close of 2026-02"),
    (("focus", "--period", "2026-03", "--output", "/dev/null"), "the FOCUS file"),
    (("attention",), "the attention queue"),
])
def test_handoff_close_and_focus_exit_1_naming_the_dataset_when_a_file_was_not_read(folder, args, what):
    _corrupt_second_file(folder)
    result = cli(folder, *args)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"error: {what} would be incomplete: ai_usage: 1 file could not be read (`check` names "
                             "them); fix the exports, or give --allow-incomplete to write it marked incomplete\n")


def test_allow_incomplete_writes_a_pack_that_says_incomplete_never_final(folder):
    _corrupt_second_file(folder)
    result = cli(folder, "handoff", "--customer", "cus_a", "--period", "2026-03-10..2026-03-10", "--allow-incomplete")
    assert result.returncode == 0, result.stderr
    pack = json.loads(result.stdout)
    assert pack["data"]["unread_files"] == {"ai_usage": 1}
    assert (pack["managed_ai"]["status"], pack["managed_ai"]["provisional_because"]) == (
        "incomplete", ["ai_usage: 1 file could not be read"])
    assert pack["workspace_runtime_status"] == "final"  # sessions were all read: runtime is not made from ai_usage
    assert pack["managed_ai"]["cost_usd"] == "1.000000"  # what the readable file holds, said to be incomplete


def test_allow_incomplete_attention_says_incomplete_on_stderr(folder):
    _corrupt_second_file(folder)
    result = cli(folder, "attention", "--allow-incomplete")
    assert result.returncode == 0 and json.loads(result.stdout) is not None
    assert result.stderr == ("INCOMPLETE: ai_usage: 1 file could not be read; the queue may miss customers or "
                             "reasons\n")


def test_check_exits_1_when_a_dataset_has_rows_but_none_usable(folder):
    rewrite(folder, "billing_accounts", lambda t: replace_column(t, "billing_mode", pa.array(["platinum"])))
    result = cli(folder, "check")
    assert result.returncode == 1 and result.stderr == "error: no usable row: billing_accounts\n"


def test_the_only_billing_snapshot_rejected_is_an_unknown_billing_state_in_the_pack(folder):
    rewrite(folder, "billing_accounts", lambda t: replace_column(t, "billing_mode", pa.array(["platinum"])))
    result = cli(folder, "handoff", "--customer", "cus_a", "--period", "2026-03")
    pack = json.loads(result.stdout)
    assert {k: pack["billing"][k] for k in ("billing_mode", "creation_allowed", "next_action")} == {
        "billing_mode": "unknown", "creation_allowed": None, "next_action": "support"}
    assert "platinum" in pack["billing"]["reason"] and "no billing account" not in result.stdout
    assert pack["data"]["rejected_rows"] == {"billing_accounts": 1}


@pytest.mark.parametrize("args", [
    ("handoff", "--customer", "cus_a", "--period", "9999-12"),
    ("handoff", "--customer", "cus_a", "--period", "0001-01-01..9999-12-31"),
    ("handoff", "--customer", "cus_a", "--period", "２０２６-０３"),  # full-width digits
    ("sample-data", "--customers", "-1", "--out", "/tmp/never-written"),
])
def test_periods_and_counts_outside_the_supported_range_exit_2_with_one_line(folder, args):
    result = cli(folder, *args)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ")


@pytest.mark.parametrize("now", ["0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z"])
def test_a_now_outside_the_supported_range_exits_2_with_one_line(folder, now):
    result = subprocess.run([sys.executable, "-m", "usage_analytics", "handoff", "--customer", "cus_a", "--period",
                             "2026-03"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "USAGE_DATA_DIR": str(folder), "ANALYTICS_NOW": now})
    assert result.returncode == 2
    assert result.stderr == f"error: ANALYTICS_NOW: {now!r} is outside the supported range 1970-01-01 to 2199-12-31\n"
