"""Throttling of password guesses (sign-in and change-password share it), without letting anyone lock others out.

Three limits, all counted from the failed attempts in ``login_attempt`` (by e-mail, existing or not, so an answer
never tells whether an account exists):

- **account + address**: ``max_failures`` failures for one e-mail from one address within ``window_seconds`` block
  that pair until the oldest of them leaves the window. Other addresses and other accounts are unaffected.
- **address**: ``address_max_failures`` (much higher) failures from one address on any accounts within the window
  block that address (a guessing run across many accounts); an office behind one NAT has room for many typos.
- **account, for everyone**: every ``account_max_failures`` failures for one e-mail within ``horizon_seconds``
  (from any addresses: a distributed attack) lock it for everyone, with exponential back-off a person can wait out:
  ``window_seconds * 2 ** (tier - 1)``, at most ``max_lock_seconds``. Each lock is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.models import LoginAttempt, User
from services import audit

HORIZON_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ThrottlePolicy:
    """The limits (settings ``LOGIN_*``; see the module docstring)."""

    max_failures: int = 5
    window_seconds: int = 300
    address_max_failures: int = 100
    account_max_failures: int = 20
    max_lock_seconds: int = 3600
    horizon_seconds: int = HORIZON_SECONDS

    def __post_init__(self) -> None:
        for name in ("max_failures", "window_seconds", "address_max_failures", "account_max_failures"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_lock_seconds < self.window_seconds:
            raise ValueError(f"max_lock_seconds must be at least window_seconds ({self.window_seconds})")

    @classmethod
    def from_settings(cls, settings: object) -> ThrottlePolicy:
        """The policy of a :class:`settings.Settings`."""
        return cls(
            max_failures=settings.login_max_failures,  # type: ignore[attr-defined]
            window_seconds=settings.login_lock_seconds,  # type: ignore[attr-defined]
            address_max_failures=settings.login_address_max_failures,  # type: ignore[attr-defined]
            account_max_failures=settings.login_account_max_failures,  # type: ignore[attr-defined]
            max_lock_seconds=max(settings.login_lock_max_seconds, settings.login_lock_seconds),  # type: ignore[attr-defined]
        )

    def lock_seconds(self, tier: int) -> int:
        """How long the ``tier``-th account lock lasts (1, 2, 4, ... windows, capped)."""
        return int(min(self.window_seconds * 2 ** min(tier - 1, 30), self.max_lock_seconds))


@dataclass(frozen=True)
class Verdict:
    """Whether a guess may be checked now; when not, why (``pair`` / ``address`` / ``account``) and for how long."""

    allowed: bool
    reason: str = ""
    message: str = ""
    retry_after: int = 0


def _minutes(seconds: float) -> str:
    minutes = max(1, -(-int(seconds) // 60))
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def _failures(session: Session, *conditions: object) -> int:
    return session.scalar(select(func.count()).select_from(LoginAttempt).where(*conditions)) or 0


def _account_lock_end(session: Session, email: str, policy: ThrottlePolicy, now: dt.datetime) -> dt.datetime | None:
    """When the account lock of ``email`` ends (None when the failures never reached a tier)."""
    since = now - dt.timedelta(seconds=policy.horizon_seconds)
    count = _failures(session, LoginAttempt.email == email, LoginAttempt.created_at >= since)
    tier = count // policy.account_max_failures
    if tier < 1:
        return None
    nth = session.scalar(
        select(LoginAttempt.created_at)
        .where(LoginAttempt.email == email, LoginAttempt.created_at >= since)
        .order_by(LoginAttempt.created_at, LoginAttempt.id)
        .offset(tier * policy.account_max_failures - 1)
        .limit(1)
    )
    return None if nth is None else nth + dt.timedelta(seconds=policy.lock_seconds(tier))


def check(*, session: Session, email: str, address: str, policy: ThrottlePolicy, now: dt.datetime) -> Verdict:
    """May a password for ``email`` from ``address`` be checked now?"""
    window_start = now - dt.timedelta(seconds=policy.window_seconds)
    recent = (LoginAttempt.address == address, LoginAttempt.created_at >= window_start)
    if _failures(session, *recent) >= policy.address_max_failures:
        return Verdict(
            False,
            "address",
            "Too many failed attempts from this address. Try again in a few minutes.",
            policy.window_seconds,
        )
    lock_end = _account_lock_end(session, email, policy, now)
    if lock_end is not None and lock_end > now:
        wait = (lock_end - now).total_seconds()
        message = f"This account is locked after repeated failures. Try again in {_minutes(wait)}."
        return Verdict(False, "account", message, int(wait) + 1)
    pair = [*recent, LoginAttempt.email == email]
    if _failures(session, *pair) >= policy.max_failures:
        oldest = session.scalar(select(func.min(LoginAttempt.created_at)).where(*pair)) or now
        wait = (oldest + dt.timedelta(seconds=policy.window_seconds) - now).total_seconds()
        message = f"Too many failed attempts for this account from this address. Try again in {_minutes(wait)}."
        return Verdict(False, "pair", message, int(wait) + 1)
    return Verdict(True)


def record_failure(
    *, session: Session, email: str, address: str, policy: ThrottlePolicy, now: dt.datetime, user: User | None
) -> None:
    """Count one failed guess; when it completes a tier, lock the account for everyone and audit the lock."""
    session.add(LoginAttempt(address=address, email=email, created_at=now))
    session.flush()
    since = now - dt.timedelta(seconds=policy.horizon_seconds)
    session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < since))  # keeps the table small
    count = _failures(session, LoginAttempt.email == email, LoginAttempt.created_at >= since)
    if user is not None:
        user.failed_logins = count
    if count % policy.account_max_failures:
        return
    seconds = policy.lock_seconds(count // policy.account_max_failures)
    until = now + dt.timedelta(seconds=seconds)
    if user is not None:
        user.locked_until = until
    audit.record(
        session=session,
        action="login.lock",
        user_email=email or None,
        target=email[:255] or None,
        outcome="denied",
        details={"failures": count, "seconds": seconds, "until": until.isoformat(timespec="seconds")},
        address=address,
    )


def record_success(*, session: Session, email: str, address: str, user: User | None, now: dt.datetime) -> None:
    """Forget this address's failures on the account (the person's own typos); other addresses' failures stay."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.address == address))
    if user is not None:
        user.failed_logins = 0
        if user.locked_until is not None and user.locked_until <= now:
            user.locked_until = None


def clear(*, session: Session, email: str, user: User | None) -> None:
    """Lift every limit on the account (an admin's password reset)."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
    if user is not None:
        user.failed_logins = 0
        user.locked_until = None
