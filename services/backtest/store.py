"""Stored backtests (table ``policy_backtest``): the latest result per scope for the Risk page and the briefing.

Every stored backtest keeps its document; the newest ``KEEP_PER_SCOPE`` per scope are kept, and of the one-SKU
scopes at most ``KEEP_SKU_ROWS`` rows overall (so SKU replays never push a portfolio or segment result out); older rows
are deleted after each store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.models import PolicyBacktest, utcnow
from services.backtest.scope import SKU_PREFIX, BacktestScope

KEEP_PER_SCOPE = 3
KEEP_SKU_ROWS = 50


@dataclass(frozen=True)
class StoredBacktest:
    """A stored backtest: when, by whom, for which scope and data, and its document."""

    id: int
    created_at: dt.datetime
    triggered_by: str | None
    scope_key: str
    periods: int
    grain: str | None
    data_as_of: dt.date | None
    sku_count: int
    excluded_count: int
    fill_rate: float | None
    target_service_level: float | None
    average_inventory_value: float | None
    seconds: float | None
    document: dict[str, Any]


def _stored(row: PolicyBacktest) -> StoredBacktest:
    return StoredBacktest(
        id=int(row.id),
        created_at=row.created_at,
        triggered_by=row.triggered_by,
        scope_key=row.scope_key,
        periods=int(row.periods),
        grain=row.grain,
        data_as_of=row.data_as_of,
        sku_count=int(row.sku_count or 0),
        excluded_count=int(row.excluded_count or 0),
        fill_rate=row.fill_rate,
        target_service_level=row.target_service_level,
        average_inventory_value=row.average_inventory_value,
        seconds=row.seconds,
        document=dict(row.document or {}),
    )


def store_document(
    *, session: Session, scope: BacktestScope, document: dict[str, Any], triggered_by: str | None
) -> tuple[int, dt.datetime]:
    """Store a backtest document and prune old rows, in the session's transaction (the caller commits).

    Returns the new row's id and time.
    """
    portfolio = document.get("portfolio") or {}
    data_as_of = document.get("data_as_of")
    row = PolicyBacktest(
        created_at=utcnow(),
        triggered_by=(triggered_by or None) and str(triggered_by)[:255],
        scope_key=scope.key[:200],
        periods=int(document["periods"]),
        grain=document.get("grain"),
        data_as_of=dt.date.fromisoformat(data_as_of) if data_as_of else None,
        sku_count=int(document.get("sku_count") or 0),
        excluded_count=len(document.get("excluded") or []),
        fill_rate=portfolio.get("fill_rate"),
        target_service_level=portfolio.get("target_service_level"),
        average_inventory_value=portfolio.get("average_inventory_value"),
        seconds=document.get("seconds"),
        document=document,
    )
    session.add(row)
    session.flush()
    prune(session=session)
    return int(row.id), row.created_at


def prune(*, session: Session, keep_per_scope: int = KEEP_PER_SCOPE, keep_sku_rows: int = KEEP_SKU_ROWS) -> int:
    """Delete all but the newest ``keep_per_scope`` rows of each scope and the newest ``keep_sku_rows`` of one-SKU
    scopes together. Returns the rows deleted."""
    rows = session.execute(select(PolicyBacktest.id, PolicyBacktest.scope_key).order_by(PolicyBacktest.id.desc())).all()
    seen: dict[str, int] = {}
    sku_rows = 0
    doomed: list[int] = []
    for row_id, key in rows:
        seen[key] = seen.get(key, 0) + 1
        is_sku = key.startswith(SKU_PREFIX)
        sku_rows += is_sku
        if seen[key] > keep_per_scope or (is_sku and sku_rows > keep_sku_rows):
            doomed.append(int(row_id))
    if doomed:
        session.execute(delete(PolicyBacktest).where(PolicyBacktest.id.in_(doomed)))
    return len(doomed)


def latest_stored(*, session: Session, scope: BacktestScope) -> StoredBacktest | None:
    """The newest stored backtest of exactly this scope, or None."""
    row = session.scalar(
        select(PolicyBacktest).where(PolicyBacktest.scope_key == scope.key).order_by(PolicyBacktest.id.desc()).limit(1)
    )
    return _stored(row) if row is not None else None


__all__ = ["KEEP_PER_SCOPE", "KEEP_SKU_ROWS", "StoredBacktest", "latest_stored", "prune", "store_document"]
