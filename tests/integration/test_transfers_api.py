"""The transfer routes of /api/v1 (issue 21) on the demo: the list in the CLI's shape, the role check on approve
(viewer 403 and audited as denied), 404 / 409, and the item on every SKU."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.integration.test_api import _auth, isolated, tokens, tokens_isolated  # noqa: F401  (fixtures)

FIELDS = {"id", "item", "from_location", "to_location", "from_sku", "to_sku", "quantity", "cost", "reason", "status"}


def test_list_has_the_demo_proposals_in_the_issue_shape(demo_app, tokens) -> None:  # noqa: F811
    client = demo_app.server.test_client()
    # every status: the shared demo app is also used by tests that act on its proposals (the API fuzz approves)
    body = client.get("/api/v1/transfers", headers=_auth(tokens["viewer"])).get_json()
    moves = {(t["from_sku"], t["to_sku"]) for t in body["transfers"]}
    assert {("LOC-DISH-BER", "LOC-DISH-RTM"), ("LOC-SHAM-RTM", "LOC-SHAM-BER")} <= moves
    for t in body["transfers"]:
        assert set(t) >= FIELDS and t["quantity"] > 0 and "reorder point" in t["reason"]
    proposed = client.get("/api/v1/transfers?status=proposed", headers=_auth(tokens["viewer"])).get_json()
    assert all(t["status"] == "proposed" for t in proposed["transfers"])
    bad = client.get("/api/v1/transfers?status=shipped", headers=_auth(tokens["viewer"]))
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_parameter"
    assert client.get("/api/v1/transfers").status_code == 401
    sku = client.get("/api/v1/skus/LOC-DISH-BER", headers=_auth(tokens["viewer"])).get_json()["data"]
    assert sku["item"] == "DISH-SOAP-1L"
    first = client.get("/api/v1/skus?per_page=1", headers=_auth(tokens["viewer"])).get_json()["data"][0]
    assert first["item"] == first["code"]  # a single-location SKU stocks its own item


def test_approve_checks_the_role_and_the_state(isolated, tokens_isolated) -> None:  # noqa: F811
    from db.models import AuditLog
    from db.session import session_scope

    client = isolated.server.test_client()
    listing = client.get("/api/v1/transfers?status=proposed", headers=_auth(tokens_isolated["viewer"])).get_json()
    transfer_id = listing["transfers"][0]["id"]
    path = f"/api/v1/transfers/{transfer_id}/approve"
    denied = client.post(path, headers=_auth(tokens_isolated["viewer"]))
    assert denied.status_code == 403
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "api.denied")) >= 1
    approved = client.post(path, headers=_auth(tokens_isolated["planner"]))
    assert approved.status_code == 200, approved.get_data(as_text=True)
    data = approved.get_json()["data"]
    assert data["status"] == "approved" and data["expected_date"]
    again = client.post(path, headers=_auth(tokens_isolated["planner"]))
    assert again.status_code == 409 and "only proposed" in again.get_json()["error"]["message"]
    assert client.post("/api/v1/transfers/999999/approve", headers=_auth(tokens_isolated["admin"])).status_code == 404
    assert client.post(f"/api/v1/transfers/{2**70}/approve", headers=_auth(tokens_isolated["admin"])).status_code == 404
    with session_scope() as session:
        actions = session.scalars(select(AuditLog.action).where(AuditLog.target == f"transfer:{transfer_id}")).all()
    assert actions == ["transfer.approve"]
