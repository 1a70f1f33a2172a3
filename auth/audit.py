"""The audit of requests refused for their role (pages, callbacks, downloads, API routes): one ``audit_log`` row
each, in its own transaction so it stays although the request fails."""

from __future__ import annotations

from flask import request

from auth.identity import client_address, current_email, current_role
from db.session import session_scope
from services import audit


def record_denied(*, action: str, target: str, required: str) -> None:
    """Audit-log a request refused for its role (its own transaction, so it stays even though the request fails)."""
    with session_scope() as session:
        audit.record(
            session=session,
            action=action,
            user_email=current_email(),
            target=target[:255],
            outcome="denied",
            details={"required": required, "role": current_role(), "path": request.path[:200]},
            address=client_address(),
        )
