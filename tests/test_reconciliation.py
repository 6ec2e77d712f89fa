"""Reconciled-through, lag, badges and final/provisional (given/expect, then the pure rules)."""
from datetime import date

import pytest

from conftest import at, link, recon, usage
from usage_analytics import rules
from usage_analytics.periods import Period
from usage_analytics.quote import final_quote
from usage_analytics.summary import customer_summary

NOW = at("2026-03-20 12:00")  # today 2026-03-20, yesterday 2026-03-19


def days(first: int, last: int) -> list[str]:
    return [f"2026-03-{d:02d}" for d in range(first, last + 1)]


def providers_of(store, period, now=NOW):
    s = customer_summary(store, "cus_a", period, now)
    return {p.provider: (p.reconciled_through, p.lag_days, p.badge, p.status) for p in s.providers}


@pytest.fixture
def store(exports):
    usage_rows, recon_rows = [], []
    # openai: matched 10-15, pending 16, matched 17, no reconciliation row for 18 and 19 -> first open 16
    usage_rows += [usage(d + " 10:00", "openai") for d in days(10, 19)]
    recon_rows += [recon(d, "matched", "openai") for d in days(10, 15) + ["2026-03-17"]]
    recon_rows += [recon("2026-03-16", "pending", "openai")]
    # anthropic: matched 10-19 but a mismatch on 12 -> first open 12
    usage_rows += [usage(d + " 10:00", "anthropic") for d in days(10, 19)]
    recon_rows += [recon(d, "mismatch" if d.endswith("12") else "matched", "anthropic") for d in days(10, 19)]
    # google: matched 10-18, usage on 19 with no row yet -> reconciled through 18, lag 1
    usage_rows += [usage(d + " 10:00", "google") for d in days(10, 19)]
    recon_rows += [recon(d, "matched", "google") for d in days(10, 18)]
    # mistral: matched through yesterday; today's usage is never reconciled yet -> current
    usage_rows += [usage(d + " 10:00", "mistral") for d in days(10, 20)]
    recon_rows += [recon(d, "matched", "mistral") for d in days(10, 19)]
    # cohere: a reconciliation row with no metered usage still makes a usage day
    recon_rows += [recon("2026-03-05", "pending", "cohere")]
    links = [link(p) for p in ("openai", "anthropic", "google", "mistral", "cohere", "xai")]
    return exports(provider_links=links, ai_usage=usage_rows, reconciliation=recon_rows)


def test_reconciled_through_lag_and_badge_per_provider(store):
    assert providers_of(store, Period.parse("2026-03")) == {
        "openai": (date(2026, 3, 15), 4, "stale", "provisional"),
        "anthropic": (date(2026, 3, 11), 8, "mismatch", "provisional"),
        "google": (date(2026, 3, 18), 1, "lagging", "provisional"),
        "mistral": (date(2026, 3, 19), 0, "current", "provisional"),
        "cohere": (date(2026, 3, 4), 15, "stale", "provisional"),
        "xai": (date(2026, 3, 19), 0, "current", "provisional"),  # linked, no usage at all
    }


def test_a_mismatch_outside_the_period_does_not_set_the_mismatch_badge(store):
    first_days = Period.parse("2026-03-13..2026-03-15")  # ended; anthropic's mismatch on 12 is outside
    result = providers_of(store, first_days)
    assert result["anthropic"] == (date(2026, 3, 11), 8, "stale", "final")
    assert result["openai"] == (date(2026, 3, 15), 4, "stale", "final")  # all days 13-15 matched
    assert result["google"][3] == "final"


def test_a_period_with_an_open_day_is_provisional_even_after_it_ended(store):
    assert providers_of(store, Period.parse("2026-03-15..2026-03-16"))["openai"][3] == "provisional"


def test_overall_status_is_final_only_when_every_linked_provider_is(store):
    s = customer_summary(store, "cus_a", Period.parse("2026-03-13..2026-03-15"), NOW)
    assert s.ai_status == "final"
    assert customer_summary(store, "cus_a", Period.parse("2026-03-13..2026-03-19"), NOW).ai_status == "provisional"


def test_the_sentence_says_whether_a_final_number_can_be_quoted_and_why(store):
    closed = customer_summary(store, "cus_a", Period.parse("2026-03-13..2026-03-15"), NOW)
    assert final_quote(closed) == (True, "Yes: a final managed-AI number can be quoted. The period has ended and "
                                         "every day with usage is matched for every linked provider.")
    open_ = customer_summary(store, "cus_a", Period.parse("2026-03-10..2026-03-20"), NOW)
    can, sentence = final_quote(open_)
    assert not can
    # today (20th) and yesterday (19th) are not due yet: mistral's 20th, google's 19th; openai's 16th (pending)
    # and 18th (no row) are overdue, its 19th is not due
    assert sentence == ("Not yet: the managed-AI total is provisional because the period is open until "
                        "2026-03-21 00:00 UTC; mistral has 1 day not due yet; anthropic has 1 mismatched day; "
                        "google has 1 day not due yet; openai has 2 days not yet reconciled and 1 day not due "
                        "yet.")  # by cost


def test_the_sentence_names_unlinked_providers_and_the_case_with_none_linked(exports):
    store = exports(provider_links=[], ai_usage=[usage("2026-03-02 10:00", "google")])
    can, sentence = final_quote(customer_summary(store, "cus_a", Period.parse("2026-03"), NOW))
    assert not can and sentence == ("There is no customer-attributed managed-AI usage to quote: no provider is "
                                    "linked. Reconciliation is not configured for google, so its usage is not "
                                    "attributed.")


def test_a_period_that_has_not_ended_is_provisional():
    assert rules.total_status(period_ended=False, usage_days=3, matched_days=3) == "provisional"
    assert rules.total_status(period_ended=True, usage_days=3, matched_days=3) == "final"
    assert rules.total_status(period_ended=True, usage_days=0, matched_days=0) == "final"


@pytest.mark.parametrize("first_open, expected", [
    (None, date(2026, 3, 19)),
    (date(2026, 3, 20), date(2026, 3, 19)),  # only today is open
    (date(2026, 3, 19), date(2026, 3, 18)),
    (date(2026, 2, 1), date(2026, 1, 31)),
])
def test_reconciled_through(first_open, expected):
    assert rules.reconciled_through(first_open, date(2026, 3, 20)) == expected


@pytest.mark.parametrize("through, lag, badge", [
    (date(2026, 3, 19), 0, "current"),
    (date(2026, 3, 18), 1, "lagging"),
    (date(2026, 3, 16), 3, "lagging"),
    (date(2026, 3, 15), 4, "stale"),
    (date(2026, 2, 1), 46, "stale"),
])
def test_lag_levels(through, lag, badge):
    assert rules.lag_days(through, date(2026, 3, 20)) == lag
    assert rules.badge(lag, mismatch_in_period=False) == badge


def test_mismatch_wins_over_lag_and_not_configured_wins_over_all():
    assert rules.badge(0, mismatch_in_period=True) == "mismatch"
    assert rules.badge(9, mismatch_in_period=True) == "mismatch"



@pytest.mark.parametrize("badges, worst", [
    (["current", "lagging"], "lagging"),
    (["current", "stale", "mismatch"], "mismatch"),
    (["lagging", "stale"], "stale"),
    (["current"], "current"),
    ([], "not configured"),  # no linked provider
])
def test_a_customers_badge_is_its_worst_providers(badges, worst):
    assert rules.worst_badge(badges) == worst


@pytest.mark.parametrize("badge, attention", [
    ("mismatch", True), ("stale", True), ("lagging", False), ("current", False), ("not configured", False)])
def test_a_mismatch_or_a_stale_provider_needs_attention(badge, attention):
    assert rules.needs_attention(badge) is attention


@pytest.mark.parametrize("statuses, expected", [
    (["matched"], "matched"),
    (["matched", "matched"], "matched"),
    (["matched", "pending"], "pending"),
    (["pending", "mismatch", "matched"], "mismatch"),
    (["something-new"], "missing"),  # an unknown status is rejected when loaded: never taken as matched
    (["matched", "something-new"], "matched"),  # ... and the rejected row does not count at all
])
def test_a_day_with_several_reconciliation_rows(exports, statuses, expected):
    store = exports(provider_links=[link("openai")], ai_usage=[usage("2026-03-10 10:00")],
                    reconciliation=[recon("2026-03-10", s) for s in statuses])
    daily = customer_summary(store, "cus_a", Period.parse("2026-03-10..2026-03-10"), NOW).ai_daily
    assert list(daily["reconciliation_status"]) == [expected]
    assert providers_of(store, Period.parse("2026-03-10..2026-03-10"))["openai"][3] == (
        "final" if expected == "matched" else "provisional")
