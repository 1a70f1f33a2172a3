"""Calendar and demand for a supply plan: plan periods, day-overlap bucketing, and demand beyond the forecast.

- **Plan periods** (:func:`plan_periods`, :func:`plan_bounds`): calendar months (a monthly plan) or 7-day weeks
  starting on the resources file's weekday (a weekly plan). The first period is the one holding the plan's start
  date and counts only from that date (capacity and demand before it are the past); when less than half of it is
  left, that stub joins the next period, which then starts on the plan's start date.
- **Bucketing** (:func:`overlap_weights`): a source period (a demand week, a capacity month) spreads evenly over its
  days; a plan period gets the share of those days inside it. Weekly demand becomes monthly demand this way
  (a week across a month end is split by days), and the first, partial plan period gets capacity in proportion
  to the days left.
- **Demand beyond the forecast** (:func:`extend_demand`): the engine forecasts a few periods (13 by default); a
  3-18 month plan needs more. Past the forecast the demand of a period is the same period one season earlier
  (one year: 52 weeks, 12 months, 364 days) scaled to the forecast's level -- the seasonal naive method with a
  level correction, i.e. multiplicative seasonality with the level of the latest forecast (Hyndman &
  Athanasopoulos, Forecasting: Principles and Practice, 3rd ed., sections 5.2 and 8.3)::

      profile[j]  = last season's demand, smoothed by a centred moving average of ``smoothing`` periods (circular)
      ratio       = sum(forecast) / sum(profile over the forecast's periods)      clipped to [0.25, 4]
      demand[p]   = forecast[p]                         for p < H (the forecast, after planner overrides)
                  = ratio * profile[p mod L]            for p >= H

  When the forecast falls in the off-season (its periods hold under 10 % of last season's demand) the ratio is
  not estimable and is 1 (last season as it was). A SKU without a full season of history (or with none in it)
  keeps the forecast's mean per period past the forecast.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

PLAN_GRAINS: tuple[str, ...] = ("weekly", "monthly")
SEASON_PERIODS: dict[str, int] = {"daily": 364, "weekly": 52, "monthly": 12}
"""Periods per yearly season at each demand grain (364 days keep weekdays aligned)."""
SMOOTHING: dict[str, int] = {"daily": 7, "weekly": 3, "monthly": 1}
RATIO_BOUNDS = (0.25, 4.0)
OFF_SEASON_SHARE = 0.10


def plan_periods(*, start: dt.date, grain: str, count: int, week_start: int = 0) -> list[dt.date]:
    """Start dates of ``count`` plan periods, the first holding ``start``.

    Parameters
    ----------
    start
        The plan's first day (the first forecast day).
    grain
        ``"monthly"`` (calendar months) or ``"weekly"`` (7-day weeks).
    count
        Number of periods (>= 1).
    week_start
        Weekday a weekly period starts on (0 = Monday ... 6 = Sunday).
    """
    if grain not in PLAN_GRAINS:
        raise ValueError(f"grain must be one of {PLAN_GRAINS}, got {grain!r}")
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if not 0 <= week_start <= 6:
        raise ValueError(f"week_start must be 0 (Monday) to 6 (Sunday), got {week_start}")
    if grain == "monthly":
        first = start.replace(day=1)
        return [(pd.Timestamp(first) + pd.DateOffset(months=k)).date() for k in range(count)]
    first = start - dt.timedelta(days=(start.weekday() - week_start) % 7)
    return [first + dt.timedelta(days=7 * k) for k in range(count)]


def plan_bounds(
    *, start: dt.date, grain: str, count: int, week_start: int = 0
) -> tuple[list[dt.date], np.ndarray, np.ndarray]:
    """(labels, starts, ends) of ``count`` plan periods from ``start`` (module docstring: a short stub joins the
    next period).

    Parameters
    ----------
    start, grain, count, week_start
        As for :func:`plan_periods`.

    Returns
    -------
    tuple
        The periods' nominal start dates (their labels), and datetime64[D] arrays of their actual [start, end):
        the first starts on ``start``.
    """
    periods = plan_periods(start=start, grain=grain, count=count + 1, week_start=week_start)
    ends = period_end(periods, grain)
    left = (ends[0] - np.datetime64(start, "D")).astype(np.int64)
    length = (ends[0] - np.datetime64(periods[0], "D")).astype(np.int64)
    labels = periods[1:] if 2 * left < length else periods[:count]
    starts = np.asarray(labels, dtype="datetime64[D]")
    starts[0] = np.datetime64(start, "D")
    return labels, starts, period_end(labels, grain)


def period_end(starts: list[dt.date] | np.ndarray, grain: str) -> np.ndarray:
    """(k,) datetime64[D] day after each period (a period covers [start, end)).

    Parameters
    ----------
    starts
        Period start dates.
    grain
        ``"daily"``, ``"weekly"`` or ``"monthly"``.
    """
    days = np.asarray(starts, dtype="datetime64[D]")
    if grain == "monthly":
        return (days.astype("datetime64[M]") + 1).astype("datetime64[D]")
    if grain == "weekly":
        return days + 7
    if grain == "daily":
        return days + 1
    raise ValueError(f"grain must be daily, weekly or monthly, got {grain!r}")


def overlap_weights(
    *, source_start: np.ndarray, source_end: np.ndarray, target_start: np.ndarray, target_end: np.ndarray
) -> np.ndarray:
    """(S, T) share of each source period's days that falls inside each target period.

    Parameters
    ----------
    source_start, source_end
        (S,) datetime64[D] bounds of the source periods, [start, end), end > start.
    target_start, target_end
        (T,) datetime64[D] bounds of the target periods.

    Returns
    -------
    ndarray
        overlap_days(s, t) / days(s); a row sums to the share of the source period inside the targets.
    """
    s0 = np.asarray(source_start, dtype="datetime64[D]").astype(np.int64)[:, None]
    s1 = np.asarray(source_end, dtype="datetime64[D]").astype(np.int64)[:, None]
    t0 = np.asarray(target_start, dtype="datetime64[D]").astype(np.int64)[None, :]
    t1 = np.asarray(target_end, dtype="datetime64[D]").astype(np.int64)[None, :]
    if (s1 <= s0).any() or (t1 <= t0).any():
        raise ValueError("every period must end after it starts")
    overlap = np.clip(np.minimum(s1, t1) - np.maximum(s0, t0), 0, None)
    return overlap / (s1 - s0)


def _smooth(profile: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or profile.shape[1] < window:
        return profile
    half = window // 2
    padded = np.concatenate([profile[:, -half:], profile, profile[:, :half]], axis=1)
    kernel = np.ones(window) / window
    return np.apply_along_axis(lambda row: np.convolve(row, kernel, mode="valid"), 1, padded)


def extend_demand(*, forecast: np.ndarray, history: np.ndarray, steps: int, smoothing: int = 1) -> np.ndarray:
    """Demand of the next ``steps`` periods: the forecast, then last season scaled to its level (module docstring).

    Parameters
    ----------
    forecast
        (n, H) forecast per period (after overrides), H >= 0.
    history
        (n, L) the last L = season-length periods of history, oldest first; NaN where the SKU had not started.
    steps
        Periods wanted (>= 0), starting with the first forecast period (the period after the history).
    smoothing
        Centred moving-average window applied to last season's profile (1: none).

    Returns
    -------
    ndarray
        (n, steps) demand per period, >= 0.
    """
    forecast = np.asarray(forecast, dtype=float)
    history = np.asarray(history, dtype=float)
    if forecast.ndim != 2 or history.ndim != 2 or forecast.shape[0] != history.shape[0]:
        raise ValueError("forecast and history must be 2-D arrays with one row per SKU")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if (np.nan_to_num(forecast) < 0).any() or (np.nan_to_num(history) < 0).any():
        raise ValueError("forecast and history must be >= 0")
    n, horizon = forecast.shape
    season = history.shape[1]
    forecast = np.nan_to_num(forecast)
    out = np.zeros((n, steps))
    head = min(horizon, steps)
    out[:, :head] = forecast[:, :head]
    if steps <= horizon:
        return out
    flat = forecast.mean(axis=1) if horizon else np.zeros(n)
    out[:, head:] = flat[:, None]
    if season == 0:
        return out
    complete = ~np.isnan(history).any(axis=1)
    profile = _smooth(np.nan_to_num(history), smoothing)
    annual = profile.sum(axis=1)
    usable = complete & (annual > 0)
    if horizon:
        seen = profile[:, np.arange(horizon) % season].sum(axis=1)
        ratio = np.divide(forecast.sum(axis=1), seen, out=np.ones(n), where=seen > 0)
        ratio = np.where(seen < OFF_SEASON_SHARE * annual, 1.0, np.clip(ratio, *RATIO_BOUNDS))
    else:
        ratio = np.ones(n)
    later = np.arange(head, steps)
    seasonal = ratio[:, None] * profile[:, later % season]
    out[usable, head:] = seasonal[usable]
    return np.maximum(out, 0.0)
