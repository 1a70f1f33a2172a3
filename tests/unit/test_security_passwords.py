"""Issue 16, findings 4 and 5: change-password goes through the sign-in throttle and audit; the password policy
refuses short, common, guessable passwords and the account's own e-mail or name (offline).

Only the pure tests here; those on a database are in tests/integration/test_security_passwords.py.
"""

from __future__ import annotations

import socket

import pytest

PASSWORD = "correct horse battery"


@pytest.mark.parametrize(
    ("password", "email", "message"),
    [
        ("aaaaaaaaaa", "ann@example.com", "at least 12"),  # the finding: accepted at length 10
        ("aaaaaaaaaaaa", "ann@example.com", "too easy to guess"),
        ("ann@example.com", "ann@example.com", "e-mail address or your name"),  # the finding
        ("ANN@EXAMPLE.COM!", "ann@example.com", "e-mail address or your name"),
        ("annabel.smith99", "annabel.smith@example.com", "e-mail address or your name"),
        ("1qaz2wsx3edc", "ann@example.com", "10,000 most common"),
        ("Qwerty123456", "ann@example.com", "10,000 most common"),
        ("password1234", "ann@example.com", "too easy to guess"),
        ("abcdefghijkl", "ann@example.com", "too easy to guess"),
        ("x" * 257, "ann@example.com", "at most 256"),
    ],
)
def test_the_policy_refuses(password: str, email: str, message: str) -> None:
    from services.passwords import PasswordPolicyError, check_password

    with pytest.raises(PasswordPolicyError, match=message):
        check_password(password, email=email)


@pytest.mark.parametrize(
    "password", ["correct horse battery", "a new pass phrase", "Tr0ub4dor&3xx-42", "東京 café 1990 nights"]
)
def test_the_policy_accepts_good_passwords(password: str) -> None:
    from services.passwords import check_password

    check_password(password, email="ann@example.com")


def test_the_deny_list_ships_with_the_package_and_needs_no_network(monkeypatch) -> None:
    from services import passwords, users

    def no_network(*_args, **_kwargs):
        raise AssertionError("the password policy tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    common = passwords.COMMON_PASSWORDS
    assert len(common) == passwords.COMMON_PASSWORDS_COUNT == 10_000
    assert {"password", "123456", "qwerty", "letmein", "1qaz2wsx3edc"} <= common
    for _ in range(20):
        passwords.check_password(users.generate_password(), email="x@example.com")  # generated ones always pass
