"""Fit-and-replay: would the engine's policy have worked on demand it did not see, against the textbook frontier?

Public API (pure, no I/O; the backtest use case and bench/policy.py call the same code):

- :func:`evaluate_policies` ``(*, codes, history, period_dates, grain, sku, periods, settings=None,
  targets=FRONTIER_TARGETS, backorders=True, rng=None, keep_paths=False) -> PolicyEvaluation``.
- :func:`textbook_policy` (the baseline's reorder point and lot), :func:`engine_replay_policy` (the engine's policy
  as replay arguments), :func:`frontier_comparison` (reading the frontier at the engine's point),
  :func:`replay_point`, :data:`FRONTIER_TARGETS`, :class:`PolicyPoint`, :class:`PolicyEvaluation`.

Method. The history (n, T) is cut at T - N: the engine (:func:`core.portfolio.compute_batch`, the same call a
recompute makes) is fitted on the first T - N periods and its policy -- reorder point s, order-up-to level S and order
lot Q -- is replayed through the last N periods (:func:`core.backtest.replay_policy`). The textbook baseline uses the
same fit periods: per SKU the mean mu and standard deviation sigma of the fit history, ROP = mu L + z sigma sqrt(L)
(z = Phi^-1(target)), lot Q = EOQ sqrt(2 K D / h) with D = mu per year, under the engine's lot rule (capped at
``max_order_cover_days`` of demand, rounded to the feasible MOQ / multiple neighbour at the lower cost), replayed as
(s, nQ). It is replayed once at each SKU's own
target (``baseline``) and once per uniform target in ``targets`` (the *frontier*: demand-weighted fill rate
against average inventory value). Every replay has the same start rule (the policy's top level, nothing on order),
lead times, review period, MOQ / multiples and unit costs.

Comparison (:func:`frontier_comparison`): the frontier is made monotone (the upper envelope, fill never falling as
inventory rises) and read by linear interpolation: fill-rate gap at equal inventory = engine fill - frontier fill at
the engine's inventory value; inventory ratio at equal fill = engine inventory / frontier inventory at the engine's
fill. Each is NaN when the engine's point lies outside the frontier's range. The portfolio fill rate is
demand-weighted (units served / units demanded over all SKUs).

Sources: Silver, Pyke & Thomas (2017) ch. 6 (reorder point, EOQ, service measures), section 7.2 (exchange curves:
aggregate service against aggregate inventory investment as a policy parameter is swept); Law (2015) section 4.7
(trace-driven simulation).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from core.backtest import ReplayResult, ReplaySummary, replay_policy, summarise, top_level
from core.calendar import GRAIN_DAYS
from core.portfolio import BatchInputs, BatchResult, EngineSettings, compute_batch, recompute_policy
from core.replenishment import order_lot

FRONTIER_TARGETS: tuple[float, ...] = (
    0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.975, 0.98, 0.985, 0.99, 0.993, 0.995,
    0.997, 0.999,
)  # fmt: skip
"""Uniform service targets of the textbook frontier (0.50-0.999)."""


@dataclass(frozen=True)
class PolicyPoint:
    """One replayed policy: its name, the uniform target (NaN for per-SKU targets), portfolio figures and the
    per-SKU replay."""

    name: str
    service_target: float
    summary: ReplaySummary
    replay: ReplayResult

    def as_dict(self) -> dict[str, float]:
        """``service_target``, ``fill_rate``, ``cycle_service_level``, ``average_inventory_value`` (JSON-ready)."""
        s = self.summary
        return {
            "service_target": float(self.service_target),
            "fill_rate": s.fill_rate,
            "cycle_service_level": s.cycle_service_level,
            "average_inventory_value": s.average_inventory_value,
        }


@dataclass(frozen=True)
class PolicyEvaluation:
    """Result of :func:`evaluate_policies`.

    Attributes
    ----------
    periods
        N, periods replayed.
    target_service_level
        Demand-weighted mean of the SKUs' own service targets (weights: replayed demand).
    engine, baseline
        The engine's policy and the textbook at each SKU's own target.
    frontier
        The textbook at each uniform target, in ``targets`` order.
    fill_gap_at_equal_inventory, inventory_ratio_at_equal_fill
        :func:`frontier_comparison` of the engine's point.
    engine_batch
        The engine's fit (:class:`core.portfolio.BatchResult` on the first T - N periods).
    policies
        name -> dict of the replayed policy arrays (reorder_point, order_up_to, order_quantity), "engine" and
        "baseline".
    fit_inputs, settings, test_demand, replay_kwargs
        What the engine was fitted on, its settings, the replayed demand (n, N) and the replay's shared arguments
        (lead times, costs, MOQ, ...): :func:`engine_curve` replays the engine at other targets with them.
    """

    periods: int
    target_service_level: float
    engine: PolicyPoint
    baseline: PolicyPoint
    frontier: list[PolicyPoint]
    fill_gap_at_equal_inventory: float
    inventory_ratio_at_equal_fill: float
    engine_batch: BatchResult
    policies: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    fit_inputs: BatchInputs | None = None
    settings: EngineSettings | None = None
    test_demand: np.ndarray | None = None
    replay_kwargs: dict[str, Any] = field(default_factory=dict)


def frontier_comparison(
    *, frontier_inventory: Any, frontier_fill: Any, inventory: float, fill: float
) -> tuple[float, float]:
    """``(fill_gap_at_equal_inventory, inventory_ratio_at_equal_fill)`` of a point against a frontier.

    The frontier's points are sorted by inventory and made monotone (fill = running maximum); fill at the point's
    inventory and inventory at the point's fill are read by linear interpolation (the smallest inventory reaching
    that fill). gap = fill - frontier fill (NaN when the inventory is outside the frontier's range); ratio =
    inventory / frontier inventory (NaN when the fill is outside the frontier's fill range).
    """
    inv = np.asarray(frontier_inventory, dtype=float)
    fil = np.asarray(frontier_fill, dtype=float)
    if inv.shape != fil.shape or inv.ndim != 1:
        raise ValueError("frontier_inventory and frontier_fill must be 1-D arrays of the same length")
    ok = np.isfinite(inv) & np.isfinite(fil)
    inv, fil = inv[ok], fil[ok]
    if inv.size < 2 or not (np.isfinite(inventory) and np.isfinite(fill)):
        return float("nan"), float("nan")
    order = np.argsort(inv, kind="stable")
    inv, fil = inv[order], np.maximum.accumulate(fil[order])
    gap = float("nan")
    if inv[0] - 1e-9 <= inventory <= inv[-1] + 1e-9:
        gap = float(fill - np.interp(inventory, inv, fil))
    ratio = float("nan")
    if fil[0] - 1e-12 <= fill <= fil[-1] + 1e-12:
        # first point reaching the fill, interpolated from the previous one
        j = int(np.searchsorted(fil, fill - 1e-12, side="left"))
        if j == 0:
            need = inv[0]
        else:
            f0, f1, i0, i1 = fil[j - 1], fil[j], inv[j - 1], inv[j]
            need = i1 if f1 <= f0 else i0 + (fill - f0) / (f1 - f0) * (i1 - i0)
        ratio = float(inventory / need) if need > 0 else float("nan")
    return gap, ratio


def textbook_policy(
    *,
    fit_history: np.ndarray,
    service_level: Any,
    lead_time: Any,
    unit_cost: Any,
    holding_cost_rate: Any,
    order_cost: Any,
    moq: Any,
    order_multiple: Any,
    days_per_period: float,
    max_order_cover_days: float = 365.0,
) -> dict[str, np.ndarray]:
    """The textbook baseline: ROP = mu L + z sigma sqrt(L), lot = EOQ, from the fit history alone.

    mu, sigma: mean and standard deviation (ddof 0) of the observed (non-NaN) fit periods, negatives as 0; z =
    Phi^-1(service_level); L in periods; Q = sqrt(2 K mu_year / h), h = unit cost x holding rate, with the engine's
    lot rule (:func:`core.replenishment.order_lot`: at most ``max_order_cover_days`` of demand, rounded to the
    cheaper feasible MOQ / multiple neighbour), so that engine and baseline differ only in their levels. A SKU
    without demand gets no reorder point (NaN: never orders). Returns replay arguments ``reorder_point``,
    ``order_up_to`` (NaN: the (s, nQ) rule) and ``order_quantity``. Source: Silver, Pyke & Thomas (2017) eq. 6.6
    and 4.2.
    """
    h = np.asarray(fit_history, dtype=float)
    if h.ndim != 2:
        raise ValueError(f"fit_history must be 2-D (n, T), got shape {h.shape}")
    h = np.where(np.isnan(h), np.nan, np.maximum(h, 0.0))
    n = h.shape[0]
    seen = np.isfinite(h).sum(axis=1)
    mu = np.where(seen > 0, np.nansum(h, axis=1) / np.maximum(seen, 1), 0.0)
    dev = np.where(np.isfinite(h), h - mu[:, None], 0.0)
    sigma = np.sqrt((dev * dev).sum(axis=1) / np.maximum(seen, 1))
    sl = np.broadcast_to(np.asarray(service_level, dtype=float), (n,))
    lt = np.broadcast_to(np.asarray(lead_time, dtype=float), (n,))
    z = stats.norm.ppf(sl)
    rop = mu * lt + z * sigma * np.sqrt(lt)
    _, q = order_lot(
        demand_mean=mu,
        days_per_period=days_per_period,
        unit_cost=np.asarray(unit_cost, dtype=float),
        holding_cost_rate=np.nan_to_num(np.asarray(holding_cost_rate, dtype=float)),
        order_cost=np.nan_to_num(np.asarray(order_cost, dtype=float)),
        moq=np.nan_to_num(np.asarray(moq, dtype=float)),
        order_multiple=np.asarray(order_multiple, dtype=float),
        max_order_cover_days=max_order_cover_days,
    )
    has = mu > 0
    return {
        "reorder_point": np.where(has, rop, np.nan),
        "order_up_to": np.full(n, np.nan),
        "order_quantity": np.where(has, q, 0.0),
    }


def engine_replay_policy(batch: BatchResult) -> dict[str, np.ndarray]:
    """The engine's policy as replay arguments: s = reorder_point, S = order_up_to, Q = the order lot.

    SKUs without forecast demand never order (the engine recommends nothing for them: s = NaN) unless their reorder
    point is > 0 (the planner's minimum stock, :mod:`core.min_stock`); one-shot SKUs are bought once (start at the
    newsvendor quantity, s = NaN).
    """
    snap = batch.snapshot
    return _engine_arrays(
        reorder_point=snap["reorder_point"].to_numpy(dtype=float),
        order_up_to=snap["order_up_to"].to_numpy(dtype=float),
        lot=np.asarray(batch.extras.get("order_lot", np.zeros(len(snap))), dtype=float),
        demand_mean=snap["forecast_per_period"].to_numpy(dtype=float),
        one_shot=(snap["order_policy"] == "newsvendor").to_numpy(),
        newsvendor_qty=snap["newsvendor_qty"].to_numpy(dtype=float),
    )


def _engine_arrays(
    *, reorder_point: Any, order_up_to: Any, lot: Any, demand_mean: Any, one_shot: Any, newsvendor_qty: Any
) -> dict[str, np.ndarray]:
    d = np.asarray(demand_mean, dtype=float)
    one = np.asarray(one_shot, dtype=bool)
    floored = np.nan_to_num(np.asarray(reorder_point, dtype=float)) > 0  # no forecast, a planner's minimum stock
    never = ~((d > 0) | floored) | one
    return {
        "reorder_point": np.where(never, np.nan, np.asarray(reorder_point, dtype=float)),
        "order_up_to": np.where(one, np.nan, np.asarray(order_up_to, dtype=float)),
        "order_quantity": np.where(never, 0.0, np.nan_to_num(np.asarray(lot, dtype=float))),
        "start": np.where(one, np.nan_to_num(np.asarray(newsvendor_qty, dtype=float)), np.nan),
    }


def replay_point(
    *,
    name: str,
    service_target: float,
    demand: np.ndarray,
    policy_arrays: dict[str, np.ndarray],
    replay_kwargs: dict[str, Any],
) -> PolicyPoint:
    """Replay ``policy_arrays`` (reorder_point, order_up_to, order_quantity, optional start) with the shared
    ``replay_kwargs`` (lead times, costs, MOQ, ...) and summarise it."""
    start = policy_arrays.get("start")
    initial = None
    if start is not None and np.isfinite(start).any():
        top = top_level(
            reorder_point=policy_arrays["reorder_point"],
            order_up_to=policy_arrays["order_up_to"],
            order_quantity=policy_arrays["order_quantity"],
        )
        initial = np.where(np.isfinite(start), start, top)
    res = replay_policy(
        demand=demand,
        reorder_point=policy_arrays["reorder_point"],
        order_up_to=policy_arrays["order_up_to"],
        order_quantity=policy_arrays["order_quantity"],
        initial_on_hand=initial,
        **replay_kwargs,
    )
    return PolicyPoint(name=name, service_target=float(service_target), summary=summarise(res), replay=res)


def _columns(sku: pd.DataFrame, n: int) -> dict[str, np.ndarray]:
    defaults = {
        "unit_cost": np.nan,
        "holding_cost_rate": 0.25,
        "order_cost": 0.0,
        "moq": 0.0,
        "order_multiple": 1.0,
        "service_level": 0.95,
        "lead_time_std_days": 0.0,
    }
    out: dict[str, np.ndarray] = {}
    for name in ("lead_time_mean_days", *defaults):
        if name in sku.columns:
            v = pd.to_numeric(sku[name], errors="coerce").to_numpy(dtype=float)
        elif name in defaults:
            v = np.full(n, defaults[name])
        else:
            raise ValueError(f"sku is missing column {name!r}")
        if name in defaults and name != "unit_cost":
            v = np.where(np.isnan(v), defaults[name], v)
        out[name] = v
    return out


def evaluate_policies(
    *,
    codes: list[str],
    history: np.ndarray,
    period_dates: pd.DatetimeIndex,
    grain: str,
    sku: pd.DataFrame,
    periods: int,
    settings: EngineSettings | None = None,
    targets: tuple[float, ...] = FRONTIER_TARGETS,
    backorders: bool = True,
    rng: np.random.Generator | None = None,
    keep_paths: bool = False,
) -> PolicyEvaluation:
    """Fit the engine and the textbook on all but the last ``periods`` periods and replay both through them.

    Parameters
    ----------
    codes, history, period_dates, grain, sku
        As :class:`core.portfolio.BatchInputs` (history (n, T); sku: the master columns, at least
        lead_time_mean_days; unit_cost for the inventory value).
    periods
        N, periods to replay (1 <= N < T).
    settings
        Engine settings (default :class:`core.portfolio.EngineSettings`); ``review_period`` is the replay's R.
    targets
        Uniform service targets of the textbook frontier, each in (0, 1).
    backorders
        Unmet demand backordered (True) or lost.
    rng
        With a generator, lead times are drawn per order from Normal(L, sigma_L) (``lead_time_std_days``);
        without, they are the deterministic means.
    keep_paths
        Keep the per-period paths of the engine's and the baseline's replays (for charts).

    Returns
    -------
    PolicyEvaluation

    Raises
    ------
    ValueError
        ``periods`` not in [1, T), a target outside (0, 1), or anything :func:`core.portfolio.compute_batch` rejects.
    """
    settings = settings or EngineSettings()
    hist = np.asarray(history, dtype=float)
    if hist.ndim != 2:
        raise ValueError(f"history must be 2-D (n, T), got shape {hist.shape}")
    n, t_len = hist.shape
    if isinstance(periods, bool) or int(periods) != periods or not 1 <= periods < t_len:
        raise ValueError(f"periods must be an integer in [1, {t_len - 1}] for a history of {t_len} periods")
    if not targets or any(not 0 < float(t) < 1 for t in targets):
        raise ValueError("targets must be service levels strictly between 0 and 1")
    if grain not in GRAIN_DAYS:
        raise ValueError(f"grain must be one of {sorted(GRAIN_DAYS)}, got {grain!r}")
    cut = t_len - int(periods)
    fit, test = hist[:, :cut], hist[:, cut:]
    sku = sku.reset_index(drop=True)
    fit_inputs = BatchInputs(
        codes=list(codes), history=fit, period_dates=pd.DatetimeIndex(period_dates)[:cut], grain=grain, sku=sku
    )
    batch = compute_batch(fit_inputs, settings=settings)
    days = float(GRAIN_DAYS[grain])
    col = _columns(sku, n)
    random_lt = rng is not None
    shared = {
        "lead_time": col["lead_time_mean_days"] / days,
        "lead_time_std": col["lead_time_std_days"] / days if random_lt else 0.0,
        "unit_cost": col["unit_cost"],
        "review_period": int(settings.review_period),
        "moq": col["moq"],
        "order_multiple": col["order_multiple"],
        "backorders": backorders,
    }

    def kwargs(paths: bool) -> dict[str, Any]:
        out = {**shared, "keep_paths": paths}
        if random_lt:
            out["rng"] = np.random.default_rng(rng.integers(2**63))  # type: ignore[union-attr]
        return out

    engine_pol = engine_replay_policy(batch)
    engine = replay_point(
        name="engine", service_target=np.nan, demand=test, policy_arrays=engine_pol, replay_kwargs=kwargs(keep_paths)
    )
    book = {
        "fit_history": fit,
        "lead_time": shared["lead_time"],
        "unit_cost": col["unit_cost"],
        "holding_cost_rate": col["holding_cost_rate"],
        "order_cost": col["order_cost"],
        "moq": col["moq"],
        "order_multiple": col["order_multiple"],
        "days_per_period": days,
        "max_order_cover_days": settings.max_order_cover_days,
    }
    base_pol = textbook_policy(service_level=col["service_level"], **book)
    baseline = replay_point(
        name="baseline", service_target=np.nan, demand=test, policy_arrays=base_pol, replay_kwargs=kwargs(keep_paths)
    )
    frontier = [
        replay_point(
            name=f"textbook {t:g}",
            service_target=float(t),
            demand=test,
            policy_arrays=textbook_policy(service_level=float(t), **book),
            replay_kwargs=kwargs(False),
        )
        for t in targets
    ]
    gap, ratio = frontier_comparison(
        frontier_inventory=[p.summary.average_inventory_value for p in frontier],
        frontier_fill=[p.summary.fill_rate for p in frontier],
        inventory=engine.summary.average_inventory_value,
        fill=engine.summary.fill_rate,
    )
    weights = engine.replay.demand
    target = float(np.sum(col["service_level"] * weights) / weights.sum()) if weights.sum() > 0 else float("nan")
    return PolicyEvaluation(
        periods=int(periods),
        target_service_level=target,
        engine=engine,
        baseline=baseline,
        frontier=frontier,
        fill_gap_at_equal_inventory=gap,
        inventory_ratio_at_equal_fill=ratio,
        engine_batch=batch,
        policies={"engine": engine_pol, "baseline": base_pol},
        fit_inputs=fit_inputs,
        settings=settings,
        test_demand=test,
        replay_kwargs=shared,
    )


ENGINE_TARGETS: tuple[float, ...] = (0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998)
"""Uniform service targets of :func:`engine_curve` (the engine's own exchange curve)."""


def engine_curve(
    evaluation: PolicyEvaluation, *, targets: tuple[float, ...] = ENGINE_TARGETS, min_stock: Any = None
) -> list[PolicyPoint]:
    """The engine replayed with every SKU's target set to each of ``targets`` (its forecast fitted once: the policy
    stage alone runs again, :func:`core.portfolio.recompute_policy`): the engine's own exchange curve, e.g. to read
    its inventory at another policy's fill rate. ``min_stock`` (n,): the planner's minimum stock of each SKU
    (:mod:`core.min_stock`, NaN = none) in place of the SKU master's.

    Raises
    ------
    ValueError
        ``evaluation`` without its fit inputs, a target outside (0, 1).
    """
    if evaluation.fit_inputs is None or evaluation.test_demand is None:
        raise ValueError("evaluation must come from evaluate_policies (it carries the fit inputs)")
    settings = evaluation.settings or EngineSettings()
    snap = evaluation.engine_batch.snapshot
    inputs = evaluation.fit_inputs
    if min_stock is not None:
        inputs = replace(inputs, sku=inputs.sku.assign(min_stock=np.asarray(min_stock, dtype=float)))
    kwargs = dict(evaluation.replay_kwargs)
    if np.any(np.asarray(kwargs.get("lead_time_std", 0.0)) > 0):  # drawn lead times: a generator of their own
        kwargs["rng"] = np.random.default_rng(settings.random_state)
    points = []
    for t in targets:
        if not 0 < float(t) < 1:
            raise ValueError("targets must be service levels strictly between 0 and 1")
        pol = recompute_policy(inputs, evaluation.engine_batch, settings=settings, service_level=t)
        arrays = _engine_arrays(
            reorder_point=pol.reorder_point,
            order_up_to=pol.order_up_to,
            lot=pol.lot,
            demand_mean=snap["forecast_per_period"].to_numpy(dtype=float),
            one_shot=pol.order_policy == "newsvendor",
            newsvendor_qty=pol.newsvendor_qty,
        )
        points.append(
            replay_point(name=f"engine {t:g}", service_target=float(t), demand=evaluation.test_demand,
                         policy_arrays=arrays, replay_kwargs=kwargs)
        )  # fmt: skip
    return points


__all__ = [
    "ENGINE_TARGETS",
    "FRONTIER_TARGETS",
    "PolicyEvaluation",
    "PolicyPoint",
    "engine_curve",
    "engine_replay_policy",
    "evaluate_policies",
    "frontier_comparison",
    "replay_point",
    "textbook_policy",
]
