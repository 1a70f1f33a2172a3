"""The one error shape of the API and the errors routes raise."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

# werkzeug's names made into stable codes (the rest: the name in snake case)
HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
}


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message", "details"}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []


def invalid(field: str, message: str) -> ApiError:
    """A 400 for one bad parameter (``details`` names it)."""
    return ApiError(400, "invalid_parameter", f"{field}: {message}", [{"field": field, "message": message}])


def error_response(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> tuple[Response, int]:
    """The one error shape of the API: ``{"error": {"code", "message", "details": [...]}}``."""
    return jsonify({"error": {"code": code, "message": message, "details": details or []}}), status
