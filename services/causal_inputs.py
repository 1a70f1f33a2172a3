"""Loading the causal data of the forecast (issue 20): promotions, prices and events on the run's period grid.

Rules (the engine sees only their result, :class:`core.forecast.causal.CausalInputs`):

- arrays are (n, T + horizon): column j is period j of the run's grid (:mod:`services.engine_inputs`), the
  horizon's periods after the history hold the plan; dates before the grid or after its horizon are ignored;
- several rows of a SKU in one period (daily rows in a weekly grid) are combined: the mean price, promoted when any
  row is, the first label, the mean of each named causal column (a share of the days for a 0/1 flag);
- promotion labels become codes: 0 no promotion, 1 a promotion without label, 2.. the labels in name order;
- events: one bool array per event name; an event with a location applies to the SKUs of that location only,
  one without (``''``) to every SKU;
- None when there is neither a promotion row nor an event for these SKUs (the engine then runs as before).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from core.forecast.causal import CausalInputs
from db import queries_recompute as q
from db.models import CalendarEvent, Sku

RunContext = Any  # services.engine_inputs.RunContext (not imported: that module loads this one)

Columns = Callable[..., np.ndarray]  # services.engine_inputs.period_index (passed in: that module loads this one)


_PROMOTION_SQL = "SELECT sku_id, period, price, promoted, label, CAST(features AS TEXT) FROM promotion"
_PROMOTION_COLUMNS = ["sku_id", "period", "price", "promoted", "label", "features"]


def _promotion_rows(connection: Connection, sku_ids: np.ndarray) -> pd.DataFrame:
    """Promotion rows of ``sku_ids``; ``features`` as raw JSON text (parsed only where a row has some).

    Read in bulk, as the demand is (``db.queries_recompute``): COPY on PostgreSQL, plain DB-API tuples on SQLite
    (a million ORM rows cost seconds); rows of other SKUs are dropped here.
    """
    if connection.dialect.name == "postgresql":
        buffer = q._copy_out(connection, _PROMOTION_SQL)
        frame = pd.read_csv(
            buffer,
            header=None,
            names=_PROMOTION_COLUMNS,
            dtype={"sku_id": "int64", "period": str, "price": float, "promoted": str, "label": object},
            keep_default_na=False,
            na_values={"price": [""], "label": [""], "features": [""]},
        )
        frame["promoted"] = frame["promoted"].isin(["t", "true", "1"])
    else:
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            rows = cursor.execute(_PROMOTION_SQL).fetchall()
        finally:
            cursor.close()
        frame = pd.DataFrame.from_records(rows, columns=_PROMOTION_COLUMNS)
        frame["promoted"] = frame["promoted"].astype(bool)
    frame["period"] = pd.to_datetime(frame["period"])
    return frame[frame["sku_id"].isin(np.asarray(sku_ids, dtype=np.int64))].reset_index(drop=True)


def _grid(
    frame: pd.DataFrame, sku_ids: np.ndarray, context: RunContext, period_index: Columns
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, keep) of each dated row on the (n, T + horizon) grid."""
    width = context.n_periods + context.horizon
    col = period_index(dates=frame["period"].to_numpy(), grain=context.grain, origin=context.origin)
    row = pd.Series(np.arange(len(sku_ids)), index=sku_ids).reindex(frame["sku_id"].to_numpy()).to_numpy()
    keep = (col >= 0) & (col < width) & ~np.isnan(row)
    return np.nan_to_num(row).astype(np.int64), col, keep


def _features(frame: pd.DataFrame, n: int, width: int) -> dict[str, np.ndarray]:
    """Named causal columns: the mean per SKU and period (rows without a value count 0)."""
    raw = frame["features"]
    has = raw.notna() & ~raw.isin(["null", "{}", ""])
    if not has.any():
        return {}
    parsed = pd.DataFrame.from_records([json.loads(x) for x in raw[has]], index=raw.index[has])
    out: dict[str, np.ndarray] = {}
    for name in parsed.columns:
        values = pd.to_numeric(parsed[name], errors="coerce").reindex(frame.index).fillna(0.0)
        means = values.groupby([frame["row"], frame["col"]]).mean()
        arr = np.zeros((n, width))
        arr[means.index.get_level_values(0), means.index.get_level_values(1)] = means.to_numpy()
        out[str(name)] = arr
    return out


def _promotions(frame: pd.DataFrame, sku_ids: np.ndarray, context: RunContext, period_index: Columns) -> dict[str, Any]:
    n, width = len(sku_ids), context.n_periods + context.horizon
    row, col, keep = _grid(frame, sku_ids, context, period_index)
    frame = frame.assign(row=row, col=col)[keep]
    if frame.empty:
        return {}
    labels = sorted({str(x) for x in frame["label"].dropna()})
    codes = pd.Series(np.arange(2, len(labels) + 2, dtype=float), index=labels)
    promoted = frame["promoted"].astype(bool).to_numpy()
    label_code = frame["label"].map(codes).fillna(1.0).to_numpy(dtype=float)
    frame = frame.assign(code=np.where(promoted, label_code, 0.0), price=pd.to_numeric(frame["price"]))
    first = frame.groupby(["row", "col"], sort=False).agg(price=("price", "mean"), code=("code", "max"))
    r, c = first.index.get_level_values(0).to_numpy(), first.index.get_level_values(1).to_numpy()
    price = np.full((n, width), np.nan)
    price[r, c] = first["price"].to_numpy(dtype=float)
    promotion = np.zeros((n, width))
    promotion[r, c] = first["code"].to_numpy(dtype=float)
    return {
        "price": price if np.isfinite(price).any() else None,
        "promotion": promotion if (promotion > 0).any() else None,
        "features": _features(frame, n, width),
    }


def _events(
    connection: Connection, sku_ids: np.ndarray, context: RunContext, period_index: Columns
) -> dict[str, np.ndarray]:
    rows = connection.execute(select(CalendarEvent.period, CalendarEvent.name, CalendarEvent.location)).all()
    if not rows:
        return {}
    n, width = len(sku_ids), context.n_periods + context.horizon
    frame = pd.DataFrame(rows, columns=["period", "name", "location"])
    frame["col"] = period_index(dates=frame["period"].to_numpy(), grain=context.grain, origin=context.origin)
    frame = frame[(frame["col"] >= 0) & (frame["col"] < width)]
    locations = dict(
        connection.execute(select(Sku.id, Sku.location).where(Sku.id.in_([int(x) for x in sku_ids]))).all()
    )
    loc = np.array([locations.get(int(x), "") for x in sku_ids], dtype=object)
    events: dict[str, np.ndarray] = {}
    for (name, where), part in frame.groupby(["name", "location"]):
        arr = events.setdefault(str(name), np.zeros((n, width), dtype=bool))
        cols = part["col"].to_numpy(dtype=np.int64)
        rows_hit = np.arange(n) if not where else np.flatnonzero(loc == where)
        arr[np.ix_(rows_hit, cols)] = True
    return events


def load_causal(
    *, connection: Connection, sku_ids: np.ndarray, context: RunContext, period_index: Columns
) -> CausalInputs | None:
    """The causal data of ``sku_ids`` on the run's grid (module docstring); None when there is none.

    ``period_index``: :func:`services.engine_inputs.period_index` (the grid's bucketing of dates).
    """
    sku_ids = np.asarray(sku_ids, dtype=np.int64)
    if not len(sku_ids):
        return None
    promo = _promotions(_promotion_rows(connection, sku_ids), sku_ids, context, period_index)
    events = _events(connection, sku_ids, context, period_index)
    causal = CausalInputs(
        price=promo.get("price"),
        promotion=promo.get("promotion"),
        features=promo.get("features", {}),
        events=events,
    )
    return None if causal.is_empty() else causal
