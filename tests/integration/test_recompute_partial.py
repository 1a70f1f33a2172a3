"""Partial recompute (``sku_codes``) on both engines: the run stays complete (other SKUs carried forward from the
previous run with INSERT ... SELECT), recommendations are replaced only for the recomputed SKUs, the scope is recorded,
and the cases without a previous run or with a changed data grid."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import event, select, update

from db import queries_recompute as q
from db.models import Demand, PurchaseOrder, RecomputeRun, Sku, StockPosition
from services import demo, runs
from services import recompute as rc

END = dt.date(2026, 1, 5)
SKUS = 24


@pytest.fixture
def stored(session) -> list[str]:
    portfolio = demo.generate(skus=SKUS, periods=60, end=END, seed=11)
    demo.store(session=session, portfolio=portfolio)
    session.commit()
    return sorted(portfolio.skus["code"].tolist())


def _snapshot(session, run_id: int) -> pd.DataFrame:
    return q.snapshot_frame(session.connection(), run_id=run_id).set_index("code").sort_index()


def _forecasts(session, run_id: int) -> pd.DataFrame:
    frame = q.forecast_frame(session.connection(), run_id=run_id)
    return frame.sort_values(["code", "kind", "period"]).reset_index(drop=True)


def _orders(session) -> dict[int, tuple[int, str]]:
    rows = session.execute(select(PurchaseOrder.id, PurchaseOrder.sku_id, PurchaseOrder.status)).all()
    return {int(i): (int(s), str(st)) for i, s, st in rows}


def test_partial_run_carries_the_other_skus_forward(session, stored: list[str]) -> None:
    full = rc.recompute(session=session, triggered_by="tests", batch_size=8)
    assert full.scope is None and full.sku_count == SKUS
    ids = dict(session.execute(select(Sku.code, Sku.id)).all())
    target, other = stored[3], stored[10]
    before_orders = _orders(session)
    # approve one recommendation of another SKU; the partial run must not touch it (nor the others)
    other_rec = next((i for i, (s, st) in before_orders.items() if st == "recommended" and s != ids[target]), None)
    if other_rec is not None:
        session.execute(update(PurchaseOrder).where(PurchaseOrder.id == other_rec).values(status="approved"))
    session.execute(update(StockPosition).where(StockPosition.sku_id == ids[target]).values(on_hand=0.0, on_order=0.0))
    session.commit()
    before_orders = _orders(session)

    part = rc.recompute(session=session, triggered_by="tests", sku_codes=[target, "NO-SUCH-SKU"])

    assert part.status == "finished" and part.sku_count == SKUS
    assert part.scope == {
        "partial": True,
        "skus": [target],
        "sku_count": 1,
        "edited_skus": [],
        "edited_count": 0,
        "carried_from": full.run_id,
        "carried_skus": SKUS - 1,
    }
    run = runs.latest_run(session=session)
    assert run.id == part.run_id and run.sku_count == SKUS and run.kpis["sku_count"] == SKUS
    assert runs.run_scope(run)["carried_skus"] == SKUS - 1
    assert runs.run_scope(session.get(RecomputeRun, full.run_id)) is None
    a, b = _snapshot(session, full.run_id), _snapshot(session, part.run_id)
    assert list(a.index) == list(b.index) == stored
    assert b.loc[target, "on_hand"] == 0.0 and a.loc[target, "on_hand"] != 0.0
    rest = [c for c in stored if c != target]
    pd.testing.assert_frame_equal(a.loc[rest].drop(columns="abc"), b.loc[rest].drop(columns="abc"))
    fa, fb = _forecasts(session, full.run_id), _forecasts(session, part.run_id)
    pd.testing.assert_frame_equal(
        fa[fa["code"] != target].reset_index(drop=True), fb[fb["code"] != target].reset_index(drop=True)
    )
    assert (fb["code"] == target).sum() > 0
    assert set(fb.loc[fb["code"] == target, "period"][fb["kind"] == "future"]) == set(
        fa.loc[fa["code"] == other, "period"][fa["kind"] == "future"]
    ), "the recomputed SKU is on the portfolio's period grid"
    counts = b["status"].value_counts()
    assert all(run.kpis[f"count_{s}"] == counts.get(s, 0) for s in counts.index)

    after_orders = _orders(session)
    for order_id, (sku_id, status) in before_orders.items():
        if sku_id != ids[target] or status != "recommended":
            assert after_orders.get(order_id) == (sku_id, status), "other SKUs' and approved orders stay as they were"
    target_recommended_before = {i for i, (s, st) in before_orders.items() if s == ids[target] and st == "recommended"}
    assert not (target_recommended_before & set(after_orders)), "the recomputed SKU's recommendations are replaced"
    assert b.loc[target, "recommended_qty"] > 0
    assert any(s == ids[target] and st == "recommended" for s, st in after_orders.values())


def test_a_partial_run_without_changes_reproduces_the_full_run(session, stored: list[str]) -> None:
    full = rc.recompute(session=session, batch_size=8)
    # the same SKUs in the same batch as in the full run (a batch's forecasts depend on the batch: engine contract)
    part = rc.recompute(session=session, sku_codes=stored[8:16], batch_size=8)
    pd.testing.assert_frame_equal(_snapshot(session, full.run_id), _snapshot(session, part.run_id))
    pd.testing.assert_frame_equal(_forecasts(session, full.run_id), _forecasts(session, part.run_id))
    for key, value in full.kpis.items():  # the fill rate too: re-derived per SKU from the stored policies
        assert part.kpis[key] == pytest.approx(value, rel=1e-9, nan_ok=True), key


def test_inactive_skus_are_not_carried_and_statements_are_set_based(session, stored: list[str]) -> None:
    rc.recompute(session=session, batch_size=8)
    gone = stored[-1]
    session.execute(update(Sku).where(Sku.code == gone).values(active=False))
    session.commit()
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO") and "SELECT" in statement.upper():
            statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        part = rc.recompute(session=session, sku_codes=[stored[0]])
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert part.sku_count == SKUS - 1
    assert gone not in _snapshot(session, part.run_id).index
    assert len(statements) == 2, "one INSERT ... SELECT for the forecasts, one for the snapshots"


def test_without_a_previous_run_a_partial_run_holds_just_its_skus(session, stored: list[str]) -> None:
    part = rc.recompute(session=session, sku_codes=stored[:2])
    assert part.sku_count == 2 and part.scope["carried_from"] is None and part.scope["carried_skus"] == 0
    assert list(_snapshot(session, part.run_id).index) == stored[:2]


def test_a_changed_data_grid_makes_it_a_full_run(session, stored: list[str]) -> None:
    first = rc.recompute(session=session, sku_codes=stored)
    sku_id = session.scalar(select(Sku.id).where(Sku.code == stored[0]))
    session.add(Demand(sku_id=sku_id, period=END + dt.timedelta(days=7), quantity=3.0))
    session.commit()
    again = rc.recompute(session=session, sku_codes=[stored[1]])
    # issue 15: one SKU's new week extends the grid (a full run) but does not move "data through" (data_as_of), the
    # latest period most SKUs reported (this asserted END + 7 days before: the other SKUs got a zero for that week)
    assert again.sku_count == SKUS and again.data_as_of == END
    assert again.scope["partial"] is False and again.scope["requested_skus"] == [stored[1]]
    assert "ends" in again.scope["fallback"] and again.run_id == first.run_id + 1


def test_unknown_codes_are_refused_without_a_run(session, stored: list[str]) -> None:
    with pytest.raises(rc.RecomputeError, match="none of the SKU codes is an active SKU") as info:
        rc.recompute(session=session, sku_codes=["NOPE", " "])
    assert info.value.run_id is None
    assert session.scalar(select(RecomputeRun.id)) is None


def test_an_override_recomputes_its_sku_alone(session, stored: list[str]) -> None:
    from services import overrides as ovr

    full = rc.recompute(session=session, batch_size=8)
    code = stored[5]
    period = ovr.override_periods(session=session, code=code)[0].period
    ovr.add_override(session=session, code=code, periods=[period], qty=4321, reason="trade fair", user="p@example.com")
    session.commit()
    summary = ovr.recompute_after_override(session=session, code=code, user="p@example.com")
    assert summary.scope["skus"] == [code] and summary.sku_count == SKUS
    run = runs.latest_run(session=session)
    assert run.id == summary.run_id and run.triggered_by == f"p@example.com (override {code})"
    fc = _forecasts(session, run.id)
    row = fc[(fc["code"] == code) & (fc["kind"] == "future") & (pd.to_datetime(fc["period"]) == pd.Timestamp(period))]
    assert row["mean"].tolist() == [4321.0]
    before = _snapshot(session, full.run_id).drop(index=code).drop(columns="abc")
    pd.testing.assert_frame_equal(before, _snapshot(session, run.id).drop(index=code).drop(columns="abc"))
