"""Login through app.py in AppTest: the key policy, throttling on the form, logout, what the access log
holds afterwards (every event type, and never a secret), and sign-in while the state cannot be written. The
state's tests run against both backends (`backend`: the SQLite file, and PostgreSQL, issue 18); a state that
cannot be written is a read-only SQLite file, or a PostgreSQL server that is stopped."""
from datetime import datetime, timedelta, timezone

import shutil
import subprocess
import sys
import time

import jwt
import pytest
from streamlit.testing.v1 import AppTest

from app_runs import APP, app, rerun, submit
from conftest import ROOT
from pg_server import backend, postgres_url, server  # noqa: F401
from test_security import cannot_write, unprivileged
from usage_analytics import pg
from usage_analytics.access_log import AccessLog
from usage_analytics.state_db import StateDB
SECRETS = ["ops-demo-pass", "acme-demo-pass", "member-demo-pass", "usage-analytics-demo-cookie-key-not-secret",
           "hunter2", "eyJ", "$2b$"]


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    """The SQLite file's folder, for the tests of a state that cannot be written."""
    monkeypatch.setenv("STATE_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return tmp_path


@pytest.fixture
def state(backend, monkeypatch):
    """The app's state on each backend in turn."""
    backend.env(monkeypatch)
    return backend


def entries(db):
    now = datetime.now(timezone.utc)
    frame, _ = AccessLog(db).entries(now - timedelta(hours=1), now + timedelta(minutes=1))
    return frame.iloc[::-1]  # oldest first


@pytest.mark.parametrize("env, says", [
    ({}, "public demo key"),
    ({"AUTH_COOKIE_KEY": "too-short-a-key"}, "15 bytes long; it needs 32"),
])
def test_without_demo_mode_a_weak_cookie_key_stops_the_app_before_the_login_form(monkeypatch, env, says):
    monkeypatch.delenv("DEMO_MODE")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = app()
    assert not at.exception
    assert "The app refuses to start" in at.error[0].value and says in at.error[0].value
    assert not at.text_input  # no login form at all


def test_a_long_secret_key_serves_the_login_form_without_the_demo_warning(monkeypatch):
    monkeypatch.delenv("DEMO_MODE")
    monkeypatch.setenv("AUTH_COOKIE_KEY", "a-secret-of-at-least-thirty-two-bytes-0123456789")
    at = app()
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert not at.sidebar.warning and not at.error


def test_the_form_says_how_long_to_wait_after_repeated_failures(state):
    at = app()
    messages = [submit(at, "acme_admin", f"guess{i}").error[0].value for i in range(4)]
    assert messages[:2] == ["Username or password is incorrect."] * 2
    assert messages[2] == "Username or password is incorrect. Wait 2 seconds before trying again."
    assert messages[3].startswith("Too many failed logins for this username or from this network address. Wait ")
    at = submit(at, "acme_admin", "acme-demo-pass")  # the right password is not even checked yet
    assert "Too many failed logins" in at.error[0].value and not at.title
    at = submit(at, "ops", "ops-demo-pass")  # another username from the same client is not affected
    assert at.title[0].value == "Overview"


def test_logout_ends_the_session_for_good_and_another_tab_holding_it_is_refused(state):
    at = submit(app(), "ops", "ops-demo-pass")
    token = at.session_state["_auth_token"]
    at.sidebar.button(key="logout_button").click()
    rerun(at)
    assert "You are logged out." in at.info[0].value
    assert [t.label for t in at.text_input] == ["Username", "Password"] and not at.title
    other_tab = AppTest.from_file(APP, default_timeout=90)
    other_tab.session_state["_auth_token"] = token  # a session that was logged in with the same token
    other_tab.run()
    assert "Your session has ended" in other_tab.info[0].value
    assert [t.label for t in other_tab.text_input] == ["Username", "Password"]
    assert not other_tab.title and not other_tab.metric
    log = entries(state.open())
    assert list(log["event"]) == ["login", "page_view", "logout", "session_refused"]
    assert log["detail"].iloc[-1] == "session: ended by a logout"


def test_the_access_log_records_each_event_and_never_a_secret(state):
    submit(app(), "ops", "not-the-password")
    submit(app(), "hunter2", "hunter2-typed-as-a-username")  # an unknown username, maybe a password
    submit(app(), "acme_member", "member-demo-pass")  # denied
    submit(app(), "acme_admin", "acme-demo-pass")  # logged in, lands on the overview
    log = entries(state.open())
    rows = [tuple(r) for r in log[["event", "username", "page", "customer", "period", "detail"]]
            .astype(object).where(log.notna(), None).itertuples(index=False)]
    assert rows == [
        ("login_failed", "ops", None, None, None, "wrong password"),
        ("login_failed", "(unknown username)", None, None, None, "unknown username"),
        ("login", "acme_member", None, None, None, "with username and password"),
        ("denied", "acme_member", None, None, None, rows[3][5]),
        ("login", "acme_admin", None, None, None, "with username and password"),
        ("page_view", "acme_admin", "overview", "cus_acme_robotics", "2026-11", None),
    ]
    assert "customer admins" in rows[3][5]
    assert set(log["client"]) == {"local"}
    stored = state.stored_text()
    for secret in SECRETS:
        assert secret.encode() not in stored, secret


# -- a state folder that cannot be written --------------------------------------------------------------
UNAVAILABLE = "Sign-in is unavailable: the app cannot record sign-ins and logouts right now. Please try again later."
FORM = ["Username", "Password"]


def writable(state_dir, yes: bool) -> None:
    for file in state_dir.glob("security.sqlite*"):  # (SQLite's -wal and -shm files beside it too)
        file.chmod(0o644 if yes else 0o444)


def test_a_read_only_state_refuses_sign_in_in_one_line_and_takes_logins_again_once_writable(state_dir):
    app()  # the state file is made
    writable(state_dir, False)
    try:
        with unprivileged():
            assert cannot_write(state_dir / "security.sqlite")
            at = app()
            assert [e.value for e in at.error] == [UNAVAILABLE] and not at.exception
            assert [t.label for t in at.text_input] == FORM
            at = submit(at, "ops", "ops-demo-pass")  # the right password: not even checked
            assert [e.value for e in at.error] == [UNAVAILABLE] and not at.exception and not at.title
            writable(state_dir, True)  # no restart: the next try works
            at = submit(at, "ops", "ops-demo-pass")
            assert at.title[0].value == "Overview" and not at.error
    finally:
        writable(state_dir, True)
    assert list(entries(StateDB(state_dir))["event"]) == ["login", "page_view"]  # only the accepted login


@pytest.mark.parametrize("username, password, why", [
    ("ops", "ops-demo-pass", "the state file {} cannot be written (attempt to write a readonly database)"),
    ("acme_admin", "acme-demo-pass", "the app cannot record sign-ins and logouts right now"),  # no path
])
def test_with_a_read_only_state_a_session_keeps_its_pages_and_its_logout_says_it_was_not_recorded(
        state_dir, username, password, why):
    at = submit(app(), username, password)
    until = datetime.fromtimestamp(jwt.decode(at.session_state["_auth_token"], options={"verify_signature": False})
                                   ["exp"], timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    writable(state_dir, False)
    try:
        with unprivileged():
            at = rerun(at)  # the next click: still served, read-only
            assert at.title[0].value == "Overview" and not at.error and not at.exception
            at.sidebar.button(key="logout_button").click()
            at = rerun(at)
            assert [e.value for e in at.error] == [
                f"Your logout could not be recorded, and sign-in is unavailable: "
                f"{why.format(state_dir / 'security.sqlite')}. This browser has forgotten the session, but a copy "
                f"of its cookie stays valid until {until}."]
            assert [t.label for t in at.text_input] == FORM and not at.title and not at.info and not at.exception
            at = rerun(at)  # the session stays ended in this browser
            assert [e.value for e in at.error] == [UNAVAILABLE] and not at.title
    finally:
        writable(state_dir, True)


def test_a_state_dir_that_is_a_file_refuses_sign_in_in_one_line_until_it_is_a_folder(tmp_path, monkeypatch):
    state = tmp_path / "state"
    monkeypatch.setenv("STATE_DIR", str(state))
    logged_in = submit(app(), "acme_admin", "acme-demo-pass")
    shutil.move(state, tmp_path / "moved")
    state.write_text("not a folder")
    at = app()
    assert [e.value for e in at.error] == [UNAVAILABLE] and not at.exception and [t.label for t in at.text_input] == FORM
    at = submit(at, "ops", "ops-demo-pass")
    assert [e.value for e in at.error] == [UNAVAILABLE] and not at.title and not at.exception
    # a session already logged in: whether it was logged out cannot be read, so it gets the form too
    logged_in = rerun(logged_in)
    assert [e.value for e in logged_in.error] == [UNAVAILABLE] and not logged_in.title and not logged_in.exception
    state.unlink()
    shutil.move(tmp_path / "moved", state)  # a folder again: both work at their next click
    assert submit(at, "ops", "ops-demo-pass").title[0].value == "Overview"
    assert rerun(logged_in).title[0].value == "Overview"


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_stopped_database_refuses_sign_in_in_one_line_and_takes_logins_again_when_it_returns(state):
    logged_in = submit(app(), "acme_admin", "acme-demo-pass")
    assert logged_in.title[0].value == "Overview"
    server().stop()
    try:
        at = app()
        assert [e.value for e in at.error] == [UNAVAILABLE] and not at.exception
        assert [t.label for t in at.text_input] == FORM
        at = submit(at, "ops", "ops-demo-pass")  # the right password: not even checked
        assert [e.value for e in at.error] == [UNAVAILABLE] and not at.title and not at.exception
        # a session already logged in: whether it was logged out cannot be read, so it gets the form too
        logged_in = rerun(logged_in)
        assert [e.value for e in logged_in.error] == [UNAVAILABLE] and not logged_in.title
        assert not logged_in.exception
    finally:
        server().start()
    time.sleep(pg.RETRY_AFTER)  # (the last failed probe's answer stands this long)
    at = submit(at, "ops", "ops-demo-pass")  # no restart: the next try works
    assert at.title[0].value == "Overview" and not at.error
    assert rerun(logged_in).title[0].value == "Overview"
    # acme_admin's login and view, then ops's: nothing while the server was stopped (its view of the overview
    # again is the same view, logged once)
    assert list(entries(state.open())["username"]) == ["acme_admin"] * 2 + ["ops"] * 2


def test_the_first_login_form_imports_the_pages_ahead_once_on_a_thread_of_its_own():
    """A fresh process (nothing imported yet): the login form's preload imports the password check's module and
    every page module, on one thread however many forms are drawn; no page is registered or drawn by it."""
    code = """
import sys, threading
from usage_analytics import access, login
assert not any(name.startswith("pages.") for name in sys.modules)
login._preload(); login._preload()
threads = [t for t in threading.enumerate() if t.name == "preload"]
assert len(threads) == 1, threads
threads[0].join(60)
print(sorted(name for name in sys.modules if name.startswith("pages.")))
print("streamlit_authenticator.utilities.hasher" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    from usage_analytics import access  # noqa: PLC0415
    assert done.stdout.split("\n")[:2] == [str(sorted(f"pages.{spec.module}" for spec in access.PAGES)), "True"]
