"""Speed of ``forecast_batch`` on a synthetic portfolio (default 10,000 SKUs x 156 weeks, horizon 13, 3 origins).

Run: ``.venv/bin/python -m bench.forecast_speed [--series 10000] [--periods 156] [--horizon 13]``.
Prints the wall and CPU time of each candidate model over all origins, then of the whole ``forecast_batch`` call
(single-process; the scikit-learn part runs on one OpenMP thread, see core.forecast.ml).
Not a test: it prints figures and exits 0.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from core.forecast import forecast_batch, plan_cuts
from core.forecast._prep import prepare_history
from core.forecast.intermittent import croston_sba, tsb
from core.forecast.ml import gbm_forecast
from core.forecast.naive import seasonal_naive
from core.forecast.smoothing import exponential_smoothing


def synthetic_portfolio(*, n_series: int, n_periods: int, seed: int = 0) -> np.ndarray:
    """Weekly-like demand: smooth, seasonal, trending, intermittent and lumpy series, some new and some dead."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_periods)
    level = rng.lognormal(mean=1.5, sigma=1.2, size=(n_series, 1))
    season = 1 + rng.uniform(0, 0.6, (n_series, 1)) * np.sin(2 * np.pi * (t[None, :] / 52 + rng.random((n_series, 1))))
    trend = 1 + rng.normal(0, 0.003, (n_series, 1)) * t[None, :]
    rate = np.clip(level * season * trend, 0, None)
    y = rng.poisson(rate).astype(np.float64)
    kind = rng.random(n_series)
    sparse = kind < 0.35
    occurs = rng.random((n_series, n_periods)) < rng.uniform(0.05, 0.5, (n_series, 1))
    y[sparse] = np.where(occurs[sparse], rng.poisson(rate[sparse] * 2 + 1), 0.0)
    launch = rng.integers(0, n_periods - 10, n_series)
    new = kind > 0.95
    y[new] = np.where(t[None, :] >= launch[new, None], y[new], 0.0)
    dead = (kind > 0.93) & (kind <= 0.95)
    y[dead] = np.where(t[None, :] < launch[dead, None], y[dead], 0.0)
    y[rng.random(y.shape) < 0.002] = np.nan
    return y


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--periods", type=int, default=156)
    parser.add_argument("--horizon", type=int, default=13)
    parser.add_argument("--season", type=int, default=52)
    parser.add_argument("--origins", type=int, default=3)
    args = parser.parse_args(argv)
    history = synthetic_portfolio(n_series=args.series, n_periods=args.periods)
    dates = pd.date_range("2023-01-02", periods=args.periods, freq="W-MON")
    print(
        f"forecast speed: {args.series} series x {args.periods} periods, horizon {args.horizon}, {args.origins} origins"
    )

    data = prepare_history(history=history)
    cuts = np.append(plan_cuts(n_periods=args.periods, horizon=args.horizon, n_origins=args.origins), args.periods)
    common = {"data": data, "cuts": cuts, "horizon": args.horizon}
    stages = {
        "seasonal_naive": lambda: seasonal_naive(**common, season_length=args.season),
        "ets (SES/Holt/HW grid)": lambda: exponential_smoothing(**common, season_length=args.season),
        "croston_sba": lambda: croston_sba(**common),
        "tsb": lambda: tsb(**common),
        "ml_gbm (2 fits)": lambda: gbm_forecast(**common, season_length=args.season, calendar=None),
    }
    print(f"  machine: {os.cpu_count()} cores, load average before start {os.getloadavg()[0]:.1f}")
    print(f"  {'stage':<26s} {'wall':>9s} {'CPU':>9s}")
    for name, fn in stages.items():
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        print(f"  {name:<26s} {time.perf_counter() - t0:7.2f} s {time.process_time() - c0:7.2f} s")
    t0, c0 = time.perf_counter(), time.process_time()
    result = forecast_batch(history=history, horizon=args.horizon, season_length=args.season, period_dates=dates)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"  {'forecast_batch total':<26s} {wall:7.2f} s {cpu:7.2f} s")
    print(f"  load average after: {os.getloadavg()[0]:.1f} (wall >> CPU means other processes shared the cores)")
    counts = pd.Series(result.model).value_counts()
    print("  chosen models: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"  mean backtest MASE of the chosen models: {np.nanmean(result.mase):.3f}")


if __name__ == "__main__":
    main()
