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


def _nav_links(client) -> dict[str, dict]:
    """The navbar's links in the layout the browser receives for the signed-in user: href -> NavLink props."""
    layout = client.get("/_dash-layout").get_json()
    found: dict[str, dict] = {}

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "NavLink" and node.get("props", {}).get("href"):
                found[node["props"]["href"]] = node["props"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(layout)
    return found


@pytest.mark.parametrize("role", ["viewer", "planner"])
def test_navbar_hides_admin_from_other_roles(client_as, role: str) -> None:
    """Viewers and planners saw an "Admin" link that only led to "This page needs the admin role"."""
    client = client_as(role)
    links = _nav_links(client)
    assert "/admin" not in links and {"/", "/sku", "/risk", "/orders", "/briefings"} <= set(links)
    assert "needs the admin role" in _render(client, "/admin")  # the page's own guard is unchanged


def test_navbar_shows_admin_to_admins(client_as) -> None:
    links = _nav_links(client_as("admin"))
    assert links["/admin"]["children"] == "Admin"


def test_sku_detail_link_stays_active_on_sku_pages(client_as) -> None:
    """ "SKU detail" (/sku) was highlighted only on /sku itself, not on /sku/<code>."""
    import dash

    links = _nav_links(client_as("viewer"))
    assert links["/sku"]["active"] == "partial"  # the browser highlights it for /sku and /sku/<code>
    assert all(props["active"] == "exact" for href, props in links.items() if href != "/sku")
    # no other page's path starts with /sku, so the prefix match cannot highlight it elsewhere
    paths = [page.get("path_template") or page["path"] for page in dash.page_registry.values()]
    assert sorted(p for p in paths if p.startswith("/sku")) == ["/sku", "/sku/<code>"]


def test_nav_items_by_role() -> None:
    from layouts._shell import NAV_ITEMS, nav_items

    hrefs = {role: [href for _label, href in nav_items(role)] for role in ("viewer", "planner", "admin", None)}
    assert hrefs["admin"] == [href for _label, href in NAV_ITEMS]
    assert hrefs["viewer"] == hrefs["planner"] == hrefs[None] == [h for h in hrefs["admin"] if h != "/admin"]
