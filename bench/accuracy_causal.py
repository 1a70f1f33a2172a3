"""Causal data in the forecast, measured: the engine with vs without prices, promotions and events (issue 20).

M5 subset (290 daily Walmart item x store series): fit d_1..d_1913, forecast the official 28 days d_1914..d_1941.
Causal inputs, exactly as a user would import them (no M5-specific feature): ``sell_prices_subset.csv`` as the
price per period (weekly prices spread over their days; the test window's prices are the "plan"), the calendar's
``event_name_1/2`` as events for every series and the SNAP days as one event ``SNAP`` located in each state
(the ``location`` column of an events file). M5 has no promotion flags.

Figures: mean RMSSE without / with causal data and their ratio (target <= 0.97, and still below AutoETS), and the
same on the series whose price never changes in the test window (target: ratio <= 1.005). ``--weekly`` also runs
the M5 weekly set (Walmart weeks, 13 weeks hidden) with the weekly prices and event weeks.

Run: ``nice .venv/bin/python -m bench.accuracy --causal [--skip-statsforecast] [--series N]``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from core.forecast import rmsse
from core.forecast.causal import CausalInputs
from core.forecast.engine import forecast_batch

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def m5_causal_inputs(sales: pd.DataFrame, calendar: pd.DataFrame, days: int) -> CausalInputs:
    """Prices and events of the first ``days`` days for the rows of ``sales`` (M5 layout)."""
    prices = pd.read_csv(DATA / "m5" / "sell_prices_subset.csv")
    cal = calendar.iloc[:days]
    wide = prices.pivot_table(index=["store_id", "item_id"], columns="wm_yr_wk", values="sell_price")
    keys = pd.MultiIndex.from_arrays([sales["store_id"], sales["item_id"]])
    wide = wide.reindex(keys)
    price = wide.reindex(columns=cal["wm_yr_wk"].to_numpy()).to_numpy(dtype=np.float64)
    n = len(sales)
    events: dict[str, np.ndarray] = {}
    for col in ("event_name_1", "event_name_2"):
        for name in cal[col].dropna().unique():
            hit = (cal[col] == name).to_numpy()
            events[name] = events.get(name, np.zeros((n, days), dtype=bool)) | np.broadcast_to(hit, (n, days))
    snap = np.zeros((n, days), dtype=bool)
    for state in sales["state_id"].unique():
        rows = (sales["state_id"] == state).to_numpy()
        snap[rows] = cal[f"snap_{state}"].to_numpy().astype(bool)[None, :]
    events["SNAP"] = snap
    return CausalInputs(price=price, events=events)


def _constant_price(price: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        lo, hi = np.nanmin(price, axis=1), np.nanmax(price, axis=1)
    return np.isfinite(lo) & (lo == hi)


def m5_causal(*, with_statsforecast: bool, seed: int = 0, series: int | None = None) -> dict[str, float]:
    """Mean RMSSE over the official 28 days, engine without vs with causal data."""
    path = DATA / "m5" / "sales_train_evaluation_subset.csv"
    if not path.exists():
        print(f"M5 causal: skipped, {path} not found")
        return {}
    sales = pd.read_csv(path)
    if series:
        sales = sales.iloc[np.linspace(0, len(sales) - 1, series).astype(int)].reset_index(drop=True)
    calendar = pd.read_csv(DATA / "m5" / "calendar.csv", parse_dates=["date"])
    t_fit, h = 1913, 28
    train = sales[[f"d_{d}" for d in range(1, t_fit + 1)]].to_numpy(dtype=np.float64)
    actual = sales[[f"d_{d}" for d in range(t_fit + 1, t_fit + h + 1)]].to_numpy(dtype=np.float64)
    dates = pd.DatetimeIndex(calendar["date"].iloc[:t_fit])
    causal = m5_causal_inputs(sales, calendar, t_fit + h)
    const = _constant_price(causal.price[:, t_fit:])
    print(
        f"M5 causal: {len(sales)} daily series ({const.sum()} with a constant price in the test window), "
        f"horizon {h}, mean RMSSE (lower is better); load {os.getloadavg()[0]:.2f}"
    )
    out: dict[str, float] = {}
    for label, cz in (("without", None), ("with", causal)):
        t0 = time.perf_counter()
        res = forecast_batch(
            history=train, horizon=h, season_length=7, period_dates=dates, random_state=seed, causal=cz
        )
        secs = time.perf_counter() - t0
        score = rmsse(actual=actual, forecast=res.mean, insample=train)
        out[label], out[f"{label}_const"] = float(np.nanmean(score)), float(np.nanmean(score[const]))
        counts = pd.Series(res.model).value_counts()
        print(
            f"  engine {label:<8s} causal data  {out[label]:.4f}  constant-price {out[f'{label}_const']:.4f}"
            f"  {secs:6.1f} s  " + ", ".join(f"{k} {v}" for k, v in counts.items())
        )
    out["ratio"] = out["with"] / out["without"]
    out["ratio_const"] = out["with_const"] / out["without_const"]
    print(f"  ratio with / without: all {out['ratio']:.4f} (target <= 0.97), constant-price {out['ratio_const']:.4f}")
    if with_statsforecast:
        from statsforecast import StatsForecast  # heavy optional library: imported only when asked for
        from statsforecast.models import AutoETS

        long = pd.DataFrame(
            {
                "unique_id": np.repeat(np.arange(len(sales)), t_fit),
                "ds": np.tile(dates.to_numpy(), len(sales)),
                "y": train.ravel(),
            }
        )
        sf = StatsForecast(models=[AutoETS(season_length=7)], freq="D", n_jobs=1)
        fc = sf.forecast(df=long, h=h).sort_values(["unique_id", "ds"])
        ets = fc["AutoETS"].to_numpy().reshape(len(sales), h)
        out["autoets"] = float(np.nanmean(rmsse(actual=actual, forecast=ets, insample=train)))
        print(f"  statsforecast AutoETS(season 7)  {out['autoets']:.4f}")
    ok = out["ratio"] <= 0.97 and out["ratio_const"] <= 1.005 and out["with"] < out.get("autoets", np.inf)
    print(f"  target (<= 0.97x, constant-price <= +0.5 %, below AutoETS): {'MET' if ok else 'NOT MET'}")
    return out


def synthetic_promotions(*, seed: int = 0, n: int = 300, weeks: int = 156, h: int = 13) -> dict[str, float]:
    """A check of the mechanism (not of accuracy on real data): weekly series with random promotions (price cut
    15-35 %, lift = (price / regular) ** -2.5, 10 % of the weeks flagged ``feature``) and Poisson noise; the plan
    of the hidden weeks is known. Mean RMSSE without / with causal data."""
    rng = np.random.default_rng(seed)
    length = weeks + h
    level = rng.gamma(2.0, 5.0, size=(n, 1))
    season = 1 + 0.2 * np.sin(2 * np.pi * (np.arange(length)[None, :] / 52 + rng.random((n, 1))))
    promo = rng.random((n, length)) < 0.12
    cut = np.where(promo, rng.uniform(0.15, 0.35, size=(n, length)), 0.0)
    regular = np.round(rng.uniform(1, 10, size=(n, 1)), 2)
    price = regular * (1 - cut)
    feature = (promo & (rng.random((n, length)) < 0.5)).astype(float)
    lam = level * season * (1 - cut) ** -2.5 * (1 + 0.5 * feature)
    y = rng.poisson(lam).astype(float)
    train, actual = y[:, :weeks], y[:, weeks:]
    dates = pd.date_range("2020-01-06", periods=weeks, freq="W-MON")
    causal = CausalInputs(price=price, promotion=promo.astype(float), features={"feature": feature})
    out: dict[str, float] = {}
    for label, cz in (("without", None), ("with", causal)):
        res = forecast_batch(history=train, horizon=h, season_length=52, period_dates=dates, causal=cz)
        out[label] = float(np.nanmean(rmsse(actual=actual, forecast=res.mean, insample=train)))
    out["ratio"] = out["with"] / out["without"]
    print(
        f"synthetic weekly promotions ({n} series, {weeks} weeks, {h} hidden): mean RMSSE without "
        f"{out['without']:.4f}, with {out['with']:.4f}, ratio {out['ratio']:.4f}"
    )
    return out


def m5_weekly_causal(*, seed: int = 0, horizon: int = 13) -> dict[str, float]:
    """The M5 series summed to Walmart weeks (the last ``horizon`` hidden) with the weekly prices and the weeks
    holding a calendar event or SNAP days (an event on a weekly grid, as the loader buckets them)."""
    path = DATA / "m5" / "sales_train_evaluation_subset.csv"
    if not path.exists():
        print(f"M5 weekly causal: skipped, {path} not found")
        return {}
    sales = pd.read_csv(path)
    calendar = pd.read_csv(DATA / "m5" / "calendar.csv", parse_dates=["date"])
    n_weeks = 1941 // 7
    daily = sales[[f"d_{d}" for d in range(1, 7 * n_weeks + 1)]].to_numpy(dtype=np.float64)
    weekly = daily.reshape(len(sales), n_weeks, 7).sum(axis=2)
    dates = pd.DatetimeIndex(calendar["date"].iloc[: 7 * n_weeks : 7])
    train, actual = weekly[:, :-horizon], weekly[:, -horizon:]
    day_causal = m5_causal_inputs(sales, calendar, 7 * n_weeks)
    price = day_causal.price[:, ::7]  # the week's price (prices are weekly in M5)
    events = {k: v.reshape(len(sales), n_weeks, 7).any(axis=2) for k, v in day_causal.events.items()}
    causal = CausalInputs(price=price, events=events)
    test_price = price[:, -horizon:]
    const = _constant_price(test_price)
    out: dict[str, float] = {}
    for label, cz in (("without", None), ("with", causal)):
        res = forecast_batch(
            history=train,
            horizon=horizon,
            season_length=52,
            period_dates=dates[:-horizon],
            random_state=seed,
            causal=cz,
        )
        score = rmsse(actual=actual, forecast=res.mean, insample=train)
        out[label], out[f"{label}_const"] = float(np.nanmean(score)), float(np.nanmean(score[const]))
    print(
        f"M5 weekly causal ({len(sales)} series, {horizon} weeks hidden, {const.sum()} with a constant price): mean "
        f"RMSSE without {out['without']:.4f}, with {out['with']:.4f} (ratio {out['with'] / out['without']:.4f}); "
        f"constant-price {out['without_const']:.4f} -> {out['with_const']:.4f} "
        f"(ratio {out['with_const'] / out['without_const']:.4f}); load {os.getloadavg()[0]:.2f}"
    )
    return out
