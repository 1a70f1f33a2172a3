"""API routes for transfers between locations (issue 21), on the /api/v1 blueprint, and their OpenAPI entries.

``GET /transfers`` (viewer): the transfers in the CLI's shape, optionally by status; ``POST /transfers/<id>/approve``
(planner): approve a proposed transfer (404 unknown, 409 not proposed).
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from api.errors import ApiError, invalid
from api.routes import MAX_ID, _values, blueprint, requires
from api.serialize import plain
from auth.identity import current_email
from db.models import TRANSFER_STATUSES
from db.session import session_scope
from services import transfers
from services.errors import UserFacingError


def _transfer(view: transfers.TransferView) -> dict[str, Any]:
    return plain({**view.as_json(), "expected_date": view.expected_date, "lead_time_days": view.lead_time_days})


@blueprint.get("/transfers")
@requires("viewer")
def list_transfers() -> Response:
    """Transfers, newest first (default: every status), optionally by status."""
    statuses = _values("status")
    bad = [v for v in statuses if v not in TRANSFER_STATUSES]
    if bad:
        raise invalid("status", f"unknown value {bad[0][:40]!r}; use one of {', '.join(TRANSFER_STATUSES)}")
    with session_scope() as session:
        rows = transfers.list_transfers(session=session)
    wanted = set(statuses or TRANSFER_STATUSES)
    return jsonify({"transfers": [_transfer(view) for view in rows if view.status in wanted]})


@blueprint.post("/transfers/<int:transfer_id>/approve")
@requires("planner")
def approve_transfer(transfer_id: int) -> Response:
    """Approve a proposed transfer (on order at the receiver, off the giver's on hand in the next recompute)."""
    if transfer_id > MAX_ID:
        raise ApiError(404, "not_found", f"No transfer {transfer_id}.")
    with session_scope() as session:
        try:
            view = transfers.approve_transfer(session=session, transfer_id=transfer_id, user=current_email() or "api")
        except UserFacingError as exc:
            if str(exc).startswith("there is no transfer"):
                raise ApiError(404, "not_found", f"No transfer {transfer_id}.") from None
            raise ApiError(409, "conflict", str(exc)) from None
    return jsonify({"data": _transfer(view)})
