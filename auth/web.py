"""Flask-side security: sessions (Flask-Login), login/logout, the request guard and security headers."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

import flask_bootstrap
from flask import Flask, Response, g, jsonify, redirect, request, send_from_directory
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf, validate_csrf
from werkzeug.middleware.proxy_fix import ProxyFix
from wtforms.validators import ValidationError

from auth.guard import current_email, current_role, required_role_for_callback
from db.session import session_scope
from services import audit, users
from settings import Settings

BOOTSTRAP_DIR = Path(flask_bootstrap.__file__).parent / "static" / "bootstrap5"
OPEN_PREFIXES = (
    "/login",
    "/healthz",
    "/readyz",
    "/vendor/",
    "/assets/",
    "/_dash-component-suites/",
    "/api/v1/",
    "/favicon.ico",
    "/_favicon.ico",
)
API_ROOT = "/api/v1"
DISPATCH_PATH = "/_dash-update-component"


@dataclass
class SessionUser(UserMixin):
    """The logged-in user as Flask-Login sees it (a plain value, not an ORM object)."""

    id: int
    email: str
    role: str
    stamp: str = ""  # changes with the password: sessions signed in before a password change end

    def get_id(self) -> str:
        return f"{self.id}.{self.stamp}" if self.stamp else str(self.id)

    @classmethod
    def of(cls, user: Any) -> SessionUser:
        """The session value of a :class:`db.models.User`."""
        return cls(id=user.id, email=user.email, role=user.role, stamp=password_stamp(user.password_hash))


def password_stamp(password_hash: str) -> str:
    """A short digest of the password hash, kept in the session to end other sessions after a password change."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def client_address() -> str:
    """The client's address as the server sees it (after ProxyFix trusts TRUSTED_PROXY_HOPS proxies)."""
    return (request.remote_addr or "unknown")[:64]


def record_denied(*, action: str, target: str, required: str) -> None:
    """Audit-log a request refused for its role (its own transaction, so it stays even though the request fails)."""
    with session_scope() as session:
        audit.record(
            session=session,
            action=action,
            user_email=current_email(),
            target=target[:255],
            outcome="denied",
            details={"required": required, "role": current_role(), "path": request.path[:200]},
            address=client_address(),
        )


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths (no scheme, host, protocol-relative or backslash tricks)."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if (
        parsed.scheme
        or parsed.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(ch) < 32 for ch in target)
    ):
        return "/"
    return target


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


LOGIN_TEMPLATE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Inventory Command Center</title>
<link rel="stylesheet" href="/vendor/css/bootstrap.min.css"><link rel="stylesheet" href="/assets/app.css"></head>
<body class="bg-light"><main class="container" style="max-width:420px;margin-top:10vh">
<div class="card shadow-sm"><div class="card-body p-4">
<h1 class="h4 mb-1">Inventory Command Center</h1><p class="text-muted mb-4">Sign in to continue</p>
{message}
<form method="post" action="/login" novalidate>
<input type="hidden" name="csrf_token" value="{csrf}"><input type="hidden" name="next" value="{next}">
<div class="mb-3"><label class="form-label" for="email">E-mail</label>
<input class="form-control" id="email" name="email" type="email" autocomplete="username" required value="{email}"></div>
<div class="mb-3"><label class="form-label" for="password">Password</label>
<input class="form-control" id="password" name="password" type="password"
 autocomplete="current-password" required></div>
<button class="btn btn-primary w-100" type="submit">Sign in</button></form>
</div></div></main></body></html>"""


def _login_page(message: str = "", email: str = "", next_url: str = "/", status: int = 200) -> Response:
    alert = f'<div class="alert alert-danger" role="alert">{html.escape(message)}</div>' if message else ""
    body = LOGIN_TEMPLATE.format(
        message=alert, csrf=generate_csrf(), next=html.escape(next_url), email=html.escape(email)
    )
    return Response(body, status=status, mimetype="text/html")


def init_security(server: Flask, settings: Settings, csp_script_hashes: Callable[[], list[str]]) -> None:
    """Wire sessions, login routes, the guard and the headers into ``server``."""
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
    def _load(user_id: str) -> SessionUser | None:
        key, _, stamp = user_id.partition(".")
        if not key.isdigit() or len(key) > 18:
            return None
        with session_scope() as session:
            user = users.get_user(session=session, user_id=int(key))
            if user is None or not user.active:
                return None
            current = SessionUser.of(user)
        if stamp and not hmac.compare_digest(stamp, current.stamp):
            return None  # the password changed since this session signed in
        return current

    @server.route("/vendor/<path:filename>")
    def _vendor(filename: str) -> Response:
        response = send_from_directory(BOOTSTRAP_DIR, filename, max_age=86400)
        return response

    @server.route("/login", methods=["GET", "POST"])
    def _login() -> Response:
        next_url = _safe_next(request.values.get("next"))
        if request.method == "GET":
            if current_user.is_authenticated:
                return redirect(next_url)
            return _login_page(next_url=next_url)
        try:
            validate_csrf(request.form.get("csrf_token", ""))
        except ValidationError:
            return _login_page("The form expired; please try again.", next_url=next_url, status=400)
        email = request.form.get("email", "")[:255]
        with session_scope() as session:
            result = users.authenticate(
                session=session,
                email=email,
                password=request.form.get("password", "")[:1024],
                address=client_address(),
                max_failures=settings.login_max_failures,
                lock_seconds=settings.login_lock_seconds,
            )
            session_user = SessionUser.of(result.user) if result.user else None
        if session_user is None:
            return _login_page(result.message, email=email, next_url=next_url, status=429 if result.throttled else 401)
        login_user(session_user)
        return redirect(next_url)

    @server.route("/logout", methods=["GET", "POST"])
    def _logout() -> Response:
        logout_user()
        return redirect("/login")

    @server.before_request
    def _guard() -> Response | tuple[Response, int] | None:
        path = request.path
        if path == API_ROOT or path.startswith(OPEN_PREFIXES):
            return None  # the API checks its bearer tokens itself (api.routes.requires)
        if request.method not in ("GET", "HEAD", "OPTIONS") and not _same_origin():
            return jsonify({"error": {"code": "forbidden", "message": "Cross-site request refused."}}), 403
        if not current_user.is_authenticated:
            if path.startswith("/_dash-") or request.method != "GET":
                return jsonify({"error": {"code": "unauthenticated", "message": "Sign in first."}}), 401
            return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))
        if path == DISPATCH_PATH and request.method == "POST":
            body = _callback_body()
            if body is None:
                return jsonify({"error": {"code": "bad_request", "message": "Expected a JSON object."}}), 400
            needed = required_role_for_callback(body)
            if needed and not users.has_role(current_role(), needed):
                record_denied(action="callback.denied", target=str(body.get("output")), required=needed)
                return jsonify({"error": {"code": "forbidden", "message": f"This needs the {needed} role."}}), 403
        return None

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
        if getattr(g, "api_user", None) is None and request.path.startswith("/_dash-"):
            response.headers["Cache-Control"] = "no-store"
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
