"""Issue 24: the planner's minimum stock (core.min_stock) floors the reorder point and order-up-to level, orders a
SKU without forecast demand (an insurance spare), keeps a stopped seller from the phase-out, and says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import portfolio as pf
from core.min_stock import apply_min_stock, min_stock_floor
from core.replenishment import ReplenishmentPolicy


def _pol(n: int, **over: object) -> ReplenishmentPolicy:
    z = np.zeros(n)
    base = {
        "reorder_point": np.array([5.0, 0.0, 8.0])[:n],
        "order_up_to": np.array([9.0, 0.0, 12.0])[:n],
        "safety_stock": z,
        "method": np.array(["normal"] * n, dtype=object),
        "reason": np.array(["rop reason"] * n, dtype=object),
        "eoq": z,
        "lot": np.array([4.0, 0.0, 4.0])[:n],
        "recommended_qty": z,
        "order_by_periods": np.full(n, np.nan),
        "newsvendor_qty": np.full(n, np.nan),
        "critical_ratio": np.full(n, np.nan),
        "order_policy": np.array(["reorder_point"] * n, dtype=object),
        "lead_time_demand_std": z,
        "expected_fill_rate": np.full(n, np.nan),
        "annual_demand": z,
        "season_demand": z,
        "service_probability": z,
        "model_fill_rate": z,
    }
    base.update(over)
    return ReplenishmentPolicy(**base)


def test_floor_lifts_levels_orders_an_insurance_spare_and_says_so() -> None:
    pol = _pol(3)
    floor = min_stock_floor([7.0, 2.0, 3.0], 3)
    out = apply_min_stock(
        floor, pol, on_hand=np.array([6.0, 0.0, 20.0]), on_order=np.zeros(3), moq=np.zeros(3), order_multiple=np.ones(3)
    )
    assert out.reorder_point.tolist() == [7.0, 2.0, 8.0] and out.order_up_to.tolist() == [9.0, 2.0, 12.0]
    assert out.recommended_qty.tolist() == [4.0, 2.0, 0.0]  # max(lot, S - p): 4 and 2; the third is above s
    assert out.reason[0] == "rop reason; Planner's minimum stock 7: reorder point 5 -> 7, order-up-to 9 -> 9"
    assert "no effect" in out.reason[2]
    assert pol.reorder_point.tolist() == [5.0, 0.0, 8.0]  # the input is not modified


def test_no_floor_is_a_no_op_and_bad_shapes_are_refused() -> None:
    pol = _pol(3)
    assert np.isnan(min_stock_floor([np.nan, 0.0, -1.0], 3)).all()
    kw = {"on_hand": np.zeros(3), "on_order": np.zeros(3), "moq": np.zeros(3), "order_multiple": np.ones(3)}
    assert apply_min_stock(min_stock_floor(None, 3), pol, **kw) is pol
    with pytest.raises(ValueError, match="min_stock"):
        min_stock_floor([1.0, 2.0], 3)


def test_engine_keeps_a_floored_stopped_seller_and_stocks_a_never_sold_part() -> None:
    t = 60
    history = np.vstack([np.r_[np.full(t - 20, 10.0), np.zeros(20)], np.zeros(t), np.zeros(t)])
    sku = pd.DataFrame(
        {
            "category": "c", "unit_cost": 2.0, "unit_price": 5.0, "salvage_value": 0.0, "holding_cost_rate": 0.2,
            "order_cost": 5.0, "lead_time_mean_days": 14.0, "lead_time_std_days": 0.0, "moq": 0.0,
            "order_multiple": 1.0, "service_level": 0.95, "on_hand": 0.0, "on_order": 0.0,
            "min_stock": [3.0, 2.0, np.nan],
        }
    )  # fmt: skip
    dates = pd.date_range("2024-01-01", periods=t, freq="W-MON")
    snap = pf.compute_batch(
        pf.BatchInputs(["A", "B", "C"], history, dates, "weekly", sku), settings=pf.EngineSettings()
    ).snapshot
    a, b, c = (snap.iloc[i] for i in range(3))
    assert a["order_policy"] == "reorder_point" and a["reorder_point"] >= 3.0 and a["recommended_qty"] >= 3.0
    assert b["reorder_point"] == 2.0 and b["order_up_to"] == 2.0 and b["recommended_qty"] == 2.0
    assert c["recommended_qty"] == 0.0
    without = pf.compute_batch(
        pf.BatchInputs(["A"], history[:1], dates, "weekly", sku.drop(columns="min_stock").iloc[:1]),
        settings=pf.EngineSettings(),
    ).snapshot.iloc[0]
    assert without["order_policy"] == "phase_out"  # the floor, not the history, kept A
