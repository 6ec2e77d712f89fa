"""What the all-customers pages draw, fetched as drawn (issue 19): the top workspaces, the largest customers' days
with the rest as one "other" series, and the calendar's pairs, each from a query of its own instead of every
customer's days. Given/expect with the hours and dollars worked out by hand in the comments, then the same
figures against the per-day rows the pages used to sum themselves, on the bundled sample."""
import json
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from conftest import at, customer, link, recon, session, usage
from test_app import OPERATOR, page
from usage_analytics import charts, config, frames
from usage_analytics.periods import Period

MARCH = Period.parse("2026-03")
LATER = at("2026-06-01 00:00")
CUSTOMERS = [customer("cus_a", "A"), customer("cus_b", "B"), customer("cus_c", "C")]
SESSIONS = [
    session("ws1", "2026-03-10 10:00", "2026-03-10 20:00", customer="cus_a"),  # A: 10 h on the 10th
    session("ws2", "2026-03-11 22:00", "2026-03-12 01:00", customer="cus_b", template="gpu"),  # B: 2 h + 1 h
    session("ws3", "2026-03-10 08:00", "2026-03-10 09:00", customer="cus_c"),  # C: 1 h on the 10th
]


def run(store, name, **params):
    return store.run(name, period_start=MARCH.start, period_end=MARCH.end, now=LATER, **params)


def listed(frame):
    return [tuple(None if v is None or v != v else v for v in row) for row in frame.itertuples(index=False)]


def test_the_largest_customers_are_drawn_and_the_rest_is_one_series_per_day(exports):
    store = exports(customers=CUSTOMERS, workspace_sessions=SESSIONS)
    two = run(store, "runtime_customer_series", customer_id=None, series=2)
    # A (10 h) is drawn; B (3 h) and C (1 h) are "other (2)": 1 h on the 10th (C), 2 h on the 11th, 1 h on the 12th
    assert listed(two) == [(at("2026-03-10 00:00").date(), "cus_a", 10.0, 0),
                           (at("2026-03-10 00:00").date(), None, 1.0, 2),
                           (at("2026-03-11 00:00").date(), None, 2.0, 2),
                           (at("2026-03-12 00:00").date(), None, 1.0, 2)]
    three = run(store, "runtime_customer_series", customer_id=None, series=3)  # room for all three: no "other"
    assert listed(three[["customer_id", "runtime_hours", "others"]]) == [
        ("cus_a", 10.0, 0), ("cus_c", 1.0, 0), ("cus_b", 2.0, 0), ("cus_b", 1.0, 0)]


def test_the_top_workspaces_are_summed_over_their_days_and_cut(exports):
    store = exports(customers=CUSTOMERS, workspace_sessions=SESSIONS)
    top = run(store, "runtime_top_workspaces", customer_id=None, top=2)
    # ws2 ran 22:00-01:00: 3 h over two UTC days; ws3 (1 h) is third and not listed
    assert listed(top) == [("cus_a", "ws1", "standard", 10.0, 1, False), ("cus_b", "ws2", "gpu", 3.0, 2, False)]


def test_the_largest_customers_by_the_measure_picked(exports):
    store = exports(
        customers=CUSTOMERS,
        provider_links=[link("openai", "cus_a"), link("openai", "cus_b"), link("openai", "cus_c")],
        ai_usage=[usage("2026-03-10 10:00", cost="5.000000", customer="cus_a", requests=1),
                  usage("2026-03-10 11:00", cost="1.250000", customer="cus_b", requests=40),
                  usage("2026-03-11 11:00", cost="0.500000", customer="cus_c", requests=3)],
        reconciliation=[recon("2026-03-10", "matched", customer="cus_a")])
    by_cost = run(store, "ai_customer_series", customer_id=None, metric="cost_usd", series=2)
    # by cost A ($5) is drawn, B and C ($1.25 and $0.50) are "other (2)"; only A's day is matched
    assert listed(by_cost[["customer_id", "reconciled", "cost_usd", "requests", "others"]]) == [
        ("cus_a", True, Decimal("5.000000"), 1, 0), (None, False, Decimal("1.250000"), 40, 2),
        (None, False, Decimal("0.500000"), 3, 2)]
    by_requests = run(store, "ai_customer_series", customer_id=None, metric="requests", series=2)
    # by requests B (40) is drawn; A (1) and C (3) are the other series
    assert listed(by_requests[["customer_id", "reconciled", "requests", "others"]]) == [
        ("cus_b", False, 40, 0), (None, True, 1, 2), (None, False, 3, 2)]


def test_the_calendar_pairs_of_a_few_customers_only(exports):
    store = exports(
        customers=CUSTOMERS,
        provider_links=[link("openai", "cus_a"), link("openai", "cus_b"), link("anthropic", "cus_b")],
        ai_usage=[usage("2026-03-10 10:00", cost="2.000000", customer="cus_a"),
                  usage("2026-03-10 10:00", cost="1.000000", customer="cus_b", model="m1"),
                  usage("2026-03-10 11:00", cost="0.250000", customer="cus_b", model="m2"),
                  usage("2026-03-10 12:00", provider="anthropic", cost="0.125000", customer="cus_b"),
                  usage("2026-03-10 12:00", provider="gemini", cost="9.000000", customer="cus_b")],  # not linked
        reconciliation=[recon("2026-03-10", "mismatch", customer="cus_b")])
    days = run(store, "ai_pair_days", customer_ids=["cus_b"])
    # B's two models of openai on the 10th are one cell ($1.25, its mismatch); anthropic has no row: missing
    assert listed(days) == [("cus_b", "anthropic", at("2026-03-10 00:00").date(), "missing", Decimal("0.125000")),
                            ("cus_b", "openai", at("2026-03-10 00:00").date(), "mismatch", Decimal("1.250000"))]
    assert run(store, "ai_pair_days", customer_ids=[]).empty


def test_a_query_cut_other_series_is_drawn_last_and_grey():
    frame = pd.DataFrame({"day": pd.to_datetime(["2026-03-10"] * 3).date, "customer": ["A", "other (7)", "B"],
                          "runtime_hours": [1.0, 50.0, 2.0]})
    _, names, other = charts.top_series(frame, "customer", "runtime_hours", other="other (7)")
    assert (names, other) == (["B", "A", "other (7)"], "other (7)")  # the largest named first, "other" last
    spec = charts.runtime_over_time(frame, by="customer", other="other (7)").to_dict()
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    assert scale["domain"][-1] == "other (7)" and scale["range"][-1] == charts.OTHER_COLOUR
    with pytest.raises(ValueError, match="cut to at most 2"):
        charts.top_series(frame, "customer", "runtime_hours", limit=2, other="other (7)")


# --- the same figures as the per-day rows give, on the bundled sample -------------------------------------

@pytest.fixture(scope="module")
def month():
    now = config.load().now()
    return Period.month(now.year, now.month), now


def sample(store, name, month, **params):
    period, now = month
    return store.run(name, period_start=period.start, period_end=period.end, now=now, **params)


def test_the_sample_top_workspaces_are_the_per_day_rows_summed(sample_store, month):
    days = sample(sample_store, "runtime_by_workspace_day", month, customer_id=None)
    summed = days.groupby(["customer_id", "workspace_id", "template"], as_index=False).agg(
        runtime_hours=("runtime_hours", "sum"), active_days=("day", "nunique"), is_running=("is_running", "any"))
    summed = summed.sort_values(["runtime_hours", "customer_id", "workspace_id"], ascending=[False, True, True])
    top = sample(sample_store, "runtime_top_workspaces", month, customer_id=None, top=25)
    assert len(top) == 25 and len(summed) > 25
    assert listed(top[["customer_id", "workspace_id", "template", "active_days", "is_running"]]) == listed(
        summed.head(25)[["customer_id", "workspace_id", "template", "active_days", "is_running"]])
    assert list(top["runtime_hours"]) == pytest.approx(list(summed.head(25)["runtime_hours"]), abs=1e-9)


def test_the_sample_series_hold_every_hour_and_name_the_largest(sample_store, month):
    days = sample(sample_store, "runtime_by_workspace_day", month, customer_id=None)
    per_customer = days.groupby("customer_id")["runtime_hours"].sum()
    drawn = sample(sample_store, "runtime_customer_series", month, customer_id=None, series=charts.MAX_SERIES)
    largest = sorted(per_customer.index, key=lambda c: (-per_customer[c], c))[:charts.MAX_SERIES - 1]
    assert set(drawn["customer_id"].dropna()) == set(largest)
    assert set(drawn.loc[drawn["customer_id"].isna(), "others"]) == {len(per_customer) - len(largest)}
    per_day = days.groupby("day")["runtime_hours"].sum()
    assert drawn.groupby("day")["runtime_hours"].sum().to_dict() == pytest.approx(per_day.to_dict(), abs=1e-9)

    ai = sample(sample_store, "ai_usage_by_day", month, customer_id=None)
    for metric in ("cost_usd", "output_tokens"):
        series = sample(sample_store, "ai_customer_series", month, customer_id=None, metric=metric,
                        series=charts.MAX_SERIES)
        totals = ai.groupby("customer_id")[metric].sum()
        largest = sorted(totals.index, key=lambda c: (-totals[c], c))[:charts.MAX_SERIES - 1]
        assert set(series["customer_id"].dropna()) == set(largest)
        matched = ai.assign(reconciled=ai["reconciliation_status"] == "matched")
        assert (series.groupby(["day", "reconciled"])[metric].sum().to_dict()
                == matched.groupby(["day", "reconciled"])[metric].sum().to_dict())  # exact: Decimals and counts


def test_the_all_customers_pages_never_fetch_every_customers_days(monkeypatch):
    """The Workspace runtime, Managed AI and Reconciliation pages for all customers (the sample's 40), with the
    charts split by customer: no query of every customer's per-day rows runs, and each chart draws at most
    MAX_SERIES series, the rest as one grey "other" (38 of the sample's customers have runtime this month, 36
    managed AI: 9 named, and 29 and 27 others)."""
    ran = []
    real = frames.rows
    monkeypatch.setattr(frames, "rows", lambda store, name, window: ran.append(name) or real(store, name, window))
    from usage_analytics import caches
    caches._summaries.clear()
    runtime = page(OPERATOR, "runtime", runtime_by_customer=True)
    ai = page(OPERATOR, "managed-ai", ai_split="customer")
    recon = page(OPERATOR, "reconciliation")
    for at_ in (runtime, ai, recon):
        assert not at_.exception, at_.exception
    assert not {"runtime_by_workspace_day", "ai_usage_by_day"} & set(ran), ran
    for at_, other in ((runtime, "other (29)"), (ai, "other (27)")):
        chart = at_.get("vega_lite_chart")[0].proto
        drawn = pa.ipc.open_stream(chart.datasets[0].data.data).read_all().to_pandas()
        names = set(drawn["customer"])
        # 9 customers named, and the rest of the 38 with runtime (36 with managed AI) as one series
        assert len(names) == charts.MAX_SERIES and other in names
        scale = json.loads(chart.spec)["layer"][0]["encoding"]["color"]["scale"]
        assert scale["domain"][-1] == other and scale["range"][-1] == charts.OTHER_COLOUR


def test_the_all_customers_by_model_table_counts_every_token_the_cards_count():
    """The by-model table (from the trend the figures carry) lists cached input tokens too, and its counts add up
    to the Tokens and Requests cards."""
    at_ = page(OPERATOR, "managed-ai")
    assert not at_.exception, at_.exception
    (by_model,) = [d.value for d in at_.dataframe if "model" in d.value.columns]
    assert list(by_model.columns) == ["provider", "model", "cost_usd", "requests", "input_tokens",
                                      "cached_input_tokens", "output_tokens"]
    tokens = next(m for m in at_.metric if m.label.startswith("Tokens"))
    requests = next(m for m in at_.metric if m.label.startswith("Requests"))
    total = int(by_model[["input_tokens", "cached_input_tokens", "output_tokens"]].sum().sum())
    assert tokens.proto.help == f"{total:,} input + cached + output"
    assert requests.proto.help == f"{int(by_model['requests'].sum()):,} requests"
