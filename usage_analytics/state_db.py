"""The app's own state in one SQLite file, STATE_DIR/security.sqlite: the schema, and short connections to it.
The stores of ended sessions (sessions.py), failed logins (throttle.py) and the access log (access_log.py)
each take a StateDB and use only transaction() and reader(). No Streamlit here.

SQLite, not DuckDB: several Streamlit processes (and the tests) write to it at once, and a DuckDB file
held open by one process locks every other writer out. Every call opens its own short connection, so
it is safe from Streamlit's script threads. Times are the real clock (epoch seconds), never
ANALYTICS_NOW: they say when someone did something, not which data they looked at.
"""
from __future__ import annotations

import sqlite3
from contextlib import closing, contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

FILE_NAME = "security.sqlite"

_SCHEMA = """
create table if not exists ended_sessions (
    session_id text primary key, username text not null, ended_at real not null, expires_at real not null);
create table if not exists failures (
    subject text primary key, count integer not null, last_at real not null);
-- Login attempts whose password is being checked right now (one row per attempt and subject), see throttle.py.
create table if not exists attempts (
    ticket text not null, subject text not null, started_at real not null, primary key (ticket, subject));
create table if not exists audit (
    id integer primary key autoincrement, at real not null, event text not null, username text,
    client text, page text, customer text, period text, detail text);
create index if not exists audit_at on audit (at);
create table if not exists settings (key text primary key, value real not null);
-- The access log is append-only: no entry is ever changed, and only entries past retention are deleted.
create trigger if not exists audit_never_updated before update on audit
begin select raise(abort, 'the access log is append-only'); end;
-- The month-close index: one row per revision, never changed or removed (the files are append-only too).
create table if not exists month_closes (
    period text not null, revision integer not null, closed_at text not null, closed_by text not null,
    folder text not null, manifest_sha256 text not null, primary key (period, revision));
create trigger if not exists month_closes_never_updated before update on month_closes
begin select raise(abort, 'a month-close revision is never changed'); end;
create trigger if not exists month_closes_never_deleted before delete on month_closes
begin select raise(abort, 'a month-close revision is never removed'); end;
create trigger if not exists audit_deleted_only_when_expired before delete on audit
when old.at >= cast(strftime('%s', 'now') as real)
              - 86400 * coalesce((select value from settings where key = 'retention_days'), 1e9)
begin select raise(abort, 'only access-log entries past their retention time may be deleted'); end;
"""


class StateDB:
    """STATE_DIR/security.sqlite, created with its schema if missing; retention_days is the access log's,
    kept in the file so the delete trigger can enforce it."""

    def __init__(self, state_dir: Path, retention_days: float = 400.0):
        self.path = Path(state_dir) / FILE_NAME
        self.retention_days = retention_days
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # one clear line: which folder, and why (e.g. a read-only STATE_DIR)
            raise OSError(f"the state folder {self.path.parent} cannot be written ({error.strerror})") from None
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.execute("pragma journal_mode=wal")  # readers never wait for a writer; kept in the file
            db.executescript(_SCHEMA)
        with self.transaction() as db:
            db.execute("insert or replace into settings values ('retention_days', ?)", (retention_days,))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One short transaction; 'begin immediate' so check-then-write steps cannot interleave."""
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
            db.execute("begin immediate")
            try:
                yield db
            except BaseException:
                db.execute("rollback")
                raise
            db.execute("commit")

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        """A short connection for reading only: it takes no write lock."""
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            yield db



@lru_cache(maxsize=4)
def shared(state_dir: str, retention_days: float) -> StateDB:
    """The process's one handle on a state folder's security.sqlite, for the login's stores and the access
    log alike (its schema is checked once per process and folder)."""
    return StateDB(Path(state_dir), retention_days)
