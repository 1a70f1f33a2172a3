"""The planner's minimum stock (issue 24, core.min_stock) on both engines: the SKU master importer reads the
``min_stock`` column (blank keeps the stored value, 0 clears it), and a recompute floors the reorder point and the
order-up-to level with it, orders an insurance spare that has no demand, and says so in the policy reason.

The forecast is the deterministic stand-in of test_orders (mean / std of the last 26 periods)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Sku
from db.session import session_scope
from services.ingest import import_file
from tests.integration.test_orders import fast_forecast, run, seed, snapshot  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_forecast")

# code: (weekly demand, on hand, moq, order multiple, supplier, unit cost) as in test_orders
SPECS = {
    "M-SPARE": (0.0, 0.0, 0.0, 1.0, "Acme", 50.0),  # no demand at all: an insurance spare
    "M-PLAIN": (40.0, 30.0, 0.0, 1.0, "Acme", 2.0),
}


def _import(session: Session, tmp_path: Path, text: str) -> None:
    path = tmp_path / "skus.csv"
    path.write_text(text, encoding="utf-8")
    result = import_file(session=session, path=path, kind="skus")
    session.commit()
    assert result.status == "committed", result.summary()


def test_importer_reads_min_stock(session: Session, tmp_path: Path) -> None:
    _import(session, tmp_path, "sku,minimum_stock\nA,3\nB,\nC,0\n")
    stored = dict(session.execute(select(Sku.code, Sku.min_stock)).all())
    assert stored == {"A": 3.0, "B": None, "C": 0.0}
    _import(session, tmp_path, "sku,min_stock\nA,\n")  # blank: keeps the stored floor
    assert session.scalar(select(Sku.min_stock).where(Sku.code == "A")) == 3.0
    path = tmp_path / "bad.csv"
    path.write_text("sku,min_stock\nD,-1\n", encoding="utf-8")
    result = import_file(session=session, path=path, kind="skus")
    session.rollback()
    assert result.status == "rejected" and result.errors.first()[0].column == "min_stock"


def test_recompute_honours_the_floor(db_url: str) -> None:
    seed(SPECS)
    before = run()
    assert snapshot(before, "M-SPARE").recommended_qty == 0  # no demand, no floor: nothing bought
    plain_before = snapshot(before, "M-PLAIN")
    with session_scope() as s:
        s.execute(Sku.__table__.update().where(Sku.code == "M-SPARE").values(min_stock=3.0))
    run_id = run()
    spare = snapshot(run_id, "M-SPARE")
    assert spare.reorder_point == 3.0 and spare.order_up_to == 3.0 and spare.recommended_qty == 3.0
    assert "Planner's minimum stock 3: reorder point 0 -> 3" in (spare.rop_method_reason or "")
    plain = snapshot(run_id, "M-PLAIN")  # its neighbour's floor changes nothing
    assert plain.reorder_point == pytest.approx(plain_before.reorder_point)
    assert plain.recommended_qty == plain_before.recommended_qty
