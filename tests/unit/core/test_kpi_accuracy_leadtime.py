"""core/kpi.py, core/accuracy.py and core/leadtime.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import accuracy, kpi, leadtime, policy

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


# --------------------------------------------------------------------------------------------------------------------
# accuracy
# --------------------------------------------------------------------------------------------------------------------
def test_wape_bias_mase_rmsse_by_hand() -> None:
    actual = np.array([[10.0, 0.0, 20.0, np.nan], [1.0, 1.0, 1.0, 1.0]])
    fc = np.array([[12.0, 1.0, 15.0, 99.0], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_allclose(accuracy.wape(actual=actual, forecast=fc), [(2 + 1 + 5) / 30, 0.0])
    np.testing.assert_allclose(accuracy.bias(actual=actual, forecast=fc), [(2 + 1 - 5) / 30, 0.0])
    insample = np.array([[0.0, 4.0, 2.0, 6.0], [1.0, 1.0, 1.0, 1.0]])  # one-step |diff| mean = (4 + 2 + 4) / 3
    m = accuracy.mase(actual=actual, forecast=fc, insample=insample)
    assert m[0] == pytest.approx((8 / 3) / (10 / 3))
    assert np.isnan(m[1])  # constant history: scale 0
    # RMSSE trims leading zeros of the in-sample series: diffs 2 - 4 = -2, 6 - 2 = 4 -> mean square 10
    r = accuracy.rmsse(actual=actual[:1], forecast=fc[:1], insample=insample[:1])
    assert r[0] == pytest.approx(np.sqrt(((4 + 1 + 25) / 3) / 10))
    assert np.isnan(accuracy.wape(actual=[0.0, 0.0], forecast=[1.0, 2.0]))
    assert accuracy.wape(actual=[1.0, 3.0], forecast=[2.0, 2.0], axis=None) == pytest.approx(0.5)


def test_mase_matches_the_forecast_packages_metric() -> None:
    fc_metrics = pytest.importorskip("core.forecast.metrics", reason="core.forecast is not there yet")
    rng = np.random.default_rng(0)
    ins = rng.poisson(5, (20, 50)).astype(float)
    act = rng.poisson(5, (20, 8)).astype(float)
    f = rng.uniform(3, 7, (20, 8))
    np.testing.assert_allclose(
        accuracy.mase(actual=act, forecast=f, insample=ins), fc_metrics.mase(actual=act, forecast=f, insample=ins)
    )


def test_rmsse_on_m5_naive_forecast() -> None:
    """M5 check: RMSSE of the naive (last value) forecast, scale from the trimmed history, is finite and around 1."""
    path = SHARED_DATA / "m5" / "sales_train_evaluation_subset.csv"
    if not path.exists():
        pytest.skip(f"M5 subset not found at {path} (../shared/data is absent on this machine)")
    df = pd.read_csv(path, nrows=40)
    y = df[[f"d_{i}" for i in range(1, 1942)]].to_numpy(dtype=float)
    train, test = y[:, :1913], y[:, 1913:]
    naive = np.repeat(train[:, -1:], 28, axis=1)
    r = accuracy.rmsse(actual=test, forecast=naive, insample=train)
    assert np.all(np.isfinite(r)) and 0.3 < np.median(r) < 3.0


def test_forecast_value_added() -> None:
    frame = pd.DataFrame(
        {
            "planner": ["ann", "ann", "ann", "bob", "bob", "bob"],
            "actual": [100.0, 100.0, 50.0, 100.0, 100.0, np.nan],
            "statistical": [80.0, 120.0, 50.0, 100.0, 90.0, 10.0],
            "override": [95.0, np.nan, 50.0, 130.0, np.nan, 5.0],
        }
    )
    out = accuracy.forecast_value_added(frame=frame, by="planner")
    ann, bob = out.loc["ann"], out.loc["bob"]
    assert ann.rows == 3 and ann.overridden_rows == 2
    assert ann.statistical_wape == pytest.approx(40 / 250)
    assert ann.final_wape == pytest.approx(25 / 250)
    assert ann.fva_wape == pytest.approx(15 / 250)  # overrides helped
    assert ann.improved_share == pytest.approx(0.5)  # 95 better than 80; 50 equal to 50
    assert bob.rows == 2  # NaN actual ignored
    assert bob.fva_wape == pytest.approx(10 / 200 - 40 / 200)  # the override made it worse
    assert bob.final_bias == pytest.approx((30 - 10) / 200)
    only = accuracy.forecast_value_added(frame=frame, by=["planner"], overridden_only=True)
    assert only.loc["ann", "rows"] == 2 and only.loc["ann", "statistical_wape"] == pytest.approx(20 / 150)
    with pytest.raises(ValueError, match="override"):
        accuracy.forecast_value_added(frame=frame.drop(columns="override"), by="planner")


# --------------------------------------------------------------------------------------------------------------------
# lead times
# --------------------------------------------------------------------------------------------------------------------
def test_learn_lead_times_and_choose() -> None:
    receipts = pd.DataFrame(
        {
            "sku": ["A", "A", "A", "B", "B", "C"],
            "supplier": ["s1", "s1", "s1", "s1", "s1", "s2"],
            "order_date": ["2024-01-01", "2024-02-01", "2024-03-01", "2024-01-01", "2024-01-10", "2024-01-05"],
            "promised_date": ["2024-01-10", "2024-02-10", "2024-03-10", "2024-01-05", None, "2024-01-01"],
            "received_date": ["2024-01-08", "2024-02-12", "2024-03-11", "2024-01-05", "2024-01-20", None],
        }
    )
    out = leadtime.learn_lead_times(receipts=receipts, by=("sku", "supplier"))
    a = out.loc[("A", "s1")]
    assert a["count"] == 3
    assert a.lead_time_mean_days == pytest.approx(np.mean([7, 11, 10]))
    assert a.lead_time_std_days == pytest.approx(np.std([7, 11, 10], ddof=1))
    assert a.on_time_rate == pytest.approx(1 / 3)
    assert a.mean_delay_days == pytest.approx(np.mean([-2, 2, 1]))
    b = out.loc[("B", "s1")]
    assert b["count"] == 2 and b.on_time_rate == 1.0  # missing promised date is left out of the rate only
    assert ("C", "s2") not in out.index  # never received
    mean, std, source = leadtime.choose_lead_time(
        learned_mean=[a.lead_time_mean_days, b.lead_time_mean_days, np.nan],
        learned_std=[a.lead_time_std_days, b.lead_time_std_days, np.nan],
        learned_count=[3, 2, 0],
        master_mean=[14.0, 14.0, 21.0],
        master_std=[2.0, 2.0, 3.0],
        min_count=3,
    )
    assert list(source) == ["learned", "master", "master"]
    np.testing.assert_allclose(mean, [a.lead_time_mean_days, 14.0, 21.0])
    np.testing.assert_allclose(std, [a.lead_time_std_days, 2.0, 3.0])
    with pytest.raises(ValueError, match="received_date"):
        leadtime.learn_lead_times(receipts=receipts.drop(columns="received_date"), by=("sku",))
    with pytest.raises(ValueError, match="min_count"):
        leadtime.choose_lead_time(learned_mean=1, learned_std=1, learned_count=1, master_mean=1, min_count=0)
    empty = leadtime.learn_lead_times(receipts=receipts.iloc[5:], by=("sku",))
    assert empty.empty and "lead_time_mean_days" in empty.columns


# --------------------------------------------------------------------------------------------------------------------
# KPIs
# --------------------------------------------------------------------------------------------------------------------
def test_kpi_building_blocks() -> None:
    assert kpi.weighted_mean(values=[1.0, 3.0, np.nan], weights=[1.0, 3.0, 5.0]) == pytest.approx(2.5)
    assert np.isnan(kpi.weighted_mean(values=[np.nan], weights=[1.0]))
    np.testing.assert_allclose(
        kpi.excess_units(on_hand=[100.0, 100.0, 10.0], on_order=[0.0, 50.0, 500.0], max_stock=[60.0, 60.0, 60.0]),
        [40.0, 90.0, 10.0],
    )
    assert kpi.inventory_turns(annual_demand=1200, unit_cost=5.0, inventory_value=1000.0) == pytest.approx(6.0)
    assert kpi.days_of_supply(on_hand=70.0, demand_per_period=35.0, days_per_period=7.0) == pytest.approx(14.0)
    assert kpi.stockout_rate(on_hand=[0.0, 5.0, 0.0], demand_per_period=[1.0, 1.0, 0.0]) == pytest.approx(0.5)
    var = kpi.value_at_risk(
        status=["stockout_risk", "overstock", "dead_stock", "normal"],
        inventory_position=[50.0, 0.0, 0.0, 0.0],
        lead_time_demand_mean=[80.0, 0.0, 0.0, 0.0],
        lead_time_demand_std=[20.0, 0.0, 0.0, 0.0],
        unit_price=[15.0, np.nan, np.nan, 10.0],
        unit_cost=[10.0, 1.0, 1.0, 1.0],
        excess_value=[0.0, 300.0, 10.0, 99.0],
        on_hand_value=[1.0, 500.0, 120.0, 99.0],
    )
    short = policy.expected_shortage(level=50.0, mean=80.0, std=20.0)
    np.testing.assert_allclose(var, [short * 5.0, 300.0, 120.0, 0.0])


def test_portfolio_kpis_value_weighted() -> None:
    snap = pd.DataFrame(
        {
            "status": ["normal", "stockout_risk", "dead_stock"],
            "forecast_per_period": [10.0, 5.0, 0.0],
            "annual_demand": [520.0, 260.0, 0.0],
            "on_hand": [50.0, 0.0, 30.0],
            "inventory_value": [100.0, 0.0, 30.0],
            "excess_value": [0.0, 0.0, 30.0],
            "value_at_risk": [0.0, 40.0, 30.0],
            "wape": [0.2, 0.6, np.nan],
            "mase": [0.8, 1.4, np.nan],
            "bias": [0.1, -0.1, np.nan],
        }
    )
    k = kpi.portfolio_kpis(snapshot=snap, unit_cost=[2.0, 4.0, 1.0], expected_fill_rate=[0.99, 0.9, np.nan])
    w = np.array([1040.0, 1040.0])
    assert k["fill_rate"] == pytest.approx(np.average([0.99, 0.9], weights=w))
    assert k["stockout_rate"] == pytest.approx(0.5)
    assert k["inventory_value"] == 130.0
    assert k["turns"] == pytest.approx(2080 / 130)
    assert k["days_of_supply"] == pytest.approx(130 / (2080 / 365.25))
    assert k["excess_value"] == 30.0 and k["value_at_risk"] == 70.0
    assert k["wape"] == pytest.approx(0.4) and k["mase"] == pytest.approx(1.1) and k["bias"] == pytest.approx(0.0)
    assert k["sku_count"] == 3 and k["count_dead_stock"] == 1 and k["count_surge"] == 0
    assert {
        f"count_{s}" for s in ("stockout_risk", "surge", "dead_stock", "overstock", "low_velocity", "normal")
    } <= set(k)
