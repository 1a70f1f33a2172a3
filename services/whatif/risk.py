"""The Risk engine: each SKU's policy inputs and levels under the page's controls (:mod:`core.policy`), the scope's
risk summary and quantile check, and the efficient frontier (safety-stock capital against service level, per SKU,
per ABC class and for the scope, with the best allocation of a budget across SKUs, :mod:`core.allocation`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from scipy import stats

from core import allocation, policy, slow_movers
from services.whatif.controls import RISK_FIELDS, adjust, parse_number, risk_bases, risk_defaults, weighted_mean
from services.whatif.scope import (
    ABC_CLASSES,
    CSL_GRID,
    DEFAULT_REVIEW_PERIOD,
    MC_SEED,
    MEASURES,
    POLICIES,
    Items,
    WhatIfError,
)

# --------------------------------------------------------------------------------------------------------------------
# risk engine


@dataclass(frozen=True)
class RiskControls:
    """The Risk engine's controls as entered. ``baseline``: the values the page showed for the scope."""

    measure: str = "csl"
    target_pct: Any = None
    lead_time_days: Any = None
    lead_time_std_days: Any = None
    sigma: Any = None
    order_quantity: Any = None
    policy: str = "sQ"
    review_period: Any = DEFAULT_REVIEW_PERIOD
    baseline: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyInputs:
    """Per-SKU inputs after the controls are applied (arrays (n,))."""

    measure: str
    policy: str
    target: float
    review_period: int
    demand_mean: np.ndarray
    sigma: np.ndarray
    lead_time: np.ndarray  # periods
    lead_time_std: np.ndarray
    order_quantity: np.ndarray  # Q (sQ) or demand per review (RS): the quantity one cycle delivers
    changed: dict[str, bool]


def policy_inputs(items: Items, controls: RiskControls) -> PolicyInputs:
    """Validate the controls and apply them to the scope's SKUs.

    Raises
    ------
    WhatIfError
        A control is missing, not a number or out of range (the message names it).
    """
    if controls.measure not in MEASURES:
        raise WhatIfError(f"Service measure must be cycle service level or fill rate, got {controls.measure!r}")
    if controls.policy not in POLICIES:
        raise WhatIfError(f"Review policy must be (s, Q) or (R, S), got {controls.policy!r}")
    measure_label = "Cycle service level" if controls.measure == "csl" else "Fill rate"
    target_pct = parse_number(measure_label, controls.target_pct)
    if not 0 < target_pct < 100:
        raise WhatIfError(
            f"{measure_label} must be above 0% and below 100% (got {target_pct:g}%): "
            + (
                "100% would need unlimited safety stock."
                if target_pct >= 100
                else "0% or less means planning to run out in every cycle."
            )
        )
    review = parse_number("Review period", controls.review_period)
    if controls.policy == "RS" and (review < 1 or review != int(review)):
        raise WhatIfError(f"Review period must be a whole number of periods, at least 1 (got {review:g})")
    review_i = max(1, int(review))
    base = controls.baseline or {}
    bases = risk_bases(items)
    days = items.run.days_per_period
    values: dict[str, np.ndarray] = {}
    changed: dict[str, bool] = {}
    for name in ("lead_time_days", "lead_time_std_days", "sigma", "order_quantity"):
        spec = RISK_FIELDS[name]
        entered = parse_number(spec.label, getattr(controls, name))
        if name == "order_quantity" and controls.policy == "sQ" and entered <= 0 and np.any(items.demand_mean > 0):
            raise WhatIfError(f"Order quantity must be above 0 (got {entered:g})")
        values[name] = adjust(
            base=bases[name], entered=entered, shown=base.get(name), how=spec.aggregate, label=spec.label
        )
        changed[name] = not np.allclose(values[name], bases[name])
    d = items.demand_mean
    q = values["order_quantity"] if controls.policy == "sQ" else d * review_i
    return PolicyInputs(
        measure=controls.measure,
        policy=controls.policy,
        target=target_pct / 100.0,
        review_period=review_i,
        demand_mean=d,
        sigma=values["sigma"],
        lead_time=values["lead_time_days"] / days,
        lead_time_std=values["lead_time_std_days"] / days,
        order_quantity=q,
        changed=changed,
    )


@dataclass(frozen=True)
class PolicyLevels:
    """Safety stock and its consequences per SKU for given targets (arrays (n,))."""

    safety_stock: np.ndarray
    level: np.ndarray  # reorder point (sQ) or order-up-to level (RS)
    cycle_service_level: np.ndarray  # the CSL the safety stock gives (the target itself for a CSL target)
    fill_rate: np.ndarray  # expected fill rate (NaN without demand)
    sigma_ltd: np.ndarray
    protection: np.ndarray  # periods the safety stock covers: L (sQ) or L + R (RS)


def policy_levels(inputs: PolicyInputs, target: np.ndarray | float | None = None) -> PolicyLevels:
    """Safety stock, reorder point / order-up-to level, cycle service level and fill rate per SKU.

    CSL target: SS = :func:`core.policy.safety_stock` over the protection period (L for (s, Q), L + R for (R, S));
    fill-rate target: SS = k sigma_LTD with k from :func:`core.policy.fill_rate_safety_factor` (Q = the order
    quantity, or the demand of one review period for (R, S)), its CSL = Phi(k). Level = D x protection + SS
    (:func:`core.policy.reorder_point` / :func:`core.policy.order_up_to_level` for a CSL target). Fill rate:
    :func:`core.policy.expected_fill_rate`.
    """
    t = inputs.target if target is None else target
    d = inputs.demand_mean
    protect = inputs.lead_time + (inputs.review_period if inputs.policy == "RS" else 0.0)
    sigma_ltd = np.asarray(
        policy.lead_time_demand_std(
            demand_mean=d, demand_std=inputs.sigma, lead_time=protect, lead_time_std=inputs.lead_time_std
        ),
        dtype=float,
    )
    q = inputs.order_quantity
    has = (d > 0) & (q > 0)
    if inputs.measure == "csl":
        csl = np.broadcast_to(np.asarray(t, dtype=float), d.shape).astype(float)
        if inputs.policy == "sQ":
            level = policy.reorder_point(
                service_level=csl,
                demand_mean=d,
                demand_std=inputs.sigma,
                lead_time=inputs.lead_time,
                lead_time_std=inputs.lead_time_std,
            )
        else:
            level = policy.order_up_to_level(
                service_level=csl,
                demand_mean=d,
                demand_std=inputs.sigma,
                lead_time=inputs.lead_time,
                review_period=inputs.review_period,
                lead_time_std=inputs.lead_time_std,
            )
        level = np.asarray(level, dtype=float)
        ss = level - d * protect
    else:
        beta = np.broadcast_to(np.asarray(t, dtype=float), d.shape)
        k = np.zeros(d.shape)
        if has.any():
            k[has] = policy.fill_rate_safety_factor(
                fill_rate=beta[has], order_quantity=q[has], lead_time_demand_std=sigma_ltd[has]
            )
        ss = k * sigma_ltd
        csl = np.where(sigma_ltd > 0, stats.norm.cdf(k), 1.0)
        level = d * protect + ss
    fill = np.full(d.shape, np.nan)
    if has.any():
        fill[has] = policy.expected_fill_rate(
            order_quantity=q[has],
            reorder_point=level[has],
            lead_time_demand_mean=(d * protect)[has],
            lead_time_demand_std=sigma_ltd[has],
        )
    return PolicyLevels(
        safety_stock=ss,
        level=level,
        cycle_service_level=csl,
        fill_rate=fill,
        sigma_ltd=sigma_ltd,
        protection=protect,
    )


@dataclass(frozen=True)
class QuantileCheck:
    """The reorder-point method the engine would use for a SKU and the level it gives (slow / lumpy movers)."""

    method: str
    reason: str
    level: float
    normal_level: float


@dataclass(frozen=True)
class RiskResult:
    """Risk engine figures for a scope at the page's settings, beside today's."""

    inputs: PolicyInputs
    levels: PolicyLevels
    units: str
    n: int
    safety_stock: float  # total units
    level: float  # total reorder point / order-up-to level (units)
    capital: float  # money tied in safety stock (SS >= 0 at unit cost)
    holding_per_year: float
    stockouts_per_year: float  # expected stockout occasions per year (sum over SKUs)
    cycles_per_year: float
    cycle_service_level: float  # weighted by annual demand value
    fill_rate: float  # weighted by annual demand value expected fill rate
    demand_part: float  # safety stock units due to demand variability (variance share)
    lead_time_part: float  # ... due to lead-time variability
    demand_only: float  # safety stock if the lead time were certain
    lead_time_only: float  # safety stock if demand were certain
    engine_safety_stock: float  # the engine's snapshot (its method, reviewed every period)
    engine_capital: float
    engine_holding_per_year: float
    engine_level: float
    today_target: float  # value-weighted mean of the SKUs' own targets
    quantile: QuantileCheck | None
    slow_movers: int  # SKUs the engine sets with a discrete / bootstrap quantile
    notes: list[str]


def clip_csl(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.001, 0.999)


def risk_result(
    items: Items, controls: RiskControls, *, history: np.ndarray | None = None, today: bool = False
) -> RiskResult:
    """Safety stock, reorder point / order-up-to level, its capital and holding cost, expected stockouts per year and
    the demand / lead-time split, for a scope at the controls' settings (and the engine snapshot's figures).

    ``today``: every SKU at its own cycle service level target with today's lead times, variability and lot (the
    page's measure is ignored; the review policy is kept). ``history`` (1, T) of a single SKU lets the quantile check
    use the bootstrap for lumpy demand.
    """
    if today:
        inputs = replace(policy_inputs(items, RiskControls(**_today_controls(items, controls))), measure="csl")
        lv = policy_levels(inputs, target=items.service_level)
    else:
        inputs = policy_inputs(items, controls)
        lv = policy_levels(inputs)
    check = None
    if items.n == 1 and inputs.demand_mean[0] > 0 and not today:
        check = quantile_check(items, inputs, lv, history=history)
    return risk_summary(items, inputs, lv, quantile=check)


def risk_summary(items: Items, inputs: PolicyInputs, lv: PolicyLevels, *, quantile: QuantileCheck | None) -> RiskResult:
    """The scope's totals for given per-SKU inputs and levels (capital, holding, stockouts a year, weighted service,
    the demand / lead-time split, the engine snapshot's figures); ``quantile``: a single SKU's quantile check."""
    d = inputs.demand_mean
    w = items.weights
    ss_pos = np.maximum(lv.safety_stock, 0.0)
    capital = float(np.sum(ss_pos * items.unit_cost))
    holding = float(np.sum(ss_pos * items.unit_cost * items.holding_cost_rate))
    ppy = items.run.periods_per_year
    with np.errstate(divide="ignore", invalid="ignore"):
        cycles = np.where(
            (d > 0) & (inputs.order_quantity > 0),
            (items.annual_demand / inputs.order_quantity)
            if inputs.policy == "sQ"
            else np.full(d.shape, ppy / inputs.review_period),
            0.0,
        )
    stockouts = float(np.sum((1.0 - lv.cycle_service_level) * cycles))
    var_d = lv.protection * inputs.sigma**2
    var_l = d**2 * inputs.lead_time_std**2
    total_var = var_d + var_l
    with np.errstate(divide="ignore", invalid="ignore"):
        share_d = np.where(total_var > 0, var_d / total_var, 1.0)
    factor = np.where(lv.sigma_ltd > 0, lv.safety_stock / np.where(lv.sigma_ltd > 0, lv.sigma_ltd, 1.0), 0.0)
    factor = np.maximum(factor, 0.0)
    today_ss = np.nan_to_num(items.safety_stock)
    today_level = np.nan_to_num(items.reorder_point if inputs.policy == "sQ" else items.order_up_to)
    notes: list[str] = []
    slow = int(np.sum(items.rop_method != "normal"))
    zero = int(np.sum(d <= 0))
    if zero == items.n:
        notes.append("No demand is forecast for this scope: no safety stock is needed and nothing is at risk.")
    elif zero:
        notes.append(f"{zero:,} of {items.n:,} SKUs have no forecast demand and need no safety stock.")
    if inputs.measure == "fill_rate" and np.any(lv.safety_stock < 0):
        neg = int(np.sum(lv.safety_stock < 0))
        notes.append(
            f"The order quantity alone meets the fill-rate target for {neg:,} SKU{'s' if neg != 1 else ''}: "
            "the formula gives negative safety stock (shown as 0 in the capital)."
        )
    return RiskResult(
        inputs=inputs,
        levels=lv,
        units=items.run.period_unit,
        n=items.n,
        safety_stock=float(np.sum(lv.safety_stock)),
        level=float(np.sum(lv.level)),
        capital=capital,
        holding_per_year=holding,
        stockouts_per_year=stockouts,
        cycles_per_year=float(np.sum(cycles)),
        cycle_service_level=weighted_mean(lv.cycle_service_level, w),
        fill_rate=weighted_mean(np.nan_to_num(lv.fill_rate, nan=1.0), w),
        demand_part=float(np.sum(lv.safety_stock * share_d)),
        lead_time_part=float(np.sum(lv.safety_stock * (1 - share_d))),
        demand_only=float(np.sum(factor * np.sqrt(var_d))),
        lead_time_only=float(np.sum(factor * np.sqrt(var_l))),
        engine_safety_stock=float(np.sum(today_ss)),
        engine_capital=float(np.sum(np.maximum(today_ss, 0.0) * items.unit_cost)),
        engine_holding_per_year=float(np.sum(np.maximum(today_ss, 0.0) * items.unit_cost * items.holding_cost_rate)),
        engine_level=float(np.sum(today_level)),
        today_target=weighted_mean(items.service_level, items.weights),
        quantile=quantile,
        slow_movers=slow,
        notes=notes,
    )


def quantile_check(
    items: Items, inputs: PolicyInputs, levels: PolicyLevels, *, history: np.ndarray | None = None
) -> QuantileCheck:
    """For one SKU: the reorder-point method :func:`core.slow_movers.reorder_point_auto` picks at the equivalent cycle
    service level (normal, Poisson, negative binomial or bootstrap) and the level it gives."""
    rng = np.random.default_rng(MC_SEED)
    hist = None if history is None or history.size == 0 else np.atleast_2d(history)
    res = slow_movers.reorder_point_auto(
        service_level=clip_csl(levels.cycle_service_level),
        demand_mean=inputs.demand_mean,
        demand_std=inputs.sigma,
        lead_time=inputs.lead_time,
        lead_time_std=inputs.lead_time_std,
        review_period=inputs.review_period,
        demand_class=items.demand_class,
        history=hist,
        rng=rng if hist is not None else None,
        periodic_review=False,
    )
    level = res.reorder_point if inputs.policy == "sQ" else res.order_up_to
    return QuantileCheck(
        method=str(res.method[0]),
        reason=str(res.reason[0]),
        level=float(level[0]),
        normal_level=float(levels.level[0]),
    )


# --------------------------------------------------------------------------------------------------------------------
# efficient frontier


@dataclass(frozen=True)
class FrontierCurve:
    name: str
    kind: str  # "uniform" (one target for every SKU) | "best" (budget spread where it buys most service)
    capital: list[float]
    service: list[float]
    targets: list[float]  # the uniform target of each point (empty for "best")


@dataclass(frozen=True)
class FrontierPoint:
    name: str
    capital: float
    service: float


@dataclass(frozen=True)
class Frontier:
    """Safety-stock capital against service level (CSL or fill rate, weighted by demand value)."""

    measure: str
    curves: list[FrontierCurve]
    today: list[FrontierPoint]  # every SKU at its own target today
    chosen: FrontierPoint  # the page's setting for the whole scope

    def curve(self, name: str, kind: str = "uniform") -> FrontierCurve | None:
        return next((c for c in self.curves if c.name == name and c.kind == kind), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Frontier:
        return cls(
            measure=str(data["measure"]),
            curves=[FrontierCurve(**c) for c in data["curves"]],
            today=[FrontierPoint(**p) for p in data["today"]],
            chosen=FrontierPoint(**data["chosen"]),
        )


def _service_grid(levels: PolicyLevels, measure: str) -> np.ndarray:
    return levels.cycle_service_level if measure == "csl" else np.nan_to_num(levels.fill_rate, nan=1.0)


def _best_allocation(capital: np.ndarray, service: np.ndarray, weights: np.ndarray) -> tuple[list[float], list[float]]:
    """Upper frontier of (total capital, value-weighted service) when each SKU may sit at any grid level
    (:func:`core.allocation.efficient_frontier`: Lagrangian relaxation swept over the price, Everett 1963)."""
    return allocation.efficient_frontier(service=service, money=capital, weight=weights)


def frontier(items: Items, controls: RiskControls, *, grid: Sequence[float] = CSL_GRID) -> Frontier:
    """The efficient frontier of the scope at the controls' lead times, variability and policy.

    Curves: the scope, each ABC class in it (segments only) -- every SKU at the same target -- and, for a segment,
    the best allocation (each SKU's own level chosen so the budget buys the most value-weighted service).
    Points: today (each SKU at its own target) and the page's setting.
    """
    inputs = policy_inputs(items, controls)
    g = np.asarray(grid, dtype=float)
    n, m = items.n, g.size
    cap = np.zeros((n, m))
    svc = np.zeros((n, m))
    for j, t in enumerate(g):
        lv = policy_levels(inputs, target=t)
        cap[:, j] = np.maximum(lv.safety_stock, 0.0) * items.unit_cost
        svc[:, j] = _service_grid(lv, inputs.measure)
    w = items.weights
    curves: list[FrontierCurve] = []
    groups: list[tuple[str, np.ndarray]] = [(items.scope.label if items.n > 1 else items.codes[0], np.ones(n, bool))]
    if items.n > 1:
        groups += [(f"Class {a}", items.abc == a) for a in ABC_CLASSES if np.any(items.abc == a)]
    for name, mask in groups:
        if len(groups) == 2 and name.startswith("Class"):
            continue  # a single ABC class: same as the scope
        wm = w[mask]
        denom = wm.sum() if wm.sum() > 0 else float(mask.sum())
        ww = wm if wm.sum() > 0 else np.ones(int(mask.sum()))
        curves.append(
            FrontierCurve(
                name=name,
                kind="uniform",
                capital=cap[mask].sum(axis=0).tolist(),
                service=((svc[mask] * ww[:, None]).sum(axis=0) / denom).tolist(),
                targets=g.tolist(),
            )
        )
    if items.n > 1:
        bc, bs = _best_allocation(cap, svc, w)
        if bc:
            curves.append(FrontierCurve(name=groups[0][0], kind="best", capital=bc, service=bs, targets=[]))
    today_inputs = policy_inputs(items, RiskControls(**_today_controls(items, controls)))
    today_lv = policy_levels(replace(today_inputs, measure="csl"), target=items.service_level)
    today_cap = np.maximum(today_lv.safety_stock, 0.0) * items.unit_cost
    today_svc = _service_grid(today_lv, inputs.measure)
    today = []
    for name, mask in groups:
        if len(groups) == 2 and name.startswith("Class"):
            continue
        ww = w[mask] if w[mask].sum() > 0 else np.ones(int(mask.sum()))
        today.append(
            FrontierPoint(name=name, capital=float(today_cap[mask].sum()), service=weighted_mean(today_svc[mask], ww))
        )
    lv = policy_levels(inputs)
    chosen = FrontierPoint(
        name=groups[0][0],
        capital=float(np.sum(np.maximum(lv.safety_stock, 0.0) * items.unit_cost)),
        service=weighted_mean(_service_grid(lv, inputs.measure), w if w.sum() > 0 else np.ones(n)),
    )
    return Frontier(measure=inputs.measure, curves=curves, today=today, chosen=chosen)


def _today_controls(items: Items, controls: RiskControls) -> dict[str, Any]:
    """Controls equal to today's inputs (lead times, variability, lot) with the page's measure and policy."""
    defaults = risk_defaults(items)
    return {
        "measure": controls.measure,
        "policy": controls.policy,
        "review_period": controls.review_period if controls.policy == "RS" else DEFAULT_REVIEW_PERIOD,
        "target_pct": defaults["target_pct"] if 0 < defaults["target_pct"] < 100 else 95.0,
        **{k: defaults[k] for k in ("lead_time_days", "lead_time_std_days", "sigma", "order_quantity")},
        "baseline": defaults,
    }


def read_frontier(curve: FrontierCurve, *, capital: float | None = None, service: float | None = None) -> float | None:
    """Read a curve: the service level a budget buys (``capital``) or the budget a service level needs (``service``).

    Linear interpolation between the curve's points; None outside the curve's range.
    """
    caps = np.asarray(curve.capital, dtype=float)
    svcs = np.asarray(curve.service, dtype=float)
    if caps.size < 2:
        return None
    if capital is not None:
        order = np.argsort(caps)
        caps, svcs = caps[order], svcs[order]
        if capital < caps[0] - 1e-9:
            return None
        return float(np.interp(capital, caps, svcs))
    if service is not None:
        order = np.argsort(svcs)
        caps, svcs = caps[order], svcs[order]
        if service < svcs[0] - 1e-12 or service > svcs[-1] + 1e-12:
            return None
        return float(np.interp(service, svcs, caps))
    raise WhatIfError("Enter a budget or a service level to read the frontier")
