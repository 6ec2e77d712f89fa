"""One money format (issue 17): $1,148.30 on cards and in tables, the exact 6-place amount in helps, tooltips and
downloads, and an empty cell where there is no amount. Given an amount, expect the text people see."""
from decimal import Decimal
import importlib

import pytest

from usage_analytics import formatting, handoff


@pytest.mark.parametrize("given, cents, exact", [
    ("1148.299073", "$1,148.30", "$1,148.299073"),  # the pack's 6-place string
    (Decimal("466.325438"), "$466.33", "$466.325438"),  # the handoff KPI that showed 466.325438 without '$'
    (1148.299073, "$1,148.30", "$1,148.299073"),  # a table's float keeps its shown digits
    (Decimal("1234.565"), "$1,234.57", "$1,234.565000"),  # half up, to the cent
    (Decimal("0.005"), "$0.01", "$0.005000"),
    ("0.000000", "$0.00", "$0.000000"),
    ("-0.430120", "-$0.43", "-$0.430120"),  # an overdrawn balance: the sign before the dollar
    (Decimal("-0.004"), "$0.00", "-$0.004000"),  # rounds to no cents: no "-$0.00"
    ("13876420.12", "$13,876,420.12", "$13,876,420.120000"),
    (7, "$7.00", "$7.000000"),
])
def test_money_as_text_is_dollars_thousands_and_cents_or_the_exact_six_places(given, cents, exact):
    assert formatting.usd_text(given) == cents
    assert formatting.usd_text(given, 6) == exact


@pytest.mark.parametrize("given", [None, "", "  ", float("nan"), Decimal("NaN")])
def test_no_amount_is_an_empty_cell_never_none_or_nan(given):
    assert formatting.usd_text(given) == "" and formatting.usd_text(given, 6) == ""


def test_cents_agree_with_the_cards_and_the_exact_places_with_the_downloads():
    for amount in (Decimal("0"), Decimal("999999.994"), Decimal("300.131284"), Decimal("52.157246")):
        assert formatting.usd_text(amount) == formatting.usd(amount) == formatting.usd_card(amount)
        assert formatting.usd_text(amount, 6) == formatting.usd(amount, 6)
        assert formatting.usd_text(f"{amount:f}", 6).replace("$", "").replace(",", "") == handoff._money(amount)


def test_the_handoff_table_shows_every_money_column_of_the_pack_in_dollars_and_an_empty_cell_empty():
    page = importlib.import_module("pages.handoff")
    money = {c for c in handoff.CSV_COLUMNS if c.endswith("_usd") or c.startswith("ai_usd_") and "runway" not in c}
    assert set(page.MONEY) == money
    header = ",".join(handoff.CSV_COLUMNS)
    row = {c: "" for c in handoff.CSV_COLUMNS} | {"provider": "openai", "cost_usd": "1148.299073",
                                                  "mismatch_usd": "-5.500000", "requests": "12"}
    shown = page._on_screen(header + "\n" + ",".join(row[c] for c in handoff.CSV_COLUMNS) + "\n")
    assert shown.loc[0, "cost_usd"] == "$1,148.30" and shown.loc[0, "mismatch_usd"] == "-$5.50"
    assert shown.loc[0, "provider_cost_usd"] == "" and shown.loc[0, "ai_usd_estimated_now"] == ""
    assert shown.loc[0, "requests"] == "12" and shown.loc[0, "provider"] == "openai"  # the rest as written
