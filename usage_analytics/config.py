"""Settings read from the environment (docs/product.md §9); nothing is read at import time."""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

from . import objects
from .coverage import DEFAULT_FRESH_HOURS
from .outlook import DEFAULT_LOW_DAYS, DEFAULT_STALL_DAYS
from .periods import EARLIEST, LATEST

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_MANIFEST = "sample.json"  # written by `sample-data`; marks a data folder as generated demo data


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


def parse_timestamp(text: str, what: str) -> datetime:
    """An ISO timestamp as an aware UTC datetime; a naive one means UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{what}: {text!r} is not an ISO timestamp such as 2026-11-24T12:00:00Z") from None
    value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if not EARLIEST <= value.date() <= LATEST:
        raise ConfigError(f"{what}: {text.strip()!r} is outside the supported range {EARLIEST} to {LATEST}")
    return value


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(
        default=PROJECT_ROOT / "data",
        metadata={"env": "USAGE_DATA_DIR", "help": "folder holding one sub-folder of parquet files per dataset, or "
                                                   "s3://bucket/prefix (with the standard AWS_* variables)"},
    )
    auth_config: Path = field(
        default=PROJECT_ROOT / "auth.yaml",
        metadata={"env": "AUTH_CONFIG", "help": "path of the auth.yaml with the users, roles and customer bindings"},
    )
    auth_cookie_key: str | None = field(
        default=None,
        metadata={"env": "AUTH_COOKIE_KEY", "help": "signing key of the login cookie; overrides the one in auth.yaml"},
    )
    analytics_now: datetime | None = field(
        default=None,
        metadata={"env": "ANALYTICS_NOW", "help": "ISO timestamp used as 'now'; the bundled sample pins its own"},
    )
    export_max_age_hours: float = field(
        default=DEFAULT_FRESH_HOURS,
        metadata={"env": "EXPORT_MAX_AGE_HOURS",
                  "help": "an export whose newest session or AI usage is older than this many hours is flagged stale"},
    )
    low_balance_days: float = field(
        default=DEFAULT_LOW_DAYS,
        metadata={"env": "LOW_BALANCE_DAYS", "help": "runway (days) under which a prepaid balance or an approved "
                                                   "trial counts as running out"},
    )
    onboarding_stall_days: float = field(
        default=DEFAULT_STALL_DAYS,
        metadata={"env": "ONBOARDING_STALL_DAYS", "help": "days in onboarding (since the account was created) after "
                                                        "which a customer joins the attention queue"},
    )
    state_dir: Path = field(
        default=PROJECT_ROOT / "state",
        metadata={"env": "STATE_DIR", "help": "folder for the app's own state: ended sessions, login throttling and "
                                              "the access log (security.sqlite)"},
    )
    close_dir: Path | None = field(
        default=None,
        metadata={"env": "CLOSE_DIR", "help": "folder or s3://bucket/prefix the month-close revisions are written to "
                                              "(append-only; in a bucket the manifest is written last); default: "
                                              "STATE_DIR/close"},
    )
    platform_name: str = field(
        default="Workspaces Platform",
        metadata={"env": "PLATFORM_NAME", "help": "the platform's name as the provider and invoice issuer of the "
                                                 "managed-AI charges in FOCUS files"},
    )
    demo_mode: bool = field(
        default=False,
        metadata={"env": "DEMO_MODE", "help": "1 lets the app run with the public demo cookie key or a key under "
                                              "32 bytes; never set it where real users log in"},
    )
    session_hours: float = field(
        default=8.0,
        metadata={"env": "AUTH_SESSION_HOURS", "help": "hours a login lasts before the user must log in again; "
                                                       "when unset: cookie.expiry_days of auth.yaml × 24, else 8"},
    )
    session_hours_set: bool = field(
        default=False,
        metadata={"help": "whether AUTH_SESSION_HOURS was set: it then wins over cookie.expiry_days of auth.yaml "
                          "(credentials.session_hours)"},
    )
    throttle_window_minutes: float = field(
        default=15.0,
        metadata={"env": "AUTH_THROTTLE_WINDOW_MINUTES",
                  "help": "failed logins older than this are forgotten, and the wait they caused with them"},
    )
    audit_retention_days: float = field(
        default=400.0,
        metadata={"env": "AUDIT_RETENTION_DAYS", "help": "days the access log keeps an entry"},
    )
    database_url: str | None = field(
        default=None, repr=False,  # (it may hold a password: never in a repr, a log line or a page; see masked_url)
        metadata={"env": "DATABASE_URL",
                  "help": "PostgreSQL (postgresql://user:password@host:5432/dbname) for the ended sessions, login "
                          "throttling, the access log and the month-close index, shared by every replica; "
                          "default: security.sqlite under STATE_DIR"},
    )
    now_source: str = field(
        default="clock",
        metadata={"help": "where 'now' comes from: ANALYTICS_NOW, the sample manifest, or the clock"},
    )

    @property
    def closes_dir(self) -> Path:
        """Where month-close revisions are kept: CLOSE_DIR, or a folder under STATE_DIR."""
        return self.close_dir or self.state_dir / "close"

    @property
    def store_dir(self) -> Path:
        """Where the checked exports are kept as DuckDB files (data.Store)."""
        return self.state_dir / "store"

    def now(self) -> datetime:
        """The instant every figure is evaluated at (aware, UTC)."""
        return self.analytics_now or datetime.now(timezone.utc)


def describe() -> list[tuple[str, str, str]]:
    """(variable, help, default) for every setting read from the environment."""
    return [
        (f.metadata["env"], f.metadata["help"], "—" if f.default is None else str(f.default))
        for f in fields(Settings)
        if "env" in f.metadata
    ]


def sample_now(data_dir: Path) -> datetime | None:
    """The 'now' a generated sample was made for, when data_dir (a folder or s3://…) holds one. A manifest that
    cannot be read (a bucket that cannot be reached, an unreadable file) raises OSError: the caller says so.
    A bucket's answer is kept by the process (a failure for RETRY_SECONDS), so a page run asks it at most once
    a minute: every run loads the settings."""
    where = objects.location(data_dir)
    if not isinstance(where, objects.ObjectPath):
        return _manifest_now(where / SAMPLE_MANIFEST)
    key = str(where)
    kept = _BUCKET_NOW.get(key)
    if kept is None or (isinstance(kept[1], OSError) and time.monotonic() - kept[0] > RETRY_SECONDS):
        try:
            kept = (time.monotonic(), _manifest_now(where / SAMPLE_MANIFEST))
        except OSError as error:
            kept = (time.monotonic(), error)
        _BUCKET_NOW[key] = kept
    if isinstance(kept[1], OSError):
        raise kept[1]
    return kept[1]


RETRY_SECONDS = 60.0
_BUCKET_NOW: dict[str, tuple[float, datetime | None | OSError]] = {}


def _manifest_now(manifest) -> datetime | None:
    if not manifest.is_file():
        return None
    try:
        return parse_timestamp(json.loads(manifest.read_text())["now"], str(manifest))
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"{manifest}: no usable 'now' ({error})") from None


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment; a sample data folder pins 'now' unless ANALYTICS_NOW is set."""
    env = os.environ if env is None else env
    data_dir = objects.location(env.get("USAGE_DATA_DIR") or Settings.data_dir)  # a Path, or an s3://… ObjectPath
    auth_config = Path(env.get("AUTH_CONFIG") or Settings.auth_config)
    cookie_key = env.get("AUTH_COOKIE_KEY") or None
    if env.get("ANALYTICS_NOW"):
        now, source = parse_timestamp(env["ANALYTICS_NOW"], "ANALYTICS_NOW"), "ANALYTICS_NOW"
    else:
        try:
            now = sample_now(data_dir)
            source = "sample" if now else "clock"
        except OSError as error:  # (the figures then say the exports cannot be read; 'now' says where it came from)
            why = getattr(error, "strerror", None) or type(error).__name__
            now, source = None, f"the clock ({SAMPLE_MANIFEST} could not be read: {why})"
    return Settings(
        data_dir=data_dir, auth_config=auth_config, auth_cookie_key=cookie_key, analytics_now=now,
        export_max_age_hours=_positive(env, "EXPORT_MAX_AGE_HOURS", "hours"),
        low_balance_days=_positive(env, "LOW_BALANCE_DAYS", "days"),
        onboarding_stall_days=_positive(env, "ONBOARDING_STALL_DAYS", "days"),
        state_dir=Path(env.get("STATE_DIR") or Settings.state_dir),
        close_dir=objects.location(env["CLOSE_DIR"]) if env.get("CLOSE_DIR") else None,
        platform_name=(env.get("PLATFORM_NAME") or "").strip() or Settings.platform_name,
        demo_mode=_flag(env, "DEMO_MODE"),
        session_hours=_positive(env, "AUTH_SESSION_HOURS", "hours"),
        session_hours_set=bool(env.get("AUTH_SESSION_HOURS")),
        throttle_window_minutes=_positive(env, "AUTH_THROTTLE_WINDOW_MINUTES", "minutes"),
        audit_retention_days=_positive(env, "AUDIT_RETENTION_DAYS", "days"),
        database_url=_database_url(env),
        now_source=source)


_ENV_FIELDS = {f.metadata["env"]: f for f in fields(Settings) if "env" in f.metadata}


def _positive(env: Mapping[str, str], name: str, unit: str) -> float:
    text = env.get(name) or str(_ENV_FIELDS[name].default)
    try:
        value = float(text)
        if not value > 0 or value == float("inf"):
            raise ValueError
    except ValueError:
        raise ConfigError(f"{name}: {text!r} is not a positive number of {unit}") from None
    return value


def _database_url(env: Mapping[str, str]) -> str | None:
    """DATABASE_URL, or None when unset. Its value is never echoed in an error: it may hold a password."""
    text = (env.get("DATABASE_URL") or "").strip()
    if not text:
        return None
    try:
        parts = urlsplit(text)
        parts.port  # (raises for a port that is not a number)
    except ValueError:
        raise ConfigError("DATABASE_URL: not a URL such as postgresql://user:password@host:5432/dbname") from None
    if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
        raise ConfigError("DATABASE_URL: not a PostgreSQL URL such as postgresql://user:password@host:5432/dbname "
                          "(it needs the postgresql:// scheme and a database name)")
    return text


def masked_url(url: str) -> str:
    """A database URL as it may be shown or logged: scheme, user, host, port and database name; the password is
    *** and the query (which may hold one too) is left out."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    login = f"{user}:***@" if parts.password is not None else f"{user}@" if user else ""
    return f"{parts.scheme}://{login}{host}{parts.path}"


def _flag(env: Mapping[str, str], name: str) -> bool:
    text = (env.get(name) or "").strip().lower()
    if text in ("", "0", "false", "no", "off"):
        return False
    if text in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}: {text!r} is neither 1 nor 0")
