"""The security state and the month-close index on both backends (issue 18): the embedded SQLite file and
PostgreSQL (a throwaway server, tests/pg_server.py). Two handles on one state are two processes on one host
(SQLite) or two replicas (PostgreSQL): what one records, the other sees. The database itself refuses to change
the access log or the month-close index. PostgreSQL only: its schema migration, run by replicas starting at
once, and a server stopped under the app."""
import threading
import time
from datetime import datetime, timezone

import psycopg
import pytest

from pg_server import backend, postgres_url, server  # noqa: F401
from test_security import PASSWORD, T0, demo  # noqa: F401
from usage_analytics import config, pg, sessions, state_db, throttle
from usage_analytics.access_log import AccessLog
from usage_analytics.revisions import Revisions
from usage_analytics.sessions import EndedSessions
from usage_analytics.state_db import StateUnavailable
from usage_analytics.throttle import FailedLogins, Throttle


def _together(*calls) -> list:
    """Each call on its own thread, released at the same moment; their results (or errors) in order."""
    results, start = [None] * len(calls), threading.Barrier(len(calls))

    def run(i):
        start.wait()
        try:
            results[i] = calls[i]()
        except Exception as error:  # (the test says what it expected)
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


# -- one state, two handles ---------------------------------------------------------------------------
def test_a_logout_through_one_replica_refuses_the_cookie_on_the_other(demo, backend):
    one, other = EndedSessions(backend.open()), EndedSessions(backend.open())
    session = sessions.issue(demo, "ops", 8)
    assert sessions.read(demo, session.token, other) == (session, "")
    one.end_session(session.session_id, "ops", session.expires_at)
    assert sessions.read(demo, session.token, other) == (None, "ended by a logout")  # its next request
    one.end_session(session.session_id, "ops", session.expires_at)  # (a second logout of it changes nothing)
    assert backend.rows("select count(*) from ended_sessions") == [(1,)]


def test_failed_logins_through_both_replicas_count_as_one(demo, backend):
    rules = Throttle(window=900, user_free=3, client_free=10, base=2, cap=300)
    one, other = FailedLogins(backend.open(), rules), FailedLogins(backend.open(), rules)
    waits = [throttle.attempt(demo, guard, "ops", "wrong", f"10.0.0.{i}", now=T0 + i).wait
             for i, guard in enumerate([one, other, one])]
    assert waits == [0, 0, 2.0]  # the third failure, on either replica, imposes the wait
    assert throttle.attempt(demo, other, "ops", PASSWORD["ops"], "10.0.0.9", now=T0 + 3).throttled
    assert throttle.attempt(demo, one, "ops", PASSWORD["ops"], "10.0.0.9", now=T0 + 4.5).user.username == "ops"
    assert backend.rows("select count(*) from failures where subject like 'user:%'") == [(0,)]  # reset everywhere


def test_parallel_guesses_through_two_replicas_cannot_slip_past_the_count(demo, backend):
    rules = Throttle(user_free=3, client_free=100)
    guards = [FailedLogins(backend.open(), rules) for _ in range(2)]
    results = _together(*[lambda i=i: throttle.attempt(demo, guards[i % 2], "ops", f"guess{i}", f"10.0.1.{i}")
                          for i in range(8)])
    assert sum(not r.throttled for r in results) == 3, results  # 3 checked, 5 refused unchecked


def test_the_access_log_holds_both_replicas_entries_in_one_order(backend):
    one, other = AccessLog(backend.open()), AccessLog(backend.open())
    for i in range(6):
        (one if i % 2 else other).record("page_view", f"user{i}", page="overview", now=T0)  # the same instant
    since, until = datetime.fromtimestamp(T0 - 1, timezone.utc), datetime.fromtimestamp(T0 + 1, timezone.utc)
    seen = [log.entries(since, until) for log in (one, other)]
    assert [total for _, total in seen] == [6, 6]
    assert list(seen[0][0]["username"]) == list(seen[1][0]["username"]) == [f"user{i}" for i in reversed(range(6))]
    assert one.usernames() == other.usernames() == [f"user{i}" for i in range(6)]


def test_two_replicas_closing_the_same_month_at_once_make_exactly_one_revision(backend, tmp_path):
    # PostgreSQL: each replica writes its own folder, so only the database's lock can keep them apart. SQLite
    # lives on one host with one CLOSE_DIR: its file lock does.
    folders = [tmp_path / "close"] * 2 if backend.name == "sqlite" else [tmp_path / "close-a", tmp_path / "close-b"]
    replicas = [Revisions(folder, backend.open()) for folder in folders]
    made = []

    def make(latest, number):
        made.append(number)
        time.sleep(0.3)  # (a close takes a while: long enough for the other to try at the same time)
        if latest is not None:
            return None
        return {"packs/cus_a.json": b"{}"}, {"period": "2026-03", "revision": number,
                                            "closed_at": "2026-04-02T12:00:00Z", "closed_by": "cli"}

    results = _together(*[lambda r=r: r.record("2026-03", make) for r in replicas])
    assert sorted(new for _, new in results) == [False, True], results
    assert {revision.revision for revision, _ in results} == {1} and made == [1, 2]
    assert [r.revision for r in replicas[0].all()] == [r.revision for r in replicas[1].all()] == [1]
    assert len({p for folder in set(folders) for p in folder.glob("2026-03/revision-*")}) == 1


# -- the database's own rules -------------------------------------------------------------------------
def test_the_database_refuses_to_change_the_access_log_or_the_month_close_index(backend):
    log = AccessLog(backend.open(retention_days=30))
    log.record("login", "ops", now=time.time() - 29 * 86400)  # (the first entry of a process purges)
    log.record("login", "ops", now=time.time() - 31 * 86400)
    Revisions(backend.state_dir / "close", log.db)._index(_revision())
    with backend.raw() as db:  # anyone with the database's driver, not only this app
        for statement, says in [("update audit set username = 'someone else'", "append-only"),
                                ("delete from audit", "past their retention"),
                                ("update month_closes set closed_by = 'someone else'", "never changed"),
                                ("delete from month_closes", "never removed")]:
            with pytest.raises(backend.refusal, match=says):
                db.execute(statement)
        if backend.name == "postgresql":  # (SQLite has no truncate)
            for table in ("audit", "month_closes"):
                with pytest.raises(backend.refusal):
                    db.execute(f"truncate {table}")
        assert db.execute("select count(*) from audit").fetchone()[0] == 2
    assert log.purge() == 1  # the 31-day-old entry only: the trigger lets that one go
    assert backend.rows("select count(*) from audit") == [(1,)]


def _revision():
    from pathlib import Path

    from usage_analytics.revisions import Revision

    return Revision("2026-03", 1, "2026-04-02T12:00:00Z", "cli", Path("/nowhere"), "0" * 64)


# -- PostgreSQL only ----------------------------------------------------------------------------------
def test_the_schema_migration_is_idempotent_and_safe_when_replicas_start_at_once(postgres_url):
    url = server().create_database()
    try:
        handles = _together(*[lambda: pg.PostgresStateDB(url) for _ in range(6)])  # six replicas start at once
        assert all(isinstance(h, pg.PostgresStateDB) for h in handles), handles
        with psycopg.connect(url, autocommit=True) as db:
            applied = db.execute("select version from schema_version order by version").fetchall()
            assert applied == [(version,) for version, _, _ in pg.MIGRATIONS]
            assert _together(*[lambda: pg.migrate(psycopg.connect(url, autocommit=True)) for _ in range(3)]) == \
                [pg.LATEST] * 3  # again: nothing to do
            assert db.execute("select count(*) from schema_version").fetchone()[0] == len(pg.MIGRATIONS)
            assert {r[0] for r in db.execute("select tablename from pg_tables where schemaname = 'public'")} == {
                "schema_version", "ended_sessions", "failures", "attempts", "audit", "settings", "month_closes"}
        for handle in handles:
            EndedSessions(handle).end_session(f"sid-{id(handle)}", "ops", time.time() + 60)
            handle.close()
    finally:
        server().drop_database(url)


def test_a_stopped_server_is_one_line_without_the_password_and_the_state_works_again_when_it_returns(
        demo, postgres_url):
    url = server().create_database()
    port, name = server().port, url.rsplit("/", 1)[1]
    with_password = url.replace("postgres@", "postgres:s3cret-pw@")  # (trust auth: any password works)
    db = pg.PostgresStateDB(with_password)
    ended, logins, log = EndedSessions(db), FailedLogins(db), AccessLog(db)
    try:
        ended.end_session("before", "ops", time.time() + 600)
        server().stop()
        try:
            where = f"postgresql://postgres:***@127.0.0.1:{port}/{name}"
            refused = f'(connection failed: connection to server at "127.0.0.1", port {port} failed: Connection refused)'
            for call, verb in [(lambda: ended.session_ended("before"), "read"),
                               (lambda: ended.end_session("during", "ops", time.time() + 600), "written"),
                               (lambda: throttle.attempt(demo, logins, "ops", PASSWORD["ops"], "10.0.0.1"), "written"),
                               (lambda: log.record("login", "ops"), "written"),
                               (db.check_writable, "written")]:
                started = time.monotonic()
                with pytest.raises(StateUnavailable) as caught:
                    call()
                assert str(caught.value) == f"the state database {where} cannot be {verb} {refused}"
                assert "s3cret-pw" not in str(caught.value) and "\n" not in str(caught.value)
                assert time.monotonic() - started < 3  # at once, not after a pool's timeout
        finally:
            server().start()
        time.sleep(pg.RETRY_AFTER)  # (the last failed probe's answer stands this long)
        assert ended.session_ended("before")  # the same handle, no restart
        ended.end_session("after", "ops", time.time() + 600)
        assert throttle.attempt(demo, logins, "ops", PASSWORD["ops"], "10.0.0.1").user.username == "ops"
        log.record("login", "ops")
        replica = pg.PostgresStateDB(url)
        assert EndedSessions(replica).session_ended("after")
        replica.close()
    finally:
        db.close()
        server().drop_database(url)


def test_a_server_that_restarts_between_requests_costs_no_request(postgres_url):
    url = server().create_database()
    db = pg.PostgresStateDB(url)
    try:
        EndedSessions(db).end_session("a", "ops", time.time() + 600)
        server().stop()
        server().start()  # the pool's connection is dead now: it is checked before use, and replaced
        assert EndedSessions(db).session_ended("a")
    finally:
        db.close()
        server().drop_database(url)


def test_database_url_picks_postgresql_and_is_never_shown_with_its_password(tmp_path, postgres_url):
    url = server().create_database()
    try:
        secret = url.replace("postgres@", "postgres:hunter2@")
        settings = config.load({"DATABASE_URL": secret, "STATE_DIR": str(tmp_path)})
        assert settings.database_url == secret and "hunter2" not in repr(settings)
        chosen = state_db.for_settings(settings)
        assert isinstance(chosen, pg.PostgresStateDB) and chosen is state_db.for_settings(settings)
        assert chosen.where == config.masked_url(secret) == url.replace("postgres@", "postgres:***@")
        assert isinstance(state_db.for_settings(config.load({"STATE_DIR": str(tmp_path)})), state_db.StateDB)
        pg.close_shared(secret)
    finally:
        server().drop_database(url)


@pytest.mark.parametrize("value, says", [
    ("mysql://user:hunter2@db/usage", "not a PostgreSQL URL"),
    ("postgresql://user:hunter2@db:port/usage", "not a URL"),
    ("postgresql://user:hunter2@db", "not a PostgreSQL URL"),  # no database name
    ("host=db password=hunter2", "not a PostgreSQL URL"),
])
def test_a_bad_database_url_names_the_variable_and_never_its_password(value, says):
    with pytest.raises(config.ConfigError) as caught:
        config.load({"DATABASE_URL": value})
    assert str(caught.value).startswith(f"DATABASE_URL: {says}") and "hunter2" not in str(caught.value)


def test_masked_url_keeps_where_and_drops_every_password():
    assert config.masked_url("postgresql://app:pw@db.internal:5433/usage?sslmode=require&password=pw") == \
        "postgresql://app:***@db.internal:5433/usage"
    assert config.masked_url("postgres://db/usage") == "postgres://db/usage"
