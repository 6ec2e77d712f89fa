"""Login, sessions and logout. login(settings) -> User | None is the app's only way to learn who is there.

streamlit-authenticator 0.4.2 signs a cookie of username and expiry that stays valid after logout, locks
a username for good after failed logins, and answers faster for unknown usernames; none of that can be
configured away. So the session layer is ours and small; auth.yaml keeps the library's format and its
Hasher (bcrypt) checks passwords:
- a session is a signed token (PyJWT, HS256) carrying a random session id, the username and an expiry;
- logout records the session id as ended in STATE_DIR/security.sqlite, and every run of every session
  checks that record, so a copied cookie is refused from the logout on, in any browser;
- failed logins earn growing waits per username and per client, never a lockout (security.Throttle);
- an unknown username costs one bcrypt check against a dummy hash, like a known one;
- the cookie key must be secret and long unless DEMO_MODE is on.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import jwt
import streamlit as st
import yaml

from .access import PAGE_IDS, User
from .config import ConfigError, Settings
from .security import SecurityState, Throttle

log = logging.getLogger("usage_analytics")

# The key in the bundled auth.yaml. Anyone can read it, so anyone could sign a login cookie with it.
DEMO_COOKIE_KEY = "usage-analytics-demo-cookie-key-not-secret"
MIN_KEY_BYTES = 32
_BCRYPT = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")
_TOKEN, _SET_COOKIE, _ENDED_HERE, _REFUSED = "_auth_token", "_auth_set_cookie", "_auth_ended_here", "_auth_refused"
_LOGGED_OUT = "_auth_logged_out"
BAD_LOGIN = "Username or password is incorrect."


@dataclass(frozen=True)
class AuthConfig:
    users: dict[str, User]  # by lower-case username
    hashes: dict[str, str]  # bcrypt hash by lower-case username
    cookie_name: str
    cookie_key: str
    dummy_hash: str  # checked for unknown usernames, at the cost most users' hashes have

    @property
    def demo_key(self) -> bool:
        return self.cookie_key == DEMO_COOKIE_KEY


def _roles(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{where}: roles must be a list of names")


def parse(text: str, source: str, cookie_key: str | None = None) -> AuthConfig:
    """Users and cookie settings from auth.yaml text; cookie_key (AUTH_COOKIE_KEY) overrides the file's."""
    import bcrypt

    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not valid YAML ({str(error).splitlines()[0]})") from None
    entries = (raw.get("credentials") or {}).get("usernames") if isinstance(raw, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise ConfigError(f"{source}: needs credentials.usernames with at least one user")
    users, hashes = {}, {}
    for username, entry in entries.items():
        where = f"{source}: user {username!r}"
        if str(username).strip().lower() in users:
            raise ConfigError(f"{where}: another user has the same name (usernames ignore case)")
        if not isinstance(entry, dict) or not isinstance(entry.get("password"), str):
            raise ConfigError(f"{where}: needs a password")
        if not _BCRYPT.match(entry["password"]):
            raise ConfigError(f"{where}: password must be a bcrypt hash "
                              "(make one with: python -m usage_analytics hash-password)")
        customer_id = entry.get("customer_id")
        if customer_id is not None and not isinstance(customer_id, str):
            raise ConfigError(f"{where}: customer_id must be text")
        key = str(username).strip().lower()
        users[key] = User(str(username), str(entry.get("name") or username), _roles(entry.get("roles"), where),
                          customer_id or None)
        hashes[key] = entry["password"]
    cookie = raw.get("cookie") or {}
    if "expiry_days" in cookie:
        raise ConfigError(f"{source}: cookie.expiry_days is no longer read; a login lasts AUTH_SESSION_HOURS "
                          "(default 8)")
    key = cookie_key or cookie.get("key")
    if not key:
        raise ConfigError(f"{source}: no cookie key; set AUTH_COOKIE_KEY or cookie.key")
    cost = Counter(int(_BCRYPT.match(h).group(1)) for h in hashes.values()).most_common(1)[0][0]
    dummy = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(cost)).decode()
    return AuthConfig(users, hashes, str(cookie.get("name") or "usage_analytics_auth"), str(key), dummy)


def key_problem(config: AuthConfig, settings: Settings) -> str | None:
    """Why this cookie key must not be used, unless DEMO_MODE is on; None when it is fine."""
    if settings.demo_mode:
        return None
    fix = ("Set AUTH_COOKIE_KEY to a random secret of at least 32 bytes, e.g. the output of "
           "`python -c \"import secrets; print(secrets.token_urlsafe(48))\"`, or set DEMO_MODE=1 for a demo.")
    if config.demo_key:
        return f"The login cookie key is the public demo key from the bundled auth.yaml. {fix}"
    if len(config.cookie_key.encode()) < MIN_KEY_BYTES:
        return f"The login cookie key is {len(config.cookie_key.encode())} bytes long; it needs {MIN_KEY_BYTES}. {fix}"
    return None


@st.cache_resource(show_spinner=False, max_entries=4)
def _load(path: str, mtime_ns: int, cookie_key: str | None) -> AuthConfig:
    return parse(Path(path).read_text(), path, cookie_key)


def load(settings: Settings) -> AuthConfig:
    """auth.yaml as of its last change (read again when it is edited); never written back."""
    path = Path(settings.auth_config)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        raise ConfigError(f"AUTH_CONFIG: {path} cannot be read") from None
    return _load(str(path), mtime, settings.auth_cookie_key)


@st.cache_resource(show_spinner=False, max_entries=4)
def _state(state_dir: str, retention_days: float, window_minutes: float) -> SecurityState:
    return SecurityState(Path(state_dir), retention_days, Throttle(window=window_minutes * 60))


def state(settings: Settings) -> SecurityState:
    """The process's handle on STATE_DIR/security.sqlite."""
    return _state(str(settings.state_dir), settings.audit_retention_days, settings.throttle_window_minutes)


# -- sessions -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Session:
    token: str
    session_id: str
    username: str  # lower-case, as in AuthConfig
    expires_at: float


def issue(config: AuthConfig, username: str, hours: float, now: float | None = None) -> Session:
    now = time.time() if now is None else now
    session_id, expires = secrets.token_urlsafe(18), now + hours * 3600
    token = jwt.encode({"sub": username, "sid": session_id, "iat": int(now), "exp": int(expires)},
                       config.cookie_key, algorithm="HS256")
    return Session(token, session_id, username, int(expires))


def read(config: AuthConfig, token: str, state_: SecurityState) -> tuple[Session | None, str]:
    """The session a token carries, or None and why it is refused (bad signature, expired, ended, unknown)."""
    try:
        claims = jwt.decode(token, config.cookie_key, algorithms=["HS256"],
                            options={"require": ["sub", "sid", "iat", "exp"]})
    except jwt.ExpiredSignatureError:
        return None, "expired"
    except jwt.InvalidTokenError:
        return None, "not signed with this app's key"
    session = Session(token, str(claims["sid"]), str(claims["sub"]), float(claims["exp"]))
    if state_.session_ended(session.session_id):
        return None, "ended by a logout"
    if session.username not in config.users:
        return None, "user no longer in auth.yaml"
    return session, ""


# -- password logins ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Attempt:
    user: User | None
    wait: float  # seconds before the next try may be checked
    throttled: bool = False  # refused without checking the password

    def message(self) -> str:
        seconds = max(1, round(self.wait))
        wait = f"Wait {seconds} second{'s' * (seconds != 1)} before trying again."
        if self.throttled:
            return f"Too many failed logins for this username or from this network address. {wait}"
        return f"{BAD_LOGIN} {wait}" if self.wait > 0 else BAD_LOGIN


def _password_matches(password: str, hashed: str) -> bool:
    from streamlit_authenticator.utilities.hasher import Hasher

    raw = password.encode()
    if len(raw) > 72:  # bcrypt's limit; checked anyway (on a cut copy) so the time is the same
        Hasher.check_pw(raw[:72].decode(errors="ignore"), hashed)
        return False
    return Hasher.check_pw(password, hashed)


def attempt(config: AuthConfig, state_: SecurityState, username: str, password: str, client: str,
            now: float | None = None) -> Attempt:
    """Check one login. Throttled tries are refused unchecked; every checked try costs one bcrypt check."""
    name = username.strip().lower()
    wait = state_.begin_attempt(name, client, now)
    if wait > 0:
        return Attempt(None, wait, throttled=True)
    stored = config.hashes.get(name)
    matches = _password_matches(password, stored or config.dummy_hash)
    if stored is not None and matches:
        state_.succeeded(name, client)
        return Attempt(config.users[name], 0.0)
    return Attempt(None, state_.wait_after_failure(name, client, now))


# -- Streamlit ------------------------------------------------------------------------------------
def client_address() -> str:
    """The connection's address ('local' on localhost). Behind a proxy it is the proxy's (see README)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "local"  # (AppTest has no connection)


def audit(settings: Settings, event: str, user: User | None, **fields) -> None:
    """One access-log entry; a failure to write it is logged, never shown, and never stops the page."""
    try:
        typed = fields.pop("username", None)
        state(settings).record(event, user.username if user else typed, client_address(), **fields)
    except Exception:
        log.exception("could not write the access log (%s)", event)


def audit_once(settings: Settings, event: str, user: User | None, **fields) -> None:
    """Like audit(), but a rerun that repeats this session's last entry of the same event adds nothing:
    Streamlit reruns the page on every click, and one view of a page is one entry."""
    seen = st.session_state.setdefault("_audit_seen", {})
    key = (user.username if user else None, tuple(sorted(fields.items())))
    if seen.get(event) != key:
        seen[event] = key
        audit(settings, event, user, **fields)


def _cookie_script(config: AuthConfig, session: Session | None) -> str:
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


def _refuse(settings: Settings, session_id: str, reason: str, from_cookie: bool) -> None:
    """Forget a refused token; say so once per session (not for the session's own logout)."""
    st.session_state.pop(_TOKEN, None)
    st.session_state[_SET_COOKIE] = False
    if session_id in (st.session_state.get(_REFUSED), st.session_state.get(_ENDED_HERE)):
        return
    st.session_state[_REFUSED] = session_id
    audit(settings, "session_refused", None, detail=f"{'cookie' if from_cookie else 'session'}: {reason}")
    _note("Your session has ended. Please log in again.")


def _current(settings: Settings, config: AuthConfig) -> Session | None:
    """This browser's session: the one logged in here, else the cookie the browser opened the app with."""
    token = st.session_state.get(_TOKEN)
    from_cookie = token is None
    if from_cookie:
        token = st.context.cookies.get(config.cookie_name)
    if not isinstance(token, str) or not token:
        return None
    session, reason = read(config, token, state(settings))
    if session is None:
        try:
            key = jwt.decode(token, options={"verify_signature": False}).get("sid") or ""
        except jwt.InvalidTokenError:
            key = ""
        _refuse(settings, str(key) or "?", reason, from_cookie)
        return None
    if from_cookie:
        st.session_state[_TOKEN] = token
        audit(settings, "login", config.users[session.username], detail="with the session cookie")
    return session


def _form(settings: Settings, config: AuthConfig) -> Session | None:
    """The login form; the new session after a successful login (the form is then taken off the page)."""
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
    outcome = attempt(config, state(settings), username, password, client_address())
    if outcome.user is None:
        # the username as typed is logged only when it exists (a typed password must never reach the log)
        known = config.users.get(username.strip().lower())
        audit(settings, "login_failed", known, username=None if known else "(unknown username)",
              detail="throttled: wait {:.0f} s".format(outcome.wait) if outcome.throttled else "wrong password"
              if known else "unknown username")
        middle.error(outcome.message(), icon=":material/lock:")
        return None
    holder.empty()
    session = issue(config, username.strip().lower(), settings.session_hours)
    st.session_state[_TOKEN] = session.token
    st.session_state[_SET_COOKIE] = True
    audit(settings, "login", outcome.user, detail="with username and password")
    return session


def login(settings: Settings) -> User | None:
    """The logged-in user (from auth.yaml, never from the browser), or None after drawing the login form."""
    try:
        config = load(settings)
    except ConfigError as error:
        st.error(f"The app is misconfigured: {error}")
        st.stop()
    problem = key_problem(config, settings)
    if problem:
        log.error("refusing to serve: %s", problem)
        st.title("Usage & Billing Analytics", anchor=False)
        st.error(f"The app refuses to start: {problem}", icon=":material/key_off:")
        st.stop()
    if config.demo_key:
        st.sidebar.warning("Demo mode: the login cookie is signed with the public demo key from the bundled "
                           "auth.yaml. Set AUTH_COOKIE_KEY to a long random secret before real users log in.",
                           icon=":material/key:")
    session = _current(settings, config)
    if session is None:
        _login_page(settings, config)
        return None
    user = config.users[session.username]
    with st.sidebar:
        if st.session_state.get(_SET_COOKIE):
            st.html(_cookie_script(config, session), unsafe_allow_javascript=True)
        st.caption(f"Logged in as **{user.name}** ({user.username})")
        st.button("Log out", key="logout_button", icon=":material/logout:", on_click=_logout,
                  args=(settings, session, user))
    return user


def _logout(settings: Settings, session: Session, user: User) -> None:
    """The logout button's callback, before the run: this session id is refused from now on, everywhere."""
    state(settings).end_session(session.session_id, session.username, session.expires_at)
    audit(settings, "logout", user)
    st.session_state.pop(_TOKEN, None)
    st.session_state[_SET_COOKIE] = False
    st.session_state[_ENDED_HERE] = session.session_id
    st.session_state[_LOGGED_OUT] = True
    st.session_state["requested_page"] = ""


def _login_page(settings: Settings, config: AuthConfig) -> None:
    """The login form as the only page of a hidden navigation: no links are left from a logged-in run, and
    no pages/ file is listed. A login reruns the app as the user."""
    def log_in() -> None:
        if st.session_state.pop(_LOGGED_OUT, False):
            st.html(_cookie_script(config, None), unsafe_allow_javascript=True)  # the browser forgets it
            _note("You are logged out.")
        if _form(settings, config) is not None:
            st.rerun()

    # Every page's path leads to the form (a bookmark keeps its path, and the same page opens after the login).
    pages = [st.Page(log_in, title="Log in", url_path=page_id, default=page_id == PAGE_IDS[0]) for page_id in PAGE_IDS]
    st.navigation(pages, position="hidden").run()
