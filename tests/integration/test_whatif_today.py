"""One truth for "today" on both engines after a real recompute of the demo (issue 15 item 8): the Risk and Profit
pages' today is the stored snapshot (the safety stock and reorder point the SKU page shows), every delta is zero at
the stored settings, one-shot SKUs are their newsvendor, stopped sellers carry nothing, and the Profit optimizer's
quantity at the stored inputs is the sum of the snapshot's newsvendor quantities."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import RecomputeRun, Sku, SkuSnapshot
from services import demo
from services import whatif as svc
from services import whatif_baseline as wb
from services.recompute import recompute
from services.sku_detail import sku_detail

FIELDS = ("safety_stock", "level", "capital", "holding_per_year", "stockouts_per_year", "cycle_service_level")
FIELDS += ("fill_rate", "cycles_per_year")


def test_today_is_the_snapshot_on_the_demo(session: Session) -> None:
    demo.store(session=session, portfolio=demo.generate(skus=90, periods=130, seed=7, end=dt.date(2026, 11, 30)))
    session.commit()
    recompute(session=session, triggered_by="tests")
    session.commit()
    run_id = session.scalar(select(RecomputeRun.id).where(RecomputeRun.status == "finished"))
    rows = session.execute(
        select(Sku.code, Sku.category, SkuSnapshot.order_policy)
        .join(SkuSnapshot, SkuSnapshot.sku_id == Sku.id)
        .where(SkuSnapshot.run_id == run_id)
        .order_by(Sku.code)
    ).all()
    by_policy: dict[str, list[str]] = {}
    for code, _, policy_name in rows:
        by_policy.setdefault(policy_name, []).append(code)
    assert by_policy.get("newsvendor") and by_policy.get("phase_out"), "the demo has one-shot SKUs and a stopped seller"
    replenished = by_policy["reorder_point"][0]
    keys = ["portfolio", f"category:{rows[0][1]}", f"sku:{replenished}"]
    keys += [f"sku:{by_policy[p][0]}" for p in ("newsvendor", "phase_out")]
    for key in keys:
        items = wb.load_model(session=session, scope=svc.Scope.parse(key))
        assert items is not None, key
        controls = wb.stored_controls(items)
        setting, today = wb.risk_setting(items, controls), wb.risk_today(items)
        for name in FIELDS:
            assert getattr(setting, name) == pytest.approx(getattr(today, name), rel=1e-9, abs=1e-9), (key, name)
        d = svc.profit_defaults(items)
        econ, _ = svc.economics(items, svc.ProfitControls(**d, baseline=d))
        view, stored = wb.newsvendor_view(items, econ), wb.profit_today(items)
        assert view.quantity == pytest.approx(stored.quantity, rel=1e-6, abs=1e-6), key
    # a replenished SKU's today is what the SKU page shows
    detail = sku_detail(session=session, code=replenished)
    items = wb.load_model(session=session, scope=svc.Scope.parse(f"sku:{replenished}"))
    today = wb.risk_today(items)
    assert today.safety_stock == pytest.approx(detail.value("safety_stock"))
    assert today.level == pytest.approx(detail.value("reorder_point"))
    if by_policy["phase_out"]:
        stopped = wb.load_model(session=session, scope=svc.Scope.parse(f"sku:{by_policy['phase_out'][0]}"))
        assert wb.risk_today(stopped).safety_stock == 0 and float(np.sum(stopped.demand_mean)) == 0
    if by_policy.get("newsvendor"):
        code = by_policy["newsvendor"][0]
        shot = wb.load_model(session=session, scope=svc.Scope.parse(f"sku:{code}"))
        assert wb.risk_today(shot).level == pytest.approx(
            sku_detail(session=session, code=code).value("newsvendor_qty")
        )
