"""Month close on a tiny hand-made dataset: close, close again unchanged, a late row and its restatement with
the exact deltas, revision 2, packs as closed byte for byte, verify, bad input, and two closes at once. Every
test runs with the month-close index on both backends (`backend`: the SQLite file, and PostgreSQL, issue 18)."""
import contextlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, customer, link, recon, usage
from pg_server import backend, postgres_url, server  # noqa: F401
from usage_analytics import pg
from usage_analytics.__main__ import main
from usage_analytics.periods import Period
from usage_analytics.sample import write_dataset

NOW = "2026-04-02T12:00:00Z"


@pytest.fixture
def month(tmp_path, monkeypatch, backend):
    """cus_a with openai linked: March 2026 holds $1.000000 on the 2nd and $2.500000 on the 5th, both matched;
    the exports run from February 28th to April 1st (a matched $0.125 and $0.25), so they cover the whole month."""
    data = tmp_path / "data"
    rows = {"customers": [customer()], "provider_links": [link("openai")],
            "ai_usage": [usage("2026-02-28 10:00", cost="0.125000"), usage("2026-03-02 10:00", cost="1.000000"), usage("2026-03-05 10:00", cost="2.500000"),
                         usage("2026-04-01 10:00", cost="0.250000")],
            "reconciliation": [recon("2026-02-28", "matched"), recon("2026-03-02", "matched"), recon("2026-03-05", "matched"),
                               recon("2026-04-01", "matched")]}
    for name in ("customers", "billing_accounts", "workspace_sessions", "ai_usage", "provider_links",
                 "reconciliation"):
        write_dataset(data, name, rows.get(name, []))
    monkeypatch.setenv("USAGE_DATA_DIR", str(data))
    backend.state_dir = tmp_path / "state"
    backend.env(monkeypatch)
    monkeypatch.setenv("ANALYTICS_NOW", NOW)
    return data


def cli(*args):
    """(exit code, stdout, stderr) of the command line, run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def late_row(data):
    """$50 of openai usage on 2026-03-10 arrives after the close, not reconciled yet."""
    write_dataset(data, "ai_usage", [usage("2026-03-10 09:00", cost="50.000000")], part="part-1")


def test_a_close_records_every_pack_as_handoff_prints_it_and_a_manifest_that_proves_them(month):
    before = cli("handoff", "--customer", "cus_a", "--period", "2026-03")[1]
    code, out, _ = cli("close", "--period", "2026-03")
    assert code == 0 and out.splitlines()[0] == "closed 2026-03: revision 1, 1 customer"
    manifest_path = Path(out.splitlines()[-1])
    assert manifest_path == month.parent / "state" / "close" / "2026-03" / "revision-0001" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert (manifest["period"], manifest["revision"], manifest["closed_at"], manifest["closed_by"]) == \
        ("2026-03", 1, "2026-04-02T12:00:00Z", "cli")
    assert manifest["data_cutoff"]["ai_usage"] == "2026-04-01T10:00:00Z" and manifest["exports_fingerprint"]
    assert manifest["customers"] == {"cus_a": {
        "customer_name": "Customer A", "runtime_hours": 0.0, "managed_ai_cost_usd": "3.500000", "status": "final",
        "billing_mode": "none", "creation_allowed": False}}
    assert [f["path"] for f in manifest["files"]] == ["focus.csv", "packs/cus_a.csv", "packs/cus_a.json"]
    assert (manifest_path.parent / "packs" / "cus_a.json").read_text() == before  # close: null then
    assert json.loads(before)["close"] is None
    assert cli("verify", str(manifest_path)) == (0, f"ok: every file of {manifest_path} matches\n", "")


def test_closing_again_unchanged_records_nothing(month):
    first = cli("close", "--period", "2026-03")[1].splitlines()[-1]
    code, out, _ = cli("close", "--period", "2026-03")
    assert code == 0 and out.splitlines() == ["2026-03: unchanged since revision 1", first]
    assert sorted(p.name for p in Path(first).parent.parent.iterdir() if not p.name.startswith(".")) == \
        ["revision-0001"]
    assert cli("restatements", "--period", "2026-03")[0] == 0


def test_a_late_row_is_a_restatement_with_exact_deltas_and_a_reclose_is_revision_2(month):
    cli("close", "--period", "2026-03")
    late_row(month)
    code, out, _ = cli("restatements", "--period", "2026-03", "--format", "json")
    assert code == 3
    assert json.loads(out) == {"period": "2026-03", "revision": 1, "closed_at": "2026-04-02T12:00:00Z", "customers": [{
        "customer_id": "cus_a", "customer_name": "Customer A",
        "runtime_hours": {"closed": 0.0, "now": 0.0, "delta": 0.0},
        "managed_ai_cost_usd": {"closed": "3.500000", "now": "53.500000", "delta": "50.000000"},
        "providers": [{"provider": "openai", "closed": "3.500000", "now": "53.500000", "delta": "50.000000"}],
        "status": {"closed": "final", "now": "provisional"}}]}
    pack = json.loads(cli("handoff", "--customer", "cus_a", "--period", "2026-03")[1])
    assert pack["close"]["revision"] == 1 and pack["close"]["restated"] is True
    assert pack["close"]["managed_ai_cost_usd"]["delta"] == "50.000000"
    csv_total = cli("handoff", "--customer", "cus_a", "--period", "2026-03", "--format", "csv")[1].splitlines()
    assert csv_total[0].split(",")[-7:-5] == ["closed_revision", "restated"] and \
        csv_total[-1].split(",")[-7:-5] == ["1", "true"]

    code, out, _ = cli("close", "--period", "2026-03")
    assert code == 0 and out.splitlines()[0] == "closed 2026-03: revision 2, 1 customer, 1 restated"
    manifest = json.loads(Path(out.splitlines()[-1]).read_text())
    assert manifest["revision"] == 2 and manifest["restated"] == ["cus_a"]
    assert manifest["customers"]["cus_a"]["managed_ai_cost_usd"] == "53.500000"
    assert (month.parent / "state" / "close" / "2026-03" / "revision-0001" / "manifest.json").is_file()  # kept
    for fmt in ("json", "csv"):
        closed = cli("handoff", "--customer", "cus_a", "--period", "2026-03", "--format", fmt, "--as-closed")[1]
        assert closed == (Path(out.splitlines()[-1]).parent / "packs" / f"cus_a.{fmt}").read_text()
    assert cli("restatements", "--period", "2026-03")[0] == 0  # against revision 2 nothing moved


def test_verify_names_every_file_missing_changed_or_not_listed(month):
    manifest = Path(cli("close", "--period", "2026-03")[1].splitlines()[-1])
    folder = manifest.parent
    (folder / "packs" / "cus_a.csv").write_text("edited\n")
    (folder / "packs" / "cus_a.json").unlink()
    (folder / "packs" / "extra.json").write_text("{}")
    code, out, _ = cli("verify", str(manifest))
    assert code == 1 and out.splitlines() == [
        "packs/cus_a.csv: changed", "packs/cus_a.json: missing", "packs/extra.json: not listed"]
    manifest.write_text(manifest.read_text().replace('"cli"', '"someone"'))  # the manifest itself edited
    assert "changed since it was recorded" in cli("verify", str(manifest))[1]
    manifest.write_text("{\"period\": ")  # truncated
    assert cli("verify", str(manifest))[1].endswith("not a readable manifest (JSONDecodeError)\n")


@pytest.mark.parametrize("args, says", [
    (("close", "--period", "2026-04"), "error: 2026-04 has not ended; it can be closed from 2026-05-01 00:00 UTC"),
    (("close", "--period", "2026-03-01..2026-03-15"), "error: 2026-03-01..2026-03-15 is not a calendar month"),
    (("close", "--period", "2026-13"), "error: period '2026-13': month must be in 1..12"),
    (("close", "--period", "2026-01"), "error: 2026-01 is before any export: usage in the exports starts 2026-02-28 "
                                       "10:00 UTC"),
    (("close", "--period", "2026-03", "--customer", "cus_nope"), "error: customer 'cus_nope' is not in the customers"),
    (("restatements", "--period", "2026-02"), "error: 2026-02 was never closed"),
    (("handoff", "--customer", "cus_a", "--period", "2026-02", "--as-closed"), "error: 2026-02 was never closed"),
])
def test_bad_input_is_one_line_and_exit_2(month, args, says):
    code, out, err = cli(*args)
    assert code == 2 and err.startswith(says) and len(err.splitlines()) == 1 and out == ""


def test_two_closes_at_once_make_exactly_one_revision(month):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [subprocess.Popen([sys.executable, "-m", "usage_analytics", "close", "--period", "2026-03"], cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    firsts = sorted(out.splitlines()[0] for out, _ in outputs)
    assert firsts == ["2026-03: unchanged since revision 1", "closed 2026-03: revision 1, 1 customer"]
    folder = month.parent / "state" / "close" / "2026-03"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["revision-0001"]


def test_handoff_all_puts_every_customer_in_one_file(month):
    write_dataset(month, "customers", [customer(), customer("cus_b", "Customer B")])
    code, out, _ = cli("handoff", "--all", "--period", "2026-03", "--format", "csv")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("customer_id,") and sum(line.startswith("customer_id,") for line in lines) == 1
    assert {line.split(",")[0] for line in lines[1:]} == {"cus_a", "cus_b"}
    packs = json.loads(cli("handoff", "--all", "--period", "2026-03")[1])
    assert [p["customer"]["customer_id"] for p in packs] == ["cus_a", "cus_b"]


def test_the_month_close_page_previews_a_close_before_recording_it(month):
    """(The click on Confirm is the browser test's: AppTest reruns a page registered as a function as the
    inert pages/ file, so this test starts the page in the confirming state instead of clicking.)"""
    from test_app import page

    at = page("finance", "close", period="Previous month")
    assert not at.exception and [s.value for s in at.subheader] == ["Ended months", "March 2026"]
    assert [b.label for b in at.button if b.key == "close_start"] == ["Close March 2026…"]
    at = page("finance", "close", period="Previous month", close_confirming="2026-03")
    preview = " ".join(m.value for m in at.markdown)
    assert "This records revision 1 of March 2026" in preview and "each of the 1 customers" in preview
    assert {b.key for b in at.button} >= {"close_confirm", "close_cancel"}
    assert not list((month.parent / "state" / "close").glob("2026-03/revision-*"))  # nothing before confirming
    cli("close", "--period", "2026-03")
    at = page("finance", "close", period="Previous month")
    assert "Nothing changed since revision 1" in at.success[0].value
    assert [b.label for b in at.get("download_button") if "CSV" not in b.label] == ["ZIP"]  # (and tables' CSVs)
    assert at.dataframe[0].value[["month", "state", "revision", "closed_by"]].values.tolist() == \
        [["March 2026", "closed", "1", "cli"],
         ["February 2026", "never closed", "—", "—"]]  # the ended months the exports cover (from Feb 28th)


def test_a_restated_month_says_what_changed_on_the_close_handoff_and_overview_pages(month):
    from test_app import page

    cli("close", "--period", "2026-03")
    late_row(month)
    at = page("ops", "close", period="Previous month")
    assert any("1 customer's figures changed since revision 1" in w.value for w in at.warning)
    table = at.dataframe[1].value
    assert table.loc[table["what"] == "managed-AI cost", ["closed", "now", "delta"]].values.tolist() == \
        [["$3.50", "$53.50", "+$50.00"]]
    at = page("ops", "handoff", "cus_a", period="Previous month")
    assert at.info[0].value.startswith("Closed figures · revision 1 · closed 2026-04-02 by cli.")
    assert any("managed AI $3.50 → $53.50 (+$50.00: openai +$50.00). Late usage" in w.value for w in at.warning)  # (runtime unchanged: not named)
    assert [b.label for b in at.get("download_button")] == [
        "Download CSV (as of now)", "Download JSON (as of now)", "Download CSV (as closed)", "Download JSON (as closed)"]
    at = page("acme_admin", "overview", period="Previous month")  # another customer's close is not theirs
    assert not any("Closed figures" in i.value for i in at.info)


def _focus(path) -> list[dict]:
    import csv

    return list(csv.DictReader(io.StringIO(Path(path).read_text())))


def test_the_focus_file_holds_a_usage_row_per_day_and_model_and_corrections_bring_it_to_revision_2(month, tmp_path):
    from decimal import Decimal

    from usage_analytics import focus

    first = Path(cli("close", "--period", "2026-03")[1].splitlines()[-1]).parent / "focus.csv"
    rows = _focus(first)
    assert list(rows[0]) == list(focus.COLUMNS)
    assert [(r["ChargePeriodStart"], r["ChargePeriodEnd"], r["BilledCost"], r["ChargeClass"]) for r in rows] == [
        ("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", "1.000000", ""),
        ("2026-03-05T00:00:00Z", "2026-03-06T00:00:00Z", "2.500000", "")]
    row = rows[0]
    assert (row["BillingAccountId"], row["BillingAccountName"], row["BillingCurrency"], row["ChargeCategory"],
            row["BillingPeriodStart"], row["BillingPeriodEnd"], row["ServiceCategory"], row["ServiceName"],
            row["PublisherName"], row["ProviderName"], row["InvoiceIssuerName"], row["SkuId"],
            row["ConsumedQuantity"], row["ConsumedUnit"], row["EffectiveCost"], row["ListCost"],
            row["ContractedCost"], row["x_ReconciliationStatus"], row["x_Revision"]) == (
        "cus_a", "Customer A", "USD", "Usage", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z",
        "AI and Machine Learning", "openai", "openai", "Workspaces Platform", "Workspaces Platform", "m1",
        "130", "Tokens", "1.000000", "1.000000", "1.000000", "matched", "1")
    assert "proj_" not in first.read_text()  # never a provider project ID
    late_row(month)
    second = Path(cli("close", "--period", "2026-03")[1].splitlines()[-1]).parent / "focus.csv"
    assert second.read_text().startswith(first.read_text())  # revision 1's rows as they were, then corrections
    added = _focus(second)[len(rows):]
    assert [(r["ChargePeriodStart"], r["BilledCost"], r["ChargeClass"], r["x_Revision"]) for r in added] == [
        ("2026-03-10T00:00:00Z", "50.000000", "Correction", "2")]
    total = sum(Decimal(r["BilledCost"]) for r in _focus(second))
    pack = json.loads(cli("handoff", "--customer", "cus_a", "--period", "2026-03")[1])
    assert f"{total:f}" == pack["managed_ai"]["cost_usd"] == "53.500000"  # rows and corrections foot to the month
    out = tmp_path / "focus.csv"
    code, said, _ = cli("focus", "--period", "2026-03", "--output", str(out))
    assert code == 0 and said == f"wrote {out}: 3 FOCUS rows of 2026-03 (revision 2)\n"
    assert out.read_text() == second.read_text()
    assert cli("focus", "--period", "2026-01", "--customer", "cus_a", "--output", str(out))[1].endswith(
        "0 FOCUS rows of 2026-01 (as of now; the month was never closed)\n")


def test_a_customer_admin_gets_the_focus_file_of_their_own_account_only(month):
    from test_app import page
    from usage_analytics import closing, config, revisions

    write_dataset(month, "customers", [customer(), customer("cus_acme_robotics", "Acme Robotics")])
    write_dataset(month, "provider_links", [link("openai"), link("openai", "cus_acme_robotics")])
    write_dataset(month, "ai_usage", [usage("2026-03-02 10:00", cost="1.000000"), usage("2026-03-05 10:00", cost="2.500000"),
                                      usage("2026-03-03 10:00", cost="7.000000", customer="cus_acme_robotics")])
    cli("close", "--period", "2026-03")
    settings = config.load()
    latest = revisions.for_settings(settings).latest("2026-03")
    text = closing.focus_file(latest, lambda: [], Period.parse("2026-03"), "P", "cus_acme_robotics")
    assert [r["BillingAccountId"] for r in _focus_rows(text)] == ["cus_acme_robotics"]
    at = page("acme_admin", "overview", period="Previous month")  # their own account's close, in amounts
    assert any(i.value.startswith("Closed figures · revision 1 · closed 2026-04-02.") for i in at.info)  # (not by whom)
    assert [b.label for b in at.get("download_button")] == ["Pack as closed (CSV)", "Pack as of now (CSV)"]
    at = page("acme_admin", "managed-ai", period="Previous month")
    assert "Download FOCUS 1.2 CSV" in [b.label for b in at.get("download_button")]
    assert any("As closed in revision 1" in c.value and "Workspace runtime has no price" in c.value for c in at.caption)


def _focus_rows(text: str) -> list[dict]:
    import csv

    return list(csv.DictReader(io.StringIO(text)))


def test_a_state_folder_that_cannot_be_written_is_one_line_and_no_revision(month, monkeypatch, backend):
    monkeypatch.setenv("STATE_DIR", "/dev/null/state")  # (a folder under a file: root may write anywhere else)
    code, out, err = cli("close", "--period", "2026-03")
    assert code == 1 and out == ""
    if backend.name == "sqlite":  # the state file's folder
        assert err == "error: the state folder /dev/null/state cannot be written (Not a directory)\n"
    else:  # the state is in PostgreSQL: the revisions' folder (CLOSE_DIR's default, under STATE_DIR) says it
        assert err == "error: the month-close folder /dev/null/state/close/2026-03 cannot be written (Not a directory)\n"
    monkeypatch.setenv("STATE_DIR", str(month.parent / "state"))
    monkeypatch.setenv("CLOSE_DIR", "/dev/null/closes")
    assert cli("close", "--period", "2026-03")[2] == \
        "error: the month-close folder /dev/null/closes/2026-03 cannot be written (Not a directory)\n"


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_stopped_database_is_one_line_and_no_revision_and_the_next_close_works(month, backend):
    server().stop()
    try:
        code, out, err = cli("close", "--period", "2026-03")
    finally:
        server().start()
    assert code == 1 and out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"error: the state database postgresql://postgres@127.0.0.1:{server().port}/") and \
        'cannot be written (connection failed: connection to server at "127.0.0.1"' in err
    folder = month.parent / "state" / "close" / "2026-03"
    assert not list(folder.glob("revision-*"))
    time.sleep(pg.RETRY_AFTER)  # (the last failed probe's answer stands this long)
    assert cli("close", "--period", "2026-03")[1].splitlines()[0] == "closed 2026-03: revision 1, 1 customer"
    assert backend.rows("select period, revision, closed_by from month_closes") == [("2026-03", 1, "cli")]
