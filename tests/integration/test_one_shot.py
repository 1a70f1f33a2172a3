"""One-shot (seasonal) SKUs and reject / cancel reasons on both engines (issue 10).

- the SKU master importer's ``one_shot`` column (good and bad booleans), the Data page's record editor, the CSV
  export round trip;
- a recompute orders a one-shot SKU with the newsvendor quantity and says so in the order's reason, while an
  identical SKU without the flag keeps the reorder-point order;
- reject and cancel keep the planner's reason on the order (and in the audit log).

The forecast is the deterministic stand-in of test_orders (mean / std of the last 26 periods).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from scipy.stats import norm
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditLog, PurchaseOrder, Sku
from db.session import session_scope
from services import datatables as dtab
from services import orders as svc
from services.ingest import ImportOptions, import_file
from services.sku_detail import sku_detail
from tests.integration.test_orders import fast_forecast, orders_by_sku, run, seed, snapshot  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_forecast")
PLANNER = "planner@example.com"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "skus.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _flags(session: Session) -> dict[str, bool]:
    return dict(session.execute(select(Sku.code, Sku.one_shot)).all())


def test_importer_reads_one_shot_booleans(session: Session, tmp_path: Path) -> None:
    good = "sku,unit_price,One Shot\nA,1,true\nB,1,YES\nC,1,1\nD,1,y\nE,1,False\nF,1, no \nG,1,0\nH,1,N\nI,1,\n"
    result = import_file(session=session, path=_write(tmp_path, good), kind="skus")
    session.commit()
    assert result.status == "committed", result.summary()
    assert _flags(session) == dict(zip("ABCDEFGHI", [True] * 4 + [False] * 5, strict=True))
    # an existing SKU keeps its flag when the column is absent or the cell blank; a new one defaults to false
    result = import_file(session=session, path=_write(tmp_path, "sku,unit_price,one_shot\nA,2,\nJ,2,\n"), kind="skus")
    session.commit()
    assert result.status == "committed"
    result = import_file(session=session, path=_write(tmp_path, "sku,unit_price\nB,3\n"), kind="skus")
    session.commit()
    flags = _flags(session)
    assert flags["A"] is True and flags["B"] is True and flags["J"] is False


def test_importer_rejects_other_values_naming_line_column_and_reason(session: Session, tmp_path: Path) -> None:
    bad = "sku,one_shot\nK,yes\nL,maybe\nM,2\nN,no\n"
    result = import_file(session=session, path=_write(tmp_path, bad), kind="skus")
    session.rollback()
    assert result.status == "rejected"
    errors = result.errors.first()
    assert [(e.line, e.column, e.value) for e in errors] == [(3, "one_shot", "maybe"), (4, "one_shot", "2")]
    assert all("not a yes/no value" in e.reason for e in errors)
    assert "line 3, column 'one_shot': not a yes/no value" in str(errors[0])
    result = import_file(
        session=session, path=_write(tmp_path, bad), kind="skus", options=ImportOptions(on_error="skip")
    )
    session.commit()
    assert result.status == "committed" and result.rows_rejected == 2
    assert _flags(session) == {"K": True, "N": False}


def test_record_editor_and_export_round_trip(session: Session, tmp_path: Path) -> None:
    sku = dtab.save_sku(session=session, values={"sku": "P1", "one_shot": "Yes"}, user=PLANNER)
    assert sku.one_shot is True
    dtab.save_sku(session=session, values={"one_shot": False}, user=PLANNER, sku_id=sku.id)  # the grid's checkbox
    assert sku.one_shot is False
    with pytest.raises(dtab.RecordError, match="one_shot: not a yes/no value"):
        dtab.save_sku(session=session, values={"one_shot": "sometimes"}, user=PLANNER, sku_id=sku.id)
    dtab.save_sku(session=session, values={"one_shot": True}, user=PLANNER, sku_id=sku.id)
    dtab.save_sku(session=session, values={"sku": "P2"}, user=PLANNER)
    session.commit()
    rows = {r["sku"]: r for r in dtab.sku_rows(session=session)}
    assert rows["P1"]["one_shot"] is True and rows["P2"]["one_shot"] is False
    path = tmp_path / "export.csv"
    dtab.export_table(session=session, table="skus", target=path)
    header, *lines = path.read_text(encoding="utf-8").splitlines()
    # the supply columns follow one_shot in the SKU master, then the planner's minimum stock (issue 24) and the item
    # (issue 21); the incomplete-master-data note comes last
    assert header.split(",")[-6:] == [
        "one_shot", "resource", "capacity_per_unit", "min_stock", "item", "incomplete_master_data"
    ]  # fmt: skip
    session.execute(Sku.__table__.update().values(one_shot=False))  # forget the flags, then import the export back
    session.commit()
    result = import_file(session=session, path=path, kind="skus")
    session.commit()
    assert result.status == "committed", result.summary()
    assert _flags(session) == {"P1": True, "P2": False}


# code: (weekly demand, on hand, moq, order multiple, supplier, unit cost) as in test_orders
ONE_SHOT_SPECS = {
    "S-PLAIN": (40.0, 30.0, 0.0, 1.0, "Acme", 2.0),
    "S-SEASON": (40.0, 30.0, 0.0, 12.0, "Acme", 2.0),
    "S-COVERED": (40.0, 5_000.0, 0.0, 1.0, "Acme", 2.0),
}


def test_recompute_orders_one_shot_skus_with_the_newsvendor(db_url: str) -> None:
    seed(ONE_SHOT_SPECS)
    first = run()
    plain_before = orders_by_sku()["S-PLAIN"][0]
    with session_scope() as s:
        s.execute(Sku.__table__.update().where(Sku.code.in_(["S-SEASON", "S-COVERED"])).values(one_shot=True))
    run_id = run()
    orders = orders_by_sku("recommended")
    assert "S-COVERED" not in orders  # the position covers the newsvendor quantity: no order
    covered = snapshot(run_id, "S-COVERED")
    assert covered.recommended_qty == 0 and covered.newsvendor_qty < covered.inventory_position
    # the plain SKU keeps its reorder-point order, unchanged by its neighbours' flag
    plain = orders["S-PLAIN"][0]
    assert plain.qty == plain_before.qty == snapshot(first, "S-PLAIN").recommended_qty
    assert plain.reason.startswith("Position ") and "newsvendor" not in plain.reason.lower()
    # the one-shot SKU: newsvendor quantity by hand (price 4, cost 2, salvage 0, holding 25 % over 13 weeks)
    snap = snapshot(run_id, "S-SEASON")
    horizon = 13
    cu, co = 4.0 - 2.0, 2.0 + 2.0 * 0.25 * horizon * 7 / 365.25
    ratio = cu / (cu + co)
    q_star = snap.forecast_per_period * horizon + snap.sigma * math.sqrt(horizon) * norm.ppf(ratio)
    assert snap.newsvendor_qty == pytest.approx(q_star, rel=1e-9)
    need = q_star - snap.inventory_position
    order = orders["S-SEASON"][0]
    assert order.qty == math.ceil(need / 12 - 1e-9) * 12 == snap.recommended_qty
    # order now: the start of the first forecast period (one week after the last data week), as on the SKU page
    assert order.order_by == snap_date(run_id) + dt.timedelta(days=7)
    with session_scope() as s:
        detail = sku_detail(session=s, code="S-SEASON")
    assert detail.order_by_date == order.order_by == detail.forecast[0]["period"] == detail.projection.dates[0]
    assert order.reason.startswith(f"Newsvendor one-shot buy: critical ratio {ratio:.2f}, horizon demand ")
    assert f"over {horizon} weeks" in order.reason and f"rounded to multiple 12 -> {order.qty:,.0f}." in order.reason


def snap_date(run_id: int):
    from db.models import RecomputeRun

    with session_scope() as s:
        return s.get(RecomputeRun, run_id).data_as_of


def test_reject_and_cancel_keep_the_reason(db_url: str) -> None:
    seed(ONE_SHOT_SPECS)
    run()
    orders = orders_by_sku("recommended")
    with session_scope() as s:
        rejected = svc.reject_order(
            session=s, order_id=orders["S-PLAIN"][0].id, user=PLANNER, reason="  supplier   on holiday "
        )
        approved = svc.approve_order(session=s, order_id=orders["S-SEASON"][0].id, user=PLANNER)
    assert rejected.status == "rejected" and rejected.status_reason == "supplier on holiday"
    with session_scope() as s:
        cancelled = svc.cancel_order(session=s, order_id=approved.id, user=PLANNER, reason="season cancelled")
        with pytest.raises(svc.UserFacingError, match="too long"):
            svc.reject_orders(session=s, order_ids=[approved.id], user=PLANNER, reason="x" * (svc.MAX_REASON + 1))
    assert cancelled.status_reason == "season cancelled"
    with session_scope() as s:
        stored = {o.id: o.status_reason for o in s.scalars(select(PurchaseOrder))}
        history = {o.id: o.status_reason for o in svc.list_orders(session=s, status=svc.CLOSED_STATUSES)}
        audit = {
            e.target: e.details["reason"]
            for e in s.scalars(select(AuditLog).where(AuditLog.action.in_(("order.reject", "order.cancel"))))
        }
    assert stored[rejected.id] == history[rejected.id] == audit[f"order:{rejected.id}"] == "supplier on holiday"
    assert stored[approved.id] == history[approved.id] == audit[f"order:{approved.id}"] == "season cancelled"
    run()  # the need remains: recommended again
    fresh = orders_by_sku("recommended")["S-PLAIN"][0]
    with session_scope() as s:  # no reason given: none stored
        assert svc.reject_order(session=s, order_id=fresh.id, user=PLANNER, reason=" ").status_reason is None
