"""Security headers on every kind of response, and cross-site requests refused."""

from __future__ import annotations

import pytest

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else "" for part in policy.split("; ")}


@pytest.mark.parametrize("path", ["/", "/login", "/_dash-layout", "/api/v1/openapi.json", "/api/v1/nope", "/healthz"])
def test_headers_everywhere(client_as, path: str) -> None:
    response = client_as("viewer").get(path)
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (path, name)
    csp = _csp(response)
    assert csp["frame-ancestors"] == "'none'"
    assert csp["default-src"] == "'self'" and csp["object-src"] == "'none'"
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["form-action"] == "'self'" and csp["base-uri"] == "'self'"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def test_hsts_over_https_and_no_store_for_callbacks(client_as) -> None:
    client = client_as("viewer")
    assert "max-age=" in client.get("/login", base_url="https://localhost").headers["Strict-Transport-Security"]
    assert client.get("/_dash-layout").headers["Cache-Control"] == "no-store"


def test_cross_site_posts_are_refused(client_as) -> None:
    client = client_as("admin")
    body = {"output": "x.children", "outputs": [], "inputs": [], "changedPropIds": []}
    response = client.post("/_dash-update-component", json=body, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert client.post("/logout", headers={"Origin": "null"}).status_code == 403
    same = client.post("/_dash-update-component", json=body, headers={"Origin": "http://localhost"})
    assert same.status_code != 403  # the test client's host is localhost


def test_login_form_post_needs_its_csrf_token_even_same_site(client_as) -> None:
    client = client_as(None)
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": "viewer@example.com", "password": "correct horse battery", "csrf_token": "forged"},
        headers={"Origin": "http://localhost"},
    )
    assert response.status_code == 400
