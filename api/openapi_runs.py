"""The OpenAPI schemas and paths of the recompute routes: start a run, read its status."""

from __future__ import annotations

from typing import Any

from api.openapi_common import (
    AUTH_ERRORS,
    NUMBER,
    TEXT,
    data_schema,
    error_response,
    json_response,
    ref,
)

SCHEMAS: dict[str, Any] = {
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

PATHS: dict[str, Any] = {
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
                "200": json_response("No job backend: the run, finished", data_schema(ref("RunSummary"))),
                "202": {
                    "description": "Job backend: the run is queued; poll the Location header",
                    "headers": {
                        "Location": {
                            "description": "Where to poll the run: /api/v1/recompute/{run_id}",
                            "schema": {"type": "string"},
                        }
                    },
                    "content": {"application/json": {"schema": data_schema(ref("RunQueued"))}},
                },
                "409": error_response("A recompute is already running (code recompute_running)"),
                "503": error_response("The job queue (Redis) cannot be reached (code jobs_unavailable)"),
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
                "200": json_response(
                    "The run (header Retry-After: 5 while it is running)", data_schema(ref("RunStatus"))
                ),
                "404": error_response("No run has that id"),
                **AUTH_ERRORS,
            },
        }
    },
}
