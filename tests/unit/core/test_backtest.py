"""core/backtest.py: policy replay through a demand matrix (hand example, conservation, MOQ, Monte Carlo agreement)."""

from __future__ import annotations

import numpy as np
import pytest

from core import backtest as bt
from core import montecarlo as mc
from core import policy


def test_hand_worked_s_nq_example() -> None:
    """s = 4, Q = 5, L = 1, start s + Q = 9, demand 3 0 4 2 5 1 (worked by hand):

    t0: 9 - 3 = 6 (position 6 > 4). t1: 6. t2: 6 - 4 = 2 <= 4: order 1 lot (5), due start of t4; position 7.
    t3: 2 - 2 = 0, position 5. t4: +5 = 5, demand 5 served, net 0, position 0: order 5 (due t6, after the replay).
    t5: demand 1, nothing on hand: 1 short (backordered), net -1, position 4 <= 4: order 5 (n = floor(0/5)+1 = 1).
    Served 14 of 15: fill 14/15; one stockout period in six; on hand 6 6 2 0 0 0 -> mean 14/6; three orders.
    """
    res = bt.replay_policy(
        demand=[[3, 0, 4, 2, 5, 1]],
        reorder_point=[4],
        order_quantity=[5],
        lead_time=[1],
        unit_cost=[2.0],
        keep_paths=True,
    )
    assert res.periods == 6
    np.testing.assert_allclose(res.paths["on_hand"][0], [6, 6, 2, 0, 0, -1])
    np.testing.assert_allclose(res.paths["ordered"][0], [0, 0, 5, 0, 5, 5])
    np.testing.assert_allclose(res.paths["arrived"][0], [0, 0, 0, 0, 5, 0])
    np.testing.assert_allclose(res.paths["position"][0], [6, 6, 7, 5, 5, 9])
    assert res.fill_rate[0] == pytest.approx(14 / 15)
    assert res.cycle_service_level[0] == pytest.approx(5 / 6)
    assert res.stockout_periods[0] == 1 and res.orders[0] == 3
    assert res.average_on_hand_units[0] == pytest.approx(14 / 6)
    assert res.average_on_hand_value[0] == pytest.approx(2 * 14 / 6)
    assert res.average_backorders[0] == pytest.approx(1 / 6)
    assert res.units_short_end[0] == 1 and res.ending_on_order[0] == 10
    summary = bt.summarise(res)
    assert summary.fill_rate == pytest.approx(14 / 15) and summary.orders == 3
    assert summary.as_dict()["average_inventory_value"] == pytest.approx(28 / 6)


def test_hand_worked_s_big_s_lost_sales() -> None:
    """(s, S) = (2, 6), L = 0, lost sales, start S = 6; demand 5 4 1 7.

    t0: 6 - 5 = 1 <= 2: order 6 - 1 = 5, arrives at the start of t1. t1: 6 - 4 = 2 <= 2: order 4. t2: 6 - 1 = 5.
    t3: 5 of 7 served, 2 lost, net 0: order 6. Fill 15/17, on hand 1 2 5 0.
    """
    res = bt.replay_policy(
        demand=[[5, 4, 1, 7]], reorder_point=[2], order_up_to=[6], lead_time=[0], backorders=False, keep_paths=True
    )
    np.testing.assert_allclose(res.paths["on_hand"][0], [1, 2, 5, 0])
    np.testing.assert_allclose(res.paths["ordered"][0], [5, 4, 0, 6])
    assert res.served[0] == 15 and res.units_short_end[0] == 2
    assert res.fill_rate[0] == pytest.approx(15 / 17)
    assert np.isnan(res.average_on_hand_value[0])  # no unit cost given


def test_engine_rule_lot_or_up_to_and_review_period() -> None:
    """With both S and Q the order is max(Q, S - position); with R = 2 only odd periods (ends of 2, 4, ...) review."""
    demand = np.full((1, 6), 4.0)
    res = bt.replay_policy(
        demand=demand,
        reorder_point=[10],
        order_up_to=[14],
        order_quantity=[8],
        lead_time=[2],
        review_period=2,
        keep_paths=True,
    )
    ordered = res.paths["ordered"][0]
    assert np.all(ordered[[0, 2, 4]] == 0)
    # start max(S, s + Q) = 18; t1: 18 - 8 = 10 <= 10 -> max(8, 14 - 10) = 8
    assert res.paths["on_hand"][0, 0] == 14 and ordered[1] == 8


def test_conservation_of_units_backorders_and_lost_sales() -> None:
    rng = np.random.default_rng(3)
    n, periods = 40, 30
    demand = rng.poisson(rng.uniform(0.2, 20, n)[:, None], (n, periods)).astype(float)
    s = rng.uniform(0, 60, n)
    kw = {
        "demand": demand,
        "reorder_point": s,
        "order_up_to": np.where(np.arange(n) % 2 == 0, s + rng.uniform(0, 40, n), np.nan),
        "order_quantity": rng.uniform(1, 30, n),
        "lead_time": rng.integers(0, 6, n).astype(float),
        "lead_time_std": rng.uniform(0, 2, n),
        "moq": rng.integers(0, 10, n).astype(float),
        "order_multiple": rng.integers(1, 4, n).astype(float),
        "keep_paths": True,
    }
    for backorders in (True, False):
        res = bt.replay_policy(**kw, backorders=backorders, rng=np.random.default_rng(1))
        p = res.paths
        start = p["on_hand"][:, 0] - p["arrived"][:, 0] + (p["demand"][:, 0] if backorders else p["served"][:, 0])
        used = p["demand"].sum(axis=1) if backorders else p["served"].sum(axis=1)
        np.testing.assert_allclose(start + p["arrived"].sum(axis=1) - used, res.ending_net, atol=1e-9)
        np.testing.assert_allclose(p["ordered"].sum(axis=1), p["arrived"].sum(axis=1) + res.ending_on_order, atol=1e-9)
        np.testing.assert_allclose(res.units_ordered, p["ordered"].sum(axis=1))
        np.testing.assert_allclose(res.served, p["served"].sum(axis=1))
        assert np.all(p["served"] <= p["demand"] + 1e-12)
        if backorders:
            assert np.all(res.units_short_end <= res.demand - res.served + 1e-9)  # open backorders were unmet once
        else:
            assert np.all(p["on_hand"] >= -1e-12)
            np.testing.assert_allclose(res.units_short_end, res.demand - res.served)


def test_moq_and_order_multiple_are_applied() -> None:
    demand = np.array([[3.0] * 10, [1.0] * 10])
    res = bt.replay_policy(
        demand=demand,
        reorder_point=[5, 2],
        order_up_to=[8, 3],
        lead_time=[1, 1],
        moq=[25, 0],
        order_multiple=[10, 4],
        keep_paths=True,
    )
    ordered = res.paths["ordered"]
    placed0 = ordered[0][ordered[0] > 0]
    placed1 = ordered[1][ordered[1] > 0]
    assert placed0.size and np.all(placed0 >= 25) and np.all(placed0 % 10 == 0)  # MOQ 25 -> 30
    assert placed1.size and np.all(placed1 % 4 == 0)


def test_never_orders_with_nan_reorder_point_and_zero_demand_fill_is_nan() -> None:
    res = bt.replay_policy(
        demand=[[0, 0, 0], [1, 1, 1]], reorder_point=[np.nan, np.nan], order_up_to=[0, 2], lead_time=[0, 0]
    )
    assert np.all(res.orders == 0)
    assert np.isnan(res.fill_rate[0]) and res.cycle_service_level[0] == 1
    assert res.served[1] == 2  # starts at S = 2, never reorders


def test_vectorised_equals_one_by_one() -> None:
    rng = np.random.default_rng(11)
    n = 12
    demand = rng.gamma(0.6, 8, (n, 20)) * (rng.random((n, 20)) < 0.6)
    kw = {
        "reorder_point": rng.uniform(0, 30, n),
        "order_up_to": rng.uniform(10, 50, n),
        "order_quantity": rng.uniform(0, 15, n),
        "lead_time": rng.uniform(0, 4, n),
        "unit_cost": rng.uniform(1, 9, n),
        "moq": rng.integers(0, 5, n).astype(float),
    }
    whole = bt.replay_policy(demand=demand, **kw)
    for i in range(n):
        one = bt.replay_policy(demand=demand[i : i + 1], **{k: v[i : i + 1] for k, v in kw.items()})
        assert one.served[0] == pytest.approx(whole.served[i])
        assert one.average_on_hand_value[0] == pytest.approx(whole.average_on_hand_value[i])
        assert one.orders[0] == whole.orders[i]


@pytest.mark.parametrize("review_period", [1, 3])
def test_agrees_with_monte_carlo_on_stationary_normal_demand(review_period: int) -> None:
    """Replaying normal demand through (R, S) and (s, nQ) gives Monte Carlo's fill rate and average on hand (same
    start, no warm-up, same timing): within sampling error. Monte Carlo orders fractional units, so the replay's
    order multiple is made negligible (its default rounds orders up to whole units, as the engine does)."""
    whole = 1e-9
    d, sd, lt, reps, periods = 20.0, 6.0, 3, 400, 200
    big_s = float(
        policy.order_up_to_level(
            service_level=0.9, demand_mean=d, demand_std=sd, lead_time=lt, review_period=review_period
        )
    )
    demand = np.maximum(d + sd * np.random.default_rng(21).standard_normal((reps, periods)), 0.0)
    rep = bt.replay_policy(
        demand=demand,
        reorder_point=np.full(reps, big_s),
        order_up_to=np.full(reps, big_s),
        lead_time=np.full(reps, lt),
        review_period=review_period,
        order_multiple=whole,
    )
    sim = mc.simulate_rs(
        rng=np.random.default_rng(22),
        order_up_to=big_s,
        review_period=review_period,
        lead_time=lt,
        demand_mean=d,
        demand_std=sd,
        n_periods=periods,
        n_replications=reps,
        warmup=0,
        initial_position=big_s,
    )
    fill_replay = rep.served.sum() / rep.demand.sum()
    assert fill_replay == pytest.approx(sim.summary()["fill_rate"], abs=0.004)
    assert rep.average_on_hand_units.mean() == pytest.approx(sim.average_on_hand.mean(), rel=0.02)
    assert rep.stockout_periods.mean() == pytest.approx(sim.stockout_periods.mean(), rel=0.05)
    # and the loss-function formula of the (R, S) fill rate
    sigma = policy.lead_time_demand_std(demand_mean=d, demand_std=sd, lead_time=lt + review_period)
    expected = policy.expected_fill_rate(
        order_quantity=d * review_period,
        reorder_point=big_s,
        lead_time_demand_mean=d * (lt + review_period),
        lead_time_demand_std=sigma,
    )
    assert fill_replay == pytest.approx(expected, abs=0.01)
    if review_period == 1:
        s = float(policy.reorder_point_periodic(service_level=0.9, demand_mean=d, demand_std=sd, lead_time=lt))
        rep_sq = bt.replay_policy(
            demand=demand,
            reorder_point=np.full(reps, s),
            order_quantity=np.full(reps, 100.0),
            lead_time=np.full(reps, lt),
            order_multiple=whole,
        )
        sim_sq = mc.simulate_sq(
            rng=np.random.default_rng(23),
            reorder_point=s,
            order_quantity=100.0,
            lead_time=lt,
            demand_mean=d,
            demand_std=sd,
            n_periods=periods,
            n_replications=reps,
            warmup=0,
        )
        assert rep_sq.served.sum() / rep_sq.demand.sum() == pytest.approx(sim_sq.summary()["fill_rate"], abs=0.004)
        assert rep_sq.average_on_hand_units.mean() == pytest.approx(sim_sq.average_on_hand.mean(), rel=0.02)


def test_random_lead_times_reproducible_and_need_a_generator() -> None:
    demand = np.full((5, 40), 3.0)
    kw = {
        "demand": demand,
        "reorder_point": np.full(5, 9.0),
        "order_quantity": np.full(5, 6.0),
        "lead_time": np.full(5, 2.0),
        "lead_time_std": np.full(5, 1.5),
    }
    a = bt.replay_policy(**kw, rng=np.random.default_rng(4))
    b = bt.replay_policy(**kw, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(a.served, b.served)
    with pytest.raises(ValueError, match="rng"):
        bt.replay_policy(**kw)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"demand": [1, 2, 3]}, "demand"),
        ({"lead_time": [-1.0]}, "lead_time"),
        ({"lead_time": [1.0, 2.0]}, "lead_time"),
        ({"review_period": 0}, "review_period"),
        ({"review_period": 1.5}, "review_period"),
        ({"order_quantity": None}, "order_up_to or order_quantity"),
        ({"moq": [-2.0]}, "moq"),
        ({"demand": [[1.0, np.inf]]}, "demand"),
        ({"initial_on_hand": [np.nan]}, "initial_on_hand"),
    ],
)
def test_rejects_bad_arguments_by_name(kwargs: dict, bad: str) -> None:
    base = {"demand": [[1.0, 2.0]], "reorder_point": [1.0], "order_quantity": [2.0], "lead_time": [1.0]}
    with pytest.raises(ValueError, match=bad):
        bt.replay_policy(**{**base, **kwargs})
