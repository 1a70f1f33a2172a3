"""core/classify.py and core/health.py."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import classify, health


# --------------------------------------------------------------------------------------------------------------------
# demand pattern
# --------------------------------------------------------------------------------------------------------------------
def test_demand_pattern_classes_and_numbers() -> None:
    nan = np.nan
    hist = np.array(
        [
            [10, 11, 9, 10, 10, 11, 9, 10],  # smooth: ADI 1, CV2 small
            [0, 0, 10, 0, 0, 11, 0, 9],  # intermittent: ADI 8/3
            [1, 30, 2, 40, 1, 25, 3, 50],  # erratic: ADI 1, CV2 large
            [0, 0, 1, 0, 0, 40, 0, 2],  # lumpy
            [0, 0, 0, 0, 0, 0, 0, 0],  # no demand
            [nan, nan, nan, nan, 5, 5, 5, 5],  # not observed at the start: ADI over observed periods
        ],
        dtype=float,
    )
    p = classify.demand_pattern(history=hist)
    assert list(p.demand_class) == ["smooth", "intermittent", "erratic", "lumpy", "no_demand", "smooth"]
    assert p.adi[1] == pytest.approx(8 / 3)
    sizes = np.array([10, 11, 9.0])
    assert p.cv2[1] == pytest.approx(sizes.var() / sizes.mean() ** 2)
    assert np.isnan(p.adi[4]) and np.isnan(p.cv2[4])
    assert p.adi[5] == 1 and p.cv2[5] == 0
    np.testing.assert_array_equal(p.nonzero_count, [8, 3, 8, 3, 0, 4])


def test_demand_pattern_boundaries() -> None:
    # ADI exactly at the cut-off counts as high (>= 1.32)
    p = classify.demand_pattern(history=np.array([[5.0, 5.0, 0.0]]), adi_cutoff=1.5)
    assert p.adi[0] == 1.5 and p.demand_class[0] == "intermittent"
    with pytest.raises(ValueError, match="history"):
        classify.demand_pattern(history=np.zeros((2, 3, 4)))


def test_abc_classes() -> None:
    value = np.array([50.0, 30.0, 10.0, 5.0, 3.0, 2.0, 0.0, np.nan])
    out = classify.abc_classes(value=value)
    # cumulative share before each item: 0, .5, .8, .9, .95, .98 -> A A B B C C; zero / NaN -> C
    assert list(out) == ["A", "A", "B", "B", "C", "C", "C", "C"]
    # order of the input does not matter
    perm = np.array([3, 0, 7, 5, 1, 6, 2, 4])
    assert list(classify.abc_classes(value=value[perm])) == list(out[perm])
    assert list(classify.abc_classes(value=[0.0, 0.0])) == ["C", "C"]
    assert list(classify.abc_classes(value=[1.0, 1.0, 1.0, 1.0], split=(0.5, 0.25, 0.25))) == ["A", "A", "B", "C"]
    with pytest.raises(ValueError, match="split"):
        classify.abc_classes(value=[1.0], split=(0.8, 0.1, 0.05))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=60))
def test_abc_a_items_carry_at_least_their_share(values: list[float]) -> None:
    v = np.array(values)
    out = classify.abc_classes(value=v)
    total = v.sum()
    if total > 0:
        assert v[out == "A"].sum() >= 0.8 * total - 1e-6 * total
        assert v[out != "C"].sum() >= 0.95 * total - 1e-6 * total
        # a more valuable item never gets a worse class
        rank = {"A": 0, "B": 1, "C": 2}
        r = np.array([rank[x] for x in out])
        order = np.argsort(-v, kind="stable")
        assert np.all(np.diff(r[order]) >= 0)


def test_xyz_classes() -> None:
    cv = classify.forecast_error_cv(sigma=[1.0, 6.0, 30.0, 0.0, 1.0], demand_mean=[10.0, 10.0, 10.0, 0.0, 0.0])
    np.testing.assert_allclose(cv[:3], [0.1, 0.6, 3.0])
    assert np.isnan(cv[3]) and np.isinf(cv[4])
    assert list(classify.xyz_classes(cv=cv)) == ["X", "Y", "Z", "Z", "Z"]
    assert list(classify.xyz_classes(cv=[0.5, 1.0, 1.01])) == ["X", "Y", "Z"]
    with pytest.raises(ValueError, match="limits"):
        classify.xyz_classes(cv=[1.0], limits=(1.0, 0.5))


# --------------------------------------------------------------------------------------------------------------------
# health
# --------------------------------------------------------------------------------------------------------------------
def _health(**over: object) -> health.HealthResult:
    base = {
        "on_hand": 200.0,
        "on_order": 0.0,
        "reorder_point": 95.0,
        "safety_stock": 25.0,
        "forecast_per_period": 35.0,
        "expected_recent": 35.0,
        "demand_recent": 36.0,
        "demand_baseline": 34.0,
        "sigma": 10.0,
        "lead_time_periods": 2.0,
        "periods_since_last_sale": 0,
        "days_per_period": 7.0,
    }
    base.update(over)
    arrays = {k: np.atleast_1d(v) if k != "days_per_period" else v for k, v in base.items()}
    return health.health_status(**arrays)


def _numbers(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"-?\d[\d,]*\.?\d*", text)]


def test_stockout_risk_quotes_position_rop_cover_and_lead_time() -> None:
    r = _health(on_hand=40.0, on_order=0.0, reorder_point=95.0, forecast_per_period=46.666666)
    assert r.status[0] == "stockout_risk"
    reason = r.reason[0]
    # the reason names the rules that fired (issue 15 item 9), then their numbers
    assert reason.startswith("At or below the reorder point and cover shorter than the lead time:")
    assert "on hand 40 + on order 0 is at or below the reorder point 95" in reason
    assert "6 days of cover, below the 14-day lead time" in reason
    assert r.days_of_cover[0] == pytest.approx(6.0, rel=1e-5)


def test_short_cover_alone_is_a_stockout_risk() -> None:
    r = _health(on_hand=30.0, on_order=500.0, reorder_point=95.0)
    assert r.status[0] == "stockout_risk"
    assert r.reason[0].startswith("Cover shorter than the lead time: 6 days of cover, below the 14-day lead time")
    assert "on hand 30 + on order 500 is above the reorder point 95" in r.reason[0]
    below = _health(on_hand=100.0, on_order=0.0, reorder_point=120.0, forecast_per_period=46.666666)
    assert below.reason[0].startswith("At or below the reorder point: on hand 100 + on order 0 is at or below")
    assert "15 days of cover still outlast the 14-day lead time" in below.reason[0]


def test_surge_dead_overstock_low_velocity_normal() -> None:
    surge = _health(demand_recent=80.0, expected_recent=35.0, sigma=10.0)
    assert surge.status[0] == "surge"
    z = (80 - 35) / (10 / 2)
    assert surge.surge_z[0] == pytest.approx(z)
    assert "80/period vs forecast 35 (z = 9.0 >= 3)" in surge.reason[0]

    dead = _health(periods_since_last_sale=20, demand_recent=0.0, forecast_per_period=0.0, reorder_point=0.0)
    assert dead.status[0] == "dead_stock"
    assert "No sales for 20 periods (>= 13); 200 on hand" in dead.reason[0]

    over = _health(on_hand=2000.0)
    assert over.status[0] == "overstock"
    target = 2 + 1 + 25 / 35
    assert over.target_cover_periods[0] == pytest.approx(target)
    assert f"covers {2000 / 35:.1f} periods" in over.reason[0] and f"target {target:.1f} periods" in over.reason[0]

    low = _health(demand_recent=5.0, demand_baseline=34.0)
    assert low.status[0] == "low_velocity"
    assert "averaged 5/period, 15% of the 26-period baseline 34 (< 30%)" in low.reason[0]

    ok = _health()
    assert ok.status[0] == "normal"
    assert "Position 200 vs reorder point 95" in ok.reason[0]


def test_precedence_stockout_over_surge_and_dead_over_overstock() -> None:
    both = _health(on_hand=10.0, demand_recent=200.0)
    assert both.status[0] == "stockout_risk"
    dead_and_over = _health(on_hand=5000.0, periods_since_last_sale=30, demand_recent=0.0, forecast_per_period=0.0,
                            reorder_point=0.0)  # fmt: skip
    assert dead_and_over.status[0] == "dead_stock"
    over_and_low = _health(on_hand=5000.0, demand_recent=1.0)
    assert over_and_low.status[0] == "overstock"
    assert health.STATUSES == ("stockout_risk", "surge", "dead_stock", "overstock", "low_velocity", "normal")


def test_zero_everything_is_normal_and_vectorised() -> None:
    n = 5
    r = health.health_status(
        on_hand=np.zeros(n),
        on_order=np.zeros(n),
        reorder_point=np.zeros(n),
        safety_stock=np.zeros(n),
        forecast_per_period=np.zeros(n),
        expected_recent=np.full(n, np.nan),
        demand_recent=np.zeros(n),
        demand_baseline=np.zeros(n),
        sigma=np.zeros(n),
        lead_time_periods=np.ones(n),
        periods_since_last_sale=np.zeros(n),
        days_per_period=1.0,
    )
    assert list(r.status) == ["normal"] * n
    assert all(isinstance(x, str) and x for x in r.reason)
    # never sold, nothing in stock: not dead *stock*
    r2 = _health(on_hand=0.0, forecast_per_period=0.0, reorder_point=0.0, demand_recent=0.0, demand_baseline=0.0,
                 periods_since_last_sale=40)  # fmt: skip
    assert r2.status[0] == "normal" and "last sale 40 periods ago" in r2.reason[0]


@settings(max_examples=60, deadline=None)
@given(
    on_hand=st.floats(0, 1e4, allow_nan=False),
    on_order=st.floats(0, 1e3, allow_nan=False),
    rop=st.floats(0, 1e3, allow_nan=False),
    d=st.floats(0, 200, allow_nan=False),
    recent=st.floats(0, 400, allow_nan=False),
    base=st.floats(0, 200, allow_nan=False),
    since=st.integers(0, 60),
)
def test_every_reason_quotes_numbers(
    on_hand: float, on_order: float, rop: float, d: float, recent: float, base: float, since: int
) -> None:
    r = _health(
        on_hand=on_hand,
        on_order=on_order,
        reorder_point=rop,
        forecast_per_period=d,
        demand_recent=recent,
        demand_baseline=base,
        expected_recent=d,
        periods_since_last_sale=since,
    )
    assert r.status[0] in health.STATUSES
    nums = _numbers(r.reason[0])
    assert len(nums) >= 2, r.reason[0]
    if r.status[0] == "stockout_risk":
        assert float(health.fmt_num(rop).replace(",", "")) in nums
    if r.status[0] == "dead_stock":
        assert since in nums


def test_health_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="days_per_period"):
        _health(days_per_period=0.0)
    with pytest.raises(ValueError, match="on_order"):
        _health(on_order=np.zeros(3))
    with pytest.raises(ValueError, match="surge_z"):
        _health(surge_z=0.0)
