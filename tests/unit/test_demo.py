"""The demo generator: deterministic, and the promised patterns are really there."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from services import demo

END = dt.date(2026, 11, 9)


@pytest.fixture(scope="module")
def portfolio() -> demo.DemoPortfolio:
    return demo.generate(skus=300, periods=156, seed=3, end=END)


def _matrix(p: demo.DemoPortfolio) -> np.ndarray:
    return p.demand["quantity"].to_numpy().reshape(len(p.skus), -1)


def test_deterministic_for_a_seed(portfolio: demo.DemoPortfolio) -> None:
    again = demo.generate(skus=300, periods=156, seed=3, end=END)
    pd.testing.assert_frame_equal(portfolio.skus, again.skus)
    pd.testing.assert_frame_equal(portfolio.demand, again.demand)
    other = demo.generate(skus=300, periods=156, seed=4, end=END)
    assert not np.array_equal(_matrix(portfolio), _matrix(other))


def test_shape_and_sanity(portfolio: demo.DemoPortfolio) -> None:
    q = _matrix(portfolio)
    assert q.shape == (300, 156)
    assert (q >= 0).all()
    assert portfolio.skus["code"].is_unique
    assert portfolio.skus["category"].nunique() >= 5
    assert portfolio.skus["location"].nunique() == 2
    assert (portfolio.skus["unit_price"] > portfolio.skus["unit_cost"]).all()
    assert ((portfolio.skus["service_level_target"] > 0) & (portfolio.skus["service_level_target"] < 1)).all()
    assert (portfolio.skus["moq"] > 0).any() and (portfolio.skus["order_multiple"] > 1).any()
    assert (portfolio.skus["lead_time_std"] > 0).all()
    assert portfolio.periods[-1].date() == END
    assert (portfolio.periods.to_series().diff().dropna() == pd.Timedelta(days=7)).all()
    assert "Café crème 東京" in set(portfolio.skus["name"])


def test_patterns_present(portfolio: demo.DemoPortfolio) -> None:
    q = _matrix(portfolio)
    p = portfolio.patterns
    zeros = (q[p["intermittent"]] == 0).mean()
    assert zeros > 0.5, "spare parts should be intermittent"
    regular_zero = (q[p["surging"]] == 0).mean()
    assert regular_zero < 0.3
    surge_ratio = q[p["surging"], -4:].mean(axis=1) / q[p["surging"], -30:-4].mean(axis=1)
    assert (surge_ratio > 1.8).all()
    dying_ratio = q[p["dying"], -8:].mean(axis=1) / np.maximum(q[p["dying"], -60:-12].mean(axis=1), 1e-9)
    assert (dying_ratio < 0.4).all()
    assert (q[p["dead"], -20:] == 0).all()
    seasonal = q[p["seasonal"]]
    # yearly seasonality: correlation between one year and the next is clearly positive
    corr = [np.corrcoef(s[:52], s[52:104])[0, 1] for s in seasonal if s.std() > 0]
    flat = np.setdiff1d(np.arange(len(q)), np.concatenate([p["seasonal"], p["intermittent"], p["dead"]]))
    flat_corr = [np.corrcoef(s[:52], s[52:104])[0, 1] for s in q[flat] if s.std() > 0]
    assert np.median(corr) > 0.3
    assert np.median(corr) > np.median(flat_corr) + 0.15
    assert len(p["promoted"]) > 0


def test_stock_extremes(portfolio: demo.DemoPortfolio) -> None:
    q = _matrix(portfolio)
    rate = np.maximum(q[:, -8:].mean(axis=1), 1e-9)
    cover_weeks = portfolio.stock["on_hand"].to_numpy() / rate
    lead_weeks = portfolio.skus["lead_time_mean"].to_numpy() / 7
    short = portfolio.patterns["short"]
    assert (cover_weeks[short] < lead_weeks[short]).all()
    assert (cover_weeks[portfolio.patterns["overstocked"]] > 20).all()


def test_scales_to_ten_thousand_quickly() -> None:
    import time

    start = time.perf_counter()
    big = demo.generate(skus=10_000, periods=156, seed=1, end=END)
    assert len(big.demand) == 1_560_000
    assert time.perf_counter() - start < 20


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="skus"):
        demo.generate(skus=0)
    with pytest.raises(ValueError, match="periods"):
        demo.generate(skus=5, periods=2)
