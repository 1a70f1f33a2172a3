"""The recompute loader's pure parts: grain detection, period grid, demand matrix, overrides, batches, CSV safety."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from services.engine_inputs import (
    RunContext,
    demand_matrix,
    detect_grain,
    override_matrix,
    period_dates,
    period_index,
    through_from_last_periods,
)
from services.recompute import plan_batches
from services.run_export import neutralise_formulas


def _ctx(grain: str, origin: str, n_periods: int, horizon: int = 3) -> RunContext:
    return RunContext(grain=grain, origin=pd.Timestamp(origin), n_periods=n_periods, horizon=horizon, min_receipts=5)


@pytest.mark.parametrize(
    ("freq", "grain"),
    [("D", "daily"), ("W-MON", "weekly"), ("W-SUN", "weekly"), ("MS", "monthly"), ("ME", "monthly")],
)
def test_detect_grain_from_spacing_within_skus(freq: str, grain: str) -> None:
    dates = pd.date_range("2024-01-01", periods=30, freq=freq)
    ids = np.repeat([1, 2], 30)
    assert detect_grain(sku_ids=ids, periods=np.tile(dates, 2)) == grain


def test_detect_grain_ignores_gaps_between_skus_and_sparse_rows() -> None:
    # SKU 1 on Mondays, SKU 2 on Sundays: the mixed dates are 1 and 6 days apart, each SKU is weekly.
    mondays = pd.date_range("2024-01-01", periods=20, freq="W-MON")
    sundays = pd.date_range("2024-01-07", periods=20, freq="W-SUN")
    # SKU 3 is intermittent: rows only every 3 weeks.
    sparse = pd.date_range("2024-01-01", periods=7, freq="3W-MON")
    ids = np.concatenate([np.full(20, 1), np.full(20, 2), np.full(7, 3)])
    assert detect_grain(sku_ids=ids, periods=np.concatenate([mondays, sundays, sparse])) == "weekly"


def test_detect_grain_falls_back_without_any_gap() -> None:
    one = np.array([np.datetime64("2024-01-01")])
    assert detect_grain(sku_ids=np.array([1]), periods=one) == "weekly"
    assert detect_grain(sku_ids=np.array([1]), periods=one, fallback="monthly") == "monthly"
    assert detect_grain(sku_ids=np.array([1]), periods=one, fallback="bogus") == "weekly"


def test_period_grid_round_trips() -> None:
    origin = pd.Timestamp("2024-01-31")
    dates = period_dates(origin=origin, grain="monthly", start=0, count=4)
    assert [d.date() for d in dates] == [
        dt.date(2024, 1, 31),
        dt.date(2024, 2, 29),
        dt.date(2024, 3, 31),
        dt.date(2024, 4, 30),
    ]
    assert period_index(dates=dates, grain="monthly", origin=origin).tolist() == [0, 1, 2, 3]
    weekly = period_dates(origin=pd.Timestamp("2024-01-01"), grain="weekly", start=2, count=2)
    assert period_index(dates=weekly, grain="weekly", origin=pd.Timestamp("2024-01-01")).tolist() == [2, 3]
    # a date inside a week belongs to the week that contains it
    assert period_index(dates=["2024-01-14"], grain="weekly", origin=pd.Timestamp("2024-01-01")).tolist() == [1]
    with pytest.raises(ValueError, match="grain"):
        period_index(dates=["2024-01-01"], grain="hourly", origin=origin)


def test_demand_matrix_leading_nan_missing_zero_and_sums() -> None:
    ctx = _ctx("weekly", "2024-01-01", 5)
    demand = pd.DataFrame(
        {
            "sku_id": [10, 10, 20, 20, 20],
            "period": pd.to_datetime(["2024-01-01", "2024-01-15", "2024-01-15", "2024-01-16", "2024-01-29"]),
            "quantity": [3.0, 4.0, 1.0, 2.0, 5.0],
        }
    )
    history = demand_matrix(demand=demand, sku_ids=np.array([20, 10, 30]), context=ctx)
    np.testing.assert_array_equal(history[0], [np.nan, np.nan, 3.0, 0.0, 5.0])  # 1 + 2 in one week; gap = 0
    # issue 15: periods after a SKU's last row are "not reported" (NaN), no longer zero sales (this line asserted
    # [3, 0, 4, 0, 0] before: a file for other SKUs and later weeks gave this SKU two weeks of zero sales)
    np.testing.assert_array_equal(history[1], [3.0, 0.0, 4.0, np.nan, np.nan])
    assert np.isnan(history[2]).all()  # no demand at all


def test_data_through_is_what_most_skus_reported_and_overrides_start_after_it() -> None:
    demand = pd.DataFrame(
        {
            "sku_id": [1, 1, 2, 2, 3, 3, 3],
            "period": pd.to_datetime(
                ["2024-01-01", "2024-01-08", "2024-01-01", "2024-01-08", "2024-01-01", "2024-01-08", "2024-01-15"]
            ),
            "quantity": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        }
    )
    origin = pd.Timestamp("2024-01-01")
    last = demand.groupby("sku_id")["period"].max().to_numpy()
    through = through_from_last_periods(last=last, grain="weekly", origin=origin, n_periods=3)
    assert through == 2  # two of three SKUs report through 2024-01-08; one SKU's 2024-01-15 does not move it
    ctx = RunContext(grain="weekly", origin=origin, n_periods=3, horizon=2, min_receipts=5, through=through)
    assert ctx.data_as_of == dt.date(2024, 1, 8) and ctx.period_dates[-1] == pd.Timestamp("2024-01-15")
    frame = pd.DataFrame(
        {
            "sku_id": [1, 3],
            "period": pd.to_datetime(["2024-01-15", "2024-01-29"]),
            "qty": [9.0, 8.0],
            "created_at": pd.to_datetime(["2024-01-02", "2024-01-02"]),
            "id": [1, 2],
        }
    )
    out = override_matrix(frame=frame, sku_ids=np.array([1, 2, 3]), context=ctx)
    assert out is not None and out.shape == (3, 3)  # the week after data through, then the 2-week horizon
    assert out[0, 0] == 9.0 and out[2, 2] == 8.0 and np.isnan(out[1]).all()


def test_override_matrix_latest_row_wins_inside_horizon_only() -> None:
    ctx = _ctx("weekly", "2024-01-01", 4, horizon=3)  # history weeks 0..3, future weeks 4..6 (2024-01-29 ..)
    frame = pd.DataFrame(
        {
            "sku_id": [1, 1, 1, 2, 2, 9],
            "period": pd.to_datetime(
                ["2024-01-29", "2024-01-29", "2024-02-12", "2024-01-22", "2024-02-19", "2024-01-29"]
            ),
            "qty": [5.0, 7.0, 9.0, 1.0, 2.0, 3.0],
            "created_at": pd.to_datetime(
                ["2024-01-02", "2024-01-03", "2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01"]
            ),
            "id": [1, 2, 3, 4, 5, 6],
        }
    )
    out = override_matrix(frame=frame, sku_ids=np.array([1, 2]), context=ctx)
    np.testing.assert_array_equal(out[0], [7.0, np.nan, 9.0])  # newest of the two rows for week 4
    assert np.isnan(out[1]).all()  # one in the history, one beyond the horizon
    assert override_matrix(frame=frame.iloc[3:5], sku_ids=np.array([1, 2]), context=ctx) is None
    assert override_matrix(frame=frame.iloc[:0], sku_ids=np.array([1]), context=ctx) is None


def test_plan_batches_fixed_composition() -> None:
    assert plan_batches(count=7, batch_size=3) == [slice(0, 3), slice(3, 6), slice(6, 7)]
    assert plan_batches(count=0, batch_size=3) == []
    with pytest.raises(ValueError, match="batch_size"):
        plan_batches(count=3, batch_size=0)


def test_neutralise_formulas() -> None:
    frame = pd.DataFrame({"a": ["=1+1", "+x", "-2", "@SUM(A1)", "plain", None], "n": [-1.0, 2, 3, 4, 5, 6]})
    out = neutralise_formulas(frame)
    assert out["a"].tolist() == ["'=1+1", "'+x", "'-2", "'@SUM(A1)", "plain", None]
    assert out["n"].tolist() == frame["n"].tolist()


def test_load_context_keeps_at_most_max_periods(monkeypatch) -> None:
    import services.engine_inputs as ei

    dates = pd.to_datetime(["1990-01-01", *pd.date_range("2024-01-01", periods=10, freq="W-MON")])
    demand = pd.DataFrame({"sku_id": [1] * 11, "period": dates, "quantity": 1.0})
    monkeypatch.setattr(ei.q, "demand_rows", lambda connection, sku_ids=None: demand)
    monkeypatch.setattr(ei.q, "latest_import_grain", lambda connection: None)
    no_marks = pd.DataFrame({"sku_id": pd.Series([], dtype="int64"), "period": pd.to_datetime([])})
    monkeypatch.setattr(ei.q, "partial_rows", lambda connection: no_marks)  # no demand_partial marks
    monkeypatch.setattr(ei, "MAX_PERIODS", {"daily": 30, "weekly": 8, "monthly": 12})
    ctx, _ = ei.load_context(connection=None, sku_ids=None, horizon=3, min_receipts=5)
    assert ctx.grain == "weekly" and ctx.n_periods == 8
    assert ctx.data_as_of == dt.date(2024, 3, 4) and ctx.period_dates[0] == pd.Timestamp("2024-01-15")
    history = demand_matrix(demand=demand, sku_ids=np.array([1]), context=ctx)
    np.testing.assert_array_equal(history[0], np.ones(8))  # the 1990 row and the first two weeks are left out


def test_a_trailing_partial_row_does_not_count_as_reported() -> None:
    from services.engine_inputs import trailing_marked

    ends = pd.Series(pd.to_datetime(["2024-01-15", "2024-01-15", "2024-01-08"]), index=[1, 2, 3])
    marks = pd.DataFrame({"sku_id": [1, 3], "period": pd.to_datetime(["2024-01-15", "2024-01-01"])})
    flagged = trailing_marked(ends=ends, marks=marks)
    assert flagged.tolist() == [True, False, False]  # SKU 3's mark is not on its last row
    origin = pd.Timestamp("2024-01-01")
    assert through_from_last_periods(last=ends.to_numpy(), grain="weekly", origin=origin, n_periods=3) == 3
    # SKU 1's last week is partial: only SKU 2 reports through 2024-01-15, not a majority
    assert (
        through_from_last_periods(last=ends.to_numpy(), grain="weekly", origin=origin, n_periods=3, partial=flagged)
        == 2
    )
