"""Aggregate supply planning against capacity: the projection, the chase and level plans, and what a plan costs.

The problem (one row per SKU i, one column per period t of the horizon; "capacity units" are whatever the resources
file counts: hours, pallets, units):

- d[i, t] demand, r[i, t] scheduled receipts (open orders at their due dates), I0[i] inventory on hand at the start,
  target[i, t] target ending inventory (safety stock + half the lot);
- SKU i loads resource k(i) with c[i] capacity units per unit supplied (k = -1: unconstrained, e.g. a bought-in SKU
  without a capacity file); resource k offers regular capacity C[k, t] (inf: not known, no limit) and overtime
  capacity O[k, t] at regular cost a[k, t] and overtime cost b[k, t] per capacity unit (b is raised to a where a file
  gives less: overtime never costs less than regular time);
- holding cost h[i] per unit and period, lost margin m[i] per unit of unmet demand, and q[i] per unit and period
  below the target.

Every plan is a supply x[i, t] >= 0, projected with lost sales (unmet demand is lost, not back-ordered)::

    carry[i, t]  = I[i, t-1] + r[i, t] - d[i, t]                        (I[i, -1] = I0[i])
    I[i, t]      = max(0, carry + x[i, t]),     unmet u[i, t] = max(0, -(carry + x[i, t]))
    required     = max(0, d + target - (I[i, t-1] + r))                  (net requirement, MRP netting)
    below target g[i, t] = max(0, target - I)

Per resource and period: planned load L = sum_i c x, overtime used = max(0, L - C), shortfall = sum_i c (u + g)
(capacity units the plan leaves short of demand and target). Cost of a plan::

    regular a min(L, C) + overtime b max(0, L - C) + holding h I + shortage (m u + q g + e g[:, T-1])

where e[i] = a[k(i), T-1] c[i] is the regular time it takes to rebuild, after the horizon, a unit the plan ends
below target (0 for an unconstrained SKU): without it any plan would run the target down in its last periods (the
end-of-horizon effect of aggregate plans; Nahmias section 3.5 fixes the ending inventory for the same reason).

The strategies (Nahmias, Production and Operations Analysis, 7th ed., ch. 3 "aggregate planning": chase, level and
the linear-programming plan; Chopra & Meindl, Supply Chain Management, ch. 8 "aggregate planning"):

- **chase** (:func:`chase_plan`): each period supplies its net requirement; where a resource's load exceeds its
  regular capacity it uses overtime, beyond that the resource is short. The capacity available is allocated first
  to this period's demand, then to rebuilding the target, each time in order of lost margin per capacity unit
  m / c (ties: the caller's ``rank``, e.g. ABC class), so the lowest-margin SKUs are short first.
- **level** (:func:`level_plan`): a constant regular rate per resource, P[k] = the smallest rate whose output,
  capped by each period's regular capacity, keeps up with the cumulative requirement (:func:`level_rates`). A
  period whose requirement is below P builds inventory ahead with the spare regular time
  (up to P), for the SKUs whose next requirements come first (earliest due, then margin per capacity unit); a
  period whose requirement exceeds P and the stock built ahead draws on the remaining regular time and then
  overtime exactly as chase does. Because the build-ahead only uses time chase leaves idle, no SKU ever ends a
  period with less stock, or more unmet demand, than under chase.
- **optimal**: the linear programme of :mod:`core.supply_lp` minimising the cost above.

Pure: numpy only; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

STRATEGIES: tuple[str, ...] = ("chase", "level", "optimal")
UNCONSTRAINED = -1


def _as(array: Any, shape: tuple[int, ...], name: str, *, allow_inf: bool = False) -> np.ndarray:
    out = np.asarray(array, dtype=float)
    if out.shape != shape:
        try:
            out = np.broadcast_to(out, shape).astype(float)
        except ValueError:
            raise ValueError(f"{name} must have shape {shape}, got {np.shape(array)}") from None
    bad = np.isnan(out) | (np.isinf(out) if not allow_inf else np.isneginf(out))
    if bad.any():
        raise ValueError(f"{name} must be finite{' (or +inf)' if allow_inf else ''}; found NaN or infinity")
    if (out < 0).any():
        raise ValueError(f"{name} must be >= 0; found {float(out.min()):g}")
    return out


@dataclass(frozen=True)
class PlanProblem:
    """The inputs of a supply plan (arrays as in the module docstring; validated and broadcast on creation).

    Parameters
    ----------
    demand, receipts, target
        (n, T) demand, scheduled receipts and target ending inventory per SKU and period (units, >= 0).
    on_hand
        (n,) inventory at the start of the first period.
    resource
        (n,) int index of the resource each SKU loads (0 .. R-1), or -1 for unconstrained.
    capacity_per_unit
        (n,) capacity units per unit supplied (> 0).
    capacity, overtime_capacity
        (R, T) regular and overtime capacity (capacity: +inf where the limit is not known).
    regular_cost, overtime_cost
        (R, T) cost per capacity unit on regular time and on overtime.
    holding_cost, shortage_cost, below_target_cost
        (n,) per unit and period held, per unit of unmet demand (lost margin), per unit and period below target.
    rank
        (n,) tie-break among SKUs with equal margin per capacity unit (smaller is served first); default: row order.
    resource_names
        (R,) names used in messages; default ``resource 1``, ``resource 2``, ...
    """

    demand: np.ndarray
    receipts: np.ndarray
    on_hand: np.ndarray
    target: np.ndarray
    resource: np.ndarray
    capacity_per_unit: np.ndarray
    capacity: np.ndarray
    overtime_capacity: np.ndarray
    regular_cost: np.ndarray
    overtime_cost: np.ndarray
    holding_cost: np.ndarray
    shortage_cost: np.ndarray
    below_target_cost: np.ndarray
    rank: np.ndarray | None = None
    resource_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        demand = np.asarray(self.demand, dtype=float)
        if demand.ndim != 2:
            raise ValueError(f"demand must be a 2-D array (SKUs x periods), got {demand.ndim} dimension(s)")
        n, periods = demand.shape
        resource = np.asarray(self.resource)
        if resource.shape != (n,) or (resource.size and not np.issubdtype(resource.dtype, np.integer)):
            raise ValueError(f"resource must be an integer array of shape ({n},)")
        capacity = np.asarray(self.capacity, dtype=float)
        if capacity.ndim != 2 or capacity.shape[1] != periods:
            raise ValueError(f"capacity must have shape (resources, {periods}), got {capacity.shape}")
        count = capacity.shape[0]
        if resource.size and (resource.min() < UNCONSTRAINED or resource.max() >= count):
            raise ValueError(f"resource must hold -1 or 0 .. {count - 1}")
        sku, res = (n, periods), (count, periods)
        values = {
            "demand": _as(demand, sku, "demand"),
            "receipts": _as(self.receipts, sku, "receipts"),
            "on_hand": _as(self.on_hand, (n,), "on_hand"),
            "target": _as(self.target, sku, "target"),
            "resource": resource.astype(np.int64),
            "capacity_per_unit": _as(self.capacity_per_unit, (n,), "capacity_per_unit"),
            "capacity": _as(capacity, res, "capacity", allow_inf=True),
            "overtime_capacity": _as(self.overtime_capacity, res, "overtime_capacity"),
            "regular_cost": _as(self.regular_cost, res, "regular_cost"),
            "overtime_cost": _as(self.overtime_cost, res, "overtime_cost"),
            "holding_cost": _as(self.holding_cost, (n,), "holding_cost"),
            "shortage_cost": _as(self.shortage_cost, (n,), "shortage_cost"),
            "below_target_cost": _as(self.below_target_cost, (n,), "below_target_cost"),
            "rank": np.arange(n, dtype=float) if self.rank is None else _as(self.rank, (n,), "rank"),
        }
        if (values["capacity_per_unit"] <= 0).any():
            raise ValueError("capacity_per_unit must be > 0 for every SKU")
        values["overtime_cost"] = np.maximum(values["overtime_cost"], values["regular_cost"])
        names = tuple(self.resource_names) or tuple(f"resource {k + 1}" for k in range(count))
        if len(names) != count:
            raise ValueError(f"resource_names must name {count} resource(s), got {len(names)}")
        values["resource_names"] = names
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def skus(self) -> int:
        return int(self.demand.shape[0])

    @property
    def periods(self) -> int:
        return int(self.demand.shape[1])

    @property
    def resources(self) -> int:
        return int(self.capacity.shape[0])

    def rebuild_cost(self) -> np.ndarray:
        """(n,) e: regular cost of the last period per unit of the SKU (0 when unconstrained)."""
        if self.periods == 0 or self.resources == 0:
            return np.zeros(self.skus)
        last = self.regular_cost[np.clip(self.resource, 0, None), -1] * self.capacity_per_unit
        return np.where(self.resource >= 0, last, 0.0)

    def priority(self) -> np.ndarray:
        """Lost margin per capacity unit, m / c: who is served first when a resource is short."""
        return self.shortage_cost / self.capacity_per_unit

    def groups(self) -> list[tuple[int, np.ndarray]]:
        """(resource, SKU rows in service order: margin per capacity unit descending, then rank) per resource."""
        order = np.lexsort((self.rank, -self.priority(), self.resource))
        keys = self.resource[order]
        out: list[tuple[int, np.ndarray]] = []
        for k in range(self.resources):
            lo, hi = np.searchsorted(keys, k, "left"), np.searchsorted(keys, k, "right")
            if hi > lo:
                out.append((k, order[lo:hi]))
        return out


@dataclass
class PlanCosts:
    """Totals of a plan (money in the unit of the cost inputs)."""

    regular_cost: float
    overtime_cost: float
    holding_cost: float
    shortage_cost: float
    shortage_units: float
    fill_rate: float
    below_target_units: float  # unit-periods below the target inventory (priced inside shortage_cost)

    @property
    def total_cost(self) -> float:
        return self.regular_cost + self.overtime_cost + self.holding_cost + self.shortage_cost

    def as_dict(self) -> dict[str, float]:
        return {
            "regular_cost": self.regular_cost,
            "overtime_cost": self.overtime_cost,
            "holding_cost": self.holding_cost,
            "shortage_cost": self.shortage_cost,
            "total_cost": self.total_cost,
            "shortage_units": self.shortage_units,
            "fill_rate": self.fill_rate,
        }


@dataclass
class SupplyPlan:
    """A plan and everything derived from its supply (see the module docstring)."""

    strategy: str
    supply: np.ndarray  # (n, T)
    inventory: np.ndarray  # (n, T) projected ending inventory
    unmet: np.ndarray  # (n, T) unmet (lost) demand
    below_target: np.ndarray  # (n, T)
    required: np.ndarray  # (n, T) net requirement
    load_required: np.ndarray  # (R, T) capacity units
    load_planned: np.ndarray  # (R, T)
    overtime_used: np.ndarray  # (R, T)
    shortfall: np.ndarray  # (R, T)
    costs: PlanCosts
    message: str = ""
    solver: dict[str, Any] = field(default_factory=dict)


def fill(loads: np.ndarray, available: float) -> np.ndarray:
    """Serve ``loads`` in order from ``available``: each gets min(load, what is left after those before it).

    Parameters
    ----------
    loads
        (k,) non-negative loads in service order.
    available
        Capacity to hand out (may be +inf).

    Returns
    -------
    ndarray
        (k,) allocation, 0 <= allocation <= loads, summing to min(sum(loads), available).
    """
    loads = np.asarray(loads, dtype=float)
    before = np.cumsum(loads) - loads
    return np.clip(available - before, 0.0, loads)


def _needs(problem: PlanProblem, inventory: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(carry, demand need, target need) of period t from the inventory at the end of t-1."""
    carry = inventory + problem.receipts[:, t] - problem.demand[:, t]
    demand_need = np.maximum(0.0, -carry)
    target_need = np.maximum(0.0, problem.target[:, t] - np.maximum(carry, 0.0))
    return carry, demand_need, target_need


def _future_requirements(problem: PlanProblem, rows: np.ndarray, t: int, stock: np.ndarray) -> np.ndarray:
    """(k, T-t-1) requirement of periods t+1.. for ``rows`` holding ``stock`` after period t, nothing more supplied.

    Cumulative supply needed by period s: max(0, sum_{t<j<=s} (d - r) + target_s - stock), made non-decreasing;
    its increments are the requirements (MRP netting over the horizon).
    """
    net = np.cumsum(problem.demand[rows, t + 1 :] - problem.receipts[rows, t + 1 :], axis=1)
    needed = np.maximum(0.0, net + problem.target[rows, t + 1 :] - stock[:, None])
    cumulative = np.maximum.accumulate(needed, axis=1)
    return np.diff(cumulative, axis=1, prepend=0.0)


def _simulate(problem: PlanProblem, level_rate: np.ndarray | None) -> np.ndarray:
    """Supply of the chase plan, or of the level plan when ``level_rate`` (R,) is given."""
    n, periods = problem.demand.shape
    cpu = problem.capacity_per_unit
    groups = problem.groups()
    supply = np.zeros((n, periods))
    inventory = problem.on_hand.copy()
    for t in range(periods):
        carry, demand_need, target_need = _needs(problem, inventory, t)
        x = demand_need + target_need  # unconstrained SKUs and periods without a known capacity
        for k, rows in groups:
            regular = problem.capacity[k, t]
            if not np.isfinite(regular):
                continue
            first = fill(cpu[rows] * demand_need[rows], regular + problem.overtime_capacity[k, t])
            left = regular + problem.overtime_capacity[k, t] - first.sum()
            second = fill(cpu[rows] * target_need[rows], max(left, 0.0))
            x[rows] = (first + second) / cpu[rows]
            if level_rate is None or t == periods - 1:
                continue
            spare = min(level_rate[k], regular) - first.sum() - second.sum()
            if spare <= 1e-12:
                continue
            stock = np.maximum(carry[rows] + x[rows], 0.0)
            ahead = _future_requirements(problem, rows, t, stock)  # (k, S): rows in service order
            built = fill((cpu[rows][:, None] * ahead).T.ravel(), spare)  # earliest period first, then margin
            x[rows] += built.reshape(ahead.shape[1], len(rows)).sum(axis=0) / cpu[rows]
        supply[:, t] = x
        inventory = np.maximum(carry + x, 0.0)
    return supply


def unconstrained_requirement(problem: PlanProblem) -> np.ndarray:
    """(n, T) net requirement per period when every SKU gets exactly what it needs (no capacity limit)."""
    n, periods = problem.demand.shape
    supply = np.zeros((n, periods))
    inventory = problem.on_hand.copy()
    for t in range(periods):
        carry, demand_need, target_need = _needs(problem, inventory, t)
        supply[:, t] = demand_need + target_need
        inventory = np.maximum(carry + supply[:, t], 0.0)
    return supply


def level_rates(problem: PlanProblem) -> np.ndarray:
    """(R,) the level plan's regular rate per resource (module docstring).

    The smallest constant rate P whose output, capped by each period's regular capacity, keeps up with the
    cumulative unconstrained requirement R at every period -- sum_{s<=t} min(P, C_s) >= sum_{s<=t} R_s for all t --
    Nahmias' minimum constant production rate without shortages (section 3.4), with the capacity of each period.
    Where no rate up to the largest capacity does, the largest capacity (flat out).
    """
    load = resource_load(problem, unconstrained_requirement(problem))
    if problem.periods == 0 or problem.resources == 0:
        return np.zeros(problem.resources)
    needed = np.cumsum(load, axis=1)
    capacity = problem.capacity
    top = np.maximum(np.where(np.isfinite(capacity), capacity, 0.0).max(axis=1), load.max(axis=1))
    low, high = np.zeros(problem.resources), top.copy()
    for _ in range(60):  # bisection, vectorised over resources (the output is monotone in the rate)
        rate = (low + high) / 2
        made = np.cumsum(np.minimum(rate[:, None], capacity), axis=1)
        keeps_up = (made >= needed - 1e-9 * (1.0 + needed)).all(axis=1)
        high = np.where(keeps_up, rate, high)
        low = np.where(keeps_up, low, rate)
    return high


def resource_load(problem: PlanProblem, per_sku: np.ndarray) -> np.ndarray:
    """(R, T) sum of capacity_per_unit x ``per_sku`` over each resource's SKUs (unconstrained SKUs left out)."""
    load = np.zeros((problem.resources, problem.periods))
    constrained = problem.resource >= 0
    if constrained.any():
        weighted = problem.capacity_per_unit[constrained, None] * per_sku[constrained]
        np.add.at(load, problem.resource[constrained], weighted)
    return load


def evaluate(problem: PlanProblem, supply: np.ndarray, strategy: str, message: str = "") -> SupplyPlan:
    """Project ``supply`` (n, T) through the horizon and price it (formulas in the module docstring)."""
    supply = np.maximum(np.asarray(supply, dtype=float), 0.0)
    n, periods = problem.demand.shape
    if supply.shape != (n, periods):
        raise ValueError(f"supply must have shape {(n, periods)}, got {supply.shape}")
    inventory = np.zeros((n, periods))
    unmet = np.zeros((n, periods))
    required = np.zeros((n, periods))
    stock = problem.on_hand.copy()
    for t in range(periods):
        carry, demand_need, target_need = _needs(problem, stock, t)
        required[:, t] = demand_need + target_need
        after = carry + supply[:, t]
        inventory[:, t] = np.maximum(after, 0.0)
        unmet[:, t] = np.maximum(-after, 0.0)
        stock = inventory[:, t]
    below = np.maximum(problem.target - inventory, 0.0)
    planned = resource_load(problem, supply)
    finite = np.isfinite(problem.capacity)
    regular_capacity = np.where(finite, problem.capacity, 0.0)
    overtime = np.where(finite, np.maximum(planned - regular_capacity, 0.0), 0.0)
    regular = planned - overtime
    demand_total = float(problem.demand.sum())
    costs = PlanCosts(
        regular_cost=float((problem.regular_cost * regular).sum()),
        overtime_cost=float((problem.overtime_cost * overtime).sum()),
        holding_cost=float((problem.holding_cost[:, None] * inventory).sum()),
        shortage_cost=float(
            (problem.shortage_cost[:, None] * unmet).sum()
            + (problem.below_target_cost[:, None] * below).sum()
            + (problem.rebuild_cost() * below[:, -1]).sum()
            if periods
            else 0.0
        ),
        shortage_units=float(unmet.sum()),
        fill_rate=1.0 - float(unmet.sum()) / demand_total if demand_total > 0 else 1.0,
        below_target_units=float(below.sum()),
    )
    return SupplyPlan(
        strategy=strategy,
        supply=supply,
        inventory=inventory,
        unmet=unmet,
        below_target=below,
        required=required,
        load_required=resource_load(problem, required),
        load_planned=planned,
        overtime_used=overtime,
        shortfall=resource_load(problem, unmet + below),
        costs=costs,
        message=message,
    )


def chase_plan(problem: PlanProblem) -> SupplyPlan:
    """The chase plan: supply follows the net requirement; overtime first, then shortfall (module docstring).

    Parameters
    ----------
    problem
        The planning inputs.

    Returns
    -------
    SupplyPlan
        With ``strategy="chase"``.
    """
    return evaluate(problem, _simulate(problem, None), "chase")


def level_plan(problem: PlanProblem) -> SupplyPlan:
    """The level plan: a constant regular rate per resource that builds ahead of peaks (module docstring).

    Parameters
    ----------
    problem
        The planning inputs.

    Returns
    -------
    SupplyPlan
        With ``strategy="level"`` and ``solver["level_rates"]`` the rate per resource (capacity units per period).
    """
    rates = level_rates(problem)
    plan = evaluate(problem, _simulate(problem, rates), "level")
    plan.solver = {"level_rates": [float(r) for r in rates]}
    return plan


def capacity_violation(problem: PlanProblem, plan: SupplyPlan) -> float:
    """The largest excess of planned load over capacity + overtime capacity, or of overtime used over overtime
    capacity (capacity units; <= 0 when the plan is feasible)."""
    if problem.resources == 0 or problem.periods == 0:
        return 0.0
    limit = problem.capacity + problem.overtime_capacity
    over_total = np.where(np.isfinite(limit), plan.load_planned - limit, -np.inf)
    over_overtime = plan.overtime_used - problem.overtime_capacity
    return float(max(over_total.max(), over_overtime.max()))
