"""core/portfolio.py: one-shot (seasonal) SKUs are ordered with the newsvendor quantity (issue 10).

The forecast is the deterministic stand-in of test_portfolio (mean and std of the last 26 periods), so the expected
quantities are computed by hand here with scipy's normal quantile.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from core import portfolio as pf
from tests.unit.core.test_portfolio import DATES, _history, _sku, stubbed  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("stubbed")
HORIZON = 13
YEARS = HORIZON * 7.0 / 365.25


def _batch(sku: pd.DataFrame, history: np.ndarray, codes: list[str]) -> pf.BatchResult:
    inputs = pf.BatchInputs(codes=codes, history=history, period_dates=DATES, grain="weekly", sku=sku)
    return pf.compute_batch(inputs, settings=pf.EngineSettings(horizon=HORIZON))


def _one(price: float, cost: float, salvage: float, on_hand: float, *, moq: float, multiple: float, level: float = 50):
    rng = np.random.default_rng(5)
    history = rng.normal(level, 6, (1, len(DATES))).clip(0).round()
    sku = pd.DataFrame(
        {
            "category": ["Garden & seasonal"],
            "unit_cost": [cost],
            "unit_price": [price],
            "salvage_value": [salvage],
            "holding_cost_rate": [0.2],
            "order_cost": [40.0],
            "lead_time_mean_days": [28.0],
            "lead_time_std_days": [0.0],
            "moq": [moq],
            "order_multiple": [multiple],
            "service_level": [0.95],
            "on_hand": [on_hand],
            "on_order": [10.0],
            "one_shot": [True],
        }
    )
    return history, sku


def _hand_newsvendor(history: np.ndarray, *, price: float, cost: float, salvage: float) -> tuple[float, float, float]:
    window = history[0, -26:]
    mu_h, sd_h = window.mean() * HORIZON, window.std() * math.sqrt(HORIZON)
    cu, co = price - cost, cost - salvage + cost * 0.2 * YEARS
    ratio = cu / (cu + co)
    return ratio, mu_h + sd_h * norm.ppf(ratio), mu_h


def test_one_shot_quantity_is_the_newsvendor_less_the_position_rounded_to_the_pack() -> None:
    history, sku = _one(12.0, 5.0, 1.0, on_hand=200.0, moq=24.0, multiple=12.0)
    ratio, q_star, _ = _hand_newsvendor(history, price=12.0, cost=5.0, salvage=1.0)
    row = _batch(sku, history, ["POOL"]).snapshot.loc["POOL"]
    need = q_star - 210.0
    assert need > 24  # the pack rounding below is the multiple's
    assert row["order_policy"] == "newsvendor"
    assert row["critical_ratio"] == pytest.approx(ratio, rel=1e-9)
    assert row["newsvendor_qty"] == pytest.approx(q_star, rel=1e-9)
    assert row["recommended_qty"] == pytest.approx(math.ceil(need / 12.0) * 12.0)
    assert row["order_by_periods"] == 0.0  # order now: the season is the horizon


def test_one_shot_small_need_is_raised_to_the_moq_and_no_need_orders_nothing() -> None:
    history, sku = _one(12.0, 5.0, 1.0, on_hand=0.0, moq=24.0, multiple=12.0)
    _, q_star, _ = _hand_newsvendor(history, price=12.0, cost=5.0, salvage=1.0)
    sku.loc[0, "on_hand"] = q_star - 10.0 - 5.0  # position 5 below the newsvendor quantity
    row = _batch(sku, history, ["POOL"]).snapshot.loc["POOL"]
    assert row["recommended_qty"] == 24.0  # 5 -> the MOQ (a multiple of 12)
    sku.loc[0, "on_hand"] = q_star + 1.0  # covered: nothing to buy
    row = _batch(sku, history, ["POOL"]).snapshot.loc["POOL"]
    assert row["recommended_qty"] == 0.0 and np.isnan(row["order_by_periods"])
    assert row["order_policy"] == "newsvendor" and row["newsvendor_qty"] == pytest.approx(q_star)


def test_one_shot_without_a_price_uses_the_service_level_and_a_loss_making_item_buys_nothing() -> None:
    history, sku = _one(0.0, 5.0, 1.0, on_hand=0.0, moq=0.0, multiple=1.0)
    _, _, mu_h = _hand_newsvendor(history, price=12.0, cost=5.0, salvage=1.0)
    sd_h = history[0, -26:].std() * math.sqrt(HORIZON)
    row = _batch(sku, history, ["POOL"]).snapshot.loc["POOL"]
    assert row["critical_ratio"] == pytest.approx(0.95)
    assert row["newsvendor_qty"] == pytest.approx(mu_h + sd_h * norm.ppf(0.95))
    assert row["recommended_qty"] == math.ceil(mu_h + sd_h * norm.ppf(0.95) - 10.0 - 1e-9)
    history, sku = _one(4.0, 5.0, 1.0, on_hand=0.0, moq=0.0, multiple=1.0)  # price below cost
    row = _batch(sku, history, ["POOL"]).snapshot.loc["POOL"]
    assert row["critical_ratio"] == 0.0 and row["newsvendor_qty"] == 0.0 and row["recommended_qty"] == 0.0


def test_other_skus_are_unchanged_by_a_one_shot_flag() -> None:
    codes, history = _history()
    plain = _batch(_sku(codes), history, codes).snapshot
    # DEAD sold, then stopped for 30 periods: a stopped seller, phased out (issue 15 item 5); the rest replenish
    expected = ["phase_out" if c == "DEAD" else "reorder_point" for c in codes]
    assert plain["order_policy"].tolist() == expected and plain["critical_ratio"].isna().all()
    flagged_sku = _sku(codes).assign(one_shot=[c == "STOCKOUT" for c in codes])
    flagged = _batch(flagged_sku, history, codes).snapshot
    others = [c for c in codes if c != "STOCKOUT"]
    pd.testing.assert_frame_equal(flagged.loc[others], plain.loc[others])
    all_false = _batch(_sku(codes).assign(one_shot=False), history, codes).snapshot
    pd.testing.assert_frame_equal(all_false, plain)
    assert flagged.loc["STOCKOUT", "order_policy"] == "newsvendor"
    assert flagged.loc["STOCKOUT", "recommended_qty"] != plain.loc["STOCKOUT", "recommended_qty"]


def test_critical_ratio_formula_and_bad_horizon() -> None:
    ratio = pf.newsvendor_critical_ratio(
        unit_price=np.array([10.0, np.nan, 3.0, 10.0]),
        unit_cost=np.array([4.0, 4.0, 4.0, 4.0]),
        salvage_value=np.array([1.0, 1.0, 1.0, 5.0]),
        holding_cost_rate=np.array([0.25, 0.25, 0.25, 0.0]),
        horizon_years=0.5,
        service_level=np.array([0.9, 0.9, 0.9, 0.98]),
    )
    co = 4.0 - 1.0 + 4.0 * 0.25 * 0.5
    assert ratio[0] == pytest.approx(6.0 / (6.0 + co))
    assert ratio[1] == 0.9  # no price: the service level
    assert ratio[2] == 0.0  # price below cost
    assert ratio[3] == 0.98  # salvage above cost: no overage cost, the service level
    with pytest.raises(ValueError, match="horizon_years"):
        pf.newsvendor_critical_ratio(
            unit_price=np.ones(1),
            unit_cost=np.ones(1),
            salvage_value=np.zeros(1),
            holding_cost_rate=np.zeros(1),
            horizon_years=-1.0,
            service_level=np.full(1, 0.9),
        )


def _health(**kwargs):
    from core.health import health_status

    base = {
        "on_hand": [100.0, 100.0, 100.0, 100.0],
        "on_order": 0.0,
        "reorder_point": 500.0,  # every position is far below the reorder point
        "safety_stock": 50.0,
        "forecast_per_period": 10.0,
        "expected_recent": 10.0,
        "demand_recent": 10.0,
        "demand_baseline": 10.0,
        "sigma": 2.0,
        "lead_time_periods": 20.0,  # cover 10 periods < lead time 20: short cover too
        "periods_since_last_sale": 0,
        "days_per_period": 7.0,
    }
    base.update(kwargs)
    return health_status(**base)


def test_one_shot_stockout_risk_is_judged_against_the_season_not_the_reorder_point() -> None:
    # SKUs: [replenished, one-shot covered, one-shot short (Q* > mu_h), one-shot short but Q* below the position]
    result = _health(
        one_shot=[False, True, True, True],
        newsvendor_qty=[np.nan, 120.0, 150.0, 90.0],
        season_demand=[np.nan, 95.0, 130.0, 130.0],
        season_periods=13,
    )
    assert result.status[0] == "stockout_risk" and "reorder point 500" in result.reason[0]
    # position 100 >= expected season demand 95: the season is covered (the 20-unit top-up is not a stockout risk)
    assert result.status[1] == "normal"
    assert "reorder point" not in result.reason[1] and "newsvendor quantity 120" in result.reason[1]
    # position 100 below both 130 (expected demand) and 150 (Q*): expected to sell out, and the buy adds stock
    assert result.status[2] == "stockout_risk"
    assert result.reason[2] == (
        "One-shot buy: on hand 100 + on order 0 is below the 13-period season's expected demand 130 and the "
        "newsvendor quantity 150"
    )
    # expected to sell out (100 < 130) but the newsvendor buys nothing more (Q* 90 < 100): not a stockout alert
    assert result.status[3] == "normal"


def test_one_shot_health_without_a_price_uses_the_season_demand_and_checks_shapes() -> None:
    result = _health(one_shot=True, newsvendor_qty=np.nan, season_demand=[90.0, 110.0, 0.0, np.nan])
    # a season that sells nothing cannot take a position of 100: overstock; an unknown season is not judged
    assert list(result.status) == ["normal", "stockout_risk", "overstock", "normal"]
    assert result.season_limit[2] == 0.0 and np.isnan(result.season_limit[3])
    with pytest.raises(ValueError, match="one_shot"):
        _health(one_shot=[True, False])
    with pytest.raises(ValueError, match="season_periods"):
        _health(one_shot=True, season_periods=0)


def test_engine_status_of_a_covered_one_shot_sku_does_not_quote_the_reorder_point() -> None:
    """The GS-00018 case: a long lead time puts the reorder point above the season's demand, and a one-shot SKU that
    covers its season read "stockout risk ... below the reorder point" next to a small newsvendor top-up."""
    history, sku = _one(12.0, 5.0, 1.0, on_hand=0.0, moq=0.0, multiple=1.0)
    sku.loc[0, "lead_time_mean_days"] = 140.0  # 20 weeks: longer than the 13-week season
    _, q_star, mu_h = _hand_newsvendor(history, price=12.0, cost=5.0, salvage=1.0)
    assert q_star > mu_h  # margin 7 vs overage ~4: the buy covers more than the expected demand
    sku.loc[0, "on_hand"] = mu_h + 1.0 - 10.0  # position just above the season's expected demand, below Q*
    row = _batch(sku, history, ["POOL"]).snapshot.loc["POOL"]
    assert row["inventory_position"] < row["reorder_point"]  # the replenishment rule would call it stockout risk
    assert row["recommended_qty"] > 0 and row["order_policy"] == "newsvendor"
    assert row["status"] != "stockout_risk" and "reorder point" not in row["status_reason"]
    plain = _batch(sku.assign(one_shot=False), history, ["POOL"]).snapshot.loc["POOL"]
    assert plain["status"] == "stockout_risk" and "reorder point" in plain["status_reason"]
    sku.loc[0, "on_hand"] = mu_h - 20.0 - 10.0  # below the expected season demand: stockout risk, quoting it
    row = _batch(sku, history, ["POOL"]).snapshot.loc["POOL"]
    assert row["status"] == "stockout_risk" and row["status_reason"].startswith("One-shot buy: on hand ")
    assert f"newsvendor quantity {row['newsvendor_qty']:,.0f}" in row["status_reason"]


def test_one_shot_overstock_is_judged_against_what_the_season_can_sell() -> None:
    # forecast 10/period over a 13-period season: mu_h 130; sigma_h = 2 sqrt(13) = 7.2 is below the Poisson floor
    # sqrt(130) = 11.4, so the line is max(Q*, 130 + 3 x 11.4) = 164.2 (Q* 150) or Q* 200 when that is larger
    line = 130.0 + 3.0 * math.sqrt(130.0)
    on_hand = [line + 0.5, line - 0.5, 201.0, 199.0, line + 0.5, 60.0]
    kwargs = {
        "on_hand": on_hand,
        "reorder_point": 50.0,  # every position above the reorder point: no replenishment stockout
        "lead_time_periods": 1.0,
        "newsvendor_qty": [150.0, 150.0, 200.0, 200.0, np.nan, 150.0],
        "season_demand": 130.0,
        "season_periods": 13,
    }
    shot = [True, True, True, True, False, False]
    result = _health(one_shot=shot, **kwargs)
    assert result.season_limit[:4] == pytest.approx([line, line, 200.0, 200.0])
    assert np.isnan(result.season_limit[4:]).all()
    # cover 16.5 periods vs 3 x target (1 + 1 + 5) = 21: the replenishment rule calls none of these overstock
    assert list(result.status) == ["overstock", "normal", "overstock", "normal", "normal", "normal"]
    assert result.reason[0] == (
        "One-shot buy: position 165 is above the 164 units the 13-period season can sell: max(newsvendor quantity "
        "150, expected demand 130 + 3 x std 11.4)"
    )
    assert "newsvendor quantity 200" in result.reason[2] and "above the 200 units" in result.reason[2]
    for text in result.reason[:4]:
        assert "reorder point" not in text and "expected demand 130" in text
    # the replenished SKUs get exactly what they get without any one-shot SKU in the call
    plain = _health(one_shot=False, **kwargs)
    for name in ("status", "reason", "surge_z", "days_of_cover", "cover_periods", "target_cover_periods"):
        np.testing.assert_array_equal(getattr(result, name)[4:], getattr(plain, name)[4:])
    assert np.isnan(plain.season_limit).all()
    # a tighter overstock multiple moves the one-shot line with it (same constant as the cover rule)
    tight = _health(one_shot=shot, overstock_cover_multiple=2.0, **kwargs)
    assert tight.season_limit[1] == pytest.approx(130.0 + 2.0 * math.sqrt(130.0))
    assert tight.status[1] == "overstock"


def test_one_shot_season_limit_uses_the_forecast_error_std_above_the_poisson_floor() -> None:
    from core.health import one_shot_season_limit

    limit = one_shot_season_limit(
        newsvendor_qty=[100.0, 100.0, np.nan, 500.0, 100.0],
        season_demand=[100.0, 100.0, 100.0, 100.0, np.nan],
        season_demand_std=[30.0, 2.0, 30.0, 30.0, 30.0],
    )
    np.testing.assert_allclose(limit[:4], [190.0, 130.0, 190.0, 500.0])
    assert np.isnan(limit[4])
    with pytest.raises(ValueError, match="overstock_cover_multiple"):
        one_shot_season_limit(newsvendor_qty=1.0, season_demand=1.0, season_demand_std=1.0, overstock_cover_multiple=0)


def test_engine_overstocked_one_shot_sku_quotes_the_season_and_values_the_units_beyond_it() -> None:
    """The GS-00116 case: a one-shot SKU holding several seasons of demand read "normal" (cover judged against the
    reorder-point target) with no excess value."""
    history, sku = _one(12.0, 5.0, 1.0, on_hand=0.0, moq=0.0, multiple=1.0)
    _, q_star, mu_h = _hand_newsvendor(history, price=12.0, cost=5.0, salvage=1.0)
    sd_h = history[0, -26:].std() * math.sqrt(HORIZON)
    line = max(q_star, mu_h + 3.0 * max(sd_h, math.sqrt(mu_h)))
    sku.loc[0, "on_hand"] = 2.5 * mu_h  # + 10 on order
    row = _batch(sku, history, ["POOL"]).snapshot.loc["POOL"]
    assert row["status"] == "overstock"
    assert row["status_reason"].startswith(f"One-shot buy: position {2.5 * mu_h + 10:,.0f} is above the {line:,.0f}")
    assert "reorder point" not in row["status_reason"]
    assert row["excess_value"] == pytest.approx((2.5 * mu_h + 10.0 - line) * 5.0, rel=1e-9)
    assert row["value_at_risk"] == pytest.approx(row["excess_value"])
    plain = _batch(sku.assign(one_shot=False), history, ["POOL"]).snapshot.loc["POOL"]
    assert plain["status"] == "normal"  # 2.5 seasons are within 3 x the replenishment target cover
    # just under the line: the season can still sell it, no excess
    sku.loc[0, "on_hand"] = line - 10.0 - 0.5
    row = _batch(sku, history, ["POOL"]).snapshot.loc["POOL"]
    assert row["status"] == "normal" and row["excess_value"] == 0.0 and row["value_at_risk"] == 0.0
    assert "expected demand" in row["status_reason"] and "reorder point" not in row["status_reason"]
    # just over it: overstock, the excess is the units beyond the line
    sku.loc[0, "on_hand"] = line - 10.0 + 2.0
    row = _batch(sku, history, ["POOL"]).snapshot.loc["POOL"]
    assert row["status"] == "overstock" and row["excess_value"] == pytest.approx(2.0 * 5.0, rel=1e-6)


def test_other_skus_keep_their_overstock_and_excess_next_to_an_overstocked_one_shot_sku() -> None:
    codes, history = _history()
    plain = _batch(_sku(codes), history, codes).snapshot
    assert plain.loc["OVER", "status"] == "overstock" and plain.loc["OVER", "excess_value"] > 0
    flagged = _batch(_sku(codes).assign(one_shot=[c == "NORMAL" for c in codes]), history, codes).snapshot
    others = [c for c in codes if c != "NORMAL"]
    pd.testing.assert_frame_equal(flagged.loc[others], plain.loc[others])
    sku = _sku(codes)
    sku.loc[codes.index("NORMAL"), "on_hand"] = 30.0 * HORIZON * 1.8  # 1.8 seasons of a ~30/period SKU
    flagged = _batch(sku.assign(one_shot=[c == "NORMAL" for c in codes]), history, codes).snapshot
    plain = _batch(sku, history, codes).snapshot
    pd.testing.assert_frame_equal(flagged.loc[others], plain.loc[others])
    assert flagged.loc["NORMAL", "status"] == "overstock" and plain.loc["NORMAL", "status"] != "overstock"
    assert flagged.loc["NORMAL", "value_at_risk"] == flagged.loc["NORMAL", "excess_value"] > 0
    assert plain.loc["NORMAL", "value_at_risk"] == 0.0
