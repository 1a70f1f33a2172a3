"""Scaled forecast accuracy measures per series (MASE, RMSSE, WAPE)."""

from __future__ import annotations

import warnings

import numpy as np


def _check(actual: np.ndarray, forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    actual = np.atleast_2d(np.asarray(actual, dtype=np.float64))
    forecast = np.atleast_2d(np.asarray(forecast, dtype=np.float64))
    if actual.shape != forecast.shape:
        raise ValueError(f"forecast shape {forecast.shape} must match actual shape {actual.shape}")
    return actual, forecast


def mase(*, actual: np.ndarray, forecast: np.ndarray, insample: np.ndarray, season_length: int = 1) -> np.ndarray:
    """Mean absolute scaled error per series: mean|a - f| / mean|y_t - y_{t-m}| over the in-sample series.

    Source: Hyndman & Koehler (2006), "Another look at measures of forecast accuracy", IJF 22(4). NaN in the
    in-sample series are ignored; NaN where the scale is 0 (constant history).
    """
    actual, forecast = _check(actual, forecast)
    insample = np.atleast_2d(np.asarray(insample, dtype=np.float64))
    if season_length < 1:
        raise ValueError(f"season_length must be >= 1, got {season_length}")
    diff = np.abs(insample[:, season_length:] - insample[:, :-season_length])
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN
        scale = np.nanmean(diff, axis=1) if diff.shape[1] else np.full(insample.shape[0], np.nan)
        mae = np.nanmean(np.abs(actual - forecast), axis=1)
        return np.where(scale > 0, mae / scale, np.nan)


def rmsse(*, actual: np.ndarray, forecast: np.ndarray, insample: np.ndarray) -> np.ndarray:
    """Root mean squared scaled error per series (M5 competition measure).

    RMSSE = sqrt(mean((a - f)^2) / mean((y_t - y_{t-1})^2)), the scale taken over the in-sample series after its
    leading zeros are trimmed. Source: M5 Competitors' Guide (University of Nicosia, 2020), section 4. NaN where the
    scale is 0.
    """
    actual, forecast = _check(actual, forecast)
    insample = np.atleast_2d(np.asarray(insample, dtype=np.float64))
    out = np.full(actual.shape[0], np.nan)
    for i, row in enumerate(insample):
        nz = np.flatnonzero(row > 0)
        if nz.size == 0:
            continue
        trimmed = row[nz[0] :]
        if trimmed.size < 2:
            continue
        scale = np.nanmean(np.diff(trimmed) ** 2)
        if scale > 0:
            out[i] = np.sqrt(np.nanmean((actual[i] - forecast[i]) ** 2) / scale)
    return out


def wape(*, actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """Weighted absolute percentage error per series: sum|a - f| / sum(a); NaN where sum(a) is 0."""
    actual, forecast = _check(actual, forecast)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.nansum(actual, axis=1)
        return np.where(total > 0, np.nansum(np.abs(actual - forecast), axis=1) / total, np.nan)
