"""API routes. Every route checks the token and the role on the server."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from db.session import session_scope
from services import users

blueprint = Blueprint("api_v1", __name__, url_prefix="/api/v1")


def error(status: int, code: str, message: str, details: list[Any] | None = None) -> tuple[Response, int]:
    """The one error shape of the API: ``{"error": {"code", "message", "details"}}``."""
    return jsonify({"error": {"code": code, "message": message, "details": details or []}}), status


def requires(role: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Bearer-token auth plus a minimum role for one route."""

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            token = header[7:].strip() if header.lower().startswith("bearer ") else ""
            if not token:
                return error(401, "unauthenticated", "Send 'Authorization: Bearer <token>'.")
            with session_scope() as session:
                user = users.user_for_token(session=session, token=token)
                identity = (user.email, user.role) if user else None
            if identity is None:
                return error(401, "unauthenticated", "The token is not valid or was revoked.")
            g.api_user = users_identity(*identity)
            if not users.has_role(identity[1], role):
                return error(403, "forbidden", f"This route needs the {role} role.")
            return func(*args, **kwargs)

        return wrapper

    return decorator


class users_identity:  # noqa: N801 - tiny value type
    def __init__(self, email: str, role: str) -> None:
        self.email = email
        self.role = role


@blueprint.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[Response, int]:
    return error(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")


@blueprint.errorhandler(Exception)
def _any_error(_exc: Exception) -> tuple[Response, int]:
    return error(500, "internal_error", "The server could not complete the request.")
