"""auth.yaml: the users, their bcrypt hashes and the cookie settings, the cookie-key policy, the session
length, and the password check.

auth.yaml is streamlit-authenticator's own config file: every key the library (0.4.2) reads or writes is
accepted, so a team's existing file, or one the library has written back, loads as it is. The app reads
cookie.name, cookie.key, cookie.expiry_days and, per user, password, name, first_name, last_name, roles and
its own customer_id; every other key is ignored, and the server log says which ones in one line (names,
never values), once per content of the file. The library's Hasher (bcrypt) checks passwords; this is the
only module that imports the library (its session layer is not used, see login.py). An unknown username
costs one bcrypt check against a dummy hash, like a known one. The cookie key must be secret and long
unless DEMO_MODE is on. load() reads the file on every run and caches its parsing with functools (per file,
text and cookie key), not st.cache_resource, so that this module and those using it need no Streamlit, and
any change of a user's roles counts from the next click (a modification time can stay the same across an edit).
"""
from __future__ import annotations

import hashlib
import logging
import math
import re
import secrets
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .access import User
from .config import ConfigError, Settings

log = logging.getLogger("usage_analytics")
# The key in the bundled auth.yaml. Anyone can read it, so anyone could sign a login cookie with it.
DEMO_COOKIE_KEY = "usage-analytics-demo-cookie-key-not-secret"
MIN_KEY_BYTES = 32
_BCRYPT = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")
BAD_LOGIN = "Username or password is incorrect."
MAX_EXPIRY_DAYS = 3650  # cookie.expiry_days above this (ten years) is surely a mistake

# Where streamlit-authenticator 0.4.2 reads or writes them: docs/decisions.md, "auth.yaml as the library writes it".
LIBRARY_KEYS = {
    "": {"credentials", "cookie", "oauth2", "pre-authorized", "pre_authorized", "api_key"},
    "cookie": {"name", "key", "expiry_days"},
    "credentials": {"usernames"},
    "user": {"email", "failed_login_attempts", "first_name", "last_name", "logged_in", "name", "password",
             "password_hint", "picture", "roles"},
}
# What the app reads (customer_id is the app's own key).
READ_KEYS = {
    "": {"credentials", "cookie"},
    "cookie": {"name", "key", "expiry_days"},
    "credentials": {"usernames"},
    "user": {"password", "name", "first_name", "last_name", "roles", "customer_id"},
}


@dataclass(frozen=True)
class AuthConfig:
    users: dict[str, User]  # by lower-case username
    hashes: dict[str, str]  # bcrypt hash by lower-case username
    cookie_name: str
    cookie_key: str
    dummy_hash: str  # checked for unknown usernames, at the cost most users' hashes have
    expiry_hours: float | None = None  # cookie.expiry_days × 24; None when absent or 0
    ignored: tuple[str, ...] = ()  # keys of streamlit-authenticator the app does not use, as dotted paths
    unknown: tuple[str, ...] = ()  # keys neither the library nor the app knows (a typo?)
    guests: int = 0  # users without a password (the library's OAuth2 guests): they cannot log in here

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


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def display_name(entry: dict, username: str) -> str:
    """first_name + last_name (either alone will do), else name, else the username: the library's order
    (_get_user_name), so a user keeps the name the library showed. Empty or null parts count as absent."""
    full = " ".join(part for part in (_text(entry.get("first_name")), _text(entry.get("last_name"))) if part)
    return full or _text(entry.get("name")) or username


def _expiry_hours(cookie: dict, source: str) -> float | None:
    """cookie.expiry_days in hours; None when absent, empty or 0 (the library's 'no re-login cookie')."""
    days = cookie.get("expiry_days")
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, (int, float)) or not math.isfinite(days) \
            or not 0 <= days <= MAX_EXPIRY_DAYS:
        raise ConfigError(f"{source}: cookie.expiry_days must be a number of days from 0 to {MAX_EXPIRY_DAYS}")
    return float(days) * 24 if days else None


def _unused(raw: dict, users: dict) -> tuple[list[str], list[str]]:
    """The keys the app does not read, as dotted paths (a user's keys as credentials.usernames.*.key):
    those streamlit-authenticator reads or writes, and those nobody knows."""
    ignored, unknown = set(), set()

    def sort(keys, level: str, prefix: str) -> None:
        for key in keys:
            key = str(key)
            if key not in READ_KEYS[level]:
                (ignored if key in LIBRARY_KEYS[level] else unknown).add(prefix + key)

    sort(raw, "", "")
    for level in ("cookie", "credentials"):
        if isinstance(raw.get(level), dict):
            sort(raw[level], level, f"{level}.")
    for entry in users.values():
        sort(entry, "user", "credentials.usernames.*.")
    return sorted(ignored), sorted(unknown)


def parse(text: str, source: str, cookie_key: str | None = None) -> AuthConfig:
    """Users and cookie settings from auth.yaml text; cookie_key (AUTH_COOKIE_KEY) overrides the file's.
    Keys the app does not read are accepted and listed in .ignored / .unknown."""
    import bcrypt

    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not valid YAML ({str(error).splitlines()[0]})") from None
    entries = (raw.get("credentials") or {}).get("usernames") if isinstance(raw, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise ConfigError(f"{source}: needs credentials.usernames with at least one user")
    users, hashes, entered, guests = {}, {}, {}, 0
    for username, entry in entries.items():
        where = f"{source}: user {username!r}"
        key = str(username).strip().lower()
        if key in entered:
            raise ConfigError(f"{where}: another user has the same name (usernames ignore case)")
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: needs a password")
        entered[key] = entry
        if "password" not in entry:
            if _text(entry.get("email")).lower() != key:
                raise ConfigError(f"{where}: needs a password")
            guests += 1  # the library's OAuth2 guest (named by its e-mail, no password): no login here
            continue
        if not isinstance(entry["password"], str) or not _BCRYPT.match(entry["password"]):
            raise ConfigError(f"{where}: password must be a bcrypt hash "
                              "(make one with: python -m usage_analytics hash-password)")
        customer_id = entry.get("customer_id")
        if customer_id is not None and not isinstance(customer_id, str):
            raise ConfigError(f"{where}: customer_id must be text")
        users[key] = User(str(username), display_name(entry, str(username)), _roles(entry.get("roles"), where),
                          customer_id or None)
        hashes[key] = entry["password"]
    if not users:
        raise ConfigError(f"{source}: needs credentials.usernames with at least one user who has a password")
    cookie = raw.get("cookie") or {}
    if not isinstance(cookie, dict):
        raise ConfigError(f"{source}: cookie must hold name and key")
    expiry_hours = _expiry_hours(cookie, source)
    key = cookie_key or cookie.get("key")
    if not key:
        raise ConfigError(f"{source}: no cookie key; set AUTH_COOKIE_KEY or cookie.key")
    ignored, unknown = _unused(raw, entered)
    if "expiry_days" in cookie and expiry_hours is None:  # present but 0 or empty: not a session length
        ignored = sorted([*ignored, "cookie.expiry_days"])
    cost = Counter(int(_BCRYPT.match(h).group(1)) for h in hashes.values()).most_common(1)[0][0]
    dummy = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(cost)).decode()
    return AuthConfig(users, hashes, str(cookie.get("name") or "usage_analytics_auth"), str(key), dummy,
                      expiry_hours, tuple(ignored), tuple(unknown), guests)


def session_hours(config: AuthConfig, settings: Settings) -> float:
    """How long a login lasts: AUTH_SESSION_HOURS when it is set, else auth.yaml's cookie.expiry_days in
    hours, else 8."""
    if settings.session_hours_set or config.expiry_hours is None:
        return settings.session_hours
    return config.expiry_hours


def unused_line(config: AuthConfig) -> str | None:
    """The one log line naming the keys of auth.yaml the app ignores (never their values), or None."""
    parts = []
    if config.ignored:
        parts.append("ignored streamlit-authenticator keys the app does not use: " + ", ".join(config.ignored))
    if config.unknown:
        parts.append("ignored keys unknown to the app and to streamlit-authenticator: " + ", ".join(config.unknown))
    if config.guests:
        parts.append(f"{config.guests} user(s) without a password (the library's OAuth2 guests) cannot log in")
    return "; ".join(parts) or None


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


_TOLD: set[str] = set()  # digests of the auth.yaml contents whose ignored keys the log has had


@lru_cache(maxsize=4)
def _load(path: str, text: str, cookie_key: str | None) -> AuthConfig:
    config = parse(text, path, cookie_key)
    digest = hashlib.sha256(f"{path}\0{text}".encode()).hexdigest()
    line = unused_line(config)
    if line and digest not in _TOLD:
        _TOLD.add(digest)
        log.warning("%s: %s", path, line)
    return config


def load(settings: Settings) -> AuthConfig:
    """auth.yaml as it is now (parsed again whenever its text changed); never written back."""
    path = Path(settings.auth_config)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"AUTH_CONFIG: {path} cannot be read") from None
    return _load(str(path), text, settings.auth_cookie_key)


def _password_matches(password: str, hashed: str) -> bool:
    from streamlit_authenticator.utilities.hasher import Hasher

    raw = password.encode()
    if len(raw) > 72:  # bcrypt's limit; checked anyway (on a cut copy) so the time is the same
        Hasher.check_pw(raw[:72].decode(errors="ignore"), hashed)
        return False
    return Hasher.check_pw(password, hashed)


def check(config: AuthConfig, username: str, password: str) -> User | None:
    """The user this lower-case username and password belong to, else None. Always one bcrypt check: an
    unknown username is checked against the dummy hash, so it takes as long as a known one."""
    stored = config.hashes.get(username)
    matches = _password_matches(password, stored or config.dummy_hash)
    return config.users[username] if stored is not None and matches else None
