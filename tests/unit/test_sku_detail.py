"""services.sku_detail: one SKU's detail from the snapshot, the stock projection, search and commentary fallback.

Only the pure tests here; those on a database are in tests/integration/test_sku_detail.py.
"""

from __future__ import annotations

import datetime as dt

import pytest

from services import sku_detail as sd

START = dt.date(2026, 1, 5)


def test_projection_without_and_with_an_order() -> None:
    p = sd.project_stock(
        on_hand=100, on_order=20, demand=[10] * 5, order_qty=50, order_at=2, lead_time=1, start=START, period_days=7
    )
    assert p.position == [120, 110, 100, 90, 80, 70]
    assert p.with_order == [120, 110, 100, 140, 130, 120]
    assert p.arrives_at == 3 and p.stockout_period is None
    assert p.dates[0] == START and p.dates[-1] == START + dt.timedelta(weeks=5)
    assert p.low == p.with_order == p.high  # no quantiles given: no spread


def test_projection_band_and_stockout() -> None:
    p = sd.project_stock(
        on_hand=15,
        on_order=0,
        demand=[10, 10, 10],
        demand_low=[5, 5, 5],
        demand_high=[20, 20, 20],
        order_qty=0,
        order_at=0,
        lead_time=2,
        safety_stock=4,
        reorder_point=24,
        start=START,
        period_days=7,
    )
    assert p.position == [15, 5, -5, -15] and p.stockout_period == 2
    assert p.low == [15, -5, -25, -45] and p.high == [15, 10, 5, 0]
    assert all(lo <= mid <= hi for lo, mid, hi in zip(p.low, p.with_order, p.high, strict=True))
    assert (p.safety_stock, p.reorder_point) == (4, 24)


@pytest.mark.parametrize(
    ("changes", "name"),
    [({"lead_time": -1}, "lead_time"), ({"order_at": -1}, "order_at"), ({"order_qty": -5}, "order_qty")],
)
def test_projection_rejects_bad_arguments(changes, name) -> None:
    args = {"on_hand": 1, "on_order": 0, "demand": [1], "order_qty": 0, "order_at": 0, "lead_time": 1}
    with pytest.raises(ValueError, match=name):
        sd.project_stock(**(args | changes), start=START, period_days=7)
