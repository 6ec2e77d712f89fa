"""The append-only access log: who logged in, was refused, viewed what and downloaded what; and the
Streamlit-side helpers that write it (audit, audit_once) from the frame and the login."""
from __future__ import annotations

import logging
import re
import time
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import pandas as pd
import streamlit as st

from .access import Action, User, can
from .config import Settings
from . import state_db
from .state_db import StateStore, StateUnavailable

log = logging.getLogger("usage_analytics")

# The access log's event types, in the order the page offers them.
EVENTS = {
    "login": "logged in",
    "login_failed": "login refused",
    "logout": "logged out",
    "session_refused": "session cookie refused",
    "denied": "access denied",
    "page_view": "page viewed",
    "export": "file downloaded",
    "close": "month closed",
}

# Values the log refuses to hold, whatever a caller passes: a signed token (JWT), a bcrypt hash.
_SECRET_SHAPES = re.compile(r"eyJ[\w-]{8,}\.[\w-]+|\$2[aby]\$\d\d\$")


class AccessLog:
    """The log's entries in the state (SQLite or PostgreSQL); entries older than the store's retention_days are
    purged. On PostgreSQL every replica writes to the one log, and every reader sees the same order."""

    def __init__(self, db: StateStore):
        self.db = db
        self._purged_at = 0.0

    def record(self, event: str, username: str | None, client: str | None = None, page: str | None = None,
               customer: str | None = None, period: str | None = None, detail: str | None = None,
               now: float | None = None) -> None:
        if event not in EVENTS:
            raise ValueError(f"unknown access-log event {event!r}")
        values = (username, client, page, customer, period, detail)
        for value in values:
            if value is not None and _SECRET_SHAPES.search(str(value)):
                raise ValueError(f"refusing to write a secret-shaped value into the access log ({event})")
        now = time.time() if now is None else now
        with self.db.transaction() as db:
            db.execute("insert into audit (at, event, username, client, page, customer, period, detail) "
                       "values (?, ?, ?, ?, ?, ?, ?, ?)", (now, event, *values))
        if time.time() - self._purged_at > 3600:  # retention, at most hourly per process
            self.purge()

    def purge(self) -> int:
        """Delete access-log entries older than the retention time; returns how many."""
        self._purged_at = time.time()
        with self.db.transaction() as db:
            # (the database's clock, as its delete trigger has it: unixepoch() is SQLite's, and pg.py's schema's)
            return db.execute("delete from audit where at < unixepoch() - 86400 * ?",
                              (self.db.retention_days,)).rowcount

    def entries(self, since: datetime, until: datetime, users: list[str] | None = None,
                events: list[str] | None = None, text: str = "", limit: int = 5000,
                page_titles: dict[str, str] | None = None) -> tuple[pd.DataFrame, int]:
        """Access-log entries in [since, until), newest first, at most `limit`; and how many matched.
        `text` matches any of client, page, customer, period and detail, ignoring case, and the pages whose
        title (page_titles: page id -> title, as the page column is shown) holds it."""
        sql, params = _matching(since, until, users, events, text, page_titles)
        with self.db.reader() as db:
            total = db.execute("select count(*) from audit" + sql, params).fetchone()[0]
            columns = ["at", "event", "username", "client", "page", "customer", "period", "detail"]
            rows = db.execute(f"select {', '.join(columns)} from audit" + sql + " order by at desc, id desc limit ?",
                              [*params, limit]).fetchall()
        frame = pd.DataFrame.from_records(rows, columns=columns, coerce_float=True)  # (as pd.read_sql_query does)
        frame["at"] = pd.to_datetime(frame["at"], unit="s", utc=True)
        return frame, total

    def counts(self, since: datetime, until: datetime, users: list[str] | None = None,
               events: list[str] | None = None, text: str = "",
               page_titles: dict[str, str] | None = None) -> dict[str, int]:
        """Entries per event type in [since, until) that match the same filters as entries()."""
        sql, params = _matching(since, until, users, events, text, page_titles)
        with self.db.reader() as db:
            return dict(db.execute("select event, count(*) from audit" + sql + " group by event", params).fetchall())

    def usernames(self) -> list[str]:
        with self.db.reader() as db:
            return [r[0] for r in db.execute("select distinct username from audit where username is not null "
                                             "order by 1")]


def _matching(since: datetime, until: datetime, users: list[str] | None, events: list[str] | None, text: str,
              page_titles: dict[str, str] | None) -> tuple[str, list]:
    """The where clause (and its parameters) of the entries in [since, until) that match the page's filters."""
    where, params = ["at >= ?", "at < ?"], [since.timestamp(), until.timestamp()]
    if text.strip():
        searched = " || ' ' || ".join(f"coalesce({c}, '')" for c in ("client", "page", "customer", "period", "detail"))
        titled = [pid for pid, title in (page_titles or {}).items() if text.strip().lower() in title.lower()]
        where.append(f"(lower({searched}) like ? escape '!'"
                     + (f" or page in ({','.join('?' * len(titled))})" if titled else "") + ")")
        params.append("%" + re.sub(r"([!%_])", r"!\1", text.strip().lower()) + "%")
        params += titled
    if users:
        where.append(f"username in ({','.join('?' * len(users))})")
        params += users
    if events:
        where.append(f"event in ({','.join('?' * len(events))})")
        params += events
    return " where " + " and ".join(where), params


@lru_cache(maxsize=4)  # (not st.cache_resource: a browser's "clear caches" message would reach it)
def _for(state_dir: str, retention_days: float, database_url: str | None) -> AccessLog:
    return AccessLog(state_db.for_settings(Settings(state_dir=Path(state_dir), audit_retention_days=retention_days,
                                                    database_url=database_url)))


def for_settings(settings: Settings) -> AccessLog:
    """The process's access log in STATE_DIR/security.sqlite, or in PostgreSQL when DATABASE_URL is set (one
    per process: it purges at most hourly)."""
    return _for(str(settings.state_dir), settings.audit_retention_days, settings.database_url)


def for_user(settings: Settings, user: User) -> AccessLog:
    """The access log for reading, to a user the policy lets open it (PermissionError for anyone else)."""
    if not can(user, Action.OPEN_ACCESS_LOG):
        raise PermissionError("the access log is operator-only")
    return for_settings(settings)


def client_address() -> str:
    """The connection's address ('local' on localhost). Behind a proxy it is the proxy's (see README)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "local"  # (AppTest has no connection)


def audit(settings: Settings, event: str, user: User | None, **fields) -> None:
    """One access-log entry; a failure to write it is logged, never shown, and never stops the page."""
    try:
        typed = fields.pop("username", None)
        for_settings(settings).record(event, user.username if user else typed, client_address(), **fields)
    except StateUnavailable as error:  # one line, not a traceback per page view while the state is read-only
        log.error("could not write the access log (%s): %s", event, error)
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
