"""core/coverage.py: last reported period, data through, and the two-pass batch that keeps a few SKUs' new periods
out of every other SKU's numbers (issue 15 item 1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import coverage
from core.portfolio import BatchInputs, EngineSettings, compute_batch, finalize_portfolio

NAN = np.nan


def test_last_reported_is_the_last_finite_column() -> None:
    history = np.array([[1.0, 0.0, 2.0, NAN], [NAN, 3.0, NAN, NAN], [NAN, NAN, NAN, NAN], [0.0, NAN, 1.0, 0.0]])
    assert coverage.last_reported(history=history).tolist() == [2, 1, -1, 3]
    assert coverage.last_reported(history=np.zeros((2, 0))).tolist() == [-1, -1]
    with pytest.raises(ValueError, match="2-D"):
        coverage.last_reported(history=np.zeros(3))


def test_data_through_is_the_latest_period_a_majority_reported() -> None:
    # 5 SKUs: three end at column 9, one at 10 and one at 11 -> 9 (periods 0..9, i.e. 10 periods)
    assert coverage.data_through(last=[9, 9, 10, 9, 11], n_periods=12) == 10
    # a majority at 10 or later moves it: 3 of 5 reach column 10
    assert coverage.data_through(last=[9, 10, 10, 9, 11], n_periods=12) == 11
    # an even split: half is not "most"; 2 of 4 reach 11, all 4 reach 9, 3 of 4 reach 10
    assert coverage.data_through(last=[9, 10, 11, 11], n_periods=12) == 11
    assert coverage.data_through(last=[9, 9, 11, 11], n_periods=12) == 10
    # SKUs without a history do not vote; with none at all the grid's end is data through
    assert coverage.data_through(last=[-1, -1, 3], n_periods=5) == 4
    assert coverage.data_through(last=[-1], n_periods=5) == 5
    with pytest.raises(ValueError, match="outside"):
        coverage.data_through(last=[5], n_periods=5)
    with pytest.raises(ValueError, match="n_periods"):
        coverage.data_through(last=[0], n_periods=0)


def _panel(n: int = 14, t_len: int = 60, seed: int = 3) -> tuple[np.ndarray, pd.DataFrame, list[str]]:
    rng = np.random.default_rng(seed)
    level = rng.uniform(5, 80, n)
    history = rng.poisson(level[:, None] * (1 + 0.3 * np.sin(np.arange(t_len) / 4))[None, :]).astype(float)
    history[1, 20:] = rng.poisson(0.4, t_len - 20)  # an intermittent one
    codes = [f"S{i:02d}" for i in range(n)]
    sku = pd.DataFrame(
        {
            "category": ["A" if i % 2 else "B" for i in range(n)],
            "unit_cost": rng.uniform(1, 20, n),
            "unit_price": rng.uniform(25, 40, n),
            "holding_cost_rate": 0.25,
            "order_cost": 40.0,
            "lead_time_mean_days": 14.0,
            "lead_time_std_days": 3.0,
            "moq": 0.0,
            "order_multiple": 1.0,
            "service_level": 0.95,
            "on_hand": level * 2,
            "on_order": 0.0,
        }
    )
    return history, sku, codes


def _inputs(history: np.ndarray, sku: pd.DataFrame, codes: list[str], through: int | None) -> BatchInputs:
    dates = pd.date_range("2025-01-06", periods=history.shape[1], freq="7D")
    return BatchInputs(codes=codes, history=history, period_dates=dates, grain="weekly", sku=sku, through=through)


def test_three_skus_reporting_a_new_period_leave_the_others_unchanged() -> None:
    history, sku, codes = _panel()
    settings = EngineSettings(horizon=8, n_origins=2)
    before = compute_batch(_inputs(history, sku, codes, through=None), settings=settings)
    ahead = [0, 5, 6]  # same categories as others: the allocation would move the neighbours' targets
    extended = np.concatenate([history, np.full((len(codes), 1), NAN)], axis=1)
    extended[ahead, -1] = [300.0, 1.0, 90.0]
    through = coverage.data_through(last=coverage.last_reported(history=extended), n_periods=extended.shape[1])
    assert through == history.shape[1]
    after = compute_batch(_inputs(extended, sku, codes, through=through), settings=settings)
    others = [i for i in range(len(codes)) if i not in ahead]
    columns = ["forecast_per_period", "sigma", "safety_stock", "reorder_point", "periods_since_last_sale"]
    for column in columns:
        np.testing.assert_allclose(
            after.snapshot[column].to_numpy(dtype=float)[others],
            before.snapshot[column].to_numpy(dtype=float)[others],
            atol=1e-9,
            err_msg=column,
        )
    np.testing.assert_allclose(after.mean[others], before.mean[others], atol=1e-9)
    assert after.backtest.shape == extended.shape and np.isnan(after.backtest[others, -1]).all()
    assert after.extras["forecast_shift"].tolist() == [1.0 if i in ahead else 0.0 for i in range(len(codes))]
    own = after.snapshot["forecast_per_period"].to_numpy()[ahead]
    assert not np.allclose(own, before.snapshot["forecast_per_period"].to_numpy()[ahead])
    # the ahead SKUs keep their own master target in the snapshot; their levels meet the fill pass 1 allocated them
    assert (after.snapshot["service_level"].to_numpy()[ahead] == 0.95).all()
    # one pass when nobody is ahead: identical to the single-pass computation
    same = compute_batch(_inputs(history, sku, codes, through=history.shape[1]), settings=settings)
    pd.testing.assert_frame_equal(same.snapshot, before.snapshot)
    # ABC is ranked on pass 1's values: the neighbours' classes do not move
    final_before = finalize_portfolio([before], settings=settings)
    final_after = finalize_portfolio([after], settings=settings)
    assert final_after.snapshot["abc"].tolist() == final_before.snapshot["abc"].tolist()
    assert final_after.forecast_shift is not None and final_after.forecast_shift[ahead].tolist() == [1, 1, 1]


def test_one_pass_on_the_ragged_panel_couples_the_skus() -> None:
    """The failure the two passes prevent: the same file computed in one pass (shared allocation and global
    forecaster) moves other SKUs' safety stocks."""
    history, sku, codes = _panel()
    settings = EngineSettings(horizon=8, n_origins=2)
    extended = np.concatenate([history, np.full((len(codes), 1), NAN)], axis=1)
    extended[[0, 5, 6], -1] = [300.0, 1.0, 90.0]
    one_pass = compute_batch(_inputs(extended, sku, codes, through=None), settings=settings)
    two_pass = compute_batch(_inputs(extended, sku, codes, through=history.shape[1]), settings=settings)
    others = [i for i in range(len(codes)) if i not in (0, 5, 6)]
    moved = ~np.isclose(
        one_pass.snapshot["safety_stock"].to_numpy(dtype=float)[others],
        two_pass.snapshot["safety_stock"].to_numpy(dtype=float)[others],
        atol=1e-6,
    )
    assert moved.any()


def test_companions_are_spread_over_the_skus_not_ahead() -> None:
    ends = np.array([9, 10, -1, 9, 8, 9, 10, 9])
    assert coverage.companions(ends=ends, through=10, limit=10).tolist() == [0, 3, 4, 5, 7]  # not ahead, with history
    assert coverage.companions(ends=ends, through=10, limit=3).tolist() == [0, 4, 7]  # evenly spread
    assert coverage.companions(ends=ends, through=10, limit=0).tolist() == []


def test_ahead_skus_keep_the_quantile_their_category_allocation_gave_them() -> None:
    history, sku, codes = _panel()
    settings = EngineSettings(horizon=8, n_origins=2)
    extended = np.concatenate([history, np.full((len(codes), 1), NAN)], axis=1)
    extended[[0, 5, 6], -1] = history[[0, 5, 6], -1]
    pass1 = compute_batch(_inputs(history, sku, codes, through=None), settings=settings)
    after = compute_batch(_inputs(extended, sku, codes, through=history.shape[1]), settings=settings)
    for i in (0, 5, 6):
        if after.snapshot["order_policy"].iloc[i] != "reorder_point":
            continue
        assert after.extras["service_probability"][i] == pass1.extras["service_probability"][i]
        assert "the quantile its category's fill-rate allocation gave it" in after.snapshot["rop_method_reason"].iloc[i]


def test_through_outside_the_grid_is_refused() -> None:
    history, sku, codes = _panel(n=3, t_len=30)
    with pytest.raises(ValueError, match="through"):
        compute_batch(_inputs(history, sku, codes, through=31), settings=EngineSettings(horizon=4, n_origins=1))
