"""The OpenAPI 3 document of /api/v1 (written by hand; a test checks it lists exactly the blueprint's routes).

Assembled here from one module per resource, each with its ``SCHEMAS`` and ``PATHS``: :mod:`api.openapi_skus`,
:mod:`api.openapi_orders`, :mod:`api.openapi_imports`, :mod:`api.openapi_briefings`, :mod:`api.openapi_runs`,
:mod:`api.openapi_supply`, :mod:`api.openapi_backtest`, :mod:`api.openapi_transfers` and :mod:`api.openapi_cycles`;
the shared shapes are :mod:`api.openapi_common`. None of them imports a route module (no import cycle:
docs/architecture.md, "Who may import whom").
"""

from __future__ import annotations

import copy
from typing import Any

from api import (
    openapi_backtest,
    openapi_briefings,
    openapi_imports,
    openapi_orders,
    openapi_runs,
    openapi_skus,
    openapi_supply,
)
from api.constants import PREFIX
from api.openapi_adjustments import ADJUSTMENT_PATHS
from api.openapi_common import AUTH_ERRORS, ERROR_SCHEMA, array_param, error_response, json_response
from api.openapi_cycles import CYCLE_PATHS
from api.openapi_decisions import DECISION_PATHS
from api.openapi_transfers import openapi_paths as transfer_paths

SCHEMAS: dict[str, Any] = {
    "Error": ERROR_SCHEMA,
    **openapi_skus.SCHEMAS,
    **openapi_orders.SCHEMAS,
    **openapi_imports.SCHEMAS,
    **openapi_runs.SCHEMAS,
    **openapi_supply.SCHEMAS,
    **openapi_backtest.SCHEMAS,
}

PATHS: dict[str, dict[str, Any]] = {
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "security": [],
            "responses": {"200": json_response("The OpenAPI 3 document", {"type": "object"})},
        }
    },
    **openapi_skus.PATHS,
    **openapi_orders.PATHS,
    **openapi_imports.PATHS,
    **openapi_briefings.PATHS,
    **openapi_runs.PATHS,
    **openapi_supply.PATHS,
    **openapi_backtest.PATHS,
    **transfer_paths(error=error_response, json=json_response, array_param=array_param, auth_errors=AUTH_ERRORS),
}


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
            "paths": {**PATHS, **CYCLE_PATHS, **DECISION_PATHS, **ADJUSTMENT_PATHS},
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
                "schemas": SCHEMAS,
            },
        }
    )
