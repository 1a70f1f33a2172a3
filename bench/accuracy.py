"""Forecast accuracy benchmark on real data (not a test: prints figures side by side and exits 0).

1. M5 subset (290 daily Walmart series): fit on d_1..d_1913, forecast 28 days, mean RMSSE of our per-series
   selection vs seasonal naive (season 7) vs statsforecast AutoETS(season_length=7); target: below seasonal naive
   and no worse than AutoETS.
2. Weekly retail: the same M5 series summed over the 277 whole Walmart weeks (Saturday to Friday, d_1..d_1939),
   the last 13 weeks (the engine's horizon) hidden; mean RMSSE and MASE of our selection vs seasonal naive (52) and
   statsforecast AutoETS(season_length=52).
3. Car parts (2,674 monthly series): hold out the last 12 months, mean MASE (in-sample one-step naive scale) of our
   selection vs statsforecast CrostonSBA; target: no worse than CrostonSBA. Series with missing test months or a
   zero scale are left out (the same set for every method).

The intermittent sets (RMSSE and bias against CrostonSBA, TSB, ADIDA, IMAPA) are in ``bench.accuracy_intermittent``.

Run: ``.venv/bin/python -m bench.accuracy [--skip-statsforecast] [--speed] [--only m5|m5_weekly|carparts]``;
``--causal [--series N]``: the engine with vs without causal data (prices, events, SNAP) on M5, see
``bench.accuracy_causal``.
Data are read from ../shared/data (sections are skipped with a message when absent). ``--speed`` also runs
bench.forecast_speed (10k x 156 weeks).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench import accuracy_causal
from core.forecast import mase, rmsse
from core.forecast.engine import forecast_batch_with_candidates

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
_ONLY_INTERMITTENT = dict.fromkeys(("adida", "imapa"), "(computed for intermittent series only, 0 on the others)")


def _line(name: str, value: float, seconds: float | None = None, extra: str = "") -> None:
    secs = f"{seconds:8.1f} s" if seconds is not None else " " * 10
    print(f"  {name:<34s} {value:8.4f} {secs}  {extra}")


def _coverage(actual: np.ndarray, result: object) -> str:
    ok = ~np.isnan(actual)
    inside = ((actual >= result.p10) & (actual <= result.p90))[ok].mean()
    below = (actual <= result.p50)[ok].mean()
    return f"quantiles on the hold-out: {inside:.1%} inside [p10, p90] (nominal 80%), {below:.1%} <= p50 (nominal 50%)"


def m5(*, with_statsforecast: bool, seed: int = 0) -> dict[str, float]:
    """M5 subset: mean RMSSE over 28 days."""
    path = DATA / "m5" / "sales_train_evaluation_subset.csv"
    if not path.exists():
        print(f"M5: skipped, {path} not found")
        return {}
    sales = pd.read_csv(path)
    calendar = pd.read_csv(DATA / "m5" / "calendar.csv", parse_dates=["date"])
    fit_cols = [f"d_{d}" for d in range(1, 1914)]
    test_cols = [f"d_{d}" for d in range(1914, 1942)]
    train = sales[fit_cols].to_numpy(dtype=np.float64)
    actual = sales[test_cols].to_numpy(dtype=np.float64)
    dates = pd.DatetimeIndex(calendar.set_index("d").loc[fit_cols, "date"])
    print(f"M5 subset: {train.shape[0]} daily series, fit d_1..d_1913, horizon 28, mean RMSSE (lower is better)")
    out: dict[str, float] = {}

    t0 = time.perf_counter()
    result, candidates = forecast_batch_with_candidates(
        history=train, horizon=28, season_length=7, period_dates=dates, random_state=seed
    )
    secs = time.perf_counter() - t0
    out["ours"] = float(np.nanmean(rmsse(actual=actual, forecast=result.mean, insample=train)))
    counts = pd.Series(result.model).value_counts()
    _line("ours: per-series selection", out["ours"], secs, ", ".join(f"{k} {v}" for k, v in counts.items()))
    print("  " + _coverage(actual, result))
    for name, fc in candidates.items():
        score = float(np.nanmean(rmsse(actual=actual, forecast=fc[:, -1, :], insample=train)))
        out[f"ours:{name}"] = score
        _line(f"  candidate {name} alone", score, None, _ONLY_INTERMITTENT.get(name, ""))

    snaive = np.tile(train[:, -7:], 4)
    out["seasonal_naive"] = float(np.nanmean(rmsse(actual=actual, forecast=snaive, insample=train)))
    _line("seasonal naive (season 7)", out["seasonal_naive"])

    if with_statsforecast:
        from statsforecast import StatsForecast
        from statsforecast.models import AutoETS

        long = pd.DataFrame(
            {
                "unique_id": np.repeat(sales["id"].to_numpy(), len(fit_cols)),
                "ds": np.tile(dates.to_numpy(), len(sales)),
                "y": train.ravel(),
            }
        )
        t0 = time.perf_counter()
        sf = StatsForecast(models=[AutoETS(season_length=7)], freq="D", n_jobs=os.cpu_count() or 1)
        fc = sf.forecast(df=long, h=28)
        secs = time.perf_counter() - t0
        fc = fc.set_index("unique_id").loc[sales["id"]]
        ets = fc["AutoETS"].to_numpy().reshape(len(sales), 28)
        out["autoets"] = float(np.nanmean(rmsse(actual=actual, forecast=ets, insample=train)))
        _line("statsforecast AutoETS(season 7)", out["autoets"], secs)
    ok = out["ours"] < out["seasonal_naive"] and out["ours"] <= out.get("autoets", np.inf)
    print(f"  target (below seasonal naive, no worse than AutoETS): {'MET' if ok else 'NOT MET'}")
    return out


def m5_weekly(*, with_statsforecast: bool, seed: int = 0, horizon: int = 13) -> dict[str, float]:
    """M5 subset summed to Walmart weeks: mean RMSSE and MASE over the last ``horizon`` weeks."""
    path = DATA / "m5" / "sales_train_evaluation_subset.csv"
    if not path.exists():
        print(f"M5 weekly: skipped, {path} not found")
        return {}
    sales = pd.read_csv(path)
    calendar = pd.read_csv(DATA / "m5" / "calendar.csv", parse_dates=["date"])
    n_weeks = 1941 // 7  # whole weeks from d_1 (a Saturday)
    daily = sales[[f"d_{d}" for d in range(1, 7 * n_weeks + 1)]].to_numpy(dtype=np.float64)
    weekly = daily.reshape(len(sales), n_weeks, 7).sum(axis=2)
    dates = pd.DatetimeIndex(calendar["date"].iloc[: 7 * n_weeks : 7])
    train, actual = weekly[:, :-horizon], weekly[:, -horizon:]
    fit_dates = dates[:-horizon]
    print(
        f"M5 weekly: {train.shape[0]} series, {n_weeks} Walmart weeks, fit {train.shape[1]}, horizon {horizon}, "
        "mean RMSSE / MASE (lower is better)"
    )
    out: dict[str, float] = {}

    def both(fc: np.ndarray) -> tuple[float, float]:
        r = float(np.nanmean(rmsse(actual=actual, forecast=fc, insample=train)))
        return r, float(np.nanmean(mase(actual=actual, forecast=fc, insample=train)))

    t0 = time.perf_counter()
    result, candidates = forecast_batch_with_candidates(
        history=train, horizon=horizon, season_length=52, period_dates=fit_dates, random_state=seed
    )
    secs = time.perf_counter() - t0
    out["ours"], out["ours_mase"] = both(result.mean)
    counts = pd.Series(result.model).value_counts()
    _line(
        "ours: per-series selection",
        out["ours"],
        secs,
        f"MASE {out['ours_mase']:.4f}; " + ", ".join(f"{k} {v}" for k, v in counts.items()),
    )
    for name, fc in candidates.items():
        r, m = both(fc[:, -1, :])
        out[f"ours:{name}"] = r
        _line(f"  candidate {name} alone", r, None, f"MASE {m:.4f} {_ONLY_INTERMITTENT.get(name, '')}")
    snaive = train[:, -52 : -52 + horizon]
    out["seasonal_naive"], m = both(snaive)
    _line("seasonal naive (season 52)", out["seasonal_naive"], None, f"MASE {m:.4f}")
    if with_statsforecast:
        from statsforecast import StatsForecast
        from statsforecast.models import AutoETS

        long = pd.DataFrame(
            {
                "unique_id": np.repeat(np.arange(len(sales)), train.shape[1]),
                "ds": np.tile(fit_dates.to_numpy(), len(sales)),
                "y": train.ravel(),
            }
        )
        t0 = time.perf_counter()
        sf = StatsForecast(models=[AutoETS(season_length=52)], freq="7D", n_jobs=os.cpu_count() or 1)
        fc = sf.forecast(df=long, h=horizon).sort_values(["unique_id", "ds"])
        secs = time.perf_counter() - t0
        ets = fc["AutoETS"].to_numpy().reshape(len(sales), horizon)
        out["autoets"], m = both(ets)
        _line("statsforecast AutoETS(season 52)", out["autoets"], secs, f"MASE {m:.4f}")
    ok = out["ours"] < out["seasonal_naive"] and out["ours"] <= out.get("autoets", np.inf)
    print(f"  target (below seasonal naive, no worse than AutoETS): {'MET' if ok else 'NOT MET'}")
    return out


def carparts(*, with_statsforecast: bool, seed: int = 0) -> dict[str, float]:
    """Car parts: mean MASE over the last 12 months."""
    path = DATA / "intermittent" / "carparts_long.csv"
    if not path.exists():
        print(f"car parts: skipped, {path} not found")
        return {}
    long = pd.read_csv(path)
    wide = long.pivot(index="part_id", columns="month", values="sales").sort_index(axis=1)
    values = wide.to_numpy(dtype=np.float64)
    train, actual = values[:, :-12], values[:, -12:]
    dates = pd.DatetimeIndex(pd.to_datetime(wide.columns[:-12]))
    scale_ok = ~np.isnan(mase(actual=actual, forecast=np.zeros_like(actual), insample=train))
    keep = scale_ok & ~np.isnan(actual).any(axis=1)
    print(
        f"car parts: {len(wide)} monthly series, train {train.shape[1]} months, horizon 12, "
        f"mean MASE over {keep.sum()} scored series (lower is better)"
    )
    out: dict[str, float] = {}

    def score(fc: np.ndarray) -> float:
        return float(np.mean(mase(actual=actual[keep], forecast=fc[keep], insample=train[keep])))

    t0 = time.perf_counter()
    result, candidates = forecast_batch_with_candidates(
        history=train, horizon=12, season_length=12, period_dates=dates, random_state=seed
    )
    secs = time.perf_counter() - t0
    out["ours"] = score(result.mean)
    counts = pd.Series(result.model).value_counts()
    _line("ours: per-series selection", out["ours"], secs, ", ".join(f"{k} {v}" for k, v in counts.items()))
    print("  " + _coverage(actual[keep], _Rows(result, keep)))
    for name, fc in candidates.items():
        out[f"ours:{name}"] = score(fc[:, -1, :])
        _line(f"  candidate {name} alone", out[f"ours:{name}"], None, _ONLY_INTERMITTENT.get(name, ""))
    out["zero"] = score(np.zeros_like(actual))
    _line("zero forecast (reference)", out["zero"])

    if with_statsforecast:
        from statsforecast import StatsForecast
        from statsforecast.models import CrostonSBA

        frame = pd.DataFrame(
            {
                "unique_id": np.repeat(wide.index.to_numpy(), train.shape[1]),
                "ds": np.tile(dates.to_numpy(), len(wide)),
                "y": train.ravel(),
            }
        ).dropna()
        t0 = time.perf_counter()
        fc = StatsForecast(models=[CrostonSBA()], freq="MS", n_jobs=1).forecast(df=frame, h=12)
        secs = time.perf_counter() - t0
        fc = fc.set_index("unique_id").loc[wide.index]
        sba = fc["CrostonSBA"].to_numpy().reshape(len(wide), 12)
        out["croston_sba_sf"] = score(sba)
        _line("statsforecast CrostonSBA", out["croston_sba_sf"], secs)
    ok = out["ours"] <= out.get("croston_sba_sf", np.inf)
    print(f"  target (no worse than statsforecast CrostonSBA): {'MET' if ok else 'NOT MET'}")
    return out


class _Rows:
    """Quantiles of a subset of rows (for the coverage line)."""

    def __init__(self, result: object, keep: np.ndarray) -> None:
        self.p10, self.p50, self.p90 = result.p10[keep], result.p50[keep], result.p90[keep]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-statsforecast", action="store_true", help="do not run the statsforecast references")
    parser.add_argument("--speed", action="store_true", help="also time 10,000 x 156 weekly series")
    parser.add_argument("--only", choices=["m5", "m5_weekly", "carparts"], help="run one section")
    parser.add_argument("--seed", type=int, default=0, help="random_state of forecast_batch")
    parser.add_argument("--causal", action="store_true", help="only the engine with vs without causal data (M5)")
    parser.add_argument("--series", type=int, help="with --causal: an evenly spaced subset of the M5 series")
    args = parser.parse_args()
    with_sf = not args.skip_statsforecast
    if args.causal:
        accuracy_causal.m5_causal(with_statsforecast=with_sf, seed=args.seed, series=args.series)
        accuracy_causal.m5_weekly_causal(seed=args.seed)
        accuracy_causal.synthetic_promotions(seed=args.seed)
        return
    if args.only in (None, "m5"):
        m5(with_statsforecast=with_sf, seed=args.seed)
    if args.only in (None, "m5_weekly"):
        m5_weekly(with_statsforecast=with_sf, seed=args.seed)
    if args.only in (None, "carparts"):
        carparts(with_statsforecast=with_sf, seed=args.seed)
    if args.speed:
        from bench import forecast_speed

        forecast_speed.main(argv=[])


if __name__ == "__main__":
    main()
