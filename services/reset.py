"""Factory reset: wipe all planning data (users, API tokens, login throttling and the audit log stay)."""

from __future__ import annotations

import shutil

from sqlalchemy.orm import Session

from db import ingest as dbi
from db.models import ApiToken, AuditLog, Base, LoginAttempt, User, UserSession
from services import audit
from services.errors import UserFacingError
from settings import get_settings

CONFIRM_WORD = "RESET"
KEPT_TABLES = {
    User.__tablename__,
    ApiToken.__tablename__,
    LoginAttempt.__tablename__,
    AuditLog.__tablename__,
    UserSession.__tablename__,  # sessions: a reset signs nobody out
}


class ResetRefusedError(UserFacingError):
    """The reset was not confirmed."""


def planning_tables() -> list:
    """Every table except users, tokens, login attempts and the audit log, children before parents."""
    return [t for t in reversed(Base.metadata.sorted_tables) if t.name not in KEPT_TABLES]


def factory_reset(*, session: Session, user: str | None, confirm: str) -> dict[str, int]:
    """Delete all planning data when ``confirm`` is the word RESET; returns the rows removed per table.

    Id sequences restart at 1 (PostgreSQL ``TRUNCATE ... RESTART IDENTITY``); saved import error reports are
    deleted; the reset itself is written to the audit log (in the same transaction).
    """
    if (confirm or "").strip() != CONFIRM_WORD:
        raise ResetRefusedError(f"type {CONFIRM_WORD} (in capitals) to confirm the factory reset")
    counts = dbi.wipe_tables(session.connection(), tables=planning_tables())
    session.expire_all()
    reports = get_settings().data_dir / "import-errors"
    if reports.is_dir():
        shutil.rmtree(reports, ignore_errors=True)
    audit.record(
        session=session,
        action="data.reset",
        user_email=user,
        target="all planning data",
        details={"rows_removed": {k: v for k, v in counts.items() if v}},
    )
    return counts
