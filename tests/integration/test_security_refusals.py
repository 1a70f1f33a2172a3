"""Issue 16, finding 10 (9 in "What to build"): refused anonymous and cross-site requests are audited, rate-limited
so nobody can flood the log."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from auth.refusals import RefusalLimiter
from tests.conftest import login

BODY = {"output": "account-result.children", "outputs": {"id": "account-result", "property": "children"}}


def _address() -> str:
    return f"10.22.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def _audit(action: str, address: str) -> list:
    from db.models import AuditLog
    from db.session import session_scope

    with session_scope() as session:
        rows = session.scalars(
            select(AuditLog).where(AuditLog.action == action, AuditLog.address == address).order_by(AuditLog.id)
        ).all()
        return [(r.outcome, r.user_email, r.target, r.details) for r in rows]


def test_anonymous_refusals_are_audited_once_per_window(demo_app) -> None:
    address = _address()
    client = demo_app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    for _ in range(30):
        assert client.post("/_dash-update-component", json=BODY).status_code == 401
        assert client.get("/_dash-layout").status_code == 401
    entries = _audit("request.unauthenticated", address)
    assert len(entries) == 1
    outcome, user, target, details = entries[0]
    assert outcome == "denied" and user is None and target == "/_dash-update-component"
    assert details["method"] == "POST" and details["suppressed"] == 0


def test_cross_site_refusals_are_audited_with_the_origin_and_the_user(demo_app) -> None:
    address = _address()
    client = demo_app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    login(client, "planner@example.com")
    for _ in range(10):
        response = client.post("/_dash-update-component", json=BODY, headers={"Origin": "https://evil.example"})
        assert response.status_code == 403
    entries = _audit("request.cross_site", address)
    assert len(entries) == 1
    _outcome, user, _target, details = entries[0]
    assert user == "planner@example.com" and details["origin"] == "https://evil.example"


def test_the_limiter_counts_what_it_leaves_out_and_has_a_ceiling() -> None:
    limiter = RefusalLimiter(window_s=60, ceiling=3, max_keys=50)
    assert limiter.admit(("a", "1"), now=0.0) == 0
    assert limiter.admit(("a", "1"), now=1.0) is None
    assert limiter.admit(("a", "1"), now=2.0) is None
    assert limiter.admit(("a", "1"), now=61.0) == 2  # the next entry says two were left out
    assert limiter.admit(("b", "1"), now=62.0) == 0
    assert limiter.admit(("b", "2"), now=63.0) == 0
    assert limiter.admit(("b", "3"), now=64.0) is None  # the ceiling: three entries in this window
    assert limiter.admit(("b", "3"), now=125.0) == 1
    for i in range(500):  # many addresses: memory stays bounded
        limiter.admit(("c", str(i)), now=200.0 + i * 61)
    assert len(limiter._last) <= 50
