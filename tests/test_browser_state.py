"""Real browser against `streamlit run app.py`: a state folder that cannot be written, a role taken away in
auth.yaml while a user is logged in, and what the server answers without a login (issue 20).

A read-only file stops nobody running as root, so when the tests run as root the server for the read-only
case is started without root's CAP_DAC_OVERRIDE (dropped from its bounding set before exec): file modes then
apply to it as to any other user."""
import contextlib
import ctypes
import functools
import os
import re
import shutil
import subprocess
import urllib.request

import pytest

from browser import ROOT, login, serve, settle
from usage_analytics.state_db import StateDB

ARTIFACTS = ROOT / "tests" / "artifacts"
UNAVAILABLE = "Sign-in is unavailable: the app cannot record sign-ins and logouts right now. Please try again later."
OPERATOR_PAGES = ["Overview", "Workspace runtime", "Managed AI", "Reconciliation", "Billing", "Billing handoff",
                  "Month close", "Operators", "Data health", "Access log"]
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE = 24, 1


def _without_dac_override() -> None:  # (in the child, between fork and exec)
    if os.geteuid() == 0:
        ctypes.CDLL(None, use_errno=True).prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0)


@contextlib.contextmanager
def serve_unprivileged(env: dict, log):
    """serve(), with file modes applying to the server even when the tests run as root."""
    started = serve(env=env, log=log)
    real = subprocess.Popen
    subprocess.Popen = functools.partial(real, preexec_fn=_without_dac_override)
    try:
        url = started.__enter__()  # (Popen is called, and the server answers, before this returns)
    finally:
        subprocess.Popen = real
    try:
        yield url
    finally:
        started.__exit__(None, None, None)


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1400})
    yield context.new_page()
    context.close()


def nav(page) -> list[str]:
    links = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
    return [text.splitlines()[-1] for text in links]  # the icon's ligature name comes first


def open_app(page, url: str) -> None:
    page.goto(url)
    page.get_by_label("Username").wait_for(timeout=30_000)
    settle(page)


def body(page) -> str:
    return page.locator("body").inner_text()


def assert_no_generic_error(page) -> None:
    text = body(page)
    assert "Traceback" not in text and "Something went wrong" not in text
    assert not page.locator('[data-testid="stException"]').count()


def alerts(page) -> list[str]:
    """The messages in the page's main part (the sidebar holds the demo-mode warning), without their icons."""
    found = page.locator('[data-testid="stMain"] [data-testid="stAlert"]').all_inner_texts()
    return [text.strip().splitlines()[-1] for text in found]


def writable(state_dir, yes: bool) -> None:
    for file in state_dir.glob("security.sqlite*"):  # (SQLite's -wal and -shm files beside it too)
        file.chmod(0o644 if yes else 0o444)


def test_a_read_only_state_file_refuses_sign_in_in_one_line_then_takes_logins_without_a_restart(page, tmp_path):
    StateDB(tmp_path)  # the file exists, with its schema
    writable(tmp_path, False)
    try:
        with serve_unprivileged({"STATE_DIR": str(tmp_path)}, ARTIFACTS / "server-read-only-state.log") as url:
            open_app(page, url)
            assert UNAVAILABLE in body(page) and alerts(page) == [UNAVAILABLE]
            login(page, "ops")  # the right password: refused, with the same one line and nothing else
            page.wait_for_timeout(1000)
            settle(page)
            page.screenshot(path=ARTIFACTS / "sign_in_unavailable.png", full_page=True)
            assert alerts(page) == [UNAVAILABLE] and not page.locator("h1").count()
            assert_no_generic_error(page)

            writable(tmp_path, True)  # the state can be written again: the same server takes the login
            login(page, "ops")
            page.locator("h1", has_text="Overview").wait_for(timeout=60_000)
            settle(page)

            writable(tmp_path, False)  # and read-only again while logged in: pages are still served
            page.locator('[data-testid="stSidebarNav"] a', has_text="Billing").first.click()
            page.locator("h1", has_text="Billing").wait_for(timeout=30_000)
            settle(page)
            assert_no_generic_error(page)
            page.get_by_role("button", name="Log out").click()  # but the logout cannot be recorded, and says so
            page.get_by_text("Your logout could not be recorded").wait_for(timeout=30_000)
            settle(page)
            page.screenshot(path=ARTIFACTS / "logout_not_recorded.png", full_page=True)
            [line] = alerts(page)
            assert line.startswith("Your logout could not be recorded, and sign-in is unavailable: the state file "
                                   f"{tmp_path / 'security.sqlite'} cannot be written (attempt to write a readonly "
                                   "database). This browser has forgotten the session")  # ops: with the path
            assert page.get_by_label("Username").is_visible() and nav(page) == []
            assert_no_generic_error(page)
    finally:
        writable(tmp_path, True)


def test_a_state_dir_that_is_a_file_refuses_sign_in_in_one_line_until_it_is_a_folder(page, tmp_path):
    state = tmp_path / "state"
    state.write_text("not a folder")
    with serve(env={"STATE_DIR": str(state)}, log=ARTIFACTS / "server-state-file.log") as url:
        open_app(page, url)
        assert alerts(page) == [UNAVAILABLE]
        login(page, "acme_admin")
        page.wait_for_timeout(1000)
        settle(page)
        assert alerts(page) == [UNAVAILABLE] and not page.locator("h1").count()
        assert_no_generic_error(page)
        assert str(state) not in body(page)  # the server's path is for operators, in the server log
        state.unlink()
        state.mkdir()
        login(page, "acme_admin")
        page.locator("h1", has_text="Overview").wait_for(timeout=60_000)
        settle(page)
        assert_no_generic_error(page)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of its own, whose auth.yaml (a copy) the tests edit."""
    folder = tmp_path_factory.mktemp("server")
    shutil.copy(ROOT / "auth.yaml", folder / "auth.yaml")
    env = {"STATE_DIR": str(folder / "state"), "AUTH_CONFIG": str(folder / "auth.yaml")}
    with serve(env=env, log=ARTIFACTS / "server-state-tests.log") as url:
        yield url, folder / "auth.yaml"


@pytest.mark.parametrize("new_role, pages", [
    ("roles: [customer_admin]\n      customer_id: cus_acme_robotics", OPERATOR_PAGES[:5]),
    ("roles: [customer_member]", []),
])
def test_a_role_taken_away_in_auth_yaml_takes_the_pages_away_at_the_next_click(page, server, new_role, pages):
    url, auth = server
    original = auth.read_text()
    try:
        open_app(page, url)
        login(page, "ops")
        page.locator("h1", has_text="Overview").wait_for(timeout=60_000)
        settle(page)
        page.locator('[data-testid="stSidebarNav"] a', has_text="Operators").first.click()
        page.locator("h1", has_text="Operators").wait_for(timeout=30_000)
        settle(page)
        assert nav(page) == OPERATOR_PAGES
        auth.write_text(original.replace("roles: [operator]", new_role, 1))  # ops (the first user) only
        page.locator('[data-testid="stSidebarNav"] a', has_text="Data health").first.click()
        page.wait_for_timeout(1000)
        settle(page)
        page.screenshot(path=ARTIFACTS / f"role_taken_away_{len(pages)}_pages.png", full_page=True)
        assert nav(page) == pages
        if pages:
            assert page.locator("h1").first.inner_text() == "Overview"
        else:
            assert "customer member" in body(page) and "Customer scope" not in body(page)
        assert_no_generic_error(page)
    finally:
        auth.write_text(original)


def test_the_metrics_endpoint_tells_an_anonymous_caller_nothing_about_users_customers_or_caches(page, server):
    """Streamlit 1.67 serves /_stcore/metrics to anyone and has no setting to turn it off (README: block it at
    the proxy). What it says must then be only counts of sessions: nothing of the app's users or data, and
    not the names of the app's shared caches (which live outside Streamlit's)."""
    url, _ = server
    open_app(page, url)
    login(page, "ops")
    page.locator("h1", has_text="Overview").wait_for(timeout=60_000)
    settle(page)
    with urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=10) as response:  # no cookie at all
        assert response.status == 200
        text = response.read().decode()
    assert "active_sessions" in text  # it did answer, with Streamlit's session counts
    for word in ("usage_analytics.caches", "usage_analytics.access_log", "cus_", "Acme", "ops", "Olive", "eyJ"):
        assert not re.search(rf"\b{re.escape(word)}", text), word
