"""Cycles page and API on a private copy of the demo database: planners close cycles (viewers are refused on the
server), everyone compares them (waterfall, totals, SKU table, periods, CSV), and GET /api/v1/cycles[/compare]."""

from __future__ import annotations

import csv
import io

import pytest

from tests.integration.test_api import _auth, isolated, tokens_isolated  # noqa: F401  (fixtures)


@pytest.mark.parametrize("role", ["viewer", "planner", "admin"])
def test_the_page_and_its_link_are_there_for_everyone(client_as, role: str) -> None:
    from layouts._shell import nav_items

    response = client_as(role).get("/cycles")
    assert response.status_code == 200
    assert ("Cycles", "/cycles") in nav_items(role)


def test_only_planners_see_and_may_use_the_close_button(client_as, monkeypatch) -> None:
    from auth.guard import CALLBACK_KEY_ROLES
    from layouts import cycles as page
    from tests.integration.test_security_callbacks import body_for

    assert page.CLOSE_BUTTON in str(page.close_card(True))
    assert page.CLOSE_BUTTON not in str(page.close_card(False)) and page.PLANNER_ONLY in str(page.close_card(False))
    key = next(k for k in CALLBACK_KEY_ROLES if page.CLOSE_MESSAGE in k)
    assert CALLBACK_KEY_ROLES[key] == "planner"
    viewer = client_as("viewer")
    dep = next(d for d in viewer.get("/_dash-dependencies").get_json() if d["output"] == key)
    body = body_for(dep)
    body["inputs"][0]["value"] = 1
    body["state"][0]["value"] = "Sneaky"
    assert viewer.post("/_dash-update-component", json=body).status_code == 403


def test_close_compare_and_export(isolated, tokens_isolated) -> None:  # noqa: F811
    from callbacks import cycles as cb
    from layouts import cycles as page

    assert cb.view(None, None)[-1] == "No cycle has been closed yet."
    message, options, _, a, b = cb.close("Oct 2026", "planner@example.com")
    assert "Closed 'Oct 2026'" in str(message) and a == b and len(options) == 1
    message, *_ = cb.close("Oct 2026", "planner@example.com")
    assert "exists already" in str(message)
    message, options, _, a, b = cb.close("Nov 2026", "planner@example.com")
    assert len(options) == 2 and a != b
    waterfall, totals, rows, periods, note = cb.view(a, b)
    trace = waterfall["data"][0]
    assert trace["measure"][0] == "absolute" and trace["measure"][-1] == "total"
    assert trace["y"][0] + sum(trace["y"][1:-1]) == pytest.approx(trace["y"][-1], abs=1.0)
    assert "Revenue of the plan" in str(totals) and "Oct 2026" in note and "Nov 2026" in note
    assert rows and rows[0]["sku_link"] == f"[{rows[0]['code']}](/sku/{rows[0]['code']})"
    assert len(periods["data"]) == 4
    sent = cb.export_file(a, b)
    assert sent["filename"].startswith(f"cycles-{a}-vs-{b}-") and sent["filename"].endswith(".csv")
    table = list(csv.DictReader(io.StringIO(sent["content"])))
    assert {"code", "demand_a", "demand_b", "change", "change_pct"} <= set(table[0])
    assert cb.view(a, 999_999)[-1].children == "no cycle named '999999'"

    client = isolated.server.test_client()
    viewer = _auth(tokens_isolated["viewer"])
    listed = client.get("/api/v1/cycles", headers=viewer).get_json()["data"]
    assert [c["name"] for c in listed] == ["Nov 2026", "Oct 2026"]
    doc = client.get("/api/v1/cycles/compare?a=Oct 2026&b=Nov 2026&limit=3", headers=viewer).get_json()["data"]
    assert doc["a"]["name"] == "Oct 2026" and len(doc["skus"]) == 3 and doc["sku_count"] > 3
    assert client.get("/api/v1/cycles/compare?a=Oct 2026", headers=viewer).status_code == 400
    assert client.get("/api/v1/cycles/compare?a=1&b=2&limit=0", headers=viewer).status_code == 400
    missing = client.get("/api/v1/cycles/compare?a=Oct 2026&b=Nope", headers=viewer)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/cycles").status_code == 401
    assert page.default_pair([]) == (None, None)
