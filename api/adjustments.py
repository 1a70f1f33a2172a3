"""API routes of the consensus demand (services/consensus.py): list and add commercial adjustments, the forecast value
added per layer. Registered on the /api/v1 blueprint when :mod:`api` is imported."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from api.errors import ApiError, invalid
from api.routes import blueprint, requires
from auth.identity import current_email
from db.session import session_scope
from services import consensus

FIELDS = ("scope", "period", "change_pct", "change_units", "reason")


@blueprint.get("/adjustments")
@requires("viewer")
def list_adjustments() -> Response:
    """The commercial adjustments in force, newest first (``all=1``: with the superseded and deleted ones)."""
    every = (request.args.get("all") or "").strip().lower() in ("1", "true", "yes")
    with session_scope() as session:
        found = consensus.list_adjustments(session=session, include_deleted=every)
    return jsonify({"data": [a.as_dict() for a in found]})


@blueprint.post("/adjustments")
@requires("planner")
def add_adjustment() -> Response:
    """Save one adjustment (JSON: scope, period, change_pct or change_units, reason) and recompute its SKUs; 400 naming
    the field for bad input."""
    body: Any = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise invalid("body", "send a JSON object with scope, period, change_pct or change_units, and reason")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise invalid(unknown[0], f"unknown field; fields are {', '.join(FIELDS)}")
    user = current_email() or "api"
    with session_scope() as session:
        try:
            made = consensus.add_adjustment(
                session=session, user=user, source="api", **{k: body.get(k) for k in FIELDS}
            )
        except consensus.AdjustmentError as exc:
            raise invalid(exc.column or "body", str(exc)) from None
    with session_scope() as session:
        run = consensus.recompute_after_adjustments(session=session, scopes=[(made.scope_kind, made.scope)], user=user)
    return jsonify({"data": {**made.as_dict(), "run_id": getattr(run, "run_id", None)}})


@blueprint.get("/adjustments/fva")
@requires("viewer")
def adjustments_fva() -> Response:
    """Forecast value added per layer (``by``: layer, who, category or sku), as ``python cli.py consensus fva``."""
    by = (request.args.get("by") or "layer").strip()
    if by not in consensus.FVA_BY:
        raise invalid("by", f"one of {', '.join(consensus.FVA_BY)}")
    with session_scope() as session:
        rows = consensus.fva_report(session=session, by=by)
    return jsonify({"data": rows, "by": by})


@blueprint.delete("/adjustments/<int:adjustment_id>")
@requires("planner")
def delete_adjustment(adjustment_id: int) -> Response:
    """Delete an adjustment in force (404 when there is none) and recompute its SKUs."""
    user = current_email() or "api"
    with session_scope() as session:
        try:
            gone = consensus.delete_adjustment(session=session, adjustment_id=adjustment_id, user=user)
        except consensus.AdjustmentError as exc:
            raise ApiError(404, "not_found", str(exc)) from None
    with session_scope() as session:
        consensus.recompute_after_adjustments(session=session, scopes=[(gone.scope_kind, gone.scope)], user=user)
    return jsonify({"data": gone.as_dict()})
