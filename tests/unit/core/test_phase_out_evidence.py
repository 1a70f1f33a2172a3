"""Issue 24: a seller is phased out only when its silence is strong evidence at its own sales rate
(core.health.silence_p_value < EngineSettings.phase_out_alpha), so slow spare parts are not phased out on a gap
their own rhythm explains, while the demo's stopped sellers (B-00147: 121 a week, then 21 weeks of nothing)
still are."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core import health
from core.engine_types import EngineSettings
from tests.unit.core.test_stopped_sellers import reference_stopped


def test_p_value_is_the_hypergeometric_chance_of_the_trailing_gap() -> None:
    # W = 44 periods, k = 2 sales, g = 30 periods since the last: C(14, 2) / C(44, 2) = 91 / 946
    p = health.silence_p_value(reported_periods=[44, 44, 10, 10], sale_periods=[2, 1, 0, 10], gap=[30, 40, 10, 0])
    assert p[0] == pytest.approx(math.comb(14, 2) / math.comb(44, 2))
    assert p[1] == pytest.approx(4 / 44)  # a single sale: (W - g) / W
    assert p[2] == 1.0 and p[3] == 1.0  # never sold; no gap


def test_monte_carlo_agrees_with_the_formula() -> None:
    rng = np.random.default_rng(0)
    w, q, g = 40, 0.15, 12
    sims = rng.random((200_000, w)) < q
    k = sims.sum(axis=1)
    rows = k == 4
    empirical = (~sims[rows, w - g :].any(axis=1)).mean()
    assert empirical == pytest.approx(health.silence_p_value(reported_periods=w, sale_periods=4, gap=g), abs=0.01)


def test_slow_spare_part_is_kept_and_b00147_is_still_phased_out() -> None:
    slow = np.zeros(44)
    slow[[10, 13]] = 1.0  # two sales 3 months apart, then 30 months of nothing: 3 x 3 = 9 <= 30, p = 0.096
    b00147 = np.r_[np.full(23, 121.0), np.zeros(21)]  # sold every period, then 21 periods of nothing
    rows = np.vstack([slow, b00147])
    gap_only = health.stopped_sellers(history=rows)
    assert gap_only.stopped.tolist() == [True, True]  # the gap rule alone (issue 15)
    alpha = EngineSettings().phase_out_alpha
    s = health.stopped_sellers(history=rows, alpha=alpha)
    assert s.stopped.tolist() == [False, True]
    assert s.p_value[0] == pytest.approx(math.comb(14, 2) / math.comb(44, 2)) and s.p_value[1] < 1e-6
    np.testing.assert_array_equal(s.stopped, reference_stopped(rows, alpha=alpha))
    reason = health.stopped_reason(s, 1, on_hand=0, on_order=0)
    assert "= 13), a silence with chance " in reason and "(< 0.01) at its own sales rate; it sold 121/period" in reason


def test_trailing_not_reported_periods_do_not_count_and_alpha_is_checked() -> None:
    row = np.r_[np.full(30, 5.0), np.zeros(13), np.full(6, np.nan)][None, :]
    s = health.stopped_sellers(history=row, alpha=0.01)
    assert s.stopped[0] and s.periods_since_last_sale[0] == 13
    assert s.p_value[0] == pytest.approx(1 / math.comb(43, 13))
    with pytest.raises(ValueError, match="alpha"):
        health.stopped_sellers(history=row, alpha=0.0)
    with pytest.raises(ValueError, match="phase_out_alpha"):
        EngineSettings(phase_out_alpha=1.5)
