"""Forecast accuracy measures and forecast value added (FVA) of planner overrides.

Conventions: errors are forecast - actual; NaN pairs (either value NaN) are left out. All measures reduce along
``axis`` (default the last), so a (n, T) matrix gives one value per series.

- WAPE = sum |f - a| / sum |a|  (NaN when sum |a| = 0)
- bias = sum (f - a) / sum |a|  (positive = over-forecast)
- MASE = mean |f - a| / mean |y_t - y_{t-m}| over the in-sample history (Hyndman & Koehler 2006)
- RMSSE = sqrt(mean (f - a)^2 / mean (y_t - y_{t-1})^2), the M5 score (scale after leading zeros are trimmed)
- FVA = accuracy of the statistical forecast - accuracy of the final (overridden) forecast, in WAPE points:
  positive means the overrides improved the forecast (Gilliland, *The Business Forecasting Deal*, 2010).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def _pair(actual: Any, forecast: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = np.asarray(actual, dtype=float)
    f = np.asarray(forecast, dtype=float)
    try:
        a, f = np.broadcast_arrays(a, f)
    except ValueError:
        raise ValueError(f"actual and forecast shapes differ: {a.shape} vs {f.shape}") from None
    ok = np.isfinite(a) & np.isfinite(f)
    return np.where(ok, a, 0.0), np.where(ok, f, 0.0), ok


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray | float:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return float(out) if np.ndim(out) == 0 else out


def wape(*, actual: Any, forecast: Any, axis: int | None = -1) -> np.ndarray | float:
    """Weighted absolute percentage error sum |f - a| / sum |a| (NaN when the actuals sum to 0)."""
    a, f, _ = _pair(actual, forecast)
    return _ratio(np.abs(f - a).sum(axis=axis), np.abs(a).sum(axis=axis))


def bias(*, actual: Any, forecast: Any, axis: int | None = -1) -> np.ndarray | float:
    """Relative bias sum (f - a) / sum |a|; positive = over-forecast (NaN when the actuals sum to 0)."""
    a, f, _ = _pair(actual, forecast)
    return _ratio((f - a).sum(axis=axis), np.abs(a).sum(axis=axis))


def _scale(insample: Any, season_length: int, power: int, trim_leading_zeros: bool) -> np.ndarray:
    y = np.asarray(insample, dtype=float)
    if season_length < 1:
        raise ValueError(f"season_length must be >= 1, got {season_length}")
    if trim_leading_zeros:
        started = np.cumsum(np.nan_to_num(np.abs(y)) > 0, axis=-1) > 0
        y = np.where(started, y, np.nan)
    d = y[..., season_length:] - y[..., :-season_length]
    ok = np.isfinite(d)
    cnt = ok.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cnt > 0, (np.abs(np.where(ok, d, 0.0)) ** power).sum(axis=-1) / cnt, np.nan)


def mase(*, actual: Any, forecast: Any, insample: Any, season_length: int = 1) -> np.ndarray | float:
    """Mean absolute scaled error: mean |f - a| / mean |y_t - y_{t-m}| of the in-sample series (last axis).

    NaN when the scale is 0 (a constant history) or there are no valid pairs.
    """
    a, f, ok = _pair(actual, forecast)
    cnt = ok.sum(axis=-1)
    mae = _ratio(np.abs(f - a).sum(axis=-1), cnt.astype(float))
    return _ratio(np.asarray(mae), _scale(insample, season_length, 1, False))


def rmsse(
    *, actual: Any, forecast: Any, insample: Any, season_length: int = 1, trim_leading_zeros: bool = True
) -> np.ndarray | float:
    """Root mean squared scaled error (M5): sqrt(mean (f - a)^2 / mean (y_t - y_{t-m})^2).

    The in-sample scale skips leading zeros by default, as in the M5 competition.
    """
    a, f, ok = _pair(actual, forecast)
    cnt = ok.sum(axis=-1)
    mse = _ratio(((f - a) ** 2).sum(axis=-1), cnt.astype(float))
    r = _ratio(np.asarray(mse), _scale(insample, season_length, 2, trim_leading_zeros))
    return np.sqrt(r)


def forecast_value_added(
    *,
    frame: pd.DataFrame,
    by: str | Sequence[str],
    actual: str = "actual",
    statistical: str = "statistical",
    override: str = "override",
    overridden_only: bool = False,
) -> pd.DataFrame:
    """Forecast value added of overrides, per group (planner, SKU, category...).

    Parameters
    ----------
    frame
        One row per item x period with the actual, the statistical forecast and the override (NaN = no override;
        the final forecast is then the statistical one). Rows with a NaN actual are ignored.
    by
        Grouping column(s).
    overridden_only
        Compare only on rows that carry an override (the usual FVA view of the planner's touch).

    Returns
    -------
    DataFrame
        Indexed by ``by``: ``rows``, ``overridden_rows``, ``actual_sum``, ``statistical_wape``, ``final_wape``,
        ``fva_wape`` (statistical - final: positive = overrides helped), ``statistical_bias``, ``final_bias``,
        ``improved_share`` (share of overridden rows where the override is closer to the actual).
    """
    keys = [by] if isinstance(by, str) else list(by)
    missing = [c for c in (*keys, actual, statistical, override) if c not in frame.columns]
    if missing:
        raise ValueError(f"frame is missing columns {missing}")
    a = frame[actual].to_numpy(dtype=float)
    s = frame[statistical].to_numpy(dtype=float)
    o = frame[override].to_numpy(dtype=float)
    has_o = np.isfinite(o)
    final = np.where(has_o, o, s)
    keep = np.isfinite(a) & np.isfinite(s) & (has_o if overridden_only else True)
    df = frame.loc[keep, keys].copy()
    a, s, final, has_o = a[keep], s[keep], final[keep], has_o[keep]
    df["_a"] = np.abs(a)
    df["_es"] = np.abs(s - a)
    df["_ef"] = np.abs(final - a)
    df["_bs"] = s - a
    df["_bf"] = final - a
    df["_o"] = has_o.astype(int)
    df["_imp"] = np.where(has_o, (np.abs(final - a) < np.abs(s - a)).astype(float), np.nan)
    g = df.groupby(keys, sort=True, dropna=False)
    sums = g[["_a", "_es", "_ef", "_bs", "_bf", "_o"]].sum()
    den = sums["_a"].where(sums["_a"] > 0)
    out = pd.DataFrame(
        {
            "rows": g.size().astype(int),
            "overridden_rows": sums["_o"].astype(int),
            "actual_sum": sums["_a"],
            "statistical_wape": sums["_es"] / den,
            "final_wape": sums["_ef"] / den,
            "statistical_bias": sums["_bs"] / den,
            "final_bias": sums["_bf"] / den,
            "improved_share": g["_imp"].mean(),
        }
    )
    out["fva_wape"] = out["statistical_wape"] - out["final_wape"]
    return out[
        [
            "rows",
            "overridden_rows",
            "actual_sum",
            "statistical_wape",
            "final_wape",
            "fva_wape",
            "statistical_bias",
            "final_bias",
            "improved_share",
        ]
    ]
