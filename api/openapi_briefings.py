"""The OpenAPI paths of the briefing downloads (portfolio and one-SKU PDFs)."""

from __future__ import annotations

from typing import Any

from api.openapi_common import (
    AUTH_ERRORS,
    CODE_PARAMETER,
    PDF_RESPONSE,
    error_response,
)

PATHS: dict[str, Any] = {
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
            ]
            + [
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "description": f"The meeting pack's 'what changed since' starts from {text} (give at most one)",
                    "schema": schema,
                }
                for name, text, schema in (
                    ("since_cycle", "this closed cycle (name or id)", {"type": "string", "maxLength": 120}),
                    ("since_run", "this finished run", {"type": "integer", "minimum": 1}),
                    (
                        "since_date",
                        "the latest run finished on or before this date",
                        {"type": "string", "format": "date"},
                    ),
                )
            ],
            "responses": {
                "200": PDF_RESPONSE,
                "400": error_response("A parameter is not valid (code invalid_parameter)"),
                "422": error_response("No SKU of the latest snapshot is in the segment (code validation_failed)"),
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
                "404": error_response("No SKU has that code"),
                "409": error_response("The SKU is not in the latest finished recompute (code no_snapshot)"),
                **AUTH_ERRORS,
            },
        }
    },
}
