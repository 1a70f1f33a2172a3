"""Bulk reads for the supply plan: a window of demand history, each SKU's first demand date, a run's forecasts.

Like the recompute's reads (:mod:`db.queries_recompute`): ``COPY (SELECT ...) TO STDOUT`` on PostgreSQL and the
DB-API cursor on SQLite, dates parsed once per distinct value -- going through SQLAlchemy result rows cost seconds at
10,000 SKUs x a year of weeks.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pandas as pd
from sqlalchemy import Connection

_CONSTRAINED = " JOIN sku s ON s.id = {alias}.sku_id AND s.resource IS NOT NULL"


def _frame(connection: Connection, sql: str, params: dict[str, Any], columns: list[str]) -> pd.DataFrame:
    raw = connection.connection.dbapi_connection
    cursor = raw.cursor()
    try:
        if connection.dialect.name == "postgresql":
            buffer = io.StringIO()
            cursor.copy_expert(f"COPY ({cursor.mogrify(sql, params).decode()}) TO STDOUT WITH (FORMAT csv)", buffer)
            buffer.seek(0)
            return pd.read_csv(buffer, header=None, names=columns, dtype=str)
        rows = cursor.execute(sql.replace("%(", ":").replace(")s", ""), params).fetchall()
    finally:
        cursor.close()
    return pd.DataFrame.from_records(rows, columns=columns)


def _dates(values: pd.Series) -> pd.Series:
    """ISO dates (strings or dates) -> datetime64, each distinct value parsed once."""
    if values.empty:
        return pd.to_datetime(values)
    codes, uniques = pd.factorize(values.astype(str), sort=False)
    parsed = pd.to_datetime(pd.Series(uniques).str.slice(0, 10), format="%Y-%m-%d")
    return pd.Series(parsed.to_numpy()[codes], index=values.index)


def demand_window(
    connection: Connection, *, start: dt.date, end: dt.date, constrained_only: bool = False
) -> pd.DataFrame:
    """Demand rows with start <= period < end: ``sku_id`` (int64), ``period`` (datetime64), ``quantity``."""
    join = _CONSTRAINED.format(alias="d") if constrained_only else ""
    sql = (
        f"SELECT d.sku_id, d.period, d.quantity FROM demand d{join} WHERE d.period >= %(start)s AND d.period < %(end)s"
    )
    frame = _frame(connection, sql, {"start": start.isoformat(), "end": end.isoformat()}, ["sku_id", "period", "q"])
    return pd.DataFrame(
        {
            "sku_id": pd.to_numeric(frame["sku_id"]).astype("int64"),
            "period": _dates(frame["period"]),
            "quantity": pd.to_numeric(frame["q"]).astype(float),
        }
    )


def first_demand(connection: Connection, *, constrained_only: bool = False) -> pd.DataFrame:
    """Each SKU's first demand period: ``sku_id`` (int64), ``first`` (datetime64)."""
    join = _CONSTRAINED.format(alias="d") if constrained_only else ""
    sql = f"SELECT d.sku_id, MIN(d.period) FROM demand d{join} GROUP BY d.sku_id"
    frame = _frame(connection, sql, {}, ["sku_id", "first"])
    return pd.DataFrame({"sku_id": pd.to_numeric(frame["sku_id"]).astype("int64"), "first": _dates(frame["first"])})


def forecast_rows(connection: Connection, *, run_id: int, constrained_only: bool = False) -> pd.DataFrame:
    """A run's future forecast: ``sku_id`` (int64), ``period`` (datetime64), ``mean`` (float)."""
    join = _CONSTRAINED.format(alias="f") if constrained_only else ""
    sql = f"SELECT f.sku_id, f.period, f.mean FROM forecast f{join} WHERE f.run_id = %(run)s AND f.kind = 'future'"
    frame = _frame(connection, sql, {"run": int(run_id)}, ["sku_id", "period", "mean"])
    return pd.DataFrame(
        {
            "sku_id": pd.to_numeric(frame["sku_id"]).astype("int64"),
            "period": _dates(frame["period"]),
            "mean": pd.to_numeric(frame["mean"]).astype(float),
        }
    )
