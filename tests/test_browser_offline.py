"""Real browser, offline by default: logging in and opening every page sends no request beyond the app's own host
(no font host for icons, no CDN, no map tiles). Every request, websocket and worker the pages start is recorded."""
from __future__ import annotations

from urllib.parse import urlparse

import pytest

from browser import ROOT, login, serve, settle

ARTIFACTS = ROOT / "tests" / "artifacts"
PAGES = {"Overview": "overview", "Workspace runtime": "runtime", "Managed AI": "managed-ai",
         "Reconciliation": "reconciliation", "Billing": "billing", "Billing handoff": "handoff", "Month close": "close",
         "Operators": "operators", "Data health": "data-health", "Access log": "access-log"}
ADMIN_PAGES = ["Overview", "Workspace runtime", "Managed AI", "Reconciliation", "Billing"]
LOCAL = ("127.0.0.1", "localhost")


@pytest.fixture(scope="module")
def server():
    ARTIFACTS.mkdir(exist_ok=True)
    with serve(env={"STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"}, log=ARTIFACTS / "server-offline.log") as url:
        yield url


class Visit:
    """A fresh browser context that records the address of everything it asks for."""

    def __init__(self, browser, url: str):
        self.url = url
        self.context = browser.new_context(viewport={"width": 1440, "height": 1400})
        self.asked: list[str] = []
        self.context.on("request", lambda request: self.asked.append(request.url))  # every page and worker
        self.page = self.context.new_page()
        self.page.on("websocket", lambda socket: self.asked.append(socket.url))
        self.page.on("worker", lambda worker: self.asked.append(worker.url))

    def open(self, path: str = "") -> str:
        self.page.goto(f"{self.url}/{path}")
        self.page.wait_for_timeout(500)
        settle(self.page)
        self.page.evaluate("document.fonts.ready.then(() => true)")  # the icons' font, whichever host serves it
        self.page.wait_for_timeout(700)  # charts and late images
        return self.page.locator("body").inner_text()

    def outside(self) -> list[str]:
        return [u for u in self.asked
                if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname not in LOCAL]


@pytest.mark.parametrize("username, titles", [("ops", list(PAGES)), ("acme_admin", ADMIN_PAGES)])
def test_no_request_leaves_the_machine_on_any_page(chromium, server, username, titles):
    visit = Visit(chromium, server)
    try:
        visit.open()
        login(visit.page, username)
        visit.page.locator("h1", has_text="Overview").wait_for(timeout=30_000)
        settle(visit.page)
        for title in titles:
            body = visit.open(PAGES[title])
            assert visit.page.locator("h1").first.inner_text() == title, (title, body[:300])
            assert "Traceback" not in body, title
        assert visit.asked and all(urlparse(u).hostname in LOCAL for u in visit.asked if u.startswith("ws"))
        assert not visit.outside(), sorted(set(visit.outside()))
    except Exception:
        visit.page.screenshot(path=ARTIFACTS / f"offline_failed_{username}.png", full_page=True)
        raise
    finally:
        visit.context.close()


def test_the_access_log_lists_this_visit_by_the_real_clock(chromium, server):
    """The sample pins the figures' 'now' to 2026-11-24; the log's entries carry the real clock, and so does the
    page's default window: this visit's own login and page views are listed, whatever 'now' the figures use."""
    visit = Visit(chromium, server)
    try:
        visit.open()
        login(visit.page, "ops")
        visit.page.locator("h1", has_text="Overview").wait_for(timeout=30_000)
        settle(visit.page)
        body = visit.open("access-log")
        assert "by the real clock" in body and "No access-log entries match" not in body, body
        entries = visit.page.locator('[data-testid="stMetric"]').first.inner_text().splitlines()[-1]
        assert int(entries.replace(",", "")) >= 2, entries  # at least this visit's login and its page views
        assert not visit.outside(), sorted(set(visit.outside()))
    finally:
        visit.context.close()
