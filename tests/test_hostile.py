"""Hostile export strings: every text column of a small copy of the sample exports carries Markdown, colour,
LaTeX, link, image and HTML syntax, spreadsheet formulas, a bidirectional override and a 5,000-character
name. Files we write (table downloads, handoff packs, FOCUS files) never hold a cell a spreadsheet would run;
the command line writes them. The browser half is tests/test_browser_hostile.py, on the same data."""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pyarrow.parquet as pq
import pytest
import streamlit as st
import yaml

from conftest import ROOT
from usage_analytics import closing, focus, handoff, sample, tables
from usage_analytics.build import build
from usage_analytics.contract import DATASETS
from usage_analytics.periods import Period

NOW = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)
KEEP_FROM = datetime(2026, 10, 1, tzinfo=timezone.utc)  # October (closed) and November (open) only: small
FORMULAS = ('=HYPERLINK("http://evil.example","x")', "+cmd", "-1+1", "@SUM(1)")
MARKUP = ("**bold**", ":red[x]", "$x^2$", "[click](http://evil.example/)", "![x](http://evil.example/p.png)",
          "<b>tag</b>", "<img src=http://evil.example/i.png>")
BIDI = "\u202e"
RIGHT_TO_LEFT = f"evil{BIDI}txt.exe"  # shows as "evilexe.txt" where the override is obeyed
LONG_NAME = ("Long Name Holdings " * 300)[:5000]
# The customer the tests look at (and the hostile admin is bound to): a formula id, a name of Markdown and HTML.
FOCAL_ID = f"{FORMULAS[0]} cus_acme_robotics"
FOCAL_NAME = f"**bold** :red[x] $x^2$ <b>tag</b> {RIGHT_TO_LEFT}"
TEXT = ("customer_id", "customer_name", "provider", "model", "template", "workspace_id", "user_id",
        "provider_project_id")
ADMIN, ADMIN_PASSWORD = "hostile_admin", "acme-demo-pass"  # acme_admin's hash, bound to FOCAL_ID


@dataclass(frozen=True)
class Hostile:
    data: Path  # USAGE_DATA_DIR
    auth: Path  # AUTH_CONFIG with hostile_admin bound to FOCAL_ID
    customers: dict[str, str]  # id -> name

    def env(self, state: Path) -> dict[str, str]:
        return {"USAGE_DATA_DIR": str(self.data), "AUTH_CONFIG": str(self.auth), "STATE_DIR": str(state),
                "ANALYTICS_NOW": NOW.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _payload(k: int, original: str) -> str:
    """The k-th distinct value of a column: a formula first (a spreadsheet would run it), then markup."""
    return f"{FORMULAS[k % len(FORMULAS)]} {MARKUP[k % len(MARKUP)]} {original}"


def _mapping(column: str, values: list[str]) -> dict[str, str]:
    found = {v: _payload(k + len(column), v) for k, v in enumerate(sorted(set(values)))}
    if column == "customer_id":
        found["cus_acme_robotics"] = FOCAL_ID
    if column == "model":  # one model name with the right-to-left override
        first = sorted(found)[0]
        found[first] = f"{FORMULAS[3]} {RIGHT_TO_LEFT} {first}"
    return found


def _read(folder: Path, dataset: str) -> list[dict]:
    rows = []
    for path in sorted((folder / dataset).rglob("*.parquet")):
        rows += pq.read_table(path).to_pylist()
    return rows


def write_hostile(root: Path) -> Hostile:
    """The sample generator's exports for 13 customers, October and November 2026, every text column mapped
    to hostile values (ids consistently across datasets), plus rows the checks reject with payloads in their
    enum columns; and an auth.yaml binding hostile_admin to FOCAL_ID."""
    source, data = root / "generated", root / "exports"
    sample.generate(source, NOW, customers=13)
    rows = {name: _read(source, name) for name in DATASETS}
    for dataset, column in (("workspace_sessions", "started_at"), ("ai_usage", "bucket_start")):
        rows[dataset] = [r for r in rows[dataset] if r[column] >= KEEP_FROM]
    rows["reconciliation"] = [r for r in rows["reconciliation"] if r["usage_date"] >= KEEP_FROM.date()]
    maps = {c: _mapping(c, [r[c] for name in DATASETS for r in rows[name] if r.get(c) is not None]) for c in TEXT}
    names = {r["customer_name"]: n for n, r in enumerate(rows["customers"])}
    for name, n in names.items():  # one customer's name is all markup and the override, one is 5,000 characters
        maps["customer_name"][name] = FOCAL_NAME if name == "Acme Robotics" else LONG_NAME if n == 4 else \
            f"{FORMULAS[n % 4]} {MARKUP[n % 7]} {name}"
    for name in DATASETS:
        rows[name] = [{k: maps[k][v] if k in maps and v is not None else v for k, v in r.items()} for r in rows[name]]
    rejected = dict(rows["customers"][0], customer_id=f"{FORMULAS[2]} cus_rejected", account_status=MARKUP[3])
    rows["customers"].append(rejected)
    for name in DATASETS:
        sample.write_dataset(data, name, rows[name])
    auth = yaml.safe_load((ROOT / "auth.yaml").read_text())
    users = auth["credentials"]["usernames"]
    users[ADMIN] = {**users["acme_admin"], "name": "Hostile Admin", "customer_id": FOCAL_ID}
    (root / "auth.yaml").write_text(yaml.safe_dump(auth, allow_unicode=True))
    customers = {r["customer_id"]: r["customer_name"] for r in rows["customers"] if r is not rejected}
    return Hostile(data, root / "auth.yaml", customers)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Hostile:
    return write_hostile(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def store(hostile):
    opened = build(hostile.data)
    yield opened
    opened.close()


def formula_cells(rows: list[list[str]], numeric: set[int] = frozenset()) -> list[str]:
    """Cells a spreadsheet would run as a formula (a column of numbers may hold negative numbers)."""
    return [value for row in rows for i, value in enumerate(row)
            if value[:1] in ("=", "+", "-", "@", "\t", "\r") and not (i in numeric and _number(value))]


def _number(text: str) -> bool:
    try:
        Decimal(text)
        return True
    except ArithmeticError:
        return False


def _numbers(header: list[str]) -> set[int]:
    """The columns of a handoff CSV that hold numbers."""
    return {i for i, c in enumerate(header) if c in ("cost_usd", "requests", "input_tokens", "cached_input_tokens",
                                                     "output_tokens", "lag_days", "workspace_runtime_hours",
                                                     "workspace_hours_estimated_now", "ai_usd_estimated_now",
                                                     "workspace_hours_runway_days", "ai_usd_runway_days")}


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def neutralised(rows: list[list[str]]) -> set[str]:
    """The formula payloads found neutralised (an apostrophe before them) at the start of a cell."""
    return {f for row in rows for value in row for f in FORMULAS if value.startswith("'" + f)}


# -- the table helper ---------------------------------------------------------------------------------------

def test_the_hostile_exports_carry_every_payload_in_every_text_column(hostile):
    for dataset in DATASETS:
        rows = _read(hostile.data, dataset)
        assert rows, dataset
        for column in set(TEXT) & set(rows[0]):
            values = {r[column] for r in rows}
            assert all(v[:1] in "=+-@*" or v == LONG_NAME for v in values), (dataset, column)
    every = {v for d in DATASETS for r in _read(hostile.data, d) for c in TEXT if c in r for v in [r[c]]}
    text = "\n".join(every)
    assert all(p in text for p in FORMULAS + MARKUP + (BIDI, LONG_NAME))
    ids = {r["customer_id"] for r in _read(hostile.data, "customers")}
    for dataset in ("workspace_sessions", "ai_usage", "provider_links", "reconciliation", "billing_accounts"):
        assert FOCAL_ID in {r["customer_id"] for r in _read(hostile.data, dataset)}, dataset
        assert {r["customer_id"] for r in _read(hostile.data, dataset)} <= ids, dataset


def test_a_table_download_neutralises_every_formula_and_keeps_numbers_and_money_exact():
    frame = pd.DataFrame({
        "customer": [*FORMULAS, "\tx", "\rx", "'=already quoted", "plain"],
        "provider": ["ok", *FORMULAS, "-", "+", "@", "fine"][:8],
        "ai_cost_usd": [12.345678, 0.1 + 0.2, -1.5, 0.0, 1e-06, 999999999.999999, float("nan"), 3.0],
        "lag": [-3, 0, 1, 2, 3, 4, 5, 6],
        "creation_allowed": [True, False, None, True, False, True, False, True],
        "hidden": ["=x"] * 8,
    })
    config = {"customer": "Customer", "ai_cost_usd": st.column_config.NumberColumn("AI cost (USD)", format="$%.6f"),
              "lag": st.column_config.NumberColumn("Lag (days)"), "hidden": None}
    rows = parsed(tables.to_csv(frame, config))
    assert rows[0] == ["Customer", "provider", "AI cost (USD)", "Lag (days)", "creation_allowed"]
    assert len(rows) == 9 and formula_cells(rows[1:], numeric={2, 3}) == []
    assert [r[0] for r in rows[1:]] == ["'" + f for f in FORMULAS] + ["'\tx", "'\rx", "'=already quoted", "plain"]
    assert [r[1] for r in rows[1:]] == ["ok", *("'" + f for f in FORMULAS), "'-", "'+", "'@"]
    assert [r[2] for r in rows[1:]] == ["12.345678", "0.300000", "-1.500000", "0.000000", "0.000001",
                                        "999999999.999999", "", "3.000000"]
    assert [r[3] for r in rows[1:]][:2] == ["-3", "0"] and [r[4] for r in rows[1:4]] == ["true", "false", ""]
    ordered = parsed(tables.to_csv(frame, config, column_order=["lag", "customer"]))
    assert ordered[0] == ["Lag (days)", "Customer"]


def test_a_table_on_screen_shows_the_override_as_a_replacement_character_and_shortens_long_names():
    frame = pd.DataFrame({"customer": [RIGHT_TO_LEFT, LONG_NAME, None], "hours": [1.0, 2.0, 3.0]})
    shown = tables.on_screen(frame)
    assert shown["customer"][0] == "evil\ufffdtxt.exe" and len(shown["customer"][1]) == 80
    assert shown["customer"][1].endswith("…") and pd.isna(shown["customer"][2])
    assert shown["hours"].tolist() == [1.0, 2.0, 3.0] and frame["customer"][1] == LONG_NAME  # the input kept
    rows = parsed(tables.to_csv(frame))
    assert rows[1][0] == RIGHT_TO_LEFT and rows[2][0] == LONG_NAME  # the download has the values whole


def test_a_table_file_name_says_what_whose_and_when_and_never_takes_an_id_as_a_path():
    period = Period.parse("2026-11")
    every = SimpleNamespace(customer_id=None, period=period)
    one = SimpleNamespace(customer_id=f"../{FOCAL_ID}/{BIDI}", period=period)
    assert tables.file_name(every, "operators") == "operators_all-customers_2026-11.csv"
    assert tables.file_name(SimpleNamespace(customer_id="cus_acme", period=period), "billing") == \
        "billing_cus_acme_2026-11.csv"
    assert tables.file_name(every, "access-log", whose="") == "access-log_2026-11.csv"
    assert tables.file_name(every, "data-health_datasets", whose="", when="2026-11-24") == \
        "data-health_datasets_2026-11-24.csv"
    name = tables.file_name(one, "managed-ai_by-model")
    assert name.startswith("managed-ai_by-model_") and name.endswith("_2026-11.csv")
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    assert not name.startswith(".") and "/" not in name and ".." not in name


# -- the handoff pack and the FOCUS file of the hostile exports ---------------------------------------------

def _figures(store, customer_id=None):
    return closing.figures_of(store, Period.parse("2026-10"), NOW, customer_id)


def test_a_handoff_pack_of_the_hostile_exports_neutralises_every_text_cell(store):
    found = _figures(store)
    packs = [handoff.pack(item) for item in found.values()]
    rows = parsed(handoff.to_csv_all(packs))
    assert formula_cells(rows[1:], _numbers(rows[0])) == []
    assert neutralised(rows) == set(FORMULAS)  # in customer ids, names and providers
    focal = parsed(handoff.to_csv(handoff.pack(found[FOCAL_ID])))
    assert {r[0] for r in focal[1:]} == {"'" + FOCAL_ID} and {r[1] for r in focal[1:]} == {FOCAL_NAME}


def test_a_focus_file_of_the_hostile_exports_neutralises_its_text_columns_only(store):
    charges = focus.charges(_figures(store))
    assert charges
    rows = parsed(focus.to_csv(focus.usage_rows(charges, Period.parse("2026-10"), "Platform")))
    text = {i for i, c in enumerate(rows[0]) if c in focus._TEXT}
    assert formula_cells([[v for i, v in enumerate(r) if i in text] for r in rows[1:]]) == []
    assert neutralised(rows) == set(FORMULAS)
    assert formula_cells(rows[1:], numeric=set(range(len(rows[0])))) == []  # the rest are numbers, or ours


def test_a_focus_file_read_back_gives_the_values_as_they_were_written(store):
    """Corrections and the per-customer file read a revision's FOCUS file back: a neutralised id must be the
    customer's id again, or every row would look gone and come back as a correction."""
    period = Period.parse("2026-10")
    charges = focus.charges(_figures(store))
    written = focus.to_csv(focus.usage_rows(charges, period, "Platform", 1))
    back = focus.read(written)
    assert {r["BillingAccountId"] for r in back} == {c.customer_id for c in charges}
    assert focus.corrections(back, charges, period, "Platform", 2) == []
    apostrophe = [dict(r, BillingAccountId="'quoted", BillingAccountName="''twice") for r in
                  focus.usage_rows(charges[:1], period, "Platform", 1)]
    again = focus.read(focus.to_csv(apostrophe))[0]
    assert (again["BillingAccountId"], again["BillingAccountName"]) == ("'quoted", "''twice")


# -- the command line on the hostile exports ----------------------------------------------------------------

def cli(hostile, state, *args):
    done = subprocess.run([sys.executable, "-m", "usage_analytics", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **hostile.env(state)}, timeout=300)
    return done.returncode, done.stdout, done.stderr


def test_the_command_line_writes_neutralised_packs_and_focus_files(hostile, tmp_path):
    code, out, err = cli(hostile, tmp_path, "handoff", "--customer", FOCAL_ID, "--period", "2026-10", "--format",
                         "csv")
    assert code == 0, err
    rows = parsed(out)
    assert formula_cells(rows[1:], numeric=_numbers(rows[0])) == [] and rows[1][0] == "'" + FOCAL_ID
    code, out, err = cli(hostile, tmp_path, "handoff", "--all", "--period", "2026-10", "--format", "csv")
    assert code == 0, err
    assert neutralised(parsed(out)) == set(FORMULAS)
    target = tmp_path / "focus.csv"
    code, out, err = cli(hostile, tmp_path, "focus", "--period", "2026-10", "--output", str(target))
    assert code == 0, err
    rows = parsed(target.read_text())
    text = {i for i, c in enumerate(rows[0]) if c in focus._TEXT}
    assert formula_cells([[v for i, v in enumerate(r) if i in text] for r in rows[1:]]) == []
    assert neutralised(rows) == set(FORMULAS)


def test_a_closed_month_of_the_hostile_exports_gives_the_focal_customer_their_own_focus_rows(hostile, tmp_path):
    code, out, err = cli(hostile, tmp_path, "close", "--period", "2026-10")
    assert code == 0, err
    target = tmp_path / "own.csv"
    code, out, err = cli(hostile, tmp_path, "focus", "--period", "2026-10", "--customer", FOCAL_ID,
                         "--output", str(target))
    assert code == 0, err
    rows = focus.read(target.read_text())
    assert rows and {r["BillingAccountId"] for r in rows} == {FOCAL_ID}  # read back: the id as it is
    assert {r[1] for r in parsed(target.read_text())[1:]} == {"'" + FOCAL_ID}  # on disk: neutralised
    code, out, err = cli(hostile, tmp_path, "handoff", "--customer", FOCAL_ID, "--period", "2026-10",
                         "--as-closed", "--format", "csv")
    assert code == 0, err
    assert parsed(out)[1][0] == "'" + FOCAL_ID


# -- a line break inside a value: quoted, or a spreadsheet starts a new row there (and reads a formula raw) --

SPLIT = f"Acme\r{FORMULAS[3]}"  # no quote or comma in it: those alone would have it quoted


def _split_rows(text: str) -> list[list[str]]:
    """Rows as a spreadsheet (or pandas) reads them: a lone \\r outside quotes ends a row."""
    return list(csv.reader(io.StringIO(text, newline=None)))


def test_a_table_download_quotes_a_value_with_a_line_break_so_no_row_is_forged():
    text = tables.to_csv(pd.DataFrame({"customer": [SPLIT, "b\nc"], "n": [1, 2]}))
    assert _split_rows(text) == [["customer", "n"], [SPLIT.replace("\r", "\n"), "1"], ["b\nc", "2"]]


def test_a_focus_file_quotes_a_value_with_a_line_break_so_no_row_is_forged(store):
    charges = focus.charges(_figures(store, FOCAL_ID))[:1]
    rows = [dict(r, BillingAccountName=SPLIT) for r in focus.usage_rows(charges, Period.parse("2026-10"), "P")]
    text = focus.to_csv(rows)
    assert len(_split_rows(text)) == 2 and focus.read(text)[0]["BillingAccountName"] == SPLIT


def test_a_handoff_pack_quotes_a_value_with_a_line_break_so_no_row_is_forged(store):
    data = handoff.pack(_figures(store, FOCAL_ID)[FOCAL_ID])
    data["customer"]["customer_name"] = SPLIT
    rows = _split_rows(handoff.to_csv(data))
    assert formula_cells(rows[1:], _numbers(rows[0])) == [] and len(rows) == len(parsed(handoff.to_csv(
        {**data, "customer": {**data["customer"], "customer_name": "Acme"}})))


@pytest.mark.parametrize("given, written", [
    ("-1.000000", "-1.000000"),  # a negative delta or mismatch stays a number
    ("+2.5", "+2.5"),
    ("-1+1", "'-1+1"), ("-", "'-"), ("=1", "'=1"), ("@SUM(1)", "'@SUM(1)"), ("\t1", "'\t1"),
])
def test_a_signed_number_stays_a_number_and_anything_else_starting_like_a_formula_is_neutralised(given, written):
    assert handoff.cell(given) == written
