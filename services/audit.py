"""Audit log: who did what, when, and whether it was allowed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditLog


def record(
    *,
    session: Session,
    action: str,
    user_email: str | None,
    target: str | None = None,
    outcome: str = "ok",
    details: dict[str, Any] | None = None,
    address: str | None = None,
) -> AuditLog:
    """Add one audit entry to ``session`` (committed with the caller's transaction)."""
    entry = AuditLog(
        action=action, user_email=user_email, target=target, outcome=outcome, details=details, address=address
    )
    session.add(entry)
    return entry


def recent(
    *,
    session: Session,
    limit: int = 500,
    action: str | None = None,
    user_email: str | None = None,
    outcome: str | None = None,
) -> list[AuditLog]:
    """The newest audit entries, optionally filtered."""
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if action:
        query = query.where(AuditLog.action == action)
    if user_email:
        query = query.where(AuditLog.user_email.ilike(f"%{user_email}%"))
    if outcome:
        query = query.where(AuditLog.outcome == outcome)
    return list(session.scalars(query))
