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
