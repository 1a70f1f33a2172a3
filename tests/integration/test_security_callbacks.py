"""Every guarded callback x every role: the server answers 401 / 403 / runs it, and logs every refusal.

The request bodies are built from /_dash-dependencies, the way the browser builds them, for every callback that
auth.guard registered (CALLBACK_KEY_ROLES). A viewer who crafts a callback request to import, reset or approve is
refused with 403 and an audit row with outcome 'denied'.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from auth.guard import CALLBACK_KEY_ROLES, CALLBACK_ROLES, required_role_for_callback
from services.users import has_role

ROLES = ("viewer", "planner", "admin")


def _split_outputs(key: str) -> list[dict[str, Any]]:
    """'..a.children...b.value..' or 'a.children' -> [{"id": "a", "property": "children"}, ...]."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    out = []
    for part in parts:
        part = part.split("@")[0]  # allow_duplicate outputs carry a hash suffix
        component, _, prop = part.rpartition(".")
        component_id: Any = json.loads(component) if component.startswith("{") else component
        out.append({"id": component_id, "property": prop})
    return out


def _values(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": item["id"], "property": item["property"], "value": None} for item in items]


def body_for(dep: dict[str, Any]) -> dict[str, Any]:
    """A callback request for one /_dash-dependencies entry, with null values and nothing triggered."""
    outputs = _split_outputs(dep["output"])
    return {
        "output": dep["output"],
        "outputs": outputs if dep["output"].startswith("..") else outputs[0],
        "inputs": _values(dep["inputs"]),
        "state": _values(dep.get("state", [])),
        "changedPropIds": [],
    }


@pytest.fixture
def guarded_deps(demo_app) -> list[dict[str, Any]]:
    from tests.conftest import login

    client = demo_app.server.test_client()
    login(client, "admin@example.com")
    deps = client.get("/_dash-dependencies").get_json()
    guarded = [d for d in deps if d["output"] in CALLBACK_KEY_ROLES and not d.get("clientside_function")]
    assert guarded, "no guarded callback registered"
    return guarded


def _denied_count(session_scope, key: str) -> int:
    from db.models import AuditLog

    with session_scope() as session:
        return session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "callback.denied", AuditLog.outcome == "denied", AuditLog.target == key[:255])
        )


def test_every_callback_is_guarded_and_every_admin_callback_needs_admin(guarded_deps) -> None:
    from dash import _callback

    for dep in guarded_deps:
        role = CALLBACK_KEY_ROLES[dep["output"]]
        assert role in ROLES
        if any(o["id"].startswith("admin-") for o in _split_outputs(dep["output"]) if isinstance(o["id"], str)):
            assert role == "admin", dep["output"]
    # no server-side callback of the app's pages escapes guarded_callback (only Dash's own page router may)
    from app import create_app  # noqa: F401  (app built by the fixture)

    unguarded = [
        spec["output"]
        for spec in _callback.GLOBAL_CALLBACK_LIST + list(_registered_specs())
        if spec.get("clientside_function") is None
        and spec["output"] not in CALLBACK_KEY_ROLES
        and "_pages_" not in spec["output"]
    ]
    assert unguarded == []


def _registered_specs() -> list[dict[str, Any]]:
    from tests.conftest import _APP

    app = _APP.get("app")
    return list(getattr(app, "_callback_list", [])) if app is not None else []


@pytest.mark.parametrize("role", [None, *ROLES])
def test_callback_matrix(demo_app, guarded_deps, role: str | None) -> None:
    from db.session import session_scope
    from tests.conftest import login

    client = demo_app.server.test_client()
    if role is not None:
        login(client, f"{role}@example.com")
    for dep in guarded_deps:
        needed = CALLBACK_KEY_ROLES[dep["output"]]
        body = body_for(dep)
        if role is None:
            response = client.post("/_dash-update-component", json=body)
            assert response.status_code == 401, dep["output"]
        elif not has_role(role, needed):
            before = _denied_count(session_scope, dep["output"])
            response = client.post("/_dash-update-component", json=body)
            assert response.status_code == 403, (role, dep["output"], response.status_code)
            assert response.get_json()["error"]["code"] == "forbidden"
            assert _denied_count(session_scope, dep["output"]) == before + 1
        elif dep.get("background"):
            # allowed: a background callback would start a job; the guard's answer is what matters here
            assert has_role(role, required_role_for_callback(body))
        else:
            response = client.post("/_dash-update-component", json=body)
            assert response.status_code not in (401, 403), (role, dep["output"], response.status_code)


def test_a_crafted_body_cannot_hide_a_guarded_callback(client_as) -> None:
    """Dash runs callback_map[body['output']]: leaving out or faking 'outputs' does not get past the guard."""
    admin_only = next(key for key, role in CALLBACK_KEY_ROLES.items() if role == "admin")
    client = client_as("viewer")
    for outputs in ([], {"id": "shell-url", "property": "pathname"}, None):
        body = {"output": admin_only, "outputs": outputs, "inputs": [], "state": [], "changedPropIds": []}
        assert client.post("/_dash-update-component", json=body).status_code == 403
    # an unknown key naming guarded outputs is refused too
    outputs = [{"id": "admin-users-grid", "property": "rowData"}]
    body = {"output": "admin-users-grid.rowData@fake", "outputs": outputs, "inputs": [], "changedPropIds": []}
    assert client.post("/_dash-update-component", json=body).status_code == 403


def test_non_json_callback_bodies_are_refused(client_as) -> None:
    admin_only = next(key for key, role in CALLBACK_KEY_ROLES.items() if role == "admin")
    client = client_as("viewer")
    raw = json.dumps({"output": admin_only, "outputs": [], "inputs": []})
    assert client.post("/_dash-update-component", data=raw, content_type="text/plain").status_code == 400
    assert client.post("/_dash-update-component", data="[1,2]", content_type="application/json").status_code == 400
    assert client.post("/_dash-update-component", data="{", content_type="application/json").status_code == 400


def test_the_wrapper_refuses_even_without_the_hook(demo_app) -> None:
    """Belt and braces: the function itself refuses (403, logged) when the request's user lacks the role."""
    import werkzeug.exceptions
    from flask_login import login_user

    from auth.identity import SessionUser
    from callbacks import admin as admin_callbacks

    with demo_app.server.test_request_context("/_dash-update-component", method="POST"):
        login_user(SessionUser(id=10_000, email="viewer@example.com", role="viewer"))
        with pytest.raises(werkzeug.exceptions.Forbidden):
            admin_callbacks.audit_filtered(None, None, None, None, None, None, None)


def test_roles_by_output_id_keep_the_strongest(demo_app) -> None:
    for key, role in CALLBACK_KEY_ROLES.items():
        for output in _split_outputs(key):
            stored = CALLBACK_ROLES.get(
                json.dumps(output["id"], sort_keys=True) if isinstance(output["id"], dict) else output["id"]
            )
            if stored is not None:
                assert has_role(stored, role)
