"""Croston-SBA and TSB for intermittent demand, vectorised over series and a small smoothing grid.

Croston (1972) smooths the non-zero demand sizes z and the intervals p between demands; the Syntetos-Boylan
approximation (SBA, Syntetos & Boylan 2005) debiases the ratio: forecast = (1 - alpha / 2) * z / p.
TSB (Teunter, Syntetos & Babai 2011) smooths the size z at demands and the demand probability d every period:
d <- d + beta * (1[y > 0] - d); forecast = d * z, so the forecast decays while no demand arrives.

Initialisation at the first demand: z = that demand, p = periods from the first observation to it (inclusive),
d = 1 / p. The smoothing constants are chosen per series and per cut by the in-sample one-step MSE before the cut.
"""

from __future__ import annotations

import itertools

import numpy as np

from core.forecast._prep import Prepared

CROSTON_ALPHAS = np.array([0.05, 0.1, 0.2, 0.3])
TSB_GRID = np.array(list(itertools.product((0.05, 0.1, 0.2, 0.3), (0.02, 0.05, 0.1, 0.2))))


def _run(data: Prepared, cuts: np.ndarray, horizon: int, method: str) -> np.ndarray:
    y = data.y
    n, t_len = y.shape
    start = data.start
    weight = data.observed.astype(np.float64)
    if method == "croston_sba":
        alpha = CROSTON_ALPHAS[None, :]
        beta = None
    else:
        alpha = TSB_GRID[None, :, 0]
        beta = TSB_GRID[None, :, 1]
    n_grid = alpha.shape[1]
    ridx = np.arange(n)
    safe_start = np.minimum(start, t_len - 1)
    first_size = y[ridx, safe_start]
    first_interval = np.maximum(start - data.first_obs + 1, 1).astype(np.float64)
    size = np.repeat(first_size[:, None], n_grid, axis=1)
    interval = np.repeat(first_interval[:, None], n_grid, axis=1)
    prob = 1.0 / interval
    last_demand = start.astype(np.float64).copy()
    sse = np.zeros((n, n_grid))
    out = np.zeros((n, len(cuts), horizon))
    cut_pos = {int(c): i for i, c in enumerate(cuts)}

    def current() -> np.ndarray:
        if method == "croston_sba":
            return (1 - alpha / 2) * size / interval
        return prob * size

    t0 = int(min(start.min(), t_len))
    for t in range(t0, t_len + 1):
        if t in cut_pos:
            f = current()
            best = np.argmin(sse, axis=1)
            val = f[ridx, best]
            out[:, cut_pos[t], :] = np.where(start < t, val, 0.0)[:, None]
        if t == t_len:
            break
        after = (start < t)[:, None]  # the first demand initialises the state
        if not after.any():
            continue
        yt = y[:, t : t + 1]
        err = yt - current()
        sse += (weight[:, t] * (start < t))[:, None] * err * err
        demand = (yt > 0) & after
        if method == "croston_sba":
            gap = t - last_demand[:, None]
            interval = np.where(demand, interval + alpha * (gap - interval), interval)
            size = np.where(demand, size + alpha * (yt - size), size)
        else:
            prob = np.where(after, prob + beta * (demand - prob), prob)
            size = np.where(demand, size + alpha * (yt - size), size)
        last_demand = np.where(demand[:, 0], t, last_demand)
    return out


def croston_sba(*, data: Prepared, cuts: np.ndarray, horizon: int) -> np.ndarray:
    """Croston with the Syntetos-Boylan correction from each cut: (n, len(cuts), horizon), flat over the horizon."""
    return _run(data, np.asarray(cuts), horizon, "croston_sba")


def tsb(*, data: Prepared, cuts: np.ndarray, horizon: int) -> np.ndarray:
    """Teunter-Syntetos-Babai from each cut: (n, len(cuts), horizon), flat over the horizon."""
    return _run(data, np.asarray(cuts), horizon, "tsb")
