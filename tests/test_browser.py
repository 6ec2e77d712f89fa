"""Real browser: Playwright driving Debian's Chromium against `streamlit run app.py` on localhost.

Every byte the server sends over the websocket is recorded, so "never shown" covers tables and charts
(drawn on canvas, not in the DOM) as well as text. Screenshots go to tests/artifacts/."""
import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from browser import ROOT, choose, login, serve, settle
from usage_analytics.build import build
from usage_analytics.access_log import AccessLog
from usage_analytics.state_db import StateDB

ARTIFACTS = ROOT / "tests" / "artifacts"
NAV = {"Overview": "overview", "Workspace runtime": "runtime", "Managed AI": "managed-ai",
       "Reconciliation": "reconciliation", "Billing": "billing", "Billing handoff": "handoff", "Month close": "close",
       "Operators": "operators", "Data health": "data-health", "Access log": "access-log"}
COOKIE = "usage_analytics_auth"


@pytest.fixture(scope="module")
def server():
    ARTIFACTS.mkdir(exist_ok=True)
    with serve(log=ARTIFACTS / "server.log") as url:
        yield url


class Tab:
    """A fresh browser context (no cookies) with every websocket frame from the server recorded."""

    def __init__(self, browser, url):
        self.url = url
        self.context = browser.new_context(viewport={"width": 1400, "height": 1600}, accept_downloads=True)
        self.page = self.context.new_page()
        self.frames: list[bytes] = []
        self.page.on("websocket", lambda ws: ws.on(
            "framereceived", lambda data: self.frames.append(data if isinstance(data, bytes) else data.encode())))

    def open(self, path=""):
        self.page.goto(f"{self.url}/{path}")
        self.page.wait_for_timeout(500)
        settle(self.page)
        return self

    def login(self, username):
        self.page.get_by_label("Username").wait_for(timeout=30_000)
        login(self.page, username)
        self.page.wait_for_timeout(1500)
        settle(self.page)
        return self

    def nav(self) -> list[str]:
        links = self.page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
        return [text.splitlines()[-1] for text in links]  # the icon's ligature name comes first

    def go(self, title):
        self.page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
        self.page.wait_for_timeout(800)
        settle(self.page)
        self.page.wait_for_timeout(1200)  # charts finish drawing

    def body(self) -> str:
        return self.page.locator("body").inner_text()

    def received(self) -> bytes:
        return b"\n".join(self.frames)

    def shot(self, name):
        self.page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)

    def close(self):
        self.context.close()


@pytest.fixture
def tab(chromium, server):
    tabs = []

    def make():
        tabs.append(Tab(chromium, server))
        return tabs[-1]

    yield make
    for t in tabs:
        t.close()


@pytest.fixture(scope="module")
def customers():
    store = build(ROOT / "data")
    try:
        return {r.customer_id: r.customer_name for r in store.run("customer_accounts", customer_id=None).itertuples()}
    finally:
        store.close()


@pytest.mark.parametrize("username, pages", [
    ("ops", list(NAV)),
    ("finance", list(NAV)),
    ("acme_admin", list(NAV)[:5]),
    ("northwind_admin", list(NAV)[:5]),
])
def test_each_role_logs_in_through_the_real_form_and_walks_its_pages(tab, username, pages):
    t = tab().open().login(username)
    assert t.nav() == pages
    for title in pages:
        t.go(title)
        assert t.page.locator("h1").first.inner_text() == title
        assert "Customer scope" in t.body() and "UTC" in t.body()
        assert "Traceback" not in t.body() and "Error" not in t.page.locator("h1").first.inner_text()
        t.shot(f"{username}_{NAV[title]}")


@pytest.mark.parametrize("username, own", [("acme_admin", "cus_acme_robotics"),
                                           ("northwind_admin", "cus_northwind_traders")])
def test_an_admin_never_receives_another_customer_or_a_provider_project(tab, customers, username, own):
    t = tab().open().login(username)
    for title in list(NAV)[:5]:
        t.go(title)
    for period in ("Previous month", "Last 90 days"):  # other periods too
        choose(t.page, "Period", period)
        t.page.wait_for_timeout(800)
    received = t.received()
    assert customers[own].encode() in received
    for customer_id, name in customers.items():
        if customer_id != own:
            assert customer_id.encode() not in received and name.encode() not in received, customer_id
    assert b"proj_" not in received
    # a customer planted in the URL is ignored: the scope comes from auth.yaml only
    t.page.goto(f"{t.url}/billing?customer_id=cus_umbrella_analytics&scope_customer=cus_umbrella_analytics")
    settle(t.page)
    assert t.page.locator("h1").first.inner_text() == "Billing"
    assert b"cus_umbrella_analytics" not in t.received() and own in t.body()
    t.page.goto(f"{t.url}/operators")  # a deep link to an operator page falls back to the admin's own pages
    settle(t.page)
    assert "Operators" not in t.page.locator("h1").first.inner_text()


def test_a_member_is_denied_with_a_helpful_message(tab):
    t = tab().open().login("acme_member")
    t.page.get_by_text("customer admins").wait_for(timeout=15_000)
    assert "Ask a customer admin of your organisation" in t.body()
    assert t.nav() == []
    assert b"cus_acme_robotics" not in t.received() and b"Acme Robotics" not in t.received()
    t.shot("acme_member_denied")


def no_dialog(t) -> None:
    body = t.page.locator("body").inner_text()
    assert "Page not found" not in body and "does not seem to exist" not in body


# Every sidebar navigation the page ever holds, recorded as the DOM changes (a list shown for a moment counts).
SEEN_NAVIGATION = """
window.__navigationSeen = [];
new MutationObserver(() => {
    const nav = document.querySelector('[data-testid="stSidebarNav"]');
    if (nav && nav.querySelector('a')) window.__navigationSeen.push(nav.innerText);
}).observe(document, {childList: true, subtree: true});
"""


@pytest.mark.parametrize("first", ["operators", "managed-ai?period=2026-10", ""])
def test_a_bookmark_on_a_freshly_started_server_reaches_the_login_then_its_page(chromium, customers, first):
    with serve(log=ARTIFACTS / "fresh-server.log") as url:
        t = Tab(chromium, url)
        try:
            t.page.add_init_script(SEEN_NAVIGATION)
            t.page.goto(f"{url}/{first}")  # the very first request after the start
            t.page.get_by_label("Username").wait_for(timeout=30_000)
            settle(t.page)
            t.shot(f"fresh_server_bookmark_{first.split('?')[0] or 'root'}")
            no_dialog(t)
            assert t.nav() == []  # never a list of page files,
            assert t.page.evaluate("window.__navigationSeen") == []  # not even for a moment before the login form
            if not first:
                return
            received = t.received()
            assert not any(cid.encode() in received for cid in customers) and b"proj_" not in received
            t.login("ops")
            no_dialog(t)
            title = {"operators": "Operators", "managed-ai?period=2026-10": "Managed AI"}[first]
            assert t.page.locator("h1").first.inner_text() == title
            assert title in t.nav() and "Overview" in t.nav()  # the app's own navigation, shown after the login
            assert t.page.url.startswith(f"{url}/{first.split('?')[0]}")
            if "period" in first:
                assert "October 2026" in t.page.locator('[data-testid="stMain"]').inner_text()
        finally:
            t.close()


def test_bookmarks_and_shared_links_before_and_after_login(tab):
    t = tab().open("overview")  # before login: the form, no dialog
    no_dialog(t)
    t.login("ops")
    no_dialog(t)
    assert t.page.locator("h1").first.inner_text() == "Overview" and t.page.url.split("?")[0].endswith("/overview")
    t.open("reconciliation?period=2026-10&customer=cus_acme_robotics")  # a colleague's link, logged in
    no_dialog(t)
    main = t.page.locator('[data-testid="stMain"]').inner_text()
    assert "Acme Robotics" in main and "October 2026" in main
    assert "customer=cus_acme_robotics" in t.page.url and "period=2026-10" in t.page.url
    t.shot("ops_shared_link")
    admin = tab().open("managed-ai?period=2026-10&customer=cus_northwind_traders").login("acme_admin")
    no_dialog(admin)
    main = admin.page.locator('[data-testid="stMain"]').inner_text()
    assert "Acme Robotics" in main and "Northwind" not in main and "October 2026" in main
    assert "customer=" not in admin.page.url  # their scope comes from auth.yaml only
    admin.page.goto(f"{admin.url}/operators")  # a page the role lacks: one in-app line, the landing page, never
    # the dialog. The line is a toast, shown while the landing page draws and gone ten seconds later: wait for it
    # as it comes, since on a loaded machine the page can take longer than that to settle
    admin.page.get_by_text("You cannot open /operators").wait_for(timeout=30_000)
    settle(admin.page)
    no_dialog(admin)
    assert admin.page.locator("h1").first.inner_text() == "Overview"
    admin.shot("admin_denied_bookmark")


def test_the_root_opens_the_overview_marked_and_the_operators_filters_stay_as_left(tab):
    t = tab().open().login("ops")
    assert t.page.url.split("?")[0].endswith("/overview")  # "/" leads to the page's own address…
    marked = t.page.locator('[data-testid="stSidebarNavLink"][aria-current="page"]')
    assert marked.count() == 1 and "Overview" in marked.inner_text()  # …so the sidebar marks it
    t.go("Operators")
    search = t.page.get_by_label("Search customers")
    search.fill("acme")
    search.press("Enter")
    settle(t.page)
    t.go("Overview")
    t.go("Operators")
    assert t.page.get_by_label("Search customers").input_value() == "acme"


def test_logout_then_reload_shows_the_login_form(tab):
    t = tab().open().login("ops")
    assert t.nav()
    t.page.get_by_role("button", name="Log out").click()
    t.page.get_by_text("You are logged out.").wait_for(timeout=15_000)
    settle(t.page)
    assert t.page.get_by_label("Username").is_visible()
    t.page.reload()
    t.page.get_by_label("Username").wait_for(timeout=30_000)
    settle(t.page)
    assert t.nav() == [] and "Customer scope" not in t.body()
    assert not any(c["name"] == "usage_analytics_auth" and c["value"] for c in t.context.cookies())


def test_finance_downloads_a_handoff_whose_numbers_equal_the_screen_and_the_cli(tab):
    t = tab().open().login("finance")
    choose(t.page, "Customer", "Northwind Traders · cus_northwind_traders")
    choose(t.page, "Period", "Previous month")
    t.go("Billing handoff")
    t.shot("finance_handoff")
    with t.page.expect_download() as download:
        t.page.get_by_role("button", name="Download CSV").click()
    on_disk = download.value.path().read_text()
    assert download.value.suggested_filename == "handoff_cus_northwind_traders_2026-10.csv"
    cli = subprocess.run([sys.executable, "-m", "usage_analytics", "handoff", "--customer", "cus_northwind_traders",
                          "--period", "2026-10", "--format", "csv"], cwd=ROOT, capture_output=True, text=True)
    assert on_disk == cli.stdout
    total = [row for row in csv.DictReader(io.StringIO(on_disk)) if row["provider"] == "TOTAL"][0]
    cards = t.page.locator('[data-testid="stMetric"]').all_inner_texts()
    assert any(f"${float(total['cost_usd']):,.2f}" in card for card in cards)  # the pack's figure, to the cent
    assert any(f"{float(total['workspace_runtime_hours']):,.2f} h" in card for card in cards)
    with t.page.expect_download() as download:
        t.page.get_by_role("button", name="Download JSON").click()
    pack = json.loads(download.value.path().read_text())
    assert pack["managed_ai"]["cost_usd"] == total["cost_usd"] and pack["period"]["final"] is True
    # and the Managed AI page of the same scope and period shows the same total, to the cent
    t.go("Managed AI")
    cost = float(pack["managed_ai"]["cost_usd"])
    assert f"${cost:,.2f}" in " ".join(t.page.locator('[data-testid="stMetric"]').all_inner_texts())
    # both downloads are in the access log, with their scope and period
    now = datetime.now(timezone.utc)
    log, _ = AccessLog(StateDB(Path(os.environ["STATE_DIR"]))).entries(now - timedelta(minutes=10), now, ["finance"],
                                                                       ["export"])
    assert sorted(log[["detail", "customer", "period", "page"]].itertuples(index=False, name=None)) == [
        ("csv", "cus_northwind_traders", "2026-10", "handoff"), ("json", "cus_northwind_traders", "2026-10", "handoff")]


def _session_cookie(t) -> list[dict]:
    found = [c for c in t.context.cookies() if c["name"] == COOKIE and c["value"]]
    assert found, "the login set no cookie"
    return found


def test_a_cookie_copied_before_logout_gets_only_the_login_form(tab, customers):
    victim = tab().open().login("acme_admin")
    copied = _session_cookie(victim)
    assert copied[0]["sameSite"] == "Strict"
    thief = tab()  # the copy works while the session lives: that is what makes stealing it worth trying
    thief.context.add_cookies(copied)
    thief.open("billing")
    assert thief.page.locator("h1").first.inner_text() == "Billing"

    victim.page.get_by_role("button", name="Log out").click()
    victim.page.get_by_text("You are logged out.").wait_for(timeout=15_000)

    attacker = tab()  # a new browser with the copied cookie, after the logout
    attacker.context.add_cookies(copied)
    attacker.open("billing")
    attacker.page.get_by_label("Username").wait_for(timeout=30_000)
    settle(attacker.page)
    attacker.shot("copied_cookie_after_logout")
    assert "Your session has ended" in attacker.body() and attacker.nav() == []
    assert not attacker.page.locator("h1").count()
    received = attacker.received()
    assert not any(cid.encode() in received or name.encode() in received for cid, name in customers.items())

    thief.go("Overview")  # the tab that was already open with the copy: refused at its next click
    thief.page.get_by_label("Username").wait_for(timeout=30_000)
    assert "Customer scope" not in thief.body()


def test_repeated_wrong_passwords_wait_and_then_the_right_one_works(tab):
    t = tab().open()
    for i, says in enumerate(["incorrect.", "incorrect.", "Wait 2 seconds", "Wait 4 seconds"]):
        if i == 3:
            t.page.wait_for_timeout(2200)  # the 2 s wait has passed: this try is checked, and doubles the wait
        login(t.page, "northwind_admin", f"guess-{i}")
        t.page.get_by_text(f"Username or password is {says}" if i < 2 else says).wait_for(timeout=15_000)
    login(t.page, "northwind_admin")  # the right password, right away: refused unchecked
    t.page.get_by_text("Too many failed logins").wait_for(timeout=15_000)
    t.shot("login_throttled")
    t.page.wait_for_timeout(4200)
    login(t.page, "northwind_admin")  # after the wait
    t.page.locator("h1", has_text="Overview").wait_for(timeout=30_000)


def test_the_access_log_page_shows_what_happened(tab):
    t = tab().open().login("ops")
    t.go("Access log")
    t.shot("ops_access_log_page")
    received = t.received()  # the table is drawn on a canvas: read what the server sent
    assert b"logged in" in received and b"page viewed" in received and b"ops-demo-pass" not in received
    cards = " ".join(t.page.locator('[data-testid="stMetric"]').all_inner_texts())
    assert "Failed logins" in cards and "Downloads" in cards


def test_finance_closes_a_month_and_downloads_the_revision_as_a_zip(chromium, tmp_path):
    """A state folder of its own: the other tests' handoff downloads stay those of a month never closed."""
    import zipfile

    with serve(env={"STATE_DIR": str(tmp_path)}, log=ARTIFACTS / "server-close.log") as url:
        t = Tab(chromium, url).open().login("finance")
        try:
            choose(t.page, "Period", "Previous month")
            t.go("Month close")
            t.page.get_by_role("button", name="Close October 2026…").click()
            t.page.get_by_text("This records revision 1 of October 2026").wait_for(timeout=30_000)
            settle(t.page)
            t.shot("finance_close_preview")
            t.page.get_by_role("button", name="Confirm close").click()
            t.page.get_by_text("Recorded revision 1 of October 2026.").wait_for(timeout=60_000)
            settle(t.page)
            t.shot("finance_close_done")
            with t.page.expect_download() as download:
                t.page.get_by_role("button", name="ZIP").click()
            assert download.value.suggested_filename == "close_2026-10_revision-1.zip"
            with zipfile.ZipFile(download.value.path()) as archive:
                names = archive.namelist()
                manifest = json.loads(archive.read("2026-10-revision-0001/manifest.json"))
            assert len(names) == 82 and manifest["closed_by"] == "finance" and len(manifest["customers"]) == 40
        finally:
            t.close()
    folder = tmp_path / "close" / "2026-10" / "revision-0001"
    verify = subprocess.run([sys.executable, "-m", "usage_analytics", "verify", str(folder / "manifest.json")],
                            cwd=ROOT, capture_output=True, text=True, env={**os.environ, "STATE_DIR": str(tmp_path)})
    assert verify.returncode == 0, verify.stdout + verify.stderr
    now = datetime.now(timezone.utc)
    log, _ = AccessLog(StateDB(tmp_path)).entries(now - timedelta(minutes=10), now, ["finance"], ["close", "export"])
    assert sorted(log[["event", "period", "detail"]].itertuples(index=False, name=None)) == [
        ("close", "2026-10", "revision 1"), ("export", "2026-10", "zip of revision 1")]
