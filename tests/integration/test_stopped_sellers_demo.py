"""The demo portfolio on both engines (issue 15 item 5): after a real recompute no stopped seller -- sales in its
history and none for >= max(13, 3 x its mean interval between sales) periods, checked here from the stored demand --
is ordered, at stockout risk or carries a safety stock; each is dead stock with a "Phase-out" reason, and the
Orders page's recommendations do not list it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.engine_types import EngineSettings
from db.models import Demand, PurchaseOrder, RecomputeRun, Sku, SkuSnapshot
from services import demo
from services.recompute import recompute
from services.sku_detail import sku_detail
from tests.unit.core.test_stopped_sellers import reference_stopped


def test_no_stopped_seller_of_the_demo_is_ordered(session: Session) -> None:
    portfolio = demo.generate(skus=200, periods=156, seed=7, end=dt.date(2026, 11, 30))
    demo.store(session=session, portfolio=portfolio)
    session.commit()
    recompute(session=session, triggered_by="tests")
    session.commit()
    rows = session.execute(select(Demand.sku_id, Demand.period, Demand.quantity)).all()
    wide = pd.DataFrame(rows, columns=["sku_id", "period", "qty"]).pivot(index="sku_id", columns="period", values="qty")
    wide = wide.sort_index(axis=1)
    alpha = EngineSettings().phase_out_alpha  # issue 24: the silence must be strong evidence at the SKU's own rate
    stopped_ids = set(wide.index[reference_stopped(wide.to_numpy(dtype=float), alpha=alpha)])
    # the two dead SKUs (p ~ 1e-25); a spare part silent for 22 periods at a 7-period interval (p = 0.065) is kept
    assert len(stopped_ids) >= 2, "the demo has its dead SKUs"
    dead = set(portfolio.skus.iloc[portfolio.patterns["dead"]]["code"])  # 20 weeks without demand by construction

    run_id = session.scalar(select(RecomputeRun.id).where(RecomputeRun.status == "finished"))
    snap = session.execute(
        select(Sku.id, Sku.code, SkuSnapshot).join(SkuSnapshot, SkuSnapshot.sku_id == Sku.id)
        .where(SkuSnapshot.run_id == run_id)
    ).all()  # fmt: skip
    by_id = {sku_id: (code, row) for sku_id, code, row in snap}
    assert dead <= {by_id[i][0] for i in stopped_ids}
    phased = {sku_id for sku_id, (_, row) in by_id.items() if row.order_policy == "phase_out"}
    assert phased == stopped_ids
    for sku_id in stopped_ids:
        code, row = by_id[sku_id]
        assert row.recommended_qty == 0, code
        assert row.status == "dead_stock" and row.status_reason.startswith("Phase-out: no sale for"), code
        assert row.safety_stock == 0 and row.reorder_point == 0, code
    ordered = set(session.scalars(select(PurchaseOrder.sku_id).where(PurchaseOrder.status == "recommended")))
    assert ordered and not ordered & stopped_ids
    assert any(r.recommended_qty > 0 for _, r in by_id.values())  # the others are still replenished

    code = by_id[min(stopped_ids)][0]
    detail = sku_detail(session=session, code=code)
    assert detail is not None and detail.order_policy == "phase_out" and not detail.one_shot
    assert np.isnan(detail.value("order_by_periods") or np.nan)
