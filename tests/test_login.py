"""Login through app.py in AppTest: the key policy, throttling on the form, logout, and what the access log
holds afterwards (every event type, and never a secret)."""
from datetime import datetime, timedelta, timezone

import pytest
from streamlit.testing.v1 import AppTest

from app_runs import APP, app, rerun, submit
from usage_analytics.access_log import AccessLog
from usage_analytics.state_db import StateDB
SECRETS = ["ops-demo-pass", "acme-demo-pass", "member-demo-pass", "usage-analytics-demo-cookie-key-not-secret",
           "hunter2", "eyJ", "$2b$"]


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("STATE_DIR", str(tmp_path))
    return tmp_path


def entries(state_dir):
    now = datetime.now(timezone.utc)
    frame, _ = AccessLog(StateDB(state_dir)).entries(now - timedelta(hours=1), now + timedelta(minutes=1))
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


def test_the_form_says_how_long_to_wait_after_repeated_failures(state_dir):
    at = app()
    messages = [submit(at, "acme_admin", f"guess{i}").error[0].value for i in range(4)]
    assert messages[:2] == ["Username or password is incorrect."] * 2
    assert messages[2] == "Username or password is incorrect. Wait 2 seconds before trying again."
    assert messages[3].startswith("Too many failed logins for this username or from this network address. Wait ")
    at = submit(at, "acme_admin", "acme-demo-pass")  # the right password is not even checked yet
    assert "Too many failed logins" in at.error[0].value and not at.title
    at = submit(at, "ops", "ops-demo-pass")  # another username from the same client is not affected
    assert at.title[0].value == "Overview"


def test_logout_ends_the_session_for_good_and_another_tab_holding_it_is_refused(state_dir):
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
    log = entries(state_dir)
    assert list(log["event"]) == ["login", "page_view", "logout", "session_refused"]
    assert log["detail"].iloc[-1] == "session: ended by a logout"


def test_the_access_log_records_each_event_and_never_a_secret(state_dir):
    submit(app(), "ops", "not-the-password")
    submit(app(), "hunter2", "hunter2-typed-as-a-username")  # an unknown username, maybe a password
    submit(app(), "acme_member", "member-demo-pass")  # denied
    submit(app(), "acme_admin", "acme-demo-pass")  # logged in, lands on the overview
    log = entries(state_dir)
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
    stored = b"".join(p.read_bytes() for p in state_dir.glob("security.sqlite*"))
    for secret in SECRETS:
        assert secret.encode() not in stored, secret
