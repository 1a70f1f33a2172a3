"""Flask-side security: sessions (Flask-Login on server-side session ids), the request guard, error answers for
the Dash endpoints and security headers. The sign-in pages are in :mod:`auth.login_pages`."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

import flask_bootstrap
from dash.exceptions import DependencyException
from flask import Flask, Response, g, redirect, request, send_from_directory
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix

from api.errors import HTTP_CODES, error_response
from auth import callback_body, login_pages
from auth.audit import record_denied
from auth.guard import required_role_for_callback
from auth.identity import SessionUser, client_address, current_email, current_role
from auth.refusals import record_refusal
from db.session import session_scope
from services import audit, user_sessions, users
from settings import Settings

__all__ = ["init_security", "is_open_path"]

log = logging.getLogger(__name__)

BOOTSTRAP_DIR = Path(flask_bootstrap.__file__).parent / "static" / "bootstrap5"
# Served to anyone: these exact paths, and static files under these folders. Everything else needs a session.
OPEN_PATHS = frozenset({"/login", "/logout", "/healthz", "/readyz", "/favicon.ico", "/_favicon.ico"})
OPEN_FOLDERS = ("/vendor/", "/assets/", "/_dash-component-suites/")
API_ROOT = "/api/v1"
DISPATCH_PATH = "/_dash-update-component"
COMPONENT_SUITES = "/_dash-component-suites/"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def is_open_path(path: str) -> bool:
    """True for the exact open paths and the static folders (a prefix like ``/login-x`` is not open)."""
    return path in OPEN_PATHS or path.startswith(OPEN_FOLDERS)


def _is_api(path: str) -> bool:
    return path == API_ROOT or path.startswith(API_ROOT + "/")


def _json_error(status: int, code: str, message: str) -> tuple[Response, int]:
    return error_response(status, code, message)


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the Secure flag also set whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def _same_origin() -> bool:
    """False when a browser says the request comes from another site (Origin header differs from our host)."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    parsed = urlparse(origin)
    return parsed.netloc == request.host


def _callback_body() -> dict[str, Any] | None:
    """The JSON body of a callback request the way Dash will read it (None when it is not a JSON object)."""
    if not request.is_json:
        return None
    try:
        body = json.loads(request.get_data(cache=True) or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _check_callback(body: dict[str, Any] | None, callback_map: Callable[[], dict[str, Any]]) -> Any:
    """None when a signed-in user may run this callback request; else the error answer (400 / 403)."""
    if body is None:
        return _json_error(400, "bad_request", "Expected a JSON object.")
    try:
        needed = required_role_for_callback(body)
    except (TypeError, ValueError, AttributeError):
        return _json_error(400, "bad_request", "The callback request is malformed.")
    if needed and not users.has_role(current_role(), needed):
        record_denied(action="callback.denied", target=str(body.get("output")), required=needed)
        return _json_error(403, "forbidden", f"This needs the {needed} role.")
    problem = callback_body.problem(body, callback_map())
    if problem:
        log.info("refused a malformed callback request for %.200s: %s", body.get("output"), problem)
        return _json_error(400, "bad_request", f"Malformed callback request: {problem}.")
    return None


def init_security(
    server: Flask,
    settings: Settings,
    csp_script_hashes: Callable[[], list[str]],
    callback_map: Callable[[], dict[str, Any]] | None = None,
) -> None:
    """Wire sessions, login routes, the guard, the error answers and the headers into ``server``.

    ``callback_map``: the Dash app's registered callbacks (``app.callback_map``), to check callback requests.
    """
    hops = settings.trusted_proxy_hops
    if hops > 0:  # only behind a proxy we trust: otherwise a client could fake its address with X-Forwarded-For
        server.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    server.secret_key = settings.resolved_secret_key()
    server.session_interface = _SessionInterface()
    secure = settings.session_cookie_secure if settings.session_cookie_secure is not None else settings.env == "prod"
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
        # dcc.Upload sends files base64-encoded (4/3 larger) inside a JSON body
        MAX_CONTENT_LENGTH=(settings.max_upload_mb * 4 // 3 + 6) * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
    )
    manager = LoginManager()
    manager.session_protection = "strong"
    manager.init_app(server)

    @manager.user_loader
    def _load(session_id: str) -> SessionUser | None:
        # every request: the server-side session must still exist (sign-out, password or role change and
        # deactivation delete it) and its user must be active
        with session_scope() as session:
            user = user_sessions.user_of(
                session=session, session_id=session_id, max_age_hours=settings.session_max_age_hours
            )
            return SessionUser.of(user, session_id) if user is not None else None

    @server.route("/vendor/<path:filename>")
    def _vendor(filename: str) -> Response:
        return send_from_directory(BOOTSTRAP_DIR, filename, max_age=86400)

    login_pages.register(server, settings)
    _register_guard(server, callback_map or (lambda: {}))
    _register_error_answers(server)
    _register_headers(server, csp_script_hashes)


def _register_guard(server: Flask, callback_map: Callable[[], dict[str, Any]]) -> None:
    @server.before_request
    def _remember_address() -> None:
        g.audit_address_token = audit.set_request_address(client_address())

    @server.teardown_request
    def _forget_address(_exc: BaseException | None) -> None:
        token = g.pop("audit_address_token", None)
        if token is not None:
            audit.reset_request_address(token)

    @server.before_request
    def _guard() -> Any:
        path = request.path
        if _is_api(path):
            return None  # the API checks its bearer tokens itself (api.routes.requires)
        if request.method not in SAFE_METHODS and not _same_origin():
            record_refusal("request.cross_site", reason="cross-site request", user_email=current_email())
            return _json_error(403, "forbidden", "Cross-site request refused.")
        if is_open_path(path):
            return None
        if not current_user.is_authenticated:
            if path.startswith("/_dash-") or request.method != "GET":
                record_refusal("request.unauthenticated", reason="not signed in")
                return _json_error(401, "unauthenticated", "Sign in first.")
            return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))
        if path == DISPATCH_PATH and request.method == "POST":
            return _check_callback(_callback_body(), callback_map)
        return None


def _register_error_answers(server: Flask) -> None:
    """The Dash endpoints answer errors with the API's JSON shape; a missing component file is a 404."""

    @server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if not request.path.startswith("/_dash-"):
            return exc
        status = exc.code or 500
        code = HTTP_CODES.get(status) or (exc.name or "error").lower().replace(" ", "_")
        return _json_error(status, code, exc.description or exc.name or "")

    @server.errorhandler(DependencyException)
    def _no_such_component_file(_exc: DependencyException) -> Any:
        return _json_error(404, "not_found", "No such component file.")

    @server.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        log.error("%s %s failed", request.method, request.path, exc_info=exc)
        if request.path.startswith("/_dash-"):
            return _json_error(500, "internal_error", "The server could not complete the request.")
        return InternalServerError(original_exception=exc)


def _register_headers(server: Flask, csp_script_hashes: Callable[[], list[str]]) -> None:
    csp_cache: dict[str, str] = {}

    def csp() -> str:
        # Dash adds its inline scripts (clientside callbacks) when it sets up on the first request: hash them then.
        if "value" not in csp_cache:
            csp_cache["value"] = _csp(csp_script_hashes())
        return csp_cache["value"]

    @server.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp())
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        path = request.path
        dynamic = _is_api(path) or (path.startswith("/_dash-") and not path.startswith(COMPONENT_SUITES))
        if dynamic or response.headers.get("Content-Disposition", "").startswith("attachment"):
            response.headers["Cache-Control"] = "no-store"  # API answers, callbacks (downloads too) and files
        return response


def _csp(script_hashes: list[str]) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' " + " ".join(script_hashes),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "object-src 'none'",
        ]
    )
