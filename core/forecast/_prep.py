"""Cleaning of a demand history matrix before forecasting (NaN, negatives, series start)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Prepared:
    """A cleaned batch of series.

    Attributes
    ----------
    y
        (n, T) float64, no NaN, >= 0: the values the models are fitted on.
    observed
        (n, T) bool: True where the input held a number (the only periods that are scored).
    first_obs
        (n,) int: index of the first observed period (T for an all-NaN row).
    start
        (n,) int: index of the first positive demand (T if there is none). Models fit from here.
    """

    y: np.ndarray
    observed: np.ndarray
    first_obs: np.ndarray
    start: np.ndarray


def prepare_history(*, history: np.ndarray) -> Prepared:
    """Clean a (n, T) history for the models.

    Rules (documented behaviour of ``forecast_batch``):

    - negative values (returns, corrections) are clipped to 0: demand to forecast is never negative;
    - NaN before the first observation: the series did not exist yet; filled with 0 and not scored;
    - NaN after the first observation: missing record; filled by linear interpolation between the
      neighbouring observations (trailing NaNs take the last observation) and not scored;
    - models start at the first positive demand (leading zeros are trimmed, as in the M5 RMSSE convention);
      a row without any positive demand is forecast as 0.
    """
    y = np.array(history, dtype=np.float64, copy=True)
    n, t_len = y.shape
    observed = ~np.isnan(y)
    y[observed] = np.maximum(y[observed], 0.0)
    any_obs = observed.any(axis=1)
    first_obs = np.where(any_obs, observed.argmax(axis=1), t_len)
    missing = ~observed
    if missing.any():
        cols = np.arange(t_len)
        rows_with_gaps = np.flatnonzero(missing.any(axis=1) & any_obs)
        for i in rows_with_gaps:
            obs = observed[i]
            y[i, ~obs] = np.interp(cols[~obs], cols[obs], y[i, obs])
            y[i, : first_obs[i]] = 0.0
        y[~any_obs] = 0.0
    positive = y > 0
    start = np.where(positive.any(axis=1), positive.argmax(axis=1), t_len)
    return Prepared(y=y, observed=observed, first_obs=first_obs.astype(np.int64), start=start.astype(np.int64))
