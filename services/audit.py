"""Audit log: who did what, when, and whether it was allowed."""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar, Token
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import formats
from db.models import AuditLog

OUTCOMES = ("ok", "denied", "error")
# The client address of the request being served (set by the web app per request; None in the CLI and in jobs).
_REQUEST_ADDRESS: ContextVar[str | None] = ContextVar("audit_request_address", default=None)


def set_request_address(address: str | None) -> Token[str | None]:
    """Record the current request's client address; entries made while serving it carry it unless given one."""
    return _REQUEST_ADDRESS.set(address)


def reset_request_address(token: Token[str | None]) -> None:
    """Forget the address set with :func:`set_request_address` (end of the request)."""
    try:
        _REQUEST_ADDRESS.reset(token)
    except ValueError:  # set in another context (a copied one): nothing to undo here
        _REQUEST_ADDRESS.set(None)


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
    """Add one audit entry to ``session`` (committed with the caller's transaction).

    ``address`` defaults to the client address of the web request being served, if any.
    """
    if address is None:
        address = _REQUEST_ADDRESS.get()
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
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[AuditLog]:
    """The newest audit entries, optionally filtered.

    ``user_email`` matches part of the address (case-insensitive); ``date_from`` / ``date_to`` are inclusive days
    (UTC, as stored).
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if action:
        query = query.where(AuditLog.action == action)
    if user_email:
        pattern = "%" + user_email.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(func.lower(AuditLog.user_email).like(pattern, escape="\\"))
    if outcome:
        query = query.where(AuditLog.outcome == outcome)
    if date_from:
        query = query.where(AuditLog.created_at >= dt.datetime.combine(date_from, dt.time.min))
    if date_to:
        query = query.where(AuditLog.created_at < dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min))
    return list(session.scalars(query))


def actions(*, session: Session) -> list[str]:
    """The distinct actions in the log (for a filter list)."""
    return sorted(session.scalars(select(AuditLog.action).distinct()))


def rows(entries: list[AuditLog]) -> list[dict[str, Any]]:
    """Audit entries as plain rows for a grid (details as readable fields: :func:`details_text`)."""
    return [
        {
            "id": entry.id,
            "key": f"audit-{entry.id}",
            "created_at": formats.fmt_datetime(entry.created_at, seconds=True),
            "user_email": entry.user_email or "",
            "action": entry.action,
            "target": entry.target or "",
            "outcome": entry.outcome,
            "address": entry.address or "",
            "details": details_text(entry.details),
        }
        for entry in entries
    ]


MAX_LIST_ITEMS = 10


def _value_text(value: Any) -> str:
    if value is None or value == "":
        return formats.MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, list | tuple):
        items = [_value_text(v) for v in value[:MAX_LIST_ITEMS]]
        more = len(value) - MAX_LIST_ITEMS
        return ", ".join(items) + (f" (+{more:,} more)" if more > 0 else "")
    if isinstance(value, dict):
        return "{" + details_text(value) + "}"
    return str(value)


def details_text(details: Any) -> str:
    """An entry's details as readable fields, ``rows: 1,250 · file: sales.csv · skus: A-1, B-2`` (issue 23: raw JSON
    before): keys in order with underscores as spaces, numbers with thousands separators, lists joined (at most
    :data:`MAX_LIST_ITEMS`), nested fields in braces; '' for none. Text that is not a mapping is shown as is."""
    if not details:
        return ""
    if not isinstance(details, dict):
        return _value_text(details)
    return " \u00b7 ".join(f"{str(key).replace('_', ' ')}: {_value_text(value)}" for key, value in details.items())
