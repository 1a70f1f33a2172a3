"""Issue 16, finding 1: the table an export serves is decided on the server per role, and every export is audited."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from tests.conftest import login

TABLES = ("skus", "stock", "imports", "audit")


def _export_body(table: str, *, selected: list | None = None, history: bool = False) -> dict:
    buttons = [
        {"id": {"type": "data-export", "table": name}, "property": "n_clicks", "value": 1 if name == table else None}
        for name in TABLES
    ]
    changed = (
        ["data-history-report.n_clicks"]
        if history
        else [json.dumps({"table": table, "type": "data-export"}, separators=(",", ":")) + ".n_clicks"]
    )
    return {
        "output": "data-download.data",
        "outputs": {"id": "data-download", "property": "data"},
        "inputs": [buttons, {"id": "data-history-report", "property": "n_clicks", "value": 1 if history else None}],
        "state": [{"id": "data-imports-grid", "property": "selectedRows", "value": selected}],
        "changedPropIds": changed,
    }


def _client(demo_app, role: str):
    client = demo_app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.66.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    assert login(client, f"{role}@example.com").status_code == 302
    return client


def _audit(action: str, email: str) -> list:
    from db.models import AuditLog
    from db.session import session_scope

    with session_scope() as session:
        rows = session.scalars(
            select(AuditLog).where(AuditLog.action == action, AuditLog.user_email == email).order_by(AuditLog.id)
        ).all()
        return [(r.target, r.outcome, r.details, r.address) for r in rows]


def test_a_viewer_cannot_export_the_audit_log(demo_app) -> None:
    """The finding: a viewer got the whole audit log by naming it in the pattern id."""
    client = _client(demo_app, "viewer")
    before = len(_audit("export.denied", "viewer@example.com"))
    response = client.post("/_dash-update-component", json=_export_body("audit"))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert "user_email" not in response.get_data(as_text=True)
    denied = _audit("export.denied", "viewer@example.com")
    assert len(denied) == before + 1 and denied[-1][0] == "export:audit" and denied[-1][1] == "denied"


@pytest.mark.parametrize("role", ["viewer", "planner"])
def test_below_admin_the_audit_log_is_refused_and_tables_are_served_and_audited(demo_app, role: str) -> None:
    client = _client(demo_app, role)
    assert client.post("/_dash-update-component", json=_export_body("audit")).status_code == 403
    response = client.post("/_dash-update-component", json=_export_body("skus"))
    assert response.status_code == 200
    download = response.get_json()["response"]["data-download"]["data"]
    lines = download["content"].strip().splitlines()
    assert lines[0].startswith("sku,") and len(lines) > 10
    target, outcome, details, address = _audit("data.export", f"{role}@example.com")[-1]
    assert (target, outcome) == ("export:skus", "ok")
    assert details["rows"] == len(lines) - 1 and address == client.environ_base["REMOTE_ADDR"]


def test_an_admin_exports_the_audit_log_and_that_is_audited_too(demo_app) -> None:
    client = _client(demo_app, "admin")
    response = client.post("/_dash-update-component", json=_export_body("audit"))
    assert response.status_code == 200
    content = response.get_json()["response"]["data-download"]["data"]["content"]
    assert "action" in content.splitlines()[0]
    target, outcome, details, _address = _audit("data.export", "admin@example.com")[-1]
    assert target == "export:audit" and outcome == "ok" and details["rows"] >= 1


@pytest.mark.parametrize("table", ["users", "../../etc/passwd", "api_token", ""])
def test_unknown_tables_answer_400(demo_app, table: str) -> None:
    """Finding 8: data-export with table "users" answered 500."""
    client = _client(demo_app, "admin")
    body = _export_body("skus")
    body["inputs"][0][0]["id"]["table"] = table
    body["changedPropIds"] = [json.dumps({"table": table, "type": "data-export"}, separators=(",", ":")) + ".n_clicks"]
    body["inputs"][0][0]["value"] = 1
    body["inputs"][0][1]["value"] = None
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert set(response.get_json()["error"]) == {"code", "message", "details"}


@pytest.mark.parametrize("bad_id", ["../../x", -1, 1.5, None, {"a": 1}, "1e3", True])
def test_the_error_report_button_with_a_bad_id_answers_400(demo_app, bad_id) -> None:
    """Finding 8: the error-report button with id "../../x" answered 500."""
    client = _client(demo_app, "viewer")
    response = client.post("/_dash-update-component", json=_export_body("", selected=[{"id": bad_id}], history=True))
    assert response.status_code in (400, 204), response.get_data(as_text=True)[:300]
    if bad_id is not None:
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "bad_request"


def test_the_error_report_of_an_import_is_served_and_audited(demo_app, tmp_path) -> None:
    from services.ingest import error_report_path

    path = error_report_path(987654)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("line,column,value,reason\n2,qty,x,not a number\n")
    try:
        client = _client(demo_app, "viewer")
        response = client.post(
            "/_dash-update-component", json=_export_body("", selected=[{"id": 987654}], history=True)
        )
        assert response.status_code == 200
        assert _audit("data.export", "viewer@example.com")[-1][0] == "import-errors:batch-987654"
    finally:
        path.unlink(missing_ok=True)
