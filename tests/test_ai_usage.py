"""Managed-AI totals: linked providers only, exact money (given/expect)."""
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

from conftest import at, link, usage
from usage_analytics import summary as summary_module
from usage_analytics.periods import Period

MARCH = Period.parse("2026-03")
NOW = at("2026-04-10 12:00")


def summarise(store, period=MARCH, now=NOW):
    return summary_module.customer_summary(store, "cus_a", period, now)


def test_only_linked_providers_count_and_unlinked_ones_are_named(exports):
    store = exports(
        provider_links=[link("openai")],
        ai_usage=[
            usage("2026-03-02 10:00", "openai", "1.250000", model="gpt-a", requests=3, tokens=(300, 30, 60)),
            usage("2026-03-02 11:00", "openai", "0.750000", model="gpt-b", requests=2, tokens=(200, 0, 40)),
            usage("2026-03-03 10:00", "anthropic", "9.000000", requests=5),
            usage("2026-03-03 10:00", "openai", "4.000000", customer="cus_b"),  # another customer
            usage("2026-04-01 00:00", "openai", "8.000000"),  # after the period
        ],
    )
    s = summarise(store)
    assert [(p.provider, p.cost_usd, p.requests, p.input_tokens, p.cached_input_tokens, p.output_tokens)
            for p in s.providers] == [("openai", Decimal("2.000000"), 5, 500, 30, 100)]
    assert s.not_configured == ("anthropic",)
    assert list(s.ai_daily.itertuples(index=False)) == [  # the daily rows charts use hold linked usage only
        (date(2026, 3, 2), "openai", "gpt-a", 3, 300, 30, 60, Decimal("1.250000000"), "missing"),
        (date(2026, 3, 2), "openai", "gpt-b", 2, 200, 0, 40, Decimal("0.750000000"), "missing"),
    ]
    assert s.ai_cost_usd == Decimal("2.000000")
    assert s.ai_total("requests") == 5
    unlinked = store.run("ai_unlinked_providers", customer_id="cus_a", period_start=MARCH.start,
                         period_end=MARCH.end, now=NOW)
    assert list(unlinked.itertuples(index=False)) == [("cus_a", "anthropic", 1)]
    everyone = store.run("ai_unlinked_providers", customer_id=None, period_start=MARCH.start,
                         period_end=MARCH.end, now=NOW)  # None: every customer
    assert list(everyone.itertuples(index=False)) == [("cus_a", "anthropic", 1), ("cus_b", "openai", 1)]


def test_a_provider_not_linked_is_named_only_for_usage_in_the_period_before_now(exports):
    from conftest import recon
    store = exports(
        provider_links=[link("openai")],
        ai_usage=[
            usage("2026-03-02 10:00", "openai"),
            usage("2026-03-10 09:00", "anthropic"),  # usage, not linked: named
            usage("2026-03-31 18:00", "google"),  # not linked, but after now: not yet
            usage("2026-04-01 00:00", "mistral"),  # not linked, after the period
        ],
        reconciliation=[recon("2026-03-05", "matched", provider="cohere")],  # a row but no usage: not named
    )
    late = summary_module.customer_summary(store, "cus_a", MARCH, at("2026-03-31 17:00"))
    assert late.not_configured == ("anthropic",)
    assert [p.provider for p in late.providers] == ["openai"]
    assert summarise(store).not_configured == ("anthropic", "google")
    assert summary_module.customer_summary(store, "cus_a", MARCH, at("2026-03-10 08:59")).not_configured == ()


def test_two_links_to_one_provider_do_not_double_count(exports):
    store = exports(provider_links=[link("openai"), link("openai")], ai_usage=[usage("2026-03-02 10:00")])
    assert summarise(store).ai_cost_usd == Decimal("1.000000")


def test_daily_rows_carry_the_reconciliation_status_of_their_day(exports):
    from conftest import recon
    store = exports(
        provider_links=[link("openai")],
        ai_usage=[usage("2026-03-02 10:00"), usage("2026-03-03 10:00"), usage("2026-03-04 10:00")],
        reconciliation=[recon("2026-03-02", "matched"), recon("2026-03-03", "pending")],
    )
    rows = summarise(store).ai_daily
    assert list(rows["reconciliation_status"]) == ["matched", "pending", "missing"]


def test_usage_after_now_is_not_counted(exports):
    store = exports(provider_links=[link("openai")],
                    ai_usage=[usage("2026-03-02 10:00"), usage("2026-03-02 13:00")])
    assert summarise(store, now=at("2026-03-02 12:00")).ai_cost_usd == Decimal("1.000000")


def test_a_thousand_micro_dollars_add_up_exactly(exports):
    # 1000 distinct (hour, model) buckets: 25 days x 24 hours x 2 models holds them
    rows = [usage(f"2026-03-{1 + i % 25:02d} {(i // 25) % 24:02d}:00", cost="0.000001", model=f"m{i // 600}")
            for i in range(1000)]
    assert len({(r["bucket_start"], r["model"]) for r in rows}) == 1000
    s = summarise(exports(provider_links=[link("openai")], ai_usage=rows))
    assert s.ai_cost_usd == Decimal("0.001000")
    assert str(s.ai_cost_usd) == "0.001000"


def test_money_stored_as_double_is_summed_exactly_too(tmp_path, exports, open_store):
    exports(provider_links=[link("openai")])
    # Rewrite ai_usage with cost_usd as DOUBLE, as the contract allows: 0.000001 is not exact in binary.
    rows = 1000
    table = pa.table({
        "customer_id": ["cus_a"] * rows,
        "bucket_start": pa.array([at("2026-03-05 10:00")] * rows, pa.timestamp("ms")),  # naive means UTC
        "provider": ["openai"] * rows, "model": [f"m{i}" for i in range(rows)],
        "provider_project_id": ["proj_x"] * rows, "requests": [1] * rows, "input_tokens": [1] * rows,
        "cached_input_tokens": [0] * rows, "output_tokens": [1] * rows, "cost_usd": [0.000001] * rows,
    })
    assert sum([0.000001] * rows) != 0.001  # the naive float sum is off
    for old in (tmp_path / "ai_usage").glob("*.parquet"):
        old.unlink()
    pq.write_table(table, tmp_path / "ai_usage" / "double.parquet")
    store = open_store()
    assert summarise(store).ai_cost_usd == Decimal("0.001000")
