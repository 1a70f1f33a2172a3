"""The OpenAPI schema and path of the supply plan (``/supply-plan``)."""

from __future__ import annotations

from typing import Any

from api.openapi_common import (
    AUTH_ERRORS,
    NO_SNAPSHOT,
    NUMBER,
    TEXT,
    data_schema,
    error_response,
    json_response,
    ref,
)

SUPPLY_RESOURCE_PERIOD = {
    "type": "object",
    "required": ["period", "capacity", "overtime_capacity", "required", "planned", "overtime_used", "shortfall"],
    "properties": {
        "period": {"type": "string", "format": "date", "description": "Start of the plan period"},
        "capacity": {**NUMBER, "description": "Regular capacity (capacity units); null: no capacity known (no limit)"},
        "overtime_capacity": NUMBER,
        "required": {**NUMBER, "description": "Load of the net requirements (demand + target - projected stock)"},
        "planned": {**NUMBER, "description": "Load the plan supplies (feasible: <= capacity + overtime capacity)"},
        "overtime_used": NUMBER,
        "shortfall": {**NUMBER, "description": "Load left short of demand and target inventory"},
    },
}
SUPPLY_SKU_PERIOD = {
    "type": "object",
    "required": ["period", "demand", "supply", "projected_inventory", "target_inventory", "unmet_demand"],
    "properties": {
        "period": {"type": "string", "format": "date"},
        "demand": {"type": "number"},
        "supply": {"type": "number"},
        "projected_inventory": {"type": "number"},
        "target_inventory": {"type": "number", "description": "Safety stock + half the lot"},
        "unmet_demand": {"type": "number"},
    },
}
SCHEMAS: dict[str, Any] = {
    "SupplyPlan": {
        "type": "object",
        "required": ["strategy", "grain", "periods", "resources", "skus", "totals"],
        "properties": {
            "strategy": {"type": "string", "enum": ["chase", "level", "optimal"], "description": "The plan shown"},
            "requested_strategy": {"type": "string", "enum": ["chase", "level", "optimal"]},
            "grain": {"type": "string", "enum": ["weekly", "monthly"], "description": "The resources file's grain"},
            "horizon": {"type": "integer"},
            "overtime_pct": NUMBER,
            "run_id": {"type": "integer", "nullable": True},
            "data_as_of": {**TEXT, "format": "date"},
            "message": {
                "type": "string",
                "description": "Why the optimum fell back to chase, periods without capacity",
            },
            "periods": {"type": "array", "items": {"type": "string", "format": "date"}},
            "resources": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["resource", "periods"],
                    "properties": {
                        "resource": {"type": "string"},
                        "periods": {"type": "array", "items": SUPPLY_RESOURCE_PERIOD},
                    },
                },
            },
            "skus": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["sku", "periods"],
                    "properties": {
                        "sku": {"type": "string"},
                        "name": {"type": "string"},
                        "resource": TEXT,
                        "unmet_demand": {"type": "number"},
                        "reason": {**TEXT, "description": "Why the SKU is short, quoting its resource's numbers"},
                        "periods": {"type": "array", "items": SUPPLY_SKU_PERIOD},
                    },
                },
            },
            "totals": {
                "type": "object",
                "required": [
                    "regular_cost",
                    "overtime_cost",
                    "holding_cost",
                    "shortage_cost",
                    "total_cost",
                    "shortage_units",
                    "fill_rate",
                ],
                "properties": {
                    name: {"type": "number"}
                    for name in (
                        "regular_cost",
                        "overtime_cost",
                        "holding_cost",
                        "shortage_cost",
                        "total_cost",
                        "shortage_units",
                        "fill_rate",
                    )
                },
            },
            "solver": {"type": "object", "description": "LP size (variables, constraints, nonzeros) and seconds"},
        },
    }
}

PATHS: dict[str, Any] = {
    "/supply-plan": {
        "get": {
            "operationId": "supplyPlan",
            "summary": "Supply plan against resource capacities: chase, level or optimal (LP), 3-18 periods",
            "description": (
                "The CLI's `supply-plan --json` document. Demand is the latest run's forecast after overrides; the "
                "plan's grain follows the resources file. An optimal plan whose linear programme cannot be solved "
                "in time (or is too large) comes back as the chase plan with a message."
            ),
            "x-required-role": "viewer",
            "parameters": [
                {
                    "name": "horizon",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 3, "maximum": 18, "default": 12},
                },
                {
                    "name": "strategy",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["chase", "level", "optimal"], "default": "chase"},
                },
                {
                    "name": "overtime_pct",
                    "in": "query",
                    "required": False,
                    "description": "Overtime capacity as a % of regular capacity (default: the resources file's)",
                    "schema": {"type": "number", "minimum": 0, "maximum": 200},
                },
                {
                    "name": "skus",
                    "in": "query",
                    "required": False,
                    "description": "false: leave out the per-SKU rows",
                    "schema": {"type": "boolean", "default": True},
                },
            ],
            "responses": {
                "200": json_response("The plan", data_schema(ref("SupplyPlan"))),
                "400": error_response("A parameter is not valid (code invalid_parameter)"),
                "409": NO_SNAPSHOT,
                **AUTH_ERRORS,
            },
        }
    },
}
