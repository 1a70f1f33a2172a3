"""Stopped sellers (issue 15 item 5): sales in the history, none for >= max(13, 3 x the mean interval between sales)
periods -> phase-out: no order, no safety stock, never stockout_risk, dead_stock with a reason quoting the rule.

The engine tests stub the forecast with the *old* level (the worst case: a forecast that has not noticed the stop),
so the guard, not the forecast, has to keep the order at zero. The shared-data test runs the real data sets."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import health
from core import portfolio as pf

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"


def reference_stopped(
    history: np.ndarray, *, min_gap: int = 13, multiple: float = 3.0, alpha: float = 1.0
) -> np.ndarray:
    """The issue's definition written out plainly, one row at a time (an independent check of the vectorised one);
    with alpha < 1 also issue 24's evidence test: C(W - g, k) / C(W, k) < alpha (math.comb)."""
    out = []
    for row in np.asarray(history, dtype=float):
        reported = np.flatnonzero(np.isfinite(row))
        sales = np.flatnonzero(np.nan_to_num(row) > 0)
        if not len(sales):
            out.append(False)
            continue
        gap = reported[-1] - sales[-1]
        interval = (sales[-1] - sales[0]) / (len(sales) - 1) if len(sales) > 1 else 0.0
        w, k = reported[-1] - reported[0] + 1, len(sales)
        p = math.comb(int(w - gap), k) / math.comb(int(w), k)
        out.append(bool(gap >= max(min_gap, multiple * interval)) and (alpha >= 1 or p < alpha))
    return np.array(out, dtype=bool)


# -- core.health.stopped_sellers ---------------------------------------------------------------------------------


def test_b00147_like_seller_is_stopped_and_quoted() -> None:
    history = np.r_[np.full(80, 121.0), np.zeros(21)][None, :]
    s = health.stopped_sellers(history=history)
    assert s.stopped.tolist() == [True]
    assert s.periods_since_last_sale.tolist() == [21]
    assert s.mean_interval.tolist() == [1.0] and s.gap_limit.tolist() == [13.0]
    assert s.level_before.tolist() == [121.0]
    reason = health.stopped_reason(s, 0, on_hand=600, on_order=0)
    assert reason.startswith("Phase-out: no sale for 21 periods (>= max(13, 3 x 1-period mean interval")
    assert "= 13)" in reason and "it sold 121/period before" in reason and "600 on hand" in reason


def test_gap_limit_scales_with_the_interval_between_sales() -> None:
    sparse = np.zeros(150)
    sparse[:120:8] = 2.0  # sells every 8 periods: 3 x 8 = 24 > 13; last sale at 112, 37 periods ago
    s = health.stopped_sellers(history=sparse[None, :])
    assert s.mean_interval[0] == pytest.approx(8.0) and s.gap_limit[0] == pytest.approx(24.0)
    assert s.stopped[0] and s.periods_since_last_sale[0] == 37
    young = health.stopped_sellers(history=sparse[None, :135])  # 22 periods since the last sale: < 24
    assert not young.stopped[0] and young.periods_since_last_sale[0] == 22


def test_boundaries_single_sale_never_sold_and_not_reported() -> None:
    t = 40
    rows = np.zeros((5, t))
    rows[0, : t - 13] = 5.0  # exactly 13 periods without a sale: stopped (>=)
    rows[1, : t - 12] = 5.0  # 12: not yet
    rows[2, 10] = 1.0  # a single sale 29 periods ago: limit 13
    # rows[3]: never sold -> not a stopped seller (nothing ever sold; the dead-stock rule covers stock)
    rows[4, : t - 13] = 5.0
    rows[4, t - 6 :] = np.nan  # the last 6 periods not reported: only 7 periods without a sale so far
    s = health.stopped_sellers(history=rows)
    assert s.stopped.tolist() == [True, False, True, False, False]
    assert s.periods_since_last_sale.tolist() == [13, 12, 29, t, 7]
    assert np.isnan(s.mean_interval[2]) and s.gap_limit[2] == 13
    assert "13, a single sale in the history" in health.stopped_reason(s, 2, on_hand=0, on_order=0)
    np.testing.assert_array_equal(s.stopped, reference_stopped(rows))


def test_a_positive_override_lifts_the_phase_out() -> None:
    history = np.r_[np.full(60, 10.0), np.zeros(20)][None, :].repeat(3, axis=0)
    overrides = np.full((3, 13), np.nan)
    overrides[1, 4] = 25.0  # the planner expects it to sell again
    overrides[2, :] = 0.0  # an override of zero confirms the stop
    assert health.stopped_sellers(history=history, overrides=overrides).stopped.tolist() == [True, False, True]


def test_stopped_sellers_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="history"):
        health.stopped_sellers(history=np.zeros(5))
    with pytest.raises(ValueError, match="min_gap_periods"):
        health.stopped_sellers(history=np.zeros((1, 5)), min_gap_periods=0)
    with pytest.raises(ValueError, match="interval_multiple"):
        health.stopped_sellers(history=np.zeros((1, 5)), interval_multiple=0)
    with pytest.raises(ValueError, match="level_periods"):
        health.stopped_sellers(history=np.zeros((1, 5)), level_periods=2.5)
    with pytest.raises(ValueError, match="overrides"):
        health.stopped_sellers(history=np.zeros((2, 5)), overrides=np.zeros((3, 13)))


def test_health_status_never_calls_a_stopped_seller_a_stockout_risk() -> None:
    stopped = health.stopped_sellers(history=np.r_[np.full(60, 121.0), np.zeros(21)][None, :].repeat(2, axis=0))
    args = {
        "on_hand": [45.0, 0.0],
        "on_order": 0.0,
        "reorder_point": 1267.0,  # the old level's reorder point: far above the position
        "safety_stock": 785.0,
        "forecast_per_period": 161.0,
        "expected_recent": 161.0,
        "demand_recent": 0.0,
        "demand_baseline": 121.0,
        "sigma": 40.0,
        "lead_time_periods": 3.0,
        "periods_since_last_sale": stopped.periods_since_last_sale,
        "days_per_period": 7.0,
    }
    assert health.health_status(**args).status.tolist() == ["stockout_risk", "stockout_risk"]
    hs = health.health_status(**args, stopped=stopped)
    assert hs.status.tolist() == ["dead_stock", "dead_stock"]  # with and without stock: a phase-out
    assert all(r.startswith("Phase-out: no sale for 21 periods") for r in hs.reason)
    with pytest.raises(ValueError, match="stopped"):
        health.health_status(**{**args, "on_hand": [1.0, 2.0, 3.0], "periods_since_last_sale": 21}, stopped=stopped)


# -- core.portfolio: the phase-out step ---------------------------------------------------------------------------


def _old_level_forecast(
    *, history: np.ndarray, horizon: int, season_length: int, n_origins: int = 3, period_dates=None, random_state=0
):
    """A forecast that still carries the old level: the mean of the non-zero periods (the worst case)."""
    from tests.unit.core.test_portfolio import _Result

    n, t = history.shape
    pos = np.where(np.nan_to_num(history) > 0, history, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows that never sold: empty slices
        level = np.nan_to_num(np.nanmean(pos, axis=1))
        sd = np.nan_to_num(np.nanstd(pos, axis=1)) + 1.0
    mean = np.repeat(level[:, None], horizon, axis=1)
    backtest = np.full((n, t), np.nan)
    backtest[:, -13:] = level[:, None]
    nan = np.full(n, np.nan)
    return _Result(
        model_names=("ets",),
        model=np.array(["ets"] * n, dtype=object),
        mean=mean,
        p10=mean * 0.8,
        p50=mean,
        p90=mean * 1.2,
        sigma=sd,
        mase=nan,
        wape=nan,
        bias=nan,
        scores={"ets": nan},
        backtest=backtest,
    )


@pytest.fixture
def old_level(monkeypatch: pytest.MonkeyPatch) -> None:
    import core.forecast as fc

    monkeypatch.setattr(fc, "forecast_batch", _old_level_forecast)


def _sku(n: int, *, one_shot: list[bool] | None = None, on_hand: float = 45.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "category": "c",
            "unit_cost": 2.0,
            "unit_price": 5.0,
            "salvage_value": 0.5,
            "holding_cost_rate": 0.2,
            "order_cost": 40.0,
            "lead_time_mean_days": 21.0,
            "lead_time_std_days": 3.0,
            "moq": 0.0,
            "order_multiple": 1.0,
            "service_level": 0.95,
            "on_hand": on_hand,
            "on_order": 0.0,
            "one_shot": one_shot or [False] * n,
        }
    )


def _batch(history: np.ndarray, sku: pd.DataFrame, overrides: np.ndarray | None = None) -> pd.DataFrame:
    codes = [f"S{i}" for i in range(len(history))]
    dates = pd.date_range("2024-01-01", periods=history.shape[1], freq="W-MON")
    inputs = pf.BatchInputs(codes, history, dates, "weekly", sku, overrides=overrides)
    return pf.compute_batch(inputs, settings=pf.EngineSettings()).snapshot


def test_engine_phases_out_the_stopped_seller_and_leaves_the_others(old_level: None) -> None:
    rng = np.random.default_rng(3)
    t = 104
    history = np.vstack(
        [
            np.r_[rng.normal(121, 10, t - 21).round(), np.zeros(21)],  # B-00147
            rng.normal(121, 10, t).round(),  # a steady seller
            np.r_[rng.normal(30, 4, t - 10).round(), np.zeros(10)],  # only 10 periods without a sale: not stopped
            np.r_[rng.normal(20, 3, t - 30).round(), np.zeros(30)],  # stopped, one-shot
        ]
    )
    snap = _batch(history, _sku(4, one_shot=[False, False, False, True]))
    b, steady, recent_gap, shot = (snap.iloc[i] for i in range(4))
    for row in (b, shot):
        assert row["status"] == "dead_stock" and row["status_reason"].startswith("Phase-out: no sale for")
        assert row["order_policy"] == "phase_out"
        assert row["recommended_qty"] == 0 and np.isnan(row["order_by_periods"])
        assert row["safety_stock"] == 0 and row["reorder_point"] == 0 and row["order_up_to"] == 0
        assert row["newsvendor_qty"] == 0
        assert row["excess_value"] == pytest.approx(45.0 * 2.0)  # every unit on hand is excess: the lot is 0
        assert row["value_at_risk"] == pytest.approx(45.0 * 2.0)  # dead stock: its value at cost
    assert "max(13, 3 x 1-period mean interval between sales) = 13" in b["status_reason"]
    assert b["forecast_per_period"] > 100  # the stub still forecasts the old level: the guard did the work
    for row in (steady, recent_gap):  # still replenished (a fill-rate target may put the safety stock below 0)
        assert row["order_policy"] == "reorder_point" and row["reorder_point"] > row["forecast_per_period"]
    assert recent_gap["status"] != "dead_stock" and recent_gap["recommended_qty"] > 0
    # without the guard the old level would have ordered B-00147 (the behaviour of issue 15)
    sku = _sku(1)
    unguarded = _batch(history[:1, :-21], sku)  # the same SKU before it stopped, at the same stock
    assert unguarded.iloc[0]["recommended_qty"] > 0


def test_positive_override_reorders_a_stopped_seller(old_level: None) -> None:
    history = np.r_[np.full(80, 50.0), np.zeros(20)][None, :]
    overrides = np.full((1, 13), 40.0)
    row = _batch(history, _sku(1, on_hand=0.0), overrides=overrides).iloc[0]
    assert row["order_policy"] == "reorder_point" and row["recommended_qty"] > 0
    assert row["status"] == "stockout_risk"


def test_phase_out_keeps_inputs_and_a_missing_newsvendor() -> None:
    from core.replenishment import ReplenishmentPolicy

    two = np.array([1.0, 1.0])
    pol = ReplenishmentPolicy(
        reorder_point=np.array([10.0, 20.0]),
        order_up_to=np.array([15.0, 25.0]),
        safety_stock=np.array([3.0, 4.0]),
        method=np.array(["normal", "normal"], dtype=object),
        reason=np.array(["", ""], dtype=object),
        eoq=np.array([7.0, 8.0]),
        lot=np.array([7.0, 8.0]),
        recommended_qty=np.array([9.0, 0.0]),
        order_by_periods=np.array([0.0, 2.0]),
        newsvendor_qty=np.array([np.nan, 30.0]),
        critical_ratio=np.array([np.nan, np.nan]),
        order_policy=np.array(["reorder_point"] * 2, dtype=object),
        lead_time_demand_std=two,
        expected_fill_rate=np.array([0.9, 0.95]),
        annual_demand=two,
        season_demand=two,
        service_probability=two,
        model_fill_rate=np.array([0.9, 0.95]),
    )
    out = pf.phase_out_stopped_sellers(np.array([True, False]), pol)
    assert out.reorder_point.tolist() == [0.0, 20.0] and out.safety_stock.tolist() == [0.0, 4.0]
    assert out.order_up_to.tolist() == [0.0, 25.0] and out.lot.tolist() == [0.0, 8.0]
    assert out.recommended_qty.tolist() == [0.0, 0.0]
    assert np.isnan(out.newsvendor_qty[0]) and out.newsvendor_qty[1] == 30.0  # no price: stays undefined
    assert np.isnan(out.order_by_periods[0]) and np.isnan(out.expected_fill_rate[0])
    assert out.order_policy.tolist() == ["phase_out", "reorder_point"]
    assert pol.reorder_point.tolist() == [10.0, 20.0]  # inputs untouched
    assert pf.phase_out_stopped_sellers(np.array([False, False]), pol) is pol


def test_expected_fill_rates_leave_phased_out_skus_out() -> None:
    frame = pd.DataFrame(
        {
            "forecast_per_period": [10.0, 10.0],
            "lead_time_periods": 2.0,
            "lead_time_std_periods": 0.0,
            "sigma": 3.0,
            "eoq": 40.0,
            "reorder_point": [25.0, 0.0],
            "unit_cost": 2.0,
            "holding_cost_rate": 0.2,
            "order_cost": 10.0,
            "moq": 0.0,
            "order_multiple": 1.0,
            "order_policy": ["reorder_point", "phase_out"],
        }
    )
    fill = pf.expected_fill_rates(frame, days_per_period=7.0)
    assert 0 < fill[0] <= 1 and np.isnan(fill[1])


# -- the shared real data sets ------------------------------------------------------------------------------------


def _shared_sets() -> dict[str, np.ndarray]:
    """(n, T) histories of the shared sets (a slice of each, to stay quick), or a skip when they are absent."""
    if not SHARED.is_dir():
        pytest.skip(f"shared data not found at {SHARED} (../shared/data is absent on this machine)")
    sets: dict[str, np.ndarray] = {}
    manu = SHARED / "intermittent" / "manufacturer_3451_skus_weekly_wide.csv"
    if manu.exists():
        df = pd.read_csv(manu)
        sets["manufacturer"] = df[[c for c in df.columns if "-W" in c]].to_numpy(dtype=float)
    cars = SHARED / "intermittent" / "carparts_long.csv"
    if cars.exists():
        long = pd.read_csv(cars)
        sets["carparts"] = long.pivot(index="part_id", columns="month", values="sales").to_numpy(dtype=float)
    oil = SHARED / "intermittent" / "oil_14523_materials_monthly_wide.csv"
    if oil.exists():
        df = pd.read_csv(oil, nrows=3000)
        months = [c for c in df.columns if c[:2] in ("19", "20")]
        sets["oil"] = np.clip(df[months].fillna(0.0).to_numpy(dtype=float), 0.0, None)
    m5 = SHARED / "m5" / "sales_train_evaluation_subset.csv"
    if m5.exists():
        df = pd.read_csv(m5)
        days = df[[c for c in df.columns if c.startswith("d_")]].to_numpy(dtype=float)
        weeks = days[:, : days.shape[1] // 7 * 7].reshape(len(df), -1, 7).sum(axis=2)
        sets["m5_weekly"] = weeks
    if not sets:
        pytest.skip(f"none of the shared data files were found under {SHARED}")
    return sets


def test_no_stopped_seller_is_ordered_on_the_shared_data(old_level: None) -> None:
    """Every shared set through the engine, with an empty shelf (the most orders): no stopped seller is ordered,
    at stockout risk or given a safety stock; the definition is checked against the plain one."""
    checked = 0
    for name, history in _shared_sets().items():
        history = history[:1500]
        expected = reference_stopped(history, alpha=pf.EngineSettings().phase_out_alpha)
        assert expected.any(), f"{name}: the slice has no stopped seller to check"
        grain = "weekly" if history.shape[1] > 60 else "monthly"
        codes = [f"{name}-{i}" for i in range(len(history))]
        dates = pd.date_range("2015-01-05", periods=history.shape[1], freq="W-MON" if grain == "weekly" else "MS")
        sku = _sku(len(history), on_hand=0.0)
        snap = pf.compute_batch(
            pf.BatchInputs(codes, history, dates, grain, sku), settings=pf.EngineSettings()
        ).snapshot
        stopped = snap["order_policy"].to_numpy() == "phase_out"
        np.testing.assert_array_equal(stopped, expected, err_msg=name)
        rows = snap[stopped]
        assert (rows["recommended_qty"] == 0).all(), name
        assert (rows["status"] == "dead_stock").all(), name
        assert (rows["safety_stock"] == 0).all() and (rows["reorder_point"] == 0).all(), name
        assert rows["status_reason"].str.startswith("Phase-out: no sale for").all(), name
        assert (snap.loc[~stopped & (snap["forecast_per_period"] > 0), "recommended_qty"] > 0).any(), name
        checked += int(stopped.sum())
    assert checked > 0
