"""API routes under /api/v1. Every route checks the bearer token and the role on the server.

Errors always have one shape, ``{"error": {"code", "message", "details": [...]}}``, with the right status code
(also for unknown routes and methods under /api/v1); a stack trace never leaves the server.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from api import openapi
from api.constants import (
    MAX_ID,
    PREFIX,
)
from api.contract import BAD_PARAMETER, NO_SNAPSHOT, answer, operation
from api.errors import HTTP_CODES, ApiError, error_response, invalid
from api.models_orders import ListMeta, OrderPage, OrderQuery, PurchaseOrder
from api.models_runs import RunQueued, RunStatus, RunSummary
from api.models_skus import PageMeta, Sku, SkuDetail, SkuPage, SkuQuery, Summary
from auth.audit import record_denied
from auth.identity import current_email
from auth.refusals import record_refusal
from db.session import session_scope
from services import audit, jobs, orders, runs, sku_detail, users, watchtower
from services import recompute as recompute_service
from services.errors import UserFacingError
from settings import get_settings

log = logging.getLogger(__name__)

blueprint = Blueprint("api_v1", __name__, url_prefix=PREFIX)

CODE_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 64, "description": "SKU code"}
RUN_ID = "Run id (from the 202 answer of POST /recompute)"
LOCATION_HEADER = {
    "Location": {"description": "Where to poll the run: /api/v1/recompute/{run_id}", "schema": {"type": "string"}}
}


@dataclass(frozen=True)
class ApiUser:
    """Who a valid token belongs to (read by :func:`auth.identity.current_role` / ``current_email``)."""

    email: str
    role: str


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def requires(role: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Bearer-token auth plus a minimum role for one route: 401 without a valid token, 403 (logged) below ``role``."""

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _bearer_token()
            if not token:
                record_refusal("api.unauthenticated", reason="no token")
                raise ApiError(401, "unauthenticated", "Send 'Authorization: Bearer <token>'.")
            with session_scope() as session:
                user = users.user_for_token(session=session, token=token)
                identity = ApiUser(email=user.email, role=user.role) if user else None
            if identity is None:
                record_refusal("api.unauthenticated", reason="invalid or revoked token")
                raise ApiError(401, "unauthenticated", "The token is not valid or was revoked.")
            g.api_user = identity
            if not users.has_role(identity.role, role):
                record_denied(action="api.denied", target=f"{request.method} {request.path}", required=role)
                message = f"This route needs the {role} role; the token's user is {identity.role}."
                raise ApiError(403, "forbidden", message)
            return func(*args, **kwargs)

        wrapper.required_role = role  # type: ignore[attr-defined]  # read by the OpenAPI document and tests
        return wrapper

    return decorator


# --------------------------------------------------------------------------------------------------------------------
# errors


@blueprint.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[Response, int]:
    response, status = error_response(exc.status, exc.code, exc.message, exc.details)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response, status


@blueprint.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[Response, int]:
    status = exc.code or 500
    code = HTTP_CODES.get(status) or (exc.name or "error").lower().replace(" ", "_")
    response, status = error_response(status, code, exc.description or exc.name or "")
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return response, status


@blueprint.errorhandler(UserFacingError)
def _user_error(exc: UserFacingError) -> tuple[Response, int]:
    return error_response(422, "validation_failed", str(exc))


@blueprint.errorhandler(Exception)
def _any_error(exc: Exception) -> tuple[Response, int]:
    log.exception("API %s %s failed", request.method, request.path)
    return error_response(500, "internal_error", "The server could not complete the request.")


def _api_methods_for(path: str) -> list[str]:
    """The methods the API's own rules accept for ``path`` (empty when none matches)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed: list[str] = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            rule, _ = adapter.match(path, method=method, return_rule=True)
        except HTTPException:
            continue
        if rule.endpoint.startswith(blueprint.name + "."):
            allowed.append(method)
    return allowed


def _allow_header(methods: list[str]) -> str:
    """The ``Allow`` value of an API path: its own methods, HEAD with GET, and OPTIONS."""
    extra = ["HEAD"] if "GET" in methods else []
    return ", ".join(sorted({*methods, *extra, "OPTIONS"}))


@blueprint.before_app_request
def _unknown_api_route() -> tuple[Response, int] | None:
    """JSON 404 / 405 for paths under /api/v1 that no API rule serves (Dash's catch-all page route would answer),
    and OPTIONS answered from the API's own rules (Flask's automatic answer would list the catch-all's GET)."""
    path = request.path
    if not (path == PREFIX or path.startswith(PREFIX + "/")):
        return None
    if request.method == "OPTIONS":
        methods = _api_methods_for(path)
        if not methods:
            return error_response(404, "not_found", f"No API route {path}; see {PREFIX}/openapi.json.")
        response = current_app.response_class(status=204)
        response.headers["Allow"] = _allow_header(methods)
        return response, 204
    if request.blueprint == blueprint.name:
        return None
    allowed = _api_methods_for(path)
    if allowed:
        response, status = error_response(405, "method_not_allowed", f"{request.method} is not allowed here.")
        response.headers["Allow"] = ", ".join(allowed)
        return response, status
    return error_response(404, "not_found", f"No API route {path}; see {PREFIX}/openapi.json.")


# --------------------------------------------------------------------------------------------------------------------
# parameters


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, f"must be a whole number, got {raw[:40]!r}") from None
    if not low <= value <= high:
        raise invalid(name, f"must be between {low} and {high}, got {value}")
    return value


def _latest_run(session: Any) -> runs.RunInfo:
    run = runs.latest_run(session=session)
    if run is None:
        raise ApiError(409, "no_snapshot", "No recompute has finished yet; POST /api/v1/recompute first.")
    return run


# --------------------------------------------------------------------------------------------------------------------
# routes


@blueprint.get("/openapi.json")
@operation("openapi", "This document", description="The OpenAPI 3.1 document", public=True)
def openapi_document() -> Response:
    """The OpenAPI 3 description of this API (no token needed), generated from the routes' contracts."""
    return jsonify(openapi.document())


@blueprint.get("/skus")
@requires("viewer")
@operation(
    "listSkus",
    "SKUs of the latest snapshot, filtered and paged",
    query=SkuQuery,
    response=SkuPage,
    envelope=False,
    description="One page of SKUs",
    errors={400: BAD_PARAMETER, 409: NO_SNAPSHOT},
)
def list_skus(query: SkuQuery) -> SkuPage:
    """SKUs of the latest snapshot, filtered like the Watchtower, one page at a time."""
    page, per_page = query.page, query.per_page
    with session_scope() as session:
        run = _latest_run(session)
        result = watchtower.query_skus(
            session=session,
            run_id=run.id,
            filters=query.filters(),
            sort=query.sort_order(),
            start=(page - 1) * per_page,
            limit=per_page,
        )
        summaries = sku_detail.sku_summaries(session=session, run_id=run.id, codes=[row["code"] for row in result.rows])
    meta = PageMeta(
        page=page,
        per_page=per_page,
        total=result.total,
        pages=-(-result.total // per_page),
        run_id=run.id,
        data_as_of=run.data_as_of,
    )
    return SkuPage(data=[Sku.of(summary) for summary in summaries], meta=meta)


@blueprint.get("/skus/<code>")
@requires("viewer")
@operation(
    "getSku",
    "One SKU with its forecast (mean, p10, p50, p90) and demand history",
    response=SkuDetail,
    description="The SKU",
    path={"code": CODE_SCHEMA},
    errors={404: "No SKU has that code"},
)
def get_sku(code: str) -> SkuDetail:
    """One SKU with its forecast (mean, p10, p50, p90 per period) and demand history."""
    with session_scope() as session:
        detail = sku_detail.sku_detail(session=session, code=code)
    if detail is None:
        raise ApiError(404, "not_found", f"No SKU {code[:64]!r}.")
    return SkuDetail.of(detail)


@blueprint.get("/summary")
@requires("viewer")
@operation(
    "getSummary",
    "The Watchtower KPIs: SKUs per status and portfolio KPIs, with the previous run's values",
    response=Summary,
    description="KPIs of the latest snapshot",
    errors={409: NO_SNAPSHOT},
)
def summary() -> Summary:
    """The Watchtower KPIs of the latest snapshot, with the previous run's values."""
    with session_scope() as session:
        _latest_run(session)
        result = watchtower.kpi_summary(session=session)
    if result is None:
        raise ApiError(409, "no_snapshot", "No recompute has finished yet; POST /api/v1/recompute first.")
    return Summary.of(result)


def _enqueue_recompute(email: str | None) -> tuple[Response, int]:
    """Record the run, queue it on the Celery workers, answer 202 with where to poll it."""
    with session_scope() as session:
        run_id = recompute_service.start_run(session=session, triggered_by=email)
    try:
        job_id = jobs.enqueue_recompute(triggered_by=email, run_id=run_id)
    except Exception as exc:  # Redis down: the run never starts; record why
        log.warning("could not queue recompute run %s", run_id, exc_info=True)
        with session_scope() as session:
            recompute_service.fail_run(session=session, run_id=run_id, error=f"not queued: {exc}")
        raise ApiError(503, "jobs_unavailable", "The job queue (Redis) cannot be reached; try again later.") from None
    with session_scope() as session:
        audit.record(
            session=session,
            action="recompute",
            user_email=email,
            target="api",
            details={"run_id": run_id, "status": "queued", "job_id": job_id},
        )
    location = f"{PREFIX}/recompute/{run_id}"
    response = answer(RunQueued(run_id=run_id, job_id=job_id, status="queued", location=location))
    response.headers["Location"] = location
    return response, 202


@blueprint.post("/recompute")
@requires("planner")
@operation(
    "recompute",
    "Recompute the portfolio: queued on the job workers when the server has Redis (202), else now",
    response=RunSummary,
    description="No job backend: the run, finished",
    also={202: (RunQueued, "Job backend: the run is queued; poll the Location header", LOCATION_HEADER)},
    errors={
        409: "A recompute is already running (code recompute_running)",
        503: "The job queue (Redis) cannot be reached (code jobs_unavailable)",
    },
)
def recompute() -> RunSummary | tuple[Response, int]:
    """Recompute the portfolio: queued on the workers (202 + Location) with Redis, else synchronously (200)."""
    email = current_email()
    with session_scope() as session:
        if runs.running_run(session=session) is not None:
            raise ApiError(409, "recompute_running", "A recompute is already running; try again when it finishes.")
    if get_settings().redis_url:
        return _enqueue_recompute(email)
    try:
        with session_scope() as session:
            result = recompute_service.recompute(session=session, triggered_by=email)
    except recompute_service.RecomputeError as exc:
        with session_scope() as session:
            audit.record(session=session, action="recompute", user_email=email, outcome="error", target="api")
        raise ApiError(500, "recompute_failed", str(exc) or "The recompute failed.") from None
    with session_scope() as session:
        audit.record(
            session=session,
            action="recompute",
            user_email=email,
            target="api",
            details={"run_id": result.run_id, "status": result.status},
        )
    return RunSummary.of(result)


@blueprint.get("/recompute/<int:run_id>")
@requires("viewer")
@operation(
    "recomputeStatus",
    "One recompute run: running (or queued), finished with its KPIs, failed or cancelled",
    response=RunStatus,
    description="The run (header Retry-After: 5 while it is running)",
    path={
        "run_id": {"type": "integer", "minimum": 0, "description": "Run id (from the 202 answer of POST /recompute)"}
    },
    errors={404: "No run has that id"},
)
def recompute_status(run_id: int) -> Response:
    """One recompute run: running (or queued), finished (with its KPIs), failed or cancelled (with the error)."""
    with session_scope() as session:
        run = runs.get_run(session=session, run_id=run_id) if run_id <= MAX_ID else None
        if run is None:
            raise ApiError(404, "not_found", f"No recompute run {run_id}.")
        status = RunStatus.of(run)
    response = answer(status)
    if status.status == "running":
        response.headers["Retry-After"] = "5"
    return response


@blueprint.get("/purchase-orders")
@requires("viewer")
@operation(
    "listPurchaseOrders",
    "Purchase orders (default: recommended and approved), by supplier, then order-by date",
    query=OrderQuery,
    response=OrderPage,
    envelope=False,
    description="One page of orders",
    errors={400: BAD_PARAMETER},
)
def list_purchase_orders(query: OrderQuery) -> OrderPage:
    """Purchase orders (default: the open ones, recommended and approved), optionally by status, supplier or SKU."""
    page, per_page = query.page, query.per_page
    with session_scope() as session:
        rows = orders.list_orders(
            session=session,
            status=list(query.status) or list(orders.OPEN_STATUSES),
            supplier=query.supplier or None,
            sku=query.sku or None,
        )
    start = (page - 1) * per_page
    meta = ListMeta(page=page, per_page=per_page, total=len(rows), pages=-(-len(rows) // per_page))
    return OrderPage(data=[PurchaseOrder.of(view) for view in rows[start : start + per_page]], meta=meta)


@blueprint.post("/purchase-orders/<int:order_id>/approve")
@requires("planner")
@operation(
    "approvePurchaseOrder",
    "Approve a recommended order: it becomes on order (order date today, promised date + lead time)",
    response=PurchaseOrder,
    description="The approved order",
    errors={
        404: "No such order",
        409: "The order is not recommended (already approved, received...) or its quantity is 0",
    },
)
def approve_purchase_order(order_id: int) -> PurchaseOrder:
    """Approve a recommended order (it becomes on order); 409 when it is not recommended or its quantity is 0."""
    if order_id > MAX_ID:
        raise ApiError(404, "not_found", f"No purchase order {order_id}.")
    with session_scope() as session:
        try:
            orders.get_order(session=session, order_id=order_id)
        except UserFacingError:
            raise ApiError(404, "not_found", f"No purchase order {order_id}.") from None
        try:
            view = orders.approve_order(session=session, order_id=order_id, user=current_email() or "api")
        except UserFacingError as exc:
            raise ApiError(409, "conflict", str(exc)) from None
    return PurchaseOrder.of(view)
