"""Purchase orders on both engines: recommendations from real recomputes, the lifecycle (recommended -> approved ->
received, rejected, replaced by the next recompute), rounding, on-order feedback, receipts and lead-time learning,
invalid transitions, audit and export.

The forecast is replaced by a deterministic stand-in (mean / std of the last 26 periods) so a recompute takes a
fraction of a second; core.forecast has its own tests.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
import types
import zipfile
from dataclasses import dataclass

import numpy as np
import pytest
from sqlalchemy import func, insert, select, update

from db.models import AuditLog, Demand, PurchaseOrder, Receipt, RecomputeRun, Sku, SkuSnapshot, StockPosition, utcnow
from db.session import session_scope
from services import orders as svc
from services.errors import UserFacingError

WEEKS = 60
LAST = dt.date(2026, 3, 2)  # a Monday
DATES = [LAST - dt.timedelta(days=7 * (WEEKS - 1 - k)) for k in range(WEEKS)]


@dataclass(frozen=True)
class _Result:  # the fields of core.forecast.ForecastResult
    model_names: tuple[str, ...]
    model: np.ndarray
    mean: np.ndarray
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray
    sigma: np.ndarray
    mase: np.ndarray
    wape: np.ndarray
    bias: np.ndarray
    scores: dict[str, np.ndarray]
    backtest: np.ndarray


def stub_forecast(*, history, horizon, season_length, n_origins=3, period_dates=None, random_state=0) -> _Result:
    n, t = history.shape
    window = history[:, -26:]
    mu = np.nan_to_num(np.nanmean(window, axis=1))
    sd = np.nan_to_num(np.nanstd(window, axis=1))
    mean = np.repeat(mu[:, None], horizon, axis=1)
    backtest = np.full((n, t), np.nan)
    backtest[:, -13:] = mu[:, None]
    return _Result(
        model_names=("seasonal_naive",),
        model=np.array(["seasonal_naive"] * n, dtype=object),
        mean=mean,
        p10=np.maximum(mean - 1.28 * sd[:, None], 0.0),
        p50=mean.copy(),
        p90=mean + 1.28 * sd[:, None],
        sigma=sd,
        mase=np.full(n, 0.8),
        wape=np.full(n, 0.3),
        bias=np.full(n, 0.0),
        scores={"seasonal_naive": np.full(n, 0.8)},
        backtest=backtest,
    )


@pytest.fixture
def fast_forecast(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        import core.forecast as fc
    except ImportError:  # pragma: no cover - the package exists in this project
        fc = types.ModuleType("core.forecast")
        monkeypatch.setitem(sys.modules, "core.forecast", fc)
    monkeypatch.setattr(fc, "forecast_batch", stub_forecast, raising=False)


# code: (weekly demand, on hand, moq, order multiple, supplier, unit cost)
SPECS: dict[str, tuple[float, float, float, float, str, float]] = {
    "A-NEED": (20.0, 5.0, 0.0, 1.0, "Acme", 2.0),
    "B-NEED": (30.0, 10.0, 0.0, 1.0, "Acme", 3.0),
    "C-NEED": (15.0, 0.0, 0.0, 1.0, "Bolt & Co", 4.0),
    "D-NEED": (25.0, 0.0, 0.0, 1.0, "=cmd|' /C calc'!A0", 1.5),
    "E-FULL": (10.0, 10_000.0, 0.0, 1.0, "Bolt & Co", 1.0),
    "F-MOQ": (1.0, 0.0, 500.0, 1.0, "Bolt & Co", 1.0),
    "G-MULT": (10.0, 0.0, 0.0, 24.0, "Acme", 1.0),
}


def seed(specs: dict[str, tuple] = SPECS) -> None:
    rng = np.random.default_rng(3)
    with session_scope() as s:
        for code, (level, on_hand, moq, mult, supplier, cost) in specs.items():
            sku = Sku(
                code=code,
                name=f"Item {code}",
                category="Tools" if code < "D" else "Food",
                unit_cost=cost,
                unit_price=cost * 2,
                order_cost=20.0,
                holding_cost_rate=0.25,
                lead_time_mean=14.0,
                lead_time_std=2.0,
                moq=moq,
                order_multiple=mult,
                service_level_target=0.95,
                supplier=supplier,
            )
            s.add(sku)
            s.flush()
            noise = rng.normal(0.0, 0.1 * level, size=WEEKS) if level >= 5 else np.zeros(WEEKS)
            s.add_all(
                [
                    Demand(sku_id=sku.id, period=d, quantity=float(max(level + e, 0.0)))
                    for d, e in zip(DATES, noise, strict=True)
                ]
            )
            s.add(StockPosition(sku_id=sku.id, as_of=LAST, on_hand=on_hand, on_order=0.0))


def run() -> int:
    from services.recompute import recompute

    with session_scope() as s:
        summary = recompute(session=s, triggered_by="tests")
    assert summary.status == "finished"
    return int(summary.run_id)


def orders_by_sku(status: str | None = None) -> dict[str, list[svc.OrderView]]:
    with session_scope() as s:
        out: dict[str, list[svc.OrderView]] = {}
        for o in svc.list_orders(session=s, status=status):
            out.setdefault(o.sku, []).append(o)
    return out


def snapshot(run_id: int, code: str) -> SkuSnapshot:
    with session_scope() as s:
        return s.scalars(
            select(SkuSnapshot)
            .join(Sku, Sku.id == SkuSnapshot.sku_id)
            .where(SkuSnapshot.run_id == run_id, Sku.code == code)
        ).one()


pytestmark = pytest.mark.usefixtures("fast_forecast")


def test_recompute_turns_recommendations_into_orders(db_url) -> None:
    seed()
    run_id = run()
    orders = orders_by_sku()
    assert set(orders) == {"A-NEED", "B-NEED", "C-NEED", "D-NEED", "F-MOQ", "G-MULT"}  # E-FULL needs nothing
    with session_scope() as s:
        run_row = s.get(RecomputeRun, run_id)
        data_as_of = run_row.data_as_of
    for code, (order,) in orders.items():
        snap = snapshot(run_id, code)
        assert order.status == "recommended" and order.run_id == run_id
        assert order.qty == pytest.approx(snap.recommended_qty) and order.recommended_qty == order.qty
        assert order.qty > 0
        assert order.supplier == SPECS[code][4] and order.unit_cost == SPECS[code][5]
        assert order.value == pytest.approx(order.qty * order.unit_cost)
        # order-by = the first forecast period (data_as_of + 1 week) + order_by_periods weeks (0 periods: order now)
        assert order.order_by == data_as_of + dt.timedelta(days=7 * (1 + round(snap.order_by_periods)))
        assert order.reason.startswith(f"Position {snap.inventory_position:,.0f} is at or below the reorder point")
        assert f"-> {order.qty:,.0f}; forecast " in order.reason and order.reason.endswith(" per week.")
    assert snapshot(run_id, "E-FULL").recommended_qty == 0


def test_rounding_moq_multiple_and_zero_need(db_url) -> None:
    seed()
    run_id = run()
    orders = orders_by_sku("recommended")
    # MOQ far above the need: the order is exactly the MOQ
    need = snapshot(run_id, "F-MOQ")
    assert need.order_up_to - need.inventory_position < 500
    assert orders["F-MOQ"][0].qty == 500
    # order multiple 24: a whole number of packs covering the gap to the order-up-to level
    g = orders["G-MULT"][0]
    snap = snapshot(run_id, "G-MULT")
    assert g.qty % 24 == 0 and g.qty >= snap.order_up_to - snap.inventory_position
    assert g.qty - 24 < max(snap.order_up_to - snap.inventory_position, snap.eoq or 0) + 24
    # no need: no order
    assert "E-FULL" not in orders


def test_lifecycle_and_replacement_by_the_next_recompute(db_url) -> None:
    seed()
    run()
    first = {code: rows[0] for code, rows in orders_by_sku("recommended").items()}
    with session_scope() as s:
        approved = svc.approve_order(session=s, order_id=first["A-NEED"].id, user="planner@example.com")
        edited = svc.edit_quantity(
            session=s, order_id=first["B-NEED"].id, qty=999, reason="supplier pallet size", user="planner@example.com"
        )
        rejected = svc.reject_order(
            session=s, order_id=first["C-NEED"].id, user="planner@example.com", reason="discontinued"
        )
    assert approved.status == "approved" and approved.approved_by == "planner@example.com"
    assert approved.order_date == svc.today()
    assert approved.promised_date == svc.today() + dt.timedelta(days=14)  # master lead time
    assert edited.order.qty == 999 and edited.previous_qty == first["B-NEED"].qty
    assert edited.order.edit_reason == "supplier pallet size" and edited.order.recommended_qty == first["B-NEED"].qty
    assert rejected.status == "rejected" and rejected.closed_by == "planner@example.com"

    second_run = run()
    after = orders_by_sku()
    # approved: untouched, counted as on order, so no new recommendation for A
    (a,) = after["A-NEED"]
    assert a.id == first["A-NEED"].id and a.status == "approved"
    snap_a = snapshot(second_run, "A-NEED")
    assert snap_a.on_order == pytest.approx(first["A-NEED"].qty)
    assert snap_a.inventory_position == pytest.approx(SPECS["A-NEED"][1] + first["A-NEED"].qty)
    # edited recommendation: kept as it is, and no second one for B
    (b,) = after["B-NEED"]
    assert b.id == first["B-NEED"].id and b.qty == 999 and b.status == "recommended"
    # rejected: stays rejected; the need remains, so a new recommendation
    statuses_c = sorted(o.status for o in after["C-NEED"])
    assert statuses_c == ["recommended", "rejected"]
    # untouched recommendation: replaced by the new run's
    (d,) = after["D-NEED"]
    assert d.id != first["D-NEED"].id and d.run_id == second_run and d.status == "recommended"
    with session_scope() as s:
        assert s.get(PurchaseOrder, first["D-NEED"].id) is None

    # receive the approved order: a receipt teaches the lead time, the stock count gets the delivery
    with session_scope() as s:
        s.execute(
            update(PurchaseOrder)
            .where(PurchaseOrder.id == a.id)
            .values(order_date=LAST - dt.timedelta(days=5), promised_date=LAST + dt.timedelta(days=6))
        )
    received_on = LAST + dt.timedelta(days=9)
    with session_scope() as s:
        got = svc.receive_order(
            session=s, order_id=a.id, received_date=received_on, received_qty=a.qty, user="planner@example.com"
        )
    assert got.status == "received" and got.received_qty == a.qty and got.received_date == received_on
    with session_scope() as s:
        receipt = s.scalars(select(Receipt).join(Sku).where(Sku.code == "A-NEED")).one()
        assert (receipt.received_date - receipt.order_date).days == 14
        assert receipt.promised_date == LAST + dt.timedelta(days=6) and receipt.quantity == a.qty
        stock = s.scalars(
            select(StockPosition).join(Sku).where(Sku.code == "A-NEED").order_by(StockPosition.as_of.desc())
        ).first()
        assert stock.as_of == received_on and stock.on_hand == pytest.approx(SPECS["A-NEED"][1] + a.qty)
    third_run = run()
    snap_a = snapshot(third_run, "A-NEED")
    assert snap_a.on_order == 0  # received: no longer on order ...
    assert snap_a.on_hand == pytest.approx(SPECS["A-NEED"][1] + a.qty)  # ... but on hand

    with session_scope() as s:
        actions = [
            (e.action, e.target)
            for e in s.scalars(select(AuditLog).where(AuditLog.action.like("order.%")).order_by(AuditLog.id))
        ]
        edit_entry = s.scalars(select(AuditLog).where(AuditLog.action == "order.edit")).one()
    assert actions == [
        ("order.approve", f"order:{a.id}"),
        ("order.edit", f"order:{b.id}"),
        ("order.reject", f"order:{first['C-NEED'].id}"),
        ("order.receive", f"order:{a.id}"),
    ]
    assert edit_entry.details["old_qty"] == first["B-NEED"].qty and edit_entry.details["new_qty"] == 999
    assert edit_entry.details["reason"] == "supplier pallet size"


def test_an_order_approved_while_the_run_computed_gets_no_duplicate(db_url) -> None:
    seed()
    first_run = run()
    order = orders_by_sku("recommended")["A-NEED"][0]
    with session_scope() as s:
        svc.approve_order(session=s, order_id=order.id, user="planner@example.com")
        s.execute(  # pretend the next run had started before the approval
            update(PurchaseOrder).where(PurchaseOrder.id == order.id).values(approved_at=utcnow())
        )
        started = utcnow() - dt.timedelta(seconds=30)
        s.add(RecomputeRun(status="running", started_at=started, triggered_by="tests"))
        s.flush()
        fake_run = s.scalar(select(func.max(RecomputeRun.id)))
        s.execute(
            insert(SkuSnapshot),
            [
                {
                    "run_id": fake_run,
                    "sku_id": snapshot(first_run, "A-NEED").sku_id,
                    "status": "stockout_risk",
                    "recommended_qty": 40.0,
                    "order_by_periods": 0.0,
                }
            ],
        )
        result = svc.sync_recommendations(session=s, run_id=fake_run)
    assert result.created == 0 and result.skipped_approved == 1
    assert [o.status for o in orders_by_sku()["A-NEED"]] == ["approved"]


def test_invalid_transitions_raise_clear_errors(db_url) -> None:
    seed()
    run()
    orders = {code: rows[0] for code, rows in orders_by_sku("recommended").items()}
    a, b, c = orders["A-NEED"].id, orders["B-NEED"].id, orders["C-NEED"].id
    user = "planner@example.com"
    with session_scope() as s:
        with pytest.raises(UserFacingError, match="cannot be negative"):
            svc.edit_quantity(session=s, order_id=a, qty=-5, reason="typo", user=user)
        with pytest.raises(UserFacingError, match="reason"):
            svc.edit_quantity(session=s, order_id=a, qty=10, reason="  ", user=user)
        with pytest.raises(UserFacingError, match="must be a number"):
            svc.edit_quantity(session=s, order_id=a, qty="ten", reason="x", user=user)
        with pytest.raises(UserFacingError, match="above 0"):
            svc.edit_quantity(session=s, order_id=a, qty=0, reason="x", user=user)
        with pytest.raises(UserFacingError, match="no purchase order 999999"):
            svc.approve_order(session=s, order_id=999999, user=user)
        with pytest.raises(UserFacingError, match="only approved"):
            svc.receive_order(session=s, order_id=a, received_date=svc.today(), received_qty=1, user=user)
        svc.approve_order(session=s, order_id=a, user=user)
        with pytest.raises(UserFacingError, match="before its order date"):
            svc.receive_order(
                session=s, order_id=a, received_date=svc.today() - dt.timedelta(days=1), received_qty=1, user=user
            )
        with pytest.raises(UserFacingError, match="in the future"):
            svc.receive_order(
                session=s, order_id=a, received_date=svc.today() + dt.timedelta(days=3), received_qty=1, user=user
            )
        with pytest.raises(UserFacingError, match="cannot be negative"):
            svc.receive_order(session=s, order_id=a, received_date=svc.today(), received_qty=-1, user=user)
        with pytest.raises(UserFacingError, match=r"cannot reject .* it is approved"):
            svc.reject_order(session=s, order_id=a, user=user)
        svc.receive_order(session=s, order_id=a, received_date=svc.today(), received_qty=3, user=user)
        with pytest.raises(UserFacingError, match=r"cannot approve .* it is received"):
            svc.approve_order(session=s, order_id=a, user=user)
        with pytest.raises(UserFacingError, match=r"cannot edit .* it is received"):
            svc.edit_quantity(session=s, order_id=a, qty=5, reason="x", user=user)
        with pytest.raises(UserFacingError, match=r"cannot cancel .* it is recommended"):
            svc.cancel_order(session=s, order_id=b, user=user)
        with pytest.raises(UserFacingError, match="user is empty"):
            svc.approve_order(session=s, order_id=b, user="")
        with pytest.raises(UserFacingError, match="unknown order status"):
            svc.list_orders(session=s, status="shipped")
        # all or nothing: one bad id in the batch and nothing is approved
        with pytest.raises(UserFacingError, match=f"order {a} "):
            svc.approve_orders(session=s, order_ids=[b, a, c], user=user)
        s.rollback()
    with session_scope() as s:
        assert s.get(PurchaseOrder, b).status == "recommended"
        assert s.get(PurchaseOrder, c).status == "recommended"


def test_approve_many_cancel_and_totals(db_url) -> None:
    seed()
    run()
    orders = orders_by_sku("recommended")
    ids_ = [orders[c][0].id for c in ("A-NEED", "B-NEED", "G-MULT")]
    with session_scope() as s:
        done = svc.approve_orders(session=s, order_ids=ids_ + [ids_[0]], user="planner@example.com")
        assert [o.id for o in done] == ids_
        svc.cancel_order(session=s, order_id=ids_[2], user="planner@example.com", reason="supplier out of stock")
        totals = svc.order_totals(session=s)
        groups = svc.supplier_summary(session=s, status="approved")
    assert totals.counts["approved"] == 2 and totals.counts["cancelled"] == 1
    assert totals.values["approved"] == pytest.approx(orders["A-NEED"][0].value + orders["B-NEED"][0].value)
    assert [(g.supplier, g.orders) for g in groups] == [("Acme", 2)]


def test_export_approved_csv_and_zip_are_formula_safe(db_url) -> None:
    seed()
    run()
    with session_scope() as s, pytest.raises(UserFacingError, match="no approved orders"):
        svc.export_approved(session=s, per_supplier_zip=False)
    orders = orders_by_sku("recommended")
    with session_scope() as s:
        svc.approve_orders(
            session=s, order_ids=[orders[c][0].id for c in ("A-NEED", "C-NEED", "D-NEED")], user="p@example.com"
        )
    with session_scope() as s:
        name, content = svc.export_approved(session=s, per_supplier_zip=False)
        zname, zcontent = svc.export_approved(session=s, per_supplier_zip=True)
    assert name.endswith(".csv") and zname.endswith(".zip")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    assert [r["sku"] for r in rows] == ["D-NEED", "A-NEED", "C-NEED"]  # by supplier: "=cmd..." sorts first
    assert rows[0]["supplier"] == "'=cmd|' /C calc'!A0"  # neutralised: a spreadsheet shows it as text
    assert float(rows[1]["quantity"]) == orders["A-NEED"][0].qty
    assert rows[1]["po_number"] == f"PO-{orders['A-NEED'][0].id:06d}"
    with zipfile.ZipFile(io.BytesIO(zcontent)) as archive:
        names = sorted(archive.namelist())
        assert names == ["Acme.csv", "Bolt-Co.csv", "cmd-C-calc-A0.csv"]  # safe file names
        for member in names:
            assert "/" not in member and ".." not in member
        acme = list(csv.DictReader(io.StringIO(archive.read("Acme.csv").decode("utf-8"))))
    assert [r["sku"] for r in acme] == ["A-NEED"]


def test_lead_times_learned_from_a_receipts_csv(db_url, tmp_path) -> None:
    ingest = pytest.importorskip("services.ingest", reason="the CSV import (services.ingest) is not in this tree")
    seed()
    # A-NEED: 5 receipts (lead times 10..18 days, promised after 14): enough to learn; B-NEED: 2, too few.
    lines = ["sku,supplier,order_date,promised_date,received_date,quantity"]
    start = dt.date(2025, 6, 2)
    for k, lead in enumerate((10, 12, 14, 16, 18)):
        ordered = start + dt.timedelta(days=30 * k)
        lines.append(f"A-NEED,Acme,{ordered},{ordered + dt.timedelta(days=14)},{ordered + dt.timedelta(days=lead)},100")
    for k, lead in enumerate((30, 40)):
        ordered = start + dt.timedelta(days=30 * k)
        lines.append(f"B-NEED,Acme,{ordered},,{ordered + dt.timedelta(days=lead)},50")
    path = tmp_path / "receipts.csv"
    path.write_text("\n".join(lines) + "\n")
    with session_scope() as s:
        result = ingest.import_file(session=s, path=path, kind="receipts", user="planner@example.com")
    assert result.ok, result.message
    with session_scope() as s:
        info_a = svc.lead_time_stats(session=s, code="A-NEED", min_receipts=5)
        info_b = svc.lead_time_stats(session=s, code="B-NEED", min_receipts=5)
        assert svc.lead_time_stats(session=s, code="nope") is None
    assert info_a.source == "receipts" and info_a.receipts == 5
    assert info_a.mean_days == pytest.approx(14.0) and info_a.std_days == pytest.approx(np.sqrt(10.0))
    assert info_a.on_time_rate == pytest.approx(3 / 5)  # 10, 12, 14 days <= promised 14
    (acme,) = info_a.by_supplier
    assert acme.supplier == "Acme" and acme.receipts == 5 and acme.mean_delay_days == pytest.approx(0.0)
    assert info_b.source == "master" and info_b.receipts == 2 and info_b.receipts_needed == 3
    assert info_b.on_time_rate is None  # no promised dates
    run_id = run()
    snap_a, snap_b = snapshot(run_id, "A-NEED"), snapshot(run_id, "B-NEED")
    assert snap_a.lead_time_source == "receipts"
    assert snap_a.lead_time_periods == pytest.approx(14.0 / 7) and snap_a.lead_time_std_periods == pytest.approx(
        np.sqrt(10.0) / 7
    )
    assert snap_b.lead_time_source == "master" and snap_b.lead_time_periods == pytest.approx(14.0 / 7)
    assert snap_b.lead_time_std_periods == pytest.approx(2.0 / 7)


def test_recommendations_of_a_deactivated_sku_go_with_the_next_recompute(db_url) -> None:
    seed()
    run()
    assert "F-MOQ" in orders_by_sku("recommended")
    with session_scope() as s:
        s.execute(update(Sku).where(Sku.code == "F-MOQ").values(active=False))
    run()
    left = orders_by_sku("recommended")
    assert "F-MOQ" not in left and "A-NEED" in left
