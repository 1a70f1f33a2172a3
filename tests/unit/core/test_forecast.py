"""Tests of core.forecast: contract of forecast_batch, edge cases, models against references, metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.calendar import GRAIN_DAYS, default_season_length
from core.forecast import MODEL_NAMES, ForecastResult, forecast_batch, mase, plan_cuts, rmsse, wape
from core.forecast import intermittent as intermittent_mod
from core.forecast._prep import prepare_history
from core.forecast.engine import calendar_features
from core.forecast.naive import seasonal_naive
from core.forecast.smoothing import exponential_smoothing

WEEKS = pd.date_range("2023-01-02", periods=104, freq="W-MON")


def _mixed_batch(n: int = 24, t_len: int = 104, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(t_len)
    rate = rng.uniform(2, 30, (n, 1)) * (1 + 0.5 * np.sin(2 * np.pi * t / 52))[None, :]
    y = rng.poisson(rate).astype(float)
    y[: n // 3] *= rng.random((n // 3, t_len)) < 0.25  # intermittent rows
    return y


@pytest.fixture(scope="module")
def mixed_result() -> tuple[np.ndarray, ForecastResult]:
    history = _mixed_batch()
    return history, forecast_batch(history=history, horizon=13, season_length=52, period_dates=WEEKS)


def test_calendar_constants() -> None:
    assert GRAIN_DAYS["daily"] == 1.0 and GRAIN_DAYS["weekly"] == 7.0
    assert GRAIN_DAYS["monthly"] == pytest.approx(30.4375)
    assert [default_season_length(g) for g in ("daily", "weekly", "monthly")] == [7, 52, 12]
    with pytest.raises(ValueError, match="grain"):
        default_season_length("hourly")


def test_result_contract(mixed_result: tuple[np.ndarray, ForecastResult]) -> None:
    history, res = mixed_result
    n, t_len = history.shape
    assert res.model_names == MODEL_NAMES
    for arr in (res.mean, res.p10, res.p50, res.p90):
        assert arr.shape == (n, 13) and np.isfinite(arr).all() and (arr >= 0).all()
    assert (res.p10 <= res.p50).all() and (res.p50 <= res.p90).all()
    assert (res.p90 > res.p10).any()
    for arr in (res.model, res.sigma, res.mase, res.wape, res.bias):
        assert arr.shape == (n,)
    assert set(res.model) <= set(MODEL_NAMES) | {"zero"}
    assert set(res.scores) == set(MODEL_NAMES) and all(v.shape == (n,) for v in res.scores.values())
    assert (res.sigma > 0).all() and np.isfinite(res.mase).all()
    # the reported MASE is the chosen model's score
    chosen = np.array([res.scores[m][i] for i, m in enumerate(res.model)])
    np.testing.assert_allclose(res.mase, chosen)
    # backtest windows: cuts 65, 78, 91 -> periods 65..103 predicted, earlier ones NaN
    assert res.backtest.shape == (n, t_len)
    assert np.isnan(res.backtest[:, :65]).all() and np.isfinite(res.backtest[:, 65:]).all()


def test_seasonal_naive_only_for_smooth_and_intermittent_models_only_for_intermittent(
    mixed_result: tuple[np.ndarray, ForecastResult],
) -> None:
    _, res = mixed_result
    intermittent = np.arange(24) < 8
    assert np.isnan(res.scores["croston_sba"][~intermittent]).all()
    assert np.isfinite(res.scores["croston_sba"][intermittent]).all()
    assert np.isnan(res.scores["seasonal_naive"][intermittent]).all()


def test_deterministic() -> None:
    history = _mixed_batch(n=12, seed=5)
    a = forecast_batch(history=history, horizon=8, season_length=52, random_state=7)
    b = forecast_batch(history=history, horizon=8, season_length=52, random_state=7)
    for field in ("mean", "p10", "p50", "p90", "sigma", "mase", "backtest"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert list(a.model) == list(b.model)


def test_all_zero_rows_and_all_zero_batch() -> None:
    history = _mixed_batch(n=6)
    history[2] = 0.0
    res = forecast_batch(history=history, horizon=5, season_length=52)
    assert res.model[2] == "zero"
    assert (res.mean[2] == 0).all() and (res.p90[2] == 0).all() and res.sigma[2] == 0
    assert np.isnan(res.mase[2])
    zeros = forecast_batch(history=np.zeros((4, 30)), horizon=6, season_length=7)
    assert (zeros.mean == 0).all() and (zeros.p90 == 0).all() and set(zeros.model) == {"zero"}


def test_single_data_point() -> None:
    res = forecast_batch(history=np.array([[5.0], [0.0], [np.nan]]), horizon=4, season_length=52)
    np.testing.assert_allclose(res.mean[0], 5.0)
    assert (res.p10[0] <= 5.0).all() and (res.p90[0] > 5.0).all()  # Poisson-floor spread without a backtest
    assert (res.mean[1:] == 0).all() and np.isnan(res.mase).all()
    assert np.isnan(res.backtest).all()


def test_constant_series() -> None:
    history = np.tile(np.array([[4.0], [10.0], [1.0]]), (1, 60))
    res = forecast_batch(history=history, horizon=6, season_length=12)
    np.testing.assert_allclose(res.mean, np.repeat([[4.0], [10.0], [1.0]], 6, axis=1), rtol=1e-6)
    np.testing.assert_allclose(res.sigma, 0.0, atol=1e-6)
    assert np.isnan(res.mase).all()  # MASE undefined: the in-sample one-step differences are all 0
    np.testing.assert_allclose(res.wape, 0.0, atol=1e-6)
    np.testing.assert_allclose(res.p90, res.p10, atol=1e-5)


def test_nan_in_the_middle_is_interpolated_and_not_scored() -> None:
    history = _mixed_batch(n=10, seed=11)
    gappy = history.copy()
    gappy[3, 95:98] = np.nan  # inside the backtest windows
    gappy[4, 10:20] = np.nan
    gappy[5, :8] = np.nan  # not started yet
    res = forecast_batch(history=gappy, horizon=13, season_length=52)
    assert np.isfinite(res.mean).all() and np.isfinite(res.mase).all()
    assert np.isnan(res.backtest[3, 95:98]).all() and np.isfinite(res.backtest[3, 98:]).all()
    prepared = prepare_history(history=gappy)
    np.testing.assert_allclose(prepared.y[3, 95:98], np.interp([95, 96, 97], [94, 98], history[3, [94, 98]]))
    assert (prepared.y[5, :8] == 0).all() and prepared.first_obs[5] == 8


def test_trailing_nan_takes_last_observation() -> None:
    prepared = prepare_history(history=np.array([[1.0, 2.0, 3.0, np.nan, np.nan]]))
    np.testing.assert_array_equal(prepared.y[0], [1, 2, 3, 3, 3])
    assert not prepared.observed[0, 3:].any()


def test_short_series_shorter_than_season() -> None:
    rng = np.random.default_rng(0)
    history = rng.poisson(6, (5, 20)).astype(float)
    res = forecast_batch(history=history, horizon=13, season_length=52)
    assert np.isfinite(res.mean).all() and (res.mean > 0).all()
    assert (res.p10 <= res.p50).all() and (res.p50 <= res.p90).all()
    assert np.isfinite(res.mase).all()  # backtest origins 10, 15, 19 with truncated windows


def test_negative_values_are_clipped_at_zero() -> None:
    history = _mixed_batch(n=8, seed=2)
    with_returns = history.copy()
    with_returns[1, [5, 40, 90]] = [-3.0, -10.0, -1.0]
    clipped = with_returns.copy()
    clipped[clipped < 0] = 0.0
    a = forecast_batch(history=with_returns, horizon=6, season_length=52)
    b = forecast_batch(history=clipped, horizon=6, season_length=52)
    np.testing.assert_array_equal(a.mean, b.mean)
    assert (a.mean >= 0).all()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"history": np.ones(10)}, "history"),
        ({"history": np.ones((2, 0))}, "history"),
        ({"history": np.full((2, 5), np.inf)}, "history"),
        ({"horizon": 0}, "horizon"),
        ({"horizon": 2.5}, "horizon"),
        ({"season_length": 0}, "season_length"),
        ({"n_origins": 0}, "n_origins"),
        ({"period_dates": pd.date_range("2024-01-01", periods=3, freq="D")}, "period_dates"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs: dict, name: str) -> None:
    args = {"history": np.ones((2, 10)), "horizon": 3, "season_length": 7} | kwargs
    with pytest.raises(ValueError, match=name):
        forecast_batch(**args)


@pytest.mark.parametrize(
    ("n_periods", "horizon", "expected"),
    [(156, 13, [117, 130, 143]), (39, 12, [13, 20, 27]), (10, 13, [5, 7, 9]), (3, 13, [2]), (1, 13, []), (2, 4, [])],
)
def test_plan_cuts(n_periods: int, horizon: int, expected: list[int]) -> None:
    assert plan_cuts(n_periods=n_periods, horizon=horizon, n_origins=3).tolist() == expected


def test_quantiles_cover_about_80_percent_of_future_demand() -> None:
    rng = np.random.default_rng(42)
    rate = rng.uniform(3, 40, (150, 1))
    y = rng.poisson(np.repeat(rate, 92, axis=1)).astype(float)
    res = forecast_batch(history=y[:, :80], horizon=12, season_length=1)
    future = y[:, 80:]
    inside = (future >= res.p10) & (future <= res.p90)
    assert 0.70 <= inside.mean() <= 0.92
    assert 0.4 <= (future <= res.p50).mean() <= 0.7
    # sigma of the backtest errors tracks the Poisson spread sqrt(rate)
    ratio = res.sigma / np.sqrt(rate[:, 0])
    assert 0.85 <= np.median(ratio) <= 1.3


def test_croston_sba_and_tsb_match_statsforecast(monkeypatch: pytest.MonkeyPatch) -> None:
    models = pytest.importorskip("statsforecast.models")
    rng = np.random.default_rng(1)
    y = np.where(rng.random(60) < 0.3, rng.integers(1, 9, 60), 0).astype(float)
    y[:5] = 0.0
    monkeypatch.setattr(intermittent_mod, "CROSTON_ALPHAS", np.array([0.1]))
    ours = intermittent_mod.croston_sba(data=prepare_history(history=y[None]), cuts=np.array([60]), horizon=3)
    np.testing.assert_allclose(ours[0, 0], models.CrostonSBA().forecast(y=y, h=3)["mean"], rtol=1e-9)
    y[0] = 3.0  # statsforecast's TSB starts its probability at the first observation; ours at the first demand
    monkeypatch.setattr(intermittent_mod, "TSB_GRID", np.array([[0.2, 0.1]]))
    ours = intermittent_mod.tsb(data=prepare_history(history=y[None]), cuts=np.array([60]), horizon=3)
    ref = models.TSB(alpha_d=0.2, alpha_p=0.1).forecast(y=y, h=3)["mean"]
    np.testing.assert_allclose(ours[0, 0], ref, rtol=1e-9)


def test_seasonal_naive_values_and_fallbacks() -> None:
    y = np.array([[1, 2, 3, 4, 5, 6, 7, 8.0], [0, 0, 0, 0, 0, 0, 4, 6.0]])
    fc = seasonal_naive(data=prepare_history(history=y), cuts=np.array([8, 3]), horizon=5, season_length=3)
    np.testing.assert_array_equal(fc[0, 0], [6, 7, 8, 6, 7])
    np.testing.assert_array_equal(fc[0, 1], [1, 2, 3, 1, 2])
    np.testing.assert_array_equal(fc[1, 0], [6, 6, 6, 6, 6])  # less than a season since the first demand: naive
    np.testing.assert_array_equal(fc[1, 1], [0, 0, 0, 0, 0])  # not started yet


def test_exponential_smoothing_recovers_clean_patterns() -> None:
    t = np.arange(120)
    season = np.tile([10.0, 20.0, 30.0, 20.0], 30)
    y = np.vstack([np.full(120, 7.0), 50 + 0.5 * t, 100 + season])
    data = prepare_history(history=y)
    fc, variant = exponential_smoothing(data=data, cuts=np.array([120]), horizon=8, season_length=4)
    np.testing.assert_allclose(fc[0, 0], 7.0, rtol=1e-6)
    assert (np.diff(fc[1, 0]) > 0.3).all() and fc[1, 0, 0] == pytest.approx(110.0, rel=0.02)
    np.testing.assert_allclose(fc[2, 0], 100 + np.tile([10.0, 20.0, 30.0, 20.0], 2), rtol=0.02)
    assert variant[2, 0] in (2, 3)  # Holt-Winters chosen by AICc for the seasonal row


def test_calendar_features_extend_dates() -> None:
    months = pd.date_range("2020-01-01", periods=15, freq="MS")
    cal = calendar_features(period_dates=months, horizon=3)
    assert cal.shape == (18, 4)
    np.testing.assert_array_equal(cal[-3:, 0], [4, 5, 6])  # months continue April..June 2021
    irregular = pd.DatetimeIndex(["2024-01-01", "2024-01-08", "2024-01-16", "2024-01-22"])
    assert calendar_features(period_dates=irregular, horizon=2).shape == (6, 4)


def test_metrics_by_hand() -> None:
    insample = np.array([[1.0, 3.0, 2.0, 4.0], [0.0, 0.0, 2.0, 2.0]])
    actual = np.array([[3.0, 5.0], [2.0, 4.0]])
    forecast = np.array([[4.0, 4.0], [2.0, 2.0]])
    # MASE: scale mean|diff| = (2 + 1 + 2) / 3 and 2 / 3
    np.testing.assert_allclose(mase(actual=actual, forecast=forecast, insample=insample), [1 / (5 / 3), 1 / (2 / 3)])
    # RMSSE: leading zeros trimmed for the scale: row 2 -> [2, 2] scale 0 -> NaN
    r = rmsse(actual=actual, forecast=forecast, insample=insample)
    assert r[0] == pytest.approx(np.sqrt(1.0 / ((4 + 1 + 4) / 3))) and np.isnan(r[1])
    np.testing.assert_allclose(wape(actual=actual, forecast=forecast), [2 / 8, 2 / 6])
    with pytest.raises(ValueError, match="forecast"):
        wape(actual=actual, forecast=forecast[:, :1])


def test_empty_batch_and_integer_history() -> None:
    empty = forecast_batch(history=np.zeros((0, 20)), horizon=3, season_length=7)
    assert empty.mean.shape == (0, 3) and empty.backtest.shape == (0, 20) and empty.model.shape == (0,)
    ints = forecast_batch(history=np.full((2, 30), 3, dtype=np.int64), horizon=2, season_length=7)
    np.testing.assert_allclose(ints.mean, 3.0, rtol=1e-6)
