"""Accounts, tokens, the audit log, the first start and the user CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests.conftest import ROOT, wipe

PASSWORD = "correct horse battery"


def test_create_user_hashes_with_argon2_and_validates(session) -> None:
    from db.models import User
    from services import users

    user = users.create_user(session=session, email="  Ann@Example.com ", password=PASSWORD, role="planner")
    assert user.email == "ann@example.com"
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert users.verify_password(user.password_hash, PASSWORD)
    assert not users.verify_password(user.password_hash, PASSWORD + "x")
    assert not users.verify_password("not a hash", PASSWORD)
    for kwargs, message in (
        ({"email": "ann@example.com"}, "already exists"),
        ({"email": "ANN@example.com"}, "already exists"),
        ({"email": "bob@example.com", "password": "short"}, "at least 12"),
        ({"email": "bob@example.com", "password": "aaaaaaaaaaaa"}, "too easy to guess"),
        ({"email": "bob@example.com", "password": "bob@example.com"}, "e-mail address or your name"),
        ({"email": "no-at-sign", "password": PASSWORD}, "valid e-mail"),
        ({"email": "bob@example.com", "role": "root"}, "Unknown role"),
    ):
        with pytest.raises(users.UserError, match=message):
            users.create_user(session=session, **{"password": PASSWORD, **kwargs})
    assert session.scalar(select(User.email).where(User.email == "bob@example.com")) is None


def test_roles_and_activation_rules(session) -> None:
    from services import users

    admin = users.create_user(session=session, email="root@example.com", password=PASSWORD, role="admin")
    other = users.create_user(session=session, email="v@example.com", password=PASSWORD)
    assert [users.has_role(r, "planner") for r in ("viewer", "planner", "admin", None, "root")] == [
        False,
        True,
        True,
        False,
        False,
    ]
    with pytest.raises(users.UserError, match="your own admin role"):
        users.set_role(session=session, user_id=admin.id, role="viewer", actor=admin.email)
    with pytest.raises(users.UserError, match="your own account"):
        users.set_active(session=session, user_id=admin.id, active=False, actor=admin.email)
    users.set_role(session=session, user_id=other.id, role="planner", actor=admin.email)
    users.set_active(session=session, user_id=other.id, active=False, actor=admin.email)
    rows = {row["email"]: row for row in users.user_rows(session=session)}
    assert rows["v@example.com"]["role"] == "planner" and rows["v@example.com"]["active"] is False
    assert "password_hash" not in rows["v@example.com"]
    result = users.authenticate(
        session=session, email="v@example.com", password=PASSWORD, address="a1", max_failures=5, lock_seconds=300
    )
    assert result.user is None  # deactivated accounts cannot sign in


def test_tokens_are_stored_hashed_and_shown_once(session, db_url) -> None:
    from db.models import ApiToken
    from services import users

    users.create_user(session=session, email="api@example.com", password=PASSWORD, role="viewer")
    token = users.create_token(session=session, email="api@example.com", name="erp")
    session.commit()
    assert token.startswith(users.TOKEN_PREFIX) and len(token) > 40
    row = session.scalar(select(ApiToken))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = session.execute(text("SELECT * FROM api_token")).all()
    assert token not in repr(stored)  # no column holds the clear token
    assert row.prefix == token[:12]
    grid = users.token_rows(session=session)
    assert token not in repr(grid) and row.token_hash not in repr(grid)
    assert users.user_for_token(session=session, token=token).email == "api@example.com"
    assert users.user_for_token(session=session, token=token[:-1] + "x") is None
    assert users.user_for_token(session=session, token="") is None
    users.revoke_token(session=session, token_id=row.id, actor="root@example.com")
    users.revoke_token(session=session, token_id=row.id, actor="root@example.com")  # twice is harmless
    assert users.user_for_token(session=session, token=token) is None
    with pytest.raises(users.UserError, match="No user"):
        users.create_token(session=session, email="ghost@example.com")
    if db_url.startswith("sqlite"):
        session.commit()
        session.execute(text("PRAGMA wal_checkpoint(FULL)"))
        assert token.encode() not in Path(db_url.removeprefix("sqlite:///")).read_bytes()


def test_inactive_users_get_no_tokens(session) -> None:
    from services import users

    user = users.create_user(session=session, email="gone@example.com", password=PASSWORD)
    users.create_user(session=session, email="boss@example.com", password=PASSWORD, role="admin")
    users.set_active(session=session, user_id=user.id, active=False, actor="boss@example.com")
    with pytest.raises(users.UserError, match="deactivated"):
        users.create_token(session=session, email="gone@example.com")


def test_throttling_per_account_and_address(session) -> None:
    """Issue 16: five failures block the (account, address) pair, not the account and not the address; an address
    is blocked only at its much higher ceiling; the account locks for everyone only after many failures from many
    addresses, for a time that doubles, and a password reset lifts every limit."""
    from services import users
    from services.login_throttle import ThrottlePolicy

    users.create_user(session=session, email="t@example.com", password=PASSWORD)
    users.create_user(session=session, email="o@example.com", password=PASSWORD)
    now = dt.datetime(2030, 1, 1, 12, 0)
    policy = ThrottlePolicy(max_failures=5, window_seconds=300, address_max_failures=12, account_max_failures=10)

    def login(email: str, password: str, address: str, seconds: int = 0) -> users.LoginResult:
        return users.authenticate(
            session=session,
            email=email,
            password=password,
            address=address,
            policy=policy,
            now=now + dt.timedelta(seconds=seconds),
        )

    for i in range(5):
        assert login("t@example.com", "wrong password", "10.0.0.1", i).user is None
    pair = login("t@example.com", PASSWORD, "10.0.0.1", 10)
    assert pair.throttled and "from this address" in pair.message
    assert login("t@example.com", PASSWORD, "10.0.0.2", 11).user is not None  # another address: fine
    assert login("o@example.com", PASSWORD, "10.0.0.1", 12).user is not None  # another account: fine
    assert login("t@example.com", PASSWORD, "10.0.0.1", 320).user is not None  # the window passed
    for i in range(12):
        assert login(f"x{i}@example.com", "wrong password", "10.9.9.9", 400 + i).user is None
    refused = login("o@example.com", PASSWORD, "10.9.9.9", 420)
    assert refused.user is None and refused.throttled and "this address" in refused.message
    assert login("o@example.com", PASSWORD, "10.9.9.8", 421).user is not None
    # ten failures from ten addresses lock the account for everyone, for one window...
    for i in range(10):
        login("t@example.com", "wrong again", f"10.1.0.{i}", 430 + i)
    locked = login("t@example.com", PASSWORD, "10.1.1.1", 440)
    assert locked.throttled and "locked" in locked.message
    assert login("t@example.com", PASSWORD, "10.1.1.1", 439 + 301).user is not None
    # ... the next ten for two windows
    for i in range(10):
        login("t@example.com", "wrong again", f"10.2.0.{i}", 800 + i)
    assert login("t@example.com", PASSWORD, "10.1.1.1", 809 + 599).throttled
    assert login("t@example.com", PASSWORD, "10.1.1.1", 809 + 601).user is not None
    for i in range(10):
        login("t@example.com", "wrong again", f"10.3.0.{i}", 1500 + i)
    assert login("t@example.com", PASSWORD, "10.1.1.1", 1510).throttled
    users.reset_password(session=session, email="t@example.com", new_password="a brand new secret", actor="cli")
    assert login("t@example.com", "a brand new secret", "10.1.1.1", 1511).user is not None  # the reset lifts it
    from db.models import AuditLog

    locks = session.scalars(select(AuditLog.details).where(AuditLog.action == "login.lock").order_by(AuditLog.id)).all()
    assert [d["seconds"] for d in locks] == [300, 600, 1200]


def test_audit_filters(session) -> None:
    from services import audit

    for i, (action, who, outcome) in enumerate(
        [("login", "a@x.com", "ok"), ("login", "b@x.com", "denied"), ("order.approve", "a@x.com", "ok")]
    ):
        entry = audit.record(session=session, action=action, user_email=who, outcome=outcome)
        entry.created_at = dt.datetime(2030, 1, 1 + i, 9, 0)
    session.flush()
    assert [e.action for e in audit.recent(session=session, user_email="A@X")] == ["order.approve", "login"]
    assert [e.user_email for e in audit.recent(session=session, outcome="denied")] == ["b@x.com"]
    assert len(audit.recent(session=session, action="login")) == 2
    window = audit.recent(session=session, date_from=dt.date(2030, 1, 2), date_to=dt.date(2030, 1, 2))
    assert [e.user_email for e in window] == ["b@x.com"]
    assert audit.recent(session=session, user_email="%") == []  # wildcards are literal
    assert audit.actions(session=session) == ["login", "order.approve"]
    rows = audit.rows(audit.recent(session=session, limit=1))
    assert rows[0]["created_at"] == "2030-01-03 09:00:00 UTC"  # one time-stamp format (core.formats)
    with pytest.raises(ValueError, match="limit"):
        audit.recent(session=session, limit=0)


# --------------------------------------------------------------------------------------------------------------------
# first start: never a known password


def test_first_start_creates_an_admin_with_a_fresh_random_password(db_url) -> None:
    from db.session import session_scope
    from services import users
    from services.setup import first_start

    passwords = []
    for _ in range(2):
        wipe(db_url)
        result = first_start(seed_demo_data=False)
        assert result.admin_email == "admin@example.com"
        assert result.admin_password and len(result.admin_password) >= 16
        passwords.append(result.admin_password)
        with session_scope() as session:
            user = users.get_by_email(session=session, email="admin@example.com")
            assert user.role == "admin"
            assert result.admin_password not in user.password_hash
            assert users.verify_password(user.password_hash, result.admin_password)
        assert first_start(seed_demo_data=False).admin_password is None  # only on the very first start
    assert passwords[0] != passwords[1]


SETUP_PATHS = ["services/setup.py", "services/users.py", "commands/setup.py", "commands/users.py", "auth/web.py"]


@pytest.mark.parametrize("relative", SETUP_PATHS)
def test_no_literal_password_in_the_setup_code(relative: str) -> None:
    """No password=<string literal> and no <something>password = <string literal> anywhere on these paths."""
    tree = ast.parse((ROOT / relative).read_text())
    offenders = []
    for node in ast.walk(tree):
        literal = getattr(node, "value", None)
        is_text = isinstance(literal, ast.Constant) and isinstance(literal.value, str) and bool(literal.value)
        if isinstance(node, ast.keyword) and node.arg and "password" in node.arg and is_text:
            offenders.append(f"{node.arg}={literal.value!r}")
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name) and "password" in target.id.lower() and node.value.value:
                    offenders.append(f"{target.id}={node.value.value!r}")
    assert offenders == []


# --------------------------------------------------------------------------------------------------------------------
# CLI


def _args(**kwargs) -> argparse.Namespace:
    return argparse.Namespace(**kwargs)


def test_cli_create_user_token_and_reset(db_url, monkeypatch, capsys) -> None:
    from commands import users as cli
    from db.session import session_scope
    from services import users

    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough secret\n"))
    assert cli._create_user(_args(email="Boss@Example.com", role="admin", password_stdin=True)) == 0
    assert "created boss@example.com (admin)" in capsys.readouterr().out
    with session_scope() as session:
        user = users.get_by_email(session=session, email="boss@example.com")
        assert user.role == "admin" and users.verify_password(user.password_hash, "a long enough secret")

    assert cli._create_token(_args(user="boss@example.com", name="ci")) == 0
    token = capsys.readouterr().out.strip()
    with session_scope() as session:
        assert users.user_for_token(session=session, token=token).email == "boss@example.com"

    monkeypatch.setattr("sys.stdin", io.StringIO("another good secret\n"))
    assert cli._reset_password(_args(email="boss@example.com", password_stdin=True)) == 0
    with session_scope() as session:
        user = users.get_by_email(session=session, email="boss@example.com")
        assert users.verify_password(user.password_hash, "another good secret")

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(users.UserError, match="at least 12"):
        cli._create_user(_args(email="x@example.com", role="viewer", password_stdin=True))


def test_cli_prompts_twice_and_refuses_a_mismatch(monkeypatch) -> None:
    from commands import users as cli

    answers = iter(["first secret 123", "second secret 123"])
    monkeypatch.setattr("getpass.getpass", lambda _prompt: next(answers))
    with pytest.raises(ValueError, match="do not match"):
        cli._read_password(False)


def test_cli_main_exits_non_zero_with_one_line(db_url, monkeypatch, capsys) -> None:
    import cli

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["create-user", "y@example.com", "--password-stdin"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert cli.main(["create-token", "--user", "ghost@example.com"]) == 2
    assert "No user ghost@example.com" in capsys.readouterr().err
