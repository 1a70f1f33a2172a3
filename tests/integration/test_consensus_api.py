"""The consensus demand and briefing "since" parameters over HTTP (issue 19 items 1 and 4): bad input is a 400
naming the field and writes nothing; a viewer cannot add; a planner's adjustment is saved with who made it."""

from __future__ import annotations

import pytest

from tests.integration.test_api import _a_sku_code, _auth, isolated, tokens  # noqa: F401  (fixtures)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "NO-SUCH-SKU", "period": "{month}", "change_pct": 5, "reason": "x"}, "scope"),
        ({"scope": "{code}", "period": "{month}", "change_pct": 5, "change_units": 3, "reason": "x"}, "change_pct"),
        ({"scope": "{code}", "period": "{month}", "reason": "x"}, "change_pct"),
        ({"scope": "{code}", "period": "{month}", "change_units": "lots", "reason": "x"}, "change_units"),
        ({"scope": "{code}", "period": "1999-01", "change_pct": 5, "reason": "x"}, "period"),
        ({"scope": "{code}", "period": "{month}", "change_pct": 5, "reason": ""}, "reason"),
        ({"scope": "{code}", "period": "{month}", "change_pct": 5, "reason": "x", "extra": 1}, "extra"),
    ],
)
def test_bad_adjustments_are_400_naming_the_field(isolated, tokens, body, field) -> None:  # noqa: F811
    from db.session import session_scope
    from services import consensus

    client = isolated.server.test_client()
    code = _a_sku_code(client, tokens["viewer"])
    with session_scope() as session:
        month = consensus.month_range(session)[0].isoformat()[:7]
    filled = {k: v.format(code=code, month=month) if isinstance(v, str) else v for k, v in body.items()}
    response = client.post("/api/v1/adjustments", headers=_auth(tokens["planner"]), json=filled)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["details"][0]["field"] == field
    assert client.get("/api/v1/adjustments", headers=_auth(tokens["viewer"])).get_json()["data"] == []


def test_planner_adds_viewer_reads_and_fva(isolated, tokens) -> None:  # noqa: F811
    from db.session import session_scope
    from services import consensus

    client = isolated.server.test_client()
    code = _a_sku_code(client, tokens["viewer"])
    with session_scope() as session:
        month = consensus.month_range(session)[-1].isoformat()[:7]
    body = {"scope": code, "period": month, "change_pct": 20, "reason": "trade promotion"}
    assert client.post("/api/v1/adjustments", headers=_auth(tokens["viewer"]), json=body).status_code == 403
    made = client.post("/api/v1/adjustments", headers=_auth(tokens["planner"]), json=body)
    assert made.status_code == 200, made.get_data(as_text=True)
    data = made.get_json()["data"]
    assert (data["scope"], data["period"], data["change_pct"], data["user_email"]) == (
        code,
        month,
        20,
        "planner@example.com",
    )
    listed = client.get("/api/v1/adjustments", headers=_auth(tokens["viewer"])).get_json()["data"]
    assert [a["id"] for a in listed] == [data["id"]]
    fva = client.get("/api/v1/adjustments/fva?by=who", headers=_auth(tokens["viewer"]))
    assert fva.status_code == 200 and fva.get_json()["by"] == "who"
    assert client.get("/api/v1/adjustments/fva?by=moon", headers=_auth(tokens["viewer"])).status_code == 400
    gone = client.delete(f"/api/v1/adjustments/{data['id']}", headers=_auth(tokens["planner"]))
    assert gone.status_code == 200 and gone.get_json()["data"]["active"] is False
    assert client.delete(f"/api/v1/adjustments/{data['id']}", headers=_auth(tokens["planner"])).status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since_run=abc", "since_run"),
        ("since_run=999999", "since_run"),
        ("since_date=01/02/2026", "since_date"),
        ("since_date=1999-01-01", "since_date"),
        ("since_cycle=Nope", "since_cycle"),
        ("since_run=1&since_date=2026-01-01", "since_run"),
    ],
)
def test_briefing_since_parameters_are_checked(isolated, tokens, query, field) -> None:  # noqa: F811
    client = isolated.server.test_client()
    response = client.get(f"/api/v1/briefings/portfolio.pdf?{query}", headers=_auth(tokens["viewer"]))
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["details"][0]["field"] == field


def test_briefing_since_a_run(isolated, tokens) -> None:  # noqa: F811
    from db.session import session_scope
    from services.runs import latest_run

    with session_scope() as session:
        run = latest_run(session=session)
    client = isolated.server.test_client()
    response = client.get(f"/api/v1/briefings/portfolio.pdf?since_run={run.id}", headers=_auth(tokens["viewer"]))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
