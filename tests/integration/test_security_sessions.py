"""Issue 16, findings 2, 9 and 11: sessions end on the server, sign-out needs a POST with the CSRF token, the CSRF
token and the session id change at sign-in, and only exact paths are open to anonymous users."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, login, logout, make_user

PASSWORD = "correct horse battery"


def _client(demo_app):
    client = demo_app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.77.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    return client


def _new_user(role: str = "viewer") -> str:
    email = f"s{uuid.uuid4().hex[:10]}@example.com"
    make_user(email, role)
    return email


def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def _copy_with_cookie(demo_app, cookie: str):
    """Another client (another machine) presenting a copied session cookie."""
    thief = _client(demo_app)
    thief.set_cookie("session", cookie)
    return thief


def _layout_body() -> dict:
    return {
        "output": "account-result.children",
        "outputs": {"id": "account-result", "property": "children"},
        "inputs": [{"id": "account-submit", "property": "n_clicks", "value": None}],
        "state": [
            {"id": "account-current", "property": "value", "value": None},
            {"id": "account-new", "property": "value", "value": None},
            {"id": "account-repeat", "property": "value", "value": None},
        ],
        "changedPropIds": [],
    }


def _live_sessions(email: str) -> int:
    from db.models import User, UserSession
    from db.session import session_scope

    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(UserSession).join(User).where(User.email == email))


def test_a_cookie_copied_before_logout_is_dead_after_it(demo_app) -> None:
    """Finding 2: a session cookie copied before logout still answered 200 on /_dash-layout and callbacks."""
    client = _client(demo_app)
    email = _new_user()
    login(client, email)
    copied = _session_cookie(client)
    thief = _copy_with_cookie(demo_app, copied)
    thief.environ_base["REMOTE_ADDR"] = client.environ_base["REMOTE_ADDR"]  # Flask-Login's strong mode aside
    thief.environ_base["HTTP_USER_AGENT"] = client.environ_base.get("HTTP_USER_AGENT", "")
    assert thief.get("/_dash-layout").status_code == 200  # the copy works while the session lives
    assert logout(client).status_code == 302
    assert thief.get("/_dash-layout").status_code == 401
    assert thief.post("/_dash-update-component", json=_layout_body()).status_code == 401
    assert thief.get("/").status_code == 302
    assert _live_sessions(email) == 0


def test_get_logout_only_shows_the_button_and_a_post_without_the_token_is_refused(demo_app) -> None:
    """Finding 9: GET /logout worked from a link on another site."""
    client = _client(demo_app)
    login(client, _new_user())
    page = client.get("/logout")
    assert page.status_code == 200 and 'method="post" action="/logout"' in page.get_data(as_text=True)
    assert client.get("/").status_code == 200  # still signed in
    refused = client.post("/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 400 and "form expired" in refused.get_data(as_text=True)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200
    cross = client.post(
        "/logout", data={"csrf_token": csrf_token(client, "/logout")}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403
    assert client.get("/").status_code == 200
    assert logout(client).headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_the_csrf_token_and_the_session_id_change_at_sign_in(demo_app) -> None:
    """Finding 9: the CSRF token was the same before and after login."""
    client = _client(demo_app)
    email = _new_user()
    before = csrf_token(client, "/login")
    cookie_before = _session_cookie(client)
    login(client, email)
    after = csrf_token(client, "/logout")
    assert before != after
    assert _session_cookie(client) != cookie_before
    first_session = _session_cookie(client)
    # signing in again in the same browser ends the previous server-side session (a new id every time)
    assert client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": after}).status_code == 302
    assert _live_sessions(email) == 1
    stale = _copy_with_cookie(demo_app, first_session)
    stale.environ_base.update(client.environ_base)
    assert stale.get("/_dash-layout").status_code == 401
    assert client.get("/_dash-layout").status_code == 200


def _components(node):
    """Every component (type, props) of a Dash layout JSON."""
    if isinstance(node, dict):
        if "props" in node and "type" in node:
            yield node["type"], node["props"]
        for value in node.values():
            yield from _components(value)
    elif isinstance(node, list):
        for item in node:
            yield from _components(item)


def test_the_navbar_signs_out_with_a_post_form(demo_app) -> None:
    client = _client(demo_app)
    login(client, _new_user())
    layout = client.get("/_dash-layout").get_json()
    forms = [props for kind, props in _components(layout) if kind == "Form"]
    assert any(f.get("action") == "/logout" and f.get("method") == "post" for f in forms)
    tokens = [props["value"] for _kind, props in _components(layout) if props.get("name") == "csrf_token"]
    assert len(tokens) == 1
    assert client.post("/logout", data={"csrf_token": tokens[0]}).status_code == 302
    assert client.get("/").status_code == 302


def test_a_password_change_ends_every_session_and_renews_this_one(demo_app) -> None:
    from tests.integration.test_auth import _account_body

    client = _client(demo_app)
    email = _new_user()
    login(client, email)
    elsewhere = _client(demo_app)
    login(elsewhere, email)
    before = _session_cookie(client)
    thief = _copy_with_cookie(demo_app, before)
    thief.environ_base.update(client.environ_base)
    changed = client.post(
        "/_dash-update-component", json=_account_body(PASSWORD, "a new pass phrase", "a new pass phrase")
    )
    assert "was changed" in changed.get_data(as_text=True)
    assert client.get("/_dash-layout").status_code == 200  # this browser got a new session
    assert thief.get("/_dash-layout").status_code == 401  # the old id of this browser is dead too
    assert elsewhere.get("/_dash-layout").status_code == 401
    assert _live_sessions(email) == 1


def test_deactivation_and_role_change_end_sessions_at_once(demo_app) -> None:
    from db.session import session_scope
    from services import users

    email = _new_user()
    client = _client(demo_app)
    login(client, email)
    with session_scope() as session:
        user = users.get_by_email(session=session, email=email)
        users.set_role(session=session, user_id=user.id, role="planner", actor="admin@example.com")
    assert client.post("/_dash-update-component", json=_layout_body()).status_code == 401
    login(client, email)
    with session_scope() as session:
        user = users.get_by_email(session=session, email=email)
        users.set_active(session=session, user_id=user.id, active=False, actor="admin@example.com")
    assert client.get("/_dash-layout").status_code == 401
    assert _live_sessions(email) == 0


@pytest.mark.parametrize("path", ["/login-anything", "/loginx", "/logout-now", "/healthzz", "/readyz/x", "/login/x"])
def test_only_exact_paths_are_open(demo_app, path: str) -> None:
    """Finding 11: the open-path check was a /login prefix match, so /login-anything served the Dash shell."""
    client = _client(demo_app)
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_sessions_expire_after_their_maximum_age(sqlite_db) -> None:
    import datetime as dt

    from db.session import session_scope
    from services import user_sessions, users

    with session_scope() as session:
        user = users.create_user(session=session, email="age@example.com", password=PASSWORD)
        start = dt.datetime(2030, 1, 1, 8, 0)
        sid = user_sessions.start(session=session, user=user, address="a", max_age_hours=12, now=start)
        alive = user_sessions.user_of(
            session=session, session_id=sid, max_age_hours=12, now=start + dt.timedelta(hours=11, minutes=59)
        )
        assert alive is not None and alive.email == "age@example.com"
        late = start + dt.timedelta(hours=12, minutes=1)
        assert user_sessions.user_of(session=session, session_id=sid, max_age_hours=12, now=late) is None
        user_sessions.start(session=session, user=user, address="a", max_age_hours=12, now=late)
        assert user_sessions.count(session=session, user_id=user.id) == 1  # the expired one was removed
        assert user_sessions.user_of(session=session, session_id="", max_age_hours=12) is None
        assert user_sessions.user_of(session=session, session_id="x" * 500, max_age_hours=12) is None
