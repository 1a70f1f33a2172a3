"""A synthetic snapshot for the Watchtower / SKU tests and the dashboard bench (no engine needed).

:func:`write_synthetic_run` writes a finished ``recompute_run`` with one ``sku_snapshot`` row per SKU already in the
database (plus future and backtest ``forecast`` rows), with every status represented and reasons quoting numbers.
The tests below check the fixture itself so the page tests can rely on it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db import bulk
from db.models import STATUSES, Demand, Forecast, RecomputeRun, Sku, SkuSnapshot, utcnow

MODELS = ("seasonal_naive", "ets", "croston_sba", "tsb", "ml_gbm")
STATUS_P = (0.12, 0.05, 0.10, 0.05, 0.13, 0.55)
HORIZON = 13


def _reason(status: str, r: dict[str, Any]) -> str:
    if status == "stockout_risk":
        return (
            f"Position {r['inventory_position']:,.0f} is at or below the reorder point {r['reorder_point']:,.0f}; "
            f"cover {r['days_of_cover']:,.1f} days < lead time {r['lead_time_periods'] * 7:,.0f} days"
        )
    if status == "surge":
        return f"Recent demand {r['demand_recent']:,.1f}/period is {r['surge_z']:,.1f} standard errors above forecast"
    if status == "low_velocity":
        return f"Recent demand {r['demand_recent']:,.1f} is below 30% of the baseline {r['demand_baseline']:,.1f}"
    if status == "dead_stock":
        return f"No sale for {r['periods_since_last_sale']} periods; {r['on_hand']:,.0f} units on hand"
    if status == "overstock":
        return f"Cover {r['days_of_cover']:,.0f} days is more than 3x the target cover"
    return "Position within policy"


def write_synthetic_run(
    session: Session,
    *,
    seed: int = 1,
    finished_at: dt.datetime | None = None,
    forecasts: bool = True,
    triggered_by: str = "synthetic",
) -> int:
    """Write a finished run over every SKU in the database; returns its id."""
    rng = np.random.default_rng(seed)
    skus = session.execute(select(Sku.id, Sku.code, Sku.unit_cost, Sku.unit_price).order_by(Sku.id)).all()
    n = len(skus)
    last = session.scalar(select(func.max(Demand.period))) or dt.date(2025, 1, 6)
    status = rng.choice(STATUSES, size=n, p=STATUS_P)
    status[: min(n, len(STATUSES))] = STATUSES[: min(n, len(STATUSES))]
    cost = np.array([s.unit_cost for s in skus], dtype=float)
    price = np.array([s.unit_price for s in skus], dtype=float)
    fpp = rng.gamma(2.0, 20.0, n)
    sigma = fpp * rng.uniform(0.2, 0.8, n)
    lead = rng.uniform(1.0, 6.0, n)
    ss = 1.65 * sigma * np.sqrt(lead)
    rop = fpp * lead + ss
    on_hand = np.maximum(0, rop * rng.uniform(0.2, 4.0, n)).round()
    on_hand[status == "stockout_risk"] = (rop[status == "stockout_risk"] * 0.3).round()
    on_hand[status == "overstock"] = (rop[status == "overstock"] * 6).round()
    on_order = np.where(rng.random(n) < 0.2, fpp * 2, 0.0).round()
    ip = on_hand + on_order
    eoq = np.sqrt(2 * 50 * fpp * 52 / np.maximum(cost * 0.25, 0.01))
    rec = np.where(ip <= rop, np.ceil(eoq), 0.0)
    order_by = np.where(ip <= rop, 0.0, np.maximum(0.0, (ip - rop) / np.maximum(fpp, 1e-9))).round(1)
    cover = on_hand / np.maximum(fpp, 1e-9) * 7
    wape = rng.uniform(0.1, 0.9, n)
    mase = rng.uniform(0.5, 1.5, n)
    excess = np.where(status == "overstock", (on_hand - 3 * rop) * cost, 0.0).clip(0)
    var = np.where(status == "stockout_risk", fpp * lead * (price - cost).clip(0) * 0.3, 0.0)
    var = np.where(status == "overstock", excess, var)
    var = np.where(status == "dead_stock", on_hand * cost, var)
    run = RecomputeRun(
        status="finished",
        started_at=(finished_at or utcnow()) - dt.timedelta(seconds=30),
        finished_at=finished_at or utcnow(),
        grain="weekly",
        data_as_of=last,
        sku_count=n,
        triggered_by=triggered_by,
        kpis={
            "fill_rate": float(rng.uniform(0.9, 0.99)),
            "inventory_value": float((on_hand * cost).sum()),
            "value_at_risk": float(var.sum()),
            "turns": float(rng.uniform(4, 9)),
            "days_of_supply": float(rng.uniform(30, 80)),
            "wape": float(wape.mean()),
            "mase": float(mase.mean()),
            "bias": 0.02,
            "sku_count": float(n),
            **{f"count_{s}": float((status == s).sum()) for s in STATUSES},
        },
    )
    session.add(run)
    session.flush()
    rows = []
    classes = np.array(["smooth", "intermittent", "erratic", "lumpy"])[rng.integers(0, 4, n)]
    for i, sku in enumerate(skus):
        chosen = MODELS[i % len(MODELS)]
        scores = {m: round(float(mase[i] * (1 + 0.1 * k)), 3) for k, m in enumerate(MODELS)}
        scores[chosen] = round(float(mase[i]), 3)
        r: dict[str, Any] = {
            "run_id": run.id,
            "sku_id": sku.id,
            "status": str(status[i]),
            "demand_class": str(classes[i]),
            "adi": 1.1,
            "cv2": 0.3,
            "abc": "ABC"[i % 3],
            "xyz": "XYZ"[(i // 3) % 3],
            "forecast_model": chosen,
            "mase": float(mase[i]),
            "wape": float(wape[i]),
            "bias": float(rng.normal(0, 0.1)),
            "model_scores": scores,
            "demand_recent": float(fpp[i] * (3 if status[i] == "surge" else 0.2 if status[i] == "low_velocity" else 1)),
            "demand_baseline": float(fpp[i]),
            "forecast_per_period": float(fpp[i]),
            "sigma": float(sigma[i]),
            "lead_time_periods": float(lead[i]),
            "lead_time_std_periods": float(lead[i] * 0.2),
            "lead_time_source": "master" if i % 4 else "receipts",
            "service_level": 0.95,
            "safety_stock": float(ss[i]),
            "reorder_point": float(rop[i]),
            "order_up_to": float(rop[i] + eoq[i]),
            "eoq": float(eoq[i]),
            "newsvendor_qty": float(fpp[i] * lead[i] * 1.1),
            "rop_method": "normal" if classes[i] == "smooth" else "negative_binomial",
            "rop_method_reason": "Lead-time demand is large and smooth: normal approximation"
            if classes[i] == "smooth"
            else "Lumpy lead-time demand: negative-binomial quantile",
            "on_hand": float(on_hand[i]),
            "on_order": float(on_order[i]),
            "inventory_position": float(ip[i]),
            "recommended_qty": float(rec[i]),
            "order_by_periods": float(order_by[i]),
            "days_of_cover": float(cover[i]),
            "annual_demand": float(fpp[i] * 52),
            "inventory_value": float(on_hand[i] * cost[i]),
            "value_at_risk": float(var[i]),
            "excess_value": float(excess[i]),
            "surge_z": float(4.2 if status[i] == "surge" else 0.3),
            "periods_since_last_sale": int(20 if status[i] == "dead_stock" else 0),
        }
        r["status_reason"] = _reason(r["status"], r)
        rows.append(r)
    connection = session.connection()
    session.execute(SkuSnapshot.__table__.insert(), rows)
    if forecasts:
        columns = ("run_id", "sku_id", "period", "kind", "mean", "p10", "p50", "p90")
        fc: list[tuple[Any, ...]] = []
        for i, sku in enumerate(skus):
            for h in range(1, HORIZON + 1):
                m = float(fpp[i] * (1 + 0.05 * np.sin(h)))
                fc.append((run.id, sku.id, last + dt.timedelta(weeks=h), "future", m, m * 0.6, m, m * 1.4))
            for b in range(26):
                fc.append((run.id, sku.id, last - dt.timedelta(weeks=b), "backtest", float(fpp[i]), None, None, None))
        bulk.copy_rows(connection, Forecast.__table__, columns, fc)
    session.flush()
    return run.id


def store_portfolio() -> tuple[int, int]:
    """Store a 40-SKU demo portfolio with two synthetic runs; returns (latest_id, previous_id)."""
    from db.session import session_scope
    from services import demo

    with session_scope() as s:
        demo.store(session=s, portfolio=demo.generate(skus=40, periods=60, seed=3))
        previous = write_synthetic_run(s, seed=5, finished_at=utcnow() - dt.timedelta(days=7), forecasts=False)
        latest = write_synthetic_run(s, seed=6)
    return latest, previous


@pytest.fixture
def portfolio(db_url):
    """A small demo portfolio with a previous and a latest synthetic run, on SQLite and PostgreSQL;
    returns (latest_id, previous_id)."""
    return store_portfolio()


@pytest.fixture
def sqlite_portfolio(sqlite_db):
    """The same portfolio on SQLite only (for tests whose SQL does not differ between engines)."""
    return store_portfolio()


def test_synthetic_run_covers_every_sku_and_status(portfolio) -> None:
    from db.session import session_scope

    latest, previous = portfolio
    with session_scope() as s:
        skus = s.scalar(select(func.count()).select_from(Sku))
        rows = s.scalar(select(func.count()).select_from(SkuSnapshot).where(SkuSnapshot.run_id == latest))
        statuses = set(s.scalars(select(SkuSnapshot.status).where(SkuSnapshot.run_id == latest)))
        futures = s.scalar(
            select(func.count()).select_from(Forecast).where(Forecast.run_id == latest, Forecast.kind == "future")
        )
    assert rows == skus == 40
    assert statuses == set(STATUSES)
    assert futures == 40 * HORIZON
    assert previous < latest


def ensure_app():
    """The Dash app (pages need one to register); reuses the suite's app so callbacks register only once."""
    from tests.conftest import _APP

    if "app" not in _APP:
        from app import create_app

        _APP["app"] = create_app()
    return _APP["app"]
