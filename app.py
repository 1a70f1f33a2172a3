"""The Dash application factory: ``create_app(settings) -> Dash``; ``server = app.server`` for gunicorn."""

from __future__ import annotations

import logging

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

    cache_dir = settings.data_dir / "callback-cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    return dash.DiskcacheManager(diskcache.Cache(str(cache_dir)))


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> Dash:
    """Build the app: migrations, Dash pages from layouts/, callbacks, security, API and health routes."""
    settings = settings or get_settings()
    from db import migrate as db_migrate
    from db.session import get_engine

    if migrate and not db_migrate.is_at_head(get_engine()):
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
    import callbacks  # noqa: F401  (registers every page's callbacks once)
    from layouts._shell import shell

    app.layout = shell
    server = app.server
    from auth.web import init_security

    init_security(server, settings, app.csp_hashes)
    from api import blueprint as api_blueprint

    server.register_blueprint(api_blueprint)
    _health_routes(server)
    return app


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
        return jsonify({"status": "ok", "database": "ok", "migrations": "head"})


def __getattr__(name: str):
    if name in ("server", "app"):
        application = create_app()
        globals()["app"] = application
        globals()["server"] = application.server
        return globals()[name]
    raise AttributeError(name)


__all__ = ["create_app"]
