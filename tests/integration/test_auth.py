"""Login, sessions and logout over HTTP (Flask test client on the demo app)."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.conftest import login, logout, make_user

PASSWORD = "correct horse battery"


def _csrf(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _fresh_client(demo_app, address: str | None = None):
    client = demo_app.server.test_client()
    # each test that fails logins on purpose uses its own address, so the shared 127.0.0.1 is never throttled
    client.environ_base["REMOTE_ADDR"] = address or f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    return client


def _new_user(role: str = "viewer") -> str:
    email = f"u{uuid.uuid4().hex[:10]}@example.com"
    make_user(email, role)
    return email


def test_login_page_has_csrf_and_no_framing(demo_app) -> None:
    client = _fresh_client(demo_app)
    response = client.get("/login")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'name="csrf_token"' in body and 'type="password"' in body
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_login_without_csrf_token_is_refused(demo_app) -> None:
    client = _fresh_client(demo_app)
    response = client.post("/login", data={"email": "viewer@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out


def test_wrong_password_gives_a_generic_message(demo_app) -> None:
    client = _fresh_client(demo_app)
    token = _csrf(client)
    wrong = client.post(
        "/login", data={"email": "viewer@example.com", "password": "nope nope nope", "csrf_token": token}
    )
    unknown = client.post("/login", data={"email": "nobody@example.com", "password": "nope nope", "csrf_token": token})
    assert wrong.status_code == unknown.status_code == 401
    assert "E-mail or password is not correct." in wrong.get_data(as_text=True)
    assert "E-mail or password is not correct." in unknown.get_data(as_text=True)


def test_login_sets_a_hardened_session_cookie_and_logout_ends_it(demo_app) -> None:
    email = _new_user()
    client = _fresh_client(demo_app)
    response = login(client, email)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in tests
    assert client.get("/").status_code == 200
    assert client.get("/logout").status_code == 200  # GET only shows the sign-out button
    assert client.get("/").status_code == 200
    assert logout(client).status_code == 302
    assert client.get("/").status_code == 302


def test_session_cookie_is_secure_over_https(demo_app) -> None:
    email = _new_user()
    client = _fresh_client(demo_app)
    token = _csrf(client)
    response = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        base_url="https://localhost",
    )
    assert response.status_code == 302
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Secure" in cookie
    assert "max-age=" in response.headers.get("Strict-Transport-Security", "")


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "evil", "/ok\r\nx: y"],
)
def test_next_never_leaves_the_site(demo_app, target: str) -> None:
    email = _new_user()
    client = _fresh_client(demo_app)
    token = _csrf(client)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_keeps_a_local_path(demo_app) -> None:
    email = _new_user()
    client = _fresh_client(demo_app)
    first = client.get("/risk?sku=A&x=1")
    assert first.status_code == 302 and "next=%2Frisk%3Fsku%3DA%26x%3D1" in first.headers["Location"]
    token = _csrf(client)
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "/risk?sku=A&x=1"}
    )
    assert response.headers["Location"] == "/risk?sku=A&x=1"


def test_deactivated_user_loses_the_session_at_once(demo_app) -> None:
    from db.session import session_scope
    from services import users

    email = _new_user()
    client = _fresh_client(demo_app)
    login(client, email)
    assert client.get("/").status_code == 200
    with session_scope() as session:
        user = users.get_by_email(session=session, email=email)
        users.set_active(session=session, user_id=user.id, active=False, actor="admin@example.com")
    assert client.get("/").status_code == 302
    assert client.get("/_dash-layout").status_code == 401


def test_role_change_ends_the_session_and_the_next_sign_in_has_the_new_role(demo_app) -> None:
    """Issue 16: a role change ends the user's sessions at once (it used to apply silently on the next request)."""
    from db.session import session_scope
    from services import users

    email = _new_user("viewer")
    client = _fresh_client(demo_app)
    login(client, email)
    with session_scope() as session:
        user = users.get_by_email(session=session, email=email)
        users.set_role(session=session, user_id=user.id, role="admin", actor="admin@example.com")
    assert client.get("/_dash-layout").status_code == 401
    assert login(client, email).status_code == 302
    layout = client.get("/_dash-layout").get_json()
    assert f"{email} · admin" in str(layout)  # the navbar shows the new role


def test_anonymous_is_sent_to_login_everywhere(demo_app) -> None:
    client = _fresh_client(demo_app)
    for path in ("/", "/admin", "/account", "/orders"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    for path in ("/_dash-layout", "/_dash-dependencies"):
        assert client.get(path).status_code == 401
    assert client.post("/_dash-update-component", json={"output": "x.children"}).status_code == 401


def _account_body(current: str, new: str, repeat: str) -> dict:
    return {
        "output": "account-result.children",
        "outputs": {"id": "account-result", "property": "children"},
        "inputs": [{"id": "account-submit", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["account-submit.n_clicks"],
        "state": [
            {"id": "account-current", "property": "value", "value": current},
            {"id": "account-new", "property": "value", "value": new},
            {"id": "account-repeat", "property": "value", "value": repeat},
        ],
    }


def test_change_my_password(demo_app) -> None:
    email = _new_user()
    client = _fresh_client(demo_app)
    login(client, email)
    elsewhere = _fresh_client(demo_app)
    login(elsewhere, email)
    assert elsewhere.get("/").status_code == 200
    mismatch = client.post("/_dash-update-component", json=_account_body(PASSWORD, "a new password 1", "other 12345"))
    assert "do not match" in mismatch.get_data(as_text=True)
    wrong = client.post(
        "/_dash-update-component", json=_account_body("not it at all", "a new password 1", "a new password 1")
    )
    assert "not correct" in wrong.get_data(as_text=True)
    short = client.post("/_dash-update-component", json=_account_body(PASSWORD, "short", "short"))
    assert "at least 12" in short.get_data(as_text=True)
    ok = client.post("/_dash-update-component", json=_account_body(PASSWORD, "a new password 1", "a new password 1"))
    assert "was changed" in ok.get_data(as_text=True)
    assert client.get("/").status_code == 200  # this browser stays signed in
    assert elsewhere.get("/").status_code == 302  # the other session ended
    other = _fresh_client(demo_app)
    assert login(other, email, "a new password 1").status_code == 302
    assert login(_fresh_client(demo_app), email, PASSWORD).status_code == 401
