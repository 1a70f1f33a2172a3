"""The OpenAPI paths of the S&OP cycle routes (api/cycles.py), merged into the document by api/openapi.py."""

from __future__ import annotations

from typing import Any

NUMBER = {"type": "number", "nullable": True}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _data(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    body = {"type": "object", "required": ["data"], "properties": {"data": schema}}
    return {"description": description, "content": {"application/json": {"schema": body}}}


AUTH = {
    "401": _error("No token, or the token is not valid / revoked"),
    "403": _error("The token's user lacks the role this route needs"),
    "500": _error("Unexpected server error (no details are exposed)"),
}

CYCLE: dict[str, Any] = {
    "type": "object",
    "required": ["id", "name", "closed_at", "run_id", "totals"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "closed_at": {"type": "string", "description": "ISO date and time (UTC)"},
        "closed_by": {"type": "string", "nullable": True},
        "run_id": {"type": "integer", "nullable": True},
        "data_as_of": {"type": "string", "format": "date", "nullable": True},
        "grain": {"type": "string", "nullable": True},
        "supply_source": {"type": "string"},
        "totals": {
            "type": "object",
            "description": "demand, supply, unmet, ending_inventory (units over the horizon); revenue, margin, "
            "inventory_value, ending_inventory_value, open_orders_value, recommended_orders_value (money); "
            "sku_count, horizon, plan_grain, first_period, last_period",
        },
    },
}
PAIR = {
    "type": "object",
    "properties": {"a": NUMBER, "b": NUMBER, "change": NUMBER, "change_pct": NUMBER},
}
SKU_CHANGE: dict[str, Any] = {
    "type": "object",
    "required": ["code", "demand_a", "demand_b", "change", "change_pct"],
    "properties": {
        "code": {"type": "string"},
        "name": {"type": "string", "nullable": True},
        "category": {"type": "string"},
        "demand_a": NUMBER,
        "demand_b": NUMBER,
        "change": {**NUMBER, "description": "demand_b - demand_a (units over the horizon)"},
        "change_pct": {**NUMBER, "description": "change / demand_a x 100; null where demand_a is 0"},
        **{
            f"{field}_{suffix}": NUMBER
            for field in ("supply", "ending_inventory", "revenue", "margin", "inventory_value")
            for suffix in ("a", "b", "change")
        },
        "in_a": {"type": "boolean"},
        "in_b": {"type": "boolean"},
    },
}
COMPARISON: dict[str, Any] = {
    "type": "object",
    "required": ["a", "b", "totals", "by_category", "skus", "sku_count", "periods"],
    "properties": {
        "a": CYCLE,
        "b": CYCLE,
        "totals": {"type": "object", "additionalProperties": PAIR},
        "by_category": {"type": "array", "items": {"type": "object"}},
        "skus": {"type": "array", "items": SKU_CHANGE, "description": "sorted by the absolute demand change"},
        "sku_count": {"type": "integer"},
        "periods": {"type": "array", "items": {"type": "object"}},
    },
}


def _ref_param(name: str, what: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": True,
        "description": f"{what} (its name, or its id)",
        "schema": {"type": "string", "minLength": 1, "maxLength": 120},
    }


CYCLE_PATHS: dict[str, Any] = {
    "/cycles": {
        "get": {
            "operationId": "listCycles",
            "summary": "The closed S&OP cycles, newest first (as `cycle list --json`)",
            "x-required-role": "viewer",
            "responses": {"200": _data("The cycles", {"type": "array", "items": CYCLE}), **AUTH},
        }
    },
    "/cycles/compare": {
        "get": {
            "operationId": "compareCycles",
            "summary": "Two cycles side by side: totals, by category, per SKU sorted by absolute demand change",
            "description": "The CLI's `cycle compare A B --json` document. `change` = B - A.",
            "x-required-role": "viewer",
            "parameters": [
                _ref_param("a", "The earlier cycle"),
                _ref_param("b", "The later cycle"),
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "description": "keep the N SKUs with the largest changes (default: all)",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100000},
                },
            ],
            "responses": {
                "200": _data("The comparison", COMPARISON),
                "400": _error("a or b missing or too long, or limit not a whole number from 1 to 100,000"),
                "404": _error("No cycle with that name or id"),
                **AUTH,
            },
        }
    },
}
