"""core/protection.py (quantiles, loss functions, fill rate of a reorder level) and core/allocation.py (Lagrangian
allocation of a service target across items)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from core import allocation, protection
from core.backtest import replay_policy
from core.policy_levels import undershoot_moments


def _brute_loss(pmf: np.ndarray, level: float) -> float:
    k = np.arange(pmf.size)
    return float((np.maximum(k - np.floor(level + 1e-9), 0) * pmf).sum())


def test_quantiles_and_losses_match_scipy_and_brute_force() -> None:
    rng = np.random.default_rng(2)
    samples = np.sort(rng.gamma(0.5, 10, (1, 300)), axis=1)
    means = [5.0, 2.5, 3.0, 0.0, 150.0, float(samples.mean())]
    variances = [4.0, 2.5, 9.0, 0.0, 5000.0, float(samples.var())]
    methods = ["normal", "poisson", "negative_binomial", "poisson", "negative_binomial", "bootstrap"]
    dist = protection.protection_demand(method=methods, mean=means, var=variances, samples=samples)
    probs = np.tile([0.05, 0.5, 0.9, 0.99, 0.999], (6, 1))
    q = dist.quantile(probs)
    r, p = 9.0 / 6.0, 3.0 / 9.0
    r_big, p_big = 150**2 / (5000 - 150), 150 / 5000
    np.testing.assert_allclose(q[0], 5 + 2 * stats.norm.ppf(probs[0]))
    np.testing.assert_array_equal(q[1], stats.poisson.ppf(probs[1], 2.5))
    np.testing.assert_array_equal(q[2], stats.nbinom.ppf(probs[2], r, p))
    np.testing.assert_array_equal(q[3], 0.0)
    np.testing.assert_array_equal(q[4], stats.nbinom.ppf(probs[4], r_big, p_big))  # large mean: scipy path
    np.testing.assert_allclose(q[5], np.quantile(samples[0], probs[5], method="inverted_cdf"))
    levels = np.tile([0.0, 1.0, 3.0, 7.5, 40.0], (6, 1))
    loss = dist.expected_shortage(levels)
    k = np.arange(4000)
    pmfs = {1: stats.poisson.pmf(k, 2.5), 2: stats.nbinom.pmf(k, r, p), 4: stats.nbinom.pmf(k, r_big, p_big)}
    for row, pmf in pmfs.items():
        np.testing.assert_allclose(loss[row], [_brute_loss(pmf, s) for s in levels[row]], atol=1e-8)
    np.testing.assert_allclose(loss[0], [2 * stats.norm.expect(lambda x: max(x - (s - 5) / 2, 0)) for s in levels[0]],
                               atol=1e-6)  # fmt: skip
    np.testing.assert_array_equal(loss[3], 0.0)
    np.testing.assert_allclose(loss[5], [np.maximum(samples[0] - s, 0).mean() for s in levels[5]])
    with pytest.raises(ValueError, match="method"):
        protection.protection_demand(method=["gamma"], mean=[1.0], var=[1.0])
    with pytest.raises(ValueError, match="samples"):
        protection.protection_demand(method=["bootstrap"], mean=[1.0], var=[1.0])
    with pytest.raises(ValueError, match="probability"):
        dist.quantile(1.0)


def test_fill_rate_and_stock_of_a_reorder_level_agree_with_a_replay() -> None:
    """Poisson demand 2 per period, lead time 3 (an order placed at a period end is exposed to 3 periods of demand),
    the position checked every period. Protection demand X_L + U: X_L ~ Poisson(6) and U the review undershoot
    (discrete renewal excess: E[U] = (m2 / m1 - 1) / 2 = 1, Var U = 4/3). The loss-function fill rate
    1 - (n(s) - n(s + Qc)) / Qc matches a long replay of (s, S = s + 8) with Qc = S - s + E[U] = 9 and of (s, nQ),
    Q = 8, with Qc = Q; the average stock (positions uniform on (s, s + Qc], X' ~ Poisson(8) over L + R) is within
    10 %."""
    lt, lam = 3, 2.0
    rng = np.random.default_rng(7)
    reps = 200
    demand = rng.poisson(lam, (3 * reps, 400)).astype(float)
    mean_u, var_u = undershoot_moments(history=demand[:1], demand_mean=np.array([lam]), review_period=1)
    assert mean_u[0] == pytest.approx(1.0, abs=0.1) and var_u[0] == pytest.approx(4 / 3, abs=0.25)
    lead = protection.protection_demand(method=["negative_binomial"] * 3, mean=[7.0] * 3, var=[6 + 4 / 3] * 3)
    cover = protection.protection_demand(method=["poisson"] * 3, mean=[8.0] * 3, var=[8.0] * 3)
    levels = np.array([4.0, 7.0, 10.0])
    kw = {"reorder_point": np.repeat(levels, reps), "lead_time": np.full(3 * reps, float(lt))}
    for rule, qc in (
        ({"order_up_to": np.repeat(levels + 8, reps)}, 9.0),
        ({"order_quantity": np.full(3 * reps, 8.0)}, 8.0),
    ):
        fill = protection.policy_fill_rate(demand=lead, reorder_point=levels, cycle_quantity=qc)[:, 0]
        stock = protection.policy_average_stock(cover=cover, reorder_point=levels, cycle_quantity=qc)[:, 0]
        res = replay_policy(demand=demand, **kw, **rule)
        for i in range(3):
            sl = slice(i * reps, (i + 1) * reps)
            replayed = res.served[sl].sum() / res.demand[sl].sum()
            assert replayed == pytest.approx(fill[i], abs=0.01), (rule.keys(), levels[i], replayed, fill[i])
            assert res.average_on_hand_units[sl].mean() == pytest.approx(stock[i], rel=0.2, abs=0.5)
        assert fill[0] < fill[1] < fill[2]


def test_allocation_meets_the_target_at_the_least_money() -> None:
    """Three items with three levels each: the Lagrangian choice reaches the weighted target and is the cheapest
    combination found by brute force among those on the convex frontier."""
    service = np.array([[0.5, 0.9, 0.99], [0.6, 0.8, 0.97], [0.7, 0.95, 0.999]])
    money = np.array([[1.0, 3.0, 9.0], [0.5, 1.0, 6.0], [2.0, 8.0, 20.0]])
    weight = np.array([10.0, 5.0, 1.0])
    idx, price = allocation.allocate_to_target(service=service, money=money, weight=weight, target=0.88)
    got = float((service[np.arange(3), idx] * weight).sum() / weight.sum())
    assert got >= 0.88 and 0 < price < np.inf
    combos = [
        (float(money[np.arange(3), c].sum()), float((service[np.arange(3), c] * weight).sum() / weight.sum()))
        for c in itertools.product(range(3), repeat=3)
    ]
    cheapest = min(m for m, s in combos if s >= 0.88)
    assert money[np.arange(3), idx].sum() <= cheapest * 1.5  # Lagrangian: optimal up to the frontier's convex hull
    # floors: item 2 may not go below its second level
    allowed = np.ones((3, 3), dtype=bool)
    allowed[2, 0] = False
    idx2, _ = allocation.allocate_to_target(service=service, money=money, weight=weight, target=0.5, allowed=allowed)
    assert idx2[2] >= 1 and idx2[0] == 0
    # unreachable: everyone at the most service; zero weights: the cheapest
    idx3, price3 = allocation.allocate_to_target(service=service, money=money, weight=weight, target=0.9999)
    assert list(idx3) == [2, 2, 2] and price3 == 0.0
    idx4, _ = allocation.allocate_to_target(service=service, money=money, weight=np.zeros(3), target=0.9)
    assert list(idx4) == [0, 0, 0]
    with pytest.raises(ValueError, match="weight"):
        allocation.allocate_to_target(service=service, money=money, weight=[1.0, -1.0, 1.0], target=0.9)
    with pytest.raises(ValueError, match="allowed"):
        allocation.allocate_to_target(service=service, money=money, weight=weight, target=0.9,
                                      allowed=np.zeros((3, 3), dtype=bool))  # fmt: skip


def test_efficient_frontier_is_monotone_and_spans_the_levels() -> None:
    service = np.array([[0.5, 0.9, 0.99], [0.6, 0.8, 0.97]])
    money = np.array([[1.0, 3.0, 9.0], [0.5, 1.0, 6.0]])
    caps, svcs = allocation.efficient_frontier(service=service, money=money, weight=np.array([2.0, 1.0]))
    assert caps == sorted(caps) and svcs == sorted(svcs)
    assert caps[0] == pytest.approx(1.5) and caps[-1] == pytest.approx(15.0)
    assert allocation.efficient_frontier(service=service, money=money, weight=np.zeros(2)) == ([], [])
