"""Accounts, passwords, login throttling and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import formats
from db.models import ROLES, ApiToken, User, utcnow
from services import audit, login_throttle, passwords, user_sessions
from services.errors import UserFacingError
from services.login_throttle import ThrottlePolicy

_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))  # verified against when the account does not exist
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
MIN_PASSWORD_LENGTH = passwords.MIN_PASSWORD_LENGTH
TOKEN_PREFIX = "icc_"


class UserError(UserFacingError, ValueError):
    """A request about accounts that cannot be carried out (message is safe to show)."""


@dataclass(frozen=True)
class LoginResult:
    """The answer to a login attempt: the user when it succeeded, else a message safe to show."""

    user: User | None
    message: str
    throttled: bool = False


@dataclass(frozen=True)
class PasswordChange:
    """The answer to a change of one's own password: ``ok``, else a message safe to show (the refusal is recorded
    in the caller's transaction, so the caller commits either way)."""

    ok: bool
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


def _check_password(password: str, email: str | None) -> None:
    try:
        passwords.check_password(password, email=email)
    except passwords.PasswordPolicyError as exc:
        raise UserError(str(exc)) from None


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
    _check_password(password, email)
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
    """Give a user another role (audit-logged; the user's sessions end, so they sign in again with the new role);
    an admin cannot demote themself, so one admin always remains."""
    if role not in ROLES:
        raise UserError(f"Unknown role {role!r}.")
    user = _require(session, user_id)
    if user.email == actor and role != "admin":
        raise UserError("You cannot remove your own admin role.")
    ended = user_sessions.end_all(session=session, user_id=user.id) if role != user.role else 0
    user.role = role
    audit.record(
        session=session,
        action="user.role",
        user_email=actor,
        target=user.email,
        details={"role": role, "sessions_ended": ended},
    )
    return user


def set_active(*, session: Session, user_id: int, active: bool, actor: str) -> User:
    """Activate or deactivate a user (audit-logged); a deactivated user's session and tokens stop working at once."""
    user = _require(session, user_id)
    if user.email == actor and not active:
        raise UserError("You cannot deactivate your own account.")
    user.active = active
    ended = 0 if active else user_sessions.end_all(session=session, user_id=user.id)
    audit.record(
        session=session,
        action="user.activate" if active else "user.deactivate",
        user_email=actor,
        target=user.email,
        details=None if active else {"sessions_ended": ended},
    )
    return user


def change_password(
    *,
    session: Session,
    user_id: int,
    current_password: str,
    new_password: str,
    address: str = "unknown",
    policy: ThrottlePolicy | None = None,
    now: dt.datetime | None = None,
) -> PasswordChange:
    """Change one's own password after checking the current one; every session of the account ends.

    Guesses of the current password go through the sign-in throttle (:mod:`services.login_throttle`) and every
    attempt is audit-logged (``user.password``, ok or denied with the reason). Never raises for a wrong or weak
    password: the answer says why, and the caller commits (so a failed guess is counted).
    """
    policy = policy or ThrottlePolicy()
    now = now or utcnow()
    user = _require(session, user_id)

    def refused(reason: str, message: str, throttled: bool = False) -> PasswordChange:
        details = {"reason": reason}
        audit.record(
            session=session,
            action="user.password",
            user_email=user.email,
            target=user.email,
            outcome="denied",
            details=details,
            address=address,
        )
        return PasswordChange(False, message, throttled)

    verdict = login_throttle.check(session=session, email=user.email, address=address, policy=policy, now=now)
    if not verdict.allowed:
        return refused(f"{verdict.reason} throttled", verdict.message, True)
    if not verify_password(user.password_hash, current_password):
        login_throttle.record_failure(
            session=session, email=user.email, address=address, policy=policy, now=now, user=user
        )
        return refused("bad current password", "The current password is not correct.")
    login_throttle.record_success(session=session, email=user.email, address=address, user=user, now=now)
    try:
        _check_password(new_password, user.email)
    except UserError as exc:
        return refused("weak new password", str(exc))
    user.password_hash = hash_password(new_password)
    ended = user_sessions.end_all(session=session, user_id=user.id)
    audit.record(
        session=session,
        action="user.password",
        user_email=user.email,
        target=user.email,
        details={"sessions_ended": ended},
        address=address,
    )
    return PasswordChange(True, "Your password was changed.")


def reset_password(*, session: Session, email: str, new_password: str, actor: str | None) -> None:
    """Set a new password without the old one (CLI) and lift a lock (audit-logged)."""
    user = get_by_email(session=session, email=email)
    if user is None:
        raise UserError(f"No user {email}.")
    _check_password(new_password, user.email)
    user.password_hash = hash_password(new_password)
    login_throttle.clear(session=session, email=user.email, user=user)
    ended = user_sessions.end_all(session=session, user_id=user.id)
    audit.record(
        session=session,
        action="user.password_reset",
        user_email=actor,
        target=user.email,
        details={"sessions_ended": ended},
    )


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
    max_failures: int | None = None,
    lock_seconds: int | None = None,
    policy: ThrottlePolicy | None = None,
    now: dt.datetime | None = None,
) -> LoginResult:
    """Check a login, throttled per (account, address), per address and per account (:mod:`services.login_throttle`).

    ``policy`` gives the limits; ``max_failures`` / ``lock_seconds`` are a shortcut for the first two with the
    defaults for the rest. A throttled attempt is refused without checking the password. Every attempt is
    audit-logged; the message never says which part was wrong.
    """
    if policy is None:
        policy = ThrottlePolicy(
            max_failures=max_failures or ThrottlePolicy.max_failures,
            window_seconds=lock_seconds or ThrottlePolicy.window_seconds,
            max_lock_seconds=max(lock_seconds or 0, ThrottlePolicy.max_lock_seconds),
        )
    now = now or utcnow()
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

    verdict = login_throttle.check(session=session, email=email_norm, address=address, policy=policy, now=now)
    if not verdict.allowed:
        reason = {"account": "account locked", "address": "address throttled"}.get(verdict.reason, "pair throttled")
        return denied(reason, verdict.message, True)
    user = session.scalar(select(User).where(User.email == email_norm))
    # Always run one argon2 verification, so the answer time does not tell whether the account exists.
    password_ok = verify_password(user.password_hash if user is not None else _DUMMY_HASH, password or "")
    if user is None or not user.active or not password_ok:
        login_throttle.record_failure(
            session=session, email=email_norm, address=address, policy=policy, now=now, user=user
        )
        return denied("inactive account" if user is not None and password_ok else "bad credentials", generic, False)
    if _HASHER.check_needs_rehash(user.password_hash):  # parameters got stronger since this hash was made
        user.password_hash = hash_password(password)
    login_throttle.record_success(session=session, email=user.email, address=address, user=user, now=now)
    user.last_login_at = now
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
    """A random password (96 bits, URL-safe, 16 characters) that the policy accepts, for first start and for
    accounts an admin adds without one."""
    while True:
        candidate = secrets.token_urlsafe(12)
        try:
            passwords.check_password(candidate)
        except passwords.PasswordPolicyError:  # pragma: no cover - a random 16-character string is practically never
            continue
        return candidate
