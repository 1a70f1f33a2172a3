"""Factory reset on both engines: planning data goes, users / tokens / audit log stay, ids restart."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import AuditLog, ImportBatch, Sku, StockPosition, User
from services import demo, users
from services.reset import ResetRefusedError, factory_reset, planning_tables


def test_reset_wipes_planning_data_and_keeps_people(session: Session) -> None:
    users.create_user(session=session, email="admin@example.com", password="correct horse battery", role="admin")
    token = users.create_token(session=session, email="admin@example.com", name="t")
    demo.store(session=session, portfolio=demo.generate(skus=10, periods=12, seed=1))
    session.add(ImportBatch(file_name="x.csv", kind="demand"))
    session.commit()
    with pytest.raises(ResetRefusedError, match="RESET"):
        factory_reset(session=session, user="admin@example.com", confirm="reset")
    counts = factory_reset(session=session, user="admin@example.com", confirm="RESET")
    session.commit()
    assert counts["sku"] == 10 and counts["demand"] == 120 and counts["import_batch"] == 1
    for table in planning_tables():
        assert session.scalar(select(func.count()).select_from(table)) == 0, table.name
    assert session.scalar(select(func.count()).select_from(User)) == 1
    assert users.user_for_token(session=session, token=token) is not None
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "data.reset"))
    assert entry.user_email == "admin@example.com" and entry.details["rows_removed"]["sku"] == 10
    fresh = Sku(code="NEW", name="n")
    session.add(fresh)
    session.flush()
    assert fresh.id == 1  # id sequences restart
    session.add(StockPosition(sku_id=fresh.id, as_of=demo.last_complete_week(), on_hand=1, on_order=0))
    session.flush()
    assert session.scalar(select(StockPosition.id)) == 1
    assert {t.name for t in planning_tables()} >= {"sku", "demand", "stock_position", "receipt", "recompute_run"}
    assert not {t.name for t in planning_tables()} & {"user_account", "api_token", "audit_log", "login_attempt"}
