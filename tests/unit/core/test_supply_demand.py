"""core.supply_demand: plan periods (a short stub joins the next period), day-overlap bucketing (weekly demand into
months), and demand past the forecast (last season scaled to the forecast's level)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from core.supply_demand import extend_demand, overlap_weights, period_end, plan_bounds, plan_periods


def test_monthly_periods_start_on_the_first() -> None:
    assert plan_periods(start=dt.date(2027, 1, 20), grain="monthly", count=3) == [
        dt.date(2027, 1, 1),
        dt.date(2027, 2, 1),
        dt.date(2027, 3, 1),
    ]


def test_weekly_periods_start_on_the_resources_weekday() -> None:
    periods = plan_periods(start=dt.date(2027, 1, 6), grain="weekly", count=2, week_start=0)  # a Wednesday
    assert periods == [dt.date(2027, 1, 4), dt.date(2027, 1, 11)]


def test_a_short_stub_joins_the_next_period_and_a_long_one_stays() -> None:
    labels, starts, ends = plan_bounds(start=dt.date(2026, 11, 30), grain="monthly", count=2)
    assert labels == [dt.date(2026, 12, 1), dt.date(2027, 1, 1)]
    assert starts[0] == np.datetime64("2026-11-30") and ends[0] == np.datetime64("2027-01-01")
    labels, starts, _ends = plan_bounds(start=dt.date(2026, 11, 10), grain="monthly", count=2)
    assert labels == [dt.date(2026, 11, 1), dt.date(2026, 12, 1)]
    assert starts[0] == np.datetime64("2026-11-10")


def test_weekly_demand_is_split_into_months_by_days() -> None:
    weeks = [dt.date(2027, 1, 28), dt.date(2027, 2, 4)]  # the first week has 4 days in January, 3 in February
    months = [dt.date(2027, 1, 1), dt.date(2027, 2, 1)]
    weights = overlap_weights(
        source_start=np.asarray(weeks, dtype="datetime64[D]"),
        source_end=period_end(weeks, "weekly"),
        target_start=np.asarray(months, dtype="datetime64[D]"),
        target_end=period_end(months, "monthly"),
    )
    np.testing.assert_allclose(weights, [[4 / 7, 3 / 7], [0.0, 1.0]])
    demand = np.array([[70.0, 70.0]]) @ weights
    np.testing.assert_allclose(demand, [[40.0, 100.0]])


def test_overlap_weights_refuse_empty_periods() -> None:
    day = np.array(["2027-01-01"], dtype="datetime64[D]")
    with pytest.raises(ValueError, match="end after it starts"):
        overlap_weights(source_start=day, source_end=day, target_start=day, target_end=day + 1)


def test_past_the_forecast_last_season_is_scaled_to_the_forecast_level() -> None:
    history = np.array([[10.0, 20.0, 30.0, 40.0]])  # one season of 4 periods
    forecast = np.array([[20.0, 40.0]])  # twice last season's first two periods
    out = extend_demand(forecast=forecast, history=history, steps=6)
    np.testing.assert_allclose(out, [[20.0, 40.0, 60.0, 80.0, 20.0, 40.0]])


def test_the_ratio_is_clipped_and_off_season_forecasts_keep_last_season() -> None:
    quiet_start = np.array([[0.0, 0.0, 0.0, 0.0, 0.0, 100.0, 0.0, 0.0, 0.0, 0.0, 0.0, 400.0]])
    off_season = extend_demand(forecast=np.array([[0.0, 0.0]]), history=quiet_start, steps=12)
    assert off_season[0, 11] == pytest.approx(400.0)  # the forecast is off-season: last season as it was
    busy_start = np.array([[100.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 400.0]])
    huge = extend_demand(forecast=np.array([[5000.0]]), history=busy_start, steps=12)
    assert huge[0, 11] == pytest.approx(400.0 * 4.0)  # ratio 50, clipped at 4


def test_without_a_full_season_the_forecast_mean_carries_on() -> None:
    history = np.array([[np.nan, np.nan, 5.0, 5.0]])
    out = extend_demand(forecast=np.array([[6.0, 8.0]]), history=history, steps=4)
    np.testing.assert_allclose(out, [[6.0, 8.0, 7.0, 7.0]])


def test_extend_demand_checks_its_inputs() -> None:
    with pytest.raises(ValueError, match="steps"):
        extend_demand(forecast=np.zeros((1, 1)), history=np.zeros((1, 2)), steps=-1)
    with pytest.raises(ValueError, match=">= 0"):
        extend_demand(forecast=-np.ones((1, 1)), history=np.zeros((1, 2)), steps=2)
    with pytest.raises(ValueError, match="grain"):
        plan_periods(start=dt.date(2027, 1, 1), grain="quarterly", count=2)
