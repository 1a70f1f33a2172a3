"""Issue 20 on SQLite and PostgreSQL: a planned promotion raises the SKU's forecast in its periods (with the uplift
stored) and, through the policy, its recommended order; the recompute loads the causal data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import insert, select, update

from db import queries_recompute as q
from db.models import Forecast, Promotion, PurchaseOrder, Sku, StockPosition
from services import demo
from services import recompute as rc

END = dt.date(2026, 1, 5)  # a Monday
PERIODS = 104
PLAN = (END + dt.timedelta(days=7), END + dt.timedelta(days=14))  # the first two weeks of the horizon


def _store_with_promotions(session) -> tuple[str, str]:
    """A demo portfolio whose SKUs sold 3x in promoted weeks (price -25 %); two twins A and B with the same
    history, of which only A has the plan. Returns (A, B)."""
    portfolio = demo.generate(skus=40, periods=PERIODS, end=END)
    rng = np.random.default_rng(3)
    demand = portfolio.demand.copy()
    weeks = pd.DatetimeIndex(portfolio.periods)
    promoted = {i: set(rng.choice(len(weeks), size=12, replace=False)) for i in range(len(portfolio.skus))}
    week_no = {d: k for k, d in enumerate(weeks)}
    k = pd.to_datetime(demand["period"]).map(week_no).to_numpy()
    hit = np.array([kk in promoted[i] for i, kk in zip(demand["sku"], k, strict=True)])
    demand.loc[hit, "quantity"] = demand.loc[hit, "quantity"] * 3 + 5
    twin_a, twin_b = 0, 1
    a_rows = demand[demand["sku"] == twin_a].copy()
    demand = pd.concat([demand[demand["sku"] != twin_b], a_rows.assign(sku=twin_b)], ignore_index=True)
    promoted[twin_b] = promoted[twin_a]
    portfolio = demo.DemoPortfolio(
        skus=portfolio.skus,
        demand=demand,
        stock=portfolio.stock,
        receipts=portfolio.receipts.iloc[0:0],
        periods=portfolio.periods,
    )
    demo.store(session=session, portfolio=portfolio)
    ids = dict(session.execute(select(Sku.code, Sku.id)).all())
    codes = portfolio.skus["code"].tolist()
    rows = []
    for i, code in enumerate(codes):
        for kk, day in enumerate(weeks):
            on = kk in promoted[i]
            feats = {"display": 1.0} if on else None
            rows.append(
                {
                    "sku_id": ids[code],
                    "period": day.date(),
                    "price": 7.5 if on else 10.0,
                    "promoted": on,
                    "features": feats,
                }
            )
        planned = i == twin_a
        for day in PLAN:
            feats = {"display": 1.0} if planned else None
            rows.append(
                {
                    "sku_id": ids[code],
                    "period": day,
                    "price": 7.5 if planned else 10.0,
                    "promoted": planned,
                    "features": feats,
                }
            )
    session.execute(insert(Promotion), [{**r, "updated_at": dt.datetime(2026, 1, 1)} for r in rows])
    a, b = codes[twin_a], codes[twin_b]
    same = {"on_hand": 0.0, "on_order": 0.0}
    session.execute(update(StockPosition).where(StockPosition.sku_id.in_([ids[a], ids[b]])).values(**same))
    session.execute(update(Sku).where(Sku.id.in_([ids[a], ids[b]])).values(lead_time_mean=14.0, lead_time_std=0.0))
    session.commit()
    return a, b


def test_causal_inputs_are_loaded_on_the_grid(session) -> None:
    from services.engine_inputs import load_portfolio_inputs

    a, _ = _store_with_promotions(session)
    inputs = load_portfolio_inputs(connection=session.connection(), horizon=13, min_receipts=3)
    causal = inputs.causal
    row = inputs.codes.index(a)
    t = inputs.context.n_periods
    assert causal.price.shape == (40, t + 13) and causal.promotion[row, t : t + 2].tolist() == [1.0, 1.0]
    assert causal.features["display"][row, t : t + 3].tolist() == [1.0, 1.0, 0.0]
    assert np.nanmin(causal.price[row, :t]) == 7.5


def test_planned_promotion_raises_forecast_and_order(session) -> None:
    a, b = _store_with_promotions(session)
    summary = rc.recompute(session=session, triggered_by="tests", batch_size=40)
    assert summary.status == "finished"
    ids = dict(session.execute(select(Sku.code, Sku.id)).all())
    rows = session.execute(
        select(Forecast.sku_id, Forecast.period, Forecast.mean, Forecast.uplift).where(
            Forecast.run_id == summary.run_id, Forecast.kind == "future"
        )
    ).all()
    fc = pd.DataFrame(rows, columns=["sku_id", "period", "mean", "uplift"])
    fa = fc[fc["sku_id"] == ids[a]].sort_values("period").reset_index(drop=True)
    fb = fc[fc["sku_id"] == ids[b]].sort_values("period").reset_index(drop=True)
    planned = fa["period"].isin(PLAN)
    assert planned.sum() == 2
    assert (fa.loc[planned, "mean"].to_numpy() > 1.5 * fb.loc[planned, "mean"].to_numpy()).all()
    assert (fa.loc[planned, "uplift"] > 0).all()
    assert np.allclose(fa.loc[~planned, "mean"], fb.loc[~planned, "mean"], rtol=0.05)
    assert np.allclose(fb["uplift"].fillna(0), 0, atol=1e-9)
    snap = q.snapshot_frame(session.connection(), run_id=summary.run_id).set_index("code")
    assert snap.loc[a, "recommended_qty"] > snap.loc[b, "recommended_qty"]
    exported = q.forecast_frame(session.connection(), run_id=summary.run_id, kind="future")  # the forecast export
    assert exported.loc[exported["code"] == a, "uplift"].max() > 0
    reasons = dict(
        session.execute(
            select(Sku.code, PurchaseOrder.reason).join(Sku, Sku.id == PurchaseOrder.sku_id).where(Sku.code.in_([a, b]))
        ).all()
    )
    assert "planned promotions add" in reasons[a] and "promotion" not in reasons[b]
    from services import narrative, runs

    run = runs.run_by_id(session=session, run_id=summary.run_id)
    facts_a = narrative.sku_facts_for_run(session=session, run=run, code=a)
    assert facts_a.planned_promotion_units > 0 and facts_a.planned_promotion_from == PLAN[0]
    assert narrative.sku_facts_for_run(session=session, run=run, code=b).planned_promotion_units is None


def test_sku_chart_shades_promotions_and_shows_the_uplift(session) -> None:
    from layouts._promotions import PLANNED_FILL, add_promotions
    from services.sku_detail import sku_detail

    a, _ = _store_with_promotions(session)
    assert rc.recompute(session=session, triggered_by="tests", batch_size=40).status == "finished"
    detail = sku_detail(session=session, code=a)
    figure = add_promotions({"data": [], "layout": {}}, code=a, forecast=detail.forecast, step_days=7.0)
    fills = [s["fillcolor"] for s in figure["layout"]["shapes"]]
    assert fills.count(PLANNED_FILL) == 1 and len(fills) > 5  # the plan's two weeks are one span
    names = [t["name"] for t in figure["data"]]
    assert names == ["Price", "Promotion uplift"]
    assert len(figure["data"][1]["x"]) == 2


def test_watchtower_filter_promotion_planned(session) -> None:
    from services import watchtower

    a, b = _store_with_promotions(session)
    summary = rc.recompute(session=session, triggered_by="tests", batch_size=40)
    planned = watchtower.GridFilters.from_mapping({"promotion": ["planned"]})
    page = watchtower.query_skus(session=session, run_id=summary.run_id, filters=planned, start=0, limit=100)
    assert [row["code"] for row in page.rows] == [a]
    none = watchtower.GridFilters.from_mapping({"promotion": "none"})
    assert watchtower.count_skus(session=session, run_id=summary.run_id, filters=none) == 39
    assert "promotion=planned" in planned.to_query()
