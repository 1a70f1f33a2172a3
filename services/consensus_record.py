"""Writing a run's consensus layers of record (issue 19 item 1): the future forecast cells of the computed SKUs with
their statistical forecast, forecast after overrides and consensus (:mod:`services.consensus_layers` stores them).

Beside :mod:`services.recompute`, which calls :func:`record_run_layers` in the run's transaction and shares
:func:`future_grid` (the SKU and period of every future forecast cell) for its ``forecast`` rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core import formats
from core.engine_types import PortfolioResult
from services import consensus_layers as cl
from services.engine_inputs import PortfolioInputs, period_dates


def future_grid(*, inputs: PortfolioInputs, portfolio: PortfolioResult) -> tuple[np.ndarray, np.ndarray]:
    """(n, H) SKU id and ISO period date of every future forecast cell (SKUs ahead of data through start later)."""
    n = len(inputs)
    mean = np.asarray(portfolio.mean, dtype=float)
    horizon = mean.shape[1] if mean.ndim == 2 else 0
    shift = portfolio.forecast_shift
    sku_f = np.repeat(inputs.sku_ids, horizon).reshape(n, horizon)
    if shift is not None and horizon and np.any(shift > 0):  # SKUs ahead of data through start after their own end
        ctx = inputs.context
        count = horizon + int(shift.max())
        dates = period_dates(origin=ctx.origin, grain=ctx.grain, start=ctx.through_periods, count=count)
        labels = np.array([d.strftime(formats.DATE_FORMAT) for d in dates], dtype=object)
        period_f = labels[np.asarray(shift, dtype=np.int64)[:, None] + np.arange(horizon)[None, :]]
    else:
        future_dates = np.array(
            [d.strftime(formats.DATE_FORMAT) for d in pd.DatetimeIndex(portfolio.forecast_dates)], dtype=object
        )
        period_f = np.tile(future_dates, (n, 1)) if horizon else np.empty((n, 0), dtype=object)
    return sku_f, period_f


def record_run_layers(*, connection: Any, run_id: int, inputs: PortfolioInputs, portfolio: PortfolioResult) -> int:
    """The computed SKUs' consensus layers of record (:func:`services.consensus_layers.record_layers`)."""
    mean = np.asarray(portfolio.mean, dtype=float)
    if mean.ndim != 2 or mean.shape[1] == 0:
        return 0
    if portfolio.layers is None and not cl.has_layers(connection, sku_ids=inputs.sku_ids):
        return 0  # nothing to write and nothing stale to remove
    sku_f, period_f = future_grid(inputs=inputs, portfolio=portfolio)
    n, horizon = mean.shape
    layers = portfolio.layers or {}
    statistical = np.asarray(layers.get("layer_statistical", mean), dtype=float)
    overridden = np.asarray(layers.get("layer_overridden", mean), dtype=float)
    shift = np.zeros(n, dtype=np.int64) if portfolio.forecast_shift is None else portfolio.forecast_shift
    columns = np.asarray(shift, dtype=np.int64)[:, None] + np.arange(horizon)[None, :]  # on the overrides' columns

    def on_horizon(matrix: np.ndarray | None, fill: Any) -> np.ndarray | None:
        if matrix is None:
            return None
        padded = np.concatenate([matrix, np.full((n, horizon), fill, dtype=matrix.dtype)], axis=1)
        return np.take_along_axis(padded, np.minimum(columns, padded.shape[1] - 1), axis=1)

    touched = cl.touched_cells(
        overrides=on_horizon(inputs.overrides, np.nan), statistical=statistical, overridden=overridden, consensus=mean
    )
    ids = on_horizon(inputs.commercial_ids, 0)
    if ids is None:
        ids = np.zeros((n, horizon), dtype=np.int64)
    touched |= ids > 0
    return cl.record_layers(
        connection=connection,
        run_id=run_id,
        sku_ids=sku_f,
        periods=period_f,
        statistical=statistical,
        overridden=overridden,
        consensus=mean,
        touched=touched,
        adjustment_ids=ids,
    )
