"""The OpenAPI schemas and paths of the purchase-order routes: list orders, approve one."""

from __future__ import annotations

from typing import Any

from api.constants import ORDER_STATUSES
from api.openapi_common import (
    AUTH_ERRORS,
    NUMBER,
    TEXT,
    array_param,
    data_schema,
    error_response,
    json_response,
    ref,
)
from api.openapi_skus import SKU_LIST_PARAMETERS

SCHEMAS: dict[str, Any] = {
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
}

PATHS: dict[str, Any] = {
    "/purchase-orders": {
        "get": {
            "operationId": "listPurchaseOrders",
            "summary": "Purchase orders (default: recommended and approved), by supplier, then order-by date",
            "x-required-role": "viewer",
            "parameters": [
                array_param("status", "Order status (default: recommended,approved)", ORDER_STATUSES),
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
                "200": json_response(
                    "One page of orders",
                    {
                        "type": "object",
                        "required": ["data", "meta"],
                        "properties": {
                            "data": {"type": "array", "items": ref("PurchaseOrder")},
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
                "400": error_response("A parameter is not valid (code invalid_parameter)"),
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
                "200": json_response("The approved order", data_schema(ref("PurchaseOrder"))),
                "404": error_response("No such order"),
                "409": error_response(
                    "The order is not recommended (already approved, received...) or its quantity is 0"
                ),
                **AUTH_ERRORS,
            },
        }
    },
}
