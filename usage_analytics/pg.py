"""The app's own state in PostgreSQL, when DATABASE_URL is set: the same tables, the same rules and the same
interface as the embedded SQLite file (state_db.StateDB), so every replica sees every logout, every failed
login, every access-log entry and every month-close revision. No Streamlit here.

- **Driver and pool.** psycopg 3 and a small psycopg_pool pool (1 to 4 connections per process). Each
  connection is checked before it is used; a dead one (the server restarted, or stopped) makes the handle ask
  the server directly, once: a server that restarted costs no request, one that is down is said at once.
- **The same statements.** The stores write SQL that both databases run (`on conflict` upserts, `case`
  instead of SQLite's two-argument `max`, `unixepoch()`, which SQLite has and the schema below defines);
  only the placeholders differ, and the connection handed to them turns SQLite's `?` into psycopg's `%s`.
- **Schema.** Versioned migrations, recorded in schema_version and applied under a transaction-level advisory
  lock: two replicas starting at once apply each one once, and starting again is a no-op.
- **Rules in the database.** Triggers refuse to change an access-log entry or a month-close row, to remove a
  month-close row, to remove an access-log entry younger than the retention time (kept in `settings`, as in
  SQLite), and to truncate either table: whoever connects, not only this app.
- **Write transactions are serialised** by one transaction-level advisory lock, as SQLite's `begin immediate`
  serialises them in the file: the throttle's check-then-write steps cannot interleave across replicas.
- **A server that is down** (or refuses us) is one StateUnavailable naming the database without its password,
  and why. The handle then opens a new pool at its next use, after one direct connection has shown that the
  server answers again, so the state works again without a restart.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

import psycopg
from psycopg import errors
from psycopg_pool import ConnectionPool, PoolTimeout

from .config import masked_url
from .state_db import StateUnavailable

log = logging.getLogger("usage_analytics")

CONNECT_TIMEOUT = 5  # seconds to reach the server (libpq's connect_timeout)
POOL_WAIT = 5.0  # seconds a request waits for a connection of the pool before the state is unavailable
POOL_MIN, POOL_MAX = 1, 4
RETRY_AFTER = 1.0  # seconds for which a failed probe's answer stands (requests queued behind it do not each wait)


def _lock_key(name: str) -> int:
    """A stable advisory-lock key (a signed 64-bit integer) for a name."""
    return int.from_bytes(hashlib.sha256(f"usage_analytics:{name}".encode()).digest()[:8], "big", signed=True)


MIGRATION_LOCK = _lock_key("schema migration")
WRITE_LOCK = _lock_key("state write")

_REFUSED = "restrict_violation"  # SQLSTATE 23001: a trigger's refusal is an IntegrityError, as SQLite's abort is

# (version, what it does, the SQL). A migration is never edited once released: a change is a new version.
MIGRATIONS: list[tuple[int, str, str]] = [(1, "ended sessions, failed logins, the access log, the month-close index", f"""
create table ended_sessions (
    session_id text primary key, username text not null, ended_at double precision not null,
    expires_at double precision not null);
create table failures (
    subject text primary key, count integer not null, last_at double precision not null);
-- login attempts whose password is being checked right now (one row per attempt and subject), see throttle.py
create table attempts (
    ticket text not null, subject text not null, started_at double precision not null, primary key (ticket, subject));
create table audit (
    id bigint generated always as identity primary key, at double precision not null, event text not null,
    username text, client text, page text, customer text, period text, detail text);
create index audit_at on audit (at);
create table settings (key text primary key, value double precision not null);
create table month_closes (
    period text not null, revision integer not null, closed_at text not null, closed_by text not null,
    folder text not null, manifest_sha256 text not null, primary key (period, revision));

-- SQLite's unixepoch(): the seconds since 1970 now (the transaction's now), so both run the same statements
create function unixepoch() returns double precision language sql stable
    as $$ select extract(epoch from now())::double precision $$;

create function refuse() returns trigger language plpgsql as $$
begin
    raise exception using errcode = '{_REFUSED}', message = tg_argv[0];
end $$;
-- the access log is append-only: no entry is ever changed, and only entries past retention are deleted
create trigger audit_never_updated before update on audit
    for each row execute function refuse('the access log is append-only');
create trigger audit_never_truncated before truncate on audit
    for each statement execute function refuse('the access log is append-only');
create function audit_deleted_only_when_expired() returns trigger language plpgsql as $$
begin
    if old.at >= unixepoch()
                 - 86400 * coalesce((select value from settings where key = 'retention_days'), 1e9) then
        raise exception using errcode = '{_REFUSED}',
            message = 'only access-log entries past their retention time may be deleted';
    end if;
    return old;
end $$;
create trigger audit_deleted_only_when_expired before delete on audit
    for each row execute function audit_deleted_only_when_expired();
-- the month-close index: one row per revision, never changed or removed (the files are append-only too)
create trigger month_closes_never_updated before update on month_closes
    for each row execute function refuse('a month-close revision is never changed');
create trigger month_closes_never_deleted before delete on month_closes
    for each row execute function refuse('a month-close revision is never removed');
create trigger month_closes_never_truncated before truncate on month_closes
    for each statement execute function refuse('a month-close revision is never removed');
""")]
LATEST = MIGRATIONS[-1][0]


def schema_version(conn: psycopg.Connection) -> int:
    """The highest migration applied to this database (0 for none)."""
    if conn.execute("select to_regclass('schema_version')").fetchone()[0] is None:
        return 0
    return conn.execute("select coalesce(max(version), 0) from schema_version").fetchone()[0]


def migrate(conn: psycopg.Connection) -> int:
    """Apply the migrations this database lacks, each once, under the migration lock (another replica starting
    at the same moment waits, then finds nothing to do). Returns the version now in force. A database already
    at a version this code does not know (a newer replica migrated it) is left as it is: migrations only add."""
    if schema_version(conn) >= LATEST:
        return LATEST  # (the usual start: nothing to lock)
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute("create table if not exists schema_version (version integer primary key, "
                     "what text not null, applied_at timestamptz not null default now())")
        current = schema_version(conn)
        for version, what, sql in MIGRATIONS:
            if version > current:
                conn.execute(sql)
                conn.execute("insert into schema_version (version, what) values (%s, %s)", (version, what))
                log.info("state database: applied migration %d (%s)", version, what)
        return max(current, LATEST)


@lru_cache(maxsize=64)
def _placeholders(sql: str) -> str:
    """SQLite's `?` placeholders as psycopg's `%s` (and a literal % doubled). The stores' SQL holds no `?`
    inside a string literal."""
    return sql.replace("%", "%%").replace("?", "%s")


class Connection:
    """What a store is handed inside transaction() or reader(): execute() and executemany() with SQLite's
    `?` placeholders, returning a cursor (fetchone, fetchall, rowcount, iteration), as sqlite3's do."""

    def __init__(self, conn: psycopg.Connection):
        self._conn = conn

    def execute(self, sql: str, params=()) -> psycopg.Cursor:
        return self._conn.cursor().execute(_placeholders(sql), tuple(params))

    def executemany(self, sql: str, rows) -> psycopg.Cursor:
        cursor = self._conn.cursor()
        cursor.executemany(_placeholders(sql), [tuple(row) for row in rows])
        return cursor


def _unusable(error: BaseException) -> bool:
    """An error of the server or the connection, not of the statement: unreachable, shut down, a broken
    connection, no pool connection in time, a read-only server, a schema that went missing. (A trigger's
    refusal is an IntegrityError: a refusal, not a broken state.)"""
    return isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError, errors.UndefinedTable,
                              errors.UndefinedFunction, errors.InsufficientPrivilege, errors.ReadOnlySqlTransaction))


class PostgresStateDB:
    """The state in the PostgreSQL database of a URL (state_db.StateStore), its schema made or brought up to date
    on first use. Never raises when made: a server that is down is found out (and said) at the first use, and
    every later use tries again."""

    dialect = "postgresql"

    def __init__(self, url: str, retention_days: float = 400.0):
        self.url = url
        self.where = masked_url(url)
        self.retention_days = retention_days
        self._lock = threading.Lock()
        self._pool: ConnectionPool | None = None
        self._ready = False  # the server answered, the schema is current and the pool is open
        self._down: tuple[float, BaseException] | None = None  # when the last probe failed, and why
        try:
            self._ensure()
        except StateUnavailable:
            pass  # (said at the first use, which tries again)

    def __repr__(self) -> str:
        return f"PostgresStateDB({self.where!r})"

    def _unavailable(self, error: BaseException, verb: str = "written") -> StateUnavailable:
        return StateUnavailable("state database", self.where, self._reason(error), verb)

    def _reason(self, error: BaseException) -> str:
        """The error in one line, without the password (libpq never says it; this makes sure)."""
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        reason = lines[0] if lines else type(error).__name__
        password = psycopg.conninfo.conninfo_to_dict(self.url).get("password")
        return reason.replace(password, "***") if password else reason

    def _probe(self) -> None:
        """One direct connection: the server answers, its schema is brought up to date, the retention stored
        (psycopg's error when not)."""
        with psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
            migrate(conn)
            row = conn.execute("select value from settings where key = 'retention_days'").fetchone()
            if row is None or row[0] != self.retention_days:
                self._store_retention(Connection(conn))

    def _store_retention(self, db) -> None:
        db.execute("insert into settings values ('retention_days', ?) "
                   "on conflict (key) do update set value = excluded.value", (self.retention_days,))

    def _ensure(self, verb: str = "written") -> ConnectionPool:
        """The open pool; after a failure (or at first), a probe first and then a new pool."""
        with self._lock:
            if self._ready and self._pool is not None:
                return self._pool
            if self._down is not None and time.monotonic() - self._down[0] < RETRY_AFTER:
                raise self._unavailable(self._down[1], verb)
            try:
                self._probe()
            except psycopg.Error as error:
                self._down = time.monotonic(), error
                raise self._unavailable(error, verb) from None
            self._down = None
            self._pool = ConnectionPool(
                self.url, min_size=POOL_MIN, max_size=POOL_MAX, open=False, timeout=POOL_WAIT,
                kwargs={"connect_timeout": CONNECT_TIMEOUT},
                name="usage-analytics-state")
            self._pool.open(wait=False)
            self._ready = True
            return self._pool

    def _failed(self, error: BaseException, verb: str) -> StateUnavailable:
        """The state is unavailable: the pool is closed (its workers would keep trying to reconnect), and the
        next use probes the server and opens a new one."""
        with self._lock:
            pool, self._pool, self._ready = self._pool, None, False
        if pool is not None:  # (its connections in use are closed as they come back)
            threading.Thread(target=pool.close, kwargs={"timeout": 10}, daemon=True).start()
        if isinstance(error, PoolTimeout):  # the pool's own line says nothing of the server: ask it directly
            try:
                with psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT):
                    pass
            except psycopg.Error as direct:
                error = direct
            else:
                error = PoolTimeout(f"no connection of the pool was free within {POOL_WAIT:g} s")
        return self._unavailable(error, verb)

    def _checked(self, verb: str) -> tuple[ConnectionPool, psycopg.Connection]:
        """A connection of the pool that answers. A dead one is given back (the pool drops it), the pool is
        closed, and the next try asks the server directly: down, StateUnavailable at once (not after the pool's
        wait); back, a new pool. (The pool's own check would wait for a live connection until its timeout.)"""
        for last in (False, True):
            pool = self._ensure(verb)
            try:
                conn = pool.getconn()
            except psycopg.Error as error:
                raise self._failed(error, verb) from None
            try:
                conn.execute("select 1")
                return pool, conn
            except psycopg.Error as error:
                pool.putconn(conn)
                failure = self._failed(error, verb)
                if last:
                    raise failure from None
        raise AssertionError("unreachable")

    @contextmanager
    def _connection(self, verb: str) -> Iterator[psycopg.Connection]:
        pool, conn = self._checked(verb)
        try:
            with conn:  # commits at the end, rolls back on an error (a pool's connection stays open)
                yield conn
        except psycopg.Error as error:
            if _unusable(error):
                raise self._failed(error, verb) from None
            raise
        finally:
            pool.putconn(conn)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One short write transaction, serialised with every other replica's (the write lock), so check-then-
        write steps cannot interleave. StateUnavailable when the database cannot be written."""
        with self._connection("written") as conn:
            conn.execute("select pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield Connection(conn)

    @contextmanager
    def reader(self) -> Iterator[Connection]:
        """A connection for reading only. StateUnavailable when the database cannot be read."""
        with self._connection("read") as conn:
            yield Connection(conn)

    def check_writable(self) -> None:
        """StateUnavailable unless a write succeeds now (it writes the retention setting again)."""
        with self.transaction() as db:
            self._store_retention(db)

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """One holder of `name` at a time across every replica (a session-level advisory lock on a connection
        of its own, released when the block ends, or by the server if this process dies)."""
        self._ensure()
        try:
            conn = psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT, autocommit=True)
        except psycopg.Error as error:
            raise self._failed(error, "written") from None
        with conn:
            try:
                conn.execute("select pg_advisory_lock(%s)", (_lock_key(name),))
            except psycopg.Error as error:
                raise self._failed(error, "written") from None
            yield
            if not conn.closed:
                try:
                    conn.execute("select pg_advisory_unlock(%s)", (_lock_key(name),))
                except psycopg.Error:
                    pass  # (a lost connection released it)

    def close(self) -> None:
        """Close the pool (a later use opens a new one)."""
        with self._lock:
            pool, self._pool, self._ready = self._pool, None, False
        if pool is not None:
            pool.close()


_SHARED: dict[tuple[str, float], PostgresStateDB] = {}
_SHARED_LOCK = threading.Lock()


def shared(url: str, retention_days: float) -> PostgresStateDB:
    """The process's one handle (and pool) on a database, for the login's stores, the access log and the
    month-close index alike."""
    with _SHARED_LOCK:
        if (url, retention_days) not in _SHARED:
            _SHARED[url, retention_days] = PostgresStateDB(url, retention_days)
        return _SHARED[url, retention_days]


def close_shared(url: str | None = None) -> None:
    """Close the shared handles (of one URL): their pools' connections and threads end."""
    with _SHARED_LOCK:
        closing = [key for key in _SHARED if url is None or key[0] == url]
        handles = [_SHARED.pop(key) for key in closing]
    for handle in handles:
        handle.close()
