"""core.forecast.causal: features of prices, promotions and events; the plan's uplift in forecast_batch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.forecast import forecast_batch
from core.forecast.causal import CausalFeatures, CausalInputs, plan_ratio, regular_window

WEEKS = pd.date_range("2023-01-02", periods=104, freq="W-MON")
H = 8


def _promoted_batch(n: int = 60, seed: int = 1) -> tuple[np.ndarray, CausalInputs, np.ndarray]:
    rng = np.random.default_rng(seed)
    length = len(WEEKS) + H
    on = rng.random((n, length)) < 0.12
    on[:, len(WEEKS) :] = False
    on[: n // 2, len(WEEKS) + 2] = True  # the plan: week 3 of the horizon for the first half
    level = rng.uniform(5, 40, (n, 1))
    y = rng.poisson(level * np.where(on, 3.0, 1.0)).astype(float)
    price = np.where(on, 7.5, 10.0)
    return y[:, : len(WEEKS)], CausalInputs(price=price, promotion=on.astype(float)), on


def test_planned_promotion_raises_the_forecast_and_reports_the_uplift() -> None:
    history, causal, on = _promoted_batch()
    plain = forecast_batch(history=history, horizon=H, season_length=52, period_dates=WEEKS)
    with_plan = forecast_batch(history=history, horizon=H, season_length=52, period_dates=WEEKS, causal=causal)
    assert plain.uplift is None
    planned = on[:, len(WEEKS) :]
    rows = planned.any(axis=1)
    ratio = with_plan.mean[rows][planned[rows]] / plain.mean[rows][planned[rows]]
    assert np.median(ratio) > 1.8  # sold 3x on promotion; learned across the batch
    assert (with_plan.uplift[planned] > 0).mean() > 0.9
    assert np.abs(with_plan.uplift[~planned]).max() < 0.25 * with_plan.mean[~planned].max()
    # past promotions no longer count as noise: the sigma that sizes safety stock shrinks
    assert np.median(with_plan.sigma) < np.median(plain.sigma)


def test_shapes_are_checked_and_empty_inputs_change_nothing() -> None:
    history, causal, _ = _promoted_batch(n=10)
    with pytest.raises(ValueError, match="causal price must have shape"):
        forecast_batch(history=history, horizon=H + 1, season_length=52, causal=causal)
    a = forecast_batch(history=history, horizon=H, season_length=52, period_dates=WEEKS)
    b = forecast_batch(history=history, horizon=H, season_length=52, period_dates=WEEKS, causal=CausalInputs())
    np.testing.assert_allclose(a.mean, b.mean)


def test_regular_price_is_the_rolling_median_before_the_origin() -> None:
    price = np.array([[10.0] * 20 + [7.0] + [10.0] * 5 + [np.nan] * 4])
    feats = CausalFeatures(CausalInputs(price=price), pad=0, t_len=26, season_length=52)
    assert regular_window(52) == 26 and regular_window(1) == 13
    assert feats.regular[0, 21] == 10.0  # one promotional week does not move the median
    cols = feats.columns(np.array([0, 0]), np.array([21, 26]), np.array([20, 28]))
    assert cols[0][0] == pytest.approx(0.7)  # price at the target / regular price
    assert cols[0][1] == 1.0  # a horizon period without a planned price: the regular price
    assert plan_ratio(np.array([2.0, 1.0, 100.0]), np.array([1.0, 0.0, 1.0])).tolist() == [2.0, 1.0, 5.0]


def test_events_give_leads_lags_and_frequent_flags() -> None:
    n, length = 2, 40
    holiday = np.zeros((n, length), dtype=bool)
    holiday[:, [10, 30]] = True
    payday = np.zeros((n, length), dtype=bool)
    payday[:, ::3] = True
    feats = CausalFeatures(
        CausalInputs(events={"Holiday": holiday, "Payday": payday}), pad=0, t_len=32, season_length=7
    )
    assert len(feats.frequent) == 1  # Payday: in a third of the periods
    i, o, t = np.zeros(3, dtype=int), np.full(3, 5), np.array([8, 10, 12])
    code, nxt, prev, flag = (c for c in [*feats.columns(i, o, t)[-3:], feats.columns(i, o, t)[0]])
    assert code.tolist() == [0.0, 1.0, 0.0]
    assert nxt.tolist() == [2.0, 8.0, 8.0]  # periods until the next holiday (capped at 7 + 1)
    assert prev.tolist() == [8.0, 8.0, 2.0]
    assert flag.tolist() == [0.0, 0.0, 1.0]
