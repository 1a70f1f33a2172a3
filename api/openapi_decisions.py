"""The OpenAPI path of the decision log route (api/decisions.py), merged into the document by api/openapi.py."""

from __future__ import annotations

from typing import Any

from api.openapi_cycles import AUTH, _data, _error
from services.decisions import KINDS, MAX_LIMIT, OUTCOME_FILTERS

DECISION: dict[str, Any] = {
    "type": "object",
    "required": ["id", "kind", "action", "at", "what", "outcome_state", "outcome"],
    "properties": {
        "id": {"type": "integer", "description": "the audit-log entry the decision comes from"},
        "kind": {"type": "string", "enum": list(KINDS.values())},
        "action": {"type": "string", "enum": list(KINDS)},
        "at": {"type": "string", "description": "ISO date and time (UTC)"},
        "user": {"type": "string", "nullable": True, "description": "null: made from the command line"},
        "sku": {"type": "string", "nullable": True, "description": "the SKU code, where the decision has one"},
        "target": {"type": "string", "nullable": True},
        "what": {"type": "string"},
        "before": {"nullable": True, "description": "the number before (recommended / old quantity, statistical)"},
        "after": {"nullable": True, "description": "the number after (approved / new quantity, override, target)"},
        "outcome_state": {"type": "string", "enum": list(OUTCOME_FILTERS)},
        "outcome": {"type": "string", "description": "one line: what became of the decision"},
        "outcome_values": {
            "type": "object",
            "description": "the outcome's figures: fva, statistical_wape, override_wape (overrides); days_late, "
            "arrival_date, promised_date, stocked_out, first_stockout (orders); fill_after, fill_before, "
            "avg_on_hand_after, avg_on_hand_before (policies)",
        },
    },
}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


DECISION_PATHS: dict[str, Any] = {
    "/decisions": {
        "get": {
            "operationId": "listDecisions",
            "summary": "The decision log with outcomes, newest first (as `decisions --json`)",
            "x-required-role": "viewer",
            "parameters": [
                _query("kind", "an action or its kind", {"type": "string", "enum": [*KINDS, *KINDS.values()]}),
                _query("sku", "only decisions about this SKU code", {"type": "string", "maxLength": 100}),
                _query("user", "part of the decider's e-mail", {"type": "string", "maxLength": 100}),
                _query("from", "first day (UTC), inclusive", {"type": "string", "format": "date"}),
                _query("to", "last day (UTC), inclusive", {"type": "string", "format": "date"}),
                _query("outcome", "outcome state", {"type": "string", "enum": list(OUTCOME_FILTERS)}),
                _query(
                    "limit",
                    "at most N decisions (default 500)",
                    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                ),
            ],
            "responses": {
                "200": _data("The decisions", {"type": "array", "items": DECISION}),
                "400": _error("A parameter out of range: unknown kind or outcome, a bad date, from after to"),
                **AUTH,
            },
        }
    },
}
