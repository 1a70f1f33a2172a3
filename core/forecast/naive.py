"""Seasonal naive forecasts from several origins at once."""

from __future__ import annotations

import numpy as np

from core.forecast._prep import Prepared


def seasonal_naive(*, data: Prepared, cuts: np.ndarray, horizon: int, season_length: int) -> np.ndarray:
    """Seasonal naive forecast from each cut: y_hat[c + k] = y[c - m + (k mod m)], k = 0..h-1.

    Source: Hyndman & Athanasopoulos, Forecasting: Principles and Practice (3rd ed.), section 5.2.
    A series with less than one full season since its first demand before the cut falls back to the
    plain naive forecast (last value); before its first demand it is forecast 0.

    Returns
    -------
    np.ndarray
        (n, len(cuts), horizon) forecasts.
    """
    y = data.y
    n = y.shape[0]
    m = max(int(season_length), 1)
    k = np.arange(horizon)
    out = np.zeros((n, len(cuts), horizon))
    for ci, cut in enumerate(cuts):
        cut = int(cut)
        if cut <= 0:
            continue
        seasonal_idx = cut - m + (k % m)
        if cut - m >= 0:
            seasonal = y[:, seasonal_idx]
        else:
            seasonal = np.repeat(y[:, cut - 1 : cut], horizon, axis=1)
        last = np.repeat(y[:, cut - 1 : cut], horizon, axis=1)
        full_season = (cut - data.start) >= m
        fc = np.where(full_season[:, None], seasonal, last)
        fc[data.start >= cut] = 0.0
        out[:, ci, :] = fc
    return out
