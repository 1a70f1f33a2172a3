"""Global gradient-boosting forecaster trained across the series of a batch (HistGradientBoostingRegressor).

Direct multi-horizon formulation: one row per (series i, origin o, step k) predicts y[i, o + k - 1] from what is known
at the origin (the first o periods). Every level feature and the target are divided by the series' recent mean
(``scale``), so one model serves slow and fast movers; the forecast is prediction x scale.

Features: recent lags, rolling means over geometric windows, the value at the same seasonal phase one season earlier
and its mean over the last 4 seasons, share of non-zero periods, periods since the last demand, age of the series,
log scale, step k, seasonal phase of the target (categorical) and calendar features of the target date (month,
ISO week, day of week, day of month) when dates are known. Loss: Poisson deviance (non-negative counts), as in the
M5 competition's leading tree models (Makridakis et al. 2022, "M5 accuracy competition: Results, findings, and
conclusions", IJF 38(4)). Training rows are a random subsample (seeded) of the origins before the cut.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from core.forecast._prep import Prepared
from core.forecast.causal import CausalFeatures, CausalInputs

_LONG_SEASONS = 12
OPENMP_THREADS = 1  # threads of the boosting fit / predict, see _threads


class _Features:
    def __init__(
        self,
        data: Prepared,
        season_length: int,
        horizon: int,
        calendar: np.ndarray | None,
        causal: CausalInputs | None = None,
    ) -> None:
        y = data.y
        n, t_len = y.shape
        self.m = max(int(season_length), 1)
        self.horizon = horizon
        self.n_lags = min(max(self.m, 4), 14)
        windows = {2, 4, 8, 16, 32, 64, 128, self.m, 2 * self.m, 4 * self.m}
        self.windows = sorted(w for w in windows if 1 < w <= max(t_len, 2))
        self.scale_window = max(2 * self.m, 28)
        self.pad = max(self.n_lags, 4 * self.m, max(self.windows), self.scale_window) + 1
        self.y = np.concatenate([np.zeros((n, self.pad)), y], axis=1)
        zeros = np.zeros((n, 1))
        self.cs = np.concatenate([zeros, np.cumsum(self.y, axis=1)], axis=1)
        self.cs2 = np.concatenate([zeros, np.cumsum(self.y**2, axis=1)], axis=1)
        self.cnz = np.concatenate([zeros, np.cumsum(self.y > 0, axis=1)], axis=1).astype(np.int32)
        idx = np.where(self.y > 0, np.arange(self.y.shape[1])[None, :], -1)
        self.last_nz = np.maximum.accumulate(idx, axis=1).astype(np.int32)
        self.csm = self.y.copy()  # per-phase cumulative sums: csm[t] = y[t] + y[t - m] + ...
        for lo in range(self.m, self.csm.shape[1], self.m):
            hi = min(lo + self.m, self.csm.shape[1])
            self.csm[:, lo:hi] += self.csm[:, lo - self.m : hi - self.m]
        self.start = data.start + self.pad
        self.calendar = calendar
        self.categorical: list[int] = []
        self.causal = None
        if causal is not None and not causal.is_empty():
            self.causal = CausalFeatures(causal, pad=self.pad, t_len=t_len, season_length=self.m)

    def _mean(self, i: np.ndarray, o: np.ndarray, w: int | np.ndarray) -> np.ndarray:
        lo = np.maximum(o - w, self.start[i])
        return (self.cs[i, o] - self.cs[i, lo]) / np.maximum(o - lo, 1)

    def mean_since_start(self, i: np.ndarray, origin: np.ndarray) -> np.ndarray:
        """Mean of each series from its first demand up to the origin."""
        return self._mean(i, origin + self.pad, 10**9)

    def build(
        self,
        i: np.ndarray,
        origin: np.ndarray,
        step: np.ndarray,
        *,
        with_plan: bool = True,
        plan_from: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Feature matrix and scale for rows (series i, origin, step); origin counts observed periods.

        ``with_plan=False``: the causal plan (price, promotion, named columns) of the periods from ``plan_from`` on
        (default: the forecast horizon) is replaced by the regular price and no promotion (``core.forecast.causal``).
        """
        o = origin + self.pad
        m = self.m
        self.categorical = []
        scale = self._mean(i, o, self.scale_window)
        longer = self._mean(i, o, 10**9)
        scale = np.where(scale > 0, scale, longer)
        scale = np.where(scale > 0, scale, 1.0)
        cols: list[np.ndarray] = []
        for lag in range(1, self.n_lags + 1):
            cols.append(self.y[i, o - lag] / scale)
        for w in self.windows:
            cols.append(self._mean(i, o, w) / scale)
        w_sd = max(2 * m, 8)
        lo = np.maximum(o - w_sd, self.start[i])
        cnt = np.maximum(o - lo, 1)
        mean = (self.cs[i, o] - self.cs[i, lo]) / cnt
        var = np.maximum((self.cs2[i, o] - self.cs2[i, lo]) / cnt - mean**2, 0.0)
        cols.append(np.sqrt(var) / scale)
        for w in (max(m, 8), 4 * max(m, 8)):
            lo = np.maximum(o - w, self.start[i])
            cols.append((self.cnz[i, o] - self.cnz[i, lo]) / np.maximum(o - lo, 1))
        cols.append(np.minimum(o - 1 - self.last_nz[i, o - 1], 4 * max(m, 13)).astype(np.float64))
        cols.append(np.minimum(o - self.start[i], 8 * max(m, 13)).astype(np.float64))
        cols.append(np.log1p(scale))
        cols.append(step.astype(np.float64))
        target = o + step - 1
        if m > 1:
            back = target - m * ((step + m - 1) // m)
            cols.append(self.y[i, back] / scale)
            for n_seasons in (4, _LONG_SEASONS):
                lo = np.maximum(back - m * n_seasons, self.start[i] - m)
                count = np.maximum((back - lo) // m, 1)
                earliest = back - m * count
                phase_sum = self.csm[i, back] - np.where(earliest >= 0, self.csm[i, np.maximum(earliest, 0)], 0.0)
                phase_mean = phase_sum / count
                level = self._mean(i, o, m * n_seasons)
                cols.append(phase_mean / scale)
                cols.append(np.where(level > 0, phase_mean / np.where(level > 0, level, 1.0), 1.0))
            self.categorical = [len(cols)] if m <= 250 else []
            cols.append(((target - self.pad) % m).astype(np.float64))
        if self.calendar is not None:
            cal = self.calendar[target - self.pad]
            cols.extend(cal.T.astype(np.float64))
        if self.causal is not None:
            extra = self.causal.columns(i, o, target, with_plan=with_plan, plan_from=plan_from)
            self.categorical = self.categorical + [len(cols) + k for k in self.causal.categorical]
            cols.extend(extra)
        x = np.empty((i.size, len(cols)), dtype=np.float32)
        for j, col in enumerate(cols):
            x[:, j] = col
        return x, scale


def _model(random_state: int, categorical: list[int]) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(
        loss="poisson",
        learning_rate=0.1,
        max_iter=100,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        categorical_features=categorical or None,
        early_stopping=False,
        random_state=random_state,
    )


def gbm_forecast(
    *,
    data: Prepared,
    cuts: np.ndarray,
    horizon: int,
    season_length: int,
    calendar: np.ndarray | None = None,
    random_state: int = 0,
    max_train_rows: int = 50_000,
    refit_each_cut: bool = False,
    causal: CausalInputs | None = None,
) -> np.ndarray:
    """Forecast (n, len(cuts), horizon) with a gradient-boosting model trained across the series.

    Training data for a cut only uses targets before that cut. With ``refit_each_cut=False`` one model trained on
    the data before the earliest backtest cut serves all backtest cuts and one model trained on the full history
    serves the final cut (the last element of ``cuts``): two fits instead of one per cut.

    Parameters
    ----------
    calendar
        (T + horizon, F) numeric calendar features per period (history then future), or None.
    max_train_rows
        Rows sampled (seeded by ``random_state``) for each fit.
    causal
        Known drivers over history and horizon (``core.forecast.causal``), or None.
    """
    return gbm_forecast_causal(
        data=data,
        cuts=cuts,
        horizon=horizon,
        season_length=season_length,
        calendar=calendar,
        random_state=random_state,
        max_train_rows=max_train_rows,
        refit_each_cut=refit_each_cut,
        causal=causal,
    )[0]


def gbm_forecast_causal(
    *,
    data: Prepared,
    cuts: np.ndarray,
    horizon: int,
    season_length: int,
    calendar: np.ndarray | None = None,
    random_state: int = 0,
    max_train_rows: int = 50_000,
    refit_each_cut: bool = False,
    causal: CausalInputs | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """``gbm_forecast`` and, when the causal inputs hold a plan (price, promotion or named columns), the forecast
    (n, len(cuts), horizon) of the same models without the plan in each cut's window (regular price, no promotion):
    the plan's uplift is their ratio. None without a plan."""
    n = data.y.shape[0]
    cuts = np.asarray(cuts, dtype=np.int64)
    out = np.zeros((n, len(cuts), horizon))
    feats = _Features(data, season_length, horizon, calendar, causal)
    base = np.zeros_like(out) if feats.causal is not None and feats.causal.has_plan else None
    rng = np.random.default_rng(random_state)
    if refit_each_cut or len(cuts) == 1:
        groups = [(int(c), [ci]) for ci, c in enumerate(cuts)]
    else:
        groups = [(int(cuts[:-1].min()), list(range(len(cuts) - 1))), (int(cuts[-1]), [len(cuts) - 1])]
    for train_cut, members in groups:
        model = _fit(feats, data, train_cut, horizon, rng, random_state, max_train_rows)
        for ci in members:
            cut = int(cuts[ci])
            alive = np.flatnonzero(data.start < cut)
            if alive.size == 0:
                continue
            i = np.repeat(alive, horizon)
            step = np.tile(np.arange(1, horizon + 1), alive.size)
            out[alive, ci, :] = _predict(model, feats, i, cut, step, True).reshape(alive.size, horizon)
            if base is not None:
                base[alive, ci, :] = _predict(model, feats, i, cut, step, False).reshape(alive.size, horizon)
    return out, base


def _predict(
    model: HistGradientBoostingRegressor | None,
    feats: _Features,
    i: np.ndarray,
    cut: int,
    step: np.ndarray,
    with_plan: bool,
) -> np.ndarray:
    """Forecast for rows (i, step) from origin ``cut``; the plan of the periods from ``cut`` on is left out when
    ``with_plan`` is False (the backtest cuts too, so an uplift can be measured in the backtest)."""
    origin = np.full(i.size, cut)
    x, scale = feats.build(i, origin, step, with_plan=with_plan, plan_from=cut)
    if model is None:
        return feats.mean_since_start(i, origin)
    with _threads():
        pred = model.predict(x)
    return np.maximum(pred, 0.0) * scale


def _fit(
    feats: _Features,
    data: Prepared,
    cut: int,
    horizon: int,
    rng: np.random.Generator,
    random_state: int,
    max_rows: int,
) -> HistGradientBoostingRegressor | None:
    """Fit on the (series, origin, step) rows whose target lies before ``cut``; None if too few.

    All rows are used when there are at most ``max_rows`` of them, else a seeded random sample of ``max_rows``.
    """
    start = data.start
    origins = np.clip(cut - 1 - start, 0, None)  # origins o = start+1 .. cut-1 per series
    if origins.sum() < 10:
        return None
    # rows per origin: min(horizon, cut - o); total rows per series in closed form
    long_part = np.clip(origins - horizon + 1, 0, None)
    short = origins - long_part
    rows_per_series = long_part * horizon + short * (short + 1) // 2
    total = int(rows_per_series.sum())
    if total <= max_rows:
        i = np.repeat(np.arange(start.size), origins)
        origin = np.concatenate([np.arange(s + 1, cut) for s in start[origins > 0]])
        room = np.minimum(horizon, cut - origin)
        i, origin = np.repeat(i, room), np.repeat(origin, room)
        step = 1 + np.arange(i.size) - np.repeat(np.cumsum(room) - room, room)
    else:
        draw = int(max_rows * 1.15) + 10
        i = rng.choice(start.size, size=draw, p=rows_per_series / total)
        origin = start[i] + 1 + np.floor(rng.random(draw) * origins[i]).astype(np.int64)
        room = np.minimum(horizon, cut - origin)
        step = 1 + np.floor(rng.random(draw) * room).astype(np.int64)
    target_idx = origin + step - 1
    keep = data.observed[i, target_idx]
    i, origin, step, target_idx = (
        i[keep][:max_rows],
        origin[keep][:max_rows],
        step[keep][:max_rows],
        target_idx[keep][:max_rows],
    )
    if i.size < 10:
        return None
    x, scale = feats.build(i, origin, step)
    target = data.y[i, target_idx] / scale
    if target.sum() <= 0:
        return None
    model = _model(random_state, feats.categorical)
    with _threads():
        model.fit(x, target)
    return model


def _threads() -> threadpool_limits:
    """Limit OpenMP to ``OPENMP_THREADS`` threads around scikit-learn calls.

    Measured here: with other processes busy on the 2 cores, a 2-thread fit took 10x longer than a 1-thread fit
    (spinning OpenMP threads); callers parallelise across batches with processes instead.
    """
    return threadpool_limits(limits=OPENMP_THREADS, user_api="openmp")
