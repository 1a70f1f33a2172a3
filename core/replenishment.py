"""The engine's policy stage (step 3 of :func:`core.portfolio.compute_batch`): reorder point, order-up-to level, lot,
recommended order, order-by period, newsvendor quantity and expected fill rate of every SKU of a batch.

Per SKU (D = mean forecast per period over the horizon, after planner overrides; sigma = backtest error std per
period; L, sigma_L = lead time mean / std in periods; R = review period):

- reorder_point / safety_stock / order_up_to: :func:`core.slow_movers.reorder_point_auto` -- normal (with the review
  undershoot allowance of :func:`core.policy.reorder_point_periodic` when ``periodic_review_rop``), Poisson,
  negative binomial or bootstrap as chosen by :func:`core.slow_movers.choose_rop_method`; safety_stock = ROP - D L.
- eoq = sqrt(2 K D_year / h), h = unit_cost x holding_cost_rate (NaN where h = 0 and K D > 0). The order lot is
  the EOQ capped at ``max_order_cover_days`` of demand and rounded to MOQ / multiple by total cost.
- recommended_qty: when the position (on hand + on order) is at or below the reorder point and D > 0, order
  max(lot, order_up_to - position) rounded up to the MOQ / multiple; otherwise 0.
- order_by_periods: 0 when at or below the reorder point, else ceil((position - ROP) / D) >= 1; NaN when D = 0.
- newsvendor_qty and the one-shot SKUs' newsvendor buy: see :mod:`core.portfolio` and
  :func:`newsvendor_critical_ratio`.
- expected_fill_rate: beta = 1 - n(s) / max(lot, D R) (:func:`core.policy.expected_fill_rate`).

Sources: Silver, Pyke & Thomas (2017) ch. 4, 6-7; Snyder & Shen (2019) section 4.3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from core import policy, slow_movers
from core import policy_levels as levels
from core.kpi import DAYS_PER_YEAR


@dataclass(frozen=True)
class ReplenishmentPolicy:
    """The policy stage's result, arrays (n,) (strings as object arrays).

    ``lot`` is the order lot the engine orders at least (EOQ capped and rounded); ``season_demand`` the forecast
    sum over the horizon (the newsvendor's and the one-shot season's demand).
    """

    reorder_point: np.ndarray
    order_up_to: np.ndarray
    safety_stock: np.ndarray
    method: np.ndarray
    reason: np.ndarray
    eoq: np.ndarray
    lot: np.ndarray
    recommended_qty: np.ndarray
    order_by_periods: np.ndarray
    newsvendor_qty: np.ndarray
    critical_ratio: np.ndarray
    order_policy: np.ndarray
    lead_time_demand_std: np.ndarray
    expected_fill_rate: np.ndarray
    annual_demand: np.ndarray
    season_demand: np.ndarray
    service_probability: np.ndarray
    model_fill_rate: np.ndarray


def newsvendor_critical_ratio(
    *,
    unit_price: np.ndarray,
    unit_cost: np.ndarray,
    salvage_value: np.ndarray,
    holding_cost_rate: np.ndarray,
    horizon_years: float,
    service_level: np.ndarray,
) -> np.ndarray:
    """Critical ratio of a one-shot (newsvendor) buy: alpha* = Cu / (Cu + Co).

    Cu = p - c (lost margin per unit short), Co = c - s + c x h x T (loss per unit left over: cost less salvage,
    plus holding over the selling horizon of T years). alpha* = 0 when Cu <= 0 (selling at a loss: buy nothing).
    Where the price is not given (NaN or 0) or Co <= 0 the critical ratio is undefined and the service level target
    is used instead. Source: Snyder & Shen (2019) eq. 4.19; docs/architecture.md, The maths.

    Parameters
    ----------
    unit_price, unit_cost, salvage_value, holding_cost_rate
        (n,) p, c, s and the yearly holding rate h (NaN cost counts as 0).
    horizon_years
        T, the selling horizon in years (>= 0).
    service_level
        (n,) fallback ratio in (0, 1).

    Returns
    -------
    (n,) alpha* in [0, 1).

    Raises
    ------
    ValueError
        ``horizon_years`` negative or not finite.
    """
    if not (np.isfinite(horizon_years) and horizon_years >= 0):
        raise ValueError(f"horizon_years must be a finite number >= 0, got {horizon_years!r}")
    price = np.asarray(unit_price, dtype=float)
    cost = np.nan_to_num(np.asarray(unit_cost, dtype=float))
    cu = price - cost
    co = (
        cost
        - np.nan_to_num(np.asarray(salvage_value, dtype=float))
        + cost * np.nan_to_num(np.asarray(holding_cost_rate, dtype=float)) * float(horizon_years)
    )
    known = np.isfinite(price) & (price > 0) & (co > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(cu > 0, cu / (cu + co), 0.0)
    return np.where(known, ratio, np.asarray(service_level, dtype=float))


def order_lot(
    *,
    demand_mean: np.ndarray,
    days_per_period: float,
    unit_cost: np.ndarray,
    holding_cost_rate: np.ndarray,
    order_cost: np.ndarray,
    moq: np.ndarray,
    order_multiple: np.ndarray,
    max_order_cover_days: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``(eoq, lot)``: Q* = sqrt(2 K D_year / h) and the lot min(Q*, D x cover cap) rounded to the feasible MOQ /
    multiple neighbour with the lower total cost (:func:`core.policy.round_order_quantity`).

    Source: Harris (1913); Silver, Pyke & Thomas (2017) section 4.5.
    """
    annual = demand_mean * DAYS_PER_YEAR / days_per_period
    cost0 = np.nan_to_num(unit_cost)
    h_year = cost0 * holding_cost_rate
    eoq = np.asarray(policy.eoq(annual_demand=annual, order_cost=order_cost, holding_cost=h_year), dtype=float)
    cap = demand_mean * max_order_cover_days / days_per_period
    lot = np.minimum(np.where(np.isfinite(eoq), eoq, cap), cap)
    lot = np.asarray(
        policy.round_order_quantity(
            quantity=lot,
            moq=moq,
            order_multiple=order_multiple,
            annual_demand=annual,
            order_cost=order_cost,
            holding_cost=h_year,
        ),
        dtype=float,
    )
    return eoq, lot


def _one_shot_buy(
    *,
    col: dict[str, np.ndarray],
    one_shot: np.ndarray,
    service_level: np.ndarray,
    season_mean: np.ndarray,
    season_std: np.ndarray,
    position: np.ndarray,
    horizon_years: float,
    newsvendor_qty: np.ndarray,
    recommended: np.ndarray,
    order_by: np.ndarray,
) -> np.ndarray:
    """Newsvendor buy of the one-shot SKUs (updates ``newsvendor_qty``, ``recommended`` and ``order_by`` in place);
    returns the critical ratios (NaN for the other SKUs)."""
    critical = np.full(one_shot.shape, np.nan)
    if not one_shot.any():
        return critical
    cost0 = np.nan_to_num(col["unit_cost"])
    critical[one_shot] = newsvendor_critical_ratio(
        unit_price=col["unit_price"][one_shot],
        unit_cost=cost0[one_shot],
        salvage_value=col["salvage_value"][one_shot],
        holding_cost_rate=col["holding_cost_rate"][one_shot],
        horizon_years=horizon_years,
        service_level=service_level[one_shot],
    )
    ratio = critical[one_shot]
    z = stats.norm.ppf(np.clip(ratio, 1e-12, 1 - 1e-12))
    sd = season_std[one_shot]
    q_os = np.where(ratio > 0, np.maximum(season_mean[one_shot] + np.where(sd > 0, sd * z, 0.0), 0.0), 0.0)
    newsvendor_qty[one_shot] = q_os
    need = np.maximum(q_os - position[one_shot], 0.0)
    recommended[one_shot] = np.asarray(
        policy.round_up_to_pack(
            quantity=need, moq=col["moq"][one_shot], order_multiple=col["order_multiple"][one_shot]
        ),
        dtype=float,
    )
    order_by[one_shot] = np.where(recommended[one_shot] > 0, 0.0, np.nan)
    return critical


def _rop_levels(
    *,
    demand_mean: np.ndarray,
    sigma: np.ndarray,
    history: np.ndarray,
    demand_class: np.ndarray,
    lead_time: np.ndarray,
    lead_time_std: np.ndarray,
    lot: np.ndarray,
    columns: dict[str, np.ndarray],
    settings: Any,
    backtest: np.ndarray | None,
    backtest_cuts: np.ndarray | None,
    segment: np.ndarray | None,
    service_floor: np.ndarray | None,
) -> tuple[slow_movers.ReorderPointResult, np.ndarray, np.ndarray]:
    """Reorder point and order-up-to level per SKU (:mod:`core.policy_levels`); returns the levels (as a
    :class:`core.slow_movers.ReorderPointResult`), the service probability they are set at and their expected fill."""
    d, n = demand_mean, demand_mean.shape[0]
    r = float(settings.review_period)
    rng = np.random.default_rng(settings.random_state)
    bt = np.full(history.shape, np.nan) if backtest is None else np.asarray(backtest, dtype=float)
    sig = levels.level_scaled_sigma(sigma=sigma, demand_mean=d, backtest=bt, power=settings.level_scaling)
    nonzero = np.nansum(np.asarray(history, dtype=float) > 0, axis=1)
    method, reason = slow_movers.choose_rop_method(
        lead_time_demand_mean=d * lead_time,
        lead_time_demand_var=lead_time * sig * sig + d * d * lead_time_std**2,
        demand_class=demand_class,
        nonzero_count=nonzero,
        normal_min_mean=settings.rop_normal_min_mean,
        overdispersion_ratio=settings.rop_overdispersion_ratio,
        bootstrap_min_nonzero=settings.bootstrap_min_nonzero,
    )
    if settings.protection_sigma == "cumulative" and backtest_cuts is not None and len(backtest_cuts):
        growth = levels.error_growth(
            history=history,
            backtest=bt,
            cuts=np.asarray(backtest_cuts),
            horizon=settings.horizon,
            sigma=sigma,
            groups=np.asarray(demand_class, dtype=object),
        )
    else:
        growth = levels.ErrorGrowth(scale=np.ones(n), exponent=np.full(n, 0.5))
    lead, cover, mean_u = levels.protection_distributions(
        method=method,
        demand_mean=d,
        sigma=sig,
        growth=growth,
        lead_time=lead_time,
        lead_time_std=lead_time_std,
        review_period=r,
        history=np.asarray(history, dtype=float),
        rng=rng,
        n_samples=settings.bootstrap_samples,
        undershoot=settings.periodic_review_rop
        & np.isin(np.asarray(demand_class, dtype=object), settings.undershoot_classes),
        bootstrap_rescale=settings.bootstrap_rescale,
    )
    target = columns["service_level"]
    floor = np.full(n, settings.service_floor) if service_floor is None else np.asarray(service_floor, dtype=float)
    floor = np.where(np.isfinite(floor), np.minimum(floor, target), settings.service_floor)
    chosen = levels.service_levels(
        lead=lead,
        cover=cover,
        demand_mean=d,
        lot=lot,
        review_period=r,
        unit_cost=columns["unit_cost"],
        target=target,
        floor=floor,
        segment=levels.segment_labels(segment, n),
        measure=settings.service_measure,
        allocate=settings.allocate_service and settings.service_measure == "fill_rate",
        undershoot_mean=mean_u,
    )
    rop = np.where(d > 0, chosen.reorder_point, 0.0)
    s_level = np.where(d > 0, chosen.order_up_to, 0.0)
    result = slow_movers.ReorderPointResult(
        reorder_point=rop,
        order_up_to=np.maximum(s_level, rop),
        safety_stock=rop - d * lead_time,
        method=method,
        reason=_level_reasons(reason, d, chosen, settings.service_measure),
    )
    return result, chosen.probability, chosen.expected_fill_rate


def _level_reasons(
    reason: np.ndarray, demand_mean: np.ndarray, chosen: levels.ServiceLevels, measure: str
) -> np.ndarray:
    """The method's reason plus the service the levels were set at (quoting the numbers)."""
    out = np.asarray(reason, dtype=object).copy()
    for i in np.flatnonzero(demand_mean > 0):
        p, fill, tgt = chosen.probability[i], chosen.expected_fill_rate[i], chosen.segment_target[i]
        if measure == "csl":
            out[i] = f"{out[i]}; levels at the {p:.3g} quantile (cycle service target {tgt:.1%})"
        elif chosen.allocated[i]:
            out[i] = (
                f"{out[i]}; levels at the {p:.3g} quantile, expected fill rate {fill:.1%} (the segment's "
                f"{tgt:.1%} fill-rate target allocated where it costs least)"
            )
        else:
            out[i] = f"{out[i]}; levels at the {p:.3g} quantile, expected fill rate {fill:.1%} (target {tgt:.1%})"
    return out


def _newsvendor(
    *, col: dict[str, np.ndarray], season_mean: np.ndarray, season_std: np.ndarray, horizon_years: float
) -> np.ndarray:
    """newsvendor_qty over the horizon: mu_h + sigma_h Phi^-1(Cu / (Cu + Co)), Cu = price - cost, Co = cost -
    salvage + holding over the horizon; 0 when Cu <= 0, NaN without a price (or Co <= 0)."""
    price = col["unit_price"]
    cost0 = np.nan_to_num(col["unit_cost"])
    cu = price - cost0
    co = cost0 - col["salvage_value"] + cost0 * col["holding_cost_rate"] * horizon_years
    ok = np.isfinite(price) & (cu > 0) & (co > 0)
    nv = np.full(price.shape, np.nan)
    if ok.any():
        res = policy.newsvendor_normal(
            underage_cost=cu[ok], overage_cost=co[ok], demand_mean=season_mean[ok], demand_std=season_std[ok]
        )
        nv[ok] = np.maximum(np.asarray(res.quantity), 0.0)
    return np.where(np.isfinite(price) & (cu <= 0), 0.0, nv)


def replenishment_policy(
    *,
    demand_mean: np.ndarray,
    sigma: np.ndarray,
    history: np.ndarray,
    demand_class: np.ndarray,
    columns: dict[str, np.ndarray],
    one_shot: np.ndarray,
    days_per_period: float,
    settings: Any,
    backtest: np.ndarray | None = None,
    backtest_cuts: np.ndarray | None = None,
    segment: np.ndarray | None = None,
    service_floor: np.ndarray | None = None,
) -> ReplenishmentPolicy:
    """The policy of every SKU of a batch (formulas: module docstring).

    Parameters
    ----------
    demand_mean, sigma
        (n,) D (forecast per period after overrides) and the forecast-error sigma per period.
    history
        (n, T) demand history (the bootstrap resamples it).
    demand_class
        (n,) Syntetos-Boylan class (:func:`core.classify.demand_pattern`).
    columns
        SKU master arrays (n,) by name: unit_cost, unit_price, salvage_value, holding_cost_rate, order_cost,
        lead_time_mean_days, lead_time_std_days, moq, order_multiple, service_level, on_hand, on_order.
    one_shot
        (n,) bool: one-shot (newsvendor) SKUs.
    days_per_period
        Days per period of the data's grain.
    settings
        A :class:`core.portfolio.EngineSettings`.
    backtest, backtest_cuts
        (n, T) backtest predictions aligned with the history and the origins of its windows
        (:func:`core.forecast.engine.plan_cuts`): the cumulative forecast errors. Without them sigma grows as sqrt(P).
    segment
        (n,) segment of each SKU (its category): the allocation of fill-rate targets runs within each.
    service_floor
        (n,) the lowest fill rate a SKU may be allocated (NaN: ``settings.service_floor``).

    Returns
    -------
    ReplenishmentPolicy
    """
    col = columns
    d = demand_mean
    sl = col["service_level"]
    lt = col["lead_time_mean_days"] / days_per_period
    lt_sd = col["lead_time_std_days"] / days_per_period
    r = float(settings.review_period)
    periods_per_year = DAYS_PER_YEAR / days_per_period
    annual = d * periods_per_year
    eoq, lot = order_lot(
        demand_mean=d,
        days_per_period=days_per_period,
        unit_cost=col["unit_cost"],
        holding_cost_rate=col["holding_cost_rate"],
        order_cost=col["order_cost"],
        moq=col["moq"],
        order_multiple=col["order_multiple"],
        max_order_cover_days=settings.max_order_cover_days,
    )
    rop, probability, model_fill = _rop_levels(
        demand_mean=d,
        sigma=sigma,
        history=history,
        demand_class=demand_class,
        lead_time=lt,
        lead_time_std=lt_sd,
        lot=lot,
        columns=col,
        settings=settings,
        backtest=backtest,
        backtest_cuts=backtest_cuts,
        segment=segment,
        service_floor=service_floor,
    )
    position = col["on_hand"] + col["on_order"]
    s_level = rop.order_up_to
    trigger = (d > 0) & (position <= rop.reorder_point)
    raw = np.maximum(lot, s_level - position)
    recommended = np.where(
        trigger,
        np.asarray(
            policy.round_up_to_pack(quantity=np.maximum(raw, 0.0), moq=col["moq"], order_multiple=col["order_multiple"])
        ),
        0.0,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        order_by = np.where(
            d > 0,
            np.where(trigger, 0.0, np.maximum(np.ceil((position - rop.reorder_point) / np.where(d > 0, d, 1.0)), 1.0)),
            np.nan,
        )
    horizon_years = settings.horizon / periods_per_year
    mu_h = d * settings.horizon
    sd_h = sigma * np.sqrt(settings.horizon)
    nv = _newsvendor(col=col, season_mean=mu_h, season_std=sd_h, horizon_years=horizon_years)
    critical = _one_shot_buy(
        col=col,
        one_shot=one_shot,
        service_level=sl,
        season_mean=mu_h,
        season_std=sd_h,
        position=position,
        horizon_years=horizon_years,
        newsvendor_qty=nv,
        recommended=recommended,
        order_by=order_by,
    )
    sigma_ltd = np.asarray(
        policy.lead_time_demand_std(demand_mean=d, demand_std=sigma, lead_time=lt, lead_time_std=lt_sd), dtype=float
    )
    exp_fill = np.where(
        d > 0,
        np.asarray(
            policy.expected_fill_rate(
                order_quantity=np.maximum(np.maximum(lot, d * r), 1e-12),
                reorder_point=rop.reorder_point,
                lead_time_demand_mean=d * lt,
                lead_time_demand_std=sigma_ltd,
            )
        ),
        np.nan,
    )
    return ReplenishmentPolicy(
        reorder_point=rop.reorder_point,
        order_up_to=s_level,
        safety_stock=rop.safety_stock,
        method=rop.method,
        reason=rop.reason,
        eoq=eoq,
        lot=lot,
        recommended_qty=recommended,
        order_by_periods=order_by,
        newsvendor_qty=nv,
        critical_ratio=critical,
        order_policy=np.where(one_shot, "newsvendor", "reorder_point").astype(object),
        lead_time_demand_std=sigma_ltd,
        expected_fill_rate=exp_fill,
        service_probability=probability,
        model_fill_rate=model_fill,
        annual_demand=annual,
        season_demand=mu_h,
    )


def stored_policy_fill_rates(
    frame: Any, *, days_per_period: float, review_period: float, max_order_cover_days: float
) -> np.ndarray:
    """Per-SKU expected fill rate of a stored policy (NaN without demand), the KPI's definition.

    beta = 1 - n(s) / Q, n(s) = sigma_LTD G((s - D L) / sigma_LTD), s = the stored reorder point,
    Q = max(lot, D R), lot = min(EOQ, cover cap) rounded to MOQ / order multiple at the lower total cost
    (:func:`order_lot` from the stored EOQ), sigma_LTD = sqrt(L sigma_D^2 + D^2 sigma_L^2). ``frame``: a DataFrame,
    one row per SKU, with the snapshot columns forecast_per_period, lead_time_periods, lead_time_std_periods, sigma,
    eoq, reorder_point and the master columns unit_cost, holding_cost_rate, order_cost, moq, order_multiple.
    Source: :func:`core.policy.expected_fill_rate` (Silver, Pyke & Thomas 2017, eq. 6.16).
    """
    n = len(frame)
    if n == 0:
        return np.empty(0)

    def col(name: str) -> np.ndarray:
        return frame[name].to_numpy(dtype=float)

    d = np.maximum(np.nan_to_num(col("forecast_per_period")), 0.0)
    lt = np.maximum(np.nan_to_num(col("lead_time_periods")), 0.0)
    lt_sd = np.maximum(np.nan_to_num(col("lead_time_std_periods")), 0.0)
    sigma = np.maximum(np.nan_to_num(col("sigma")), 0.0)
    cost = np.maximum(np.nan_to_num(col("unit_cost")), 0.0)
    annual = d * DAYS_PER_YEAR / days_per_period
    h_year = cost * np.maximum(np.nan_to_num(col("holding_cost_rate")), 0.0)
    eoq = col("eoq")
    cap = d * max_order_cover_days / days_per_period
    lot = np.asarray(
        policy.round_order_quantity(
            quantity=np.maximum(np.minimum(np.where(np.isfinite(eoq), eoq, cap), cap), 0.0),
            moq=np.maximum(np.nan_to_num(col("moq")), 0.0),
            order_multiple=np.nan_to_num(col("order_multiple"), nan=1.0),
            annual_demand=annual,
            order_cost=np.maximum(np.nan_to_num(col("order_cost")), 0.0),
            holding_cost=h_year,
        ),
        dtype=float,
    )
    sigma_ltd = np.asarray(
        policy.lead_time_demand_std(demand_mean=d, demand_std=sigma, lead_time=lt, lead_time_std=lt_sd), dtype=float
    )
    rop = col("reorder_point")
    fill = np.full(n, np.nan)
    ok = (d > 0) & np.isfinite(rop)
    if "order_policy" in frame.columns:  # a phased-out stopped seller promises no service (phase_out_stopped_sellers)
        ok &= (frame["order_policy"] != "phase_out").to_numpy()
    if ok.any():
        fill[ok] = np.asarray(
            policy.expected_fill_rate(
                order_quantity=np.maximum(np.maximum(lot[ok], d[ok] * review_period), 1e-12),
                reorder_point=rop[ok],
                lead_time_demand_mean=d[ok] * lt[ok],
                lead_time_demand_std=sigma_ltd[ok],
            ),
            dtype=float,
        )
    return fill


__all__ = [
    "ReplenishmentPolicy",
    "newsvendor_critical_ratio",
    "order_lot",
    "replenishment_policy",
    "stored_policy_fill_rates",
]
