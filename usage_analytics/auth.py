"""Login with streamlit-authenticator: the only module that imports it. login() -> User | None."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
import yaml

from .access import User
from .config import ConfigError, Settings

# The key in the bundled auth.yaml. Anyone can read it, so anyone could sign a login cookie with it.
DEMO_COOKIE_KEY = "usage-analytics-demo-cookie-key-not-secret"
_BCRYPT = re.compile(r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$")


@dataclass(frozen=True)
class AuthConfig:
    users: dict[str, User]
    credentials: dict  # the shape streamlit-authenticator wants: {"usernames": {name: {...}}}
    cookie_name: str
    cookie_key: str
    cookie_expiry_days: float

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
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not valid YAML ({str(error).splitlines()[0]})") from None
    entries = (raw.get("credentials") or {}).get("usernames") if isinstance(raw, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise ConfigError(f"{source}: needs credentials.usernames with at least one user")
    users, credentials = {}, {}
    for username, entry in entries.items():
        where = f"{source}: user {username!r}"
        if not isinstance(entry, dict) or not isinstance(entry.get("password"), str):
            raise ConfigError(f"{where}: needs a password")
        if not _BCRYPT.match(entry["password"]):
            raise ConfigError(f"{where}: password must be a bcrypt hash "
                              "(make one with: python -m usage_analytics hash-password)")
        customer_id = entry.get("customer_id")
        if customer_id is not None and not isinstance(customer_id, str):
            raise ConfigError(f"{where}: customer_id must be text")
        roles = _roles(entry.get("roles"), where)
        name = str(entry.get("name") or username)
        users[str(username)] = User(str(username), name, roles, customer_id or None)
        credentials[str(username)] = {"name": name, "email": entry.get("email"), "password": entry["password"],
                                      "roles": list(roles)}
    cookie = raw.get("cookie") or {}
    key = cookie_key or cookie.get("key")
    if not key:
        raise ConfigError(f"{source}: no cookie key; set AUTH_COOKIE_KEY or cookie.key")
    return AuthConfig(users, {"usernames": credentials}, str(cookie.get("name") or "usage_analytics_auth"),
                      str(key), float(cookie.get("expiry_days", 1)))


@st.cache_resource(show_spinner=False)
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


def login(settings: Settings) -> User | None:
    """The logged-in user (from auth.yaml, never from the browser), or None after drawing the login form.

    The form is drawn outside any navigation on purpose: inside one, the cookie component's first
    rerun interrupts the run that carries the form's submit, and the login is lost."""
    import streamlit_authenticator as stauth  # imported here: it calls Streamlit at import time

    config = load(settings)
    if config.demo_key:
        st.sidebar.warning("The login cookie is signed with the demo key from the bundled auth.yaml. Set "
                           "AUTH_COOKIE_KEY to a long random secret before real users log in.", icon=":material/key:")
    authenticator = stauth.Authenticate(copy.deepcopy(config.credentials), config.cookie_name, config.cookie_key,
                                        config.cookie_expiry_days, auto_hash=False)
    submitted = []
    try:
        authenticator.login(location="main", key="login", callback=submitted.append,  # called on a form login only
                            fields={"Form name": "Log in to Usage & Billing Analytics", "Login": "Log in"})
    except stauth.utilities.exceptions.LoginError:  # a cookie for a user no longer in auth.yaml: logged out
        st.session_state["authentication_status"] = None
        st.info("Your login is no longer valid. Please log in again.")
        return None
    status = st.session_state.get("authentication_status")
    if status is False:
        st.error("Username or password is incorrect.")
    if not status:
        return None
    if submitted:
        # The authenticator sets its cookie through a component that must render first, and that component
        # reruns the app; st.rerun() here would lose the cookie.
        st.stop()
    user = config.users.get(st.session_state.get("username"))
    if user is None:
        return None
    with st.sidebar:
        st.caption(f"Logged in as **{user.name}** ({user.username})")
        # "logout" is the library's own session-state key, so the button needs another one
        authenticator.logout("Log out", location="sidebar", key="logout_button")
    if not st.session_state.get("authentication_status"):
        st.info("You are logged out.")
        st.stop()  # let the cookie be deleted before the next run shows the login form
    return user
