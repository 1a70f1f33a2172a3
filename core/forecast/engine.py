"""Per-series model selection by rolling-origin backtest, calibrated quantiles: ``forecast_batch``."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from core.forecast._prep import Prepared, prepare_history
from core.forecast.aggregation import temporal_aggregation
from core.forecast.causal import CausalInputs, plan_ratio
from core.forecast.combination import (
    choose_intermittent_recipe,
    ensemble_forecast,
    squared_scale,
)
from core.forecast.intermittent import croston_sba, tsb
from core.forecast.ml import gbm_forecast_causal
from core.forecast.naive import seasonal_naive
from core.forecast.smoothing import exponential_smoothing
from core.progress import step

MODEL_NAMES: tuple[str, ...] = (
    "seasonal_naive",
    "ets",
    "croston_sba",
    "tsb",
    "adida",
    "imapa",
    "ml_gbm",
    "ensemble",
)
DEFAULT_MODEL = "ensemble"  # smooth series keep it unless another candidate's backtest MASE is SWITCH_MARGIN lower
SWITCH_MARGIN = 0.15
INTERMITTENT_MODELS = frozenset({"croston_sba", "tsb", "adida", "imapa"})  # candidates only for intermittent series
SMOOTH_MODELS = frozenset({"seasonal_naive"})  # candidates only for non-intermittent series
ADI_INTERMITTENT = 1.32  # Syntetos-Boylan cut-off on the average inter-demand interval
MIN_TRAIN_OBS = 2  # a backtest origin counts for a series only with this many periods since its first demand
_Z = np.array([-1.2815515655446004, 0.0, 1.2815515655446004])  # standard normal quantiles 0.1, 0.5, 0.9
_PRIOR_POINTS = 10.0  # weight (in error points) of the normal shape when blending with the empirical quantiles


@dataclass(frozen=True)
class ForecastResult:
    """Forecasts, accuracy and the chosen model per series (see ``forecast_batch``).

    Attributes
    ----------
    model_names
        Candidate models in tie-break order.
    model
        (n,) str: chosen model per series; ``"zero"`` for a series without any positive demand.
    mean, p10, p50, p90
        (n, h) forecast mean and calibrated quantiles, 0 <= p10 <= p50 <= p90.
    sigma
        (n,) root mean squared backtest error per period of the chosen model (includes its bias).
    mase, wape, bias
        (n,) of the chosen model over the backtest; NaN where undefined.
    scores
        model -> (n,) backtest MASE; NaN where the model was not a candidate or there was no backtest.
    backtest
        (n, T) backtest predictions of the chosen model aligned with the history, NaN outside the backtest windows.
    uplift
        (n, h) units the causal plan (planned prices, promotions, named causal columns) adds to ``mean``:
        mean - mean / plan multiplier (``core.forecast.causal.plan_ratio``); None without causal plan data.
    """

    model_names: tuple[str, ...]
    model: np.ndarray
    mean: np.ndarray
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray
    sigma: np.ndarray
    mase: np.ndarray
    wape: np.ndarray
    bias: np.ndarray
    scores: dict[str, np.ndarray]
    backtest: np.ndarray
    uplift: np.ndarray | None = None


def plan_cuts(*, n_periods: int, horizon: int, n_origins: int) -> np.ndarray:
    """Backtest origins (ascending): the number of periods each backtest fit may use.

    Normally the windows tile the end of the history: cuts T - h, T - 2h, ..., T - n_origins h, provided at least
    max(4, h) periods remain before the earliest one. Otherwise the cuts are spread evenly between max(4, h) and T - h
    (overlapping windows), and for a history shorter than h + max(4, h) between T // 2 and T - 1 with windows
    truncated at T. A history of fewer than 3 periods has no backtest.
    """
    min_train = max(4, horizon)
    hi = n_periods - horizon
    if hi - (n_origins - 1) * horizon >= min_train:
        cuts = [hi - j * horizon for j in range(n_origins)]
    elif hi >= min_train:
        step = max(1, (hi - min_train) // max(n_origins - 1, 1))
        cuts = [c for c in (hi - j * step for j in range(n_origins)) if c >= min_train]
    else:
        lo, hi = max(2, n_periods // 2), n_periods - 1
        cuts = [] if hi < lo else list(np.round(np.linspace(lo, hi, n_origins)).astype(int))
    return np.array(sorted({int(c) for c in cuts}), dtype=np.int64)


def calendar_features(*, period_dates: pd.DatetimeIndex, horizon: int) -> np.ndarray:
    """Month, ISO week, day of week and day of month of every history period and of the ``horizon`` next ones.

    Future dates continue the inferred frequency (``pd.infer_freq``); failing that, whole months when the median
    spacing is 28-31 days, else the median spacing.
    """
    dates = pd.DatetimeIndex(period_dates)
    future = _future_dates(dates, horizon)
    allp = dates.append(future)
    iso = allp.isocalendar()
    return np.column_stack(
        [allp.month.to_numpy(), iso.week.to_numpy(), allp.dayofweek.to_numpy(), allp.day.to_numpy()]
    ).astype(np.float64)


def _future_dates(dates: pd.DatetimeIndex, horizon: int) -> pd.DatetimeIndex:
    if horizon <= 0:
        return pd.DatetimeIndex([])
    last = dates[-1]
    freq = pd.infer_freq(dates) if len(dates) >= 3 else None
    if freq is not None:
        return pd.date_range(last, periods=horizon + 1, freq=freq)[1:]
    spacing = float(np.median(np.diff(dates.asi8)) / 86400e9) if len(dates) >= 2 else 1.0
    if 27.5 <= spacing <= 31.5:
        return pd.DatetimeIndex([last + pd.DateOffset(months=k) for k in range(1, horizon + 1)])
    return pd.DatetimeIndex([last + pd.Timedelta(days=spacing * k) for k in range(1, horizon + 1)])


def forecast_batch(
    *,
    history: np.ndarray,
    horizon: int,
    season_length: int,
    n_origins: int = 3,
    period_dates: pd.DatetimeIndex | None = None,
    random_state: int = 0,
    causal: CausalInputs | None = None,
) -> ForecastResult:
    """Forecast a batch of series, choosing the model per series by rolling-origin backtest.

    Candidates (``MODEL_NAMES``): seasonal naive (non-intermittent series only); automatic exponential smoothing
    (SES / Holt damped / Holt-Winters additive, grid-searched by AICc); Croston-SBA, TSB, ADIDA and IMAPA
    (intermittent series only: ADI >= 1.32 since the first demand, Syntetos & Boylan 2005); a gradient-boosting
    model trained across the batch on lag, rolling and calendar features; and ``ensemble``, an equal-weight
    combination (``core.forecast.combination``): ets + ml_gbm on smooth series; on intermittent series the recipe
    (ets + ml_gbm + tsb, the same + imapa, tsb + imapa, tsb or imapa) with the lowest pooled backtest RMSSE over the
    batch's intermittent series. Each candidate forecasts ``horizon`` periods from ``n_origins`` backtest origins
    (``plan_cuts``) and is scored by its backtest MASE (``scores``).

    Choice per series. Smooth series: the ensemble is the default; another candidate replaces it only when its MASE
    is at least ``SWITCH_MARGIN`` (15 %) lower, because picking the best of several noisy backtest scores mostly
    picks noise (on the M5 subset plain arg-min selection scored worse than any single model; combinations are
    robust: Makridakis et al. 2020, "The M4 competition", IJF 36(1)). Intermittent series: the batch's recipe, with
    no per-series switch: three backtest windows of an intermittent series hold a handful of demands, and switching
    on them (by MASE, or by squared error with a 15-50 % margin) raised the hidden-window RMSSE on the shared spare
    parts sets (bench/accuracy_intermittent.py). The model reported is the recipe's single member, or ``ensemble``.
    MASE scale: in-sample mean absolute one-step difference (Hyndman & Koehler 2006, "Another look at measures of
    forecast accuracy", IJF 22(4)). WAPE = sum|error| / sum(actual); bias = (sum(forecast) - sum(actual)) /
    sum(actual).

    Quantiles: errors e = actual - forecast of the chosen model over its backtest are standardised by
    sigma * g_k (sigma = RMSE per series, g_k = growth of the RMSE with the step k, pooled over the batch and made
    non-decreasing); their empirical 10/50/90 % quantiles, blended with the normal ones (weight n / (n + 10) for n
    error points), give p_q = max(0, mean + z_q * sigma * g_k): monotone and non-negative. Without a backtest,
    sigma = max(std, sqrt(mean)) of the observed history (a Poisson floor) and z_q are normal.

    Data handling: negative values are clipped at 0; NaN before the first observation means "not started yet",
    NaN later is filled by linear interpolation for fitting (and never scored); models fit from the first positive
    demand. A row without positive demand gets model ``"zero"`` and a zero forecast; a series without a valid
    backtest origin (fewer than 2 periods since its first demand at every origin) gets the default model with
    NaN scores.

    Parameters
    ----------
    history
        (n, T) demand per period, oldest first.
    horizon
        Periods to forecast (>= 1).
    season_length
        Periods per season (>= 1; 1 = no seasonality).
    n_origins
        Backtest origins (>= 1).
    period_dates
        T period start dates; enable calendar features of the ML model.
    random_state
        Seed of the ML model's row sampling and trees; the result is deterministic for given inputs and seed.
    causal
        Known drivers over the history and the horizon, arrays (n, T + horizon) (``core.forecast.causal``):
        prices, promotions, named causal columns, events. They become features of the ML model, which forecasts
        with their planned future values; when they hold a plan (price, promotion or named columns), the other
        candidates are multiplied by the plan's multiplier (ML forecast with the plan / without it) in every window,
        so the backtest compares plan-aware candidates and ``uplift`` reports the plan's units.

    Returns
    -------
    ForecastResult

    Raises
    ------
    ValueError
        Naming the bad argument.
    """
    return forecast_batch_with_candidates(
        history=history,
        horizon=horizon,
        season_length=season_length,
        n_origins=n_origins,
        period_dates=period_dates,
        random_state=random_state,
        causal=causal,
    )[0]


def forecast_batch_with_candidates(
    *,
    history: np.ndarray,
    horizon: int,
    season_length: int,
    n_origins: int = 3,
    period_dates: pd.DatetimeIndex | None = None,
    random_state: int = 0,
    causal: CausalInputs | None = None,
) -> tuple[ForecastResult, dict[str, np.ndarray]]:
    """``forecast_batch`` that also returns every candidate's forecasts, (n, C + 1, h) from each backtest cut
    and, last, from the end of the history (for benchmarks and diagnostics)."""
    history = np.asarray(history, dtype=np.float64)
    if history.ndim != 2 or history.shape[1] < 1:
        raise ValueError(f"history must be a 2-D (n, T) array with T >= 1, got shape {history.shape}")
    if np.isinf(history).any():
        raise ValueError("history must not contain infinite values")
    if int(horizon) != horizon or horizon < 1:
        raise ValueError(f"horizon must be an integer >= 1, got {horizon!r}")
    if int(season_length) != season_length or season_length < 1:
        raise ValueError(f"season_length must be an integer >= 1, got {season_length!r}")
    if int(n_origins) != n_origins or n_origins < 1:
        raise ValueError(f"n_origins must be an integer >= 1, got {n_origins!r}")
    n, t_len = history.shape
    horizon, season_length, n_origins = int(horizon), int(season_length), int(n_origins)
    calendar = None
    if period_dates is not None:
        if len(period_dates) != t_len:
            raise ValueError(f"period_dates must have T={t_len} dates, got {len(period_dates)}")
        calendar = calendar_features(period_dates=pd.DatetimeIndex(period_dates), horizon=horizon)
    if causal is not None:
        causal.check(n=n, length=t_len + horizon)

    if n == 0:
        return _empty_result(t_len=t_len, horizon=horizon), {}
    data = prepare_history(history=history)
    bt_cuts = plan_cuts(n_periods=t_len, horizon=horizon, n_origins=n_origins)
    cuts = np.append(bt_cuts, t_len)

    forecasts, recipe, ratio = _candidates_and_recipe(
        data=data,
        cuts=cuts,
        horizon=horizon,
        season_length=season_length,
        calendar=calendar,
        random_state=random_state,
        causal=causal,
    )
    result = _select(data=data, forecasts=forecasts, bt_cuts=bt_cuts, horizon=horizon, recipe=recipe)
    if ratio is not None:
        result = replace(result, uplift=result.mean - result.mean / ratio[:, -1, :])
    return result, forecasts


def _empty_result(*, t_len: int, horizon: int) -> ForecastResult:
    empty = np.zeros((0, horizon))
    none = np.zeros(0)
    return ForecastResult(
        model_names=MODEL_NAMES,
        model=np.zeros(0, dtype=str),
        mean=empty,
        p10=empty.copy(),
        p50=empty.copy(),
        p90=empty.copy(),
        sigma=none,
        mase=none.copy(),
        wape=none.copy(),
        bias=none.copy(),
        scores={name: none.copy() for name in MODEL_NAMES},
        backtest=np.zeros((0, t_len)),
    )


def candidate_forecasts(
    *,
    data: Prepared,
    cuts: np.ndarray,
    horizon: int,
    season_length: int,
    calendar: np.ndarray | None,
    random_state: int,
    causal: CausalInputs | None = None,
) -> dict[str, np.ndarray]:
    """Forecasts (n, len(cuts), horizon) of every candidate in ``MODEL_NAMES`` from every cut.

    The last cut is the forecast origin, the others are backtest origins. ``adida`` and ``imapa`` are computed for
    intermittent series only (0 elsewhere). ``ensemble``: see ``core.forecast.combination`` (its intermittent recipe
    is chosen on the backtest cuts).
    """
    return _candidates_and_recipe(
        data=data,
        cuts=cuts,
        horizon=horizon,
        season_length=season_length,
        calendar=calendar,
        random_state=random_state,
        causal=causal,
    )[0]


def _candidates_and_recipe(
    *,
    data: Prepared,
    cuts: np.ndarray,
    horizon: int,
    season_length: int,
    calendar: np.ndarray | None,
    random_state: int,
    causal: CausalInputs | None = None,
) -> tuple[dict[str, np.ndarray], tuple[str, ...], np.ndarray | None]:
    """Candidates, the intermittent recipe and the plan's multiplier (n, C + 1, h) (None without a plan)."""
    inter = intermittent_mask(data)
    step(0.0, "forecast: gradient boosting across the batch")
    gbm, gbm_base = gbm_forecast_causal(
        data=data,
        cuts=cuts,
        horizon=horizon,
        season_length=season_length,
        calendar=calendar,
        random_state=random_state,
        causal=causal,
    )
    step(0.4, "forecast: temporal aggregation (ADIDA, IMAPA)")
    adida, imapa = temporal_aggregation(data=data, cuts=cuts, horizon=horizon, rows=np.flatnonzero(inter))
    step(0.45, "forecast: seasonal naive and exponential smoothing")
    naive = seasonal_naive(data=data, cuts=cuts, horizon=horizon, season_length=season_length)
    ets = exponential_smoothing(data=data, cuts=cuts, horizon=horizon, season_length=season_length)[0]
    step(0.75, "forecast: Croston and TSB")
    croston, tsb_fc = croston_sba(data=data, cuts=cuts, horizon=horizon), tsb(data=data, cuts=cuts, horizon=horizon)
    step(0.8, "forecast: ensemble and model choice")
    out = {
        "seasonal_naive": naive,
        "ets": ets,
        "croston_sba": croston,
        "tsb": tsb_fc,
        "adida": adida,
        "imapa": imapa,
        "ml_gbm": gbm,
    }
    ratio = None
    if gbm_base is not None:
        ratio = plan_ratio(gbm, gbm_base)
        for name in list(out):
            if name != "ml_gbm":
                out[name] = out[name] * ratio

    actual, valid = backtest_targets(data=data, bt_cuts=np.asarray(cuts)[:-1], horizon=horizon)
    scale = squared_scale(y=data.y, observed=data.observed, start=data.start)
    recipe = choose_intermittent_recipe(forecasts=out, actual=actual, valid=valid, scale=scale, intermittent=inter)
    out["ensemble"] = ensemble_forecast(forecasts=out, intermittent=inter, recipe=recipe)
    return out, recipe, ratio


def backtest_targets(*, data: Prepared, bt_cuts: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Actual values (n, C, h) after each backtest cut and where they count (observed, inside the history, and at
    least ``MIN_TRAIN_OBS`` periods since the series' first demand at that cut)."""
    y, observed, start = data.y, data.observed, data.start
    t_len = y.shape[1]
    target_idx = np.asarray(bt_cuts, dtype=np.int64)[:, None] + np.arange(horizon)[None, :]  # (C, h)
    in_range = target_idx < t_len
    safe_idx = np.minimum(target_idx, t_len - 1)
    actual = y[:, safe_idx]
    trained = (np.asarray(bt_cuts)[None, :] - start[:, None]) >= MIN_TRAIN_OBS
    valid = observed[:, safe_idx] & in_range[None] & trained[:, :, None]
    return actual, valid


def intermittent_mask(data: Prepared) -> np.ndarray:
    """(n,) True where the average inter-demand interval since the first demand is >= 1.32 (Syntetos-Boylan)."""
    t_len = data.y.shape[1]
    n_demands = ((data.y > 0) & data.observed).sum(axis=1)
    active_len = np.maximum(t_len - data.start, 0)
    adi = np.where(n_demands > 0, active_len / np.maximum(n_demands, 1), np.inf)
    return adi >= ADI_INTERMITTENT


def _select(
    *,
    data: Prepared,
    forecasts: dict[str, np.ndarray],
    bt_cuts: np.ndarray,
    horizon: int,
    recipe: tuple[str, ...],
) -> ForecastResult:
    y, start = data.y, data.start
    n, t_len = y.shape
    n_bt = bt_cuts.size
    names = tuple(forecasts)
    target_idx = bt_cuts[:, None] + np.arange(horizon)[None, :]  # (C, h)
    in_range = target_idx < t_len
    actual, valid = backtest_targets(data=data, bt_cuts=bt_cuts, horizon=horizon)
    has_bt = valid.any(axis=(1, 2))

    scale = _mase_scale(data)
    intermittent = intermittent_mask(data)

    mae = {}
    for name in names:
        err = np.where(valid, np.abs(forecasts[name][:, :n_bt, :] - actual), 0.0)
        m = err.sum(axis=(1, 2)) / np.maximum(valid.sum(axis=(1, 2)), 1)
        m = np.where(has_bt, m, np.nan)
        if name in INTERMITTENT_MODELS:
            m = np.where(intermittent, m, np.nan)
        if name in SMOOTH_MODELS:
            m = np.where(intermittent, np.nan, m)
        mae[name] = m
    default = names.index(DEFAULT_MODEL)
    crit = np.column_stack([np.where(np.isnan(mae[nm]), np.inf, mae[nm]) for nm in names])
    crit[:, default] *= 1.0 - SWITCH_MARGIN
    best = np.argmin(crit, axis=1)
    choice = np.where(crit[np.arange(n), default] <= crit[np.arange(n), best], default, best)
    choice = np.where(has_bt & ~intermittent, choice, default)  # intermittent series keep the batch's recipe
    model = np.array(names, dtype=object)[choice]
    if len(recipe) == 1:
        model = np.where(intermittent & (choice == default), recipe[0], model)
    model = np.where(start >= t_len, "zero", model).astype(str)

    all_fc = np.stack([forecasts[nm] for nm in names], axis=0)  # (M, n, C+1, h)
    ridx = np.arange(n)
    chosen = all_fc[choice, ridx]  # (n, C+1, h)
    mean = np.maximum(chosen[:, -1, :], 0.0)
    mean[start >= t_len] = 0.0
    bt_pred = chosen[:, :n_bt, :]

    # Accuracy of the chosen model.
    err = np.where(valid, bt_pred - actual, np.nan)  # forecast - actual
    abs_sum = np.nansum(np.abs(err), axis=(1, 2))
    act_sum = np.where(valid, actual, 0.0).sum(axis=(1, 2))
    cnt = valid.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        mase = np.where(has_bt & (scale > 0), abs_sum / np.maximum(cnt, 1) / scale, np.nan)
        wape = np.where(has_bt & (act_sum > 0), abs_sum / act_sum, np.nan)
        bias = np.where(has_bt & (act_sum > 0), np.nansum(err, axis=(1, 2)) / act_sum, np.nan)
        scores = {nm: np.where(scale > 0, mae[nm] / scale, np.nan) for nm in names}

    backtest = np.full((n, t_len), np.nan)
    for ci in range(n_bt):
        idx = target_idx[ci][in_range[ci]]
        vals = np.where(valid[:, ci, in_range[ci]], bt_pred[:, ci, in_range[ci]], np.nan)
        backtest[:, idx] = np.where(np.isnan(vals), backtest[:, idx], vals)

    p10, p50, p90, sigma = _quantiles(data=data, mean=mean, resid=-err, has_bt=has_bt)
    return ForecastResult(
        model_names=names,
        model=model,
        mean=mean,
        p10=p10,
        p50=p50,
        p90=p90,
        sigma=sigma,
        mase=mase,
        wape=wape,
        bias=bias,
        scores=scores,
        backtest=backtest,
    )


def _mase_scale(data: Prepared) -> np.ndarray:
    """Mean absolute one-step difference of the observed history from the first demand on (NaN if none)."""
    y, obs = data.y, data.observed
    t_len = y.shape[1]
    if t_len < 2:
        return np.full(y.shape[0], np.nan)
    diff = np.abs(np.diff(y, axis=1))
    ok = obs[:, 1:] & obs[:, :-1] & (np.arange(1, t_len)[None, :] > data.start[:, None])
    cnt = ok.sum(axis=1)
    return np.where(cnt > 0, np.where(ok, diff, 0.0).sum(axis=1) / np.maximum(cnt, 1), np.nan)


def _quantiles(
    *, data: Prepared, mean: np.ndarray, resid: np.ndarray, has_bt: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Calibrate p10/p50/p90 from backtest residuals (actual - forecast, (n, C, h), NaN where invalid)."""
    n, horizon = mean.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sigma = np.sqrt(np.nanmean(resid**2, axis=(1, 2))) if resid.size else np.full(n, np.nan)
    # Fallback spread without a backtest: std of the observed history, floored by a Poisson sqrt(mean).
    y_obs = np.where(data.observed & (np.arange(data.y.shape[1])[None, :] >= data.start[:, None]), data.y, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fb_mean = np.nan_to_num(np.nanmean(y_obs, axis=1))
        fb_std = np.nan_to_num(np.nanstd(y_obs, axis=1))
    fallback = np.maximum(fb_std, np.sqrt(fb_mean))
    sigma = np.where(has_bt & ~np.isnan(sigma), sigma, fallback)
    sigma[data.start >= data.y.shape[1]] = 0.0

    growth = np.ones(horizon)
    z = np.repeat(_Z[None, :], n, axis=0)
    if resid.size and has_bt.any():
        with np.errstate(invalid="ignore", divide="ignore"):
            u = resid / np.where(sigma > 0, sigma, np.nan)[:, None, None]
        ok = ~np.isnan(u)
        counts = ok.sum(axis=(0, 1))
        if (counts >= 30).all():
            r = np.sqrt(np.where(ok, u**2, 0.0).sum(axis=(0, 1)) / counts)
            if np.all(r > 0):
                r = np.maximum.accumulate(r)
                growth = r / np.sqrt(np.mean(r**2))
        flat = (u / growth[None, None, :]).reshape(n, -1)
        pts = (~np.isnan(flat)).sum(axis=1)
        rows = pts > 0
        if rows.any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                emp = np.nanquantile(flat[rows], [0.1, 0.5, 0.9], axis=1).T
            w = (pts[rows] / (pts[rows] + _PRIOR_POINTS))[:, None]
            z[rows] = w * emp + (1 - w) * _Z[None, :]
    z = np.maximum.accumulate(z, axis=1)
    spread = sigma[:, None] * growth[None, :]
    p10 = np.maximum(mean + z[:, 0:1] * spread, 0.0)
    p50 = np.maximum(mean + z[:, 1:2] * spread, 0.0)
    p90 = np.maximum(mean + z[:, 2:3] * spread, 0.0)
    return p10, p50, p90, sigma
