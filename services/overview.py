"""A quick look at what the database holds (counts, latest run) for pages and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Demand, RecomputeRun, Sku, StockPosition


@dataclass(frozen=True)
class Overview:
    sku_count: int
    demand_rows: int
    stock_rows: int
    first_period: object
    last_period: object
    latest_run_id: int | None
    latest_run_finished: object


def overview(*, session: Session) -> Overview:
    """Counts of SKUs, demand and stock rows, the demand date range and the latest finished run."""
    first, last, rows = session.execute(select(func.min(Demand.period), func.max(Demand.period), func.count())).one()
    run = session.scalar(
        select(RecomputeRun).where(RecomputeRun.status == "finished").order_by(RecomputeRun.id.desc()).limit(1)
    )
    return Overview(
        sku_count=session.scalar(select(func.count()).select_from(Sku)) or 0,
        demand_rows=rows or 0,
        stock_rows=session.scalar(select(func.count()).select_from(StockPosition)) or 0,
        first_period=first,
        last_period=last,
        latest_run_id=run.id if run else None,
        latest_run_finished=run.finished_at if run else None,
    )


def is_empty(*, session: Session) -> bool:
    return (session.scalar(select(func.count()).select_from(Sku)) or 0) == 0
