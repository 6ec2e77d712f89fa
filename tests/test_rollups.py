"""The daily rollups answer exactly what the hourly buckets answer, for any window and any 'now'.

Whole days come from ai_usage_daily and the days a window cuts from ai_usage itself (ai_usage_in); the
app's periods are whole UTC days, but 'now' cuts today and a comparison cuts a day in the past."""
import random
from datetime import datetime, timedelta

import pytest

SUMS = ("count(*) as metered_rows, sum(requests) as requests, sum(input_tokens) as input_tokens, "
        "sum(cached_input_tokens) as cached_input_tokens, sum(output_tokens) as output_tokens, "
        "sum(cost_usd) as cost_usd")
KEYS = "customer_id, day, provider, model"


def windows() -> list[tuple[datetime, datetime]]:
    chosen = random.Random(6)
    base = datetime(2026, 8, 1)
    found = [(datetime(2026, 10, 1), datetime(2026, 11, 1)),  # a closed month
             (datetime(2026, 11, 1), datetime(2026, 11, 24, 12)),  # this month to now
             (datetime(2026, 11, 24), datetime(2026, 11, 24, 12)),  # today only
             (datetime(2026, 10, 2), datetime(2026, 10, 25, 12)),  # a comparison's cut
             (datetime(2026, 11, 24, 3, 30), datetime(2026, 11, 24, 3, 30)),  # empty
             (datetime(2026, 11, 20, 5), datetime(2026, 11, 10))]  # end before start
    for _ in range(40):
        start = base + timedelta(minutes=chosen.randrange(0, 120 * 24 * 60, 30))
        found.append((start, start + timedelta(minutes=chosen.choice([0, 30, 60 * 23, 60 * 24, 60 * 49, 60 * 24 * 31])
                                               + chosen.randrange(0, 24 * 60, 30))))
    return found


@pytest.mark.parametrize("customer", [None, "cus_acme_robotics"])
def test_usage_in_any_window_from_rollups_equals_the_hourly_buckets(sample_store, customer):
    con = sample_store.cursor()
    checked = 0
    for start, end in windows():
        params = {"c": customer, "s": start, "e": end}
        rolled = con.execute(f"select {KEYS}, sum(metered_rows) as metered_rows, sum(requests) as requests, "
                         "sum(input_tokens) as input_tokens, sum(cached_input_tokens) as cached_input_tokens, "
                         "sum(output_tokens) as output_tokens, sum(cost_usd) as cost_usd "
                         f"from ai_usage_in($c, $s, $e) group by all order by all", params).fetchall()
        raw = con.execute(f"select customer_id, cast(bucket_start as date) as day, provider, model, {SUMS} "
                      "from ai_usage where ($c is null or customer_id = $c) and bucket_start >= $s "
                      "and bucket_start < $e group by all order by all", params).fetchall()
        assert rolled == raw, (start, end)
        checked += bool(raw)
    assert checked > 30  # most windows hold usage: the comparison is not of empty sets


def test_rollups_hold_every_checked_row_once(sample_store):
    con = sample_store.cursor()
    assert con.execute("select count(*), sum(cost_usd) from ai_usage").fetchone() == \
        con.execute("select sum(metered_rows), sum(cost_usd) from ai_usage_daily").fetchone()
    usage_days = con.execute("select count(*) from (select distinct customer_id, provider, cast(bucket_start as date) "
                         "from ai_usage)").fetchone()[0]
    assert con.execute("select count(*) filter (where first_bucket_start is not null) from ai_provider_days"
                   ).fetchone()[0] == usage_days
