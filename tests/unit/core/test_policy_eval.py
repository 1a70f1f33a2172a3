"""core/policy_eval.py: fit on all but the last N periods, replay the engine and the textbook baseline, compare."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core import policy_eval as pe
from core import portfolio as pf
from core.backtest import replay_policy, summarise
from tests.unit.core.test_portfolio import stub_forecast


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    import core.forecast as fc

    monkeypatch.setattr(fc, "forecast_batch", stub_forecast)


def test_frontier_comparison_reads_the_monotone_frontier() -> None:
    """Frontier (100, 0.80), (200, 0.90), (400, 0.95); a point at inventory 150 and fill 0.87: the frontier gives
    0.85 at 150 (gap +0.02) and needs 100 + 0.7 x 100 = 170 for 0.87 (ratio 150 / 170)."""
    gap, ratio = pe.frontier_comparison(
        frontier_inventory=[200, 100, 400], frontier_fill=[0.90, 0.80, 0.95], inventory=150, fill=0.87
    )
    assert gap == pytest.approx(0.02)
    assert ratio == pytest.approx(150 / 170)
    # a dip in the frontier is ignored (upper envelope); outside the range: NaN
    gap2, _ = pe.frontier_comparison(
        frontier_inventory=[100, 200, 300], frontier_fill=[0.8, 0.9, 0.85], inventory=250, fill=0.9
    )
    assert gap2 == pytest.approx(0.0)
    g, r = pe.frontier_comparison(frontier_inventory=[100, 200], frontier_fill=[0.8, 0.9], inventory=50, fill=0.95)
    assert math.isnan(g) and math.isnan(r)
    with pytest.raises(ValueError, match="frontier_inventory"):
        pe.frontier_comparison(frontier_inventory=[1, 2], frontier_fill=[0.5], inventory=1, fill=0.5)


def test_textbook_policy_by_hand() -> None:
    """History 2 4 6 8: mu 5, sigma sqrt(5); L = 2: ROP = 10 + z sqrt(5) sqrt(2). EOQ with K = 50, h = 0.2 x 10,
    weekly: D = 5 x 52.18 per year, Q* = sqrt(2 x 50 x D / 2) = 114; MOQ 150 lifts it; a year of demand caps it; a
    SKU without demand never orders."""
    hist = np.array([[2.0, 4, 6, 8], [0, 0, 0, 0]])
    pol = pe.textbook_policy(
        fit_history=hist, service_level=0.95, lead_time=2.0, unit_cost=10.0, holding_cost_rate=0.2,
        order_cost=50.0, moq=[150.0, 0.0], order_multiple=1.0, days_per_period=7.0,
    )  # fmt: skip
    z = stats.norm.ppf(0.95)
    assert pol["reorder_point"][0] == pytest.approx(10 + z * math.sqrt(5) * math.sqrt(2))
    annual = 5 * 365.25 / 7
    q_star = math.sqrt(2 * 50 * annual / 2.0)
    assert q_star < 150 and pol["order_quantity"][0] == 150.0
    assert np.isnan(pol["order_up_to"]).all()
    assert np.isnan(pol["reorder_point"][1]) and pol["order_quantity"][1] == 0
    big = pe.textbook_policy(
        fit_history=hist[:1] * 100, service_level=0.95, lead_time=2.0, unit_cost=10.0, holding_cost_rate=0.2,
        order_cost=50.0, moq=0.0, order_multiple=1.0, days_per_period=7.0,
    )  # fmt: skip
    assert big["order_quantity"][0] == pytest.approx(round(math.sqrt(2 * 50 * annual * 100 / 2.0)), abs=1)
    slow = pe.textbook_policy(
        fit_history=hist[:1] / 50, service_level=0.95, lead_time=2.0, unit_cost=10.0, holding_cost_rate=0.2,
        order_cost=50.0, moq=0.0, order_multiple=1.0, days_per_period=7.0,
    )  # fmt: skip
    assert slow["order_quantity"][0] <= math.ceil(annual / 50)  # capped at a year of demand (EOQ would be 16)


def _batch() -> tuple[list[str], np.ndarray, pd.DatetimeIndex, pd.DataFrame]:
    rng = np.random.default_rng(5)
    t = 80
    rows = [rng.poisson(m, t).astype(float) for m in (2, 5, 10, 20, 40, 0.4)]
    rows.append(np.where(rng.random(t) < 0.2, rng.choice([1, 5, 20], t), 0).astype(float))
    rows.append(np.zeros(t))
    hist = np.vstack(rows)
    codes = [f"S{i}" for i in range(len(rows))]
    sku = pd.DataFrame(
        {
            "category": "c",
            "unit_cost": np.linspace(1, 8, len(rows)),
            "holding_cost_rate": 0.25,
            "order_cost": 20.0,
            "lead_time_mean_days": 21.0,
            "moq": 0.0,
            "order_multiple": 1.0,
            "service_level": 0.95,
        }
    )
    return codes, hist, pd.date_range("2024-01-01", periods=t, freq="W-MON"), sku


def test_evaluate_policies_replays_the_fitted_engine_and_the_textbook(stubbed: None) -> None:
    codes, hist, dates, sku = _batch()
    ev = pe.evaluate_policies(
        codes=codes, history=hist, period_dates=dates, grain="weekly", sku=sku, periods=20,
        targets=(0.6, 0.9, 0.95, 0.99),
    )  # fmt: skip
    assert ev.periods == 20 and len(ev.frontier) == 4
    assert ev.target_service_level == pytest.approx(0.95)
    # the engine was fitted on the first 60 periods only, exactly as compute_batch does
    direct = pf.compute_batch(
        pf.BatchInputs(codes=codes, history=hist[:, :60], period_dates=dates[:60], grain="weekly", sku=sku),
        settings=pf.EngineSettings(),
    )
    pd.testing.assert_series_equal(ev.engine_batch.snapshot["reorder_point"], direct.snapshot["reorder_point"])
    # the engine's replay is its policy through the last 20 periods (lead time 3 weeks)
    pol = ev.policies["engine"]
    again = replay_policy(
        demand=hist[:, 60:], reorder_point=pol["reorder_point"], order_up_to=pol["order_up_to"],
        order_quantity=pol["order_quantity"], lead_time=3.0, unit_cost=sku["unit_cost"].to_numpy(),
    )  # fmt: skip
    np.testing.assert_allclose(again.served, ev.engine.replay.served)
    assert np.isnan(pol["reorder_point"][-1])  # no demand: the engine never orders it
    # demand-weighted portfolio fill
    s = ev.engine.summary
    assert s.fill_rate == pytest.approx(ev.engine.replay.served.sum() / hist[:, 60:].sum())
    # baseline at everyone's own target 0.95 = the frontier's 0.95 point
    assert ev.baseline.summary.fill_rate == pytest.approx(ev.frontier[2].summary.fill_rate)
    assert ev.baseline.summary.average_inventory_value == pytest.approx(ev.frontier[2].summary.average_inventory_value)
    fills = [p.summary.fill_rate for p in ev.frontier]
    assert fills[0] <= fills[-1]
    gap, ratio = pe.frontier_comparison(
        frontier_inventory=[p.summary.average_inventory_value for p in ev.frontier], frontier_fill=fills,
        inventory=s.average_inventory_value, fill=s.fill_rate,
    )  # fmt: skip
    assert (gap, ratio) == (ev.fill_gap_at_equal_inventory, ev.inventory_ratio_at_equal_fill) or (
        math.isnan(gap) and math.isnan(ev.fill_gap_at_equal_inventory)
    )
    assert set(ev.frontier[0].as_dict()) == {"service_target", "fill_rate", "cycle_service_level",
                                            "average_inventory_value"}  # fmt: skip
    base = summarise(ev.baseline.replay)
    assert base.skus == len(codes)


def test_engine_curve_replays_the_policy_stage_at_other_targets(stubbed: None) -> None:
    """The engine's curve at the SKUs' own target (0.95) is the engine's point: recompute_policy on the fitted batch
    returns compute_batch's own policy; higher targets hold more stock and serve at least as much."""
    codes, hist, dates, sku = _batch()
    ev = pe.evaluate_policies(codes=codes, history=hist, period_dates=dates, grain="weekly", sku=sku, periods=20,
                              targets=(0.9,))  # fmt: skip
    curve = pe.engine_curve(ev, targets=(0.8, 0.95, 0.995))
    assert curve[1].summary.fill_rate == pytest.approx(ev.engine.summary.fill_rate)
    assert curve[1].summary.average_inventory_value == pytest.approx(ev.engine.summary.average_inventory_value)
    assert curve[0].summary.average_inventory_value <= curve[2].summary.average_inventory_value
    assert curve[0].summary.fill_rate <= curve[2].summary.fill_rate + 1e-9
    with pytest.raises(ValueError, match="targets"):
        pe.engine_curve(ev, targets=(1.5,))


def test_evaluate_policies_random_lead_times_are_reproducible(stubbed: None) -> None:
    codes, hist, dates, sku = _batch()
    sku = sku.assign(lead_time_std_days=7.0)
    kw = {"codes": codes, "history": hist, "period_dates": dates, "grain": "weekly", "sku": sku, "periods": 20,
          "targets": (0.9,)}  # fmt: skip
    a = pe.evaluate_policies(**kw, rng=np.random.default_rng(3))
    b = pe.evaluate_policies(**kw, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.engine.replay.served, b.engine.replay.served)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [({"periods": 80}, "periods"), ({"periods": 0}, "periods"), ({"targets": (0.5, 1.0)}, "targets"),
     ({"grain": "hourly"}, "grain")],
)  # fmt: skip
def test_evaluate_policies_rejects_bad_arguments(stubbed: None, kwargs: dict, bad: str) -> None:
    codes, hist, dates, sku = _batch()
    base = {"codes": codes, "history": hist, "period_dates": dates, "grain": "weekly", "sku": sku, "periods": 20}
    with pytest.raises(ValueError, match=bad):
        pe.evaluate_policies(**{**base, **kwargs})
