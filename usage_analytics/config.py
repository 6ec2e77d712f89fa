"""Settings read from the environment (SPEC §5); nothing is read at import time."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

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
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(
        default=PROJECT_ROOT / "data",
        metadata={"env": "USAGE_DATA_DIR", "help": "folder holding one sub-folder of parquet files per dataset"},
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
        default=36.0,
        metadata={"env": "EXPORT_MAX_AGE_HOURS",
                  "help": "an export whose newest session or AI usage is older than this many hours is flagged stale"},
    )
    now_source: str = field(
        default="clock",
        metadata={"help": "where 'now' comes from: ANALYTICS_NOW, the sample manifest, or the clock"},
    )

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
    """The 'now' a generated sample was made for, when data_dir holds one."""
    manifest = data_dir / SAMPLE_MANIFEST
    if not manifest.is_file():
        return None
    try:
        return parse_timestamp(json.loads(manifest.read_text())["now"], str(manifest))
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"{manifest}: no usable 'now' ({error})") from None


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment; a sample data folder pins 'now' unless ANALYTICS_NOW is set."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("USAGE_DATA_DIR") or Settings.data_dir)
    auth_config = Path(env.get("AUTH_CONFIG") or Settings.auth_config)
    cookie_key = env.get("AUTH_COOKIE_KEY") or None
    if env.get("ANALYTICS_NOW"):
        now, source = parse_timestamp(env["ANALYTICS_NOW"], "ANALYTICS_NOW"), "ANALYTICS_NOW"
    else:
        now = sample_now(data_dir)
        source = "sample" if now else "clock"
    max_age = env.get("EXPORT_MAX_AGE_HOURS") or str(Settings.export_max_age_hours)
    try:
        hours = float(max_age)
        if not hours > 0:
            raise ValueError
    except ValueError:
        raise ConfigError(f"EXPORT_MAX_AGE_HOURS: {max_age!r} is not a positive number of hours") from None
    return Settings(data_dir, auth_config, cookie_key, now, hours, source)
