"""The OpenAPI path item of the promotions route (api/promotions.py), kept apart so api.openapi does not import the
routes (no import cycle: docs/architecture.md)."""

from __future__ import annotations

from typing import Any

from api.openapi_common import AUTH_ERRORS, error_response, json_response

PROMOTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["sku", "date", "promoted", "promotion"],
    "properties": {
        "sku": {"type": "string"},
        "date": {"type": "string", "format": "date", "description": "The period (history or plan)"},
        "price": {"type": "number", "nullable": True, "description": "Selling price that period"},
        "promoted": {"type": "boolean"},
        "promotion": {"type": "string", "description": "The label, or yes / no"},
        "features": {"type": "string", "description": "Named causal columns, e.g. 'display 1, feature 1'"},
    },
}

PROMOTION_PATHS: dict[str, Any] = {
    "/promotions": {
        "get": {
            "operationId": "listPromotions",
            "summary": "Prices and promotions per SKU and period (history and plan), by SKU then period",
            "x-required-role": "viewer",
            "parameters": [
                {"name": "sku", "in": "query", "required": False, "schema": {"type": "string"}},
                {"name": "since", "in": "query", "required": False, "schema": {"type": "string", "format": "date"}},
            ],
            "responses": {
                "200": json_response(
                    "The promotion rows",
                    {
                        "type": "object",
                        "required": ["promotions"],
                        "properties": {"promotions": {"type": "array", "items": PROMOTION_SCHEMA}},
                    },
                ),
                "400": error_response("A parameter is not valid (code invalid_parameter)"),
                **AUTH_ERRORS,
            },
        }
    }
}
