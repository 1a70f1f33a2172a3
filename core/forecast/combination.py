"""The ``ensemble`` candidate: an equal-weight combination whose members suit the demand class and the batch.

Smooth series (ADI < 1.32): the mean of ``ets`` and ``ml_gbm``.

Intermittent series: which combination serves best depends on the data (on daily retail the exponential smoothing
and the cross-series gradient boosting carry the weekly pattern of slow items; on spare parts they run far above
the hidden demand and the intermittent specialists win). So the members are chosen per batch, among the few
``INTERMITTENT_RECIPES``, by their pooled backtest accuracy over the batch's intermittent series: the mean over those
series of the RMSSE of the recipe's backtest forecasts (root mean squared error over every backtest point, scaled by
the root mean squared one-step difference of the series since its first demand; M5 Competitors' Guide 2020,
section 4). A squared-error criterion is minimised by the mean, so it does not reward forecasts near zero as the
absolute error (MASE) does on intermittent data (Kolassa 2016, "Evaluating predictive count data distributions in
retail sales forecasting", IJF 32(3)). Pooling over many series turns the noisy per-series backtests into a
stable choice; equal-weight combinations are robust (Petropoulos & Kourentzes 2015, "Forecast combinations for
intermittent demand", JORS 66(6)). With fewer than ``MIN_POOLED_SERIES`` scored intermittent series the widest
recipe, ``FALLBACK_RECIPE``, is used.
"""

from __future__ import annotations

import numpy as np

SMOOTH_RECIPE: tuple[str, ...] = ("ets", "ml_gbm")
INTERMITTENT_RECIPES: tuple[tuple[str, ...], ...] = (
    ("ets", "ml_gbm", "tsb"),
    ("ets", "ml_gbm", "tsb", "imapa"),
    ("tsb", "imapa"),
    ("tsb",),
    ("imapa",),
)
FALLBACK_RECIPE: tuple[str, ...] = ("ets", "ml_gbm", "tsb", "imapa")
MIN_POOLED_SERIES = 10


def squared_scale(*, y: np.ndarray, observed: np.ndarray, start: np.ndarray) -> np.ndarray:
    """(n,) mean squared one-step difference of the observed history from the first demand on (NaN if none)."""
    t_len = y.shape[1]
    if t_len < 2:
        return np.full(y.shape[0], np.nan)
    diff = np.diff(y, axis=1)
    ok = observed[:, 1:] & observed[:, :-1] & (np.arange(1, t_len)[None, :] > start[:, None])
    cnt = ok.sum(axis=1)
    return np.where(cnt > 0, np.where(ok, diff * diff, 0.0).sum(axis=1) / np.maximum(cnt, 1), np.nan)


def pooled_rmsse(
    *, backtest: np.ndarray, actual: np.ndarray, valid: np.ndarray, scale: np.ndarray, rows: np.ndarray
) -> float:
    """Mean over ``rows`` of sqrt(mean over valid backtest points of (forecast - actual)^2 / scale).

    ``backtest``, ``actual`` and ``valid`` are (n, C, h); ``scale`` is (n,) (``squared_scale``). Rows without a
    valid point or with a zero scale are left out; NaN when none is left.
    """
    sub_valid = valid[rows]
    err = np.where(sub_valid, backtest[rows] - actual[rows], 0.0)
    cnt = sub_valid.sum(axis=(1, 2))
    ok = (cnt > 0) & (scale[rows] > 0)
    if not ok.any():
        return float("nan")
    mse = (err[ok] ** 2).sum(axis=(1, 2)) / cnt[ok]
    return float(np.mean(np.sqrt(mse / scale[rows][ok])))


def choose_intermittent_recipe(
    *,
    forecasts: dict[str, np.ndarray],
    actual: np.ndarray,
    valid: np.ndarray,
    scale: np.ndarray,
    intermittent: np.ndarray,
) -> tuple[str, ...]:
    """The recipe of ``INTERMITTENT_RECIPES`` with the lowest ``pooled_rmsse`` over the intermittent rows.

    ``forecasts``: model -> (n, C + 1, h) from the backtest cuts and, last, from the end of the history; ``actual``
    and ``valid``: (n, C, h) backtest targets. Ties keep the earlier recipe.
    """
    n_bt = actual.shape[1]
    rows = np.flatnonzero(intermittent & valid.any(axis=(1, 2)) & (scale > 0))
    if rows.size < MIN_POOLED_SERIES or n_bt == 0:
        return FALLBACK_RECIPE
    best, best_score = FALLBACK_RECIPE, np.inf
    for recipe in INTERMITTENT_RECIPES:
        combined = combine(forecasts=forecasts, members=recipe, rows=rows, n_cuts=n_bt)
        score = pooled_rmsse(
            backtest=combined, actual=actual[rows], valid=valid[rows], scale=scale[rows], rows=np.arange(rows.size)
        )
        if score < best_score:
            best, best_score = recipe, score
    return best


def combine(
    *, forecasts: dict[str, np.ndarray], members: tuple[str, ...], rows: np.ndarray, n_cuts: int | None = None
) -> np.ndarray:
    """Equal-weight mean of ``members`` for ``rows`` (and the first ``n_cuts`` cuts when given)."""
    cut = slice(None) if n_cuts is None else slice(0, n_cuts)
    return sum(forecasts[m][rows, cut] for m in members) / len(members)


def ensemble_forecast(
    *, forecasts: dict[str, np.ndarray], intermittent: np.ndarray, recipe: tuple[str, ...]
) -> np.ndarray:
    """(n, C + 1, h): ``SMOOTH_RECIPE`` on smooth rows, ``recipe`` on intermittent rows."""
    out = combine(forecasts=forecasts, members=SMOOTH_RECIPE, rows=np.arange(intermittent.size))
    rows = np.flatnonzero(intermittent)
    if rows.size:
        out[rows] = combine(forecasts=forecasts, members=recipe, rows=rows)
    return out
