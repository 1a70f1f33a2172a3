"""The OpenAPI schemas and path of the import route (``/imports/{kind}``): the result and its row errors."""

from __future__ import annotations

from typing import Any

from api.openapi_common import (
    AUTH_ERRORS,
    TEXT,
    data_schema,
    error_response,
    json_response,
    ref,
)
from services import ingest

SCHEMAS: dict[str, Any] = {
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
            "errors": {"type": "array", "items": ref("RowError"), "description": "Skipped rows (first 100)"},
        },
    },
}

PATHS: dict[str, Any] = {
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
                "200": json_response("Imported (or checked, with dry_run)", data_schema(ref("ImportResult"))),
                "400": error_response("No file, or a form field is not valid"),
                "404": error_response("Unknown kind"),
                "413": error_response("The file is larger than the upload limit"),
                "422": error_response(
                    "The file was rejected (code import_rejected; details: the row errors, first 100)"
                ),
                **AUTH_ERRORS,
            },
        }
    },
}
