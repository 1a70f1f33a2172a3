"""core.supply / core.supply_lp: chase, level and the optimal LP -- a hand-checked two-period LP, capacity held in
every period by every strategy, the optimum no dearer than chase and level and short no more than chase, a crunch
month, allocation by margin, and the fall-back to chase (too large, time limit, infeasible)."""

from __future__ import annotations

import numpy as np
import pytest

from core import supply_lp
from core.supply import PlanProblem, capacity_violation, chase_plan, evaluate, fill, level_plan
from core.supply_lp import LpFailedError, lp_size, optimal_plan


def problem(**overrides) -> PlanProblem:
    """One SKU on one resource over two periods (the hand-checked case) unless overridden."""
    values = {
        "demand": [[10.0, 30.0]],
        "receipts": [[0.0, 0.0]],
        "on_hand": [0.0],
        "target": [[0.0, 0.0]],
        "resource": np.array([0]),
        "capacity_per_unit": [1.0],
        "capacity": [[15.0, 20.0]],
        "overtime_capacity": [[5.0, 5.0]],
        "regular_cost": [[1.0, 1.0]],
        "overtime_cost": [[3.0, 3.0]],
        "holding_cost": [0.5],
        "shortage_cost": [2.0],
        "below_target_cost": [0.0],
    }
    values.update(overrides)
    return PlanProblem(**values)


# --- the hand-checked two-period LP -----------------------------------------------------------------------------------


def test_two_period_lp_by_hand() -> None:
    """Demand 10 then 30; capacity 15 then 20, overtime 5 each at 3 per unit, regular 1, holding 0.5, lost margin 2.

    By hand: a unit for period 2 costs 1 + 0.5 = 1.5 made in period 1 on regular time (5 spare units), 1 on period
    2's regular time (20), 3 on overtime, 2 lost. Chase makes 10, then 20 + 5 overtime and loses 5: 30 + 15 + 10 =
    55. Level (rate 20) builds the 5 spare units ahead, then 20 + 5 overtime: 35 + 15 + 2.5 = 52.5, nothing lost.
    The optimum builds 5 ahead, makes 20 and loses the last 5 (cheaper than overtime; the service floor allows the
    5 chase loses): 35 + 2.5 + 10 = 47.5.
    """
    p = problem()
    chase, level, best = chase_plan(p), level_plan(p), optimal_plan(p)
    assert chase.supply.tolist() == [[10.0, 25.0]]
    assert chase.costs.total_cost == pytest.approx(55.0)
    assert (chase.costs.overtime_cost, chase.costs.shortage_units) == (pytest.approx(15.0), pytest.approx(5.0))
    assert level.supply.tolist() == [[15.0, 25.0]]
    assert level.costs.total_cost == pytest.approx(52.5)
    assert level.costs.shortage_units == pytest.approx(0.0)
    assert best.strategy == "optimal" and best.message == ""
    np.testing.assert_allclose(best.supply, [[15.0, 20.0]], atol=1e-6)
    np.testing.assert_allclose(best.inventory, [[5.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(best.unmet, [[0.0, 5.0]], atol=1e-6)
    assert best.costs.regular_cost == pytest.approx(35.0)
    assert best.costs.overtime_cost == pytest.approx(0.0, abs=1e-6)
    assert best.costs.holding_cost == pytest.approx(2.5)
    assert best.costs.shortage_cost == pytest.approx(10.0)
    assert best.costs.total_cost == pytest.approx(47.5)
    assert best.solver["variables"] == 4 * 2 + 2 == lp_size(p)[0]


def test_with_a_high_margin_the_optimum_runs_overtime_instead_of_losing_sales() -> None:
    """Lost margin 10 > overtime 3: the optimum builds 5 ahead and runs 5 overtime in period 2 (35 + 2.5 + 15)."""
    best = optimal_plan(problem(shortage_cost=[10.0]))
    np.testing.assert_allclose(best.supply, [[15.0, 25.0]], atol=1e-6)
    assert best.costs.total_cost == pytest.approx(52.5)
    assert best.costs.shortage_units == pytest.approx(0.0, abs=1e-6)


def test_target_inventory_is_rebuilt_and_kept_to_the_end() -> None:
    """A target of 4: chase makes demand + 4 in period 1; the optimum keeps the target to the end (the rebuild cost
    of the last period stops it from running the target down)."""
    p = problem(
        demand=[[10.0, 10.0]],
        target=[[4.0, 4.0]],
        capacity=[[30.0, 30.0]],
        shortage_cost=[10.0],
        below_target_cost=[1.0],
    )
    chase, best = chase_plan(p), optimal_plan(p)
    assert chase.supply.tolist() == [[14.0, 10.0]]
    assert chase.inventory.tolist() == [[4.0, 4.0]]
    np.testing.assert_allclose(best.inventory, [[4.0, 4.0]], atol=1e-6)
    assert best.costs.total_cost <= chase.costs.total_cost + 1e-6


# --- properties on random problems ------------------------------------------------------------------------------------


def random_problem(seed: int, skus: int = 14, periods: int = 6, resources: int = 2) -> PlanProblem:
    rng = np.random.default_rng(seed)
    resource = rng.integers(-1, resources, skus)
    cpu = rng.uniform(0.5, 2.0, skus)
    season = 1 + 0.6 * np.sin(2 * np.pi * np.arange(periods) / periods + rng.uniform(0, 6, skus)[:, None])
    demand = rng.uniform(5, 60, skus)[:, None] * season
    load = np.zeros((resources, periods))
    on = resource >= 0
    np.add.at(load, resource[on], cpu[on, None] * demand[on])
    capacity = load.mean(axis=1, keepdims=True) * rng.uniform(0.6, 1.1, (resources, periods))
    capacity[0, rng.integers(periods)] = np.inf  # a period without a known capacity
    margin = rng.uniform(0.5, 8.0, skus)
    return PlanProblem(
        demand=demand,
        receipts=np.where(rng.random((skus, periods)) < 0.15, rng.uniform(5, 40, (skus, periods)), 0.0),
        on_hand=rng.uniform(0, 80, skus),
        target=np.repeat(rng.uniform(0, 30, (skus, 1)), periods, axis=1),
        resource=resource,
        capacity_per_unit=cpu,
        capacity=capacity,
        overtime_capacity=capacity.clip(max=1e9) * rng.uniform(0.0, 0.3, (resources, periods)),
        regular_cost=rng.uniform(0.1, 1.0, (resources, periods)),
        overtime_cost=rng.uniform(0.5, 3.0, (resources, periods)),
        holding_cost=rng.uniform(0.01, 0.3, skus),
        shortage_cost=margin,
        below_target_cost=margin * rng.uniform(0.02, 0.3, skus),
    )


@pytest.mark.parametrize("seed", range(12))
def test_every_plan_is_feasible_and_the_optimum_is_cheapest(seed: int) -> None:
    p = random_problem(seed)
    chase, level, best = chase_plan(p), level_plan(p), optimal_plan(p)
    assert best.strategy == "optimal", best.message
    for plan in (chase, level, best):
        scale = 1e-6 * max(1.0, float(np.nan_to_num(p.capacity, posinf=0).max()))
        assert capacity_violation(p, plan) <= scale, plan.strategy
        assert (plan.supply >= 0).all() and (plan.inventory >= 0).all() and (plan.unmet >= -1e-12).all()
        assert (plan.overtime_used <= p.overtime_capacity + scale).all()
    tolerance = 1e-6 * max(1.0, chase.costs.total_cost)
    assert best.costs.total_cost <= chase.costs.total_cost + tolerance
    assert best.costs.total_cost <= level.costs.total_cost + tolerance
    assert best.costs.shortage_units <= chase.costs.shortage_units + 1e-5
    # level builds ahead with time chase leaves idle: never more unmet demand for any SKU
    assert (level.unmet.sum(axis=1) <= chase.unmet.sum(axis=1) + 1e-9).all()


def test_the_evaluation_agrees_with_a_plan_s_own_projection() -> None:
    p = random_problem(3)
    chase = chase_plan(p)
    again = evaluate(p, chase.supply, "chase")
    np.testing.assert_allclose(again.inventory, chase.inventory)
    assert again.costs.total_cost == pytest.approx(chase.costs.total_cost)


# --- a crunch month ---------------------------------------------------------------------------------------------------


def crunch_problem() -> PlanProblem:
    """Three SKUs on one line over six months; month 4 has 20 % of the usual capacity; margins 1, 4 and 9."""
    demand = np.array([[40.0] * 6, [40.0] * 6, [40.0] * 6])
    capacity = np.array([[150.0, 150.0, 150.0, 30.0, 150.0, 150.0]])
    return PlanProblem(
        demand=demand,
        receipts=np.zeros_like(demand),
        on_hand=np.full(3, 10.0),
        target=np.full_like(demand, 10.0),
        resource=np.zeros(3, dtype=int),
        capacity_per_unit=np.ones(3),
        capacity=capacity,
        overtime_capacity=np.full_like(capacity, 30.0),
        regular_cost=np.full_like(capacity, 0.2),
        overtime_cost=np.full_like(capacity, 0.6),
        holding_cost=np.full(3, 0.05),
        shortage_cost=np.array([1.0, 4.0, 9.0]),
        below_target_cost=np.array([0.1, 0.4, 0.9]),
    )


def test_a_crunch_month_shows_overtime_in_chase_and_stock_built_ahead_in_level_and_optimal() -> None:
    p = crunch_problem()
    chase, level, best = chase_plan(p), level_plan(p), optimal_plan(p)
    crunch = 3
    assert chase.overtime_used[0, crunch] == pytest.approx(30.0)  # all the overtime there is
    assert chase.costs.shortage_units > 0
    # the low-margin SKU is short first; the high-margin one is served in full
    assert chase.unmet[0, crunch] > 0 and chase.unmet[2].sum() == pytest.approx(0.0)
    before = slice(0, crunch)
    for plan in (level, best):
        assert plan.inventory[:, before].sum() > chase.inventory[:, before].sum() + 1.0, plan.strategy
        assert plan.costs.shortage_units < chase.costs.shortage_units, plan.strategy
    assert best.costs.total_cost <= min(chase.costs.total_cost, level.costs.total_cost) + 1e-6


def test_shortfall_goes_to_the_lowest_margin_per_capacity_unit_first() -> None:
    """Two SKUs, one period, room for 50 of the 80 units: the higher margin per capacity unit is served in full."""
    p = PlanProblem(
        demand=[[40.0], [40.0]],
        receipts=[[0.0], [0.0]],
        on_hand=[0.0, 0.0],
        target=[[0.0], [0.0]],
        resource=np.array([0, 0]),
        capacity_per_unit=[1.0, 2.0],  # SKU 2 earns 6 per unit but 3 per capacity unit
        capacity=[[100.0]],
        overtime_capacity=[[0.0]],
        regular_cost=[[0.0]],
        overtime_cost=[[0.0]],
        holding_cost=[0.1, 0.1],
        shortage_cost=[4.0, 6.0],
        below_target_cost=[0.0, 0.0],
    )
    chase = chase_plan(p)
    assert chase.supply[:, 0].tolist() == [40.0, 30.0]
    assert chase.unmet[:, 0].tolist() == [0.0, 10.0]


# --- fall-back to chase -----------------------------------------------------------------------------------------------


def test_a_too_large_programme_falls_back_to_chase_with_a_message() -> None:
    p = random_problem(1)
    plan = optimal_plan(p, max_variables=10)
    assert plan.strategy == "chase"
    assert "variables (limit 10)" in plan.message and "chase plan instead" in plan.message
    np.testing.assert_allclose(plan.supply, chase_plan(p).supply)


def test_the_time_limit_is_passed_to_highs_and_a_timeout_falls_back(monkeypatch) -> None:
    seen: list[float] = []
    real = supply_lp.linprog

    def spy(*args, **kwargs):
        seen.append(kwargs["options"]["time_limit"])
        result = real(*args, **kwargs)
        result.status, result.x = 1, None  # as HiGHS answers when the time limit is hit
        return result

    monkeypatch.setattr(supply_lp, "linprog", spy)
    plan = optimal_plan(random_problem(2), time_limit_s=7.5)
    assert seen and 0 < seen[0] <= 7.5
    assert plan.strategy == "chase" and "time limit" in plan.message


def test_an_infeasible_programme_falls_back_with_the_reason(monkeypatch) -> None:
    p = random_problem(4)
    k, rows = p.groups()[0]
    with pytest.raises(LpFailedError, match="infeasible"):
        supply_lp._solve(p, k, rows, -1.0, 10.0)  # no plan can lose fewer than -1 units
    original = supply_lp._solve
    monkeypatch.setattr(supply_lp, "_solve", lambda p_, k_, rows_, _floor, s: original(p_, k_, rows_, -1.0, s))
    plan = optimal_plan(p)
    assert plan.strategy == "chase"
    assert "infeasible" in plan.message and p.resource_names[k] in plan.message


# --- inputs -----------------------------------------------------------------------------------------------------------


def test_fill_serves_in_order() -> None:
    np.testing.assert_allclose(fill(np.array([3.0, 4.0, 5.0]), 8.0), [3.0, 4.0, 1.0])
    np.testing.assert_allclose(fill(np.array([3.0, 4.0]), np.inf), [3.0, 4.0])
    np.testing.assert_allclose(fill(np.array([3.0]), 0.0), [0.0])


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"capacity_per_unit": [0.0]}, "capacity_per_unit"),
        ({"demand": [[-1.0, 2.0]]}, "demand"),
        ({"capacity": [[np.nan, 1.0]]}, "capacity"),
        ({"resource": np.array([3])}, "resource"),
        ({"holding_cost": [1.0, 2.0]}, "holding_cost"),
    ],
)
def test_bad_inputs_name_the_argument(change: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        problem(**change)


def test_optimal_plan_checks_its_knobs() -> None:
    with pytest.raises(ValueError, match="time_limit_s"):
        optimal_plan(problem(), time_limit_s=0)
    with pytest.raises(ValueError, match="max_variables"):
        optimal_plan(problem(), max_variables=0)
