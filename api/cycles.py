"""API routes of the S&OP cycles (services/cycles.py): the list and the comparison of two cycles. Registered on the
/api/v1 blueprint when :mod:`api` is imported."""

from __future__ import annotations

from flask import Response, jsonify, request

from api.errors import ApiError, invalid
from api.routes import blueprint, requires
from db.session import session_scope
from services import cycles

MAX_LIMIT = 100_000


@blueprint.get("/cycles")
@requires("viewer")
def list_cycles() -> Response:
    """The closed cycles, newest first (as ``python cli.py cycle list --json``)."""
    with session_scope() as session:
        found = cycles.list_cycles(session=session)
    return jsonify({"data": [c.as_dict() for c in found]})


def _ref(name: str) -> str:
    value = " ".join((request.args.get(name) or "").split())
    if not value:
        raise invalid(name, "give a cycle name or id")
    if len(value) > cycles.NAME_MAX:
        raise invalid(name, f"at most {cycles.NAME_MAX} characters")
    return value


def _limit() -> int | None:
    raw = (request.args.get("limit") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise invalid("limit", f"must be a whole number from 1 to {MAX_LIMIT:,}, got {raw[:20]!r}")
    return int(raw)


@blueprint.get("/cycles/compare")
@requires("viewer")
def compare_cycles() -> Response:
    """Cycles ``a`` and ``b`` side by side (as ``python cli.py cycle compare A B --json``); 404 for an unknown one."""
    a, b, limit = _ref("a"), _ref("b"), _limit()
    with session_scope() as session:
        try:
            document = cycles.compare(session=session, a=a, b=b, limit=limit)
        except cycles.CycleError as exc:
            raise ApiError(404, "not_found", str(exc)) from None
    return jsonify({"data": document})
