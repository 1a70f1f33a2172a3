"""Who is asking: the signed-in user as Flask-Login sees it, the client's address, and audit entries for refusals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from flask_login import UserMixin

from auth.guard import current_email, current_role
from db.session import session_scope
from services import audit


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


def client_address() -> str:
    """The client's address as the server sees it (after ProxyFix trusts TRUSTED_PROXY_HOPS proxies)."""
    return (request.remote_addr or "unknown")[:64]


def record_denied(*, action: str, target: str, required: str) -> None:
    """Audit-log a request refused for its role (its own transaction, so it stays even though the request fails)."""
    with session_scope() as session:
        audit.record(
            session=session,
            action=action,
            user_email=current_email(),
            target=target[:255],
            outcome="denied",
            details={"required": required, "role": current_role(), "path": request.path[:200]},
            address=client_address(),
        )
