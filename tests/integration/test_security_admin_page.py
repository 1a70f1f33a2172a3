"""The Admin page's layout and callbacks without a browser: forbidden unless admin, and each action's outcome."""

from __future__ import annotations

import uuid

from flask_login import login_user

from auth.identity import SessionUser


def _texts(component) -> str:
    return str(component.to_plotly_json())


def test_layout_is_forbidden_below_admin(demo_app) -> None:
    from layouts import admin

    for role in ("viewer", "planner"):
        with demo_app.server.test_request_context("/admin"):
            login_user(SessionUser(id=1, email=f"{role}@example.com", role=role))
            page = _texts(admin.layout())
        assert "This page needs the admin role" in page and "admin-users-grid" not in page
    with demo_app.server.test_request_context("/admin"):
        login_user(SessionUser(id=1, email="admin@example.com", role="admin"))
        page = _texts(admin.layout())
    assert "admin-users-grid" in page and "admin-audit-grid" in page and "viewer@example.com" in page
    assert "password_hash" not in page and "token_hash" not in page


def test_user_actions(demo_app) -> None:
    from callbacks.admin import user_action
    from services.users import generate_password

    email = f"cb{uuid.uuid4().hex[:8]}@example.com"
    rows, message, options, password, email_field, selected = user_action(
        "add", email=email, role="planner", password=None, selected=None, new_role=None, actor="admin@example.com"
    )
    row = next(r for r in rows if r["email"] == email)
    assert row["role"] == "planner" and row["active"] is True
    assert f"Added {email} as planner" in _texts(message)
    assert password == "" and email_field == ""
    assert {"label": f"{email} (planner)", "value": email} in options
    _, duplicate, *_ = user_action(
        "add", email=email, role="viewer", password=generate_password(), selected=None, new_role=None, actor="a"
    )
    assert "already exists" in _texts(duplicate)
    _, nothing, *_ = user_action(
        "role", email=None, role=None, password=None, selected=[], new_role="admin", actor="admin@example.com"
    )
    assert "Select a user" in _texts(nothing)
    rows, message, *_, selected = user_action(
        "role", email=None, role=None, password=None, selected=[row], new_role="admin", actor="admin@example.com"
    )
    assert next(r for r in rows if r["email"] == email)["role"] == "admin"
    assert selected[0]["email"] == email and selected[0]["role"] == "admin"
    rows, message, options, *_ = user_action(
        "deactivate", email=None, role=None, password=None, selected=[row], new_role=None, actor="admin@example.com"
    )
    assert next(r for r in rows if r["email"] == email)["active"] is False
    assert email not in str(options)  # no tokens for deactivated users
    _, refused, *_ = user_action(
        "deactivate", email=None, role=None, password=None, selected=[row], new_role=None, actor=email
    )
    assert "your own account" in _texts(refused)


def test_token_actions_show_the_token_once(demo_app) -> None:
    from callbacks.admin import token_action

    rows, message = token_action("create", email="viewer@example.com", name="cb test", selected=None, actor="a")
    import re

    token = re.search(r"icc_[A-Za-z0-9_-]{20,}", _texts(message)).group(0)
    assert token not in str(rows)
    row = next(r for r in rows if r["name"] == "cb test" and r["status"] == "active")
    rows, message = token_action("revoke", email=None, name=None, selected=[row], actor="admin@example.com")
    assert next(r for r in rows if r["id"] == row["id"])["status"] == "revoked"
    _, missing = token_action("create", email=None, name="x", selected=None, actor="a")
    assert "Choose the user" in _texts(missing)


def test_audit_view_filters(demo_app) -> None:
    from callbacks.admin import audit_view
    from tests.conftest import login

    login(demo_app.server.test_client(), "admin@example.com")  # at least one login row

    rows, count, actions = audit_view(user="admin@", action=None, outcome=None, start_date=None, end_date=None)
    assert rows and all("admin@" in r["user_email"] for r in rows)
    assert "match" in count and "login" in actions
    denied, _, _ = audit_view(user=None, action="login", outcome="denied", start_date=None, end_date=None)
    assert all(r["outcome"] == "denied" and r["action"] == "login" for r in denied)
    none, count, _ = audit_view(user=None, action=None, outcome=None, start_date="2001-01-01", end_date="2001-01-02")
    assert none == [] and count == "0 entries match."
    junk, _, _ = audit_view(user=None, action=None, outcome="bogus", start_date="not a date", end_date=None)
    assert junk  # unknown filters are ignored, not errors
