"""Accounts, passwords, login throttling and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core import formats
from db.models import ROLES, ApiToken, LoginAttempt, User, utcnow
from services import audit
from services.errors import UserFacingError

_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))  # verified against when the account does not exist
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "icc_"


class UserError(UserFacingError, ValueError):
    """A request about accounts that cannot be carried out (message is safe to show)."""


@dataclass(frozen=True)
class LoginResult:
    """The answer to a login attempt: the user when it succeeded, else a message safe to show."""

    user: User | None
    message: str
    throttled: bool = False


def has_role(role: str | None, required: str) -> bool:
    """True when ``role`` is at least ``required`` (viewer < planner < admin)."""
    return role in ROLE_RANK and ROLE_RANK[role] >= ROLE_RANK[required]


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (argon2-cffi defaults: RFC 9106 low-memory profile)."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash`` (False for a wrong password or a malformed hash)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")


def normalise_email(email: str) -> str:
    """Trimmed, lower-case e-mail; raises UserError when it does not look like one."""
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 255 or email.startswith("@") or email.endswith("@"):
        raise UserError("Enter a valid e-mail address.")
    return email


def create_user(*, session: Session, email: str, password: str, role: str = "viewer", actor: str | None = None) -> User:
    """Create an active user; raises UserError on a bad e-mail, role, weak password or duplicate."""
    email = normalise_email(email)
    if role not in ROLES:
        raise UserError(f"Unknown role {role!r}; use one of {', '.join(ROLES)}.")
    _check_password(password)
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise UserError(f"A user {email} already exists.")
    user = User(email=email, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    audit.record(session=session, action="user.create", user_email=actor, target=email, details={"role": role})
    return user


def get_user(*, session: Session, user_id: int) -> User | None:
    """The user with ``user_id`` (None when there is none)."""
    return session.get(User, user_id)


def get_by_email(*, session: Session, email: str) -> User | None:
    """The user with ``email`` (case-insensitive; None when there is none)."""
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def list_users(*, session: Session) -> list[User]:
    """Every user by e-mail."""
    return list(session.scalars(select(User).order_by(User.email)))


def count_users(*, session: Session) -> int:
    """How many users exist (0 on a new install)."""
    return session.scalar(select(func.count()).select_from(User)) or 0


def set_role(*, session: Session, user_id: int, role: str, actor: str) -> User:
    """Give a user another role (audit-logged); an admin cannot demote themself, so one admin always remains."""
    if role not in ROLES:
        raise UserError(f"Unknown role {role!r}.")
    user = _require(session, user_id)
    if user.email == actor and role != "admin":
        raise UserError("You cannot remove your own admin role.")
    user.role = role
    audit.record(session=session, action="user.role", user_email=actor, target=user.email, details={"role": role})
    return user


def set_active(*, session: Session, user_id: int, active: bool, actor: str) -> User:
    """Activate or deactivate a user (audit-logged); a deactivated user's session and tokens stop working at once."""
    user = _require(session, user_id)
    if user.email == actor and not active:
        raise UserError("You cannot deactivate your own account.")
    user.active = active
    audit.record(
        session=session, action="user.activate" if active else "user.deactivate", user_email=actor, target=user.email
    )
    return user


def change_password(*, session: Session, user_id: int, current_password: str, new_password: str) -> None:
    """Change one's own password after checking the current one (audit-logged)."""
    user = _require(session, user_id)
    if not verify_password(user.password_hash, current_password):
        raise UserError("The current password is not correct.")
    _check_password(new_password)
    user.password_hash = hash_password(new_password)
    audit.record(session=session, action="user.password", user_email=user.email, target=user.email)


def reset_password(*, session: Session, email: str, new_password: str, actor: str | None) -> None:
    """Set a new password without the old one (CLI) and lift a lock (audit-logged)."""
    user = get_by_email(session=session, email=email)
    if user is None:
        raise UserError(f"No user {email}.")
    _check_password(new_password)
    user.password_hash = hash_password(new_password)
    user.failed_logins = 0
    user.locked_until = None
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == user.email))
    audit.record(session=session, action="user.password_reset", user_email=actor, target=user.email)


def _require(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UserError("No such user.")
    return user


def authenticate(
    *,
    session: Session,
    email: str,
    password: str,
    address: str,
    max_failures: int,
    lock_seconds: int,
    now: dt.datetime | None = None,
) -> LoginResult:
    """Check a login, throttled per account and per address.

    After ``max_failures`` failed attempts within ``lock_seconds`` for one e-mail (existing or not, so a lock says
    nothing about which accounts exist) or from one address, further attempts are refused without checking the
    password until the window has passed. Every attempt is audit-logged; the message never says which part was wrong.
    """
    now = now or utcnow()
    window_start = now - dt.timedelta(seconds=lock_seconds)
    generic = "E-mail or password is not correct."
    email_norm = (email or "").strip().lower()[:255]

    def denied(reason: str, message: str, throttled: bool) -> LoginResult:
        audit.record(
            session=session,
            action="login",
            user_email=email_norm or None,
            outcome="denied",
            details={"reason": reason},
            address=address,
        )
        return LoginResult(None, message, throttled=throttled)

    recent_failures = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.created_at >= window_start)
    if (session.scalar(recent_failures.where(LoginAttempt.address == address)) or 0) >= max_failures:
        return denied(
            "address throttled", "Too many failed attempts from this address. Try again in a few minutes.", True
        )
    user = session.scalar(select(User).where(User.email == email_norm))
    account_failures = session.scalar(recent_failures.where(LoginAttempt.email == email_norm)) or 0
    if account_failures >= max_failures or (user is not None and user.locked_until and user.locked_until > now):
        return denied(
            "account locked", "This account is locked after repeated failures. Try again in a few minutes.", True
        )
    # Always run one argon2 verification, so the answer time does not tell whether the account exists.
    password_ok = verify_password(user.password_hash if user is not None else _DUMMY_HASH, password or "")
    if user is None or not user.active or not password_ok:
        session.add(LoginAttempt(address=address, email=email_norm, created_at=now))
        if user is not None:
            user.failed_logins = account_failures + 1
            if user.failed_logins >= max_failures:
                user.locked_until = now + dt.timedelta(seconds=lock_seconds)
        return denied("inactive account" if user is not None and password_ok else "bad credentials", generic, False)
    if _HASHER.check_needs_rehash(user.password_hash):  # parameters got stronger since this hash was made
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < window_start))
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == user.email))
    audit.record(session=session, action="login", user_email=user.email, address=address)
    return LoginResult(user, "ok")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(*, session: Session, email: str, name: str = "token", actor: str | None = None) -> str:
    """Create an API token for ``email``; the clear token is returned once, only its SHA-256 is stored.

    Tokens carry 256 bits from :func:`secrets.token_urlsafe`, so a fast hash is enough (nothing to brute-force).
    """
    user = get_by_email(session=session, email=email)
    if user is None:
        raise UserError(f"No user {email.strip().lower()}.")
    if not user.active:
        raise UserError(f"{user.email} is deactivated; activate the account first.")
    name = (name or "").strip()[:100] or "token"
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_token_hash(token), prefix=token[:12]))
    audit.record(session=session, action="token.create", user_email=actor or user.email, target=f"{user.email}:{name}")
    return token


def list_tokens(*, session: Session) -> list[ApiToken]:
    """Every token, newest first (hash and prefix only; the clear token is never stored)."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))


def revoke_token(*, session: Session, token_id: int, actor: str) -> None:
    """Revoke a token (it stops working at once); revoking twice is harmless."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise UserError("No such token.")
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    audit.record(session=session, action="token.revoke", user_email=actor, target=f"{token.user.email}:{token.name}")


def user_rows(*, session: Session, now: dt.datetime | None = None) -> list[dict[str, object]]:
    """The users as plain rows for the admin grid (no hashes)."""
    now = now or utcnow()
    return [
        {
            "id": user.id,
            "key": f"user-{user.id}",
            "email": user.email,
            "role": user.role,
            "active": user.active,
            "locked": bool(user.locked_until and user.locked_until > now),
            "created_at": _iso(user.created_at),
            "last_login_at": _iso(user.last_login_at),
        }
        for user in list_users(session=session)
    ]


def token_rows(*, session: Session) -> list[dict[str, object]]:
    """The API tokens as plain rows for the admin grid (prefix only, never the token or its hash)."""
    return [
        {
            "id": token.id,
            "key": f"token-{token.id}",
            "user": token.user.email,
            "name": token.name,
            "prefix": token.prefix + "…",
            "created_at": _iso(token.created_at),
            "last_used_at": _iso(token.last_used_at),
            "revoked_at": _iso(token.revoked_at),
            "status": "revoked" if token.revoked_at else ("active" if token.user.active else "user deactivated"),
        }
        for token in list_tokens(session=session)
    ]


def _iso(value: dt.datetime | None) -> str | None:
    return formats.fmt_datetime(value) if value else None


def user_for_token(*, session: Session, token: str) -> User | None:
    """The active user owning a valid, unrevoked token, or None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    return row.user


def generate_password() -> str:
    """A random password (96 bits, URL-safe), for first start and for accounts an admin adds without one."""
    return secrets.token_urlsafe(12)
