"""The OpenAPI paths of the consensus demand routes (api/adjustments.py), merged into the document by api/openapi.py."""

from __future__ import annotations

from typing import Any

from api.openapi_cycles import AUTH, _data, _error
from services.consensus import FVA_BY, MAX_REASON, PCT_RANGE

ADJUSTMENT: dict[str, Any] = {
    "type": "object",
    "required": ["id", "scope_kind", "scope", "period", "reason", "user_email", "created_at", "active"],
    "properties": {
        "id": {"type": "integer"},
        "scope_kind": {"type": "string", "enum": ["sku", "category"]},
        "scope": {"type": "string", "description": "the SKU code or the category name"},
        "period": {"type": "string", "description": "the month, YYYY-MM"},
        "change_pct": {"type": "number", "nullable": True, "description": "percent (10 = +10 %)"},
        "change_units": {"type": "number", "nullable": True, "description": "units over the month for the scope"},
        "change": {"type": "string", "description": "the change as shown"},
        "reason": {"type": "string"},
        "user_email": {"type": "string"},
        "created_at": {"type": "string", "description": "ISO date and time (UTC)"},
        "active": {"type": "boolean", "description": "false: superseded or deleted"},
    },
}
NEW_ADJUSTMENT: dict[str, Any] = {
    "type": "object",
    "required": ["scope", "period", "reason"],
    "additionalProperties": False,
    "description": "exactly one of change_pct and change_units",
    "properties": {
        "scope": {"type": "string", "description": "a SKU code, category:NAME, or a category name"},
        "period": {"type": "string", "description": "a month (2027-01) or a date within it, in the forecast"},
        "change_pct": {"type": "number", "minimum": PCT_RANGE[0], "maximum": PCT_RANGE[1]},
        "change_units": {"type": "number"},
        "reason": {"type": "string", "maxLength": MAX_REASON},
    },
}
FVA_ROW: dict[str, Any] = {
    "type": "object",
    "description": "error before the layer and after it on the periods with actuals; fva = before - after",
    "properties": {
        name: {"type": "number", "nullable": True}
        for name in (
            "actual_sum",
            "mae_before",
            "mae_after",
            "fva_mae",
            "wape_before",
            "wape_after",
            "fva_wape",
            "bias_before",
            "bias_after",
            "improved_share",
        )
    }
    | {
        "layer": {"type": "string", "enum": ["overrides", "commercial", "consensus"]},
        "key": {"type": "string"},
        "periods": {"type": "integer"},
    },
}

ADJUSTMENT_PATHS: dict[str, Any] = {
    "/adjustments": {
        "get": {
            "operationId": "listAdjustments",
            "summary": "Commercial adjustments in force, newest first (as `consensus list --json`)",
            "x-required-role": "viewer",
            "parameters": [
                {"name": "all", "in": "query", "required": False, "schema": {"type": "boolean"}},
            ],
            "responses": {"200": _data("The adjustments", {"type": "array", "items": ADJUSTMENT}), **AUTH},
        },
        "post": {
            "operationId": "addAdjustment",
            "summary": "Save a commercial adjustment (supersedes the one for its scope and month); recomputes its SKUs",
            "x-required-role": "planner",
            "requestBody": {"required": True, "content": {"application/json": {"schema": NEW_ADJUSTMENT}}},
            "responses": {
                "200": _data("The adjustment saved, with the recompute's run_id", ADJUSTMENT),
                "400": _error("A bad field: unknown scope, month outside the forecast, both or no change, no reason"),
                **AUTH,
            },
        },
    },
    "/adjustments/{adjustment_id}": {
        "delete": {
            "operationId": "deleteAdjustment",
            "summary": "Delete an adjustment in force; recomputes its SKUs",
            "x-required-role": "planner",
            "parameters": [{"name": "adjustment_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {
                "200": _data("The adjustment deleted", ADJUSTMENT),
                "404": _error("No such adjustment"),
                **AUTH,
            },
        }
    },
    "/adjustments/fva": {
        "get": {
            "operationId": "adjustmentsFva",
            "summary": "Forecast value added of each demand layer (as `consensus fva --json`)",
            "x-required-role": "viewer",
            "parameters": [
                {"name": "by", "in": "query", "required": False, "schema": {"type": "string", "enum": list(FVA_BY)}}
            ],
            "responses": {"200": _data("One row per layer and key", {"type": "array", "items": FVA_ROW}), **AUTH},
        }
    },
}
