"""What "today" is on the Risk engine (/risk) and Profit optimizer (/profit) pages: the stored snapshot (issue 15
item 8), and the page's setting measured from it.

Today, per SKU, is the latest finished run's snapshot row -- the safety stock, reorder point, lot and order policy
the SKU page and the API show -- never a re-derivation with another formula:

- a replenished SKU (``order_policy`` reorder_point): the stored safety stock and reorder point (order-up-to level
  for (R, S)), the engine's lot (EOQ capped at a year of demand, rounded to MOQ / multiple), its own service target;
- a one-shot SKU (``newsvendor``) is modelled by the newsvendor over its season of h periods (the engine's
  forecast horizon): level = the stored newsvendor quantity Q*, safety stock = Q* - mu_h (the buffer above the
  season's expected demand mu_h = D h), target = its critical ratio alpha*. The normal newsvendor is exactly a
  base-stock level protecting h periods with no lead-time spread, Q = mu_h per "cycle" (Snyder & Shen 2019,
  section 4.3), so the page's formula runs it with lead time h, lead-time std 0 and lot mu_h;
- a stopped seller (``phase_out``, issue 15 item 5) has no policy: demand, sigma, safety stock, level and lot 0 at
  any setting.

The page's setting is measured from today: per SKU, level(setting) = stored level + f(setting) - f(stored settings),
where f is the page's transparent formula (:func:`services.whatif.policy_levels`: normal lead-time demand, the
controls' lead time, variability, lot, review policy and target). The offset stored - f(stored) is what the engine
adds on top of the textbook formula (its periodic-review undershoot, Poisson / negative-binomial / bootstrap
quantiles for slow movers); keeping it makes every "vs today" delta exactly zero at the stored settings and lets a
control move the figures by the formula's marginal effect instead of jumping to another method. A target left at
the value shown keeps every SKU at its own target; a new value is one target for every SKU of the scope. Expected
fill rate is :func:`core.policy.expected_fill_rate` at the anchored level.

The Profit optimizer's segment newsvendor is the sum of the SKUs' own newsvendors (each SKU its own demand, margin
and salvage): its quantity is the sum of per-SKU Q*_i, and its profit curve moves every SKU from its own optimum by
the same number of its own standard deviations (Q_i(s) = Q*_i + s sigma_i), so the curve peaks at the sum of the
optima. Today is the snapshot's newsvendor quantities (stopped sellers 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import policy
from db.models import Forecast, Sku, SkuSnapshot
from services import whatif as svc

ONE_SHOT, PHASE_OUT, REPLENISHED = "newsvendor", "phase_out", "reorder_point"


# --------------------------------------------------------------------------------------------------------------------
# the snapshot's policy per SKU


@dataclass(frozen=True)
class Baseline:
    """The order policy the run stored per SKU (arrays (n,) in the items' order) and the season length h."""

    order_policy: np.ndarray
    critical_ratio: np.ndarray
    season_periods: int

    @property
    def one_shot(self) -> np.ndarray:
        return self.order_policy == ONE_SHOT

    @property
    def phase_out(self) -> np.ndarray:
        return self.order_policy == PHASE_OUT


def load_baseline(*, session: Session, items: svc.Items) -> Baseline:
    """The stored ``order_policy`` and ``critical_ratio`` of the items' SKUs in their run. Rows written before the
    column existed (NULL) fall back to the master's ``one_shot`` flag, as the SKU page does. h = the run's forecast
    periods (the engine's horizon), 13 when the run stored no forecast."""
    ids = [int(i) for i in items.sku_ids]
    rows = session.execute(
        select(SkuSnapshot.sku_id, SkuSnapshot.order_policy, SkuSnapshot.critical_ratio, Sku.one_shot)
        .join(Sku, Sku.id == SkuSnapshot.sku_id)
        .where(SkuSnapshot.run_id == items.run.id, SkuSnapshot.sku_id.in_(ids))
    ).all()
    found = {int(r[0]): r for r in rows}
    policies, ratios = [], []
    for sku_id in ids:
        row = found.get(sku_id)
        stored = row[1] if row is not None else None
        policies.append(stored or (ONE_SHOT if row is not None and row[3] else REPLENISHED))
        ratios.append(np.nan if row is None or row[2] is None else float(row[2]))
    season = session.scalar(
        select(func.count(Forecast.period)).where(
            Forecast.run_id == items.run.id, Forecast.sku_id == ids[0], Forecast.kind == "future"
        )
    )
    return Baseline(
        order_policy=np.array(policies, dtype=object),
        critical_ratio=np.array(ratios, dtype=float),
        season_periods=int(season) if season else svc.DEFAULT_SEASON_PERIODS,
    )


@dataclass(frozen=True)
class ModelItems(svc.Items):
    """The items as the pages' formula sees them (module docstring): one-shot SKUs as a season, stopped sellers
    without demand; ``lot()`` is the stored lot (the engine's; mu_h for one-shot SKUs; 0 for stopped sellers)."""

    stored_lot: np.ndarray | None = None
    order_policy: np.ndarray | None = None
    season_periods: int = svc.DEFAULT_SEASON_PERIODS

    def lot(self) -> np.ndarray:
        return super().lot() if self.stored_lot is None else self.stored_lot

    @property
    def one_shot(self) -> np.ndarray:
        return np.zeros(self.n, bool) if self.order_policy is None else self.order_policy == ONE_SHOT

    @property
    def phase_out(self) -> np.ndarray:
        return np.zeros(self.n, bool) if self.order_policy is None else self.order_policy == PHASE_OUT


def model_items(items: svc.Items, baseline: Baseline) -> ModelItems:
    """Today's per-SKU model (module docstring): stored levels and lot, one-shot SKUs as their season's newsvendor,
    stopped sellers with nothing. Raises ValueError when ``baseline`` does not describe the items."""
    if baseline.order_policy.shape != (items.n,):
        raise ValueError(f"baseline must describe {items.n} SKUs, got {baseline.order_policy.shape}")
    shot, out = baseline.one_shot, baseline.phase_out
    h = float(baseline.season_periods)
    d = np.where(out, 0.0, items.demand_mean)
    season_demand = d * h
    nv = np.where(shot, np.nan_to_num(items.newsvendor_qty), np.nan)
    ratio = np.where(np.isfinite(baseline.critical_ratio), baseline.critical_ratio, items.service_level)
    base = {f.name: getattr(items, f.name) for f in fields(svc.Items)}
    base.update(
        demand_mean=d,
        sigma=np.where(out, 0.0, items.sigma),
        lead_time=np.where(shot, h, items.lead_time),
        lead_time_std=np.where(shot, 0.0, items.lead_time_std),
        service_level=np.where(shot, np.clip(ratio, 0.001, 0.999), items.service_level),
        safety_stock=np.where(shot, nv - season_demand, np.where(out, 0.0, np.nan_to_num(items.safety_stock))),
        reorder_point=np.where(shot, nv, np.where(out, 0.0, np.nan_to_num(items.reorder_point))),
        order_up_to=np.where(shot, nv, np.where(out, 0.0, np.nan_to_num(items.order_up_to))),
        rop_method=np.where(shot | out, "normal", items.rop_method).astype(object),
    )
    lot = np.where(shot, season_demand, np.where(out, 0.0, items.lot()))
    return ModelItems(**base, stored_lot=lot, order_policy=baseline.order_policy, season_periods=int(h))


def load_model(*, session: Session, scope: svc.Scope) -> ModelItems | None:
    """The scope's items from the latest run, as today's model (None before the first run / nothing matches)."""
    items = svc.load_items(session=session, scope=scope)
    if items is None:
        return None
    return model_items(items, load_baseline(session=session, items=items))


# --------------------------------------------------------------------------------------------------------------------
# Risk engine: today and the setting


def stored_controls(items: svc.Items, controls: svc.RiskControls | None = None) -> svc.RiskControls:
    """The controls at the stored settings: the values the page shows for the scope, cycle service level, (s, Q)
    reviewed every period -- how the engine sets the snapshot."""
    defaults = svc.risk_defaults(items)
    keys = ("measure", "target_pct", "lead_time_days", "lead_time_std_days", "sigma", "order_quantity", "policy")
    return svc.RiskControls(
        **{k: defaults[k] for k in keys}, review_period=svc.DEFAULT_REVIEW_PERIOD, baseline=defaults
    )


def _same(entered: Any, shown: Any) -> bool:
    try:
        return math.isclose(float(entered), float(shown), rel_tol=1e-9, abs_tol=1e-9)
    except (TypeError, ValueError):
        return False


def uses_own_targets(items: svc.Items, controls: svc.RiskControls) -> bool:
    """True while the target shown is left as it is with the cycle service level: every SKU keeps its own target."""
    shown = (controls.baseline or {}).get("target_pct")
    return controls.measure == "csl" and shown is not None and _same(controls.target_pct, shown)


def _targets(items: svc.Items, controls: svc.RiskControls, inputs: svc.PolicyInputs) -> np.ndarray | float:
    """Each SKU's own target while the target shown is left as it is (cycle service level), else the one entered."""
    return items.service_level if uses_own_targets(items, controls) else inputs.target


def _fill(inputs: svc.PolicyInputs, level: np.ndarray, sigma_ltd: np.ndarray, protection: np.ndarray) -> np.ndarray:
    d, q = inputs.demand_mean, inputs.order_quantity
    out = np.full(d.shape, np.nan)
    has = (d > 0) & (q > 0)
    if has.any():
        out[has] = policy.expected_fill_rate(
            order_quantity=q[has],
            reorder_point=level[has],
            lead_time_demand_mean=(d * protection)[has],
            lead_time_demand_std=sigma_ltd[has],
        )
    return out


def _stored_level(items: svc.Items) -> np.ndarray:
    return np.nan_to_num(items.reorder_point)


def today_levels(items: svc.Items) -> tuple[svc.PolicyInputs, svc.PolicyLevels]:
    """Today's inputs (the stored settings) and levels (the snapshot's safety stock and reorder point, each SKU's
    own target as its cycle service level, the expected fill rate at the stored reorder point)."""
    inputs = svc.policy_inputs(items, stored_controls(items))
    formula = svc.policy_levels(inputs, target=items.service_level)
    level = _stored_level(items)
    ss = np.nan_to_num(items.safety_stock)
    csl = np.where(inputs.demand_mean > 0, items.service_level, 1.0)
    fill = _fill(inputs, level, formula.sigma_ltd, formula.protection)
    return inputs, replace(formula, safety_stock=ss, level=level, cycle_service_level=csl, fill_rate=fill)


def setting_levels(items: svc.Items, controls: svc.RiskControls) -> tuple[svc.PolicyInputs, svc.PolicyLevels, Any]:
    """The setting's inputs, its levels measured from today (module docstring) and the unanchored formula levels.

    Raises
    ------
    services.whatif.WhatIfError
        A control is missing or out of range (the message names it).
    """
    inputs = svc.policy_inputs(items, controls)
    formula = svc.policy_levels(inputs, target=_targets(items, controls, inputs))
    stored_inputs = svc.policy_inputs(items, stored_controls(items))
    at_stored = svc.policy_levels(stored_inputs, target=items.service_level)
    level = formula.level + (_stored_level(items) - at_stored.level)
    ss = formula.safety_stock + (
        np.nan_to_num(items.safety_stock) - at_stored.safety_stock
    )  # = level - D L in the engine
    csl = np.where(inputs.demand_mean > 0, formula.cycle_service_level, 1.0)
    fill = _fill(inputs, level, formula.sigma_ltd, formula.protection)
    anchored = replace(formula, safety_stock=ss, level=level, cycle_service_level=csl, fill_rate=fill)
    return inputs, anchored, formula


def risk_today(items: svc.Items) -> svc.RiskResult:
    """Today's figures for the scope: the snapshot (module docstring)."""
    inputs, levels = today_levels(items)
    return svc.risk_summary(items, inputs, levels, quantile=None)


def risk_setting(items: svc.Items, controls: svc.RiskControls, *, history: np.ndarray | None = None) -> svc.RiskResult:
    """The figures at the page's setting, measured from today; a single SKU with demand also gets the quantile check
    (the engine's method for slow movers against the normal formula's level)."""
    inputs, levels, formula = setting_levels(items, controls)
    check = None
    if items.n == 1 and inputs.demand_mean[0] > 0 and not bool(getattr(items, "one_shot", np.zeros(1))[0]):
        check = svc.quantile_check(items, inputs, formula, history=history)
    return svc.risk_summary(items, inputs, levels, quantile=check)


def _group_mask(items: svc.Items, name: str) -> np.ndarray:
    if name.startswith("Class ") and items.n > 1:
        return items.abc == name.removeprefix("Class ")
    return np.ones(items.n, bool)


def _point(items: svc.Items, levels: svc.PolicyLevels, measure: str, mask: np.ndarray) -> tuple[float, float]:
    capital = float(np.sum(np.maximum(levels.safety_stock[mask], 0.0) * items.unit_cost[mask]))
    service = levels.cycle_service_level if measure == "csl" else np.nan_to_num(levels.fill_rate, nan=1.0)
    w = items.weights[mask]
    return capital, svc.weighted_mean(service[mask], w if w.sum() > 0 else np.ones(int(mask.sum())))


def risk_frontier(items: svc.Items, controls: svc.RiskControls, *, setting: svc.RiskResult) -> svc.Frontier:
    """The frontier's curves (:func:`services.whatif.frontier`, the formula with one target for every SKU) with
    today's points at the snapshot and the page's point at the setting's anchored figures."""
    front = svc.frontier(items, controls)
    _, today = today_levels(items)
    measure = front.measure
    points = []
    for p in front.today:
        capital, service = _point(items, today, measure, _group_mask(items, p.name))
        points.append(svc.FrontierPoint(name=p.name, capital=capital, service=service))
    capital, service = _point(items, setting.levels, measure, np.ones(items.n, bool))
    return replace(
        front, today=points, chosen=svc.FrontierPoint(name=front.chosen.name, capital=capital, service=service)
    )


def model_notes(items: ModelItems, *, one_shot: bool = True) -> list[str]:
    """What the page says about the SKUs it models differently from a replenished SKU (``one_shot`` False: only
    the stopped sellers, for the Profit optimizer where every SKU is a newsvendor)."""
    notes = []
    shot, out = int(items.one_shot.sum()) if one_shot else 0, int(items.phase_out.sum())
    h = items.season_periods
    unit = items.run.period_unit
    if shot and items.n == 1:
        notes.append(
            f"One-shot (seasonal) buy: modelled by the newsvendor over its {h}-{unit} season. The level is the "
            "season's newsvendor quantity, safety stock the part above the season's expected demand, the target its "
            "critical ratio; the season stands in for the lead time (it is not replenished)."
        )
    elif shot:
        notes.append(
            f"{shot:,} one-shot SKU{'s' if shot != 1 else ''} modelled by the newsvendor over the {h}-{unit} season "
            "(level = newsvendor quantity, target = critical ratio)."
        )
    if out and items.n == 1:
        notes.append("Stopped seller, phased out: no safety stock and no order at any setting.")
    elif out:
        notes.append(
            f"{out:,} stopped seller{'s are' if out != 1 else ' is'} phased out: no demand, safety stock or order "
            "is planned for them."
        )
    return notes


# --------------------------------------------------------------------------------------------------------------------
# Profit optimizer: today and the per-SKU newsvendor curve


@dataclass(frozen=True)
class ProfitToday:
    """The snapshot's newsvendor quantities for the scope and their expected profit at the stored economics."""

    quantity: float
    expected_profit: float
    order_value: float


def profit_today(items: svc.Items) -> ProfitToday:
    """Sum of the stored newsvendor quantities (undefined ones count 0) and their expected profit at the stored
    economics (the page's inputs at today's values)."""
    defaults = svc.profit_defaults(items)
    econ, _ = svc.economics(items, svc.ProfitControls(**defaults, baseline=defaults))
    q = np.nan_to_num(items.newsvendor_qty)
    profit = np.asarray(
        policy.newsvendor_expected_profit(
            quantity=q,
            price=econ.price,
            unit_cost=econ.unit_cost,
            salvage_value=econ.salvage_value,
            demand_mean=econ.season_mean,
            demand_std=econ.season_std,
            holding_cost=econ.holding,
            stockout_cost=econ.penalty,
        ),
        dtype=float,
    )
    return ProfitToday(
        quantity=float(q.sum()),
        expected_profit=float(np.nansum(profit)),
        order_value=float(np.sum(q * econ.unit_cost)),
    )


def newsvendor_view(items: svc.Items, econ: svc.Economics) -> svc.NewsvendorView:
    """:func:`services.whatif.newsvendor_view` with a segment's curve built from the SKUs' own optima: every SKU
    orders Q*_i + s sigma_i (sigma_i its own season std; SKUs whose optimum is 0 stay at 0), s from -3 to 3, so the
    curve's peak is the sum of the per-SKU optima (never one pooled distribution)."""
    view = svc.newsvendor_view(items, econ)
    if items.n == 1:
        return view
    opt = svc.optimal_quantities(econ)
    q_star = opt["quantity"]
    active = (q_star > 0)[:, None]
    sd = econ.season_std[:, None]
    qs = np.where(active, np.maximum(q_star[:, None] + sd * svc.Z_GRID[None, :], 0.0), 0.0)
    mu = econ.season_mean[:, None]
    profit = svc.grid_profit(econ, qs, mu, sd)
    lost = np.asarray(policy.expected_shortage(level=qs, mean=mu, std=sd), dtype=float)
    left = qs - mu + lost
    return replace(
        view,
        curve_quantity=qs.sum(axis=0).tolist(),
        curve_profit=profit.sum(axis=0).tolist(),
        curve_leftover=left.sum(axis=0).tolist(),
        curve_lost=lost.sum(axis=0).tolist(),
    )
