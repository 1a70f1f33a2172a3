"""Who is asking: the signed-in user as Flask-Login sees it, the API token's user, and the client's address (the
audit of role refusals is :func:`auth.audit.record_denied`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context, request
from flask_login import UserMixin, current_user

__all__ = ["SessionUser", "client_address", "current_email", "current_role"]


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


def current_role() -> str | None:
    """The role of the API token's user or the signed-in user (None when anonymous or outside a request)."""
    if not has_request_context():
        return None
    api_user = getattr(g, "api_user", None)
    if api_user is not None:
        return api_user.role
    if current_user and current_user.is_authenticated:
        return current_user.role
    return None


def current_email() -> str | None:
    """The e-mail of the API token's user or the signed-in user (None when anonymous or outside a request)."""
    if not has_request_context():
        return None
    api_user = getattr(g, "api_user", None)
    if api_user is not None:
        return api_user.email
    if current_user and current_user.is_authenticated:
        return current_user.email
    return None
