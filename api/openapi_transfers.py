"""The OpenAPI path items of the transfer routes (api/transfers.py), kept apart so api.openapi does not import the
routes (no import cycle: docs/architecture.md)."""

from __future__ import annotations

from typing import Any

from db.models import TRANSFER_STATUSES

TRANSFER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "item",
        "from_location",
        "to_location",
        "from_sku",
        "to_sku",
        "quantity",
        "cost",
        "reason",
        "status",
    ],
    "properties": {
        "id": {"type": "integer"},
        "item": {"type": "string", "description": "The product shared across locations"},
        "from_location": {"type": "string"},
        "to_location": {"type": "string"},
        "from_sku": {"type": "string", "description": "The giving SKU (the item at from_location)"},
        "to_sku": {"type": "string", "description": "The receiving SKU (the item at to_location)"},
        "quantity": {"type": "number"},
        "cost": {"type": "number", "description": "quantity x the lane's cost per unit"},
        "reason": {"type": "string", "description": "Why it was proposed, quoting the numbers"},
        "status": {"type": "string", "enum": list(TRANSFER_STATUSES)},
        "lead_time_days": {"type": "number", "description": "The lane's lead time"},
        "expected_date": {"type": "string", "format": "date", "nullable": True, "description": "Approved: arrival"},
    },
}


def openapi_paths(*, error: Any, json: Any, array_param: Any, auth_errors: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI path items of the routes above (api.openapi passes its helpers)."""
    listing = {
        "type": "object",
        "required": ["transfers"],
        "properties": {"transfers": {"type": "array", "items": TRANSFER_SCHEMA}},
    }
    return {
        "/transfers": {
            "get": {
                "operationId": "listTransfers",
                "summary": "Transfers between locations (proposed after each recompute), newest first",
                "x-required-role": "viewer",
                "parameters": [array_param("status", "Transfer status (default: all)", TRANSFER_STATUSES)],
                "responses": {
                    "200": json("The transfers", listing),
                    "400": error("A parameter is not valid (code invalid_parameter)"),
                    **auth_errors,
                },
            }
        },
        "/transfers/{transfer_id}/approve": {
            "post": {
                "operationId": "approveTransfer",
                "summary": "Approve a proposed transfer: on order at the receiver (arriving after the lane's lead "
                "time), taken from the giver's on hand in the next recompute",
                "x-required-role": "planner",
                "parameters": [
                    {"name": "transfer_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}
                ],
                "responses": {
                    "200": json(
                        "The approved transfer",
                        {"type": "object", "required": ["data"], "properties": {"data": TRANSFER_SCHEMA}},
                    ),
                    "404": error("No such transfer"),
                    "409": error("The transfer is not proposed (already approved, received or rejected)"),
                    **auth_errors,
                },
            }
        },
    }
