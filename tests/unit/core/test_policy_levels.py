"""core/policy_levels.py: undershoot, level-shift sigma, cumulative error growth, service levels and allocation."""

from __future__ import annotations

import numpy as np
import pytest

from core import policy_levels as pl
from core import portfolio as pf
from core.protection import policy_fill_rate, protection_demand
from tests.unit.core.test_portfolio import _inputs, stub_forecast


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    import core.forecast as fc

    monkeypatch.setattr(fc, "forecast_batch", stub_forecast)


def test_undershoot_moments_by_hand() -> None:
    """Demand 3 every period: the position crosses s by 0, 1 or 2 equally often (E[U] = 1, Var U = 2/3); demand in
    single units never undershoots; a series that fell below half its history mean scales U by 2 D / mean."""
    hist = np.array([[3.0] * 20, [1.0, 0.0] * 10, [3.0] * 20])
    mean_u, var_u = pl.undershoot_moments(history=hist, demand_mean=np.array([3.0, 0.5, 0.75]), review_period=1)
    assert mean_u[0] == pytest.approx(1.0) and var_u[0] == pytest.approx(2 / 3)
    assert mean_u[1] == pytest.approx(0.0) and var_u[1] == pytest.approx(0.0)
    assert mean_u[2] == pytest.approx(0.5)  # D 0.75 = a quarter of 3: scaled by 2 x 0.25


def test_level_shift_scales_sigma_down_only_after_a_fall() -> None:
    """A series that fell from 121 a week to 0: the backtest predicted ~60 on average, the forecast is now 1, so
    sigma is scaled by sqrt(2 x 1 / 60); a seasonal dip to 70 % of the backtest level keeps sigma; a rise too."""
    bt = np.full((3, 30), np.nan)
    bt[:, -13:] = 60.0
    sigma = np.array([50.0, 50.0, 50.0])
    out = pl.level_scaled_sigma(sigma=sigma, demand_mean=np.array([1.0, 42.0, 90.0]), backtest=bt, power=0.5)
    assert out[0] == pytest.approx(50 * np.sqrt(2 / 60))
    assert out[1] == 50 and out[2] == 50
    np.testing.assert_array_equal(
        pl.level_scaled_sigma(sigma=sigma, demand_mean=np.ones(3), backtest=bt, power=0.0), sigma
    )


def test_error_growth_tells_independent_from_persistent_errors() -> None:
    """Independent errors grow as sqrt(P) (a ~ 0.5); a persistent level error grows as P (a ~ 1)."""
    rng = np.random.default_rng(0)
    n, t, h = 300, 60, 13
    cuts = np.array([21, 34, 47])
    hist = np.full((n, t), 10.0)
    bt = np.full((n, t), np.nan)
    for c in cuts:
        bt[:, c : c + h] = 10.0
    iid = hist + rng.normal(0, 2, (n, t))
    persistent = hist + rng.normal(0, 2, (n, 1))  # the same error in every period of a window
    for hh, expected in ((iid, 0.5), (persistent, 1.0)):
        err = hh - bt
        sigma = np.sqrt(np.nanmean(err**2, axis=1))
        g = pl.error_growth(history=hh, backtest=bt, cuts=cuts, horizon=h, sigma=sigma, groups=np.zeros(n))
        assert g.exponent[0] == pytest.approx(expected, abs=0.05)
        assert g.factor(np.array([4.0]))[0] == pytest.approx(4.0**expected, rel=0.15)


def _two_item_distributions() -> tuple:
    lead = protection_demand(method=["normal", "poisson"], mean=[40.0, 1.0], var=[100.0, 1.0])
    cover = protection_demand(method=["normal", "poisson"], mean=[50.0, 1.5], var=[125.0, 1.5])
    return lead, cover


def test_service_levels_csl_fill_rate_and_allocation() -> None:
    lead, cover = _two_item_distributions()
    d = np.array([10.0, 0.5])
    common = {"lead": lead, "cover": cover, "demand_mean": d, "lot": np.array([20.0, 1.0]), "review_period": 1.0,
              "segment": np.array(["a", "a"], dtype=object)}  # fmt: skip
    # cycle service: the quantile itself
    csl = pl.service_levels(**common, unit_cost=np.ones(2), target=np.array([0.9, 0.9]), floor=np.zeros(2),
                            measure="csl", allocate=False)  # fmt: skip
    np.testing.assert_allclose(csl.reorder_point, lead.quantile(np.array([0.9, 0.9]))[:, 0])
    # fill rate: the smallest candidate whose expected fill reaches the target
    own = pl.service_levels(**common, unit_cost=np.ones(2), target=np.array([0.95, 0.95]), floor=np.zeros(2),
                            measure="fill_rate", allocate=False)  # fmt: skip
    assert np.all(own.expected_fill_rate >= 0.95)
    lower = np.array([pl.CANDIDATE_PROBABILITIES[pl.CANDIDATE_PROBABILITIES.index(p) - 1] for p in own.probability])
    s_lower = lead.quantile(lower)[:, 0]
    qc = np.maximum(np.maximum(cover.quantile(lower)[:, 0] - s_lower, [20.0, 1.0]), d)
    assert np.all(policy_fill_rate(demand=lead, reorder_point=s_lower, cycle_quantity=qc)[:, 0] < 0.95)
    # allocation: the segment's demand-weighted target is met, the dear slow item (cost 100) gets less service
    alloc = pl.service_levels(**common, unit_cost=np.array([1.0, 100.0]), target=np.array([0.95, 0.95]),
                              floor=np.array([0.3, 0.3]), measure="fill_rate", allocate=True)  # fmt: skip
    achieved = float(np.sum(alloc.expected_fill_rate * d) / d.sum())
    assert achieved >= 0.95
    assert alloc.expected_fill_rate[1] < own.expected_fill_rate[1] and alloc.expected_fill_rate[1] >= 0.3
    assert alloc.allocated.all() and alloc.segment_target == pytest.approx([0.95, 0.95])
    with pytest.raises(ValueError, match="measure"):
        pl.service_levels(**common, unit_cost=np.ones(2), target=np.full(2, 0.9), floor=np.zeros(2), measure="beta",
                          allocate=False)  # fmt: skip


def test_engine_allocation_meets_the_segment_target_and_respects_floors(stubbed: None) -> None:
    """compute_batch with the defaults: every category's demand-weighted expected fill rate reaches its target;
    a SKU's service_floor column holds; the reason says the target was allocated."""
    inputs = _inputs()
    sku = inputs.sku.copy()
    sku["category"] = ["a", "a", "b", "b", "a", "b", "a", "b"]
    sku["service_floor"] = [np.nan, 0.9, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan]
    inputs = pf.BatchInputs(codes=inputs.codes, history=inputs.history, period_dates=inputs.period_dates,
                            grain="weekly", sku=sku)  # fmt: skip
    settings = pf.EngineSettings()
    res = pf.compute_batch(inputs, settings=settings)
    pol = pf.recompute_policy(inputs, res, settings=settings)
    np.testing.assert_allclose(pol.reorder_point, res.snapshot["reorder_point"].to_numpy())
    d = res.snapshot["forecast_per_period"].to_numpy()
    for cat in ("a", "b"):
        m = (sku["category"] == cat).to_numpy() & (d > 0)
        assert np.sum(pol.model_fill_rate[m] * d[m]) / d[m].sum() >= 0.95 - 1e-9
    assert pol.model_fill_rate[1] >= 0.9
    reason = res.snapshot["rop_method_reason"].iloc[0]
    assert "allocated" in reason and "expected fill rate" in reason
    higher = pf.recompute_policy(inputs, res, settings=settings, service_level=0.99)
    active = d > 0
    assert np.sum(higher.model_fill_rate[active] * d[active]) > np.sum(pol.model_fill_rate[active] * d[active])
    with pytest.raises(ValueError, match="service_level"):
        pf.recompute_policy(inputs, res, settings=settings, service_level=1.0)
    with pytest.raises(ValueError, match="service_measure"):
        pf.EngineSettings(service_measure="beta")


def test_stockout_periods_count_as_unobserved_demand(stubbed: None) -> None:
    """Six weeks out of stock recorded as 0 sales: flagged in ``stockout`` they are demand not observed (NaN), so
    the forecast (here the mean of the last 26 observed weeks) and the reorder point are not dragged down."""
    inputs = _inputs()
    hist = inputs.history.copy()
    i = list(inputs.codes).index("NORMAL")
    hist[i, -10:-4] = 0.0
    mask = np.zeros(hist.shape, dtype=bool)
    mask[i, -10:-4] = True
    plain = pf.BatchInputs(codes=inputs.codes, history=hist, period_dates=inputs.period_dates, grain="weekly",
                           sku=inputs.sku)  # fmt: skip
    flagged = pf.BatchInputs(codes=inputs.codes, history=hist, period_dates=inputs.period_dates, grain="weekly",
                             sku=inputs.sku, stockout=mask)  # fmt: skip
    a = pf.compute_batch(plain, settings=pf.EngineSettings()).snapshot.loc["NORMAL"]
    b = pf.compute_batch(flagged, settings=pf.EngineSettings()).snapshot.loc["NORMAL"]
    assert b.forecast_per_period == pytest.approx(np.nanmean(np.where(mask[i], np.nan, hist[i])[-26:]))
    assert b.forecast_per_period > a.forecast_per_period and b.reorder_point > a.reorder_point
    assert b.periods_since_last_sale == a.periods_since_last_sale  # recorded sales stay the facts
    with pytest.raises(ValueError, match="stockout"):
        pf.compute_batch(pf.BatchInputs(codes=inputs.codes, history=hist, period_dates=inputs.period_dates,
                                        grain="weekly", sku=inputs.sku, stockout=mask[:, :5]),
                         settings=pf.EngineSettings())  # fmt: skip
