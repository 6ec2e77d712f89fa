"""One customer's summary and the all-customers summaries are the same numbers (operators vs pages)."""
from datetime import datetime, timezone

import pytest

from usage_analytics import handoff
from usage_analytics.periods import Period
import pandas as pd

from usage_analytics.summary import UnknownCustomer, combined, customer_summary, summaries

NOW = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)


@pytest.mark.parametrize("period", [Period.month(2026, 10), Period.parse("2026-11-10..2026-11-24")])
def test_all_customers_at_once_equals_each_customer_alone(sample_store, period):
    everyone = summaries(sample_store, period, NOW)
    assert len(everyone) == 40
    for customer_id, summary in everyone.items():
        alone = customer_summary(sample_store, customer_id, period, NOW)
        assert handoff.pack(summary) == handoff.pack(alone), customer_id
        assert summary.runtime.equals(alone.runtime) and summary.ai_daily.equals(alone.ai_daily)
        assert summary.runtime_hours == pytest.approx(float(alone.runtime["runtime_hours"].sum()), abs=1e-9)
        assert summary.active_workspaces == alone.runtime["workspace_id"].nunique()
        assert summary.is_running == bool(alone.runtime["is_running"].any())
        assert summary.running_workspaces == alone.running_workspaces == \
            alone.runtime.loc[alone.runtime["is_running"], "workspace_id"].nunique()


@pytest.mark.parametrize("part", ["runtime", "ai_daily"])
def test_the_combined_frame_is_every_customer_frame_one_after_the_other(sample_store, part):
    # Operators' charts read one frame for all customers; it must be the customers' own rows, in order.
    everyone = summaries(sample_store, Period.month(2026, 10), NOW)
    some = {cid: s for cid, s in list(everyone.items())[::3]}  # also a subset of the customers
    for found in (everyone, some):
        expected = pd.concat([getattr(s, part).assign(customer=s.account.customer_name)
                              for s in found.values() if not getattr(s, part).empty], ignore_index=True)
        assert combined(found, part).equals(expected)
    assert combined({}, part).empty


def test_every_customers_accounts_are_read_once_per_store_and_serve_one_customer_too(sample_store, monkeypatch):
    # A store's customers never change: its figures and the picker read them once; one customer's come from them.
    from usage_analytics import summary
    from usage_analytics.store import Store

    asked = []
    run = Store.run
    monkeypatch.setattr(Store, "run", lambda self, name, **params: asked.append((name, params.get("customer_id")))
                        or run(self, name, **params))
    monkeypatch.setattr(summary, "_EVERY_ACCOUNT", summary.weakref.WeakKeyDictionary())
    alone = summary.accounts(sample_store, "cus_acme_robotics")  # nothing kept yet: a query of its own
    every = summary.accounts(sample_store)
    every["cus_new"] = None  # a caller's own dict: the kept one does not change
    assert summary.accounts(sample_store, "cus_acme_robotics") == alone and alone["cus_acme_robotics"].customer_name
    assert summaries(sample_store, Period.month(2026, 10), NOW).keys() == summary.accounts(sample_store).keys()
    assert "cus_new" not in summary.accounts(sample_store) and summary.accounts(sample_store, "cus_nobody") == {}
    assert [a for a in asked if a[0] == "customer_accounts"] == [("customer_accounts", "cus_acme_robotics"),
                                                                 ("customer_accounts", None)]


def test_one_unknown_customer_is_an_error_and_no_rows(sample_store):
    assert summaries(sample_store, Period.month(2026, 10), NOW, "cus_nobody") == {}
    with pytest.raises(UnknownCustomer, match="cus_nobody"):
        customer_summary(sample_store, "cus_nobody", Period.month(2026, 10), NOW)


def test_a_frame_handed_to_a_page_can_be_written_without_changing_the_shared_figures(sample_store):
    # The app shares summaries across sessions (caches' process cache): a page's writes must stay its own.
    everyone = summaries(sample_store, Period.month(2026, 10), NOW)
    item = next(s for s in everyone.values() if not s.runtime.empty and not s.ai_daily.empty)
    runtime, ai_daily = item.runtime, item.ai_daily
    runtime["runtime_hours"] = -1.0
    ai_daily.loc[:, "requests"] = -1
    assert (item.runtime["runtime_hours"] > 0).all() and (item.ai_daily["requests"] >= 0).all()
    assert combined(everyone, "runtime")["runtime_hours"].min() > 0


@pytest.mark.parametrize("statuses, overall", [
    (["final", "final"], "final"),
    (["final", "provisional"], "provisional"),
    (["provisional"], "provisional"),
    ([], "provisional"),  # no customer: nothing final to quote
])
def test_several_customers_total_is_final_only_when_every_one_is(statuses, overall):
    from types import SimpleNamespace

    from usage_analytics.summary import overall_status

    assert overall_status([SimpleNamespace(ai_status=s) for s in statuses]) == overall
