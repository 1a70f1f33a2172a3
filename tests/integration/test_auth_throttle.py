"""Login throttling: after 5 failures for an account or from an address, further attempts wait out the window."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from sqlalchemy import select

from tests.conftest import make_user

PASSWORD = "correct horse battery"


def _address() -> str:
    return f"192.0.2.{uuid.uuid4().int % 250 + 1}-{uuid.uuid4().hex[:6]}"  # unique per test (a label is enough)


def _client(demo_app, address: str):
    client = demo_app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _post(client, email: str, password: str):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def _new_user() -> str:
    email = f"t{uuid.uuid4().hex[:10]}@example.com"
    make_user(email, "viewer")
    return email


def test_five_failures_block_that_account_from_that_address_only(demo_app) -> None:
    """Issue 16 finding 6: five wrong guesses used to lock the named account for everyone (and every account for
    that address); now they block only that (account, address) pair."""
    email = _new_user()
    address = _address()
    for attempt in range(5):
        assert _post(_client(demo_app, address), email, f"wrong password {attempt}").status_code == 401
    blocked = _post(_client(demo_app, address), email, PASSWORD)
    assert blocked.status_code == 429
    assert "from this address" in blocked.get_data(as_text=True)
    assert _post(_client(demo_app, _address()), email, PASSWORD).status_code == 302  # the owner elsewhere: fine
    other = _new_user()
    assert _post(_client(demo_app, address), other, PASSWORD).status_code == 302  # other accounts, same address


def test_five_failures_spread_over_addresses_do_not_lock_the_account(demo_app) -> None:
    email = _new_user()
    for attempt in range(5):
        response = _post(_client(demo_app, _address()), email, f"wrong password {attempt}")
        assert response.status_code == 401
    assert _post(_client(demo_app, _address()), email, PASSWORD).status_code == 302


def test_an_address_is_throttled_only_at_a_much_higher_ceiling(demo_app) -> None:
    from settings import get_settings

    address = _address()
    client = _client(demo_app, address)
    for attempt in range(5):
        assert _post(client, f"nobody{attempt}@example.com", "whatever it is").status_code == 401
    email = _new_user()
    assert _post(client, email, PASSWORD).status_code == 302  # one office behind one NAT: others still sign in
    assert get_settings().login_address_max_failures >= 10 * get_settings().login_max_failures


def test_four_failures_then_success_resets_the_account_count(demo_app) -> None:
    email = _new_user()
    address = _address()
    client = _client(demo_app, address)
    for attempt in range(4):
        assert _post(client, email, f"wrong {attempt} password").status_code == 401
    assert _post(client, email, PASSWORD).status_code == 302
    again = _client(demo_app, _address())
    assert _post(again, email, "one more wrong one").status_code == 401
    assert _post(_client(demo_app, _address()), email, PASSWORD).status_code == 302  # not locked


def test_the_lock_ends_after_the_window(demo_app) -> None:
    from db.models import AuditLog, utcnow
    from db.session import session_scope
    from services import users

    email = _new_user()
    address = _address()
    start = utcnow()

    def attempt(password: str, at: dt.datetime) -> users.LoginResult:
        with session_scope() as session:
            result = users.authenticate(
                session=session,
                email=email,
                password=password,
                address=address,
                max_failures=5,
                lock_seconds=300,
                now=at,
            )
            return users.LoginResult(result.user.email if result.user else None, result.message, result.throttled)

    for i in range(5):
        assert attempt("bad password", start + dt.timedelta(seconds=i)).user is None
    locked = attempt(PASSWORD, start + dt.timedelta(seconds=60))
    assert locked.user is None and locked.throttled
    later = attempt(PASSWORD, start + dt.timedelta(seconds=306))
    assert later.user == email and not later.throttled
    with session_scope() as session:
        outcomes = session.scalars(
            select(AuditLog.outcome).where(AuditLog.action == "login", AuditLog.address == address)
        ).all()
    assert outcomes.count("denied") == 6 and outcomes.count("ok") == 1


def test_unknown_accounts_cost_a_password_check_too(demo_app, monkeypatch) -> None:
    """No shortcut for unknown e-mails: one argon2 verification either way (no timing oracle)."""
    from db.session import session_scope
    from services import users

    calls: list[str] = []
    real = users.verify_password

    def counting(password_hash: str, password: str) -> bool:
        calls.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(users, "verify_password", counting)
    with session_scope() as session:
        users.authenticate(
            session=session,
            email="ghost@example.com",
            password="whatever it is",
            address=_address(),
            max_failures=5,
            lock_seconds=300,
        )
    assert len(calls) == 1 and calls[0].startswith("$argon2")
