"""API route of the decision log (services/decisions.py). Registered on the /api/v1 blueprint when :mod:`api` is
imported."""

from __future__ import annotations

import datetime as dt

from flask import Response, jsonify, request

from api.errors import invalid
from api.routes import blueprint, requires
from db.session import session_scope
from services import decisions
from services.errors import UserFacingError

TEXT_MAX = 100


def _text(name: str) -> str | None:
    value = " ".join((request.args.get(name) or "").split())
    if len(value) > TEXT_MAX:
        raise invalid(name, f"at most {TEXT_MAX} characters")
    return value or None


def _day(name: str) -> dt.date | None:
    raw = _text(name)
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise invalid(name, f"must be a date YYYY-MM-DD, got {raw[:20]!r}") from None


def _limit() -> int:
    raw = (request.args.get("limit") or "").strip()
    if not raw:
        return 500
    if not raw.isdigit() or not 1 <= int(raw) <= decisions.MAX_LIMIT:
        raise invalid("limit", f"must be a whole number from 1 to {decisions.MAX_LIMIT:,}, got {raw[:20]!r}")
    return int(raw)


@blueprint.get("/decisions")
@requires("viewer")
def list_decisions() -> Response:
    """The decision log, newest first, with outcomes (as ``python cli.py decisions --json``)."""
    kind, outcome = _text("kind"), _text("outcome")
    if kind and kind not in decisions.KINDS and kind not in decisions.KINDS.values():
        raise invalid("kind", f"one of {', '.join(decisions.KINDS)}")
    if outcome and outcome not in decisions.OUTCOME_FILTERS:
        raise invalid("outcome", f"one of {', '.join(decisions.OUTCOME_FILTERS)}")
    args = {
        "kind": kind,
        "sku": _text("sku"),
        "user": _text("user"),
        "date_from": _day("from"),
        "date_to": _day("to"),
        "outcome": outcome,
        "limit": _limit(),
    }
    with session_scope() as session:
        try:
            found = decisions.list_decisions(session=session, **args)
        except UserFacingError as exc:
            raise invalid("from", str(exc)) from None
    return jsonify({"data": [d.as_dict() for d in found]})
