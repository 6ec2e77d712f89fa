"""The attention queue (issue 16): who needs action now or soon, most urgent first; its JSON, CSV and text; the
`attention` command. Customers written by hand, each with one matter (now: 2026-03-20 12:00 UTC)."""
import csv
import io
import json
from decimal import Decimal

import pytest

from conftest import at, customer, link, recon, usage
from usage_analytics import attention
from usage_analytics.__main__ import main
from usage_analytics.periods import Period
from usage_analytics.summary import summaries

NOW = at("2026-03-20 12:00")


def snapshot(customer_id, mode, as_of="2026-03-01 00:00", **fields):
    return {"customer_id": customer_id, "as_of": at(as_of), "billing_mode": mode, "payment_verified": False, **fields}


ROWS = dict(
    customers=[
        customer("cus_ok", "Fine Co"),
        customer("cus_block", "Blocked Co"),
        customer("cus_low", "Low Co"),
        customer("cus_trial", "Trial Co"),
        customer("cus_recon", "Recon Co"),
        {**customer("cus_onb", "Onboarding Co", "onboarding"), "created_at": at("2026-02-01 00:00")},
        {**customer("cus_new", "New Co", "onboarding"), "created_at": at("2026-03-15 00:00")},
    ],
    billing_accounts=[
        snapshot("cus_ok", "paid", payment_verified=True),
        snapshot("cus_block", "paid"),  # not verified: blocked, setup
        # $3 as of Mar 19; $7 used on Mar 16 (in the last 7 whole days, before the snapshot): $1 a day -> 3.0 days,
        # Mar 23; 100 h and no runtime: no runway for hours, not low
        snapshot("cus_low", "prepaid", "2026-03-19 00:00", prepaid_workspace_hours=100.0,
                 prepaid_ai_usd=Decimal("3")),
        # ends Mar 23 12:00: 3.0 days left
        snapshot("cus_trial", "trial", trial_status="approved", trial_ends_at=at("2026-03-23 12:00")),
        snapshot("cus_recon", "paid", payment_verified=True),
        snapshot("cus_onb", "paid", payment_verified=True),  # onboarding since Feb 1: 47 days, blocked too
        snapshot("cus_new", "paid", payment_verified=True),  # onboarding 5 days: blocked, not stalled
    ],
    provider_links=[link("openai", customer="cus_low"), link("openai", customer="cus_recon")],
    ai_usage=[usage("2026-03-16 10:00", cost="7", customer="cus_low"),
              usage("2026-03-10 10:00", cost="2", customer="cus_recon")],
    reconciliation=[recon("2026-03-10", "mismatch", customer="cus_recon"),
                    recon("2026-03-16", "matched", customer="cus_low")],
)


@pytest.fixture
def store(exports):
    return exports(**ROWS)


def test_the_queue_on_customers_worked_by_hand(store):
    found = summaries(store, attention.month_of(NOW), NOW)
    entries = attention.queue(found)
    assert [(e.customer_id, [r.kind for r in e.reasons]) for e in entries] == [
        ("cus_block", ["blocked"]),
        ("cus_new", ["blocked"]),
        ("cus_onb", ["blocked", "onboarding"]),
        ("cus_low", ["low_balance"]),
        ("cus_trial", ["trial_ending"]),
        ("cus_recon", ["reconciliation"]),
    ]
    assert json.loads(attention.to_json(entries))[3] == {
        "customer_id": "cus_low", "customer_name": "Low Co",
        "reasons": [{"kind": "low_balance", "detail": "managed-AI balance runs out in 3.0 days (2026-03-23)",
                     "next_action": "funding"}]}
    by_id = {e.customer_id: e for e in entries}
    assert by_id["cus_trial"].reasons[0].detail == "trial ends in 3.0 days (2026-03-23)"
    assert by_id["cus_trial"].reasons[0].next_action == "setup"
    assert by_id["cus_onb"].reasons[1].detail == "onboarding for 47 days (since 2026-02-01)"
    assert by_id["cus_recon"].reasons[0].detail == "openai: mismatch on 2026-03-10"
    assert by_id["cus_block"].reasons[0].detail == "payment method not verified yet"
    assert attention.counts(entries) == {"blocked": 3, "low_balance": 1, "trial_ending": 1, "data": 0,
                                         "reconciliation": 1, "restated": 0, "onboarding": 1}


def test_the_collector_is_held_off_while_the_figures_and_queue_are_made_and_runs_again_after(store, monkeypatch):
    import gc

    from usage_analytics import summary

    seen = []
    real_readiness, real_reasons = summary._readiness, attention.reasons
    monkeypatch.setattr(summary, "_readiness", lambda *args: seen.append(gc.isenabled()) or real_readiness(*args))
    monkeypatch.setattr(attention, "reasons", lambda *args: seen.append(gc.isenabled()) or real_reasons(*args))
    assert gc.isenabled()
    found = summaries(store, attention.month_of(NOW), NOW)
    assert gc.isenabled()
    attention.queue(found)
    assert len(seen) == 1 + len(found) and not any(seen) and gc.isenabled()
    gc.disable()  # (off already, by the host or another thread's queue: left off)
    try:
        attention.queue(found)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_customers_behind_with_the_same_providers_share_one_reason_and_each_reads_its_own_days(exports):
    rows = dict(ROWS, customers=[customer("cus_a", "A"), customer("cus_b", "B"), customer("cus_c", "C")],
                billing_accounts=[snapshot(c, "paid", payment_verified=True) for c in ("cus_a", "cus_b", "cus_c")],
                provider_links=[link("openai", customer=c) for c in ("cus_a", "cus_b", "cus_c")],
                ai_usage=[usage("2026-03-10 10:00", customer=c) for c in ("cus_a", "cus_b", "cus_c")],
                reconciliation=[recon("2026-03-10", "mismatch", customer="cus_a"),
                                recon("2026-03-10", "mismatch", customer="cus_b"),
                                recon("2026-03-11", "mismatch", customer="cus_c")])
    entries = {e.customer_id: e.reasons for e in attention.queue(summaries(exports(**rows), attention.month_of(NOW),
                                                                            NOW))}
    assert entries["cus_a"][0].detail == entries["cus_b"][0].detail == "openai: mismatch on 2026-03-10"
    # C's mismatch row is for a day without usage: its day with usage has no row, and it is told so, not A's words
    assert entries["cus_c"][0].detail == "openai: no reconciliation row for 2026-03-10"
    assert entries["cus_a"][0].yours == ("The platform is reconciling your managed-AI usage with a provider (openai); "
                                         "figures stay provisional until it is done.")


def test_the_json_is_what_json_dumps_writes_byte_for_byte():
    hostile = ['say "hi"\\', "line\nbreak\ttab", "é ✓ \u202e 中文 \U0001f600", "\x00\x1f", "</script>", ""]
    entries = [attention.Entry(f"cus_{i}", name, tuple(attention.Reason(kind, name + kind, "support", "")
                                                          for kind in attention.KINDS[:1 + i % 3]))
               for i, name in enumerate(hostile)] + [attention.Entry("cus_none", "No reasons", ())]
    for queue in (entries, entries[:1], []):
        assert attention.to_json(queue) == json.dumps(
            [{"customer_id": e.customer_id, "customer_name": e.customer_name,
              "reasons": [{"kind": r.kind, "detail": r.detail, "next_action": r.next_action} for r in e.reasons]}
             for e in queue], indent=2) + "\n"


def test_the_settings_move_the_thresholds(store):
    found = summaries(store, attention.month_of(NOW), NOW, low_days=2.0)
    entries = {e.customer_id: e for e in attention.queue(found, stall_days=60)}
    assert "cus_low" not in entries and "cus_trial" not in entries  # 3.0 days is not under 2
    assert [r.kind for r in entries["cus_onb"].reasons] == ["blocked"]  # 47 days is not over 60


def test_a_customer_admin_reads_the_reasons_in_their_own_words(store):
    found = summaries(store, attention.month_of(NOW), NOW, customer_id="cus_low")
    (reason,) = attention.reasons(found["cus_low"])
    assert reason.yours == ("Your managed-AI balance runs out in about 3.0 days, on 2026-03-23 at the last 7 days' "
                            "use: add funds before workspace creation stops.")


def test_csv_and_text(store):
    entries = attention.queue(summaries(store, attention.month_of(NOW), NOW))
    rows = list(csv.reader(io.StringIO(attention.to_csv(entries))))
    assert rows[0] == list(attention.CSV_COLUMNS)
    assert rows[1] == ["cus_block", "Blocked Co", "blocked", "payment method not verified yet", "setup"]
    assert len(rows) == 1 + 7  # one row per reason
    text = attention.to_text(entries)
    assert text.splitlines()[:2] == ["cus_block  Blocked Co", "  blocked: payment method not verified yet → setup"]
    assert attention.to_text([]) == "no customer needs attention\n"
    assert attention.to_json([]) == "[]\n"


def test_a_formula_in_a_name_is_neutralised_in_the_csv(exports):
    store = exports(customers=[customer("cus_x", "=HYPERLINK(\"http://x\")")],
                    billing_accounts=[snapshot("cus_x", "none")])
    entries = attention.queue(summaries(store, attention.month_of(NOW), NOW))
    assert list(csv.reader(io.StringIO(attention.to_csv(entries))))[1][1] == "'=HYPERLINK(\"http://x\")"


def test_a_refused_row_and_an_unknown_billing_state_are_data_reasons(exports):
    store = exports(customers=[customer("cus_x", "X")],
                    billing_accounts=[snapshot("cus_x", "paid", payment_verified=True),
                                      snapshot("cus_x", "barter", "2026-03-10 00:00")])
    (entry,) = attention.queue(summaries(store, attention.month_of(NOW), NOW))
    kinds = [(r.kind, r.next_action) for r in entry.reasons]
    assert kinds == [("data", "support"), ("data", "support")]
    assert "billing_mode" in entry.reasons[0].detail
    assert entry.reasons[1].detail == "rows refused by the checks (billing_accounts: 1)"


def test_the_attention_command(store, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("USAGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ANALYTICS_NOW", "2026-03-20T12:00:00Z")
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "state"))
    assert main(["attention"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [e["customer_id"] for e in found] == ["cus_block", "cus_new", "cus_onb", "cus_low", "cus_trial",
                                                 "cus_recon"]
    assert main(["attention", "--format", "text"]) == 0
    assert capsys.readouterr().out.startswith("cus_block  Blocked Co\n")
    monkeypatch.setenv("LOW_BALANCE_DAYS", "2")
    assert main(["attention", "--format", "csv"]) == 0
    assert "cus_low" not in capsys.readouterr().out
    monkeypatch.setenv("ONBOARDING_STALL_DAYS", "later")
    assert main(["attention"]) == 2
    assert capsys.readouterr().err == "error: ONBOARDING_STALL_DAYS: 'later' is not a positive number of days\n"


def test_nobody_needing_attention_is_an_empty_list(exports, tmp_path, monkeypatch, capsys):
    exports(customers=[customer("cus_ok", "Fine")], billing_accounts=[snapshot("cus_ok", "paid", payment_verified=True)])
    monkeypatch.setenv("USAGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ANALYTICS_NOW", "2026-03-20T12:00:00Z")
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "state"))
    assert main(["attention"]) == 0
    assert capsys.readouterr().out == "[]\n"


def test_a_closed_month_whose_figures_moved_is_restated(exports, tmp_path, monkeypatch, capsys):
    """Close February, then a late AI row for February arrives: the queue says restated, with the amount."""
    rows = dict(customers=[customer("cus_a", "A")], billing_accounts=[snapshot("cus_a", "paid", "2026-01-01 00:00",
                                                                                payment_verified=True)],
                provider_links=[link("openai")], ai_usage=[usage("2026-02-10 10:00", cost="5")],
                reconciliation=[recon("2026-02-10", "matched")])
    exports(**rows)
    monkeypatch.setenv("USAGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ANALYTICS_NOW", "2026-03-20T12:00:00Z")
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "state"))
    assert main(["close", "--period", "2026-02"]) == 0
    assert main(["attention"]) == 0
    capsys.readouterr()
    exports(**{**rows, "ai_usage": rows["ai_usage"] + [usage("2026-02-11 10:00", cost="1.25")],
               "reconciliation": rows["reconciliation"] + [recon("2026-02-11", "matched")]})
    assert main(["attention"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["reasons"] == [{"kind": "restated", "next_action": "review",
                                 "detail": "2026-02: figures changed since revision 1 (managed AI +1.250000 USD)"}]
    # the customer's admin reads the month as the pages name it
    (reason,) = attention._restated([("2026-02", 1, "managed AI +1.250000 USD")])
    assert reason.yours == "Your figures for February 2026 changed after that month was closed (managed AI +1.250000 USD)."
    assert Period.parse("2026-02").is_month
