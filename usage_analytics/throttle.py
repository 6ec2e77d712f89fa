"""Failed-login throttling: growing waits per username and per client, never a lockout; and one throttled
password check, attempt(). No Streamlit here.

streamlit-authenticator locks a username for good after failed logins, which lets anyone lock a user out;
here a failure only makes the next try of that username, or from that client, wait a while.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from . import credentials
from .access import User
from .credentials import BAD_LOGIN, AuthConfig
from .state_db import StateDB


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


class FailedLogins:
    """Recent failed logins per username and per client, and the wait they impose under a Throttle."""

    def __init__(self, db: StateDB, throttle: Throttle = Throttle()):
        self.db = db
        self.throttle = throttle

    def _subjects(self, username: str, client: str) -> tuple[tuple[str, int], ...]:
        return ((_subject("user", username), self.throttle.user_free),
                (_subject("client", client), self.throttle.client_free))

    def _wait(self, db, subjects, now: float) -> float:
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
        with self.db.transaction() as db:
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
        with self.db.transaction() as db:
            return self._wait(db, self._subjects(username, client), now)

    def succeeded(self, username: str, client: str) -> None:
        with self.db.transaction() as db:
            db.execute("delete from failures where subject in (?, ?)",
                       tuple(subject for subject, _ in self._subjects(username, client)))


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
    """Check one login. Throttled tries are refused unchecked; every checked try costs one bcrypt check."""
    name = username.strip().lower()
    wait = logins.begin_attempt(name, client, now)
    if wait > 0:
        return Attempt(None, wait, throttled=True)
    user = credentials.check(config, name, password)
    if user is not None:
        logins.succeeded(name, client)
        return Attempt(user, 0.0)
    return Attempt(None, logins.wait_after_failure(name, client, now))
