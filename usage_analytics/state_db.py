"""The app's own state: ended sessions, failed logins, the access log and the month-close index. By default in
one SQLite file, STATE_DIR/security.sqlite (StateDB, here); with DATABASE_URL set, in PostgreSQL (pg.py). Both
are a StateStore: the stores of ended sessions (sessions.py), failed logins (throttle.py), the access log
(access_log.py) and the month-close index (revisions.py) each take one and use only transaction(), reader()
and exclusive(), with SQL both databases run. for_settings() picks the backend. No Streamlit here.

SQLite, not DuckDB: several Streamlit processes (and the tests) write to it at once, and a DuckDB file
held open by one process locks every other writer out. Every call opens its own short connection, so
it is safe from Streamlit's script threads. Times are the real clock (epoch seconds), never
ANALYTICS_NOW: they say when someone did something, not which data they looked at.

A state file that cannot be written (a read-only file or folder, a full or failing disk) or a STATE_DIR that
is not a folder is one StateUnavailable naming the file or folder and why, never a bare sqlite3 error. Reading
needs no write lock, so a read-only file can still be read. A handle whose schema could not be made keeps
trying at every write, so the state works again as soon as it can be written, without a restart.
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import closing, contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ContextManager, Iterator, Protocol

if TYPE_CHECKING:
    from .config import Settings

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


class StateUnavailable(OSError):
    """The state file or folder, or the state database, cannot be written (or read): one line naming it and why.
    An OSError, so the command line's one-line error covers it; `reason` is the why alone, for people who may
    not see the path. `where` is the file's or folder's path, or the database's URL without its password."""

    def __init__(self, what: str, where: Path | str, reason: str, verb: str = "written"):
        self.where, self.reason = where, reason
        super().__init__(f"the {what} {where} cannot be {verb} ({reason})")


class StateStore(Protocol):
    """What the stores use, on either backend. The connection handed out has execute(sql, params) and
    executemany(sql, rows) with `?` placeholders, returning a cursor (fetchone, fetchall, rowcount)."""

    dialect: str  # "sqlite" or "postgresql"
    retention_days: float  # the access log's, enforced by the database's own delete trigger

    def transaction(self) -> ContextManager[Any]:
        """One short write transaction, serialised with every other writer's; StateUnavailable when the state
        cannot be written."""

    def reader(self) -> ContextManager[Any]:
        """A connection for reading; StateUnavailable when the state cannot be read."""

    def check_writable(self) -> None:
        """StateUnavailable unless a write succeeds now."""

    def exclusive(self, name: str) -> ContextManager[None]:
        """One holder of `name` at a time, across every process that shares the state."""


def _unusable(error: BaseException) -> bool:
    """An error of the file, not of the statement: read-only, disk I/O, full, locked too long, not a database,
    missing table. (A trigger's abort is an IntegrityError: a refusal, not a broken state.)"""
    return isinstance(error, sqlite3.OperationalError) or type(error) is sqlite3.DatabaseError


class StateDB:
    """STATE_DIR/security.sqlite, created with its schema if missing; retention_days is the access log's,
    kept in the file so the delete trigger can enforce it. Raises StateUnavailable when STATE_DIR cannot be
    made a folder; a file that cannot be written is only found out (and said) by the first write."""

    dialect = "sqlite"

    def __init__(self, state_dir: Path, retention_days: float = 400.0):
        self.path = Path(state_dir) / FILE_NAME
        self.retention_days = retention_days
        self._lock = threading.Lock()
        self._ready = False  # the schema is made and the retention stored (by this handle, in this file)
        self._folder()
        try:
            self._prepare()
        except StateUnavailable:
            pass  # read-only: it may still be read; every write tries again

    def _folder(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # one clear line: which folder, and why (e.g. a read-only STATE_DIR)
            reason = "it is a file, not a folder" if isinstance(error, FileExistsError) else error.strerror
            raise StateUnavailable("state folder", self.path.parent, reason or str(error)) from None

    def _unavailable(self, error: BaseException, verb: str = "written") -> StateUnavailable:
        return StateUnavailable("state file", self.path, str(error) or type(error).__name__, verb)

    def _prepare(self) -> None:
        """The schema and the retention setting, made once per handle, and again after any failed write (the
        file may have been replaced, or have been read-only until now)."""
        with self._lock:
            if self._ready and self.path.exists():
                return
            self._ready = False
            self._folder()
            try:
                with closing(sqlite3.connect(self.path, timeout=30)) as db:
                    db.execute("pragma journal_mode=wal")  # readers never wait for a writer; kept in the file
                    db.executescript(_SCHEMA)
                    self._store_retention(db)
                    db.commit()
            except sqlite3.Error as error:
                raise self._unavailable(error) from None
            self._ready = True

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One short transaction; 'begin immediate' so check-then-write steps cannot interleave. StateUnavailable
        when the file cannot be written."""
        self._prepare()
        try:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("begin immediate")
        except sqlite3.Error as error:
            self._ready = False
            raise self._unavailable(error) from None
        with closing(db):
            try:
                yield db
                db.execute("commit")
            except BaseException as error:
                try:
                    db.execute("rollback")
                except sqlite3.Error:
                    pass  # (no transaction left to roll back, e.g. after a failed commit)
                if _unusable(error):
                    self._ready = False
                    raise self._unavailable(error) from None
                raise

    def check_writable(self) -> None:
        """StateUnavailable unless a write succeeds now: it writes the retention setting again. (SQLite finds a
        read-only file only at its first write, so nothing short of a write tells.)"""
        with self.transaction() as db:
            self._store_retention(db)

    def _store_retention(self, db) -> None:
        db.execute("insert into settings values ('retention_days', ?) "
                   "on conflict (key) do update set value = excluded.value", (self.retention_days,))

    def exclusive(self, name: str) -> ContextManager[None]:
        """Nothing to add: the one host's callers lock what they need with a file lock of their own (revisions.py)."""
        return nullcontext()

    def close(self) -> None:
        """Nothing to close: every call opens its own connection."""

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        """A short connection for reading only: it takes no write lock and never creates the file, so a
        read-only file (or folder) can be read. StateUnavailable when the file cannot be read."""
        try:
            self._prepare()  # (at once when the schema is made and the file still there)
        except StateUnavailable:
            pass  # a read-only file can still be read
        db = self._open_for_reading()
        with closing(db):
            try:
                yield db
            except sqlite3.Error as error:
                if _unusable(error):
                    raise self._unavailable(error, "read") from None
                raise

    def _open_for_reading(self) -> sqlite3.Connection:
        uri = self.path.absolute().as_uri()
        try:
            db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30)
            try:
                db.execute("select count(*) from sqlite_master").fetchone()
                return db
            except sqlite3.Error:
                db.close()
                if self.path.with_name(FILE_NAME + "-wal").exists():
                    raise
            # A read-only folder: SQLite cannot make the WAL index beside the file, so a normal read fails. With
            # no WAL file no one is writing, and the file alone is the whole database: read it as immutable.
            db = sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=30)
            db.execute("select count(*) from sqlite_master").fetchone()
            return db
        except sqlite3.Error as error:
            raise self._unavailable(error, "read") from None


@lru_cache(maxsize=4)
def shared(state_dir: str, retention_days: float) -> StateDB:
    """The process's one handle on a state folder's security.sqlite, for the login's stores and the access
    log alike (its schema is checked once per process and folder). A folder that cannot be made raises and is
    not kept, so the next call tries again; a kept handle whose file could not be written tries again at
    every write. Either way the state works again once it can be written, without a restart."""
    return StateDB(Path(state_dir), retention_days)


def for_settings(settings: Settings) -> StateStore:
    """The process's state for these settings: PostgreSQL when DATABASE_URL is set, else STATE_DIR/security.sqlite.
    (A PostgreSQL server that is down when the handle is made is said at its first use, which tries again.)"""
    if settings.database_url:
        from . import pg  # (psycopg only where it is used)

        return pg.shared(settings.database_url, settings.audit_retention_days)
    return shared(str(settings.state_dir), settings.audit_retention_days)
