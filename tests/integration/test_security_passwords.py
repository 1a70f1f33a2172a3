"""Issue 16, findings 4 and 5: change-password goes through the sign-in throttle and audit; the password policy
refuses short, common, guessable passwords and the account's own e-mail or name (offline).

The tests on a database; the pure ones are in tests/unit/test_security_passwords.py.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from tests.conftest import login, make_user
from tests.integration.test_auth import _account_body

PASSWORD = "correct horse battery"


def _client(demo_app, address: str):
    client = demo_app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _password_audit(email: str) -> list[tuple[str, str | None, str | None]]:
    from db.models import AuditLog
    from db.session import session_scope

    with session_scope() as session:
        rows = session.scalars(
            select(AuditLog).where(AuditLog.action == "user.password", AuditLog.target == email).order_by(AuditLog.id)
        ).all()
        return [(r.outcome, (r.details or {}).get("reason"), r.address) for r in rows]


def test_change_password_guesses_are_throttled_and_audited(demo_app) -> None:
    """The finding: 8 guesses of the current password in 1.9 s, no lockout, no audit entry."""
    email = f"p{uuid.uuid4().hex[:10]}@example.com"
    make_user(email, "viewer")
    address = f"10.44.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    client = _client(demo_app, address)
    login(client, email)
    answers = []
    for attempt in range(8):
        body = _account_body(f"guess number {attempt}", "a new pass phrase", "a new pass phrase")
        answers.append(client.post("/_dash-update-component", json=body).get_data(as_text=True))
    assert all("not correct" in a for a in answers[:5])
    assert all("Too many failed attempts" in a for a in answers[5:])
    right = client.post(
        "/_dash-update-component", json=_account_body(PASSWORD, "a new pass phrase", "a new pass phrase")
    )
    assert "Too many failed attempts" in right.get_data(as_text=True)  # throttled: not even checked
    audit = _password_audit(email)
    assert [o for o, _r, _a in audit] == ["denied"] * 9
    assert [r for _o, r, _a in audit][:5] == ["bad current password"] * 5
    assert all(r == "pair throttled" for _o, r, _a in audit[5:])
    assert {a for _o, _r, a in audit} == {address}
    # the owner from another address (another device) is not affected
    other = _client(demo_app, f"10.45.{uuid.uuid4().int % 250}.9")
    login(other, email)
    changed = other.post(
        "/_dash-update-component", json=_account_body(PASSWORD, "a new pass phrase", "a new pass phrase")
    )
    assert "was changed" in changed.get_data(as_text=True)
    assert _password_audit(email)[-1][:2] == ("ok", None)


def test_sign_in_and_change_password_share_one_counter(demo_app) -> None:
    email = f"q{uuid.uuid4().hex[:10]}@example.com"
    make_user(email, "viewer")
    address = f"10.46.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    client = _client(demo_app, address)
    login(client, email)  # signed in first (a success forgets this address's earlier failures)
    for attempt in range(3):
        assert login(_client(demo_app, address), email, f"wrong sign-in {attempt}").status_code == 401
    for attempt in range(2):
        body = _account_body(f"wrong current {attempt}", "a new pass phrase", "a new pass phrase")
        assert "not correct" in client.post("/_dash-update-component", json=body).get_data(as_text=True)
    assert login(_client(demo_app, address), email).status_code == 429


def test_a_weak_new_password_is_refused_with_the_reason(demo_app) -> None:
    email = f"w{uuid.uuid4().hex[:10]}@example.com"
    make_user(email, "viewer")
    client = _client(demo_app, f"10.47.{uuid.uuid4().int % 250}.3")
    login(client, email)
    answer = client.post("/_dash-update-component", json=_account_body(PASSWORD, email, email))
    assert "e-mail address or your name" in answer.get_data(as_text=True)
    assert _password_audit(email)[-1][:2] == ("denied", "weak new password")
