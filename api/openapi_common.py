"""What the OpenAPI document's parts share: nullable number / text schemas, ``$ref``, the error and JSON
response shapes, the auth errors every route can answer, array query parameters, the SKU code path parameter
and the one error schema (api/errors.py's shape)."""

from __future__ import annotations

from typing import Any

from api.constants import ENUM_FILTERS  # noqa: F401

NUMBER = {"type": "number", "nullable": True}
TEXT = {"type": "string", "nullable": True}


def ref(name: str) -> dict[str, str]:
    """A ``$ref`` to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def error_response(description: str) -> dict[str, Any]:
    """A response with the one error body (``Error``)."""
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}


def json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON response with ``schema``."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def data_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``{"data": schema}``, the envelope of every answer."""
    return {"type": "object", "required": ["data"], "properties": {"data": schema}}


PDF_RESPONSE = {
    "description": "The PDF (Content-Disposition: attachment; X-Briefing-Id: the stored copy's id)",
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
}

AUTH_ERRORS = {
    "401": error_response("No token, or the token is not valid / revoked"),
    "403": error_response("The token's user lacks the role this route needs"),
    "500": error_response("Unexpected server error (no details are exposed)"),
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "example": "invalid_parameter"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}


def array_param(name: str, description: str, values: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A repeatable query parameter (``?status=a&status=b`` or ``?status=a,b``), optionally an enum."""
    items: dict[str, Any] = {"type": "string", "maxLength": 100}
    if values:
        items = {"type": "string", "enum": list(values)}
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description + " (repeat the parameter or separate values with commas)",
        "schema": {"type": "array", "items": items},
        "style": "form",
        "explode": True,
    }


CODE_PARAMETER = {
    "name": "code",
    "in": "path",
    "required": True,
    "description": "SKU code",
    "schema": {"type": "string", "minLength": 1, "maxLength": 64},
}

NO_SNAPSHOT = error_response("No recompute has finished yet (code no_snapshot)")
