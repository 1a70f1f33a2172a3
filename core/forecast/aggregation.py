"""Temporal aggregation for intermittent demand: ADIDA and IMAPA, vectorised over series.

ADIDA (Nikolopoulos, Syntetos, Boylan, Petropoulos & Assimakopoulos 2011, "An aggregate-disaggregate intermittent
demand approach (ADIDA) to forecasting", JORS 62(3)): sum the series into non-overlapping buckets of k periods,
k = round(mean inter-demand interval), so that most buckets hold a demand; forecast the next bucket by simple
exponential smoothing (SES); the per-period forecast is that bucket forecast / k.
IMAPA (Petropoulos & Kourentzes 2015, "Forecast combinations for intermittent demand", JORS 66(6)): the mean of the
per-period forecasts of every aggregation level k = 1 .. round(mean inter-demand interval).

Conventions (those of statsforecast's ``ADIDA`` / ``IMAPA``, against which the tests check these):

- the history starts at the first *recorded* period (NaN before it = not started), not at the first demand: a
  recorded zero before the first demand is information (the item was there and nobody asked for it);
- the mean inter-demand interval before a cut is (last demand - first recorded period + 1) / number of demands,
  rounded half to even (Python's ``round``);
- buckets are aligned on the forecast origin: the oldest incomplete bucket is dropped;
- SES starts at the first bucket; alpha is chosen per series from ``SES_ALPHAS`` (the 0.1-0.3 range statsforecast
  optimises over) by the in-sample one-step squared error over the buckets.

A series with no complete bucket is forecast by its mean since the first recorded period; before its first demand,
0. Levels above ``MAX_LEVEL`` use ``MAX_LEVEL``.
"""

from __future__ import annotations

import numpy as np

from core.forecast._prep import Prepared

SES_ALPHAS = np.linspace(0.1, 0.3, 9)
MAX_LEVEL = 52


def _bucket_ses(sums: np.ndarray, rows: np.ndarray, origin: np.ndarray, cut: int, level: int) -> np.ndarray:
    """SES forecast of the next ``level``-period bucket sum at ``cut`` for ``rows`` (NaN without a full bucket).

    ``sums`` is the (n, T + 1) cumulative sum with a leading 0 column; ``origin`` the first period per row.
    """
    n_buckets = (cut - origin) // level
    most = int(n_buckets.max()) if n_buckets.size else 0
    if most < 1:
        return np.full(rows.size, np.nan)
    back = np.arange(most - 1, -1, -1)  # column c holds the bucket ending back[c] buckets before the cut
    ends = cut - back * level
    sub = sums[rows]
    buckets = sub[:, ends] - sub[:, np.maximum(ends - level, 0)]  # (r, most), oldest first
    valid = back[None, :] < n_buckets[:, None]
    first = back[None, :] == (n_buckets - 1)[:, None]
    alpha = SES_ALPHAS[None, :]
    state = np.zeros((rows.size, SES_ALPHAS.size))
    sse = np.zeros_like(state)
    for c in range(most):
        x = buckets[:, c : c + 1]
        err = np.where(valid[:, c : c + 1] & ~first[:, c : c + 1], x - state, 0.0)
        sse += err * err
        state = np.where(first[:, c : c + 1], x, state + alpha * err)
    fc = state[np.arange(rows.size), np.argmin(sse, axis=1)]
    return np.where(n_buckets >= 1, fc, np.nan)


def temporal_aggregation(
    *, data: Prepared, cuts: np.ndarray, horizon: int, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """ADIDA and IMAPA forecasts from each cut, each (n, len(cuts), horizon) and flat over the horizon.

    Parameters
    ----------
    data
        The cleaned batch (``prepare_history``).
    cuts
        Forecast origins: the number of periods each fit may use.
    horizon
        Periods to forecast.
    rows
        Indices of the series to forecast (default all); the other rows are 0.

    Returns
    -------
    tuple
        (adida, imapa).
    """
    y = data.y
    n, t_len = y.shape
    rows = np.arange(n) if rows is None else np.asarray(rows, dtype=np.int64)
    sums = np.concatenate([np.zeros((n, 1)), np.cumsum(y, axis=1)], axis=1)
    counts = np.concatenate([np.zeros((n, 1)), np.cumsum(y > 0, axis=1)], axis=1)
    last_demand = np.maximum.accumulate(np.where(y > 0, np.arange(t_len)[None, :], -1), axis=1)
    out_adida = np.zeros((n, len(cuts), horizon))
    out_imapa = np.zeros((n, len(cuts), horizon))
    for ci, cut in enumerate(int(c) for c in cuts):
        alive = rows[data.start[rows] < cut] if cut > 0 else rows[:0]
        if alive.size == 0:
            continue
        origin = np.minimum(data.first_obs[alive], data.start[alive])
        span = last_demand[alive, cut - 1] + 1 - origin
        n_demands = counts[alive, cut] - counts[alive, origin]
        level = np.clip(np.rint(span / n_demands), 1, MAX_LEVEL).astype(np.int64)  # half to even, as Python's round
        fallback = (sums[alive, cut] - sums[alive, origin]) / np.maximum(cut - origin, 1)
        total = np.zeros(alive.size)
        for k in range(1, int(level.max()) + 1):
            members = np.flatnonzero(level >= k)
            fc = _bucket_ses(sums, alive[members], origin[members], cut, k) / k
            fc = np.where(np.isnan(fc), fallback[members], fc)
            total[members] += fc
            top = level[members] == k
            out_adida[alive[members[top]], ci, :] = fc[top, None]
        out_imapa[alive, ci, :] = (total / level)[:, None]
    return out_adida, out_imapa
