"""Server-side sign-in sessions: a random id per signed-in browser, looked up on every request.

The browser's (signed) session cookie carries the clear id; the database keeps only its SHA-256 (``user_session``).
Deleting a row ends that session at once, whatever the cookie says: sign-out ends one session; a password change, a
role change, a password reset and deactivation end every session of the account. Sessions also end
``SESSION_MAX_AGE_HOURS`` after sign-in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.models import User, UserSession, utcnow

SESSION_ID_BYTES = 32


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(
    *, session: Session, user: User, address: str | None, max_age_hours: float, now: dt.datetime | None = None
) -> str:
    """Open a session for ``user``; returns its clear id (for the cookie). Expired sessions are removed on the way."""
    now = now or utcnow()
    session.execute(delete(UserSession).where(UserSession.created_at < now - dt.timedelta(hours=max_age_hours)))
    session_id = secrets.token_urlsafe(SESSION_ID_BYTES)
    session.add(UserSession(user_id=user.id, token_hash=_digest(session_id), created_at=now, address=address))
    session.flush()
    return session_id


def user_of(*, session: Session, session_id: str, max_age_hours: float, now: dt.datetime | None = None) -> User | None:
    """The active user of a live session (None when the id is unknown, ended, expired or the user is deactivated)."""
    if not session_id or len(session_id) > 200:
        return None
    row = session.scalar(select(UserSession).where(UserSession.token_hash == _digest(session_id)))
    if row is None:
        return None
    now = now or utcnow()
    if row.created_at < now - dt.timedelta(hours=max_age_hours):
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def end(*, session: Session, session_id: str) -> bool:
    """End one session (sign-out); True when it was live."""
    if not session_id:
        return False
    result = session.execute(delete(UserSession).where(UserSession.token_hash == _digest(session_id)))
    return bool(result.rowcount)


def end_all(*, session: Session, user_id: int) -> int:
    """End every session of a user (password change or reset, role change, deactivation); returns how many."""
    result = session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    return int(result.rowcount or 0)


def count(*, session: Session, user_id: int) -> int:
    """How many sessions of a user are open (expired ones included until the next sign-in removes them)."""
    return len(session.scalars(select(UserSession.id).where(UserSession.user_id == user_id)).all())
