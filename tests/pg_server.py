"""A throwaway PostgreSQL server for the tests: Debian's `postgresql` package (scripts/setup --tests installs it),
a cluster in a temporary folder on a free port of 127.0.0.1, started once per test run and stopped at its end;
and the `backend` fixture that runs a state test against the embedded SQLite file and against PostgreSQL.

    from pg_server import backend, postgres_url  # noqa: F401   (in a test module)

Nothing is skipped: a server that cannot be started fails the tests that need it, saying why. Each test on
PostgreSQL gets a database of its own (the access log and the month-close index refuse to be emptied, so no
test could clean up after itself), dropped when the test ends.

initdb refuses to run as root, so as root every server command runs as Debian's `postgres` user.
"""
from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import threading
from pathlib import Path

import psycopg
import pytest

from usage_analytics import pg, state_db

MISSING = "Debian's postgresql package is not installed (no /usr/lib/postgresql/*/bin/initdb): run scripts/setup --tests"


def _bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        raise RuntimeError(MISSING)
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One cluster in a temporary folder. start() and stop() may be called again (the fault tests stop the
    server under a running app and start it again on the same port)."""

    def __init__(self):
        self.bin = _bin()
        self.folder = Path(tempfile.mkdtemp(prefix="usage-analytics-pg-"))
        self.data, self.log = self.folder / "data", self.folder / "server.log"
        self.port = 0
        self.running = False
        self._names = itertools.count(1)
        self._as_postgres = os.geteuid() == 0  # initdb and the server refuse root
        if self._as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8",
                  "--locale=C")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}\n{log}")

    def start(self) -> None:
        if self.running:
            return
        for attempt in range(3):  # (a free port can be taken between the probe and the start)
            port = self.port or _free_port()
            options = (f"-p {port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
            except RuntimeError:
                if self.port or attempt == 2:
                    raise
                continue
            self.port, self.running = port, True
            return

    def stop(self) -> None:
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
            self.running = False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "usage") -> str:
        """A new, empty database; its URL."""
        name = f"{prefix}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'create database "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'drop database if exists "{url.rsplit("/", 1)[1]}" with (force)')

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


_SERVER: Server | None = None
_STARTING = threading.Lock()


def server() -> Server:
    """The test run's one server, started at its first use (every module that imports the fixtures shares it)."""
    global _SERVER
    with _STARTING:
        if _SERVER is None:
            made = Server()
            try:
                made.start()
            except BaseException:
                made.remove()
                raise
            with psycopg.connect(made.url(), autocommit=True) as admin:
                admin.execute("create database usage")
            _SERVER = made
            atexit.register(made.remove)  # (the fixture stops it first; this is for a run that ends otherwise)
        else:
            _SERVER.start()  # (a fault test that failed between its stop and its start: nothing when running)
        return _SERVER


@pytest.fixture(scope="session")
def postgres_url():
    """postgresql://postgres@127.0.0.1:PORT/usage of the throwaway server, stopped and removed after the run."""
    global _SERVER
    yield server().url("usage")
    if _SERVER is not None:
        _SERVER.remove()
        _SERVER = None


class Backend:
    """A state backend for one test: `open()` gives a new handle on the test's state, as another process (or,
    on PostgreSQL, another replica) would have; `env()` points the app there."""

    def __init__(self, name: str, tmp_path: Path, url: str | None):
        self.name, self.state_dir, self.url = name, tmp_path, url
        self._opened: list = []

    def __repr__(self) -> str:
        return self.name

    def open(self, retention_days: float = 400.0):
        if self.url is None:
            return state_db.StateDB(self.state_dir, retention_days)
        self._opened.append(pg.PostgresStateDB(self.url, retention_days))
        return self._opened[-1]

    def env(self, monkeypatch) -> None:
        monkeypatch.setenv("STATE_DIR", str(self.state_dir))
        if self.url is None:
            monkeypatch.delenv("DATABASE_URL", raising=False)
        else:
            monkeypatch.setenv("DATABASE_URL", self.url)

    @contextlib.contextmanager
    def raw(self):
        """A plain connection of the database's own driver, as anyone with access to it would have (autocommit)."""
        if self.url is None:
            with contextlib.closing(sqlite3.connect(self.state_dir / state_db.FILE_NAME, isolation_level=None)) as db:
                yield db
        else:
            with psycopg.connect(self.url, autocommit=True) as db:
                yield db

    @property
    def refusal(self) -> type[Exception]:
        """The database's own error for a statement a trigger refuses."""
        return sqlite3.DatabaseError if self.url is None else psycopg.errors.RestrictViolation

    def rows(self, sql: str) -> list[tuple]:
        with self.raw() as db:
            return [tuple(r) for r in db.execute(sql).fetchall()]

    def stored_text(self) -> bytes:
        """Everything the state holds, as bytes: the SQLite files, or every row of every table."""
        if self.url is None:
            return b"".join(p.read_bytes() for p in self.state_dir.glob(state_db.FILE_NAME + "*"))
        tables = [r[0] for r in self.rows("select tablename from pg_tables where schemaname = 'public'")]
        return "\n".join(repr(self.rows(f"select * from {t}")) for t in tables).encode()

    def close(self) -> None:
        for db in self._opened:
            db.close()
        if self.url is not None:
            pg.close_shared(self.url)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path):
    """The test's state on the embedded SQLite file, then on a fresh PostgreSQL database."""
    url = server().create_database() if request.param == "postgresql" else None
    if url is not None:
        request.getfixturevalue("postgres_url")  # (so the server is stopped at the end of the run)
    made = Backend(request.param, tmp_path, url)
    yield made
    made.close()
    if url is not None and _SERVER is not None and _SERVER.running:
        _SERVER.drop_database(url)
