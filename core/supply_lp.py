"""The optimal supply plan: a linear programme per resource, solved by HiGHS through ``scipy.optimize.linprog``.

For the SKUs i of resource k over periods t (notation of :mod:`core.supply`), variables x (supply), I (ending
inventory), u (unmet demand), g (units below target) per SKU and period and o (overtime used) per period::

    minimise   sum_t [ a_t sum_i c_i x_it + (b_t - a_t) o_t ] + sum_it [ h_i I_it + m_i u_it + q_i g_it ]
                 + sum_i e_i g_i,T-1                              (rebuilding the target after the horizon)
    subject to I_it - I_i,t-1 - x_it - u_it = r_it - d_it        inventory balance (I_i,-1 = I0_i), lost sales
               I_it + g_it >= target_it                           below-target units
               sum_i c_i x_it - o_t <= C_t                        capacity (periods with a known capacity)
               sum_it u_it <= U_k                                 service: no more unmet demand than U_k
               x, I >= 0;  0 <= u <= d;  0 <= g <= target;  0 <= o <= O_t

which is Nahmias's aggregate-planning LP (Production and Operations Analysis, 7th ed., section 3.5) and Chopra &
Meindl's (Supply Chain Management, ch. 8) with lost sales priced by lost margin, per SKU instead of in aggregate
units, and a service floor. The floor U_k is the larger of the chase and level plans' unmet demand on the resource
(the level plan never leaves more unmet than chase, :mod:`core.supply`, so U_k is the chase plan's): both heuristic
plans are feasible points, so the optimum costs no more than either and is short no more units than chase. Because
b >= a, o = max(0, load - C) at the optimum and the objective equals :func:`core.supply.evaluate`'s cost.

Resources share nothing but the floor, which is per resource, so each resource is its own LP (50 LPs of 200 SKUs
solve several times faster than one of 10,000). SKUs without a resource need no LP: with no capacity to share,
each period on its own is optimal -- supply the demand, and rebuild the target when q > h.

HiGHS runs its dual simplex with devex pricing (measured on a 2,200-SKU resource x 12 months: 4.7 s of CPU against
11 s for HiGHS' default choice and 11 s for its interior point; the same on 200-SKU resources). The solver gets what
is left of ``time_limit_s`` for each LP (HiGHS ``time_limit``); a programme larger than
``max_variables``, one that hits the time limit, or any other solver failure (infeasible, numerical trouble) gives
the chase plan instead, with a message saying why.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from core.supply import PlanProblem, SupplyPlan, chase_plan, evaluate, level_plan

DEFAULT_TIME_LIMIT_S = 25.0
DEFAULT_MAX_VARIABLES = 3_000_000
_STATUS = {
    1: "the solver hit its time limit",
    2: "the linear programme is infeasible",
    3: "the linear programme is unbounded",
    4: "the solver ran into numerical difficulties",
}


class LpFailedError(RuntimeError):
    """One resource's linear programme did not solve (the message says why)."""


def lp_size(problem: PlanProblem) -> tuple[int, int, int]:
    """(variables, constraints, non-zeros) of all the resources' linear programmes together."""
    variables = constraints = nonzeros = 0
    periods = problem.periods
    for resource, rows in problem.groups():
        cells = len(rows) * periods
        known = int(np.isfinite(problem.capacity[resource]).sum())
        variables += 4 * cells + periods
        constraints += 2 * cells + known + 1
        nonzeros += (4 * cells - len(rows)) + 2 * cells + (len(rows) * known + known) + cells
    return variables, constraints, nonzeros


def _programme(problem: PlanProblem, resource: int, rows: np.ndarray, floor: float):
    """(c, A_ub, b_ub, A_eq, b_eq, bounds) of one resource's LP (variable blocks x, I, u, g per cell, then o)."""
    periods = problem.periods
    n = len(rows) * periods
    cell = np.arange(n)
    sku, t = cell // periods, cell % periods
    i = rows[sku]
    demand = problem.demand[rows].ravel()
    target = problem.target[rows].ravel()
    cpu = problem.capacity_per_unit[i]
    x, inv, unmet, gap, over = 0, n, 2 * n, 3 * n, 4 * n
    total = 4 * n + periods
    later = cell[t > 0]
    eq_rows = np.concatenate([cell, cell, cell, later])
    eq_cols = np.concatenate([inv + cell, x + cell, unmet + cell, inv + later - 1])
    eq_vals = np.concatenate([np.ones(n), -np.ones(n), -np.ones(n), -np.ones(len(later))])
    a_eq = sp.csr_matrix((eq_vals, (eq_rows, eq_cols)), shape=(n, total))
    b_eq = problem.receipts[rows].ravel() - demand
    b_eq[t == 0] += problem.on_hand[rows]
    capacity = problem.capacity[resource]
    known = np.flatnonzero(np.isfinite(capacity))
    cap_row = np.full(periods, -1)
    cap_row[known] = n + np.arange(len(known))
    in_cap = cap_row[t] >= 0
    floor_row = n + len(known)
    ub_rows = np.concatenate([cell, cell, cap_row[t][in_cap], cap_row[known], np.full(n, floor_row)])
    ub_cols = np.concatenate([inv + cell, gap + cell, x + cell[in_cap], over + known, unmet + cell])
    ub_vals = np.concatenate([-np.ones(n), -np.ones(n), cpu[in_cap], -np.ones(len(known)), np.ones(n)])
    a_ub = sp.csr_matrix((ub_vals, (ub_rows, ub_cols)), shape=(floor_row + 1, total))
    b_ub = np.concatenate([-target, capacity[known], [floor]])
    regular, overtime = problem.regular_cost[resource], problem.overtime_cost[resource]
    below = problem.below_target_cost[i] + np.where(t == periods - 1, problem.rebuild_cost()[i], 0.0)
    cost = np.concatenate(
        [regular[t] * cpu, problem.holding_cost[i], problem.shortage_cost[i], below, overtime - regular]
    )
    bounds = np.zeros((total, 2))
    bounds[:, 1] = np.inf
    bounds[unmet : unmet + n, 1] = demand
    bounds[gap : gap + n, 1] = target
    bounds[over:, 1] = np.where(np.isfinite(capacity), problem.overtime_capacity[resource], 0.0)
    return cost, a_ub, b_ub, a_eq, b_eq, bounds


def _solve(problem: PlanProblem, resource: int, rows: np.ndarray, floor: float, seconds: float) -> np.ndarray:
    """Supply (len(rows), T) of one resource's optimal plan; raises :class:`LpFailedError`."""
    cost, a_ub, b_ub, a_eq, b_eq, bounds = _programme(problem, resource, rows, floor)
    result = linprog(
        cost,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=bounds,
        method="highs-ds",
        options={"time_limit": max(seconds, 0.01), "presolve": True, "simplex_dual_edge_weight_strategy": "devex"},
    )
    if result.status != 0 or result.x is None:
        reason = _STATUS.get(result.status, f"the solver failed ({result.message})")
        raise LpFailedError(f"{reason} for {problem.resource_names[resource]}")
    supply = np.maximum(result.x[: len(rows) * problem.periods].reshape(len(rows), problem.periods), 0.0)
    return _within_capacity(problem, resource, rows, supply)


def _within_capacity(problem: PlanProblem, resource: int, rows: np.ndarray, supply: np.ndarray) -> np.ndarray:
    """Scale away the solver's feasibility tolerance where a period's load is a hair above capacity + overtime."""
    load = problem.capacity_per_unit[rows] @ supply
    limit = problem.capacity[resource] + problem.overtime_capacity[resource]
    over = np.isfinite(limit) & (load > limit)
    if over.any():
        supply[:, over] *= limit[over] / load[over]
    return supply


def _unconstrained_optimum(problem: PlanProblem, rows: np.ndarray) -> np.ndarray:
    """Supply of SKUs without a resource: each period's demand, plus the target where q > h (module docstring)."""
    keep_target = problem.below_target_cost[rows] > problem.holding_cost[rows]
    supply = np.zeros((len(rows), problem.periods))
    stock = problem.on_hand[rows].copy()
    for t in range(problem.periods):
        carry = stock + problem.receipts[rows, t] - problem.demand[rows, t]
        target_need = np.maximum(0.0, problem.target[rows, t] - np.maximum(carry, 0.0))
        supply[:, t] = np.maximum(0.0, -carry) + np.where(keep_target, target_need, 0.0)
        stock = np.maximum(carry + supply[:, t], 0.0)
    return supply


def optimal_plan(
    problem: PlanProblem,
    *,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    max_variables: int = DEFAULT_MAX_VARIABLES,
    chase: SupplyPlan | None = None,
    level: SupplyPlan | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> SupplyPlan:
    """The least-cost plan (module docstring), or the chase plan with a message when the LP cannot be solved.

    Parameters
    ----------
    problem
        The planning inputs.
    time_limit_s
        Seconds for all the resources' LPs together (> 0); passed to HiGHS as each LP's ``time_limit``.
    max_variables
        Refuse (fall back to chase) when the LPs would have more variables than this (> 0).
    chase, level
        The chase and level plans of ``problem`` when already computed (they set the service floor).
    progress
        Called with (fraction of the resources solved, what is being solved) before each resource's programme.

    Returns
    -------
    SupplyPlan
        ``strategy="optimal"`` with ``solver`` = variables, constraints, nonzeros, seconds, programmes; or the
        chase plan (``strategy="chase"``) whose ``message`` says why the optimum is not shown.
    """
    if not time_limit_s > 0:
        raise ValueError(f"time_limit_s must be > 0, got {time_limit_s}")
    if max_variables < 1:
        raise ValueError(f"max_variables must be >= 1, got {max_variables}")
    started = time.perf_counter()
    chase = chase or chase_plan(problem)
    variables, constraints, nonzeros = lp_size(problem)
    size = {"variables": variables, "constraints": constraints, "nonzeros": nonzeros}
    if variables > max_variables:
        return _fallback(
            chase,
            f"The optimal plan was not computed: its linear programme would have {variables:,} variables (limit "
            f"{max_variables:,}). Showing the chase plan instead; shorten the horizon or split the resources.",
            size,
        )
    level = level or level_plan(problem)
    supply = chase.supply.copy()
    free = np.flatnonzero(problem.resource < 0)
    if len(free):
        supply[free] = _unconstrained_optimum(problem, free)
    groups = problem.groups()
    try:
        for done, (resource, rows) in enumerate(groups):
            if progress is not None:
                name = problem.resource_names[resource]
                progress(done / len(groups), f"solving {name} ({len(rows):,} SKUs, {done + 1} of {len(groups)})")
            floor = max(chase.unmet[rows].sum(), level.unmet[rows].sum())
            floor += 1e-6  # room for the solver's feasibility tolerance (1e-7)
            left = time_limit_s - (time.perf_counter() - started)
            if left <= 0:
                raise LpFailedError(f"the solver hit its time limit of {time_limit_s:g} s")
            supply[rows] = _solve(problem, resource, rows, floor, left)
    except LpFailedError as exc:
        message = f"The optimal plan could not be computed ({exc}). Showing the chase plan instead."
        return _fallback(chase, message, size)
    plan = evaluate(problem, supply, "optimal")
    plan.solver = {**size, "seconds": round(time.perf_counter() - started, 3), "programmes": len(groups)}
    plan.solver["method"] = "HiGHS dual simplex (scipy.optimize.linprog)"
    return plan


def _fallback(chase: SupplyPlan, message: str, size: dict[str, int]) -> SupplyPlan:
    """The chase plan (arrays shared) carrying ``message`` and the LP size."""
    return SupplyPlan(**{**chase.__dict__, "message": message, "solver": {**size, "fallback": True}})
