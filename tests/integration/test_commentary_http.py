"""The Regenerate callback over HTTP (/_dash-update-component) as each role: a viewer is refused (403, audit
'denied'), a planner's request starts the background job whose answer replaces the matching panel body."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from auth.guard import CALLBACK_KEY_ROLES
from layouts._commentary import BODY_TYPE, REGENERATE_TYPE

DISPATCH = "/_dash-update-component"


def _key(client) -> str:
    deps = client.get("/_dash-dependencies").get_json()
    (key,) = [d["output"] for d in deps if BODY_TYPE in d["output"] and REGENERATE_TYPE in json.dumps(d["inputs"])]
    return key


def _body(key: str, scope: str, n_clicks: int = 1) -> dict[str, Any]:
    button = {"type": REGENERATE_TYPE, "scope": scope}
    return {
        "output": key,
        "outputs": {"id": {"type": BODY_TYPE, "scope": scope}, "property": "children"},
        "inputs": [{"id": button, "property": "n_clicks", "value": n_clicks}],
        "state": [{"id": button, "property": "id", "value": button}],
        "changedPropIds": [json.dumps(button, sort_keys=True, separators=(",", ":")) + ".n_clicks"],
    }


def _denied(key: str) -> int:
    from db.models import AuditLog
    from db.session import session_scope

    with session_scope() as session:
        return session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "callback.denied", AuditLog.outcome == "denied", AuditLog.target == key[:255])
        )


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    if isinstance(node, dict):
        return _strings(node.get("props", {}).get("children")) if "props" in node else []
    return []


def test_the_regenerate_callback_needs_the_planner_role(client_as) -> None:
    client = client_as("viewer")
    key = _key(client)
    assert CALLBACK_KEY_ROLES[key] == "planner"
    before = _denied(key)
    response = client.post(DISPATCH, json=_body(key, "portfolio"))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert _denied(key) == before + 1
    assert client_as(None).post(DISPATCH, json=_body(key, "portfolio")).status_code == 401


def test_a_crafted_key_naming_a_commentary_body_is_refused_to_a_viewer(client_as) -> None:
    """Defence in depth: an unknown callback key whose outputs are a guarded pattern id is refused by the id."""
    client = client_as("viewer")
    body = _body("fake.children", "sku:ANY")
    assert client.post(DISPATCH, json=body).status_code == 403


@pytest.mark.parametrize("role", ["planner", "admin"])
def test_a_planner_regenerates_through_the_background_job(client_as, role: str) -> None:
    from services.narrative import portfolio_commentary

    client = client_as(role)
    key = _key(client)
    started = client.post(DISPATCH, json=_body(key, "portfolio"))
    assert started.status_code == 200, started.get_data(as_text=True)[:300]
    handles = started.get_json()
    assert {"cacheKey", "job"} <= set(handles)
    deadline = time.monotonic() + 60
    payload: dict[str, Any] = {}
    while time.monotonic() < deadline:
        poll = client.post(
            DISPATCH,
            json=_body(key, "portfolio"),
            query_string={"cacheKey": handles["cacheKey"], "job": handles["job"]},
        )
        assert poll.status_code in (200, 204), poll.get_data(as_text=True)[:300]
        payload = poll.get_json(silent=True) or {}
        if "response" in payload:
            break
        time.sleep(0.2)
    assert "response" in payload, f"the job did not finish: {payload}"
    (children,) = payload["response"].values()
    strings = _strings(children["children"])
    from db.session import session_scope

    with session_scope() as session:
        view = portfolio_commentary(session=session)
    if view is None:  # the demo database has no finished run (no engine): the panel says so
        assert strings == ["No commentary yet: it is written from the latest finished recompute."]
    else:
        assert view.cached  # the job stored it; this read is a cache hit of the same row
        assert all(part.strip() in strings for part in view.text.split("\n") if part.strip())
        assert any(s.startswith(view.written_by) for s in strings)
