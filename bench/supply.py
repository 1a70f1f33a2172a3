"""Speed of the supply plan on a synthetic portfolio (default 10,000 SKUs on 50 resources, 18 monthly periods).

Run: ``.venv/bin/python -m bench.supply [--skus 10000] [--resources 50] [--periods 18] [--single-lp]``.
Prints the wall and CPU time of the chase, level and optimal plans (core.supply, core.supply_lp) with the size of the
linear programme, the ratio of each to its target (chase / level <= 3 s, optimal <= 30 s) and the machine's load.
``--single-lp`` also solves the same problem as one programme over all resources (the baseline the per-resource
decomposition is measured against). Not a test: it prints figures and exits 0.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from core import supply_lp
from core.supply import PlanProblem, capacity_violation, chase_plan, level_plan
from core.supply_lp import lp_size, optimal_plan

TARGETS = {"chase": 3.0, "level": 3.0, "optimal": 30.0}


def synthetic_problem(*, skus: int, resources: int, periods: int, seed: int = 0) -> PlanProblem:
    """Seasonal demand with a yearly peak per SKU, capacity at 90-105 % of the mean load with a crunch month per
    resource at 40 %, 15 % overtime, targets of half a month, some open orders; 5 % of the SKUs unconstrained."""
    rng = np.random.default_rng(seed)
    resource = rng.integers(0, resources, skus)
    resource[rng.random(skus) < 0.05] = -1
    cpu = rng.choice([0.5, 1.0, 1.0, 2.0, 4.0], skus)
    t = np.arange(periods)
    season = 1 + rng.uniform(0, 0.8, (skus, 1)) * np.sin(2 * np.pi * (t[None, :] / 12 + rng.random((skus, 1))))
    demand = rng.lognormal(3.0, 1.0, (skus, 1)) * np.clip(season, 0.05, None)
    load = np.zeros((resources, periods))
    on = resource >= 0
    np.add.at(load, resource[on], cpu[on, None] * demand[on])
    capacity = load.mean(axis=1, keepdims=True) * rng.uniform(0.9, 1.05, (resources, periods))
    capacity[np.arange(resources), rng.integers(0, periods, resources)] *= 0.4
    cost = rng.lognormal(1.0, 0.8, skus)
    margin = cost * rng.uniform(0.2, 1.5, skus)
    return PlanProblem(
        demand=demand,
        receipts=np.where(rng.random((skus, periods)) < 0.05, demand * rng.uniform(0.5, 2.0, (skus, periods)), 0.0),
        on_hand=demand[:, 0] * rng.uniform(0.0, 2.0, skus),
        target=np.repeat(demand.mean(axis=1, keepdims=True) * 0.5, periods, axis=1),
        resource=resource,
        capacity_per_unit=cpu,
        capacity=capacity,
        overtime_capacity=capacity * 0.15,
        regular_cost=np.full((resources, periods), 0.2),
        overtime_cost=np.full((resources, periods), 0.5),
        holding_cost=cost * 0.25 / 12,
        shortage_cost=margin,
        below_target_cost=np.minimum(np.maximum(margin * 0.05, 2 * cost * 0.25 / 12), margin / 2),
    )


def timed(function):
    start, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - start, time.process_time() - cpu


def single_programme(problem: PlanProblem) -> float:
    """Seconds HiGHS takes for all resources as one LP (blocks of the per-resource programmes side by side)."""
    blocks = []
    for resource, rows in problem.groups():
        blocks.append(supply_lp._programme(problem, resource, rows, float(problem.demand[rows].sum())))
    cost = np.concatenate([b[0] for b in blocks])
    a_ub = sp.block_diag([b[1] for b in blocks], format="csr")
    a_eq = sp.block_diag([b[3] for b in blocks], format="csr")
    bounds = np.vstack([b[5] for b in blocks])
    start = time.perf_counter()
    linprog(
        cost,
        A_ub=a_ub,
        b_ub=np.concatenate([b[2] for b in blocks]),
        A_eq=a_eq,
        b_eq=np.concatenate([b[4] for b in blocks]),
        bounds=bounds,
        method="highs",
        options={"time_limit": 300.0},
    )
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--resources", type=int, default=50)
    parser.add_argument("--periods", type=int, default=18)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--single-lp", action="store_true", help="also solve everything as one LP (baseline)")
    args = parser.parse_args(argv)
    print(f"supply plan: {args.skus:,} SKUs, {args.resources} resources, {args.periods} monthly periods")
    print(f"  machine: {os.cpu_count()} cores, load average before start {os.getloadavg()[0]:.2f}")
    problem, seconds, _cpu = timed(
        lambda: synthetic_problem(skus=args.skus, resources=args.resources, periods=args.periods, seed=args.seed)
    )
    variables, constraints, nonzeros = lp_size(problem)
    print(f"  problem built in {seconds:.2f} s")
    print(
        f"  linear programme: {variables:,} variables, {constraints:,} constraints, {nonzeros:,} non-zeros "
        f"in {len(problem.groups())} per-resource programmes"
    )
    print(f"  {'plan':<10s} {'wall':>9s} {'CPU':>9s} {'target':>8s} {'ratio':>7s}  total cost  unmet units")
    chase, wall, cpu = timed(lambda: chase_plan(problem))
    plans = {"chase": (chase, wall, cpu)}
    plans["level"] = timed(lambda: level_plan(problem))
    plans["optimal"] = timed(lambda: optimal_plan(problem, chase=chase, level=plans["level"][0]))
    for name, (plan, wall, cpu) in plans.items():
        print(
            f"  {name:<10s} {wall:7.2f} s {cpu:7.2f} s {TARGETS[name]:6.0f} s {wall / TARGETS[name]:6.2f}x "
            f"{plan.costs.total_cost:12,.0f} {plan.costs.shortage_units:12,.0f}"
            + (f"  ({plan.message})" if plan.message else "")
        )
    best = plans["optimal"][0]
    print(
        f"  optimal vs chase: cost {best.costs.total_cost / chase.costs.total_cost:.3f}x, "
        f"unmet {best.costs.shortage_units:,.0f} vs {chase.costs.shortage_units:,.0f}; "
        f"largest capacity violation {max(capacity_violation(problem, p[0]) for p in plans.values()):.2e}"
    )
    if args.single_lp:
        seconds = single_programme(problem)
        print(
            f"  baseline, one LP over all resources: {seconds:.2f} s "
            f"(per-resource programmes: {best.solver.get('seconds', float('nan')):.2f} s)"
        )
    print(f"  load average after: {os.getloadavg()[0]:.2f} (wall >> CPU means other processes shared the cores)")


if __name__ == "__main__":
    main()
