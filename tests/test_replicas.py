"""Two `streamlit run app.py` replicas on two ports sharing one PostgreSQL database (DATABASE_URL) and one S3
bucket (USAGE_DATA_DIR=s3://…, moto in server mode), each with its own STATE_DIR (its own store file) and the
same AUTH_COOKIE_KEY, as deploy/ runs them behind a load balancer (issue 18). Nothing is mocked: the tests talk
to the two servers as browsers do.

- a logout on A refuses A's cookie replayed on B (a fresh Chromium context holding only that cookie);
- failed logins alternating between A and B throttle as one count;
- the access log holds both replicas' entries, and both replicas' Access log pages list them in one order;
- both replicas show the same figures, element for element;
- a bounded load test: LOAD_SESSIONS sessions spread over both replicas for LOAD_SECONDS, each logging in and
  opening pages: zero errors, no access-log entry lost, each replica's peak memory reported;
- faults under both running replicas: PostgreSQL stopped (one "sign-in is unavailable" line on each, no
  traceback, both recover without a restart) and the bucket's endpoint stopped (each keeps serving its last
  store, with the same figures and a stale-data warning).

The browser-level checks use Debian's Chromium. The load test's sessions speak Streamlit's own WebSocket
protocol (the protobuf BackMsg/ForwardMsg messages its JavaScript exchanges with the server: a rerun request
carrying the form's widget values or the page to open, answered by the run's elements): a real session on the
server each, logging in through the login form and opening pages, at a fraction of a browser's cost on two
shared cores.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import random
import secrets
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from browser import PASSWORDS, ROOT, login, serve, settle
from pg_server import postgres_url, server  # noqa: F401
from s3_server import Endpoint, free_port, upload
from usage_analytics import access, pg
from usage_analytics.access_log import EVENTS
from usage_analytics.credentials import BAD_LOGIN

ARTIFACTS = ROOT / "tests" / "artifacts"
SAMPLE = ROOT / "data"
COOKIE = "usage_analytics_auth"
UNAVAILABLE = "Sign-in is unavailable: the app cannot record sign-ins and logouts right now. Please try again later."
THROTTLED = "Too many failed logins for this username or from this network address."

LOAD_SECONDS = 120  # the two minutes
LOAD_SESSIONS = 50
LOAD_USERS = ("ops", "finance", "acme_admin", "northwind_admin")
LOAD_RAMP = 10.0  # the first seconds of it, over which the sessions connect and log in (not 50 bcrypt checks at once)
LOAD_THINK = (1.0, 3.0)  # seconds a session waits between two pages, as a reader does
RUN_TIMEOUT = 120.0  # the longest one page may take under the load before it counts as an error
PEAK_MEMORY_LIMIT_MIB = 1536


# -- the replicas ------------------------------------------------------------------------------------------
@dataclass
class Replica:
    name: str
    url: str
    pid: int

    def peak_mib(self) -> float:
        """The process's peak resident memory (VmHWM) so far, in MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise AssertionError(f"no VmHWM for {self.pid}")


def _pid_of(url: str) -> int:
    """The `streamlit run app.py` process listening on url's port (serve() does not hand its process out)."""
    port = url.rsplit(":", 1)[1]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in args and b"app.py" in args and b"--server.port" in args and \
                args[args.index(b"--server.port") + 1] == port.encode():
            return int(entry.name)
    raise AssertionError(f"no streamlit process on port {port}")


@dataclass
class Deployment:
    a: Replica
    b: Replica
    database_url: str
    exports: str  # s3://bucket/prefix
    endpoint: Endpoint
    logs: list[Path] = field(default_factory=list)

    @property
    def both(self) -> tuple[Replica, Replica]:
        return self.a, self.b

    def rows(self, sql: str, *args) -> list[tuple]:
        with psycopg.connect(self.database_url, autocommit=True) as db:
            return db.execute(sql, args).fetchall()


@pytest.fixture(scope="module")
def deployment(postgres_url, tmp_path_factory):  # noqa: F811
    """Replicas A and B: one database, one bucket (the sample's exports uploaded to it), a STATE_DIR each."""
    ARTIFACTS.mkdir(exist_ok=True)
    folder = tmp_path_factory.mktemp("replicas")
    database = server().create_database("replicas")
    endpoint = Endpoint(free_port())  # the module's own: the fault test stops it (moto then forgets the objects)
    endpoint.start()
    try:
        exports = upload(endpoint, SAMPLE, "replica-exports", "usage")
        endpoint.client().create_bucket(Bucket="replica-closes")
        common = {**endpoint.env(), "DATABASE_URL": database, "USAGE_DATA_DIR": exports,
                  "CLOSE_DIR": "s3://replica-closes/closes", "AUTH_COOKIE_KEY": secrets.token_urlsafe(48),
                  "DEMO_MODE": "0"}
        logs = [ARTIFACTS / f"server-replica-{name}.log" for name in "ab"]
        with serve({**common, "STATE_DIR": str(folder / "a")}, log=logs[0]) as a, \
                serve({**common, "STATE_DIR": str(folder / "b")}, log=logs[1]) as b:
            found = Deployment(Replica("A", a, _pid_of(a)), Replica("B", b, _pid_of(b)), database, exports, endpoint,
                               logs)
            # each replica builds its own store from the bucket at its first login: done here, not in a test
            for run in _sync(_together(*(_logged_in(replica.url, "ops") for replica in found.both))):
                assert run.h1 == ["Overview"] and not run.problems(), run.problems()
            assert all((folder / name / "store").is_dir() for name in "ab")
            yield found
    finally:
        endpoint.stop()
        server().drop_database(database)


# -- Streamlit's WebSocket protocol, as the browser speaks it -----------------------------------------------
@dataclass
class Run:
    """One finished script run as the session received it: its elements, in order."""
    elements: list[tuple[str, object]] = field(default_factory=list)

    def of(self, kind: str) -> list:
        return [element for k, element in self.elements if k == kind]

    @property
    def h1(self) -> list[str]:
        return [h.body for h in self.of("heading") if h.tag == "h1"]

    def alerts(self) -> list[str]:
        return [a.body for a in self.of("alert")]

    def tables(self) -> list[pa.Table]:
        return [pa.ipc.open_stream(d.arrow_data.data).read_all() for d in self.of("dataframe")]

    def problems(self) -> list[str]:
        """What a user would see as an error: an exception element, a traceback, the frame's own error lines."""
        found = [f"exception: {e.type}: {e.message}" for e in self.of("exception")]
        for kind, element in self.elements:
            if kind != "dataframe" and "Traceback" in str(element):
                found.append(f"traceback in a {kind}")
        found += [f"error: {a}" for a in self.alerts()
                  if "Something went wrong" in a or "cannot be shown" in a or "misconfigured" in a]
        return found

    def comparable(self) -> list[str]:
        """Every element, but the cookie-setting script (its token is the session's own) and a download's file
        id (made up per session; the file's bytes are made from the figures shown)."""
        found = []
        for kind, element in self.elements:
            if kind == "download_button":
                element = type(element).FromString(element.SerializeToString())
                element.ClearField("deferred_file_id")
                element.ClearField("url")
            if kind != "html":
                found.append(f"{kind}: {element}")
        return found


class Session:
    """One session of one replica over /_stcore/stream: each request is a rerun (the form's values, or the page
    to open), answered by the run's ForwardMsgs up to its 'finished successfully'."""

    def __init__(self, url: str):
        self.url = url
        self.page_hash = ""
        self.pages: dict[str, str] = {}  # navigation: page name -> its script hash
        self.current = ""

    async def __aenter__(self) -> Session:
        self.socket = await websockets.connect(self.url.replace("http://", "ws://") + "/_stcore/stream",
                                               subprotocols=["streamlit"], max_size=None, open_timeout=60)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.socket.close()

    async def rerun(self, widgets: list[WidgetState] = (), page_hash: str | None = None,
                    timeout: float = RUN_TIMEOUT) -> Run:
        message = BackMsg()
        state = message.rerun_script
        state.page_script_hash = self.page_hash if page_hash is None else page_hash
        state.context_info.timezone = "UTC"
        state.context_info.url = self.url + "/"
        state.widget_states.widgets.extend(widgets)
        await self.socket.send(message.SerializeToString())
        run, deadline = Run(), time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no finished run within {timeout:.0f} s")
            incoming = ForwardMsg()
            incoming.ParseFromString(await asyncio.wait_for(self.socket.recv(), left))
            kind = incoming.WhichOneof("type")
            if kind == "new_session":  # a run starts (a rerun the script asked for starts another)
                run = Run()
                self.page_hash = incoming.new_session.page_script_hash or self.page_hash
            elif kind == "navigation":
                self.pages = {p.page_name: p.page_script_hash for p in incoming.navigation.app_pages if not p.is_hidden}
                self.page_hash = incoming.navigation.page_script_hash or self.page_hash
            elif kind == "delta" and incoming.delta.WhichOneof("type") == "new_element":
                element = incoming.delta.new_element
                run.elements.append((element.WhichOneof("type"), getattr(element, element.WhichOneof("type"))))
            elif kind == "script_finished":
                if incoming.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    self.current = (run.h1 or [""])[0]
                    return run
                if incoming.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    raise AssertionError("the script did not compile")

    async def log_in(self, username: str, password: str | None = None) -> Run:
        """Open the app and submit its login form."""
        form = await self.rerun()
        widgets = [WidgetState(id=w.id, string_value=username if w.label == "Username" else
                               password or PASSWORDS[username]) for w in form.of("text_input")]
        widgets += [WidgetState(id=b.id, trigger_value=True) for b in form.of("button") if b.is_form_submitter]
        assert len(widgets) == 3, f"no login form: {form.comparable()[:5]}"
        return await self.rerun(widgets)

    async def open(self, page: str) -> Run:
        """A click on a page's link in the sidebar."""
        return await self.rerun(page_hash=self.pages[page])


def _sync(coroutine):
    """Run a coroutine to its end in a thread of its own (Playwright's sync API keeps an event loop running in
    this one)."""
    with concurrent.futures.ThreadPoolExecutor(1) as worker:
        return worker.submit(asyncio.run, coroutine).result()


async def _together(*coroutines) -> list:
    return await asyncio.gather(*coroutines)


async def _logged_in(url: str, username: str, *pages: str) -> Run:
    """Log in as username and open pages; the last run."""
    async with Session(url) as session:
        run = await session.log_in(username)
        for page in pages:
            run = await session.open(page)
        return run


async def _views(url: str, username: str, pages: list[str]) -> dict[str, Run]:
    async with Session(url) as session:
        views = {"Overview": await session.log_in(username)}
        for page in pages:
            views[page] = await session.open(page)
        return views


# -- a real browser -----------------------------------------------------------------------------------------
@pytest.fixture
def contexts(chromium):
    """new() -> a fresh browser context (no cookies), closed after the test."""
    made = []

    def new(cookies: list[dict] = ()):
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        if cookies:
            context.add_cookies(list(cookies))
        made.append(context)
        return context

    yield new
    for context in made:
        context.close()


def _alerts(page) -> list[str]:
    """The messages in the page's main part (not the sidebar), without their icons' names."""
    found = page.locator('[data-testid="stMain"] [data-testid="stAlert"]').all_inner_texts()
    return [text.strip().splitlines()[-1] for text in found]


def _no_error(page) -> None:
    text = page.locator("body").inner_text()
    assert "Traceback" not in text and "Something went wrong" not in text
    assert not page.locator('[data-testid="stException"]').count()


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector('h1, [aria-label="Username"]', timeout=60_000)
    settle(page)


def _try(page, username: str, password: str) -> list[str]:
    """One submit of the login form; the lines it answers with."""
    login(page, username, password)
    settle(page)
    return _alerts(page)


def _auth_cookie(context) -> dict:
    deadline = time.monotonic() + 15  # (set by the page's script once the logged-in run has reached the browser)
    while time.monotonic() < deadline:
        found = [c for c in context.cookies() if c["name"] == COOKIE and c["value"]]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError("the login set no cookie")


# -- the replicas agree ----------------------------------------------------------------------------------
def test_a_logout_on_one_replica_refuses_its_cookie_replayed_on_the_other(deployment, contexts):
    a, b = deployment.both
    page = contexts().new_page()
    _open(page, a.url)
    login(page, "finance")
    page.locator("h1", has_text="Overview").wait_for(timeout=60_000)
    cookie = _auth_cookie(page.context)

    def replayed_on_b():
        other = contexts([{**cookie, "domain": "127.0.0.1", "path": "/"}]).new_page()
        _open(other, f"{b.url}/billing")
        return other

    before = replayed_on_b()  # while the session lives, B takes the cookie: the same session on the other replica
    assert before.locator("h1").first.inner_text() == "Billing"
    _no_error(before)

    page.get_by_role("button", name="Log out").click()
    page.get_by_text("You are logged out.").wait_for(timeout=30_000)
    settle(page)

    after = replayed_on_b()  # B's next request with A's cookie: the login form, not a page
    after.get_by_label("Username").wait_for(timeout=30_000)
    assert not after.locator("h1").count()
    assert "Your session has ended. Please log in again." in _alerts(after)
    _no_error(after)
    assert deployment.rows("select count(*) from ended_sessions where username = 'finance'") == [(1,)]
    events = deployment.rows("select event, page, detail from audit where username = 'finance' order by id")
    assert events == [("login", None, "with username and password"), ("page_view", "overview", None),  # on A
                      ("login", None, "with the session cookie"), ("page_view", "billing", None),  # on B
                      ("logout", None, None)]  # on A
    refused = deployment.rows("select detail from audit where event = 'session_refused'")
    assert ("cookie: ended by a logout",) in refused


def test_failed_logins_alternating_between_the_replicas_throttle_as_one(deployment, contexts):
    # Throttle(): 3 failures of a username are free, then the next try waits 2 s, 4 s, 8 s… (usage_analytics/
    # throttle.py). Each replica alone would see at most 3 of these 5 failures, and never a wait.
    a, b = deployment.both
    on_a, on_b = contexts().new_page(), contexts().new_page()
    _open(on_a, a.url)
    _open(on_b, b.url)
    wrong = "not-the-password"
    assert _try(on_a, "northwind_admin", wrong) == [BAD_LOGIN]
    assert _try(on_b, "northwind_admin", wrong) == [BAD_LOGIN]
    assert _try(on_a, "northwind_admin", wrong) == [f"{BAD_LOGIN} Wait 2 seconds before trying again."]
    time.sleep(2.5)
    assert _try(on_b, "northwind_admin", wrong) == [f"{BAD_LOGIN} Wait 4 seconds before trying again."]
    time.sleep(4.5)
    assert _try(on_a, "northwind_admin", wrong) == [f"{BAD_LOGIN} Wait 8 seconds before trying again."]
    # the right password on the other replica, within the 8 s the fifth failure imposed: refused unchecked
    [line] = _try(on_b, "northwind_admin", PASSWORDS["northwind_admin"])
    assert line.startswith(THROTTLED) and line.endswith("before trying again.")
    assert not on_b.locator("h1").count()
    for page in (on_a, on_b):
        _no_error(page)
    failed = deployment.rows("select detail from audit where event = 'login_failed' and username = 'northwind_admin' "
                             "order by id")
    details = [detail for (detail,) in failed]  # both replicas' entries, in one log
    assert details[:-1] == ["wrong password"] * 5 and details[-1].startswith("throttled: wait ")
    time.sleep(8.5)  # the wait over, the right password works (and resets the count for every replica)
    login(on_b, "northwind_admin")
    on_b.locator("h1", has_text="Overview").wait_for(timeout=60_000)
    assert deployment.rows("select count(*) from failures") == [(0,)]


def test_the_access_log_holds_both_replicas_entries_in_one_order(deployment):
    a, b = deployment.both
    start = deployment.rows("select max(id) from audit")[0][0]
    _sync(_logged_in(a.url, "acme_admin"))  # an entry only A writes…
    _sync(_logged_in(b.url, "ghost_admin"))  # …and one only B writes (refused: its customer is gone)
    entries = deployment.rows("select username, event from audit where id > %s order by id", start)
    assert ("acme_admin", "login") in entries and ("ghost_admin", "login") in entries
    assert entries.index(("acme_admin", "login")) < entries.index(("ghost_admin", "login"))  # in the order made

    # Each replica's Access log page lists the one log. Opening it is itself an entry (the page view), so B,
    # opened after A, lists what A lists under its own newest entries.
    async def listed(url: str) -> pa.Table:
        async with Session(url) as session:
            await session.log_in("ops")
            run = await session.open("Access log")
            assert run.h1 == ["Access log"] and not run.problems(), run.problems()
            [table] = run.tables()
            return table

    on_a, on_b = _sync(listed(a.url)), _sync(listed(b.url))
    rows_a, rows_b = on_a.to_pylist(), on_b.to_pylist()
    assert len(rows_b) == len(rows_a) + 3  # B's own: ops's login, its Overview, its Access log view
    assert rows_b[3:] == rows_a
    # the very rows of the database, newest first, as each replica's page lists them (a page by its title)
    stored = deployment.rows("select username, event, page from audit order by at desc, id desc")
    titles = {p.id: p.title for p in access.PAGES}
    assert [(r["username"], r["event"], r["page"]) for r in rows_b] == \
        [(username or "", EVENTS[event], titles.get(page, page or "")) for username, event, page in stored]
    assert {"acme_admin", "ghost_admin", "ops"} <= {row["username"] for row in rows_a}


def test_both_replicas_show_the_same_figures(deployment):
    a, b = deployment.both
    for username, pages in [("ops", ["Billing", "Managed AI", "Workspace runtime", "Operators"]),
                            ("acme_admin", ["Billing", "Managed AI", "Reconciliation", "Workspace runtime"])]:
        on_a, on_b = _sync(_views(a.url, username, pages)), _sync(_views(b.url, username, pages))
        for page in on_a:
            assert on_a[page].h1 == on_b[page].h1 == [page]
            assert not on_a[page].problems() and not on_b[page].problems()
            assert on_a[page].of("metric") or on_a[page].tables(), f"{username} {page}: no figures"
            assert on_a[page].comparable() == on_b[page].comparable(), f"{username} {page} differs"


# -- the load ------------------------------------------------------------------------------------------------
@dataclass
class Load:
    logins: int = 0
    views: int = 0  # page views the access log must hold: one per page opened (the landing page included)
    errors: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # each page's run, as the session waited for it
    per_replica: dict[str, int] = field(default_factory=dict)


async def _load(deployment: Deployment, seconds: float) -> Load:
    load = Load()
    stop = time.monotonic() + seconds  # then each session ends once its page in hand has come

    def check(who: str, page: str, run: Run) -> None:
        if run.h1 != [page]:
            load.errors.append(f"{who}: {page}: h1 {run.h1}")
        load.errors.extend(f"{who}: {page}: {problem}" for problem in run.problems())

    async def one(i: int) -> None:
        replica = deployment.both[i % 2]
        username = LOAD_USERS[(i // 2) % len(LOAD_USERS)]
        who = f"session {i} ({username} on {replica.name})"
        rng = random.Random(i)
        await asyncio.sleep(i * LOAD_RAMP / LOAD_SESSIONS)
        try:
            async with Session(replica.url) as session:
                started = time.monotonic()
                run = await session.log_in(username)
                load.seconds.append(time.monotonic() - started)
                load.logins += 1
                check(who, "Overview", run)
                load.views += 1
                load.per_replica[replica.name] = load.per_replica.get(replica.name, 0) + 1
                names = list(session.pages)
                k = i
                while time.monotonic() < stop:
                    await asyncio.sleep(rng.uniform(*LOAD_THINK))
                    k += 1
                    page = names[k % len(names)]
                    if page == session.current:  # (the same page again is no new view)
                        continue
                    started = time.monotonic()
                    run = await session.open(page)
                    load.seconds.append(time.monotonic() - started)
                    load.views += 1
                    load.per_replica[replica.name] += 1
                    check(who, page, run)
        except Exception as error:  # a timeout, a closed connection: an error of the load, not of the test code
            load.errors.append(f"{who}: {type(error).__name__}: {error}")

    await asyncio.gather(*(one(i) for i in range(LOAD_SESSIONS)))
    return load


@pytest.mark.alone  # (the other worker waits: its load would be the test's, not the replicas')
def test_a_bounded_load_over_both_replicas_has_no_error_and_loses_no_access_log_entry(deployment, record_property):
    counted = "select count(*) from audit where event = %s"
    before = {event: deployment.rows(counted, event)[0][0] for event in ("login", "page_view")}
    logs_before = [log.stat().st_size for log in deployment.logs]
    started = time.monotonic()
    load = _sync(_load(deployment, LOAD_SECONDS))
    took = time.monotonic() - started
    after = {event: deployment.rows(counted, event)[0][0] for event in ("login", "page_view")}
    peaks = {replica.name: round(replica.peak_mib()) for replica in deployment.both}
    report = {"sessions": LOAD_SESSIONS, "seconds": round(took), "logins": load.logins, "page_views": load.views,
              "page_views_per_replica": load.per_replica, "errors": len(load.errors),
              "page_seconds_median": round(statistics.median(load.seconds), 2),
              "page_seconds_p95": round(statistics.quantiles(load.seconds, n=20)[-1], 2),
              "page_seconds_max": round(max(load.seconds), 2), "peak_memory_mib": peaks}
    print(f"load over two replicas: {json.dumps(report)}")
    (ARTIFACTS / "replicas-load.json").write_text(json.dumps(report, indent=2) + "\n")
    for name, mib in peaks.items():
        record_property(f"replica_{name}_peak_memory_mib", mib)
    record_property("load", json.dumps(report))

    assert load.errors == [], load.errors[:20]
    assert load.logins == LOAD_SESSIONS and set(load.per_replica) == {"A", "B"}
    assert load.views >= 3 * LOAD_SESSIONS  # (each session kept opening pages: not a load that stalled)
    # every login and every page view made it into the one log
    assert after["login"] - before["login"] == load.logins
    assert after["page_view"] - before["page_view"] == load.views
    for log, size in zip(deployment.logs, logs_before):
        with open(log, "rb") as server_log:
            server_log.seek(size)
            written = server_log.read().decode(errors="replace")
        assert "Traceback" not in written and "could not write the access log" not in written, written[-3000:]
    assert all(mib < PEAK_MEMORY_LIMIT_MIB for mib in peaks.values()), peaks


# -- faults under both replicas ------------------------------------------------------------------------------
def test_postgresql_stopped_under_both_replicas_refuses_sign_in_in_one_line_and_both_recover(deployment, contexts):
    a, b = deployment.both
    pids = [_pid_of(replica.url) for replica in deployment.both]
    logged_in = contexts().new_page()  # a session of B's, logged in before the database goes
    _open(logged_in, b.url)
    login(logged_in, "acme_admin")
    logged_in.locator("h1", has_text="Overview").wait_for(timeout=60_000)
    settle(logged_in)
    fresh = contexts().new_page()
    server().stop()
    try:
        _open(fresh, a.url)  # A's login form: one line, and the right password is not even checked
        assert _alerts(fresh) == [UNAVAILABLE]
        assert _try(fresh, "ops", PASSWORDS["ops"]) == [UNAVAILABLE] and not fresh.locator("h1").count()
        _no_error(fresh)
        # B's logged-in session at its next click: whether it was logged out cannot be read, so no page
        logged_in.locator('[data-testid="stSidebarNav"] a', has_text="Billing").first.click()
        logged_in.get_by_label("Username").wait_for(timeout=30_000)
        settle(logged_in)
        assert _alerts(logged_in) == [UNAVAILABLE] and not logged_in.locator("h1").count()
        _no_error(logged_in)
        run = _sync(_open_form(b.url))  # B's form for a new session says the same
        assert run.alerts() == [UNAVAILABLE] and not run.problems()
    finally:
        server().start()
    time.sleep(pg.RETRY_AFTER + 0.5)  # (a failed probe's answer stands this long)
    login(fresh, "ops")  # no restart: A takes the login…
    fresh.locator("h1", has_text="Overview").wait_for(timeout=60_000)
    logged_in.reload()  # …and B serves the session again (its cookie was never logged out)
    logged_in.locator("h1").first.wait_for(timeout=60_000)
    settle(logged_in)
    assert logged_in.locator("h1").first.inner_text() in ("Billing", "Overview")
    for page in (fresh, logged_in):
        _no_error(page)
    assert [_pid_of(replica.url) for replica in deployment.both] == pids


async def _open_form(url: str) -> Run:
    async with Session(url) as session:
        return await session.rerun()


def test_the_bucket_unreachable_leaves_both_replicas_serving_their_last_store_with_a_stale_warning(deployment):
    # Last in this module: moto forgets its objects when stopped, so the bucket is put back afterwards.
    a, b = deployment.both
    pages = ["Billing", "Data health"]
    before = [_sync(_views(replica.url, "ops", pages)) for replica in deployment.both]
    assert not [w for views in before for run in views.values() for w in run.alerts() if "cannot be reached" in w]
    deployment.endpoint.stop()
    try:
        after = [_sync(_views(replica.url, "ops", pages)) for replica in deployment.both]
    finally:
        deployment.endpoint.start()
        upload(deployment.endpoint, SAMPLE, "replica-exports", "usage")
    stale = f"the exports at {deployment.exports} cannot be reached (EndpointConnectionError): these figures are " \
            "from the store checked at "
    for replica, was, now in zip(deployment.both, before, after):
        for page in ("Overview", *pages):
            run = now[page]
            assert run.h1 == [page] and not run.problems(), (replica.name, page, run.problems())
            warned = [w for w in run.alerts() if "cannot be reached" in w]
            assert warned and all(w.startswith(stale) and w.endswith("and may be stale") for w in warned), \
                (replica.name, page, warned)
            assert len(warned) == 1 or page == "Data health"  # (in its header, and again in the exports' state)
            assert [str(m) for m in run.of("metric")] == [str(m) for m in was[page].of("metric")]
            assert [t.to_pylist() for t in run.tables()] == [t.to_pylist() for t in was[page].tables()] or \
                page == "Data health"  # (Data health lists the exports' state, which the warning changes)
    # and the two replicas still agree with each other
    assert [str(m) for m in after[0]["Billing"].of("metric")] == [str(m) for m in after[1]["Billing"].of("metric")]
