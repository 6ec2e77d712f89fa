"""Looking ahead in the app (issue 16), through app.py as users open it: a prepaid customer's admin sees the
balances estimated now and why they need attention; the Overview projects the open month; the Operators page
leads with the attention queue, in the order the `attention` command prints. Expected figures are summed from
the sample's parquet in Python (test_cli's oracle), apart from the SQL."""
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from streamlit.testing.v1 import AppTest

from app_runs import APP
from conftest import ROOT
from test_app import OPERATOR, page
from test_cli import NOW, oracle_runtime, raw  # noqa: F401 (raw: the sample rows, a fixture)
from usage_analytics import credentials, sessions
from usage_analytics.__main__ import main
from usage_analytics.periods import Period
from usage_analytics.session_keys import REQUESTED_PAGE, SCOPE_CUSTOMER, SESSION_TOKEN

UTC = timezone.utc
HOOLI = "cus_hooli_cloud"  # prepaid: 3.50 h and $4.20 as of Nov 23 01:00, both overdrawn since


@pytest.fixture
def hooli_admin(tmp_path, monkeypatch):
    """An auth.yaml with the bundled users plus hooli_admin, a customer admin of Hooli Cloud (acme_admin's
    password hash)."""
    text = (ROOT / "auth.yaml").read_text()
    block = re.search(r"\n    acme_admin:\n(?:      .*\n)+", text).group(0)
    text = text.replace(block, block + block.replace("acme_admin", "hooli_admin").replace(
        "cus_acme_robotics", HOOLI))
    path = tmp_path / "auth.yaml"
    path.write_text(text)
    monkeypatch.setenv("AUTH_CONFIG", str(path))
    auth = credentials.parse(text, "auth.yaml")

    def open_page(page_id):
        at = AppTest.from_file(APP, default_timeout=90)
        at.session_state[SESSION_TOKEN] = sessions.issue(auth, "hooli_admin", 1).token
        at.session_state[REQUESTED_PAGE] = page_id
        at.session_state[SCOPE_CUSTOMER] = None
        return at.run()

    return open_page


def test_a_prepaid_admin_sees_balances_estimated_now_beside_the_verdict(hooli_admin, raw):
    at = hooli_admin("billing")
    assert not at.exception
    assert [w.value for w in at.warning if w.value.startswith("**Workspace creation is allowed**")] == [
        "**Workspace creation is allowed** by the platform's billing snapshot of 2026-11-23 01:00 UTC, but not for "
        "long: see below. Next action: **funding**."]  # the verdict is the snapshot's; the estimate says act
    used = oracle_runtime(raw, HOOLI, datetime(2026, 11, 23, 1, tzinfo=UTC), NOW + timedelta(days=1))
    assert round(used, 2) == 27.54  # the issue's "27.5 h since that snapshot"
    errors = [e.value for e in at.error]
    assert errors[0] == (f"**By the estimate, the workspace-hours balance is overdrawn by {used - 3.5:.2f} h:** add "
                         "funds before the platform's next billing snapshot blocks workspace creation.")
    assert errors[1].startswith("**By the estimate, the managed-AI balance is overdrawn by $2.70:**")
    metrics = {(m.label, m.value) for m in at.metric}
    assert ("Estimated now", f"-{used - 3.5:.2f} h") in metrics and ("Estimated now", "-$2.70") in metrics
    assert ("Runway", "none left") in metrics
    assert ("Next action", "funding") in metrics
    assert any(m.value.startswith("**What to do:** Add funds: by the estimate") for m in at.markdown)


def test_a_prepaid_admin_reads_their_reasons_and_the_projection_on_the_overview(hooli_admin, raw):
    at = hooli_admin("overview")
    assert not at.exception
    (needs,) = [w.value for w in at.warning if "Needs your attention" in w.value]
    assert "Your workspace\\-hours balance is overdrawn by 24\\.04 h" in needs
    assert "→" not in needs  # the admin's words, not the queue's next-action arrows
    start, today = datetime(2026, 11, 1, tzinfo=UTC), NOW.replace(hour=0)
    accrued = oracle_runtime(raw, HOOLI, start, datetime(2026, 12, 1, tzinfo=UTC))
    week = oracle_runtime(raw, HOOLI, today - timedelta(days=7), today)
    projected = accrued + week / 7 * 6.5  # 6.5 days from Nov 24 12:00 to Dec 1
    captions = [c.value for c in at.caption]
    assert (f":material/trending_up: Projected **{projected:,.2f} h** by 30 Nov at the last 7 whole days' daily "
            "rate (an estimate, in no total or export).") in captions
    labels = [m.label for m in at.metric]
    assert labels[3:] == ["AI cost per runtime hour · provisional", "AI cost per active user · provisional",
                          "Active users"]


def test_an_ended_month_has_no_projection(hooli_admin):
    at = page(OPERATOR, "overview", HOOLI, "Previous month")
    assert not at.exception
    assert not [c for c in at.caption if "Projected" in c.value]


def test_the_operators_page_leads_with_the_queue_in_the_commands_order(capsys):
    assert main(["attention"]) == 0
    expected = [e["customer_id"] for e in json.loads(capsys.readouterr().out)]
    at = page(OPERATOR, "operators")
    assert not at.exception
    assert at.subheader[0].value == "Needs attention now or soon"
    queue = at.dataframe[0].value  # one row per reason, each customer's rows together
    assert list(dict.fromkeys(queue["customer_id"])) == expected
    assert queue.iloc[0]["reason"] == "Blocked"
    table = at.dataframe[1].value  # every customer: the queue's customers in its order, then the others by name
    assert list(table["customer_id"][:len(expected)]) == expected
    rest = list(table["customer"][len(expected):])
    assert rest == sorted(rest, key=str.lower) and len(table) == len(set(table["customer_id"]))
    assert table["attention"][:len(expected)].notna().all() and table["attention"][len(expected):].isna().all()
    assert list(table.columns[:7]) == ["customer", "creation", "next_action", "reconciliation", "max_lag_days",
                                       "attention", "ai_cost_usd"]
    overview = page(OPERATOR, "overview")
    assert f"**{len(expected)} customers need attention now or soon:**" in " ".join(w.value for w in overview.warning)


def test_the_overviews_change_is_compared_with_figures_made_without_the_look_ahead():
    """The previous period's side of the change is only summed: its figures are made without the outlook query
    (for every customer the costliest of a month), so the look ahead runs once, as of now, not again as of the
    comparison's instant. The cards still compare like for like."""
    from usage_analytics import caches  # noqa: PLC0415
    for kept in (caches._summaries, caches._periodless):
        kept.clear()
    at = page(OPERATOR, "overview")
    assert not at.exception
    assert any(m.delta for m in at.metric[:3])  # the cards show a change against the previous period
    figures = [(key, value) for key, (_, value) in caches._summaries._entries.items()]
    ahead = {key[-1] for key, _ in figures}
    assert ahead == {True, False}  # this period with it, the other side without
    for key, found in figures:
        assert key[-1] or all(caches.summary.NOT_ASKED == s.gaps.get(caches.summary.Area.AHEAD)
                              for s in found.values())
    moments = {key[4] for key in caches._periodless._entries if key[2] == "outlook"}
    assert len(moments) == 1  # the outlook as of now only


def test_no_change_is_shown_against_a_month_the_exports_only_partly_cover():
    """The sample's exports start on 2026-05-31: June compared with May (16.76 h on its last day) would read
    +141,928%. No card shows a change, and the caption says which side is partly inside the exports and why;
    July against June (both whole) still shows one."""
    june = page(OPERATOR, "overview", period="Calendar month", period_month=Period.month(2026, 6))
    assert not june.exception
    assert not any(m.delta for m in june.metric[:3])
    said = " ".join(c.value for c in june.caption)
    assert ("No change is shown: a side is only partly inside the exports (May 2026: the exports start 2026-05-31"
            in said)
    july = page(OPERATOR, "overview", period="Calendar month", period_month=Period.month(2026, 7))
    assert not july.exception and all(m.delta for m in july.metric[:3])
    assert "partly inside the exports" not in " ".join(c.value for c in july.caption)
