"""Looking ahead (issue 16): prepaid balances estimated now with burn and runway, trials ending, the projection to
a period's end, and what the outlook query reads. Given/expect, the values worked out by hand in the comments."""
import json
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from conftest import at, customer, link, session, usage
from test_cli import raw  # noqa: F401 (the sample rows, a fixture)
from usage_analytics import handoff, outlook
from usage_analytics.outlook import AI_USD, WORKSPACE_HOURS, balance, projected, trial
from usage_analytics.periods import Period
from usage_analytics.rules import BillingSnapshot
from usage_analytics.summary import customer_summary

NOW = at("2026-11-24 12:00")
NOVEMBER = Period.parse("2026-11")


def test_the_issues_example_balances():
    # 20 h as of Nov 20, 8 h used since: 12 h now. Last 7 days 10 h: 1.428571 h a day; 12 / 1.428571 = 8.4 days,
    # Nov 24 12:00 + 8.4 days = Dec 2 21:36 -> 2026-12-02; 8.4 is not under 7: not low.
    hours = balance(WORKSPACE_HOURS, 20.0, at("2026-11-20 00:00"), 8.0, 10.0, NOW)
    assert hours.block() == {"snapshot": 20.0, "as_of": "2026-11-20T00:00:00Z", "used_since": 8.0,
                             "estimated_now": 12.0, "burn_per_day": 1.43, "runway_days": 8.4,
                             "runs_out_on": "2026-12-02", "low": False}
    # $5 - $3 = $2; $3.50 in 7 days = $0.50 a day; 4.0 days -> Nov 28 12:00; under 7: low.
    money = balance(AI_USD, Decimal("5"), at("2026-11-20 00:00"), Decimal("3"), Decimal("3.5"), NOW)
    assert money.block() == {"snapshot": "5.000000", "as_of": "2026-11-20T00:00:00Z", "used_since": "3.000000",
                             "estimated_now": "2.000000", "burn_per_day": "0.500000", "runway_days": 4.0,
                             "runs_out_on": "2026-11-28", "low": True}
    assert money.runway_text() == "runs out in about 4.0 days, on 2026-11-28"
    assert money.state == "low" and hours.state == "ok"


def test_an_overdrawn_balance_has_no_runway_and_is_low():
    # 3.50 h, 27.50 h used since: -24.00 h; it ran out already, so the runway is 0 and the day is today.
    b = balance(WORKSPACE_HOURS, 3.5, at("2026-11-23 00:00"), 27.5, 70.0, NOW)
    assert (b.estimated_now, b.runway_days, b.runs_out_on, b.low, b.state) == (-24.0, 0.0, NOW.date(), True,
                                                                                "overdrawn")
    assert b.runway_text() == "is overdrawn by 24.00 h"
    money = balance(AI_USD, Decimal("4.20"), at("2026-11-23 00:00"), Decimal("6.90"), Decimal("7"), NOW)
    assert money.estimated_now == Decimal("-2.700000") and money.runway_text() == "is overdrawn by $2.70"


def test_a_balance_of_zero_with_nothing_used_is_empty_not_overdrawn():
    b = balance(AI_USD, Decimal(0), at("2026-11-23 00:00"), Decimal(0), Decimal(0), NOW)
    assert (b.state, b.low, b.runway_days, b.runway_text()) == ("empty", True, 0.0, "is used up")


def test_a_null_balance_counts_as_empty_and_says_so():
    b = balance(WORKSPACE_HOURS, None, at("2026-11-23 00:00"), 2.0, 7.0, NOW)
    assert (b.snapshot, b.estimated_now, b.low) == (0.0, -2.0, True)
    assert b.notes == ("the billing snapshot records no workspace-hours balance, so it counts as empty",)


def test_no_usage_in_the_last_7_days_gives_no_runway_and_is_not_low():
    b = balance(WORKSPACE_HOURS, 10.0, at("2026-11-01 00:00"), 0.0, 0.0, NOW)
    assert (b.burn_per_day, b.runway_days, b.runs_out_on, b.low, b.state) == (0.0, None, None, False, "ok")
    assert b.runway_text() == "has no runway estimate: nothing was used in the last 7 whole days"


def test_usage_before_the_snapshot_only_leaves_the_balance_whole():
    # nothing since the snapshot, 14 h in the last 7 days (before it): 2 h a day, 10 h last 5.0 days.
    b = balance(WORKSPACE_HOURS, 10.0, at("2026-11-24 06:00"), 0.0, 14.0, NOW)
    assert (b.estimated_now, b.burn_per_day, b.runway_days, b.runs_out_on, b.low) == (
        10.0, 2.0, 5.0, at("2026-11-29 12:00").date(), True)


def test_a_snapshot_dated_after_now_counts_nothing_as_used_and_says_so():
    b = balance(WORKSPACE_HOURS, 10.0, at("2026-11-25 00:00"), 3.0, 7.0, NOW)
    assert b.used_since == 0.0 and b.estimated_now == 10.0
    assert b.notes == ("the snapshot is dated 2026-11-25 00:00 UTC, after now: nothing is counted as used yet",)


def test_a_snapshot_dated_before_the_account_was_created_says_so():
    b = balance(WORKSPACE_HOURS, 10.0, at("2026-10-01 00:00"), 3.0, 7.0, NOW, created_at=at("2026-10-05 00:00"))
    assert b.estimated_now == 7.0
    assert b.notes == ("the snapshot is dated before the account was created (2026-10-05): usage is counted from "
                       "the snapshot on",)


def test_runway_rounds_half_up_and_low_reads_the_rounded_runway():
    # 6.95 h at 1 h a day: 6.95 -> 7.0 days, which is not under 7.
    b = balance(WORKSPACE_HOURS, 6.95, at("2026-11-24 00:00"), 0.0, 7.0, NOW)
    assert (b.runway_days, b.low) == (7.0, False)
    assert balance(WORKSPACE_HOURS, 6.94, at("2026-11-24 00:00"), 0.0, 7.0, NOW).low  # 6.9 days


def test_low_balance_days_is_a_setting():
    b = balance(WORKSPACE_HOURS, 20.0, at("2026-11-20 00:00"), 8.0, 10.0, NOW, low_days=10)
    assert b.runway_days == 8.4 and b.low


def snapshot(mode, **fields):
    return BillingSnapshot(as_of=at("2026-11-20 00:00"), billing_mode=mode, **fields)


@pytest.mark.parametrize("ends, days_left, ending, text", [
    ("2026-11-28 00:00", 3.5, True, "the trial ends in about 3.5 days, on 2026-11-28 00:00 UTC"),
    ("2026-12-06 12:00", 12.0, False, "the trial ends in about 12.0 days, on 2026-12-06 12:00 UTC"),
    ("2026-11-20 00:00", 0.0, False, "the trial ended on 2026-11-20"),  # ended: the readiness gate blocks it
    (None, None, False, "the trial has no end date"),
])
def test_an_approved_trials_days_left(ends, days_left, ending, text):
    found = trial(snapshot("trial", trial_status="approved", trial_ends_at=ends and at(ends)), NOW)
    assert (found.days_left, found.ending, found.text()) == (days_left, ending, text)


def test_only_an_approved_trial_counts_down():
    assert trial(snapshot("trial", trial_status="pending"), NOW) is None
    assert trial(snapshot("paid", payment_verified=True), NOW) is None
    assert trial(None, NOW) is None


def test_a_projection_adds_the_last_7_days_rate_for_the_days_left():
    # November at Nov 24 12:00: 6.5 days left. $70 in 7 days = $10 a day: $100 + $65 = $165.
    assert projected(Decimal("100"), Decimal("70"), NOVEMBER, NOW) == Decimal("165.000000")
    assert projected(100.0, 70.0, NOVEMBER, NOW) == 165.0
    assert projected(100.0, 0.0, NOVEMBER, NOW) == 100.0  # nothing in the last 7 days: it stays where it is
    assert projected(100.0, 70.0, Period.parse("2026-10"), NOW) is None  # ended
    assert projected(0.0, 70.0, Period.parse("2026-12"), NOW) is None  # not started


# What the outlook query reads, on rows written by hand (now: 2026-03-20 12:00; the last 7 whole days are
# Mar 13 00:00 to Mar 20 00:00).
MARCH_NOW = at("2026-03-20 12:00")


def prepaid(customer_id="cus_a", as_of="2026-03-15 10:30", hours=20.0, ai="10"):
    return {"customer_id": customer_id, "as_of": at(as_of), "billing_mode": "prepaid", "payment_verified": False,
            "prepaid_workspace_hours": hours, "prepaid_ai_usd": None if ai is None else Decimal(ai)}


@pytest.fixture
def march(exports):
    return exports(
        customers=[customer(), customer("cus_b", "Customer B")],
        billing_accounts=[prepaid(), {"customer_id": "cus_b", "as_of": at("2026-03-01 00:00"), "billing_mode": "paid",
                                      "payment_verified": True}],
        workspace_sessions=[
            session("ws1", "2026-03-15 09:00", "2026-03-15 12:00"),  # 3 h in the 7 days, 1.5 h after 10:30
            session("ws1", "2026-03-15 11:00", "2026-03-15 11:30"),  # inside the one above: nothing more
            session("ws2", "2026-03-19 22:00", None),  # running: 2 h in the 7 days (to Mar 20 00:00), 14 h since
            session("ws3", "2026-03-10 00:00", "2026-03-12 00:00"),  # before both windows
            session("ws9", "2026-03-16 00:00", "2026-03-16 05:00", customer="cus_b"),  # 5 h, not prepaid
        ],
        provider_links=[link("openai"), link("openai", customer="cus_b")],
        ai_usage=[
            usage("2026-03-15 10:00", cost="1"),  # in the 7 days; before the snapshot (10:30)
            usage("2026-03-15 11:00", cost="2"),  # both (the snapshot's own day, from its hour on)
            usage("2026-03-17 05:00", cost="4"),  # both (a whole day after the snapshot's)
            usage("2026-03-20 09:00", cost="8"),  # today: since the snapshot, not in the 7 whole days
            usage("2026-03-16 03:00", provider="google", cost="16"),  # no link: never counted
            usage("2026-03-16 03:00", cost="32", customer="cus_b"),
        ])


def test_the_outlook_query_on_rows_worked_by_hand(march):
    rows = {r.customer_id: r for r in march.run("outlook", customer_id=None, now=MARCH_NOW).itertuples()}
    a, b = rows["cus_a"], rows["cus_b"]
    assert (round(a.runtime_hours_7d, 6), a.ai_usd_7d) == (5.0, Decimal(7))  # 3 + 2 h; $1 + $2 + $4
    assert (round(b.runtime_hours_7d, 6), b.ai_usd_7d) == (5.0, Decimal(32))
    since = {r.customer_id: r for r in march.run("outlook_since", customer_id=None, now=MARCH_NOW).itertuples()}
    assert list(since) == ["cus_a"]  # cus_b is not prepaid: no row
    a = since["cus_a"]
    assert (round(a.runtime_hours_since, 6), a.ai_usd_since) == (15.5, Decimal(14))  # 1.5 + 14 h; $2 + $4 + $8
    for name in ("outlook", "outlook_since"):
        one = march.run(name, customer_id="cus_a", now=MARCH_NOW)
        assert list(one["customer_id"]) == ["cus_a"]
    assert march.run("outlook_since", customer_id="cus_b", now=MARCH_NOW).empty


def test_ai_usage_since_the_snapshot_counts_each_bucket_once_from_as_of_to_now(exports):
    """The AI usage since a snapshot comes from several parts (the days from the snapshot's own day to today whole
    from the daily rollup, less the hourly buckets before as_of on its day and from now on today; the whole months
    between from the monthly one): each bucket from as_of up to now is counted exactly once, whichever part holds
    it, and none before as_of or from now on. Each cost is a power of two, so the sum says which buckets were
    counted."""
    store = exports(
        customers=[customer(), customer("cus_t", "Today Co"), customer("cus_m", "Midnight Co"),
                   customer("cus_p", "Paid Co"), customer("cus_y", "Year Co"), customer("cus_z", "Month End Co")],
        billing_accounts=[prepaid(as_of="2026-03-15 10:30"), prepaid("cus_t", as_of="2026-03-20 06:00"),
                          prepaid("cus_m", as_of="2026-03-19 00:00"), prepaid("cus_y", as_of="2026-01-10 08:00"),
                          prepaid("cus_z", as_of="2026-02-28 20:00"),
                          {"customer_id": "cus_p", "as_of": at("2026-03-01 00:00"), "billing_mode": "paid",
                           "payment_verified": True}],
        provider_links=[link("openai", customer=c) for c in ("cus_a", "cus_t", "cus_m", "cus_p", "cus_y", "cus_z")],
        ai_usage=[
            # cus_a: the snapshot on Mar 15 10:30, an earlier day than today (Mar 20)
            usage("2026-03-14 23:00", cost="1024"),  # the day before the snapshot's: no
            usage("2026-03-15 10:00", cost="1"),  # its own day, before as_of: no
            usage("2026-03-15 11:00", cost="2"),  # its own day, after as_of: yes (hourly)
            usage("2026-03-15 23:00", cost="4"),  # its own day's last hour: yes (hourly)
            usage("2026-03-16 00:00", cost="8"),  # a whole day between: yes (daily)
            usage("2026-03-19 23:00", cost="16"),  # the last whole day before today: yes (daily)
            usage("2026-03-20 00:00", cost="32"),  # today from midnight: yes (hourly)
            usage("2026-03-20 11:00", cost="64"),  # today, the last hour before now: yes (hourly)
            usage("2026-03-20 12:00", cost="128"),  # today at now: no
            usage("2026-03-20 15:00", cost="256"),  # today after now: no
            usage("2026-03-21 05:00", cost="512"),  # tomorrow: no
            # cus_t: the snapshot today at 06:00, so its own day is today (from as_of to now)
            usage("2026-03-19 10:00", cost="1", customer="cus_t"),  # yesterday: no
            usage("2026-03-20 05:00", cost="2", customer="cus_t"),  # today before as_of: no
            usage("2026-03-20 06:00", cost="4", customer="cus_t"),  # at as_of: yes
            usage("2026-03-20 11:00", cost="8", customer="cus_t"),  # before now: yes
            usage("2026-03-20 12:00", cost="16", customer="cus_t"),  # at now: no
            # cus_m: the snapshot at yesterday's midnight, so its own day is yesterday, whole
            usage("2026-03-18 23:00", cost="1", customer="cus_m"),  # before as_of: no
            usage("2026-03-19 00:00", cost="2", customer="cus_m"),  # at as_of: yes
            usage("2026-03-19 23:00", cost="4", customer="cus_m"),  # yes
            usage("2026-03-20 03:00", cost="8", customer="cus_m"),  # today: yes
            usage("2026-03-20 13:00", cost="16", customer="cus_m"),  # after now: no
            usage("2026-03-16 03:00", cost="32", customer="cus_p"),  # not prepaid: nothing is counted since
            # cus_y: the snapshot two months back (Jan 10 08:00): its own day (hourly), the rest of its month
            # (daily), February whole (the monthly rollup), this month before today (daily), today (hourly)
            usage("2025-12-31 23:00", cost="1", customer="cus_y"),  # the month before: no
            usage("2026-01-10 07:00", cost="2", customer="cus_y"),  # its own day, before as_of: no
            usage("2026-01-10 09:00", cost="4", customer="cus_y"),  # its own day, after as_of: yes
            usage("2026-01-11 00:00", cost="8", customer="cus_y"),  # the next day, its own month: yes
            usage("2026-01-31 23:00", cost="16", customer="cus_y"),  # its own month's last hour: yes
            usage("2026-02-01 00:00", cost="32", customer="cus_y"),  # a whole month between: yes
            usage("2026-02-28 23:00", cost="64", customer="cus_y"),  # yes
            usage("2026-02-14 10:00", cost="4096", provider="google", customer="cus_y"),  # no link: no
            usage("2026-03-01 00:00", cost="128", customer="cus_y"),  # this month, before today: yes
            usage("2026-03-19 23:00", cost="256", customer="cus_y"),  # yes
            usage("2026-03-20 11:00", cost="512", customer="cus_y"),  # today before now: yes
            usage("2026-03-20 12:00", cost="1024", customer="cus_y"),  # at now: no
            # cus_z: the snapshot on its month's last day (Feb 28 20:00): no whole day of its month is left
            usage("2026-02-27 12:00", cost="1", customer="cus_z"),  # before: no
            usage("2026-02-28 21:00", cost="2", customer="cus_z"),  # its own day: yes
            usage("2026-03-01 05:00", cost="4", customer="cus_z"),  # this month: yes
        ])
    expected = {"cus_a": Decimal(2 + 4 + 8 + 16 + 32 + 64), "cus_t": Decimal(4 + 8), "cus_m": Decimal(2 + 4 + 8),
                "cus_p": None, "cus_y": Decimal(4 + 8 + 16 + 32 + 64 + 128 + 256 + 512), "cus_z": Decimal(2 + 4)}
    rows = store.run("outlook_since", customer_id=None, now=MARCH_NOW)  # (prepaid customers only: cus_p is not)
    assert dict(zip(rows["customer_id"], rows["ai_usd_since"])) == {k: v for k, v in expected.items() if v is not None}
    for cid, since in expected.items():  # one customer's row is the same as in every customer's
        one = store.run("outlook_since", customer_id=cid, now=MARCH_NOW)
        assert list(zip(one["customer_id"], one["ai_usd_since"])) == ([(cid, since)] if since is not None else [])


def test_runtime_since_the_snapshot_counts_each_minute_once_from_as_of_to_now(exports):
    """The runtime since a snapshot on an earlier day is its day whole from the daily rollup less the part of it
    before as_of (runtime_before_snapshots, kept per snapshot), then the days to today and today to now; a snapshot
    taken today reads its runs from as_of. Each run lasts a power of two of minutes after as_of, so the sum says
    which were counted; now is Mar 20 12:00."""
    store = exports(
        customers=[customer(), customer("cus_t", "Today Co"), customer("cus_m", "Midnight Co")],
        billing_accounts=[prepaid(as_of="2026-03-15 10:30"), prepaid("cus_t", as_of="2026-03-20 06:00"),
                          prepaid("cus_m", as_of="2026-03-19 00:00")],
        workspace_sessions=[
            # cus_a: the snapshot on Mar 15 10:30, an earlier day than today
            session("ws1", "2026-03-15 09:00", "2026-03-15 10:00"),  # its day before as_of (60 min before): no
            session("ws2", "2026-03-14 23:56", "2026-03-15 00:04"),  # 4 min of its day, all before as_of: no
            session("ws3", "2026-03-15 10:14", "2026-03-15 10:46"),  # 16 min before as_of, 16 after: 16
            session("ws4", "2026-03-15 23:00", "2026-03-16 01:08"),  # 60 min on its day, 68 the next: 128
            session("ws5", "2026-03-20 11:28", "2026-03-20 12:32"),  # today, ends after now: 32 (to now)
            session("ws6", "2026-03-20 11:56", None),  # running: 4 (to now)
            # cus_t: the snapshot today at 06:00 (its own day is today, read from the runs)
            session("ws1", "2026-03-20 05:00", "2026-03-20 07:04", customer="cus_t"),  # 60 before as_of, 64 after
            session("ws2", "2026-03-19 20:00", "2026-03-19 21:00", customer="cus_t"),  # yesterday: no
            # cus_m: the snapshot at yesterday's midnight (nothing of its day is before it)
            session("ws1", "2026-03-18 23:00", "2026-03-19 00:16", customer="cus_m"),  # 16 after as_of
        ])
    con = store.cursor()
    before = con.execute("select customer_id, as_of, runtime_us from runtime_before_snapshots order by all").fetchall()
    minute = 60_000_000
    assert before == [("cus_a", at("2026-03-15 10:30").replace(tzinfo=None), (60 + 4 + 16) * minute),
                      ("cus_t", at("2026-03-20 06:00").replace(tzinfo=None), 60 * minute)]  # (none at a midnight)
    expected = {"cus_a": 16 + 128 + 32 + 4, "cus_t": 64, "cus_m": 16}
    rows = store.run("outlook_since", customer_id=None, now=MARCH_NOW)
    assert {c: round(h * 60, 6) for c, h in zip(rows["customer_id"], rows["runtime_hours_since"])} == expected
    for cid in expected:  # one customer's row is the same as in every customer's, to the bit
        one = store.run("outlook_since", customer_id=cid, now=MARCH_NOW)
        assert list(one["runtime_hours_since"]) == list(rows.loc[rows["customer_id"] == cid, "runtime_hours_since"])


def test_a_prepaid_customers_balances_reach_the_pack(march):
    item = customer_summary(march, "cus_a", Period.parse("2026-03"), MARCH_NOW)
    hours, money = item.balances
    # 20 - 15.5 = 4.5 h; 5 h / 7 = 0.714286 h a day; 4.5 / 0.714286 = 6.3 days: low; Mar 20 12:00 + 6.3 d = Mar 26
    assert (hours.estimated_now, round(hours.burn_per_day, 6), hours.runway_days, hours.low) == (
        4.5, 0.714286, 6.3, True)
    assert hours.runs_out_on == at("2026-03-26 00:00").date()
    # $10 - $14 = -$4: overdrawn
    assert (money.estimated_now, money.state, money.runway_days) == (Decimal("-4.000000"), "overdrawn", 0.0)
    pack = handoff.pack(item)
    assert pack["billing"]["balances"]["ai_usd"]["estimated_now"] == "-4.000000"
    assert pack["billing"]["balances"]["workspace_hours"]["runway_days"] == 6.3
    total = handoff.to_csv(pack).splitlines()[-1]
    assert ",4.5,6.3,-4.000000,0.0,true," in total
    paid = handoff.pack(customer_summary(march, "cus_b", Period.parse("2026-03"), MARCH_NOW))
    assert paid["billing"]["balances"] is None
    json.dumps(pack)  # JSON-ready


def test_one_customers_figures_ask_for_the_usage_since_a_snapshot_only_when_it_is_prepaid(march, monkeypatch):
    """outlook_since reads nothing but a prepaid account's usage since its snapshot: one customer's figures start it
    once its billing snapshot says prepaid, and not at all for another account (15-20 ms of CPU for no row at
    100M). Either way a customer's look ahead is the one every customer's figures give it."""
    from usage_analytics import summary

    asked = []
    real = summary.submit
    monkeypatch.setattr(summary, "submit", lambda store, name, window, fetch=None: asked.append(
        (name, window["customer_id"])) or real(store, name, window, fetch))
    march_ = Period.parse("2026-03")
    every = summary.summaries(march, march_, MARCH_NOW)
    assert ("outlook_since", None) in asked
    for cid, prepaid in (("cus_a", True), ("cus_b", False)):
        asked.clear()
        alone = customer_summary(march, cid, march_, MARCH_NOW)
        assert (("outlook_since", cid) in asked) is prepaid and ("outlook", cid) in asked
        assert alone.ahead == every[cid].ahead and alone.balances == every[cid].balances, cid
    assert every["cus_a"].ahead.ai_usd_since == Decimal(14) and every["cus_b"].ahead.ai_usd_since is None


def test_the_projection_of_a_customers_open_month(march):
    item = customer_summary(march, "cus_a", Period.parse("2026-03"), MARCH_NOW)
    # March to Mar 20 12:00: runtime 3 + 2 (ws3 Mar 10-12: 48 h) + ws2 14 h = 3 + 48 + 14 = 65 h; AI $1+2+4+8 = $15.
    assert round(item.runtime_hours, 6) == 65.0 and item.ai_cost_usd == Decimal("15.000000")
    # 11.5 days left; 5 h / 7 a day: 65 + 8.214286 = 73.214286 h; $7 / 7 = $1 a day: $15 + $11.50 = $26.50
    assert round(item.projected("runtime_hours"), 6) == 73.214286
    assert item.projected("ai_cost_usd") == Decimal("26.500000")
    ended = customer_summary(march, "cus_a", Period.parse("2026-02"), MARCH_NOW)
    assert ended.projected("runtime_hours") is None and ended.projected("ai_cost_usd") is None
    # never in the pack
    assert "projected" not in json.dumps(handoff.pack(item))


def test_a_scopes_daily_rate_is_drawn_only_when_every_customer_can_be_projected(march):
    from usage_analytics.summary import daily_rate, summaries
    both = list(summaries(march, Period.parse("2026-03"), MARCH_NOW).values())
    assert all(s.can_project("runtime_hours") and s.can_project("ai_cost_usd") for s in both)
    # cus_a 5 h and $7 over the 7 days, cus_b 5 h (ws9, Mar 16) and its AI usage: the scope's rate a day
    hours = sum(s.ahead.runtime_hours_7d for s in both)
    assert daily_rate(both, "runtime_hours") == pytest.approx(hours / 7) and hours == pytest.approx(10.0)
    assert daily_rate(both, "ai_cost_usd") == float(sum((s.ahead.ai_usd_7d for s in both), Decimal(0))) / 7
    ended = list(summaries(march, Period.parse("2026-02"), MARCH_NOW).values())  # an ended month: no projection
    assert not any(s.can_project("ai_cost_usd") for s in ended)
    assert daily_rate(ended, "runtime_hours") is None and daily_rate(ended, "ai_cost_usd") is None
    assert daily_rate([], "runtime_hours") is None


def test_a_prepaid_snapshot_with_null_balances_is_explained_not_a_traceback(exports):
    store = exports(billing_accounts=[prepaid(hours=None, ai=None)],
                    workspace_sessions=[session("ws1", "2026-03-19 00:00", "2026-03-19 02:00")])
    item = customer_summary(store, "cus_a", Period.parse("2026-03"), MARCH_NOW)
    hours, money = item.balances
    assert hours.estimated_now == -2.0 and hours.notes and money.estimated_now == 0 and money.state == "empty"
    assert item.billing.creation_allowed is False  # the readiness gate reads a null balance as empty, too


def test_a_balance_is_estimated_only_for_a_known_billing_state(exports):
    store = exports(billing_accounts=[prepaid(as_of="2026-03-01 00:00"),
                                      {**prepaid(as_of="2026-03-18 00:00"), "billing_mode": "barter"}])
    item = customer_summary(store, "cus_a", Period.parse("2026-03"), MARCH_NOW)
    # the latest snapshot is refused by the checks: the billing state is unknown, and nothing is estimated from
    # the older one
    assert item.billing.creation_allowed is None and item.balances is None


def test_now_within_the_trailing_days_of_the_snapshot_uses_whole_days_only():
    assert outlook.TRAILING_DAYS == 7
    b = balance(AI_USD, Decimal("1"), NOW - timedelta(hours=1), Decimal("0"), Decimal("0.07"), NOW)
    assert b.burn_per_day == Decimal("0.010000") and b.runway_days == 100.0


def test_every_sample_prepaid_balance_against_an_oracle(raw, capsys):
    """The packs' balances of the bundled sample, against usage summed in Python apart from the SQL."""
    from test_cli import NOW as SAMPLE_NOW, oracle_runtime
    from usage_analytics.__main__ import main

    latest = {}
    for row in sorted(raw["billing_accounts"], key=lambda r: r["as_of"]):
        if row["as_of"] <= SAMPLE_NOW:
            latest[row["customer_id"]] = row
    prepaid_ones = {cid: row for cid, row in latest.items() if row["billing_mode"] == "prepaid"}
    assert len(prepaid_ones) >= 5
    week = (SAMPLE_NOW.replace(hour=0) - timedelta(days=7), SAMPLE_NOW.replace(hour=0))
    for cid, row in prepaid_ones.items():
        assert main(["handoff", "--customer", cid, "--period", "2026-11"]) == 0
        balances = json.loads(capsys.readouterr().out)["billing"]["balances"]
        linked = {l["provider"] for l in raw["provider_links"] if l["customer_id"] == cid}
        ai = [u for u in raw["ai_usage"] if u["customer_id"] == cid and u["provider"] in linked]
        ai_since = sum((u["cost_usd"] for u in ai if row["as_of"] <= u["bucket_start"] < SAMPLE_NOW), Decimal(0))
        ai_week = sum((u["cost_usd"] for u in ai if week[0] <= u["bucket_start"] < week[1]), Decimal(0))
        hours_since = oracle_runtime(raw, cid, row["as_of"], SAMPLE_NOW + timedelta(days=1))
        hours_week = oracle_runtime(raw, cid, *week)
        hours, money = balances["workspace_hours"], balances["ai_usd"]
        assert hours["used_since"] == round(hours_since, 2), cid
        assert hours["burn_per_day"] == round(hours_week / 7, 2), cid
        assert hours["estimated_now"] == round((row["prepaid_workspace_hours"] or 0) - hours_since, 2), cid
        assert Decimal(money["used_since"]) == ai_since.quantize(Decimal("0.000001"), ROUND_HALF_UP), cid
        assert Decimal(money["estimated_now"]) == ((row["prepaid_ai_usd"] or 0) - ai_since).quantize(
            Decimal("0.000001")), cid
        assert Decimal(money["burn_per_day"]) == (ai_week / 7).quantize(Decimal("0.000001"), ROUND_HALF_UP), cid


def test_the_last_7_whole_days_of_runtime_read_as_the_runtime_rule_counts_them(exports):
    """Now is Mar 20 12:00, so the 7 whole days are Mar 13 00:00 to Mar 20 00:00 (168 h)."""
    store = exports(
        customers=[customer()],
        workspace_sessions=[
            session("ws1", "2026-03-11 00:00", None),  # running since before the window: all 168 h
            session("ws2", "2026-03-12 20:00", "2026-03-13 02:00"),  # 2 h of it in the window
            session("ws2", "2026-03-13 01:00", "2026-03-13 03:00"),  # overlaps the one above: 1 h more (to 03:00)
            session("ws3", "2026-03-19 22:00", "2026-03-21 00:00"),  # ends after now (in the exports): 2 h, to 00:00
            session("ws4", "2026-03-20 01:00", "2026-03-20 02:00"),  # today: not a whole day yet
            session("ws5", "2026-03-19 23:00", "2026-03-20 00:00"),  # ends at the window's end: 1 h
            session("ws6", "2026-03-06 00:00", "2026-03-13 00:00"),  # ends at the window's start: nothing
        ])
    row = store.run("outlook", customer_id="cus_a", now=at("2026-03-20 12:00")).iloc[0]
    assert round(row.runtime_hours_7d, 9) == 168 + 3 + 2 + 1
    every = store.run("outlook", customer_id=None, now=at("2026-03-20 12:00")).iloc[0]
    assert every.runtime_hours_7d == row.runtime_hours_7d  # the same from either scope, to the bit
