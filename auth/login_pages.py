"""The sign-in and sign-out routes (plain Flask pages with CSRF-protected forms).

Signing in opens a server-side session (:mod:`services.user_sessions`) and starts a fresh cookie session, so the
CSRF token and the session id both change at sign-in. Signing out is a POST with the CSRF token (a link or a page
on another site cannot sign anyone out); ``GET /logout`` only shows the button.
"""

from __future__ import annotations

import html
from urllib.parse import urlparse

from flask import Flask, Response, redirect, request
from flask import session as cookie_session
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms.validators import ValidationError

from auth.identity import SessionUser, client_address
from db.session import session_scope
from services import audit, user_sessions, users
from services.login_throttle import ThrottlePolicy
from settings import Settings, get_settings

_HEAD = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Inventory Command Center</title>
<link rel="stylesheet" href="/vendor/css/bootstrap.min.css"><link rel="stylesheet" href="/assets/app.css"></head>
<body class="bg-light"><main class="container" style="max-width:420px;margin-top:10vh">
<div class="card shadow-sm"><div class="card-body p-4">
<h1 class="h4 mb-1">Inventory Command Center</h1>"""
_FOOT = "</div></div></main></body></html>"

LOGIN_TEMPLATE = (
    _HEAD
    + """<p class="text-muted mb-4">Sign in to continue</p>
{message}
<form method="post" action="/login" novalidate>
<input type="hidden" name="csrf_token" value="{csrf}"><input type="hidden" name="next" value="{next}">
<div class="mb-3"><label class="form-label" for="email">E-mail</label>
<input class="form-control" id="email" name="email" type="email" autocomplete="username" required value="{email}"></div>
<div class="mb-3"><label class="form-label" for="password">Password</label>
<input class="form-control" id="password" name="password" type="password"
 autocomplete="current-password" required></div>
<button class="btn btn-primary w-100" type="submit">Sign in</button></form>"""
    + _FOOT
)

LOGOUT_TEMPLATE = (
    _HEAD
    + """<p class="text-muted mb-4">Signed in as {email}</p>
{message}
<form method="post" action="/logout">
<input type="hidden" name="csrf_token" value="{csrf}">
<button class="btn btn-primary w-100" type="submit" id="logout-confirm">Sign out</button></form>
<a class="btn btn-link w-100 mt-2" href="/">Back to the app</a>"""
    + _FOOT
)


def safe_next(target: str | None) -> str:
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


def _alert(message: str) -> str:
    return f'<div class="alert alert-danger" role="alert">{html.escape(message)}</div>' if message else ""


def login_page(message: str = "", email: str = "", next_url: str = "/", status: int = 200) -> Response:
    body = LOGIN_TEMPLATE.format(
        lang=get_settings().locale,
        title="Sign in",
        message=_alert(message),
        csrf=generate_csrf(),
        next=html.escape(next_url),
        email=html.escape(email),
    )
    return Response(body, status=status, mimetype="text/html")


def logout_page(message: str = "", status: int = 200) -> Response:
    body = LOGOUT_TEMPLATE.format(
        lang=get_settings().locale,
        title="Sign out",
        message=_alert(message),
        csrf=generate_csrf(),
        email=html.escape(current_user.email),
    )
    return Response(body, status=status, mimetype="text/html")


def _csrf_ok() -> bool:
    try:
        validate_csrf(request.form.get("csrf_token", ""))
    except ValidationError:
        return False
    return True


def end_current_session(action: str) -> None:
    """End this browser's server-side session (audit ``action`` when one was live)."""
    if not current_user.is_authenticated:
        return
    with session_scope() as session:
        if user_sessions.end(session=session, session_id=current_user.get_id()):
            audit.record(session=session, action=action, user_email=current_user.email, address=client_address())


def register(server: Flask, settings: Settings) -> None:
    """Add ``/login`` and ``/logout`` to ``server``."""
    policy = ThrottlePolicy.from_settings(settings)

    @server.route("/login", methods=["GET", "POST"])
    def _login() -> Response:
        next_url = safe_next(request.values.get("next"))
        if request.method == "GET":
            if current_user.is_authenticated:
                return redirect(next_url)
            return login_page(next_url=next_url)
        if not _csrf_ok():
            return login_page("The form expired; please try again.", next_url=next_url, status=400)
        email = request.form.get("email", "")[:255]
        with session_scope() as session:
            result = users.authenticate(
                session=session,
                email=email,
                password=request.form.get("password", "")[:1024],
                address=client_address(),
                policy=policy,
            )
            signed_in = None
            if result.user is not None:
                session_id = user_sessions.start(
                    session=session,
                    user=result.user,
                    address=client_address(),
                    max_age_hours=settings.session_max_age_hours,
                )
                signed_in = SessionUser.of(result.user, session_id)
        if signed_in is None:
            return login_page(result.message, email=email, next_url=next_url, status=429 if result.throttled else 401)
        end_current_session("logout")  # signing in again over a live session ends the old one
        cookie_session.clear()  # a fresh cookie session: a new CSRF token, nothing carried over from before
        login_user(signed_in)
        return redirect(next_url)

    @server.route("/logout", methods=["GET", "POST"])
    def _logout() -> Response:
        if request.method == "GET":
            return logout_page() if current_user.is_authenticated else redirect("/login")
        if not _csrf_ok():
            if current_user.is_authenticated:
                return logout_page("The form expired; please try again.", status=400)
            return redirect("/login")
        end_current_session("logout")
        logout_user()
        cookie_session.clear()
        return redirect("/login")
