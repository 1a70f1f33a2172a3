"""The engine: forecast + classify + policy + health + KPIs for a batch of SKUs, then portfolio-wide steps.

``compute_batch`` works on one batch (any subset of SKUs, same period grid); ``finalize_portfolio`` concatenates
batches and runs the portfolio-wide steps (ABC by annual demand value, KPIs). Interface: docs/engine-contract.md.

Per SKU (D = mean forecast per period over the horizon, after planner overrides; sigma = backtest error std per
period; L, sigma_L = lead time mean / std in periods; R = review period; z = Phi^-1(service level)):

- reorder_point / safety_stock / order_up_to: :func:`core.slow_movers.reorder_point_auto` -- normal (with the review
  undershoot allowance of :func:`core.policy.reorder_point_periodic` when ``periodic_review_rop``), Poisson,
  negative binomial or bootstrap as chosen by :func:`core.slow_movers.choose_rop_method`; safety_stock = ROP - D L.
- eoq = sqrt(2 K D_year / h), h = unit_cost x holding_cost_rate (NaN where h = 0 and K D > 0). The lot used for
  ordering is the EOQ capped at ``max_order_cover_days`` of demand and rounded to MOQ / multiple by total cost.
- recommended_qty: when the position (on hand + on order) is at or below the reorder point and D > 0, order
  max(lot, order_up_to - position) rounded up to the MOQ / multiple; otherwise 0.
- order_by_periods: 0 when at or below the reorder point (order now), else ceil((position - ROP) / D) >= 1: the
  period in which forecast demand takes the position to the reorder point; NaN when D = 0.
- newsvendor_qty: one-shot buy for the horizon: demand mean = forecast sum over the horizon, std = sigma sqrt(h);
  Cu = price - cost, Co = cost - salvage + holding over the horizon; 0 when Cu <= 0, NaN without a price.
- one-shot SKUs (``sku.one_shot`` true: seasonal / one-time buys that are not replenished) are ordered by the
  newsvendor instead: critical ratio alpha* = Cu / (Cu + Co) (:func:`newsvendor_critical_ratio`; the service level
  target when the price is not given (NaN or 0) or Co <= 0), newsvendor_qty = mu_h + sigma sqrt(h) Phi^-1(alpha*)
  (0 when alpha* = 0), recommended_qty = max(newsvendor_qty - position, 0) rounded up to the MOQ / multiple,
  order_by_periods 0 when there is a need (order now), NaN when not (no reorder point triggers a one-shot buy).
  Source: Snyder & Shen (2019) section 4.3; Silver, Pyke & Thomas (2017) chapter 10 (style goods).
- stopped sellers (sales in the history, none for max(13, 3 x the mean interval between sales) periods,
  :func:`core.health.stopped_sellers`) are phased out after the policy stage (:func:`phase_out_stopped_sellers`):
  no order, reorder point / safety stock / order-up-to / newsvendor quantity 0, status dead_stock ("Phase-out: ...").
- order_policy: ``"newsvendor"`` for one-shot SKUs, ``"phase_out"`` for stopped sellers, ``"reorder_point"`` for
  the others; critical_ratio: alpha* of the one-shot SKUs (NaN for the others).
- days_of_cover = on hand / daily forecast (NaN when D = 0); annual_demand = D x periods per year.
- on_hand may be negative (backorders): it lowers the position; inventory_value = max(on_hand, 0) x unit_cost.
- excess_value = unit cost x units on hand above the policy maximum max(order_up_to, ROP + lot); for one-shot SKUs
  above what the season can sell, max(newsvendor_qty, mu_h + m max(sigma sqrt(h), sqrt(mu_h))), m =
  ``overstock_cover_multiple`` (:func:`core.health.one_shot_season_limit`, also their overstock line).
- value_at_risk: :func:`core.kpi.value_at_risk` (lost margin over the lead time for stockout_risk, excess value for
  overstock, on-hand value for dead_stock).
- status / status_reason / surge_z: :func:`core.health.health_status` (rules and precedence there; one-shot SKUs
  are judged against the season -- newsvendor quantity and horizon demand -- instead of the reorder point).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from core import classify, health, kpi
from core.consensus import consensus_layers
from core.coverage import compute_two_pass
from core.engine_types import (
    _FLAG_COLUMNS,
    _SKU_DEFAULTS,
    LAYER_KEYS,
    ORDER_POLICIES,
    SKU_COLUMNS,
    SNAPSHOT_COLUMNS,
    BatchInputs,
    BatchResult,
    EngineSettings,
    PortfolioResult,
    demand_history,
)
from core.forecast.engine import plan_cuts
from core.min_stock import apply_min_stock, min_stock_floor
from core.progress import step
from core.replenishment import (
    ReplenishmentPolicy,
    newsvendor_critical_ratio,
    replenishment_policy,
    stored_policy_fill_rates,
)


# --------------------------------------------------------------------------------------------------------------------
def _grain(grain: str) -> tuple[float, int]:
    from core.calendar import GRAIN_DAYS, default_season_length

    if grain not in GRAIN_DAYS:
        raise ValueError(f"grain must be one of {sorted(GRAIN_DAYS)}, got {grain!r}")
    return float(GRAIN_DAYS[grain]), int(default_season_length(grain))


def _forecast_dates(period_dates: pd.DatetimeIndex, grain: str, horizon: int) -> pd.DatetimeIndex:
    dates = pd.DatetimeIndex(period_dates)
    last = dates[-1]
    freq = pd.infer_freq(dates) if len(dates) >= 3 else None
    if freq is not None:
        return pd.date_range(last, periods=horizon + 1, freq=freq)[1:]
    if grain == "monthly":
        return pd.DatetimeIndex([last + pd.DateOffset(months=k) for k in range(1, horizon + 1)])
    step = 7 if grain == "weekly" else 1
    return pd.DatetimeIndex([last + pd.Timedelta(days=step * k) for k in range(1, horizon + 1)])


def _sku_column(sku: pd.DataFrame, name: str, codes: list[str]) -> np.ndarray:
    if name not in sku.columns:
        if name in _SKU_DEFAULTS:
            return np.full(len(sku), _SKU_DEFAULTS[name])
        raise ValueError(f"sku is missing column {name!r}")
    values = pd.to_numeric(sku[name], errors="coerce").to_numpy(dtype=float)
    if name in _SKU_DEFAULTS:
        values = np.where(np.isnan(values), _SKU_DEFAULTS[name], values)
    bad = values < 0 if name != "on_hand" else np.zeros(values.shape, dtype=bool)  # negative on hand = backorders
    if bad.any():
        raise ValueError(f"sku column {name} must be >= 0; negative for {[codes[i] for i in np.flatnonzero(bad)[:5]]}")
    return values


def _flag_column(sku: pd.DataFrame, name: str) -> np.ndarray:
    """A boolean SKU column (absent, None or NaN -> False; numbers: non-zero -> True)."""
    if name not in sku.columns:
        return np.zeros(len(sku), dtype=bool)
    values = sku[name]
    if values.dtype == bool:
        return values.to_numpy()
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return np.nan_to_num(numbers) != 0


def _nanmean_rows(x: np.ndarray) -> np.ndarray:
    ok = np.isfinite(x)
    cnt = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, np.where(ok, x, 0.0).sum(axis=1) / np.maximum(cnt, 1), np.nan)


def _validate(inputs: BatchInputs, settings: EngineSettings) -> tuple[np.ndarray, int, int]:
    if not isinstance(settings, EngineSettings):
        raise ValueError("settings must be an EngineSettings")
    history = np.asarray(inputs.history, dtype=float)
    if history.ndim != 2:
        raise ValueError(f"history must be 2-D (n, T), got shape {history.shape}")
    n, t = history.shape
    if len(inputs.codes) != n:
        raise ValueError(f"codes has {len(inputs.codes)} entries but history has {n} rows")
    if len(set(inputs.codes)) != n:
        raise ValueError("codes must be unique")
    if len(inputs.sku) != n:
        raise ValueError(f"sku has {len(inputs.sku)} rows but history has {n}")
    if len(inputs.period_dates) != t:
        raise ValueError(f"period_dates has {len(inputs.period_dates)} dates but history has {t} periods")
    if t < 1:
        raise ValueError("history must have at least one period")
    if inputs.stockout is not None and np.shape(inputs.stockout) != (n, t):
        raise ValueError(f"stockout must have shape {(n, t)}, got {np.shape(inputs.stockout)}")
    width = settings.horizon + (t - inputs.through if inputs.through is not None else 0)
    if inputs.overrides is not None and np.shape(inputs.overrides) != (n, width):
        raise ValueError(f"overrides must have shape {(n, width)}, got {np.shape(inputs.overrides)}")
    if inputs.commercial is not None and np.shape(inputs.commercial) != (n, width, 2):
        raise ValueError(f"commercial must have shape {(n, width, 2)}, got {np.shape(inputs.commercial)}")
    return history, n, t


def phase_out_stopped_sellers(stopped: np.ndarray, pol: ReplenishmentPolicy) -> ReplenishmentPolicy:
    """The phase-out policy of stopped sellers (:func:`core.health.stopped_sellers`), applied after the policy stage.

    A stopped seller sold, then stopped for max(13, 3 x its mean interval between sales) periods or more. Its
    forecast and forecast-error sigma are still fitted on the history, i.e. on the level it no longer sells at (the
    demo's B-00147: 121 a week, then nothing for 21 weeks; safety stock 5,071, order 5,037). Replenishing it would
    buy stock that is not expected to sell, so the policy becomes a phase-out: reorder point, safety stock,
    order-up-to level, order lot (so all stock on hand is excess) and newsvendor buy 0 (NaN without a price stays
    NaN), no order (``recommended_qty`` 0, ``order_by_periods`` NaN), no expected fill rate (NaN: no service is
    promised, so the portfolio fill rate leaves it out) and ``order_policy`` "phase_out". The stock on hand stays and
    is judged as dead stock (:func:`core.health.health_status`). A planner's positive forecast override lifts the
    phase-out (the SKU is then not a stopped seller). Other rows are returned unchanged; ``pol`` is not modified.
    Source: issue 15 item 5; docs/architecture.md, The maths ("dead: no sales for N periods").
    """
    mask = np.asarray(stopped, dtype=bool)
    if not mask.any():
        return pol

    def zero(values: np.ndarray) -> np.ndarray:
        return np.where(mask, 0.0, np.asarray(values, dtype=float))

    def undefined(values: np.ndarray) -> np.ndarray:
        return np.where(mask, np.nan, np.asarray(values, dtype=float))

    return replace(
        pol,
        reorder_point=zero(pol.reorder_point),
        order_up_to=zero(pol.order_up_to),
        safety_stock=zero(pol.safety_stock),
        lot=zero(pol.lot),
        newsvendor_qty=np.where(mask & np.isfinite(pol.newsvendor_qty), 0.0, pol.newsvendor_qty),
        recommended_qty=zero(pol.recommended_qty),
        order_by_periods=undefined(pol.order_by_periods),
        expected_fill_rate=undefined(pol.expected_fill_rate),
        model_fill_rate=undefined(pol.model_fill_rate),
        order_policy=np.where(mask, "phase_out", pol.order_policy).astype(object),
    )


def stopped_seller_step(inputs: BatchInputs, settings: EngineSettings) -> health.StoppedSellers:
    """The stopped sellers of a batch (:func:`core.health.stopped_sellers`, gap limit max(``dead_after_periods``,
    3 x mean interval), a positive forecast override lifts it); :func:`compute_batch` finds them before its policy
    stage, which phases them out (:func:`phase_out_stopped_sellers`)."""
    return health.stopped_sellers(
        history=inputs.history,
        min_gap_periods=settings.dead_after_periods,
        overrides=inputs.overrides,
        alpha=settings.phase_out_alpha,
    )


_PHASE_OUT_SEGMENT = "\x00phase-out"  # stopped sellers form a segment of their own in the target allocation


def _policy_stage(
    *,
    history: np.ndarray,
    sku: pd.DataFrame,
    codes: list[str],
    columns: dict[str, np.ndarray],
    demand_mean: np.ndarray,
    sigma: np.ndarray,
    demand_class: np.ndarray,
    backtest: np.ndarray,
    days_per_period: float,
    settings: EngineSettings,
    phase_out: np.ndarray | None = None,
) -> ReplenishmentPolicy:
    """Step 3 of :func:`compute_batch` (:func:`core.replenishment.replenishment_policy`), then the phase-out of the
    stopped sellers in ``phase_out`` (:func:`phase_out_stopped_sellers`). Stopped sellers are allocated in a segment
    of their own, so the fill-rate target of their category is met by the SKUs that still sell (otherwise a stopped
    seller's old level would take a share of the category's target and leave its neighbours short). Last, the
    planner's minimum stock (``min_stock`` column, :mod:`core.min_stock`) floors the levels; it also keeps a stopped
    seller from the phase-out."""
    segment = sku["category"].to_numpy(dtype=object) if "category" in sku.columns else np.full(len(codes), None)
    floor = min_stock_floor(_sku_column(sku, "min_stock", codes) if "min_stock" in sku.columns else None, len(codes))
    mask = np.zeros(len(codes), dtype=bool) if phase_out is None else np.asarray(phase_out, dtype=bool)
    mask = mask & ~np.isfinite(floor)  # the planner's minimum stock keeps a stopped seller (core.min_stock)
    if mask.any():
        segment = np.where(mask, _PHASE_OUT_SEGMENT, segment)
    pol = replenishment_policy(
        demand_mean=demand_mean,
        sigma=sigma,
        history=history,
        demand_class=demand_class,
        columns=columns,
        one_shot=_flag_column(sku, "one_shot"),
        days_per_period=days_per_period,
        settings=settings,
        backtest=backtest,
        backtest_cuts=plan_cuts(n_periods=history.shape[1], horizon=settings.horizon, n_origins=settings.n_origins),
        segment=segment,
        service_floor=_sku_column(sku, "service_floor", codes) if "service_floor" in sku.columns else None,
    )
    pol = phase_out_stopped_sellers(mask, pol)
    return apply_min_stock(
        floor,
        pol,
        on_hand=columns["on_hand"],
        on_order=columns["on_order"],
        moq=columns["moq"],
        order_multiple=columns["order_multiple"],
    )


def recompute_policy(
    inputs: BatchInputs,
    batch: BatchResult,
    *,
    settings: EngineSettings,
    service_level: np.ndarray | float | None = None,
) -> ReplenishmentPolicy:
    """The policy stage of :func:`compute_batch` again on a computed batch's forecast (its snapshot's
    forecast_per_period, sigma and demand_class and its backtest), optionally at other service targets: for
    what-if sweeps and the policy replay (:mod:`core.policy_eval`). With the same inputs and settings it returns
    compute_batch's own policy.

    Raises
    ------
    ValueError
        ``batch`` not computed from ``inputs`` (other codes), a service level outside (0, 1).
    """
    history, n, _ = _validate(inputs, settings)
    codes = list(inputs.codes)
    if list(batch.snapshot.index) != codes:
        raise ValueError("batch must be the result of compute_batch on these inputs (same codes, same order)")
    days, _season = _grain(inputs.grain)
    sku = inputs.sku.reset_index(drop=True)
    col = {c: _sku_column(sku, c, codes) for c in SKU_COLUMNS if c != "category" and c not in _FLAG_COLUMNS}
    if service_level is not None:
        sl = np.broadcast_to(np.asarray(service_level, dtype=float), (n,)).astype(float)
        if np.any(~((sl > 0) & (sl < 1))):
            raise ValueError("service_level must be in (0, 1)")
        col["service_level"] = sl
    snap = batch.snapshot
    return _policy_stage(
        history=demand_history(inputs),
        sku=sku,
        codes=codes,
        columns=col,
        demand_mean=snap["forecast_per_period"].to_numpy(dtype=float),
        sigma=snap["sigma"].to_numpy(dtype=float),
        demand_class=snap["demand_class"].to_numpy(dtype=object),
        backtest=np.asarray(batch.backtest, dtype=float),
        days_per_period=days,
        settings=settings,
        phase_out=stopped_seller_step(inputs, settings).stopped,
    )


def compute_batch(inputs: BatchInputs, *, settings: EngineSettings) -> BatchResult:
    """Forecast, classify, set the policy and the health status of every SKU of a batch.

    Coverage (issue 15): each SKU's history ends at its own last reported period (trailing NaN = not reported). When
    ``inputs.through`` (the portfolio's "data through") is before the last period, the batch is computed in two
    passes (:func:`core.coverage.compute_two_pass`): the cross-sectional steps (category fill-rate allocation, the
    global forecaster trained across the batch) on the panel truncated at data through, and the SKUs that reported
    past it on their own history at the service quantile pass 1's allocation chose for them. A file for a few SKUs
    and a new period therefore leaves every other SKU's forecast, safety stock and periods since last sale unchanged.
    ``extras["forecast_shift"]`` holds each SKU's forecast start after data through; the forecast dates are those
    after data through.

    Parameters
    ----------
    inputs
        The batch (history (n, T), SKU master data in ``inputs.sku``, optional overrides (n, horizon)).
    settings
        Engine parameters.

    Returns
    -------
    BatchResult
        Snapshot (index = code, columns :data:`SNAPSHOT_COLUMNS`), forecasts, backtest and stage timings. ABC is
        computed within the batch here and recomputed portfolio-wide by :func:`finalize_portfolio`.

    Raises
    ------
    ValueError
        Inconsistent shapes, unknown grain, negative master data, a missing lead time or a service level outside (0, 1).
    """
    _validate(inputs, settings)
    return compute_two_pass(inputs, settings=settings, compute_panel=compute_panel)


@dataclass(frozen=True)
class _HealthStage:
    """What :func:`_health_stage` computes for the snapshot."""

    health: health.HealthResult
    demand_recent: np.ndarray
    demand_baseline: np.ndarray
    backtest: np.ndarray
    inventory_value: np.ndarray
    excess_value: np.ndarray
    value_at_risk: np.ndarray
    abc: np.ndarray


def _health_stage(
    *,
    history: np.ndarray,
    backtest: np.ndarray,
    settings: EngineSettings,
    pol: ReplenishmentPolicy,
    quit_: health.StoppedSellers,
    demand_mean: np.ndarray,
    sigma: np.ndarray,
    lead_time_periods: np.ndarray,
    days_per_period: float,
    one_shot: np.ndarray,
    cost: np.ndarray,
    price: np.ndarray,
    on_hand: np.ndarray,
    on_order: np.ndarray,
) -> _HealthStage:
    """Stage 4 of :func:`compute_panel`: the health status of each SKU (:func:`core.health.health_status`, recent
    demand against its baseline and the backtest), its inventory and excess value, value at risk and ABC class."""
    d, lt, days = demand_mean, lead_time_periods, days_per_period
    n, n_periods = history.shape
    r = float(settings.review_period)
    lot, s_level, nv, mu_h = pol.lot, pol.order_up_to, pol.newsvendor_qty, pol.season_demand
    cost0 = np.nan_to_num(cost)
    position = on_hand + on_order
    rp, bp = settings.recent_periods, settings.baseline_periods
    demand_recent = _nanmean_rows(history[:, -rp:])
    base_block = history[:, max(0, n_periods - rp - bp) : max(0, n_periods - rp)]
    demand_baseline = _nanmean_rows(base_block) if base_block.shape[1] else np.full(n, np.nan)
    expected_recent = _nanmean_rows(backtest[:, -rp:])
    with np.errstate(divide="ignore", invalid="ignore"):
        cycle = np.where(d > 0, np.maximum(r, lot / np.where(d > 0, d, 1.0)), r)
    hs = health.health_status(
        on_hand=on_hand,
        on_order=on_order,
        reorder_point=pol.reorder_point,
        safety_stock=pol.safety_stock,
        forecast_per_period=d,
        expected_recent=expected_recent,
        demand_recent=demand_recent,
        demand_baseline=demand_baseline,
        sigma=sigma,
        lead_time_periods=lt,
        periods_since_last_sale=quit_.periods_since_last_sale,
        days_per_period=days,
        review_period=cycle,
        recent_periods=rp,
        baseline_periods=bp,
        surge_z=settings.surge_z,
        low_velocity_ratio=settings.low_velocity_ratio,
        dead_after_periods=settings.dead_after_periods,
        overstock_cover_multiple=settings.overstock_cover_multiple,
        one_shot=one_shot,
        newsvendor_qty=nv,
        season_demand=mu_h,
        season_periods=settings.horizon,
        stopped=quit_,
    )
    inv_value = np.maximum(on_hand, 0.0) * cost
    max_stock = np.where(d > 0, np.maximum(s_level, pol.reorder_point + lot), 0.0)
    season_limited = one_shot & np.isfinite(hs.season_limit)
    max_stock = np.where(season_limited, hs.season_limit, max_stock)  # one-shot: what the season can sell
    excess = kpi.excess_units(on_hand=on_hand, on_order=on_order, max_stock=max_stock) * cost
    var = kpi.value_at_risk(
        status=hs.status,
        inventory_position=position,
        lead_time_demand_mean=d * lt,
        lead_time_demand_std=pol.lead_time_demand_std,
        unit_price=price,
        unit_cost=cost0,
        excess_value=np.nan_to_num(excess),
        on_hand_value=np.nan_to_num(inv_value),
    )
    abc = classify.abc_classes(value=pol.annual_demand * cost0, split=settings.abc_split)
    return _HealthStage(
        health=hs,
        demand_recent=demand_recent,
        demand_baseline=demand_baseline,
        backtest=backtest,
        inventory_value=inv_value,
        excess_value=excess,
        value_at_risk=var,
        abc=abc,
    )


def _snapshot_frame(
    *,
    codes: list[str],
    fr: Any,  # core.forecast's batch result (core.forecast is imported in compute_panel)
    pattern: classify.DemandPattern,
    xyz: np.ndarray,
    h: _HealthStage,
    pol: ReplenishmentPolicy,
    quit_: health.StoppedSellers,
    demand_mean: np.ndarray,
    sigma: np.ndarray,
    lead_time_periods: np.ndarray,
    lead_time_std_periods: np.ndarray,
    service_level: np.ndarray,
    on_hand: np.ndarray,
    on_order: np.ndarray,
) -> pd.DataFrame:
    """Stage 5 of :func:`compute_panel`: the snapshot row of each SKU (index: code) from the forecast ``fr``, the
    demand ``pattern`` and XYZ class, the health stage ``h`` and the policy ``pol``."""
    n = len(codes)
    d, lt, lt_sd, sl = demand_mean, lead_time_periods, lead_time_std_periods, service_level
    hs, demand_recent, demand_baseline = h.health, h.demand_recent, h.demand_baseline
    inv_value, excess, var, abc = h.inventory_value, h.excess_value, h.value_at_risk, h.abc
    annual, s_level, nv = pol.annual_demand, pol.order_up_to, pol.newsvendor_qty
    position = on_hand + on_order
    names = list(fr.model_names)
    score_mat = (
        np.column_stack([np.asarray(fr.scores.get(m, np.full(n, np.nan)), dtype=float) for m in names])
        if names
        else np.empty((n, 0))
    )
    model_scores = [{m: float(v) for m, v in zip(names, row, strict=True) if np.isfinite(v)} for row in score_mat]
    return pd.DataFrame(
        {
            "status": hs.status,
            "status_reason": hs.reason,
            "demand_class": pattern.demand_class,
            "adi": pattern.adi,
            "cv2": pattern.cv2,
            "abc": abc,
            "xyz": xyz,
            "forecast_model": np.asarray(fr.model, dtype=object),
            "mase": np.asarray(fr.mase, dtype=float),
            "wape": np.asarray(fr.wape, dtype=float),
            "bias": np.asarray(fr.bias, dtype=float),
            "model_scores": model_scores,
            "demand_recent": demand_recent,
            "demand_baseline": demand_baseline,
            "forecast_per_period": d,
            "sigma": sigma,
            "lead_time_periods": lt,
            "lead_time_std_periods": lt_sd,
            "service_level": sl,
            "safety_stock": pol.safety_stock,
            "reorder_point": pol.reorder_point,
            "order_up_to": s_level,
            "eoq": np.where(np.isfinite(pol.eoq), pol.eoq, np.nan),
            "newsvendor_qty": nv,
            "rop_method": pol.method,
            "rop_method_reason": pol.reason,
            "on_hand": on_hand,
            "on_order": on_order,
            "inventory_position": position,
            "recommended_qty": pol.recommended_qty,
            "order_by_periods": pol.order_by_periods,
            "days_of_cover": hs.days_of_cover,
            "annual_demand": annual,
            "inventory_value": inv_value,
            "value_at_risk": var,
            "excess_value": excess,
            "surge_z": hs.surge_z,
            "periods_since_last_sale": quit_.periods_since_last_sale,
            "order_policy": pol.order_policy,
            "critical_ratio": pol.critical_ratio,
        },
        index=pd.Index(codes, name="code"),
    )


def compute_panel(inputs: BatchInputs, settings: EngineSettings) -> BatchResult:
    """One pass of :func:`compute_batch` on one panel (every period of ``inputs`` counts; ``inputs.through`` is
    not used). Also returns ``extras["allocated_fill"]``: the expected fill rate of the levels chosen for each SKU
    (the allocation's share of its category's target, NaN without demand or for a phase-out), and
    ``extras["service_probability"]``: the quantile of protection demand those levels sit at."""
    import core.forecast as fc  # imported here so tests can substitute it

    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    history, n, n_periods = _validate(inputs, settings)
    codes = list(inputs.codes)
    days, season = _grain(inputs.grain)
    sku = inputs.sku.reset_index(drop=True)
    col = {c: _sku_column(sku, c, codes) for c in SKU_COLUMNS if c != "category" and c not in _FLAG_COLUMNS}
    one_shot = _flag_column(sku, "one_shot")
    if np.isnan(col["lead_time_mean_days"]).any():
        bad = [codes[i] for i in np.flatnonzero(np.isnan(col["lead_time_mean_days"]))[:5]]
        raise ValueError(f"sku column lead_time_mean_days is missing for {bad}")
    sl = col["service_level"]
    bad_sl = ~((sl > 0) & (sl < 1))
    if bad_sl.any():
        raise ValueError(
            f"sku column service_level must be in (0, 1); not for {[codes[i] for i in np.flatnonzero(bad_sl)[:5]]}"
        )

    # 1. forecast -----------------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    demand = demand_history(inputs)
    causal = {} if inputs.causal is None else {"causal": inputs.causal.span(n_periods + settings.horizon)}
    fr = fc.forecast_batch(
        history=demand,
        horizon=settings.horizon,
        season_length=season,
        n_origins=settings.n_origins,
        period_dates=pd.DatetimeIndex(inputs.period_dates),
        random_state=settings.random_state,
        **causal,  # issue 20: sigma, hence safety stock, are then the errors of the causal forecast
    )
    timings["forecast"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    mean = np.asarray(fr.mean, dtype=float).copy()
    p10, p50, p90 = (np.asarray(a, dtype=float).copy() for a in (fr.p10, fr.p50, fr.p90))
    layers: dict[str, np.ndarray] = {}
    if inputs.overrides is not None or inputs.commercial is not None:  # core.consensus: each layer applied once
        overridden, consensus = consensus_layers(
            statistical=mean, overrides=inputs.overrides, commercial=inputs.commercial
        )
        layers = {"layer_statistical": mean.copy(), "layer_overridden": overridden}
        delta = np.where(np.isfinite(consensus) & np.isfinite(mean), consensus - mean, 0.0)
        mean = mean + delta
        p10, p50, p90 = (np.maximum(a + delta, 0.0) for a in (p10, p50, p90))
    d = np.maximum(np.nan_to_num(mean.mean(axis=1)), 0.0)
    sigma = np.maximum(np.nan_to_num(np.asarray(fr.sigma, dtype=float)), 0.0)

    step(0.85, "demand classes and policies")
    # 2. classify -----------------------------------------------------------------------------------------------
    pattern = classify.demand_pattern(history=demand)
    xyz = classify.xyz_classes(cv=classify.forecast_error_cv(sigma=sigma, demand_mean=d), limits=settings.xyz_cv_limits)
    timings["classify"] = time.perf_counter() - t0

    # 3. policy -------------------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    lt = col["lead_time_mean_days"] / days
    lt_sd = col["lead_time_std_days"] / days
    quit_ = stopped_seller_step(inputs, settings)
    pol = _policy_stage(
        history=demand,
        sku=sku,
        codes=codes,
        columns=col,
        demand_mean=d,
        sigma=sigma,
        demand_class=pattern.demand_class,
        backtest=np.asarray(fr.backtest, dtype=float),
        days_per_period=days,
        settings=settings,
        phase_out=quit_.stopped,
    )
    lot = pol.lot
    cost = col["unit_cost"]
    price = col["unit_price"]
    on_hand, on_order = col["on_hand"], col["on_order"]
    timings["policy"] = time.perf_counter() - t0

    step(0.93, "health statuses")
    # 4. health -------------------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    h = _health_stage(
        history=history,
        backtest=np.asarray(fr.backtest, dtype=float),
        settings=settings,
        pol=pol,
        quit_=quit_,
        demand_mean=d,
        sigma=sigma,
        lead_time_periods=lt,
        days_per_period=days,
        one_shot=one_shot,
        cost=cost,
        price=price,
        on_hand=on_hand,
        on_order=on_order,
    )
    backtest = h.backtest
    timings["health"] = time.perf_counter() - t0

    step(0.97, "snapshot rows")
    # 5. snapshot -----------------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    snap = _snapshot_frame(
        codes=codes,
        fr=fr,
        pattern=pattern,
        xyz=xyz,
        h=h,
        pol=pol,
        quit_=quit_,
        demand_mean=d,
        sigma=sigma,
        lead_time_periods=lt,
        lead_time_std_periods=lt_sd,
        service_level=sl,
        on_hand=on_hand,
        on_order=on_order,
    )
    timings["snapshot"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start
    return BatchResult(
        snapshot=snap[list(SNAPSHOT_COLUMNS)],
        forecast_dates=_forecast_dates(pd.DatetimeIndex(inputs.period_dates), inputs.grain, settings.horizon),
        mean=mean,
        p10=p10,
        p50=p50,
        p90=p90,
        backtest=backtest,
        timings=timings,
        extras={
            "unit_cost": cost,
            "unit_price": price,
            "expected_fill_rate": pol.expected_fill_rate,
            "order_lot": lot,
            "allocated_fill": pol.model_fill_rate,
            "service_probability": pol.service_probability,
            **({} if getattr(fr, "uplift", None) is None else {"uplift": np.asarray(fr.uplift, dtype=float)}),
            **layers,
        },
    )


def finalize_portfolio(batches: list[BatchResult], *, settings: EngineSettings) -> PortfolioResult:
    """Concatenate batches (in order) and run the portfolio-wide steps: ABC by annual demand value, KPIs.

    Raises
    ------
    ValueError
        No batches, a code in two batches, or batches with different forecast dates / history lengths.
    """
    t0 = time.perf_counter()
    if not batches:
        raise ValueError("batches must contain at least one BatchResult")
    first = batches[0]
    for b in batches[1:]:
        if not b.forecast_dates.equals(first.forecast_dates):
            raise ValueError("batches have different forecast_dates")
        if b.backtest.shape[1] != first.backtest.shape[1]:
            raise ValueError("batches have different history lengths")
    snap = pd.concat([b.snapshot for b in batches])
    if snap.index.has_duplicates:
        dup = snap.index[snap.index.duplicated()].unique().tolist()[:5]
        raise ValueError(f"codes appear in more than one batch: {dup}")

    def extra(name: str) -> np.ndarray:
        parts = []
        for b in batches:
            x = b.extras.get(name)
            parts.append(np.full(len(b.snapshot), np.nan) if x is None else np.asarray(x, dtype=float))
        return np.concatenate(parts) if parts else np.empty(0)

    unit_cost = extra("unit_cost")
    missing_cost = ~np.isfinite(unit_cost)
    if missing_cost.any():  # batches built without extras: recover the cost from the inventory value
        oh = snap["on_hand"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            guess = np.where(oh > 0, snap["inventory_value"].to_numpy(dtype=float) / oh, np.nan)
        unit_cost = np.where(missing_cost, guess, unit_cost)
    value = snap["annual_demand"].to_numpy(dtype=float) * np.nan_to_num(unit_cost)
    abc_value = extra("abc_value")  # pass 1's value (core.coverage): a few SKUs' new periods do not re-rank the rest
    value = np.where(np.isfinite(abc_value), abc_value, value)
    snap = snap.copy()
    snap["abc"] = classify.abc_classes(value=value, split=settings.abc_split)
    kpis = kpi.portfolio_kpis(snapshot=snap, unit_cost=unit_cost, expected_fill_rate=extra("expected_fill_rate"))
    timings: dict[str, float] = {}
    for b in batches:
        for k, v in b.timings.items():
            timings[k] = timings.get(k, 0.0) + v
    timings["finalize"] = time.perf_counter() - t0
    return PortfolioResult(
        snapshot=snap,
        forecast_dates=first.forecast_dates,
        mean=np.concatenate([b.mean for b in batches]),
        p10=np.concatenate([b.p10 for b in batches]),
        p50=np.concatenate([b.p50 for b in batches]),
        p90=np.concatenate([b.p90 for b in batches]),
        backtest=np.concatenate([b.backtest for b in batches]),
        layers=_layers(batches),
        kpis=kpis,
        timings=timings,
        forecast_shift=np.nan_to_num(extra("forecast_shift")).astype(np.int64),
        uplift=_uplift(batches),
    )


def _uplift(batches: list[BatchResult]) -> np.ndarray | None:
    """(n, horizon) units planned promotions add (issue 20), 0 for batches without; None when no batch has any."""
    if all(b.extras.get("uplift") is None for b in batches):
        return None
    return np.concatenate([np.asarray(b.extras.get("uplift", np.zeros_like(b.mean)), dtype=float) for b in batches])


def _layers(batches: list[BatchResult]) -> dict[str, np.ndarray] | None:
    """The forecast layers of the batches that had overrides or adjustments (:data:`LAYER_KEYS`), a batch without
    them contributing its mean (all layers equal); None when no batch had any."""
    if not any(LAYER_KEYS[0] in b.extras for b in batches):
        return None
    return {
        key: np.concatenate([np.asarray(b.extras.get(key, b.mean), dtype=float) for b in batches]) for key in LAYER_KEYS
    }


__all__ = [
    "ORDER_POLICIES",
    "SNAPSHOT_COLUMNS",
    "BatchInputs",
    "BatchResult",
    "EngineSettings",
    "PortfolioResult",
    "compute_batch",
    "compute_panel",
    "demand_history",
    "finalize_portfolio",
    "newsvendor_critical_ratio",
    "recompute_policy",
]


def expected_fill_rates(
    frame: pd.DataFrame, *, days_per_period: float, settings: EngineSettings | None = None
) -> np.ndarray:
    """Per-SKU expected fill rate of the stored policy (NaN without demand), as the engine's KPIs state it:
    :func:`core.replenishment.stored_policy_fill_rates` with the settings' review period and lot cover cap."""
    settings = settings or EngineSettings()
    return stored_policy_fill_rates(
        frame,
        days_per_period=days_per_period,
        review_period=settings.review_period,
        max_order_cover_days=settings.max_order_cover_days,
    )
