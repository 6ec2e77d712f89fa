"""Real browser on hostile exports (tests/test_hostile.py's fixture): `streamlit run app.py` on exports whose every
text column carries Markdown, colour, LaTeX, links, images, HTML, spreadsheet formulas, a right-to-left override
and a 5,000-character name. For an operator (one hostile customer, then all customers) and for a customer admin
bound to the hostile customer, on every page they can open: nothing from the data becomes bold text, a link, an
image or LaTeX; the payloads read as typed; the override shows as U+FFFD and the long name is shortened; the
browser asks no host but the app's; and every table's Download CSV holds no cell a spreadsheet would run."""
from __future__ import annotations

import csv
import io
import re
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

import pytest

from browser import ROOT, choose, login, serve, settle
from test_hostile import (ADMIN, ADMIN_PASSWORD, BIDI, FOCAL_ID, FOCAL_NAME, FORMULAS, LONG_NAME, MARKUP,
                          _number, write_hostile)
from usage_analytics import formatting
from usage_analytics.access_log import AccessLog
from usage_analytics.state_db import StateDB

ARTIFACTS = ROOT / "tests" / "artifacts"
PAGES = ["Overview", "Workspace runtime", "Managed AI", "Reconciliation", "Billing", "Billing handoff", "Month close",
         "Operators", "Data health", "Access log"]
ADMIN_PAGES = PAGES[:5]
PLATFORM_PAGES = ("Month close", "Operators", "Data health", "Access log")  # every customer, whatever the scope
FOCAL_OPTION = f"{formatting.plain(FOCAL_NAME, 40)} · {formatting.plain(FOCAL_ID, 40)}"  # the sidebar's option
SAFE_FILE = re.compile(r"^[A-Za-z0-9._-]+\.csv$")
# What a Markdown renderer would make of the payloads: bold text, a link, an image, HTML bold, LaTeX.
MADE_FROM_DATA = """() => ({
    strong: [...document.querySelectorAll('strong, b, em')].map(e => e.textContent.trim()),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    images: [...document.querySelectorAll('img[src], image[href]')].map(i => i.src || i.getAttribute('href')),
    katex: document.querySelectorAll('.katex, math').length,
})"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return write_hostile(tmp_path_factory.mktemp("hostile-browser"))


@pytest.fixture(scope="module")
def state(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile-state")


@pytest.fixture(scope="module")
def server(hostile, state):
    ARTIFACTS.mkdir(exist_ok=True)
    # (no file watcher: a source file saved while the test runs would put up "File change", and settle() waits)
    with serve(env={**hostile.env(state), "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"},
               log=ARTIFACTS / "server-hostile.log") as url:
        yield url


class Visit:
    """One logged-in browser; every request it makes is recorded, every table download read."""

    def __init__(self, browser, url: str, username: str, password: str | None = None):
        self.url, self.host, self.username = url, urlparse(url).hostname, username
        self.context = browser.new_context(viewport={"width": 1440, "height": 1400}, accept_downloads=True)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.goto(url)
        login(self.page, username, password)
        self.page.wait_for_timeout(1500)
        settle(self.page)
        self.neutralised: set[str] = set()
        self.files: list[str] = []
        self.shown = ""  # every page's text, for what must appear somewhere

    def go(self, title: str) -> str:
        if title == "Access log":
            self.to_2030()
        self.page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
        self.page.wait_for_timeout(800)
        settle(self.page)
        assert self.page.locator("h1").first.inner_text() == title
        return self.check(title)

    def check(self, title: str) -> str:
        """Nothing on the page made from data; the override and the long name as the rules say."""
        body = self.page.locator("body").inner_text().replace("\u2060", "")  # (literal()'s joiners: no autolink)
        body += "\n".join(self.page.locator('[data-testid="stDataFrame"] table').all_inner_texts())  # (the grids'
        # cells are drawn on a canvas; their accessible copy holds the rows on screen)
        made = self.page.evaluate(MADE_FROM_DATA)
        assert not {"bold", "tag"} & set(made["strong"]), (title, made["strong"])
        assert not [link for link in made["links"] if urlparse(link).hostname != self.host], (title, made["links"])
        assert not [src for src in made["images"] if not src.startswith(("data:", self.url))], (title, made["images"])
        assert made["katex"] == 0, title
        charts = self.page.locator('[data-testid="stVegaLiteChart"]').all_inner_texts()
        assert BIDI not in _without(body, charts) and LONG_NAME[:81] not in body, title  # (charts: see the last test)
        # (the app's own links carry the picked customer id, percent-encoded, in their query string: only where
        # a link or an image leads counts)
        leads = [urlparse(url)._replace(query="", fragment="").geturl() for url in made["links"] + made["images"]]
        assert "Traceback" not in body and "evil.example" not in "".join(leads)
        self.shown += body
        return body

    def to_2030(self) -> None:
        """A custom period from the sample's month to 2030: the access log's entries carry the real clock, which
        is past the hostile exports' 'now'."""
        choose(self.page, "Period", "Custom range")
        end = "From – to (UTC, both included) end date"
        self.page.get_by_role("spinbutton", name=f"year, {end}").click()
        self.page.keyboard.type("2030")
        self.page.keyboard.press("Enter")
        self.page.keyboard.press("Escape")
        self.page.locator("h1").first.click()
        self.page.wait_for_timeout(500)
        settle(self.page)

    def expand(self) -> None:
        """Open the page's closed expanders, so that the tables in them are drawn (and downloadable)."""
        for details in self.page.locator('[data-testid="stExpander"] details').all():
            if details.get_attribute("open") is None:
                details.locator("summary").first.click()
                self.page.wait_for_timeout(300)
        settle(self.page)

    def downloads(self, title: str, whose: str | None) -> list[str]:
        """Click every table's Download CSV; each file is named safely, for the scope, and holds no formula."""
        self.expand()
        names = []
        buttons = self.page.locator('[class*="st-key-csv_"]')
        for index in range(buttons.count()):
            with self.page.expect_download() as download:
                buttons.nth(index).get_by_role("button").first.click()
            name, text = download.value.suggested_filename, download.value.path().read_text()
            assert SAFE_FILE.match(name), name
            if whose:
                assert whose in name, (title, name)
            self.read(name, text)
            names.append(name)
            settle(self.page)
        self.files += names
        self.check(title)  # the page again, its expanders open
        return names

    def read(self, name: str, text: str) -> None:
        rows = list(csv.reader(io.StringIO(text, newline=None)))  # a lone CR ends a row, as in a spreadsheet
        assert len(rows) >= 2, name
        width = len(rows[0])
        for row in rows[1:]:
            assert len(row) == width, (name, row)  # no row forged by a line break
            for value in row:
                assert value[:1] not in ("=", "+", "-", "@", "\t", "\r") or _number(value), (name, value)
        self.neutralised |= {f for row in rows for value in row for f in FORMULAS if value.startswith("'" + f)}

    def close(self) -> None:
        self.context.close()

    def asked_only_the_app(self) -> None:
        foreign = [u for u in self.requests if urlparse(u).scheme not in ("data", "blob")
                   and urlparse(u).hostname not in ("127.0.0.1", "localhost")]
        assert self.requests and not foreign, foreign


def _without(text: str, parts: list[str]) -> str:
    for part in parts:
        text = text.replace(part, "")
    return text



@contextmanager
def shots_on_failure(visit: Visit):
    """A visit that leaves its screenshot and its text under tests/artifacts when the test fails, and closes."""
    try:
        yield visit
    except Exception:
        visit.page.screenshot(path=ARTIFACTS / f"hostile_failed_{visit.username}.png", full_page=True)
        (ARTIFACTS / f"hostile_failed_{visit.username}.txt").write_text(visit.shown)
        raise
    finally:
        visit.close()

def test_an_operator_on_the_hostile_customer_sees_text_and_downloads_neutralised_tables(chromium, server, state):
    with shots_on_failure(Visit(chromium, server, "ops")) as visit:
        choose(visit.page, "Customer", FOCAL_OPTION)
        files = {}
        for title in PAGES:
            body = visit.go(title)
            if title not in PLATFORM_PAGES:  # the scope line: every payload as typed
                assert formatting.plain(FOCAL_NAME) in body, title
            files[title] = visit.downloads(title, None if title in ("Data health", "Access log") else "all-customers"
                                           if title in PLATFORM_PAGES else formatting.file_part(FOCAL_ID))
            if title == "Billing handoff":  # the pack's own CSV, from the page
                with visit.page.expect_download() as download:
                    visit.page.get_by_role("button", name="Download CSV").click()
                visit.read(download.value.suggested_filename, download.value.path().read_text())
                settle(visit.page)
        visit.page.screenshot(path=ARTIFACTS / "hostile_ops_access-log.png", full_page=True)
        assert all(files[t] for t in ("Workspace runtime", "Managed AI", "Reconciliation", "Month close",
                                      "Operators", "Data health", "Access log")), files
        assert len(files["Managed AI"]) == 2 and not files["Overview"], files
        assert visit.neutralised == set(FORMULAS)
        for payload in MARKUP:  # providers, models, workspaces, templates: all as typed, somewhere
            assert payload in visit.shown, payload
        assert "\ufffd" in visit.shown
        visit.asked_only_the_app()
        now = datetime.now(timezone.utc)
        log, _ = AccessLog(StateDB(state)).entries(now - timedelta(minutes=15), now, ["ops"], ["export"])
        took = set(zip(log["detail"], log["customer"]))
        assert {("csv: top-workspaces", FOCAL_ID), ("csv: managed-ai_by-model", FOCAL_ID), ("csv", FOCAL_ID),
                ("csv: operators", "all"), ("csv: access-log", "all")} <= took, took
        assert len(log) == sum(len(f) for f in files.values()) + 1  # every table download, and the pack


def test_an_operator_on_all_customers_sees_names_shortened_and_downloads_neutralised_tables(chromium, server):
    with shots_on_failure(Visit(chromium, server, "finance")) as visit:
        files = {}
        for title in PAGES:
            body = visit.go(title)
            files[title] = visit.downloads(title, "all-customers" if title in (
                "Operators", "Billing", "Reconciliation", "Managed AI", "Workspace runtime") else None)
            if title == "Operators":
                assert LONG_NAME[:79] + "…" in body  # the 5,000-character name, in 80 characters
                visit.page.screenshot(path=ARTIFACTS / "hostile_finance_operators.png", full_page=True)
        assert all(files[t] for t in ("Workspace runtime", "Managed AI", "Reconciliation", "Billing", "Operators",
                                      "Data health", "Access log")), files
        assert "billing_all-customers_2026-11.csv" in files["Billing"]
        assert "operators_all-customers_2026-11.csv" in files["Operators"]
        assert visit.neutralised == set(FORMULAS)
        for payload in MARKUP:
            assert payload in visit.shown, payload
        visit.asked_only_the_app()


def test_the_hostile_customers_admin_sees_text_and_downloads_neutralised_tables(chromium, server, hostile):
    with shots_on_failure(Visit(chromium, server, ADMIN, ADMIN_PASSWORD)) as visit:
        files = {}
        for title in ADMIN_PAGES:
            body = visit.go(title)
            assert formatting.plain(FOCAL_NAME) in body, title
            others = [cid.split(" ")[-1] for cid in hostile.customers if cid != FOCAL_ID]  # their sample ids
            assert len(others) == 12 and not [cid for cid in others if cid in body] and LONG_NAME[:30] not in body
            files[title] = visit.downloads(title, formatting.file_part(FOCAL_ID))
        visit.page.screenshot(path=ARTIFACTS / "hostile_admin_billing.png", full_page=True)
        assert files["Workspace runtime"] and len(files["Managed AI"]) == 2, files  # (each named for the account)
        assert visit.neutralised == set(FORMULAS)
        visit.asked_only_the_app()


def test_chart_labels_show_the_override_as_a_replacement_character(chromium, server):
    visit = Visit(chromium, server, "ops")
    try:
        visit.go("Reconciliation")
        charts = "\n".join(visit.page.locator('[data-testid="stVegaLiteChart"]').all_inner_texts())
        assert "evil" in charts and BIDI not in charts
    finally:
        visit.close()
