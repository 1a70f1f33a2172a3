"""What "demand" means for the supply plan -- the one place that says it.

Demand = the forecast after planner overrides that the latest finished run stored (``forecast`` rows of kind
``future``: an override replaced the statistical mean of its period in that run), per SKU and future period; past
the run's forecast periods, last season's demand scaled to the forecast's level (:func:`core.supply_demand.
extend_demand`); then bucketed by days into the plan's periods (weekly demand into months for a monthly plan).

When the S&OP cycle lands, the consensus plan replaces the forecast here and nowhere else.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from core.supply_demand import SEASON_PERIODS, SMOOTHING, extend_demand, overlap_weights, period_end
from db import queries_supply as q

STEP_DAYS = {"daily": 1, "weekly": 7}


def native_periods(*, first: dt.date, grain: str, count: int) -> list[dt.date]:
    """``count`` period starts of the demand's own grain from ``first`` (``count`` may be negative: before it)."""
    step = range(count) if count >= 0 else range(count, 0)
    if grain == "monthly":
        return [(pd.Timestamp(first) + pd.DateOffset(months=k)).date() for k in step]
    return [first + dt.timedelta(days=STEP_DAYS.get(grain, 7) * k) for k in step]


def forecast_matrix(
    *, session: Session, run_id: int, sku_ids: np.ndarray, constrained_only: bool = False
) -> tuple[list[dt.date], np.ndarray]:
    """(periods, (n, H) forecast mean after overrides) of the run's future periods for ``sku_ids`` (0 where none)."""
    frame = q.forecast_rows(session.connection(), run_id=run_id, constrained_only=constrained_only)
    stamps = np.sort(frame["period"].unique())
    periods = [pd.Timestamp(p).date() for p in stamps]
    out = np.zeros((len(sku_ids), len(periods)))
    if len(frame):
        row = pd.Index(sku_ids).get_indexer(frame["sku_id"])
        col = pd.Index(stamps).get_indexer(frame["period"])
        keep = row >= 0
        out[row[keep], col[keep]] = np.maximum(frame["mean"].to_numpy(dtype=float)[keep], 0.0)
    return periods, out


def season_history(
    *, session: Session, sku_ids: np.ndarray, first_forecast: dt.date, grain: str, constrained_only: bool
) -> np.ndarray:
    """(n, L) demand of the last season before ``first_forecast`` at the data's grain; NaN before a SKU's first row.

    Rows are bucketed onto the season's periods (several rows in one period are summed); a period without a row
    after the SKU's first row had no demand (0), as everywhere in the engine.
    """
    season = SEASON_PERIODS.get(grain, 52)
    starts = native_periods(first=first_forecast, grain=grain, count=-season)
    window_start = starts[0]
    connection = session.connection()
    frame = q.demand_window(connection, start=window_start, end=first_forecast, constrained_only=constrained_only)
    out = np.zeros((len(sku_ids), season))
    index = pd.Index(sku_ids)
    if len(frame):
        row = index.get_indexer(frame["sku_id"])
        col = _bucket(frame["period"], pd.Timestamp(window_start), grain)
        keep = (row >= 0) & (col >= 0) & (col < season)
        np.add.at(out, (row[keep], col[keep]), frame["quantity"].to_numpy(dtype=float)[keep])
    firsts = q.first_demand(connection, constrained_only=constrained_only)
    first_row = np.full(len(sku_ids), np.datetime64("NaT"), dtype="datetime64[D]")
    if len(firsts):
        row = index.get_indexer(firsts["sku_id"])
        keep = row >= 0
        first_row[row[keep]] = firsts["first"].to_numpy().astype("datetime64[D]")[keep]
    ends = period_end(starts, grain)
    not_started = np.isnat(first_row)[:, None] | (first_row[:, None] >= ends[None, :])
    out[not_started] = np.nan
    return out


def _bucket(stamps: pd.Series, origin: pd.Timestamp, grain: str) -> np.ndarray:
    if grain == "monthly":
        return ((stamps.dt.year - origin.year) * 12 + (stamps.dt.month - origin.month)).to_numpy(dtype=np.int64)
    days = (stamps - origin).dt.days.to_numpy(dtype=np.int64)
    return np.floor_divide(days, STEP_DAYS.get(grain, 7))


def plan_demand(
    *,
    session: Session,
    run_id: int,
    grain: str,
    sku_ids: np.ndarray,
    plan_start: np.ndarray,
    plan_end: np.ndarray,
    constrained_only: bool = False,
) -> tuple[np.ndarray, dt.date | None]:
    """(n, T) demand per SKU and plan period (module docstring), and the first forecast day (None: no forecast).

    Parameters
    ----------
    run_id
        The latest finished run (its forecasts after overrides).
    grain
        The run's (the demand history's) grain: daily, weekly or monthly.
    sku_ids
        (n,) SKU ids, the rows of the result.
    plan_start, plan_end
        (T,) datetime64[D] bounds of the plan periods (the first may start at the first forecast day).
    constrained_only
        Load history only for SKUs with a resource (faster when only those are planned).
    """
    periods, forecast = forecast_matrix(
        session=session, run_id=run_id, sku_ids=sku_ids, constrained_only=constrained_only
    )
    total = np.zeros((len(sku_ids), len(plan_start)))
    if not periods:
        return total, None
    first = periods[0]
    last_day = np.asarray(plan_end, dtype="datetime64[D]").max()
    steps = len(periods)
    native = native_periods(first=first, grain=grain, count=steps)
    while np.datetime64(native[-1], "D") < last_day:
        steps += 1
        native = native_periods(first=first, grain=grain, count=steps)
    history = season_history(
        session=session, sku_ids=sku_ids, first_forecast=first, grain=grain, constrained_only=constrained_only
    )
    future = extend_demand(forecast=forecast, history=history, steps=steps, smoothing=SMOOTHING.get(grain, 1))
    weights = overlap_weights(
        source_start=np.asarray(native, dtype="datetime64[D]"),
        source_end=period_end(native, grain),
        target_start=plan_start,
        target_end=plan_end,
    )
    return future @ weights, first
