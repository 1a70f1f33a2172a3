"""Small accuracy checks of forecast_batch that guard against regressions (the full benchmark is bench/accuracy.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.accuracy_intermittent import LOADERS, engine_forecasts, reference_forecasts, score, split
from core.forecast import forecast_batch, mase, rmsse
from core.forecast import intermittent as intermittent_mod
from core.forecast._prep import prepare_history
from core.portfolio import EngineSettings

M5 = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "m5"


def test_seasonal_weekly_selection_beats_naive_and_seasonal_naive() -> None:
    rng = np.random.default_rng(7)
    n, t_len, h = 30, 169, 13
    t = np.arange(t_len)
    level = rng.uniform(10, 60, (n, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    rate = level * (1 + 0.6 * np.sin(2 * np.pi * t[None, :] / 52 + phase)) * (1 + 0.002 * t[None, :])
    y = rng.poisson(rate).astype(float)
    train, actual = y[:, :-h], y[:, -h:]
    res = forecast_batch(history=train, horizon=h, season_length=52)
    ours = np.mean(mase(actual=actual, forecast=res.mean, insample=train))
    naive = np.mean(mase(actual=actual, forecast=np.repeat(train[:, -1:], h, axis=1), insample=train))
    snaive = np.mean(mase(actual=actual, forecast=train[:, -52 : -52 + h], insample=train))
    assert ours < 0.8 * naive, (ours, naive)
    assert ours < 0.95 * snaive, (ours, snaive)


def test_intermittent_selection_no_worse_than_croston_sba(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    n, t_len, h = 80, 60, 12
    occurs = rng.random((n, t_len)) < rng.uniform(0.1, 0.45, (n, 1))
    y = np.where(occurs, 1 + rng.poisson(rng.uniform(0.5, 6, (n, 1)), (n, t_len)), 0).astype(float)
    train, actual = y[:, :-h], y[:, -h:]
    res = forecast_batch(history=train, horizon=h, season_length=12)
    monkeypatch.setattr(intermittent_mod, "CROSTON_ALPHAS", np.array([0.1]))  # the classic fixed alpha
    sba = intermittent_mod.croston_sba(data=prepare_history(history=train), cuts=np.array([t_len - h]), horizon=h)[:, 0]
    ok = ~np.isnan(mase(actual=actual, forecast=sba, insample=train))
    ours = np.mean(mase(actual=actual, forecast=res.mean, insample=train)[ok])
    ref = np.mean(mase(actual=actual, forecast=sba, insample=train)[ok])
    assert ours <= ref, (ours, ref)


@pytest.mark.skipif(not (M5 / "sales_train_evaluation_subset.csv").exists(), reason="../shared/data/m5 not available")
def test_m5_slice_beats_seasonal_naive() -> None:
    sales = pd.read_csv(M5 / "sales_train_evaluation_subset.csv")
    rows = sales.iloc[::5]  # 58 of the 290 series
    train = rows[[f"d_{d}" for d in range(1914 - 400, 1914)]].to_numpy(dtype=float)
    actual = rows[[f"d_{d}" for d in range(1914, 1942)]].to_numpy(dtype=float)
    dates = pd.date_range("2015-03-22", periods=400, freq="D")  # d_1514 = 2015-03-22 in calendar.csv
    res = forecast_batch(history=train, horizon=28, season_length=7, period_dates=dates)
    ours = np.nanmean(rmsse(actual=actual, forecast=res.mean, insample=train))
    snaive = np.nanmean(rmsse(actual=actual, forecast=np.tile(train[:, -7:], 4), insample=train))
    assert ours < 0.9 * snaive, (ours, snaive)


INTERMITTENT = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "intermittent"


@pytest.mark.skipif(not INTERMITTENT.exists(), reason="../shared/data/intermittent not available")
@pytest.mark.parametrize("name", ["carparts", "manufacturer", "oil"])
def test_intermittent_sets_beat_the_specialists_without_more_bias(name: str) -> None:
    """Issue 24 on a fixed subsample (200 series, seed 0) of each shared intermittent set, hidden h = the engine's
    horizon: mean RMSSE below statsforecast CrostonSBA, TSB and ADIDA; portfolio bias within 5 pp of the least
    biased of the three (on one 13-period window of 200 lumpy series every method's bias moves by tens of percent,
    so the +-5 % target itself is checked on the full sets by bench/accuracy_intermittent.py)."""
    pytest.importorskip("statsforecast")
    dataset = LOADERS[name]()
    horizon = EngineSettings().horizon
    data = split(dataset, horizon=horizon, max_series=200, seed=0)
    mean, _, _ = engine_forecasts(data, grain=dataset.grain, horizon=horizon, batch_size=2000, seed=0)
    ours = score(data, mean)
    refs = {k: score(data, v) for k, v in reference_forecasts(data, freq=dataset.freq, horizon=horizon).items()}
    for ref in ("CrostonSBA", "TSB", "ADIDA"):
        assert ours.rmsse < refs[ref].rmsse, (name, ref, ours.rmsse, refs[ref].rmsse)
    least = min(abs(refs[r].bias) for r in ("CrostonSBA", "TSB", "ADIDA"))
    assert abs(ours.bias) <= least + 0.05, (name, ours.bias, {r: refs[r].bias for r in refs})
