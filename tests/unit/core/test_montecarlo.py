"""core/montecarlo.py: the simulated service levels meet the policy formulas' targets."""

from __future__ import annotations

import numpy as np
import pytest

from core import montecarlo as mc
from core import policy

LEVELS = (0.80, 0.85, 0.90, 0.95, 0.99)
D, SD, L = 20.0, 6.0, 4


@pytest.mark.parametrize("review_period", [1, 2])
def test_rs_cycle_service_level_hits_target_within_one_point(review_period: int) -> None:
    """Order-up-to S = D (L+R) + z sigma sqrt(L+R): achieved cycle service within 1 point of every target."""
    for i, target in enumerate(LEVELS):
        s = policy.order_up_to_level(
            service_level=target, demand_mean=D, demand_std=SD, lead_time=L, review_period=review_period
        )
        res = mc.simulate_rs(
            rng=np.random.default_rng(100 + i),
            order_up_to=s,
            review_period=review_period,
            lead_time=L,
            demand_mean=D,
            demand_std=SD,
            n_periods=400,
            n_replications=500,
        )
        summary = res.summary()
        assert abs(summary["cycle_service_level"] - target) < 0.01, (target, summary)
        assert summary["cycle_service_level_ci"] < 0.005  # enough replications for a 1-point check
        # fill rate against the loss-function formula 1 - sigma G(k) / (D R)
        sigma = policy.lead_time_demand_std(demand_mean=D, demand_std=SD, lead_time=L + review_period)
        expected_fr = policy.expected_fill_rate(
            order_quantity=D * review_period,
            reorder_point=s,
            lead_time_demand_mean=D * (L + review_period),
            lead_time_demand_std=sigma,
        )
        assert abs(summary["fill_rate"] - expected_fr) < 0.005


@pytest.mark.parametrize(("d", "sd", "lt", "q"), [(D, SD, L, 100.0), (100.0, 30.0, 2, 300.0), (5.0, 2.0, 8, 10.0)])
def test_sq_with_periodic_reorder_point_hits_target_within_one_point(d: float, sd: float, lt: int, q: float) -> None:
    """(s, Q) checked once per period: the undershoot-aware reorder point meets the target within 1 point."""
    for i, target in enumerate(LEVELS):
        s = policy.reorder_point_periodic(service_level=target, demand_mean=d, demand_std=sd, lead_time=lt)
        res = mc.simulate_sq(
            rng=np.random.default_rng(200 + i),
            reorder_point=s,
            order_quantity=q,
            lead_time=lt,
            demand_mean=d,
            demand_std=sd,
            n_periods=400,
            n_replications=400,
        )
        assert abs(res.summary()["cycle_service_level"] - target) < 0.01, target


def test_continuous_review_rop_falls_short_under_periodic_checks() -> None:
    """The textbook D L + SS assumes continuous review; checked once per period it misses badly, and checking
    more often (sub-steps) closes most of the gap. This documents why the engine uses the periodic form."""
    target = 0.90
    rop = policy.reorder_point(service_level=target, demand_mean=D, demand_std=SD, lead_time=L)
    csl = []
    for m in (1, 20):
        res = mc.simulate_sq(
            rng=np.random.default_rng(7),
            reorder_point=rop,
            order_quantity=100,
            lead_time=L,
            demand_mean=D,
            demand_std=SD,
            n_periods=300,
            n_replications=300,
            steps_per_period=m,
        )
        csl.append(res.summary()["cycle_service_level"])
    assert csl[0] < target - 0.15
    assert target - 0.03 < csl[1] < target + 0.005


def test_random_lead_times_and_bootstrap_demand() -> None:
    rng = np.random.default_rng(9)
    history = rng.gamma(4.0, 5.0, 500)  # mean 20, sd 10
    s = policy.order_up_to_level(
        service_level=0.95, demand_mean=history.mean(), demand_std=history.std(), lead_time=3, lead_time_std=1.0
    )
    res = mc.simulate_rs(
        rng=rng,
        order_up_to=s,
        lead_time=3,
        lead_time_std=1.0,
        demand_samples=history,
        n_periods=300,
        n_replications=400,
    )
    assert abs(res.summary()["cycle_service_level"] - 0.95) < 0.03
    res2 = mc.simulate_sq(
        rng=np.random.default_rng(1),
        reorder_point=80,
        order_quantity=60,
        lead_time_samples=[2, 3, 3, 4],
        demand_samples=history,
        n_periods=200,
        n_replications=50,
        backorders=False,
    )
    assert np.all(res2.average_backorders == 0)
    assert np.all((res2.fill_rate > 0.5) & (res2.fill_rate <= 1))


def test_outputs_shapes_paths_and_reproducibility() -> None:
    kw = {"reorder_point": 100.0, "order_quantity": 80.0, "lead_time": 4, "demand_mean": 20.0, "demand_std": 6.0}
    a = mc.simulate_sq(rng=np.random.default_rng(5), n_periods=120, n_replications=64, n_paths=3, **kw)
    b = mc.simulate_sq(rng=np.random.default_rng(5), n_periods=120, n_replications=64, n_paths=3, **kw)
    np.testing.assert_array_equal(a.cycle_service_level, b.cycle_service_level)
    np.testing.assert_array_equal(a.paths["on_hand"], b.paths["on_hand"])
    for arr in (a.cycle_service_level, a.fill_rate, a.average_on_hand, a.stockout_periods, a.orders):
        assert arr.shape == (64,)
    assert set(a.paths) == {"on_hand", "inventory_position", "demand", "ordered"}
    assert a.paths["on_hand"].shape == (3, 120)
    # stock balance along a path: position(t) = position(t-1) - demand(t) + ordered(t)
    pos, dem, ordered = a.paths["inventory_position"][0], a.paths["demand"][0], a.paths["ordered"][0]
    np.testing.assert_allclose(pos[1:], pos[:-1] - dem[1:] + ordered[1:], atol=1e-9)
    assert np.all(pos[1:] > kw["reorder_point"])  # the (s, Q) position never stays at or below s
    assert a.stockout_periods.dtype.kind == "i" and np.all(a.stockout_periods >= 0)
    summary = a.summary()
    assert 0 < summary["cycle_service_level"] <= 1 and summary["average_on_hand"] > 0


def test_zero_demand_never_stocks_out() -> None:
    res = mc.simulate_rs(
        rng=np.random.default_rng(0), order_up_to=10, lead_time=2, demand_mean=0.0, demand_std=0.0,
        n_periods=50, n_replications=10,
    )  # fmt: skip
    assert np.all(res.fill_rate == 1) and np.all(res.stockout_periods == 0)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"order_quantity": 0}, "order_quantity"),
        ({"demand_std": -1}, "demand_std"),
        ({"lead_time": -1}, "lead_time"),
        ({"n_replications": 0}, "n_replications"),
        ({"rng": 42}, "rng"),
        ({"demand_samples": [-1.0, 2.0]}, "demand_samples"),
        ({"warmup": 1000}, "warmup"),
    ],
)
def test_rejects_bad_arguments_by_name(kwargs: dict, bad: str) -> None:
    base = {
        "rng": np.random.default_rng(0),
        "reorder_point": 10.0,
        "order_quantity": 5.0,
        "lead_time": 1,
        "demand_mean": 2.0,
        "demand_std": 1.0,
        "n_periods": 20,
        "n_replications": 5,
    }
    with pytest.raises(ValueError, match=bad):
        mc.simulate_sq(**{**base, **kwargs})
