"""API routes under /api/v1. Every route checks the bearer token and the role on the server.

Errors always have one shape, ``{"error": {"code", "message", "details": [...]}}``, with the right status code
(also for unknown routes and methods under /api/v1); a stack trace never leaves the server.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.utils import secure_filename

from api import openapi, serialize
from api.briefing_since import since_arguments
from api.constants import (
    DEFAULT_PER_PAGE,
    ENUM_FILTERS,
    MAX_ID,
    MAX_PAGE,
    MAX_PER_PAGE,
    ORDER_STATUSES,
    PREFIX,
    TEXT_FILTERS,
)
from api.errors import HTTP_CODES, ApiError, error_response, invalid
from auth.audit import record_denied
from auth.identity import current_email
from auth.refusals import record_refusal
from db.session import session_scope
from services import audit, briefing, ingest, jobs, orders, runs, sku_detail, supply, users, watchtower
from services import backtest as backtest_service
from services import recompute as recompute_service
from services.errors import UserFacingError
from settings import get_settings

log = logging.getLogger(__name__)

blueprint = Blueprint("api_v1", __name__, url_prefix=PREFIX)


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


def _values(name: str) -> list[str]:
    """A filter's values: repeated parameters and/or comma-separated (``?status=surge,normal&status=dead_stock``)."""
    out: list[str] = []
    for raw in request.args.getlist(name):
        for part in raw.split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


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


def _filters() -> watchtower.GridFilters:
    data: dict[str, Any] = {}
    for name, allowed in ENUM_FILTERS.items():
        values = _values(name)
        bad = [v for v in values if v not in allowed]
        if bad:
            raise invalid(name, f"unknown value {bad[0][:40]!r}; use one of {', '.join(allowed)}")
        data[name] = values
    for name in TEXT_FILTERS:
        values = _values(name)
        if any(len(v) > 100 for v in values):
            raise invalid(name, "values are at most 100 characters")
        data[name] = values
    search = (request.args.get("q") or "").strip()
    if len(search) > watchtower.MAX_SEARCH:
        raise invalid("q", f"at most {watchtower.MAX_SEARCH} characters")
    data["search"] = search
    return watchtower.GridFilters.from_mapping(data)


def _sort() -> list[tuple[str, str]] | None:
    values = _values("sort")
    if not values:
        return None
    out: list[tuple[str, str]] = []
    for value in values:
        column, direction = (value[1:], "desc") if value.startswith("-") else (value, "asc")
        if column not in watchtower.SORT_COLUMNS:
            raise invalid("sort", f"unknown column {column[:40]!r}; use one of {', '.join(watchtower.SORT_COLUMNS)}")
        out.append((column, direction))
    return out


def _latest_run(session: Any) -> runs.RunInfo:
    run = runs.latest_run(session=session)
    if run is None:
        raise ApiError(409, "no_snapshot", "No recompute has finished yet; POST /api/v1/recompute first.")
    return run


# --------------------------------------------------------------------------------------------------------------------
# routes


@blueprint.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3 description of this API (no token needed)."""
    return jsonify(openapi.document())


@blueprint.get("/skus")
@requires("viewer")
def list_skus() -> Response:
    """SKUs of the latest snapshot, filtered like the Watchtower, one page at a time."""
    filters = _filters()
    sort = _sort()
    page = _int_arg("page", 1, 1, MAX_PAGE)
    per_page = _int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    with session_scope() as session:
        run = _latest_run(session)
        result = watchtower.query_skus(
            session=session, run_id=run.id, filters=filters, sort=sort, start=(page - 1) * per_page, limit=per_page
        )
        summaries = sku_detail.sku_summaries(session=session, run_id=run.id, codes=[row["code"] for row in result.rows])
    data = [serialize.sku(summary) for summary in summaries]
    return jsonify(
        {
            "data": data,
            "meta": {
                "page": page,
                "per_page": per_page,
                "total": result.total,
                "pages": -(-result.total // per_page),
                "run_id": run.id,
                "data_as_of": serialize.iso(run.data_as_of),
            },
        }
    )


@blueprint.get("/skus/<code>")
@requires("viewer")
def get_sku(code: str) -> Response:
    """One SKU with its forecast (mean, p10, p50, p90 per period) and demand history."""
    with session_scope() as session:
        detail = sku_detail.sku_detail(session=session, code=code)
    if detail is None:
        raise ApiError(404, "not_found", f"No SKU {code[:64]!r}.")
    return jsonify({"data": serialize.sku_full(detail)})


@blueprint.get("/summary")
@requires("viewer")
def summary() -> Response:
    """The Watchtower KPIs of the latest snapshot, with the previous run's values."""
    with session_scope() as session:
        _latest_run(session)
        result = watchtower.kpi_summary(session=session)
    if result is None:
        raise ApiError(409, "no_snapshot", "No recompute has finished yet; POST /api/v1/recompute first.")
    return jsonify({"data": serialize.summary(result)})


RUN_FIELDS = ("status", "grain", "sku_count", "triggered_by", "error")


def run_status(run: Any) -> dict[str, Any]:
    """A ``recompute_run`` row as the poll answer of ``GET /recompute/<id>``."""
    data: dict[str, Any] = {"run_id": run.id, **{name: getattr(run, name) for name in RUN_FIELDS}}
    data.update(
        started_at=serialize.iso(run.started_at),
        finished_at=serialize.iso(run.finished_at),
        data_as_of=serialize.iso(run.data_as_of),
        kpis=serialize.plain(run.kpis or {}) if run.status == "finished" else None,
        scope=serialize.plain(runs.run_scope(run)),
    )
    return data


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
    response = jsonify({"data": {"run_id": run_id, "job_id": job_id, "status": "queued", "location": location}})
    response.headers["Location"] = location
    return response, 202


@blueprint.post("/recompute")
@requires("planner")
def recompute() -> Response | tuple[Response, int]:
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
    return jsonify({"data": serialize.run_summary(result)})


@blueprint.get("/recompute/<int:run_id>")
@requires("viewer")
def recompute_status(run_id: int) -> Response:
    """One recompute run: running (or queued), finished (with its KPIs), failed or cancelled (with the error)."""
    with session_scope() as session:
        run = runs.get_run(session=session, run_id=run_id) if run_id <= MAX_ID else None
        if run is None:
            raise ApiError(404, "not_found", f"No recompute run {run_id}.")
        data = run_status(run)
    response = jsonify({"data": data})
    if data["status"] == "running":
        response.headers["Retry-After"] = "5"
    return response


TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off", "")
MAX_ERROR_DETAILS = 100


def _form_flag(name: str) -> bool:
    raw = (request.form.get(name) or "").strip().lower()
    if raw in TRUE:
        return True
    if raw in FALSE:
        return False
    raise invalid(name, f"must be true or false, got {raw[:20]!r}")


def _row_errors(result: ingest.ImportResult) -> list[dict[str, Any]]:
    return [
        {"line": e.line, "column": e.column, "value": e.value, "reason": e.reason}
        for e in result.first_errors(MAX_ERROR_DETAILS)
    ]


MB = 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024  # room for the form's other fields and part headers around the file


def _upload() -> Any:
    """The multipart ``file``, refused with 413 before it is read when the body is over the limit: at once from
    ``Content-Length``; for a chunked body, as soon as the limit is passed."""
    limit_mb = get_settings().max_upload_mb
    ceiling = min(limit_mb * MB + MULTIPART_OVERHEAD, current_app.config.get("MAX_CONTENT_LENGTH") or 1 << 62)
    too_large = f"The upload is larger than the limit of {limit_mb:,} MB (setting MAX_UPLOAD_MB)."
    if request.content_length is not None and request.content_length > ceiling:
        size = f"The upload is {request.content_length / MB:,.1f} MB; the limit is {limit_mb:,} MB"
        raise ApiError(413, "payload_too_large", f"{size} (setting MAX_UPLOAD_MB).")
    request.max_content_length = ceiling
    try:
        return request.files.get("file")
    except RequestEntityTooLarge:
        raise ApiError(413, "payload_too_large", too_large) from None


@blueprint.post("/imports/<kind>")
@requires("planner")
def import_csv(kind: str) -> tuple[Response, int] | Response:
    """Import a CSV or a workbook (.xlsx, .xlsm, .ods; multipart field ``file``, optional ``sheet``) with the same
    validation and errors as the Data page."""
    if kind not in ingest.KINDS:
        raise ApiError(404, "not_found", f"No import kind {kind[:40]!r}; use one of {', '.join(ingest.KINDS)}.")
    upload = _upload()
    if upload is None or not upload.filename:
        raise ApiError(
            400,
            "missing_file",
            "Send the CSV or workbook as multipart/form-data in a field named 'file'.",
            [{"field": "file"}],
        )
    sheet = (request.form.get("sheet") or "").strip() or None
    if sheet is not None and len(sheet) > 100:
        raise invalid("sheet", "too long (a sheet name has at most 31 characters)")
    on_error = (request.form.get("on_error") or "reject").strip().lower()
    if on_error not in ("reject", "skip"):
        raise invalid("on_error", "must be 'reject' or 'skip'")
    try:
        options = ingest.ImportOptions(
            on_error=on_error,
            create_skus=_form_flag("create_skus"),
            date_format=(request.form.get("date_format") or "").strip() or None,
            full_extract=_form_flag("full_extract") and kind == "demand",
            confirm_new_skus=_form_flag("confirm_new_skus"),
            sheet=sheet,
        )
    except ValueError as exc:
        raise invalid("date_format", str(exc)) from None
    dry_run = _form_flag("dry_run")
    file_name = secure_filename(upload.filename)[:200] or f"{kind}.csv"
    folder = Path(get_settings().data_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"api-{secrets.token_hex(8)}.csv"
    try:
        upload.save(path)
        with session_scope() as session:
            result = ingest.import_file(
                session=session,
                path=path,
                kind=kind,
                file_name=file_name,
                options=options,
                user=current_email(),
                dry_run=dry_run,
            )
    finally:
        path.unlink(missing_ok=True)
    if result.status == "rejected":
        raise ApiError(422, "import_rejected", result.summary(), _row_errors(result))
    data = {k: v for k, v in result.as_dict().items() if k not in ("error_report", "timings", "recompute")}
    data["errors"] = _row_errors(result)
    data["summary"] = result.summary()
    return jsonify({"data": serialize.plain(data)})


@blueprint.get("/purchase-orders")
@requires("viewer")
def list_purchase_orders() -> Response:
    """Purchase orders (default: the open ones, recommended and approved), optionally by status, supplier or SKU."""
    statuses = _values("status")
    bad = [v for v in statuses if v not in ORDER_STATUSES]
    if bad:
        raise invalid("status", f"unknown value {bad[0][:40]!r}; use one of {', '.join(ORDER_STATUSES)}")
    supplier = (request.args.get("supplier") or "").strip()
    code = (request.args.get("sku") or "").strip()
    if len(supplier) > 100 or len(code) > 64:
        raise invalid("supplier" if len(supplier) > 100 else "sku", "too long")
    page = _int_arg("page", 1, 1, MAX_PAGE)
    per_page = _int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    with session_scope() as session:
        rows = orders.list_orders(
            session=session, status=statuses or list(orders.OPEN_STATUSES), supplier=supplier or None, sku=code or None
        )
    start = (page - 1) * per_page
    return jsonify(
        {
            "data": [serialize.order(view) for view in rows[start : start + per_page]],
            "meta": {"page": page, "per_page": per_page, "total": len(rows), "pages": -(-len(rows) // per_page)},
        }
    )


@blueprint.post("/purchase-orders/<int:order_id>/approve")
@requires("planner")
def approve_purchase_order(order_id: int) -> Response:
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
    return jsonify({"data": serialize.order(view)})


BRIEFING_FILTERS = ("category", "location", "abc")


def _pdf(made: briefing.BriefingFile) -> Response:
    response = Response(made.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{made.file_name}"'
    response.headers["Cache-Control"] = "no-store"
    if made.id is not None:
        response.headers["X-Briefing-Id"] = str(made.id)
    return response


@blueprint.get("/briefings/portfolio.pdf")
@requires("viewer")
def portfolio_briefing() -> Response:
    """The portfolio briefing PDF of the latest snapshot; ``category``, ``location``, ``abc`` narrow it to a segment."""
    values: dict[str, str | None] = {}
    for name in BRIEFING_FILTERS:
        given = request.args.getlist(name)
        if len(given) > 1:
            raise invalid(name, "give one value")
        values[name] = given[0] if given else None
    try:
        scope = briefing.BriefingScope.make(**values)
    except UserFacingError as exc:
        field = next((n for n in BRIEFING_FILTERS if str(exc).startswith(n)), "abc")
        raise invalid(field, str(exc)) from None
    with session_scope() as session:
        since = since_arguments(session)  # issue 19 item 4: what changed since a cycle, a run or a date
        made = briefing.make_briefing(session=session, scope=scope, user=current_email(), source="api", **since)
    return _pdf(made)


@blueprint.get("/briefings/sku/<code>.pdf")
@requires("viewer")
def sku_briefing(code: str) -> Response:
    """One SKU's briefing PDF (latest snapshot); 404 for an unknown code, 409 when the SKU is not in the snapshot."""
    try:
        scope = briefing.BriefingScope.make(sku=code)
        with session_scope() as session:
            made = briefing.make_briefing(session=session, scope=scope, user=current_email(), source="api")
    except briefing.BriefingNotFoundError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except UserFacingError as exc:
        raise ApiError(409, "no_snapshot", str(exc)) from None
    return _pdf(made)


# --------------------------------------------------------------------------------------------------------------------
# policy backtest (issue 24)

BACKTEST_FILTERS = ("sku", "category", "abc")
MAX_BACKTEST_PERIODS = 1200


@blueprint.get("/backtest")
@requires("viewer")
def policy_backtest() -> Response:
    """Replay the engine's policies and the textbook's through the last ``periods`` periods of real demand (``sku`` or
    ``category`` / ``abc`` narrow the scope); answers the backtest document when done (runs in the request)."""
    values: dict[str, str | None] = {}
    for name in BACKTEST_FILTERS:
        given = request.args.getlist(name)
        if len(given) > 1:
            raise invalid(name, "give one value")
        values[name] = given[0] if given else None
    periods = None
    if request.args.get("periods") not in (None, ""):
        periods = _int_arg("periods", 0, 1, MAX_BACKTEST_PERIODS)
    try:
        scope = backtest_service.BacktestScope.make(**values)
        with session_scope() as session:
            result = backtest_service.run_backtest(
                session=session, scope=scope, periods=periods, triggered_by=current_email() or "api"
            )
    except backtest_service.BacktestError as exc:
        if exc.kind == "not_found":
            raise ApiError(404, "not_found", str(exc)) from None
        if exc.kind == "invalid" and exc.field:
            raise invalid(exc.field, str(exc)) from None
        raise ApiError(422, "validation_failed", str(exc)) from None
    return jsonify({"data": result.document})


SUPPLY_STRATEGIES = ("chase", "level", "optimal")


def _supply_request() -> supply.PlanRequest:
    """The supply-plan knobs from the query string (400 naming the bad one)."""
    strategy = (request.args.get("strategy") or "chase").strip().lower()
    if strategy not in SUPPLY_STRATEGIES:
        raise invalid("strategy", f"unknown value {strategy[:40]!r}; use one of {', '.join(SUPPLY_STRATEGIES)}")
    horizon = _int_arg("horizon", 12, 3, 18)
    raw = (request.args.get("overtime_pct") or "").strip()
    try:
        return supply.PlanRequest.parse(horizon=horizon, strategy=strategy, overtime_pct=raw or None)
    except supply.SupplyPlanError as exc:
        raise invalid("overtime_pct", str(exc)) from None


@blueprint.get("/supply-plan")
@requires("viewer")
def supply_plan() -> Response:
    """The supply plan against resource capacities (chase, level or optimal), the CLI's JSON document."""
    plan_request = _supply_request()
    skus = (request.args.get("skus") or "true").strip().lower()
    if skus not in TRUE + FALSE:
        raise invalid("skus", f"must be true or false, got {skus[:20]!r}")
    with session_scope() as session:
        try:
            result = supply.make_plan(session=session, request=plan_request)
        except supply.SupplyPlanError as exc:
            raise ApiError(409, "no_snapshot", str(exc)) from None
    return jsonify({"data": supply.document(result, include_skus=skus in TRUE)})
