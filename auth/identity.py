"""Who is asking: the signed-in user as Flask-Login sees it (the client's address and the audit of role refusals
live in :mod:`auth.guard` and are re-exported here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_login import UserMixin

from auth.guard import client_address, record_denied

__all__ = ["SessionUser", "client_address", "record_denied"]


@dataclass
class SessionUser(UserMixin):
    """The signed-in user as Flask-Login sees it (a plain value, not an ORM object).

    ``session_id`` is the server-side session this browser signed in with (:mod:`services.user_sessions`): it is
    what the cookie stores, and every request looks it up, so ending it on the server ends the session at once.
    """

    id: int
    email: str
    role: str
    session_id: str = ""

    def get_id(self) -> str:
        return self.session_id

    @classmethod
    def of(cls, user: Any, session_id: str) -> SessionUser:
        """The session value of a :class:`db.models.User` signed in with ``session_id``."""
        return cls(id=user.id, email=user.email, role=user.role, session_id=session_id)
