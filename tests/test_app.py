"""Streamlit AppTest through app.py itself: every page for every allowed role, every denied role, login, the
denials and access-log entries the router makes, and inert pages."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from streamlit.testing.v1 import AppTest

from app_runs import APP, app, rerun, submit
from conftest import ROOT
from usage_analytics import access_log, config, credentials, sessions
from usage_analytics.session_keys import REQUESTED_PAGE, SCOPE_CUSTOMER, SESSION_TOKEN

OPERATOR, ADMIN = "ops", "acme_admin"  # users of the bundled auth.yaml
CUSTOMER_PAGES = ["overview", "runtime", "managed-ai", "reconciliation", "billing"]
TITLES = {"overview": "Overview", "runtime": "Workspace runtime", "managed-ai": "Managed AI",
          "reconciliation": "Reconciliation", "billing": "Billing", "handoff": "Billing handoff", "close": "Month close",
          "operators": "Operators", "data-health": "Data health", "access-log": "Access log"}
# What each page must show, beyond its title and the scope line (metric labels and subheaders).
KEY_ELEMENTS = {
    "overview": ["Workspace runtime", "Review checklist"],
    "runtime": ["Active workspaces", "Top workspaces table"],
    "managed-ai": ["Reconciled share", "By provider"],
    "reconciliation": ["Status per provider and day"],
    "billing": ["Next action: none", "Next action: setup"],  # one of them, all-customers shows both
    "handoff": ["Workspace creation", "The pack as it downloads"],
    "close": ["Ended months"],
    "operators": ["Customers", "Trends across customers"],
    "data-health": ["Per dataset", "Metered usage with no provider link"],
    "access-log": ["Failed logins", "Downloads"],
}
AUTH = credentials.parse((ROOT / "auth.yaml").read_text(), "auth.yaml")


def page(username, page_id, customer=None, period=None, **state):
    """A new browser session of a user of auth.yaml, logged in (their session token, checked by the real login
    code), opening a bookmark of page_id: app.py's frame logs them in, checks access and opens the page."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[SESSION_TOKEN] = sessions.issue(AUTH, username, 1).token
    at.session_state[REQUESTED_PAGE] = page_id
    at.session_state[SCOPE_CUSTOMER] = customer
    if period:
        at.session_state["period_choice"] = period
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def logged(event, **fields):
    """The access log's entries of the last minute for this event whose fields match."""
    now = datetime.now(timezone.utc)
    frame, _ = access_log.for_settings(config.load()).entries(now - timedelta(minutes=1), now + timedelta(minutes=1),
                                                             events=[event])
    for name, value in fields.items():
        frame = frame[frame[name] == value]
    return frame


def texts(at) -> str:
    """Everything the app sent to the browser for this run, as text (tables and chart data included)."""
    parts = []

    def walk(node):
        if getattr(node, "proto", None) is not None:
            parts.append(str(node.proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def labels(at) -> set[str]:
    found = {m.label for m in at.metric} | {h.value for h in at.subheader}
    return found | {m.value for m in at.markdown} | {m.label for m in at.get("download_button")}


def assert_page_ok(at, page_id):
    assert not at.exception, at.exception
    # the one error box a page may show: a customer whose billing blocks workspace creation
    assert all(page_id == "billing" and e.value.startswith("**Workspace creation is blocked**") for e in at.error), \
        [e.value for e in at.error]
    assert at.title[0].value == TITLES[page_id]
    scope_line = " ".join(m.value for m in at.markdown)
    when = {"billing": "As of now", "access-log": "Real clock"}.get(page_id, "Period")  # (those have no period)
    assert "Customer scope" in scope_line and when in scope_line and "UTC" in scope_line
    # an empty cell shows a dash, never Streamlit's grey "None", which reads as a value
    assert all(table.proto.placeholder == "—" for table in at.dataframe), page_id
    found = labels(at) | {e.value for e in at.error} | {s.value for s in at.success}
    text = " ".join(found)
    assert any(key in text for key in KEY_ELEMENTS[page_id]), (page_id, sorted(found))


@pytest.mark.parametrize("page_id", list(TITLES))
@pytest.mark.parametrize("customer", [None, "cus_acme_robotics"], ids=["all-customers", "one-customer"])
def test_every_page_for_an_operator(page_id, customer):
    at = page(OPERATOR, page_id, customer)
    if page_id == "handoff" and customer is None:
        assert "pick the customer" in at.info[0].value
        return
    assert_page_ok(at, page_id)


@pytest.mark.parametrize("page_id", CUSTOMER_PAGES)
def test_every_customer_page_for_an_admin_shows_only_their_customer(page_id, sample_store):
    at = page(ADMIN, page_id, customer="cus_northwind_traders")  # a planted choice is ignored for an admin
    assert_page_ok(at, page_id)
    everything = texts(at)
    assert "Acme Robotics" in everything
    names = sample_store.run("customer_accounts", customer_id=None)
    for row in names.itertuples():
        if row.customer_id != "cus_acme_robotics":
            assert row.customer_id not in everything and row.customer_name not in everything, row.customer_id
    assert "proj_" not in everything  # provider project IDs are operator-only
    assert not at.selectbox or "Customer" not in [s.label for s in at.selectbox]  # no way to change scope


def test_operators_see_provider_project_ids_for_support():
    assert "proj_" in texts(page(OPERATOR, "reconciliation", "cus_acme_robotics"))


@pytest.mark.parametrize("page_id", ["handoff", "close", "operators", "data-health", "access-log"])
def test_an_admin_cannot_open_operator_pages_even_when_asked_directly(page_id):
    at = page(ADMIN, page_id)
    assert not at.exception
    assert [t.value for t in at.toast] == [f"You cannot open /{page_id}; here is your overview."]
    assert [t.value for t in at.title] == ["Overview"]  # their own landing page, never the one asked for
    assert len(logged("denied", username=ADMIN, page=page_id)) == 1


def test_every_page_view_is_one_access_log_entry_with_scope_and_period():
    before = len(logged("page_view", username=OPERATOR, page="billing", customer="cus_acme_robotics"))
    at = page(OPERATOR, "billing", "cus_acme_robotics", period="Previous month")
    assert_page_ok(at, "billing")
    seen = logged("page_view", username=OPERATOR, page="billing", customer="cus_acme_robotics")
    assert len(seen) == before + 1 and seen["period"].iloc[0] == "2026-10"
    at.run()  # a rerun of the same view (a click) adds nothing
    assert len(logged("page_view", username=OPERATOR, page="billing", customer="cus_acme_robotics")) == before + 1


@pytest.mark.parametrize("who, says", [
    ("acme_member", "customer admins"),  # a customer_member of cus_acme_robotics
    ("visitor", "no role"),
    ("ghost_admin", "not in the usage data"),  # a customer_admin bound to cus_gone_away
])
def test_denied_users_get_a_message_and_nothing_else(who, says):
    before = len(logged("denied", username=who))
    for page_id in TITLES:
        at = page(who, page_id)
        assert not at.exception
        assert len(at.main.warning) == 1 and says in at.main.warning[0].value
        assert not at.metric and not at.dataframe and [t.value for t in at.title] == ["Usage & Billing Analytics"]
    assert len(logged("denied", username=who)) == before + len(TITLES)  # one per session (a new one each time)


def test_the_period_picker_changes_the_period_on_the_page():
    at = page(OPERATOR, "overview", "cus_acme_robotics", period="Previous month")
    assert any("October 2026" in m.value and "ended" in m.value for m in at.markdown)
    at.sidebar.selectbox(key="period_choice").select("Last 7 days")
    rerun(at, stay=True)  # (the overview again)
    assert any("**Last 7 days** · 2026-11-18 → 2026-11-24 UTC" in m.value for m in at.markdown)
    assert dict(at.query_params) == {"period": "last-7-days", "customer": "cus_acme_robotics"}  # a link to it


def login(username, password):
    return submit(app(), username, password)


def test_anonymous_gets_the_login_form_only():
    at = app()
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert not at.metric and not at.title and not at.dataframe
    assert "demo key" in at.sidebar.warning[0].value


def test_a_wrong_password_is_refused():
    at = login("ops", "not-the-password")
    assert [e.value for e in at.error] == ["Username or password is incorrect."]
    assert not at.metric


@pytest.mark.parametrize("username, password", [("ops", "ops-demo-pass"), ("acme_admin", "acme-demo-pass")])
def test_login_through_the_app_opens_the_overview(username, password):
    # The navigation itself is not in AppTest's element tree; the browser tests read its links.
    at = login(username, password)
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert any(f"({username})" in c.value for c in at.sidebar.caption)


@pytest.mark.parametrize("username, password, says", [
    ("acme_member", "member-demo-pass", "customer admins"),
    ("visitor", "visitor-demo-pass", "no role"),
    ("ghost_admin", "ghost-demo-pass", "not in the usage data"),
])
def test_login_of_a_denied_user_shows_the_message(username, password, says):
    at = login(username, password)
    assert not at.exception
    assert says in at.warning[0].value
    assert not at.metric and not at.dataframe


@pytest.mark.parametrize("path", sorted((ROOT / "pages").glob("*.py")), ids=lambda p: p.name)
def test_a_page_file_run_on_its_own_renders_nothing(path):
    at = AppTest.from_file(str(path), default_timeout=30).run()
    assert not at.exception
    assert len(at.main) == 0 and len(at.sidebar) == 0


def test_a_broken_dataset_is_named_on_the_page_and_nothing_crashes(tmp_path, monkeypatch):
    import shutil

    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.rmtree(tmp_path / "data" / "ai_usage")
    monkeypatch.setenv("USAGE_DATA_DIR", str(tmp_path / "data"))
    at = page(OPERATOR, "managed-ai", "cus_acme_robotics")
    assert not at.exception
    assert any("dataset ai_usage: folder" in e.value and "is missing" in e.value for e in at.error)
    assert at.title[0].value == "Managed AI"  # the frame, scope and period still show
    for other in ("runtime", "billing", "operators"):  # pages that do not need it keep working
        at = page(OPERATOR, other, "cus_acme_robotics")
        assert not at.exception and at.title[0].value == TITLES[other]
        assert other == "operators" or not [e for e in at.error if "ai_usage" in e.value], other
    at = page(ADMIN, "managed-ai")  # a customer is told which figures are missing, not the server's paths
    assert [e.value for e in at.error] == [
        "The managed-AI usage and reconciliation figures are unavailable right now: the platform's usage export "
        "for them cannot be read. The platform's operators can see why."]
    assert str(tmp_path) not in texts(at)
    at = page(OPERATOR, "handoff", "cus_acme_robotics")  # a pack needs every dataset: no download at all
    assert any("ai_usage" in e.value for e in at.error) and not at.get("download_button")


def test_without_the_customers_dataset_an_operator_is_told_why_and_an_admin_is_denied(tmp_path, monkeypatch):
    import shutil

    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.rmtree(tmp_path / "data" / "customers")
    monkeypatch.setenv("USAGE_DATA_DIR", str(tmp_path / "data"))
    at = login("ops", "ops-demo-pass")
    assert not at.exception and "dataset customers: folder" in at.error[0].value
    at = login("acme_admin", "acme-demo-pass")
    assert not at.exception and "cannot be read" in at.warning[0].value and not at.metric


def test_a_bug_in_a_page_is_one_sentence_for_the_user_never_a_traceback(monkeypatch):
    import pages.runtime

    def broken(user, view):
        raise RuntimeError("internal detail that must not be shown")

    monkeypatch.setattr(pages.runtime, "render", broken)
    at = page(OPERATOR, "runtime", "cus_acme_robotics")
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Something went wrong while drawing this page. The error was logged for the operators."]
    assert "internal detail" not in texts(at)


def test_the_all_customers_calendar_draws_the_worst_pairs_of_the_table_only(sample_store):
    """5,000 customers make 13,500 customer–provider rows: the calendar draws the first 40 pairs of the badge
    table as filtered (worst first) that have usage in the period, in that order, and says so; the table keeps
    every pair."""
    import json

    import pyarrow as pa

    from usage_analytics import config
    from usage_analytics.periods import Period

    at = page(OPERATOR, "reconciliation", recon_badges=["mismatch", "stale", "lagging", "current"])
    assert not at.exception, at.exception
    now = config.load().now()  # the page's period: this calendar month as of the app's now (the sample's own end)
    month = Period.month(now.year, now.month)
    usage = sample_store.run("ai_usage_by_day", customer_id=None, period_start=month.start, period_end=month.end,
                             now=now)
    used = set(zip(usage["customer_id"], usage["provider"]))
    table = at.dataframe[0].value
    pairs = [(f"{name} · {provider}", (cid, provider))
             for name, cid, provider in zip(table["customer"], table["customer_id"], table["provider"])]
    expected = [label for label, key in pairs if key in used][:40]
    assert len(expected) == 40 and len(pairs) > 40  # the sample's 40 customers have more pairs than are drawn
    chart = at.get("vega_lite_chart")[0].proto
    drawn = pa.ipc.open_stream(chart.datasets[0].data.data).read_all().to_pandas()
    assert set(drawn["row"]) == set(expected)
    assert json.loads(chart.spec)["encoding"]["y"]["sort"] == expected  # the table's order, not alphabetical
    assert any(c.value.startswith("The first 40 of the ") for c in at.caption)


def test_with_no_badge_chosen_the_all_customers_table_and_calendar_are_empty_and_say_so():
    at = page(OPERATOR, "reconciliation", recon_badges=[])
    assert not at.exception, at.exception
    assert at.dataframe[0].value.empty and list(at.dataframe[0].value.columns)[:3] == ["customer", "customer_id",
                                                                                      "provider"]
    assert not at.get("vega_lite_chart")
    assert [i.value for i in at.info] == ["None of the customer–provider pairs in the table has usage in this period."]



def test_the_access_log_names_pages_as_the_sidebar_does_and_data_health_counts_in_words():
    page(OPERATOR, "managed-ai", "cus_acme_robotics")  # an entry for a page view (the router logs it)
    at = page(OPERATOR, "access-log")
    assert not at.exception
    shown = set(at.dataframe[0].value["page"])
    assert "Managed AI" in shown and "managed-ai" not in shown
    for typed in ("managed ai", "MANAGED-AI"):  # what is shown, and what the entry holds, both found
        found = page(OPERATOR, "access-log", audit_text=typed)
        assert set(found.dataframe[0].value["page"]) == {"Managed AI"}, typed
    cards = lambda at: {m.label: int(m.value.replace(",", "")) for m in at.metric}  # noqa: E731
    every = cards(page(OPERATOR, "access-log"))
    only = page(OPERATOR, "access-log", audit_text="managed ai")  # the cards count what the table lists
    assert cards(only)["Entries"] == len(only.dataframe[0].value) < every["Entries"]
    assert cards(page(OPERATOR, "access-log", audit_events=["login_failed"]))["Downloads"] == 0
    at = page(OPERATOR, "data-health")
    lines = [m.value for m in at.markdown if "all used" in m.value]
    assert lines and all(" 1 files" not in line for line in lines)
    assert any(re.fullmatch(r"[\d,]+ rows in \d+ files?, all used\.", line) for line in lines)
