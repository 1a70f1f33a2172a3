"""The OpenAPI schemas and paths of the SKU routes: the SKU list (filters, sort, pages), one SKU's detail and
the portfolio summary (KPIs of the latest run against the previous one)."""

from __future__ import annotations

from typing import Any

from api.constants import DEFAULT_PER_PAGE, ENUM_FILTERS, MAX_PAGE, MAX_PER_PAGE
from api.openapi_common import (
    AUTH_ERRORS,
    CODE_PARAMETER,
    NO_SNAPSHOT,
    NUMBER,
    TEXT,
    array_param,
    data_schema,
    error_response,
    json_response,
    ref,
)
from services import watchtower
from services.master_data import TRACKED as MASTER_FIELDS

SKU_PROPERTIES: dict[str, Any] = {
    "code": {"type": "string"},
    "name": {"type": "string"},
    "category": {"type": "string"},
    "location": {"type": "string"},
    "item": {
        "type": "string",
        "description": "The product shared across locations (the SKU's own code when not given)",
    },
    "supplier": {"type": "string"},
    "incomplete_master_data": {
        "type": "boolean",
        "description": "Some master data is still at its default (nobody provided it): values that use it are unknown",
    },
    "defaulted_fields": {
        "type": "array",
        "items": {"type": "string", "enum": list(MASTER_FIELDS)},
        "description": "The fields at their defaults: unit_cost (0 or missing: money values are unknown), category "
        "(Uncategorised), lead_time_days (the default 14 days), supplier (Unassigned)",
    },
    "last_reported": {
        **TEXT,
        "format": "date",
        "description": "The SKU's last reported demand period where it is before the snapshot's data through "
        "(its numbers end there; periods after it are not reported, not zero); null when it is up to date",
    },
    "status": {**TEXT, "enum": [*ENUM_FILTERS["status"], None]},
    "status_reason": {**TEXT, "description": "Why the SKU has its status, quoting its numbers"},
    "on_hand": NUMBER,
    "on_order": NUMBER,
    "demand_per_period": {**NUMBER, "description": "Mean demand per period over the baseline window"},
    "forecast_per_period": {**NUMBER, "description": "Mean forecast demand per period"},
    "safety_stock": NUMBER,
    "reorder_point": NUMBER,
    "eoq": {**NUMBER, "description": "Economic order quantity, rounded to MOQ and order multiples"},
    "newsvendor_quantity": NUMBER,
    "days_of_cover": NUMBER,
    "abc": TEXT,
    "xyz": TEXT,
    "demand_class": TEXT,
    "value_at_risk": NUMBER,
    "recommended_qty": NUMBER,
    "inventory_value": NUMBER,
    "service_level": NUMBER,
    "lead_time_periods": NUMBER,
    "forecast_model": TEXT,
}

KPI = {
    "type": "object",
    "required": ["label", "value", "previous", "delta", "kind"],
    "properties": {
        "label": {"type": "string"},
        "value": NUMBER,
        "previous": NUMBER,
        "delta": NUMBER,
        "kind": {"type": "string"},
    },
}

RUN = {
    "type": "object",
    "nullable": True,
    "properties": {
        "id": {"type": "integer"},
        "started_at": TEXT,
        "finished_at": TEXT,
        "grain": TEXT,
        "data_as_of": TEXT,
        "sku_count": {"type": "integer"},
        "triggered_by": TEXT,
    },
}

SCHEMAS: dict[str, Any] = {
    "Sku": {"type": "object", "required": list(SKU_PROPERTIES), "properties": SKU_PROPERTIES},
    "SkuDetail": {
        "allOf": [
            ref("Sku"),
            {
                "type": "object",
                "required": ["forecast", "history"],
                "properties": {
                    "unit_cost": NUMBER,
                    "unit_price": NUMBER,
                    "moq": NUMBER,
                    "order_multiple": NUMBER,
                    "lead_time_days": NUMBER,
                    "one_shot": {
                        "type": "boolean",
                        "description": "Seasonal / one-shot buy: ordered with the newsvendor quantity, not replenished",
                    },
                    "order_by_date": {**TEXT, "format": "date"},
                    "overdue_days": {
                        "type": "integer",
                        "nullable": True,
                        "description": "Days the order-by date is before today (UTC), null when it is not",
                    },
                    "order_policy": {
                        **TEXT,
                        "enum": ["reorder_point", "newsvendor", "phase_out", None],
                        "description": "How the order is sized: replenishment, a one-shot newsvendor buy, or the "
                        "phase-out of a stopped seller (no order)",
                    },
                    "run_id": {"type": "integer", "nullable": True},
                    "forecast": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["period", "mean", "p10", "p50", "p90"],
                            "properties": {
                                "period": {"type": "string", "format": "date"},
                                "mean": NUMBER,
                                "p10": NUMBER,
                                "p50": NUMBER,
                                "p90": NUMBER,
                            },
                        },
                    },
                    "history": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["period", "quantity"],
                            "properties": {"period": {"type": "string", "format": "date"}, "quantity": NUMBER},
                        },
                    },
                },
            },
        ]
    },
    "SkuPage": {
        "type": "object",
        "required": ["data", "meta"],
        "properties": {
            "data": {"type": "array", "items": ref("Sku")},
            "meta": {
                "type": "object",
                "required": ["page", "per_page", "total", "pages", "run_id"],
                "properties": {
                    "page": {"type": "integer"},
                    "per_page": {"type": "integer"},
                    "total": {"type": "integer"},
                    "pages": {"type": "integer"},
                    "run_id": {"type": "integer"},
                    "data_as_of": {**TEXT, "format": "date"},
                },
            },
        },
    },
    "Summary": {
        "type": "object",
        "required": ["run", "sku_count", "status_counts", "kpis"],
        "properties": {
            "run": RUN,
            "previous_run": RUN,
            "sku_count": {"type": "integer"},
            "status_counts": {"type": "object", "additionalProperties": KPI},
            "kpis": {"type": "object", "additionalProperties": KPI},
        },
    },
}

SKU_LIST_PARAMETERS = [
    array_param("status", "Health status", ENUM_FILTERS["status"]),
    array_param("category", "Category"),
    array_param("location", "Location"),
    array_param("supplier", "Supplier"),
    array_param("abc", "ABC class (by annual value)", ENUM_FILTERS["abc"]),
    array_param("xyz", "XYZ class (by demand variability)", ENUM_FILTERS["xyz"]),
    array_param("demand_class", "Demand pattern (Syntetos-Boylan)", ENUM_FILTERS["demand_class"]),
    array_param(
        "master_data",
        "Master data: incomplete (some fields at their defaults) or complete",
        ENUM_FILTERS["master_data"],
    ),
    {
        "name": "q",
        "in": "query",
        "required": False,
        "description": "Text in the SKU code or name",
        "schema": {"type": "string", "maxLength": watchtower.MAX_SEARCH},
    },
    {
        "name": "sort",
        "in": "query",
        "required": False,
        "description": "Columns to sort by, '-' for descending (default: -value_at_risk,status)",
        "schema": {
            "type": "array",
            "items": {
                "type": "string",
                "enum": [*watchtower.SORT_COLUMNS, *(f"-{c}" for c in watchtower.SORT_COLUMNS)],
            },
        },
        "style": "form",
        "explode": False,
    },
    {
        "name": "page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    },
    {
        "name": "per_page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
    },
]

PATHS: dict[str, Any] = {
    "/skus": {
        "get": {
            "operationId": "listSkus",
            "summary": "SKUs of the latest snapshot, filtered and paged",
            "x-required-role": "viewer",
            "parameters": SKU_LIST_PARAMETERS,
            "responses": {
                "200": json_response("One page of SKUs", ref("SkuPage")),
                "400": error_response("A parameter is not valid (code invalid_parameter; details name it)"),
                "409": NO_SNAPSHOT,
                **AUTH_ERRORS,
            },
        }
    },
    "/skus/{code}": {
        "get": {
            "operationId": "getSku",
            "summary": "One SKU with its forecast (mean, p10, p50, p90) and demand history",
            "x-required-role": "viewer",
            "parameters": [CODE_PARAMETER],
            "responses": {
                "200": json_response("The SKU", data_schema(ref("SkuDetail"))),
                "404": error_response("No SKU has that code"),
                **AUTH_ERRORS,
            },
        }
    },
    "/summary": {
        "get": {
            "operationId": "getSummary",
            "summary": "The Watchtower KPIs: SKUs per status and portfolio KPIs, with the previous run's values",
            "x-required-role": "viewer",
            "responses": {
                "200": json_response("KPIs of the latest snapshot", data_schema(ref("Summary"))),
                "409": NO_SNAPSHOT,
                **AUTH_ERRORS,
            },
        }
    },
}
