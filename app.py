"""The Dash application factory: ``create_app(settings) -> Dash``; ``server = app.server`` for gunicorn."""

from __future__ import annotations

import logging
import os

import dash
from dash import Dash
from flask import jsonify

from settings import PROJECT_ROOT, Settings, get_settings

log = logging.getLogger(__name__)


def _background_manager(settings: Settings):
    """Celery through Redis when REDIS_URL is set, otherwise diskcache in the data folder."""
    if settings.redis_url:
        from services.jobs import celery_app

        return dash.CeleryManager(celery_app(settings))
    import diskcache

    from background_jobs import ForkserverManager

    cache_dir = settings.data_dir / "callback-cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    return ForkserverManager(diskcache.Cache(str(cache_dir)), runner=run_background_job)


_BUILT: list[Dash] = []
"""The app this process built (Dash pages and callbacks are process-global: one app per process)."""


def app_is_built() -> bool:
    return bool(_BUILT)


def run_background_job(
    fn_key: str,
    cache_dir: str,
    result_key: str,
    progress_key: str,
    args: object,
    context: dict,
    environ: dict[str, str],
) -> None:
    """Run one Dash background callback in a job process (``background_jobs.ForkserverManager``): the settings of
    the click, the app's callbacks (built by the forkserver's preload, else here), Dash's own job function around
    the shared cache folder. A failure before the callback runs is stored as the job's error, never a hung page."""
    import diskcache
    from dash.background_callback.managers import BaseBackgroundCallbackManager
    from dash.background_callback.managers.diskcache_manager import _make_job_fn

    from db.session import reset_engines

    cache = diskcache.Cache(cache_dir)
    try:
        os.environ.clear()
        os.environ.update(environ)  # the web process's settings when the job was started
        get_settings.cache_clear()
        reset_engines()
        if not app_is_built():
            create_app(migrate=False)
        fn, progress = next((f, p) for key, f, p in BaseBackgroundCallbackManager.functions if key == fn_key)
    except Exception:  # the error goes to the log and the page, never a silent hang
        log.exception("background job %s could not start", fn_key[:12])
        cache.set(result_key, {"background_callback_error": {"msg": "The job could not start.", "tb": ""}})
        return
    _make_job_fn(fn, cache, progress)(result_key, progress_key, args, context)


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> Dash:
    """Build the app: migrations, Dash pages from layouts/, callbacks, security, API and health routes."""
    settings = settings or get_settings()
    from db import migrate as db_migrate
    from db.session import MIGRATION_LOCK_KEY, advisory_lock, get_engine

    if migrate and not db_migrate.is_at_head(get_engine()):
        with advisory_lock(get_engine(), MIGRATION_LOCK_KEY):  # several workers start at once: one migrates
            if not db_migrate.is_at_head(get_engine()):
                db_migrate.upgrade(get_engine())

    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=str(PROJECT_ROOT / "layouts"),
        assets_folder=str(PROJECT_ROOT / "assets"),
        external_stylesheets=["/vendor/css/bootstrap.min.css"],
        suppress_callback_exceptions=True,
        title="Inventory Command Center",
        update_title=None,
        background_callback_manager=_background_manager(settings),
        serve_locally=True,
    )
    app.index_string = app.index_string.replace("<html>", f'<html lang="{settings.locale}">', 1)
    import callbacks  # noqa: F401  (registers every page's callbacks once)
    from layouts._shell import shell

    app.layout = shell
    server = app.server
    from auth.web import init_security

    init_security(server, settings, app.csp_hashes, callback_map=lambda: app.callback_map)
    from api import blueprint as api_blueprint

    _outage_handlers(server, api_blueprint)
    server.register_blueprint(api_blueprint)
    _health_routes(server)
    _BUILT.append(app)
    return app


DB_UNAVAILABLE = "The database is not available right now (it may be restarting or busy). Please try again in a moment."
JOBS_UNAVAILABLE = (
    "Background jobs are unavailable: the job queue (Redis) cannot be reached. Pages keep working; "
    "please try this action again in a moment."
)
_UNAVAILABLE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Temporarily unavailable · Inventory Command Center</title>
<link rel="stylesheet" href="/vendor/css/bootstrap.min.css"></head>
<body class="bg-light"><main class="container" style="max-width:560px;margin-top:10vh">
<div class="alert alert-warning" role="alert"><h1 class="h5">Temporarily unavailable</h1><p class="mb-2">{message}</p>
<a class="btn btn-outline-secondary btn-sm" href="{again}">Try again</a></div></main></body></html>"""


def _outage_errors() -> list[tuple[tuple[type[BaseException], ...], str, str]]:
    """(exception classes, error code, message) of outages of a service the app needs: answered 503, not 500."""
    # Celery's kombu and redis only where the app answers their outages (importing them costs start-up time)
    from kombu.exceptions import OperationalError as BrokerError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

    return [
        ((OperationalError, InterfaceError, DisconnectionError), "database_unavailable", DB_UNAVAILABLE),
        ((RedisConnectionError, RedisTimeoutError, BrokerError), "jobs_unavailable", JOBS_UNAVAILABLE),
    ]


def _outage_response(code: str, message: str):
    """503 with ``message``: the API's JSON error shape for the API and Dash callbacks, a small page otherwise."""
    import html

    from flask import Response, request

    from api.errors import error_response

    log.warning("%s %s: %s", request.method, request.path, code, exc_info=True)
    if request.path.startswith(("/api/", "/_dash-")) or request.accept_mimetypes.best == "application/json":
        response, _ = error_response(503, code, message)
    else:
        again = html.escape(request.full_path.rstrip("?") if request.method == "GET" else "/")
        response = Response(_UNAVAILABLE_PAGE.format(message=html.escape(message), again=again), mimetype="text/html")
    response.status_code = 503
    response.headers["Retry-After"] = "5"
    return response


def _outage_handlers(server, api_blueprint) -> None:
    """Register the 503 answers on the app and on the API blueprint (whose catch-all would answer 500 first)."""
    for classes, code, message in _outage_errors():

        def handler(_exc: BaseException, code: str = code, message: str = message):
            return _outage_response(code, message)

        for cls in classes:
            server.register_error_handler(cls, handler)
            if not getattr(api_blueprint, "_icc_outages", False):
                api_blueprint.register_error_handler(cls, handler)  # kept by the blueprint for every app
    api_blueprint._icc_outages = True


def _health_routes(server) -> None:
    from sqlalchemy import text

    from db import migrate as db_migrate
    from db.session import get_engine

    @server.route("/healthz")
    def _healthz():
        return jsonify({"status": "ok"})

    @server.route("/readyz")
    def _readyz():
        try:
            with get_engine().connect() as connection:
                connection.execute(text("SELECT 1"))
            at_head = db_migrate.is_at_head(get_engine())
        except Exception as exc:  # noqa: BLE001 - readiness reports any failure
            return jsonify({"status": "unavailable", "database": "unreachable", "detail": type(exc).__name__}), 503
        if not at_head:
            return jsonify({"status": "unavailable", "database": "ok", "migrations": "pending"}), 503
        body = {"status": "ok", "database": "ok", "migrations": "head"}
        if get_settings().redis_url:  # background jobs (Dash background callbacks, recompute batches) need Redis
            from services.jobs import redis_reachable

            ok, detail = redis_reachable(timeout=1.0)
            if not ok:
                return jsonify({**body, "status": "unavailable", "redis": "unreachable", "detail": detail}), 503
            body["redis"] = "ok"
        return jsonify(body)


def __getattr__(name: str):
    if name in ("server", "app"):
        application = create_app()
        globals()["app"] = application
        globals()["server"] = application.server
        return globals()[name]
    raise AttributeError(name)


__all__ = ["create_app"]
