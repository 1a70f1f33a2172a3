"""Admin audit log (issue 23): a recompute a person starts ("Recompute now") is audited with who and when; an
entry's details read as fields, not raw JSON. Both engines."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import AuditLog
from db.session import session_scope
from services import audit, jobs
from tests.integration.test_orders import fast_forecast, seed  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("fast_forecast")


def test_a_manual_recompute_is_in_the_audit_log(db_url) -> None:
    seed()
    with session_scope() as s:
        summary = jobs.recompute_portfolio(session=s, triggered_by="planner@example.com")
    with session_scope() as s:  # an automatic one ("who (reason)") is audited by its own action, not as a run
        jobs.recompute_portfolio(session=s, triggered_by="planner@example.com (override A-NEED)", sku_codes=["A-NEED"])
    with session_scope() as s:
        entries = s.scalars(select(AuditLog).where(AuditLog.action == "recompute.run")).all()
        assert len(entries) == 1
        entry = entries[0]
        assert (entry.user_email, entry.target, entry.outcome) == ("planner@example.com", f"run:{summary.run_id}", "ok")
        assert entry.created_at is not None
        row = audit.rows([entry])[0]
    assert row["details"] == f"status: finished · skus: {summary.sku_count:,} · seconds: {row['details'].split()[-1]}"
    assert "{" not in row["details"] and '"' not in row["details"]


def test_details_read_as_fields() -> None:
    text = audit.details_text(
        {"file_name": "sales.csv", "rows": 12500, "share": 0.125, "ok": True, "skus": [f"S{i}" for i in range(12)]}
    )
    assert text == (
        "file name: sales.csv · rows: 12,500 · share: 0.12 · ok: yes · skus: S0, S1, S2, S3, S4, S5, S6, S7, S8, S9 "
        "(+2 more)"
    )
    assert audit.details_text({"before": {"qty": 348.0}, "reason": None}) == "before: {qty: 348} · reason: –"
    assert audit.details_text(None) == "" and audit.details_text({}) == ""
