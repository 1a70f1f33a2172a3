"""Intermittent demand in core.forecast: ADIDA / IMAPA against statsforecast, the pooled ensemble recipe, the
no-switch rule for intermittent series and the unbiased start of exponential smoothing."""

from __future__ import annotations

import numpy as np
import pytest

from core.forecast import combination as comb
from core.forecast import forecast_batch
from core.forecast._prep import prepare_history
from core.forecast.aggregation import temporal_aggregation
from core.forecast.smoothing import exponential_smoothing


def _intermittent(n: int, t_len: int, seed: int, p: tuple[float, float] = (0.15, 0.6)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    occurs = rng.random((n, t_len)) < rng.uniform(*p, (n, 1))
    return np.where(occurs, rng.poisson(4, (n, t_len)) + 1, 0).astype(float)


def test_adida_and_imapa_match_statsforecast() -> None:
    models = pytest.importorskip("statsforecast.models")
    y = _intermittent(8, 60, seed=3)
    y[:, -1] = 2.0  # statsforecast's mean interval ends at the last demand; so does ours
    y[3, :7] = 0.0  # leading recorded zeros count in both
    adida, imapa = temporal_aggregation(data=prepare_history(history=y), cuts=np.array([60]), horizon=3)
    for i in range(len(y)):
        ref_a = models.ADIDA().forecast(y=y[i], h=3)["mean"]
        ref_i = models.IMAPA().forecast(y=y[i], h=3)["mean"]
        # statsforecast optimises SES alpha in [0.1, 0.3] by golden section, we search a 9-point grid of that range
        np.testing.assert_allclose(adida[i, 0], ref_a, rtol=0.01)
        np.testing.assert_allclose(imapa[i, 0], ref_i, rtol=0.01)


def test_temporal_aggregation_edges_and_backtest_cuts() -> None:
    y = np.array(
        [
            [np.nan, np.nan, 0, 0, 6, 0, 0, 0, 6, 0, 0, 0],  # recorded from period 2: level round(7 / 2) = 4
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],  # no demand: 0
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8],  # one demand at the end: level round(12 / 1) = 12, one bucket
            [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3],  # every period: level 1, SES of a constant
        ]
    )
    adida, imapa = temporal_aggregation(data=prepare_history(history=y), cuts=np.array([3, 12]), horizon=2)
    assert adida.shape == imapa.shape == (4, 2, 2)
    np.testing.assert_allclose(adida[0, 1], 6 / 4)  # two 4-period buckets aligned on the cut, [4, 8) and [8, 12)
    np.testing.assert_array_equal(adida[1], 0.0)
    np.testing.assert_allclose(adida[2, 1], 8 / 12)
    np.testing.assert_allclose(adida[3, 1], 3.0)
    np.testing.assert_allclose(imapa[3, 1], 3.0)
    np.testing.assert_array_equal(adida[0, 0], 0.0)  # no demand before the cut at 3: not started
    # rows not asked for stay 0
    only = temporal_aggregation(data=prepare_history(history=y), cuts=np.array([12]), horizon=2, rows=np.array([3]))
    np.testing.assert_array_equal(only[0][:3], 0.0)
    assert (adida >= 0).all() and (imapa >= 0).all()


def test_pooled_rmsse_by_hand() -> None:
    actual = np.array([[[1.0, 0.0]], [[0.0, 0.0]], [[2.0, 2.0]]])
    forecast = np.array([[[0.0, 0.0]], [[1.0, 1.0]], [[2.0, 2.0]]])
    valid = np.ones_like(actual, dtype=bool)
    scale = np.array([0.5, 4.0, 0.0])  # the third row has a zero scale and is left out
    got = comb.pooled_rmsse(backtest=forecast, actual=actual, valid=valid, scale=scale, rows=np.arange(3))
    assert got == pytest.approx((np.sqrt(0.5 / 0.5) + np.sqrt(1.0 / 4.0)) / 2)


def test_recipe_choice_follows_the_pooled_backtest_and_falls_back_when_few_series() -> None:
    rng = np.random.default_rng(0)
    n, n_cuts, h = 40, 3, 4
    actual = rng.poisson(1.0, (n, n_cuts, h)).astype(float)
    valid = np.ones_like(actual, dtype=bool)
    scale = np.ones(n)
    exact = np.concatenate([actual, np.ones((n, 1, h))], axis=1)  # backtests equal to the actuals, then the future
    noisy = exact + rng.normal(0, 2, exact.shape)
    forecasts = {"ets": noisy, "ml_gbm": noisy, "tsb": noisy, "imapa": exact, "adida": noisy}
    intermittent = np.ones(n, dtype=bool)
    chosen = comb.choose_intermittent_recipe(
        forecasts=forecasts, actual=actual, valid=valid, scale=scale, intermittent=intermittent
    )
    assert chosen == ("imapa",)
    few = intermittent & (np.arange(n) < comb.MIN_POOLED_SERIES - 1)
    assert (
        comb.choose_intermittent_recipe(forecasts=forecasts, actual=actual, valid=valid, scale=scale, intermittent=few)
        == comb.FALLBACK_RECIPE
    )
    ens = comb.ensemble_forecast(forecasts=forecasts, intermittent=few, recipe=("tsb", "imapa"))
    np.testing.assert_allclose(ens[:3], (noisy[:3] + exact[:3]) / 2)
    np.testing.assert_allclose(ens[-3:], noisy[-3:])  # smooth rows: mean of ets and ml_gbm


def test_intermittent_series_keep_the_batch_recipe() -> None:
    history = _intermittent(60, 80, seed=11, p=(0.1, 0.4))
    res = forecast_batch(history=history, horizon=8, season_length=12)
    assert len(set(res.model)) == 1  # one recipe for the batch's intermittent series, no per-series switch
    label = res.model[0]
    assert label in ("ensemble", "tsb", "imapa")
    # the forecast is the recipe's: for a single-model recipe the model's own score is the reported MASE
    np.testing.assert_allclose(res.mase, res.scores[label], equal_nan=True)
    assert np.isfinite(res.scores["adida"]).all() and np.isfinite(res.scores["imapa"]).all()


def test_smooth_series_still_switch_by_mase() -> None:
    rng = np.random.default_rng(5)
    t = np.arange(104)
    season = 50 + 40 * np.sin(2 * np.pi * t / 52)
    history = rng.poisson(np.tile(season, (30, 1))).astype(float)
    res = forecast_batch(history=history, horizon=13, season_length=52)
    assert np.isnan(res.scores["imapa"]).all() and np.isnan(res.scores["tsb"]).all()  # not candidates for smooth
    assert set(res.model) <= {"ensemble", "ets", "ml_gbm", "seasonal_naive"}


def test_exponential_smoothing_is_not_biased_by_the_first_demand() -> None:
    # stationary Bernoulli(0.1) x 5 demand, mean 0.5 per period; the fit starts at the first demand by construction
    # (with that demand averaged into the initial level the mean forecast was 1.33x the true mean)
    rng = np.random.default_rng(2)
    y = np.where(rng.random((600, 30)) < 0.1, 5.0, 0.0)
    fc, _ = exponential_smoothing(data=prepare_history(history=y), cuts=np.array([30]), horizon=4, season_length=1)
    assert 0.9 <= fc[:, 0, 0].mean() / 0.5 <= 1.15, fc[:, 0, 0].mean()
