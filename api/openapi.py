"""The OpenAPI 3 document of /api/v1 (written by hand; a test checks it lists exactly the blueprint's routes)."""

from __future__ import annotations

import copy
from typing import Any

from api.constants import DEFAULT_PER_PAGE, ENUM_FILTERS, MAX_PAGE, MAX_PER_PAGE, ORDER_STATUSES, PREFIX
from api.openapi_cycles import CYCLE_PATHS
from api.openapi_decisions import DECISION_PATHS
from api.openapi_transfers import openapi_paths as transfer_paths
from services import ingest, watchtower
from services.master_data import TRACKED as MASTER_FIELDS

NUMBER = {"type": "number", "nullable": True}
TEXT = {"type": "string", "nullable": True}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _data(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["data"], "properties": {"data": schema}}


PDF_RESPONSE = {
    "description": "The PDF (Content-Disposition: attachment; X-Briefing-Id: the stored copy's id)",
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
}

AUTH_ERRORS = {
    "401": _error("No token, or the token is not valid / revoked"),
    "403": _error("The token's user lacks the role this route needs"),
    "500": _error("Unexpected server error (no details are exposed)"),
}

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
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "details"],
                "properties": {
                    "code": {"type": "string", "example": "invalid_parameter"},
                    "message": {"type": "string"},
                    "details": {"type": "array", "items": {"type": "object"}},
                },
            }
        },
    },
    "Sku": {"type": "object", "required": list(SKU_PROPERTIES), "properties": SKU_PROPERTIES},
    "SkuDetail": {
        "allOf": [
            _ref("Sku"),
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
            "data": {"type": "array", "items": _ref("Sku")},
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
    "PurchaseOrder": {
        "type": "object",
        "required": ["id", "sku", "status", "qty", "supplier"],
        "properties": {
            "id": {"type": "integer"},
            "sku": {"type": "string"},
            "sku_name": {"type": "string"},
            "category": {"type": "string"},
            "supplier": {"type": "string"},
            "status": {"type": "string", "enum": list(ORDER_STATUSES)},
            "qty": {"type": "number", "description": "A whole number (integer) where the order multiple is whole"},
            "recommended_qty": NUMBER,
            "unit_cost": NUMBER,
            "value": {
                **NUMBER,
                "description": "qty x unit cost; null when the SKU has no unit cost (unit_cost_missing)",
            },
            "unit_cost_missing": {
                "type": "boolean",
                "description": "The SKU's unit cost is 0 or still at its default: the order's value is unknown",
            },
            "reason": {"type": "string"},
            "edit_reason": TEXT,
            "order_by": {**TEXT, "format": "date"},
            "created_at": TEXT,
            "run_id": {"type": "integer", "nullable": True},
            "approved_by": TEXT,
            "approved_at": TEXT,
            "order_date": {**TEXT, "format": "date"},
            "promised_date": {**TEXT, "format": "date"},
            "received_by": TEXT,
            "received_at": TEXT,
            "received_date": {**TEXT, "format": "date"},
            "received_qty": NUMBER,
            "closed_by": TEXT,
            "closed_at": TEXT,
            "moq": NUMBER,
            "order_multiple": NUMBER,
            "status_reason": {**TEXT, "description": "The planner's reason for rejecting or cancelling the order"},
            "overdue_days": {
                "type": "integer",
                "nullable": True,
                "description": "Recommended orders: days the order-by date is before today (UTC), null when it is not",
            },
        },
    },
    "RowError": {
        "type": "object",
        "required": ["line", "column", "value", "reason"],
        "properties": {
            "line": {"type": "integer", "nullable": True, "description": "1 is the header; null for the whole file"},
            "column": TEXT,
            "value": {"type": "string"},
            "reason": {"type": "string"},
        },
    },
    "ImportResult": {
        "type": "object",
        "required": ["kind", "file_name", "status", "rows_read", "rows_accepted", "rows_rejected", "errors"],
        "properties": {
            "kind": {"type": "string", "enum": list(ingest.KINDS)},
            "file_name": {"type": "string"},
            "status": {"type": "string", "enum": ["committed", "checked"]},
            "summary": {"type": "string"},
            "message": {"type": "string"},
            "rows_read": {"type": "integer"},
            "rows_accepted": {"type": "integer"},
            "rows_rejected": {"type": "integer"},
            "inserted": {"type": "integer"},
            "updated": {"type": "integer"},
            "unchanged": {"type": "integer"},
            "skus_created": {"type": "integer"},
            "skus_to_create": {"type": "integer"},
            "error_count": {"type": "integer"},
            "batch_id": {"type": "integer", "nullable": True},
            "format": {"type": "object"},
            "full_extract": {"type": "boolean"},
            "coverage": {
                "type": "object",
                "nullable": True,
                "description": "Demand files: periods covered, incomplete periods, rows added / updated per SKU "
                "(per_sku), the active SKUs not in the file (absent_count, absent, absent_text)",
            },
            "names": {
                "type": "object",
                "nullable": True,
                "description": "Files naming products: names matched by name (by_name), SKUs to create (new) and "
                "near_duplicates of existing names",
            },
            "error_groups": {
                "type": "array",
                "items": {"type": "object"},
                "description": "One entry per distinct problem: column, reason, count, lines (first five), values",
            },
            "errors": {"type": "array", "items": _ref("RowError"), "description": "Skipped rows (first 100)"},
        },
    },
    "RunSummary": {
        "type": "object",
        "required": ["run_id", "status", "sku_count"],
        "properties": {
            "run_id": {"type": "integer", "nullable": True},
            "status": {"type": "string"},
            "sku_count": {"type": "integer"},
            "seconds": NUMBER,
            "grain": TEXT,
            "data_as_of": TEXT,
            "kpis": {"type": "object"},
        },
    },
    "RunQueued": {
        "type": "object",
        "required": ["run_id", "job_id", "status", "location"],
        "properties": {
            "run_id": {"type": "integer"},
            "job_id": {"type": "string", "description": "Celery task id"},
            "status": {"type": "string", "enum": ["queued"]},
            "location": {"type": "string", "description": "Where to poll the run (also the Location header)"},
        },
    },
    "RunStatus": {
        "type": "object",
        "required": ["run_id", "status"],
        "properties": {
            "run_id": {"type": "integer"},
            "status": {"type": "string", "enum": ["running", "finished", "failed", "cancelled"]},
            "started_at": TEXT,
            "finished_at": TEXT,
            "grain": TEXT,
            "data_as_of": TEXT,
            "sku_count": {"type": "integer"},
            "triggered_by": TEXT,
            "error": TEXT,
            "kpis": {"type": "object", "nullable": True, "description": "The run's KPIs once it has finished"},
            "scope": {
                "type": "object",
                "nullable": True,
                "description": "Partial runs (some SKUs recomputed, the others carried forward): partial, skus, "
                "sku_count, carried_from, carried_skus; null for a full run",
            },
        },
    },
}


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
SCHEMAS["SupplyPlan"] = {
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
        "message": {"type": "string", "description": "Why the optimum fell back to chase, periods without capacity"},
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


def _array_param(name: str, description: str, values: tuple[str, ...] | None = None) -> dict[str, Any]:
    items: dict[str, Any] = {"type": "string", "maxLength": 100}
    if values:
        items = {"type": "string", "enum": list(values)}
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description + " (repeat the parameter or separate values with commas)",
        "schema": {"type": "array", "items": items},
        "style": "form",
        "explode": True,
    }


SKU_LIST_PARAMETERS = [
    _array_param("status", "Health status", ENUM_FILTERS["status"]),
    _array_param("category", "Category"),
    _array_param("location", "Location"),
    _array_param("supplier", "Supplier"),
    _array_param("abc", "ABC class (by annual value)", ENUM_FILTERS["abc"]),
    _array_param("xyz", "XYZ class (by demand variability)", ENUM_FILTERS["xyz"]),
    _array_param("demand_class", "Demand pattern (Syntetos-Boylan)", ENUM_FILTERS["demand_class"]),
    _array_param(
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

CODE_PARAMETER = {
    "name": "code",
    "in": "path",
    "required": True,
    "description": "SKU code",
    "schema": {"type": "string", "minLength": 1, "maxLength": 64},
}

NO_SNAPSHOT = _error("No recompute has finished yet (code no_snapshot)")

PATHS: dict[str, dict[str, Any]] = {
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "security": [],
            "responses": {"200": _json("The OpenAPI 3 document", {"type": "object"})},
        }
    },
    "/skus": {
        "get": {
            "operationId": "listSkus",
            "summary": "SKUs of the latest snapshot, filtered and paged",
            "x-required-role": "viewer",
            "parameters": SKU_LIST_PARAMETERS,
            "responses": {
                "200": _json("One page of SKUs", _ref("SkuPage")),
                "400": _error("A parameter is not valid (code invalid_parameter; details name it)"),
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
                "200": _json("The SKU", _data(_ref("SkuDetail"))),
                "404": _error("No SKU has that code"),
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
                "200": _json("KPIs of the latest snapshot", _data(_ref("Summary"))),
                "409": NO_SNAPSHOT,
                **AUTH_ERRORS,
            },
        }
    },
    "/purchase-orders": {
        "get": {
            "operationId": "listPurchaseOrders",
            "summary": "Purchase orders (default: recommended and approved), by supplier, then order-by date",
            "x-required-role": "viewer",
            "parameters": [
                _array_param("status", "Order status (default: recommended,approved)", ORDER_STATUSES),
                {"name": "supplier", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 100}},
                {
                    "name": "sku",
                    "in": "query",
                    "required": False,
                    "description": "SKU code",
                    "schema": {"type": "string", "maxLength": 64},
                },
                SKU_LIST_PARAMETERS[-2],
                SKU_LIST_PARAMETERS[-1],
            ],
            "responses": {
                "200": _json(
                    "One page of orders",
                    {
                        "type": "object",
                        "required": ["data", "meta"],
                        "properties": {
                            "data": {"type": "array", "items": _ref("PurchaseOrder")},
                            "meta": {
                                "type": "object",
                                "properties": {
                                    "page": {"type": "integer"},
                                    "per_page": {"type": "integer"},
                                    "total": {"type": "integer"},
                                    "pages": {"type": "integer"},
                                },
                            },
                        },
                    },
                ),
                "400": _error("A parameter is not valid (code invalid_parameter)"),
                **AUTH_ERRORS,
            },
        }
    },
    "/purchase-orders/{order_id}/approve": {
        "post": {
            "operationId": "approvePurchaseOrder",
            "summary": "Approve a recommended order: it becomes on order (order date today, promised date + lead time)",
            "x-required-role": "planner",
            "parameters": [
                {"name": "order_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}
            ],
            "responses": {
                "200": _json("The approved order", _data(_ref("PurchaseOrder"))),
                "404": _error("No such order"),
                "409": _error("The order is not recommended (already approved, received...) or its quantity is 0"),
                **AUTH_ERRORS,
            },
        }
    },
    "/imports/{kind}": {
        "post": {
            "operationId": "importCsv",
            "summary": "Import a CSV file or a workbook (.xlsx, .xlsm, .ods; same validation and errors as the Data "
            "page); does not recompute",
            "x-required-role": "planner",
            "parameters": [
                {
                    "name": "kind",
                    "in": "path",
                    "required": True,
                    "description": "What the file holds (formats: docs/csv-formats.md)",
                    "schema": {"type": "string", "enum": list(ingest.KINDS)},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {
                                "file": {"type": "string", "format": "binary"},
                                "on_error": {
                                    "type": "string",
                                    "enum": ["reject", "skip"],
                                    "default": "reject",
                                    "description": "reject: any bad row rejects the file; skip: import the good rows",
                                },
                                "create_skus": {"type": "boolean", "default": False},
                                "confirm_new_skus": {
                                    "type": "boolean",
                                    "default": False,
                                    "description": "With create_skus: create SKUs whose names are close to existing "
                                    "SKU names (near-duplicates); without it such an import is rejected (a dry run "
                                    "lists them in names.near_duplicates)",
                                },
                                "full_extract": {
                                    "type": "boolean",
                                    "default": False,
                                    "description": "Demand: the file lists every active SKU; an active SKU or period "
                                    "missing from it in the periods it covers is recorded as zero sales",
                                },
                                "date_format": {"type": "string", "example": "%d/%m/%Y"},
                                "sheet": {
                                    "type": "string",
                                    "maxLength": 100,
                                    "description": "A workbook's sheet to read (default: the first sheet whose header "
                                    "fits the kind); row numbers in errors are the spreadsheet's",
                                },
                                "dry_run": {
                                    "type": "boolean",
                                    "default": False,
                                    "description": "Validate only; nothing is written",
                                },
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": _json("Imported (or checked, with dry_run)", _data(_ref("ImportResult"))),
                "400": _error("No file, or a form field is not valid"),
                "404": _error("Unknown kind"),
                "413": _error("The file is larger than the upload limit"),
                "422": _error("The file was rejected (code import_rejected; details: the row errors, first 100)"),
                **AUTH_ERRORS,
            },
        }
    },
    "/briefings/portfolio.pdf": {
        "get": {
            "operationId": "portfolioBriefing",
            "summary": "The portfolio (or one segment's) briefing PDF of the latest snapshot, kept for download again",
            "x-required-role": "viewer",
            "parameters": [
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "description": f"Only the SKUs of this {label} (KPIs computed for the segment)",
                    "schema": {
                        "type": "string",
                        "maxLength": 100,
                        **({"enum": ["A", "B", "C"]} if name == "abc" else {}),
                    },
                }
                for name, label in (("category", "category"), ("location", "location"), ("abc", "ABC class"))
            ],
            "responses": {
                "200": PDF_RESPONSE,
                "400": _error("A parameter is not valid (code invalid_parameter)"),
                "422": _error("No SKU of the latest snapshot is in the segment (code validation_failed)"),
                **AUTH_ERRORS,
            },
        }
    },
    "/briefings/sku/{code}.pdf": {
        "get": {
            "operationId": "skuBriefing",
            "summary": "One SKU's briefing PDF: history and forecast band, projected stock, policy card, commentary",
            "x-required-role": "viewer",
            "parameters": [CODE_PARAMETER],
            "responses": {
                "200": PDF_RESPONSE,
                "404": _error("No SKU has that code"),
                "409": _error("The SKU is not in the latest finished recompute (code no_snapshot)"),
                **AUTH_ERRORS,
            },
        }
    },
    "/recompute": {
        "post": {
            "operationId": "recompute",
            "summary": "Recompute the portfolio: queued on the job workers when the server has Redis (202), else now",
            "description": (
                "With a job backend (the server's REDIS_URL is set) the run is recorded, queued on the Celery workers "
                "and the answer is 202 at once, with the run id and a Location header to poll "
                "(GET /recompute/{run_id}). Without one the request waits until the run has finished and answers "
                "200 with the run."
            ),
            "x-required-role": "planner",
            "responses": {
                "200": _json("No job backend: the run, finished", _data(_ref("RunSummary"))),
                "202": {
                    "description": "Job backend: the run is queued; poll the Location header",
                    "headers": {
                        "Location": {
                            "description": "Where to poll the run: /api/v1/recompute/{run_id}",
                            "schema": {"type": "string"},
                        }
                    },
                    "content": {"application/json": {"schema": _data(_ref("RunQueued"))}},
                },
                "409": _error("A recompute is already running (code recompute_running)"),
                "503": _error("The job queue (Redis) cannot be reached (code jobs_unavailable)"),
                **AUTH_ERRORS,
            },
        }
    },
    "/recompute/{run_id}": {
        "get": {
            "operationId": "recomputeStatus",
            "summary": "One recompute run: running (or queued), finished with its KPIs, failed or cancelled",
            "x-required-role": "viewer",
            "parameters": [
                {
                    "name": "run_id",
                    "in": "path",
                    "required": True,
                    "description": "Run id (from the 202 answer of POST /recompute)",
                    "schema": {"type": "integer", "minimum": 0},
                }
            ],
            "responses": {
                "200": _json("The run (header Retry-After: 5 while it is running)", _data(_ref("RunStatus"))),
                "404": _error("No run has that id"),
                **AUTH_ERRORS,
            },
        }
    },
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
                "200": _json("The plan", _data(_ref("SupplyPlan"))),
                "400": _error("A parameter is not valid (code invalid_parameter)"),
                "409": NO_SNAPSHOT,
                **AUTH_ERRORS,
            },
        }
    },
}

# policy backtest (issue 24) -----------------------------------------------------------------------------------------

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
SCHEMAS["Backtest"] = {
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
PATHS["/backtest"] = {
    "get": {
        "operationId": "policyBacktest",
        "summary": "Would the policies have worked? Replay the engine's and the textbook's through the last N periods",
        "description": (
            "Fits the engine on all but the last N periods exactly as a recompute would, replays its reorder policies "
            "and the textbook policy (at each SKU's own target and swept over 0.50-0.999) through the last N periods "
            "of real demand, and answers when done (seconds; 10,000 SKUs take about 20 s). The result is stored: the "
            "Risk page and the portfolio briefing show the latest one of a scope."
        ),
        "x-required-role": "viewer",
        "parameters": [
            {
                "name": "periods",
                "in": "query",
                "required": False,
                "description": "N, periods replayed (default 26 weekly / 12 monthly / 90 daily; at most the history "
                "less 8)",
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
            "200": _json("The backtest document", _data(_ref("Backtest"))),
            "400": _error("periods, sku, category or abc is not valid, or N is longer than the history allows"),
            "404": _error("No active SKU in the scope (unknown SKU, empty category or class)"),
            "422": _error(
                "Nothing to replay: no demand, or no SKU with N + 8 periods of history (code validation_failed)"
            ),
            **AUTH_ERRORS,
        },
    }
}


PATHS.update(transfer_paths(error=_error, json=_json, array_param=_array_param, auth_errors=AUTH_ERRORS))


def document() -> dict[str, Any]:
    """The OpenAPI 3.0 document (a fresh copy each call)."""
    return copy.deepcopy(
        {
            "openapi": "3.0.3",
            "info": {
                "title": "Inventory Command Center API",
                "version": "1.0.0",
                "description": (
                    "Read the latest snapshot (SKUs, KPIs, forecasts), approve purchase orders, import CSV files, "
                    "recompute and download briefings. Send 'Authorization: Bearer <token>' (tokens: Admin page or "
                    "`python cli.py create-token --user EMAIL`). The token acts with its user's role: viewer < "
                    'planner < admin. Errors: {"error": {"code", "message", "details": [...]}}.'
                ),
            },
            "servers": [{"url": PREFIX}],
            "security": [{"bearerAuth": []}],
            "paths": {**PATHS, **CYCLE_PATHS, **DECISION_PATHS},
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
                "schemas": SCHEMAS,
            },
        }
    )
