"""How figures read on cards: money to the cent, and short when a four-across card would cut it off."""
from decimal import Decimal

import pytest

from usage_analytics import formatting


@pytest.mark.parametrize("amount, shown", [
    (Decimal("0"), "$0.00"),
    (Decimal("1234.565"), "$1,234.57"),  # half up, to the cent
    (Decimal("999999.994"), "$999,999.99"),
    (Decimal("1000000"), "$1.0M"),
    (Decimal("13876420.12"), "$13.9M"),  # 5,000 customers' month: "$13,876,420…" did not fit
])
def test_money_on_a_card_is_cents_up_to_a_million_then_short(amount, shown):
    assert formatting.usd_card(amount) == shown


def test_large_counts_are_short():
    assert [formatting.compact(n) for n in (999, 1_000, 81_049_113, 2_000_000_000)] == ["999", "1.0k", "81.0M", "2.0B"]


# Export strings are data: given a hostile value, expect text that Markdown shows as it came.
@pytest.mark.parametrize("given, expected", [
    ("**bold**", r"\*\*bold\*\*"),
    (":red[x]", r"\:red\[x\]"),
    ("$x^2$", r"\$x\^2\$"),
    ("[click](http://e.x)", "\\[click\\]\\(http\u2060\\:\\/\\/e\\.x\\)"),  # (a bare URL is linked after escapes)
    ("![x](http://h/p.png)", "\\!\\[x\\]\\(http\u2060\\:\\/\\/h\\/p\\.png\\)"),
    ("www.e.x a@e.x", "www\u2060\\.e\\.x a\u2060\\@e\\.x"),
    (":material/home:", r"\:material\/home\:"),
    ("Acme Robotics", "Acme Robotics"),
    ("cus_\u202eevil", "cus\\_\ufffdevil"),  # a right-to-left override is made visible, not obeyed
    ("two\nlines", "two lines"),
    (None, ""),
])
def test_literal_escapes_every_markup_of_an_export_string(given, expected):
    assert formatting.literal(given) == expected


def test_literal_shortens_a_long_value_to_80_characters():
    assert formatting.literal("x" * 5000) == "x" * 79 + "…"
    assert formatting.literal("x" * 5000, None) == "x" * 5000


def test_code_fences_a_value_with_backticks_so_it_cannot_close_the_span():
    assert formatting.code("cus_a") == "` cus_a `"
    assert formatting.code("a``b") == "``` a``b ```"


@pytest.mark.parametrize("given, expected", [
    ("cus_acme", "cus_acme"), ("../../etc/passwd", "etc-passwd"), ("a b/c", "a-b-c"), ("..", "unnamed")])
def test_file_part_keeps_a_download_name_to_safe_characters(given, expected):
    assert formatting.file_part(given) == expected
