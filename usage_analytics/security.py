"""The app's own security state in one SQLite file under STATE_DIR: ended sessions, failed-login
throttling, and the append-only access log. No Streamlit here: auth.py and the pages call it.

SQLite, not DuckDB: several Streamlit processes (and the tests) write to it at once, and a DuckDB file
held open by one process locks every other writer out. Every call opens its own short connection, so
it is safe from Streamlit's script threads. Times are the real clock (epoch seconds), never
ANALYTICS_NOW: they say when someone did something, not which data they looked at.
"""
from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

FILE_NAME = "security.sqlite"

# The access log's event types, in the order the page offers them.
EVENTS = {
    "login": "logged in",
    "login_failed": "login refused",
    "logout": "logged out",
    "session_refused": "session cookie refused",
    "denied": "access denied",
    "page_view": "page viewed",
    "export": "file downloaded",
}

# Values the log refuses to hold, whatever a caller passes: a signed token (JWT), a bcrypt hash.
_SECRET_SHAPES = re.compile(r"eyJ[\w-]{8,}\.[\w-]+|\$2[aby]\$\d\d\$")

_SCHEMA = """
create table if not exists ended_sessions (
    session_id text primary key, username text not null, ended_at real not null, expires_at real not null);
create table if not exists failures (
    subject text primary key, count integer not null, last_at real not null);
create table if not exists audit (
    id integer primary key autoincrement, at real not null, event text not null, username text,
    client text, page text, customer text, period text, detail text);
create index if not exists audit_at on audit (at);
create table if not exists settings (key text primary key, value real not null);
-- The access log is append-only: no entry is ever changed, and only entries past retention are deleted.
create trigger if not exists audit_never_updated before update on audit
begin select raise(abort, 'the access log is append-only'); end;
create trigger if not exists audit_deleted_only_when_expired before delete on audit
when old.at >= cast(strftime('%s', 'now') as real)
              - 86400 * coalesce((select value from settings where key = 'retention_days'), 1e9)
begin select raise(abort, 'only access-log entries past their retention time may be deleted'); end;
"""


@dataclass(frozen=True)
class Throttle:
    """Growing delays instead of a lockout. After `free` failures within `window` seconds, the next
    try must wait base·2^(failures-free) seconds, at most `cap`; a success or a quiet window resets."""
    window: float = 900.0
    user_free: int = 3
    client_free: int = 10
    base: float = 2.0
    cap: float = 300.0

    def wait(self, failures: int, free: int) -> float:
        if failures < free:
            return 0.0
        return min(self.base * 2 ** (failures - free), self.cap, self.window)


def _subject(kind: str, value: str) -> str:
    """A throttle key: usernames as typed may hold a mistyped password, so only their hash is stored."""
    return f"{kind}:" + hashlib.sha256(value.encode()).hexdigest()


class SecurityState:
    def __init__(self, state_dir: Path, retention_days: float = 400.0, throttle: Throttle = Throttle()):
        self.path = Path(state_dir) / FILE_NAME
        self.retention_days = retention_days
        self.throttle = throttle
        self._purged_at = 0.0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.execute("pragma journal_mode=wal")  # readers never wait for a writer; kept in the file
            db.executescript(_SCHEMA)
        with self._connect() as db:
            db.execute("insert or replace into settings values ('retention_days', ?)", (retention_days,))

    @contextmanager
    def _connect(self):
        """One short transaction; 'begin immediate' so check-then-write steps cannot interleave."""
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
            db.execute("begin immediate")
            try:
                yield db
            except BaseException:
                db.execute("rollback")
                raise
            db.execute("commit")

    # -- sessions ---------------------------------------------------------------------------------
    def end_session(self, session_id: str, username: str, expires_at: float, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._connect() as db:
            db.execute("insert or ignore into ended_sessions values (?, ?, ?, ?)",
                       (session_id, username, now, expires_at))
            db.execute("delete from ended_sessions where expires_at < ?", (now - 60,))  # expired anyway

    def session_ended(self, session_id: str) -> bool:
        with self._connect() as db:
            return db.execute("select 1 from ended_sessions where session_id = ?", (session_id,)).fetchone() is not None

    # -- throttling -------------------------------------------------------------------------------
    def _subjects(self, username: str, client: str) -> tuple[tuple[str, int], ...]:
        return ((_subject("user", username), self.throttle.user_free),
                (_subject("client", client), self.throttle.client_free))

    def _wait(self, db: sqlite3.Connection, subjects, now: float) -> float:
        wait = 0.0
        for subject, free in subjects:
            row = db.execute("select count, last_at from failures where subject = ? and last_at >= ?",
                             (subject, now - self.throttle.window)).fetchone()
            penalty = self.throttle.wait(row[0], free) if row else 0.0
            if penalty > 0:  # (with no penalty due, a later last_at from a parallel try must not read as a wait)
                wait = max(wait, row[1] + penalty - now)
        return wait

    def begin_attempt(self, username: str, client: str, now: float | None = None) -> float:
        """Seconds to wait before this login attempt may be checked, or 0 after counting it as a failure
        until it succeeds. Counting first means parallel guesses cannot slip through together."""
        subjects = self._subjects(username, client)
        with self._connect() as db:
            now = time.time() if now is None else now  # read inside the lock: parallel tries are ordered
            db.execute("delete from failures where last_at < ?", (now - self.throttle.window,))
            wait = self._wait(db, subjects, now)
            if wait > 0:
                return wait
            for subject, _ in subjects:
                db.execute("insert into failures values (?, 1, ?) on conflict (subject) do update "
                           "set count = count + 1, last_at = excluded.last_at", (subject, now))
        return 0.0

    def wait_after_failure(self, username: str, client: str, now: float | None = None) -> float:
        """The wait the failures so far impose on the next try (for the message after a failure)."""
        now = time.time() if now is None else now
        with self._connect() as db:
            return self._wait(db, self._subjects(username, client), now)

    def succeeded(self, username: str, client: str) -> None:
        with self._connect() as db:
            db.execute("delete from failures where subject in (?, ?)",
                       tuple(subject for subject, _ in self._subjects(username, client)))

    # -- the access log ---------------------------------------------------------------------------
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
        with self._connect() as db:
            db.execute("insert into audit (at, event, username, client, page, customer, period, detail) "
                       "values (?, ?, ?, ?, ?, ?, ?, ?)", (now, event, *values))
        if time.time() - self._purged_at > 3600:  # retention, at most hourly per process
            self.purge()

    def purge(self) -> int:
        """Delete access-log entries older than the retention time; returns how many."""
        self._purged_at = time.time()
        with self._connect() as db:
            return db.execute("delete from audit where at < cast(strftime('%s', 'now') as real) - 86400 * ?",
                              (self.retention_days,)).rowcount

    def entries(self, since: datetime, until: datetime, users: list[str] | None = None,
                events: list[str] | None = None, text: str = "", limit: int = 5000) -> tuple[pd.DataFrame, int]:
        """Access-log entries in [since, until), newest first, at most `limit`; and how many matched.
        `text` matches any of client, page, customer, period and detail, ignoring case."""
        where, params = ["at >= ?", "at < ?"], [since.timestamp(), until.timestamp()]
        if text.strip():
            searched = " || ' ' || ".join(f"coalesce({c}, '')" for c in ("client", "page", "customer", "period", "detail"))
            where.append(f"lower({searched}) like ? escape '!'")
            params.append("%" + re.sub(r"([!%_])", r"!\1", text.strip().lower()) + "%")
        if users:
            where.append(f"username in ({','.join('?' * len(users))})")
            params += users
        if events:
            where.append(f"event in ({','.join('?' * len(events))})")
            params += events
        sql = " where " + " and ".join(where)
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            total = db.execute("select count(*) from audit" + sql, params).fetchone()[0]
            frame = pd.read_sql_query("select at, event, username, client, page, customer, period, detail "
                                      "from audit" + sql + " order by at desc, id desc limit ?", db,
                                      params=[*params, limit])
        frame["at"] = pd.to_datetime(frame["at"], unit="s", utc=True)
        return frame, total

    def counts(self, since: datetime, until: datetime) -> dict[str, int]:
        """Entries per event type in [since, until)."""
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            return dict(db.execute("select event, count(*) from audit where at >= ? and at < ? group by event",
                                   (since.timestamp(), until.timestamp())).fetchall())

    def usernames(self) -> list[str]:
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            return [r[0] for r in db.execute("select distinct username from audit where username is not null "
                                             "order by 1")]


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)
