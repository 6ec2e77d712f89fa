"""Failed-login throttling: growing waits per username and per client, never a lockout; and one throttled
password check, attempt(). No Streamlit here.

streamlit-authenticator locks a username for good after failed logins, which lets anyone lock a user out;
here a failure only makes the next try of that username, or from that client, wait a while.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from . import credentials
from .access import User
from .credentials import BAD_LOGIN, AuthConfig
from .state_db import StateStore


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


STALE_ATTEMPT = 30.0  # seconds after which an attempt still being checked is taken to have died with its process


class FailedLogins:
    """Recent failed logins per username and per client, the attempts being checked right now, and the wait
    they impose under a Throttle.

    Only failures count. A try is decided before its password is checked: refused unchecked while the
    failures so far impose a wait; checked when they would impose none even if every attempt being checked
    right now failed; otherwise it waits for those attempts to end (one bcrypt check, a few tenths of a
    second) and is decided again. So parallel guesses cannot slip past the count together, and a correct
    login checked at the same moment as another is never counted, nor refused, as a failure."""

    def __init__(self, db: StateStore, throttle: Throttle = Throttle(), settle: float = 10.0, poll: float = 0.05):
        self.db = db
        self.throttle = throttle
        self.settle = settle  # the longest a try waits for parallel checks before it is checked anyway
        self.poll = poll

    def _subjects(self, username: str, client: str) -> tuple[tuple[str, int], ...]:
        return ((_subject("user", username), self.throttle.user_free),
                (_subject("client", client), self.throttle.client_free))

    def _state(self, db, subjects, now: float) -> tuple[float, bool]:
        """The seconds the failures so far impose, and whether the attempts being checked could still add a wait."""
        wait, undecided = 0.0, False
        for subject, free in subjects:
            row = db.execute("select count, last_at from failures where subject = ? and last_at >= ?",
                             (subject, now - self.throttle.window)).fetchone()
            failures = row[0] if row else 0
            penalty = self.throttle.wait(failures, free)
            if penalty > 0:  # (with no penalty due, a later last_at from a parallel try must not read as a wait)
                wait = max(wait, row[1] + penalty - now)
            checking = db.execute("select count(*) from attempts where subject = ?", (subject,)).fetchone()[0]
            undecided = undecided or (checking > 0 and self.throttle.wait(failures + checking, free) > 0)
        return wait, undecided

    def begin_attempt(self, username: str, client: str, now: float | None = None) -> tuple[float, str]:
        """(seconds to wait, "") when this try must be refused without checking its password; (0, ticket) when
        it may be checked now, to be followed by end_attempt(ticket, ...)."""
        subjects = self._subjects(username, client)
        deadline = time.monotonic() + self.settle
        while True:
            with self.db.transaction() as db:
                clock = time.time() if now is None else now  # read inside the lock: parallel tries are ordered
                db.execute("delete from failures where last_at < ?", (clock - self.throttle.window,))
                db.execute("delete from attempts where started_at < ?", (time.time() - STALE_ATTEMPT,))
                wait, undecided = self._state(db, subjects, clock)
                if wait > 0:
                    return wait, ""
                if not undecided or time.monotonic() > deadline:
                    ticket, started = secrets.token_hex(16), time.time()
                    db.executemany("insert into attempts values (?, ?, ?)",
                                   [(ticket, subject, started) for subject, _ in subjects])
                    return 0.0, ticket
            time.sleep(self.poll)  # parallel checks decide whether this try must wait: let them end

    def end_attempt(self, ticket: str, username: str, client: str, succeeded: bool, now: float | None = None
                    ) -> float:
        """The checked attempt's outcome: a success resets both counts, a failure adds one to each. Returns the
        wait the failures now impose on the next try (for the message after a failure)."""
        subjects = self._subjects(username, client)
        with self.db.transaction() as db:
            clock = time.time() if now is None else now
            db.execute("delete from attempts where ticket = ?", (ticket,))
            if succeeded:
                db.execute("delete from failures where subject in (?, ?)", tuple(s for s, _ in subjects))
                return 0.0
            for subject, _ in subjects:
                db.execute("insert into failures values (?, 1, ?) on conflict (subject) do update "
                           "set count = failures.count + 1, last_at = case when excluded.last_at > failures.last_at "
                           "then excluded.last_at else failures.last_at end", (subject, clock))
            return self._state(db, subjects, clock)[0]


@dataclass(frozen=True)
class Attempt:
    user: User | None
    wait: float  # seconds before the next try may be checked
    throttled: bool = False  # refused without checking the password

    def message(self) -> str:
        seconds = max(1, round(self.wait))
        wait = f"Wait {seconds} second{'s' * (seconds != 1)} before trying again."
        if self.throttled:
            return f"Too many failed logins for this username or from this network address. {wait}"
        return f"{BAD_LOGIN} {wait}" if self.wait > 0 else BAD_LOGIN


def attempt(config: AuthConfig, logins: FailedLogins, username: str, password: str, client: str,
            now: float | None = None) -> Attempt:
    """Check one login. Throttled tries are refused unchecked; every checked try costs one bcrypt check.
    StateUnavailable when the state cannot be written: no login is accepted that could not be counted,
    nor later logged out."""
    name = username.strip().lower()
    wait, ticket = logins.begin_attempt(name, client, now)
    if wait > 0:
        return Attempt(None, wait, throttled=True)
    user = None
    try:
        user = credentials.check(config, name, password)
    finally:  # (a check that raised counts as a failure)
        wait = logins.end_attempt(ticket, name, client, succeeded=user is not None, now=now)
    return Attempt(user, wait)
