"""Model constraints reject bad rows on both engines."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.exc import IntegrityError

from db.models import Demand, PurchaseOrder, Sku, StockPosition, User


def _sku(session, code: str = "A-1", **kwargs) -> Sku:
    sku = Sku(code=code, name="Thing", **kwargs)
    session.add(sku)
    session.flush()
    return sku


@pytest.mark.parametrize(
    "field,value",
    [
        ("unit_cost", -1.0),
        ("unit_price", -0.5),
        ("order_cost", -3.0),
        ("lead_time_mean", -1.0),
        ("lead_time_std", -1.0),
        ("moq", -2.0),
        ("order_multiple", 0.0),
        ("service_level_target", 1.0),
        ("service_level_target", 0.0),
        ("holding_cost_rate", -0.1),
    ],
)
def test_sku_rejects_bad_values(session, field: str, value: float) -> None:
    with pytest.raises(IntegrityError):
        _sku(session, **{field: value})


def test_unique_sku_code(session) -> None:
    _sku(session, "X")
    with pytest.raises(IntegrityError):
        _sku(session, "X")


def test_unique_demand_per_period_and_nonnegative(session) -> None:
    sku = _sku(session)
    session.add(Demand(sku_id=sku.id, period=dt.date(2024, 1, 1), quantity=3))
    session.flush()
    session.add(Demand(sku_id=sku.id, period=dt.date(2024, 1, 1), quantity=4))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    sku = _sku(session, "B")
    session.add(Demand(sku_id=sku.id, period=dt.date(2024, 1, 8), quantity=-1))
    with pytest.raises(IntegrityError):
        session.flush()


def test_demand_needs_existing_sku(session) -> None:
    session.add(Demand(sku_id=987654, period=dt.date(2024, 1, 1), quantity=1))
    with pytest.raises(IntegrityError):
        session.flush()


def test_deleting_sku_cascades(session) -> None:
    sku = _sku(session)
    session.add_all(
        [
            Demand(sku_id=sku.id, period=dt.date(2024, 1, 1), quantity=1),
            StockPosition(sku_id=sku.id, as_of=dt.date(2024, 1, 1), on_hand=1, on_order=0),
        ]
    )
    session.flush()
    session.delete(sku)
    session.flush()
    assert session.query(Demand).count() == 0
    assert session.query(StockPosition).count() == 0


def test_stock_and_orders_nonnegative(session) -> None:
    sku = _sku(session)
    session.add(StockPosition(sku_id=sku.id, as_of=dt.date(2024, 1, 1), on_hand=-5, on_order=0))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    sku = _sku(session, "C")
    session.add(PurchaseOrder(sku_id=sku.id, qty=5, status="shipped"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_user_role_checked(session) -> None:
    session.add(User(email="x@example.com", password_hash="h", role="superuser"))
    with pytest.raises(IntegrityError):
        session.flush()
