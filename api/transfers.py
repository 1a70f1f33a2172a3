"""API routes for transfers between locations (issue 21), on the /api/v1 blueprint, with their contract
(:mod:`api.contract`: the models below are the OpenAPI document's).

``GET /transfers`` (viewer): the transfers in the CLI's shape, optionally by status; ``POST /transfers/<id>/approve``
(planner): approve a proposed transfer (404 unknown, 409 not proposed).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.contract import BAD_PARAMETER, ApiModel, IsoText, QueryModel, operation
from api.errors import ApiError
from api.routes import MAX_ID, blueprint, requires
from auth.identity import current_email
from db.models import TRANSFER_STATUSES
from db.session import session_scope
from services import transfers
from services.errors import UserFacingError

Status = Literal[TRANSFER_STATUSES]  # type: ignore[valid-type]


class TransferQuery(QueryModel):
    status: list[Status] = Field(default=[], description="Transfer status (default: all)")


class Transfer(ApiModel):
    """One transfer in the CLI's shape (``python cli.py transfers --json``)."""

    id: int
    item: str = Field(description="The product shared across locations")
    from_location: str
    to_location: str
    from_sku: str = Field(description="The giving SKU (the item at from_location)")
    to_sku: str = Field(description="The receiving SKU (the item at to_location)")
    quantity: float
    cost: float = Field(description="quantity x the lane's cost per unit")
    reason: str = Field(description="Why it was proposed, quoting the numbers")
    status: Status
    lead_time_days: float = Field(description="The lane's lead time")
    expected_date: IsoText = Field(description="Approved: arrival", json_schema_extra={"format": "date"})

    @classmethod
    def of(cls, view: transfers.TransferView) -> Transfer:
        data: dict[str, Any] = {**view.as_json(), "expected_date": view.expected_date}
        return cls.model_validate({**data, "lead_time_days": view.lead_time_days})


class TransferList(ApiModel):
    transfers: list[Transfer]


@blueprint.get("/transfers")
@requires("viewer")
@operation(
    "listTransfers",
    "Transfers between locations (proposed after each recompute), newest first",
    query=TransferQuery,
    response=TransferList,
    envelope=False,
    description="The transfers",
    errors={400: BAD_PARAMETER},
)
def list_transfers(query: TransferQuery) -> TransferList:
    """Transfers, newest first (default: every status), optionally by status."""
    with session_scope() as session:
        rows = transfers.list_transfers(session=session)
    wanted = set(query.status or TRANSFER_STATUSES)
    return TransferList(transfers=[Transfer.of(view) for view in rows if view.status in wanted])


@blueprint.post("/transfers/<int:transfer_id>/approve")
@requires("planner")
@operation(
    "approveTransfer",
    "Approve a proposed transfer: on order at the receiver (arriving after the lane's lead time), taken from the "
    "giver's on hand in the next recompute",
    response=Transfer,
    description="The approved transfer",
    errors={404: "No such transfer", 409: "The transfer is not proposed (already approved, received or rejected)"},
)
def approve_transfer(transfer_id: int) -> Transfer:
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
    return Transfer.of(view)
