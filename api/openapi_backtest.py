"""The OpenAPI schema and path of the policy backtest (``/backtest``, issue 24)."""

from __future__ import annotations

from typing import Any

from api.openapi_common import (
    AUTH_ERRORS,
    CODE_PARAMETER,
    NUMBER,
    TEXT,
    data_schema,
    error_response,
    json_response,
    ref,
)

_BACKTEST_POINT = {
    "type": "object",
    "required": ["fill_rate", "cycle_service_level", "average_inventory_value", "target_service_level"],
    "properties": {
        "fill_rate": {**NUMBER, "description": "Units served from stock / units demanded over every SKU replayed"},
        "cycle_service_level": {**NUMBER, "description": "Mean over SKUs of the share of periods without a stockout"},
        "average_inventory_value": {**NUMBER, "description": "Sum over SKUs of the average on-hand value"},
        "target_service_level": {**NUMBER, "description": "The SKUs' own service targets, weighted by demand"},
    },
}
SCHEMAS: dict[str, Any] = {
    "Backtest": {
        "type": "object",
        "required": ["periods", "portfolio", "baseline", "frontier", "skus", "excluded"],
        "properties": {
            "periods": {"type": "integer", "description": "Periods replayed (the last N of the history)"},
            "portfolio": {**_BACKTEST_POINT, "description": "The engine's policies"},
            "baseline": {**_BACKTEST_POINT, "description": "The textbook policy at each SKU's own target"},
            "frontier": {
                "type": "array",
                "description": "The textbook policy at one service target for every SKU, 0.50 to 0.999",
                "items": {
                    "type": "object",
                    "properties": {"service_target": NUMBER, "fill_rate": NUMBER, "average_inventory_value": NUMBER},
                },
            },
            "skus": {
                "type": "array",
                "description": "The engine's replay per SKU, in code order",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "demand": NUMBER,
                        "fill_rate": NUMBER,
                        "cycle_service_level": NUMBER,
                        "stockout_periods": {"type": "integer"},
                        "average_inventory_units": NUMBER,
                        "average_inventory_value": NUMBER,
                        "orders": {"type": "integer"},
                    },
                },
            },
            "excluded": {
                "type": "array",
                "description": "SKUs left out: history shorter than N + 8 periods (or none)",
                "items": {"type": "object", "properties": {"code": {"type": "string"}, "reason": {"type": "string"}}},
            },
            "comparison": {
                "type": "object",
                "description": "The engine's point against the textbook frontier (null outside its range)",
                "properties": {
                    "fill_gap_at_equal_inventory": NUMBER,
                    "inventory_ratio_at_equal_fill": NUMBER,
                    "baseline_fill_at_equal_inventory": NUMBER,
                    "baseline_inventory_at_equal_fill": NUMBER,
                    "verdict": {"type": "string", "enum": ["above", "on", "below", "unknown"]},
                },
            },
            "scope": {"type": "object"},
            "grain": TEXT,
            "data_as_of": TEXT,
            "replay_start": TEXT,
            "replay_end": TEXT,
            "fit_periods": {"type": "integer"},
            "sku_count": {"type": "integer"},
            "computed_at": TEXT,
            "seconds": NUMBER,
        },
    }
}
PATHS: dict[str, Any] = {
    "/backtest": {
        "get": {
            "operationId": "policyBacktest",
            "summary": (
                "Would the policies have worked? Replay the engine's and the textbook's through the last N periods"
            ),
            "description": (
                "Fits the engine on all but the last N periods exactly as a recompute would, replays its reorder "
                "policies and the textbook policy (at each SKU's own target and swept over 0.50-0.999) through the "
                "last N periods of real demand, and answers when done (seconds; 10,000 SKUs take about 20 s). The "
                "result is stored: the Risk page and the portfolio briefing show the latest one of a scope."
            ),
            "x-required-role": "viewer",
            "parameters": [
                {
                    "name": "periods",
                    "in": "query",
                    "required": False,
                    "description": "N, periods replayed (default 26 weekly / 12 monthly / 90 daily; at most the "
                    "history less 8)",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 1200},
                },
                {**CODE_PARAMETER, "in": "query", "name": "sku", "required": False, "description": "Only this SKU"},
                {
                    "name": "category",
                    "in": "query",
                    "required": False,
                    "description": "Only the SKUs of this category",
                    "schema": {"type": "string", "maxLength": 100},
                },
                {
                    "name": "abc",
                    "in": "query",
                    "required": False,
                    "description": "Only the SKUs of this ABC class (latest recompute)",
                    "schema": {"type": "string", "enum": ["A", "B", "C"]},
                },
            ],
            "responses": {
                "200": json_response("The backtest document", data_schema(ref("Backtest"))),
                "400": error_response(
                    "periods, sku, category or abc is not valid, or N is longer than the history allows"
                ),
                "404": error_response("No active SKU in the scope (unknown SKU, empty category or class)"),
                "422": error_response(
                    "Nothing to replay: no demand, or no SKU with N + 8 periods of history (code validation_failed)"
                ),
                **AUTH_ERRORS,
            },
        }
    }
}
