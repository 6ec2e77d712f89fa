"""Signed session tokens and the record of ended sessions: what a login cookie carries, and when it is refused.

A session is a signed token (PyJWT, HS256) carrying a random session id, the username and an expiry.
Logout records the session id as ended in the state (state_db.py: the SQLite file, or PostgreSQL shared by
every replica), and every run of every session checks that record, so a copied cookie is refused from the
logout on, in any browser and on any replica. No Streamlit here.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import jwt

from .credentials import AuthConfig
from .state_db import StateStore


@dataclass(frozen=True)
class Session:
    token: str
    session_id: str
    username: str  # lower-case, as in AuthConfig
    expires_at: float


class EndedSessions:
    """The session ids ended by a logout, each kept until its token would have expired anyway."""

    def __init__(self, db: StateStore):
        self.db = db

    def end_session(self, session_id: str, username: str, expires_at: float, now: float | None = None) -> None:
        """Record the logout (StateUnavailable when the state cannot be written)."""
        now = time.time() if now is None else now
        with self.db.transaction() as db:
            db.execute("insert into ended_sessions values (?, ?, ?, ?) on conflict (session_id) do nothing",
                       (session_id, username, now, expires_at))
            db.execute("delete from ended_sessions where expires_at < ?", (now - 60,))  # expired anyway

    def session_ended(self, session_id: str) -> bool:
        """Whether a logout ended this session. Only reads (no write lock), so a read-only state file still
        answers; StateUnavailable when the record cannot be read at all (the caller must then refuse)."""
        with self.db.reader() as db:
            return db.execute("select 1 from ended_sessions where session_id = ?", (session_id,)).fetchone() is not None


def issue(config: AuthConfig, username: str, hours: float, now: float | None = None) -> Session:
    now = time.time() if now is None else now
    session_id, expires = secrets.token_urlsafe(18), now + hours * 3600
    token = jwt.encode({"sub": username, "sid": session_id, "iat": int(now), "exp": int(expires)},
                       config.cookie_key, algorithm="HS256")
    return Session(token, session_id, username, int(expires))


def read(config: AuthConfig, token: str, ended: EndedSessions) -> tuple[Session | None, str]:
    """The session a token carries, or None and why it is refused (bad signature, expired, ended, unknown)."""
    try:
        claims = jwt.decode(token, config.cookie_key, algorithms=["HS256"],
                            options={"require": ["sub", "sid", "iat", "exp"]})
    except jwt.ExpiredSignatureError:
        return None, "expired"
    except jwt.InvalidTokenError:
        return None, "not signed with this app's key"
    session = Session(token, str(claims["sid"]), str(claims["sub"]), float(claims["exp"]))
    if ended.session_ended(session.session_id):
        return None, "ended by a logout"
    if session.username not in config.users:
        return None, "user no longer in auth.yaml"
    return session, ""
