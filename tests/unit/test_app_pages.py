"""The app starts, every page answers 200 for a signed-in user, and anonymous users are sent to the login."""

from __future__ import annotations

import json

import pytest

PAGES = ["/", "/sku", "/risk", "/profit", "/orders", "/data", "/briefings", "/admin", "/account"]


def _render(client, path: str) -> str:
    """Ask Dash for a page's content the way the browser does (the pages' router callback)."""
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200
    deps = client.get("/_dash-dependencies").get_json()
    router = next(d for d in deps if "_pages_content" in d["output"])
    payload = {
        "output": router["output"],
        "outputs": [
            {"id": o.split(".")[0], "property": o.split(".")[1]} for o in router["output"].strip(".").split("...")
        ],
        "inputs": [
            {"id": i["id"], "property": i["property"], "value": path if i["property"] == "pathname" else None}
            for i in router["inputs"]
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [{"id": s["id"], "property": s["property"], "value": None} for s in router.get("state", [])],
    }
    response = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_200(client_as, path: str) -> None:
    client = client_as("admin")
    assert client.get(path).status_code == 200
    _render(client, path)


def test_anonymous_redirected_to_login(client_as) -> None:
    client = client_as(None)
    response = client.get("/risk")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/_dash-layout").status_code == 401
    assert client.post("/_dash-update-component", json={}).status_code == 401


def test_health_endpoints(client_as) -> None:
    client = client_as(None)
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json()["status"] == "ok"


def test_bootstrap_served_locally(client_as) -> None:
    client = client_as("viewer")
    page = client.get("/").get_data(as_text=True)
    assert "/vendor/css/bootstrap.min.css" in page
    assert "cdn" not in page.lower()
    assert client.get("/vendor/css/bootstrap.min.css").status_code == 200
