"""The login form, the session behind each run, and logout. login(settings) -> User | None is the app's
only way to learn who is there.

streamlit-authenticator 0.4.2 signs a cookie of username and expiry that stays valid after logout, locks
a username for good after failed logins, and answers faster for unknown usernames; none of that can be
configured away. So the session layer is ours and small (sessions.py, throttle.py), and only auth.yaml's
format and the library's bcrypt check are kept (credentials.py).

When STATE_DIR/security.sqlite cannot be written, no login is accepted (its logout could not be recorded):
the form says so in one line, and works again once the state can be written. Sessions already logged in
keep their pages while their ended-record can still be read; a logout then forgets the session in this
browser and says that it could not be recorded.
"""
from __future__ import annotations

import importlib
import json
import logging
import threading
import time
from datetime import datetime, timezone
from typing import NamedTuple

import jwt
import streamlit as st

from .access import PAGES, Action, User, can
from . import access_log, navigation, state_db
from .config import ConfigError, Settings
from .credentials import AuthConfig, key_problem, load, session_hours
from .session_keys import REQUESTED_PAGE, SESSION_TOKEN
from .sessions import EndedSessions, Session, issue, read
from .state_db import StateUnavailable
from .throttle import FailedLogins, Throttle, attempt

log = logging.getLogger("usage_analytics")

_SET_COOKIE, _ENDED_HERE, _REFUSED = "_auth_set_cookie", "_auth_ended_here", "_auth_refused"
_LOGGED_OUT = "_auth_logged_out"
_ACCOUNT = "_auth_account"  # this run's logged-in session, for account() (drawn after the pickers)


class _Stores(NamedTuple):
    ended: EndedSessions
    failed: FailedLogins


def _stores(settings: Settings) -> _Stores:
    """The ended sessions and failed logins in STATE_DIR/security.sqlite (StateUnavailable when STATE_DIR
    cannot be a folder)."""
    db = state_db.for_settings(settings)
    return _Stores(EndedSessions(db), FailedLogins(db, Throttle(window=settings.throttle_window_minutes * 60)))


def _state_problem(settings: Settings) -> StateUnavailable | None:
    """Why no login can be accepted now (the state cannot be written), or None. It takes a write to know."""
    try:
        state_db.for_settings(settings).check_writable()
    except StateUnavailable as error:
        return error
    return None


_REPORTED: dict[str, float] = {}  # problem -> when the server log last got it


def _report(error: StateUnavailable) -> None:
    """The server log gets the file and the error: once a minute per problem, not once per run."""
    now = time.monotonic()
    if now - _REPORTED.get(str(error), float("-inf")) >= 60:
        _REPORTED[str(error)] = now
        log.error("sign-in is unavailable: %s", error)


def _why(error: StateUnavailable, user: User | None) -> str:
    """The file and the error for those who may see the server's internals (operators); for anyone else,
    a customer admin or the anonymous login form, the reason without the server's path."""
    _report(error)
    return str(error) if can(user, Action.SEE_DATA_INTERNALS) else \
        "the app cannot record sign-ins and logouts right now"


def unavailable_line(error: StateUnavailable, user: User | None = None) -> str:
    """The one line that says no login can be accepted now, and why."""
    return f"Sign-in is unavailable: {_why(error, user)}. Please try again later."


def _logout_unrecorded_line(error: StateUnavailable, user: User, session: Session) -> str:
    until = datetime.fromtimestamp(session.expires_at, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"Your logout could not be recorded, and sign-in is unavailable: {_why(error, user)}. This browser "
            f"has forgotten the session, but a copy of its cookie stays valid until {until}.")


def cookie_script(config: AuthConfig, session: Session | None) -> str:
    """JavaScript that sets (or, for None, deletes) the login cookie in this browser. A cookie set from
    JavaScript cannot be HttpOnly; SameSite=Strict, and Secure whenever the page came over HTTPS."""
    if session is None:
        value, expiry = "", "Thu, 01 Jan 1970 00:00:00 GMT"
    else:
        value, expiry = session.token, datetime.fromtimestamp(session.expires_at, timezone.utc).strftime(
            "%a, %d %b %Y %H:%M:%S GMT")
    cookie = f"{config.cookie_name}={value}; path=/; expires={expiry}; samesite=strict"
    return (f"<script>document.cookie = {json.dumps(cookie)} + "
            "(location.protocol === 'https:' ? '; secure' : '');</script>")


def _note(text: str) -> None:
    """A line above the login form, as wide as the form."""
    st.columns([1, 2, 1])[1].info(text, icon=":material/logout:")


def _say_unavailable(line: str) -> None:
    """The one line that says sign-in is unavailable, above the form and as wide as it."""
    st.columns([1, 2, 1])[1].error(line, icon=":material/cloud_off:")


def _refuse(settings: Settings, session_id: str, reason: str, from_cookie: bool) -> None:
    """Forget a refused token; say so once per session (not for the session's own logout)."""
    st.session_state.pop(SESSION_TOKEN, None)
    st.session_state[_SET_COOKIE] = False
    if session_id in (st.session_state.get(_REFUSED), st.session_state.get(_ENDED_HERE)):
        return
    st.session_state[_REFUSED] = session_id
    access_log.audit(settings, "session_refused", None, detail=f"{'cookie' if from_cookie else 'session'}: {reason}")
    _note("Your session has ended. Please log in again.")


def _current(settings: Settings, config: AuthConfig) -> Session | None:
    """This browser's session: the one logged in here, else the cookie the browser opened the app with."""
    token = st.session_state.get(SESSION_TOKEN)
    from_cookie = token is None
    if from_cookie:
        token = st.context.cookies.get(config.cookie_name)
    if not isinstance(token, str) or not token:
        return None
    session, reason = read(config, token, _stores(settings).ended)  # StateUnavailable: cannot tell, refuse
    if session is not None and session.session_id == st.session_state.get(_ENDED_HERE):
        return None  # logged out here though the record could not be written: the cookie read at connect stays
    if session is None:
        try:
            key = jwt.decode(token, options={"verify_signature": False}).get("sid") or ""
        except jwt.InvalidTokenError:
            key = ""
        _refuse(settings, str(key) or "?", reason, from_cookie)
        return None
    if from_cookie:
        st.session_state[SESSION_TOKEN] = token
        access_log.audit(settings, "login", config.users[session.username], detail="with the session cookie")
    return session


def _form(settings: Settings, config: AuthConfig, problem: StateUnavailable | None) -> Session | None:
    """The login form; the new session after a successful login (the form is then taken off the page). While
    the state cannot be written (`problem`, said above the form) a login is not even checked."""
    holder = st.empty()
    _, middle, _ = holder.container().columns([1, 2, 1])
    with middle.form("login", enter_to_submit=True):
        st.subheader("Log in to Usage & Billing Analytics", anchor=False)
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Log in", type="primary")
    if not submitted:
        return None
    if not username.strip() or not password:
        middle.error("Enter a username and a password.")
        return None
    if problem is not None:
        return None
    try:
        outcome = attempt(config, _stores(settings).failed, username, password, access_log.client_address())
    except StateUnavailable as error:  # (it became unwritable since the form was drawn)
        middle.error(unavailable_line(error), icon=":material/cloud_off:")
        return None
    if outcome.user is None:
        # the username as typed is logged only when it exists (a typed password must never reach the log)
        known = config.users.get(username.strip().lower())
        access_log.audit(settings, "login_failed", known, username=None if known else "(unknown username)",
                         detail="throttled: wait {:.0f} s".format(outcome.wait) if outcome.throttled
                         else "wrong password" if known else "unknown username")
        middle.error(outcome.message(), icon=":material/lock:")
        return None
    holder.empty()
    session = issue(config, username.strip().lower(), session_hours(config, settings))
    st.session_state[SESSION_TOKEN] = session.token
    st.session_state[_SET_COOKIE] = True
    access_log.audit(settings, "login", outcome.user, detail="with username and password")
    return session


_PRELOAD = threading.Lock()  # taken for good by the first login form of the process


def _preload() -> None:
    """While the first login form of a new server process waits for its user, import what the login itself then
    needs: the password check's module (on this run's thread, after the form) and, on a thread of its own, every
    page module with the charting libraries (0.5 s of a fresh server's first login, measured in Chromium at 100M
    rows). Imports only: nothing is read, computed or drawn for someone not logged in, and the page modules stay
    inert (nothing registers them)."""
    if not _PRELOAD.acquire(blocking=False):
        return
    # (on this run's own thread, the form already drawn: the library declares a Streamlit component when imported,
    # which logs "missing ScriptRunContext" from a thread of no session)
    importlib.import_module("streamlit_authenticator.utilities.hasher")

    def load() -> None:
        try:
            for spec in PAGES:
                navigation.page_module(spec)
        except Exception as error:  # (the login imports them again, and says what fails)
            log.warning("modules were not imported ahead of the first login: %s", error)

    threading.Thread(target=load, name="preload", daemon=True).start()


def login(settings: Settings) -> User | None:
    """The logged-in user (from auth.yaml, never from the browser), or None after drawing the login form."""
    try:
        config = load(settings)
    except ConfigError as error:
        navigation.only(lambda: st.error(f"The app is misconfigured: {error}"), "Usage & Billing Analytics")
        st.stop()
    problem = key_problem(config, settings)
    if problem:
        log.error("refusing to serve: %s", problem)

        def refused() -> None:
            st.title("Usage & Billing Analytics", anchor=False)
            st.error(f"The app refuses to start: {problem}", icon=":material/key_off:")

        navigation.only(refused, "Usage & Billing Analytics")
        st.stop()
    try:
        session = _current(settings, config)
    except StateUnavailable as error:  # whether this session was logged out cannot be read: serve nothing
        _demo_warning(config.demo_key)
        _login_page(settings, config, error)
        return None
    if session is None:
        _demo_warning(config.demo_key)
        _login_page(settings, config)
        _preload()
        return None
    user = config.users[session.username]
    if st.session_state.get(_SET_COOKIE):
        st.sidebar.html(cookie_script(config, session), unsafe_allow_javascript=True)
    st.session_state[_ACCOUNT] = (bool(config.demo_key), session, user)
    return user


def _demo_warning(demo_key: bool, compact: bool = False) -> None:
    """In the sidebar, while the cookie key is the bundled demo key: that it must be set before real users log in
    (in fewer words at the end of a logged-in user's account block)."""
    if not demo_key:
        return
    st.sidebar.warning("**Demo mode:** the login cookie is signed with the public demo key. Set AUTH_COOKIE_KEY "
                       "before real users log in." if compact else
                       "Demo mode: the login cookie is signed with the public demo key from the bundled "
                       "auth.yaml. Set AUTH_COOKIE_KEY to a long random secret before real users log in.",
                       icon=":material/key:")


def account(settings: Settings) -> None:
    """The sidebar's account block of the user login() returned in this run: who is logged in, Log out, and the
    demo-mode warning. Drawn by the frame after the scope and period pickers, so that those stay at the top of
    the sidebar, under the page links, on a laptop's screen (a block drawn later cannot go above them: the
    pickers are the sidebar's own elements, in the order drawn)."""
    found = st.session_state.pop(_ACCOUNT, None)
    if found is None:
        return
    demo_key, session, user = found
    st.sidebar.caption(f"Logged in as **{user.name}** ({user.username})")
    st.sidebar.button("Log out", key="logout_button", icon=":material/logout:", on_click=_logout,
                      args=(settings, session, user))
    _demo_warning(demo_key, compact=True)


def _logout(settings: Settings, session: Session, user: User) -> None:
    """The logout button's callback, before the run: this session id is refused from now on, everywhere.
    When that cannot be recorded, the session still ends in this browser, and the login page says so."""
    try:
        _stores(settings).ended.end_session(session.session_id, session.username, session.expires_at)
    except StateUnavailable as error:
        st.session_state[_LOGGED_OUT] = (_logout_unrecorded_line(error, user, session), False)
    else:
        access_log.audit(settings, "logout", user)
        st.session_state[_LOGGED_OUT] = ("You are logged out.", True)
    st.session_state.pop(SESSION_TOKEN, None)
    st.session_state[_SET_COOKIE] = False
    st.session_state[_ENDED_HERE] = session.session_id
    st.session_state[REQUESTED_PAGE] = ""


def _login_page(settings: Settings, config: AuthConfig, problem: StateUnavailable | None = None) -> None:
    """The login form as the only page of a hidden navigation: no links are left from a logged-in run, and
    no pages/ file is listed. A login reruns the app as the user. Above the form, one line when no login can
    be accepted now (the state cannot be written)."""
    def log_in() -> None:
        said, recorded = st.session_state.pop(_LOGGED_OUT, ("", True))
        if said:
            st.html(cookie_script(config, None), unsafe_allow_javascript=True)  # the browser forgets it
        found = problem or _state_problem(settings)
        if not recorded:  # its line says that sign-in is unavailable, and why
            _say_unavailable(said)
        else:
            if said:
                _note(said)
            if found is not None:
                _say_unavailable(unavailable_line(found))
        if _form(settings, config, found) is not None:
            st.rerun()

    # Every page's path leads to the form (a bookmark keeps its path, and the same page opens after the login).
    navigation.only(log_in, "Log in")
