"""auth.yaml: the users, their bcrypt hashes and the cookie settings, the cookie-key policy, and the password check.

auth.yaml keeps streamlit-authenticator's format, and its Hasher (bcrypt) checks passwords; this is the
only module that imports the library (its session layer is not used, see login.py). An unknown username
costs one bcrypt check against a dummy hash, like a known one. The cookie key must be secret and long
unless DEMO_MODE is on. load() reads the file on every run and caches its parsing with functools (per file,
text and cookie key), not st.cache_resource, so that this module and those using it need no Streamlit, and
any change of a user's roles counts from the next click (a modification time can stay the same across an edit).
"""
from __future__ import annotations

import re
import secrets
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .access import User
from .config import ConfigError, Settings

# The key in the bundled auth.yaml. Anyone can read it, so anyone could sign a login cookie with it.
DEMO_COOKIE_KEY = "usage-analytics-demo-cookie-key-not-secret"
MIN_KEY_BYTES = 32
_BCRYPT = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")
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


@lru_cache(maxsize=4)
def _load(path: str, text: str, cookie_key: str | None) -> AuthConfig:
    return parse(text, path, cookie_key)


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
