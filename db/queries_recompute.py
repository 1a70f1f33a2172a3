"""SQL for the portfolio recompute: bulk reads of the engine inputs and bulk writes of a run's results.

Reads of large tables (demand) use ``COPY (SELECT ...) TO STDOUT`` on PostgreSQL and the DB-API cursor on SQLite;
writes use COPY on PostgreSQL (:mod:`db.bulk`, or a streamed COPY for large frames so Python formats rows while the
server inserts the previous ones) and ``executemany`` on SQLite (see FIELD-NOTES for the speeds).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, and_, delete, func, select, text

from db import bulk
from db.models import (
    DemandPartial,
    Forecast,
    ForecastOverride,
    ImportBatch,
    PurchaseOrder,
    Receipt,
    RecomputeRun,
    Sku,
    SkuSnapshot,
    StockPosition,
    Transfer,
)

SKU_COLUMNS: tuple[str, ...] = (
    "id",
    "code",
    "category",
    "unit_cost",
    "unit_price",
    "salvage_value",
    "holding_cost_rate",
    "order_cost",
    "lead_time_mean",
    "lead_time_std",
    "moq",
    "order_multiple",
    "service_level_target",
    "supplier",
    "one_shot",
)
_IN_LIST_MAX = 500  # above this many ids, filter in pandas instead of an IN (...) list
ADVISORY_LOCK_KEY = 4_711_001  # pg_advisory_xact_lock key that serialises the write phase of recomputes


def active_skus(connection: Connection, *, codes: Sequence[str] | None = None) -> pd.DataFrame:
    """Active SKUs (master data columns ``SKU_COLUMNS``) ordered by code; only ``codes`` when given."""
    columns = [getattr(Sku, c) for c in SKU_COLUMNS]
    query = select(*columns).where(Sku.active.is_(True)).order_by(Sku.code)
    if codes is not None:
        query = query.where(Sku.code.in_(list(codes)))
    rows = connection.execute(query).all()
    frame = pd.DataFrame(rows, columns=list(SKU_COLUMNS))
    return frame.astype({"id": "int64"}) if not frame.empty else frame


def _copy_out(connection: Connection, sql: str, params: dict[str, Any] | None = None) -> io.StringIO:
    raw = connection.connection.dbapi_connection
    cursor = raw.cursor()
    bound = cursor.mogrify(sql, params or {}).decode() if params else sql
    buffer = io.StringIO()
    cursor.copy_expert(f"COPY ({bound}) TO STDOUT WITH (FORMAT csv)", buffer)
    buffer.seek(0)
    return buffer


def partial_rows(connection: Connection) -> pd.DataFrame:
    """The demand rows marked as covering their period only in part (``demand_partial``, issue 15): columns
    ``sku_id`` (int64) and ``period`` (datetime64). The table holds a few rows per import at most."""
    table = DemandPartial.__table__
    rows = connection.execute(select(table.c.sku_id, table.c.period)).all()
    frame = pd.DataFrame.from_records(rows, columns=["sku_id", "period"]).astype({"sku_id": "int64"})
    frame["period"] = pd.to_datetime(frame["period"])
    return frame


def demand_rows(connection: Connection, *, sku_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """Demand rows of active SKUs as columns ``sku_id`` (int64), ``period`` (datetime64), ``quantity`` (float64).

    ``sku_ids``: restrict to these SKUs (None: every active SKU).
    """
    ids = None if sku_ids is None else [int(i) for i in sku_ids]
    where = "s.active"
    if ids is not None and len(ids) <= _IN_LIST_MAX:
        if not ids:
            return pd.DataFrame({"sku_id": [], "period": pd.to_datetime([]), "quantity": []}).astype(
                {"sku_id": "int64", "quantity": "float64"}
            )
        where += " AND d.sku_id IN (" + ", ".join(str(i) for i in ids) + ")"  # ints only: no injection
    sql = f"SELECT d.sku_id, d.period, d.quantity FROM demand d JOIN sku s ON s.id = d.sku_id WHERE {where}"
    if connection.dialect.name == "postgresql":
        buffer = _copy_out(connection, sql.replace("s.active", "s.active IS TRUE", 1))
        frame = pd.read_csv(
            buffer,
            header=None,
            names=["sku_id", "period", "quantity"],
            dtype={"sku_id": "int64", "period": str, "quantity": float},
        )
    else:
        cursor = connection.connection.dbapi_connection.cursor()  # plain tuples: 3x faster than Result rows
        try:
            rows = cursor.execute(sql.replace("s.active", "s.active = 1", 1)).fetchall()
        finally:
            cursor.close()
        frame = pd.DataFrame.from_records(rows, columns=["sku_id", "period", "quantity"], coerce_float=True)
        frame = frame.astype({"sku_id": "int64", "quantity": "float64"})
    frame["period"] = _parse_dates(frame["period"])
    if ids is not None and len(ids) > _IN_LIST_MAX:
        frame = frame[frame["sku_id"].isin(ids)]
    return frame.reset_index(drop=True)


def _parse_dates(values: pd.Series) -> pd.Series:
    """ISO date strings -> datetime64, parsing each distinct date once (a history has few distinct periods)."""
    if values.empty:
        return pd.to_datetime(values)
    codes, uniques = pd.factorize(values.astype(str), sort=False)
    parsed = pd.to_datetime(pd.Index(uniques).str.slice(0, 10), format="%Y-%m-%d").to_numpy()
    return pd.Series(parsed[codes], index=values.index)


def latest_stock(connection: Connection) -> pd.DataFrame:
    """The latest stock position per SKU (largest ``as_of``): columns sku_id, as_of, on_hand, on_order."""
    latest = (
        select(StockPosition.sku_id, func.max(StockPosition.as_of).label("as_of"))
        .group_by(StockPosition.sku_id)
        .subquery()
    )
    query = select(StockPosition.sku_id, StockPosition.as_of, StockPosition.on_hand, StockPosition.on_order).join(
        latest, and_(latest.c.sku_id == StockPosition.sku_id, latest.c.as_of == StockPosition.as_of)
    )
    return pd.DataFrame(connection.execute(query).all(), columns=["sku_id", "as_of", "on_hand", "on_order"])


def approved_on_order(connection: Connection) -> pd.Series:
    """Quantity of approved, not yet received purchase orders per SKU (index sku_id)."""
    query = (
        select(PurchaseOrder.sku_id, func.sum(PurchaseOrder.qty))
        .where(PurchaseOrder.status == "approved")
        .group_by(PurchaseOrder.sku_id)
    )
    rows = connection.execute(query).all()
    return pd.Series({int(k): float(v or 0.0) for k, v in rows}, dtype=float, name="approved_qty")


def approved_transfers(connection: Connection) -> tuple[pd.Series, pd.Series]:
    """Quantity of approved, not yet received transfers per SKU: (arriving at the receiver, leaving the giver), each
    indexed by sku_id (issue 21)."""
    approved = Transfer.status == "approved"
    arriving = connection.execute(
        select(Transfer.to_sku_id, func.sum(Transfer.qty)).where(approved).group_by(Transfer.to_sku_id)
    ).all()
    leaving = connection.execute(
        select(Transfer.from_sku_id, func.sum(Transfer.qty)).where(approved).group_by(Transfer.from_sku_id)
    ).all()
    return (
        pd.Series({int(k): float(v or 0.0) for k, v in arriving}, dtype=float, name="arriving"),
        pd.Series({int(k): float(v or 0.0) for k, v in leaving}, dtype=float, name="leaving"),
    )


def receipts(connection: Connection) -> pd.DataFrame:
    """Every receipt: columns sku (sku_id), supplier, order_date, promised_date, received_date."""
    query = select(Receipt.sku_id, Receipt.supplier, Receipt.order_date, Receipt.promised_date, Receipt.received_date)
    return pd.DataFrame(
        connection.execute(query).all(), columns=["sku", "supplier", "order_date", "promised_date", "received_date"]
    )


def overrides(connection: Connection, *, since: Any) -> pd.DataFrame:
    """Forecast overrides dated on or after ``since``: columns sku_id, period, qty, created_at, id."""
    query = select(
        ForecastOverride.sku_id,
        ForecastOverride.period,
        ForecastOverride.qty,
        ForecastOverride.created_at,
        ForecastOverride.id,
    ).where(ForecastOverride.period >= since)
    return pd.DataFrame(connection.execute(query).all(), columns=["sku_id", "period", "qty", "created_at", "id"])


def edited_since_run(connection: Connection, *, run_id: int, exclude: Sequence[str] = ()) -> list[str]:
    """Codes of the active SKUs whose master row was edited (``sku.updated_at``) after run ``run_id`` started,
    ordered by code, without ``exclude``.

    A partial run must recompute them rather than carry their rows forward: those rows were computed from the master
    as it was before the edit (Data page edits, including demand edits, which touch ``updated_at`` too)."""
    started = select(RecomputeRun.started_at).where(RecomputeRun.id == run_id).scalar_subquery()
    query = select(Sku.code).where(Sku.active.is_(True), Sku.updated_at > started).order_by(Sku.code)
    skip = set(exclude)
    return [code for code in connection.execute(query).scalars() if code not in skip]


def latest_import_grain(connection: Connection) -> str | None:
    """The grain recorded by the latest demand import, if any (a fallback when the dates cannot tell)."""
    return connection.execute(
        select(ImportBatch.grain).where(ImportBatch.grain.is_not(None)).order_by(ImportBatch.id.desc()).limit(1)
    ).scalar()


# --- writes -------------------------------------------------------------------------------------------------------


def json_safe(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers and NaN / inf as None (valid JSON for both engines)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def insert_frame(connection: Connection, table: Table, frame: pd.DataFrame, *, json_columns: Sequence[str] = ()) -> int:
    """Bulk-insert ``frame`` (columns = table columns; NaN/None -> NULL; datetime columns -> dates).

    PostgreSQL: COPY through :func:`db.bulk.copy_frame` (JSON columns serialised with NaN -> null).
    SQLite: one DB-API ``executemany`` with plain Python values (about 3x faster than Core inserts of dicts).
    """
    if frame.empty:
        return 0
    frame = frame.copy()
    for column in json_columns:
        frame[column] = [json.dumps(json_safe(v)) if v is not None else None for v in frame[column]]
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].dt.strftime("%Y-%m-%d")
    if connection.dialect.name == "postgresql":
        if len(frame) <= STREAM_CHUNK_ROWS:
            return bulk.copy_frame(connection, table, frame)
        return _copy_streamed(connection, table, frame)
    values = frame.astype(object).where(frame.notna(), None)
    rows = list(values.itertuples(index=False, name=None))
    column_list = ", ".join(f'"{c}"' for c in frame.columns)
    marks = ", ".join("?" for _ in frame.columns)
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({column_list}) VALUES ({marks})', rows)
    return len(rows)


STREAM_CHUNK_ROWS = 25_000


class _CsvStream(io.TextIOBase):
    """A file-like CSV of ``frame`` made chunk by chunk as COPY reads it: Python formats the next rows while the
    server parses and indexes the previous ones (two processes, two cores), instead of one after the other."""

    def __init__(self, frame: pd.DataFrame, chunk_rows: int) -> None:
        self._frame, self._chunk, self._pos, self._buffer = frame, chunk_rows, 0, ""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        want = size if size is not None and size >= 0 else None
        while (want is None or len(self._buffer) < want) and self._pos < len(self._frame):
            part = self._frame.iloc[self._pos : self._pos + self._chunk]
            self._buffer += part.to_csv(index=False, header=False, na_rep=r"\N", lineterminator="\n")
            self._pos += self._chunk
        if want is None:
            out, self._buffer = self._buffer, ""
        else:
            out, self._buffer = self._buffer[:want], self._buffer[want:]
        return out


def _copy_streamed(connection: Connection, table: Table, frame: pd.DataFrame) -> int:
    """COPY ``frame`` into ``table`` from a :class:`_CsvStream` (same CSV as :func:`db.bulk.copy_frame`)."""
    column_list = ", ".join(f'"{c}"' for c in frame.columns)
    cursor = connection.connection.dbapi_connection.cursor()
    cursor.copy_expert(
        f"COPY \"{table.name}\" ({column_list}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
        _CsvStream(frame, STREAM_CHUNK_ROWS),
        size=1 << 20,
    )
    return len(frame)


def lock_writes(connection: Connection) -> None:
    """Serialise concurrent recompute writes (PostgreSQL advisory transaction lock; SQLite writers serialise anyway).

    On PostgreSQL the transaction also commits without waiting for its WAL flush (``synchronous_commit = off``, this
    transaction only): a run is derived data, and a crash right after the commit at worst loses that whole run
    (atomically), never corrupts anything; the previous run stays the latest.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        connection.execute(text("SET LOCAL synchronous_commit TO OFF"))


def prune_runs(connection: Connection, *, keep: int) -> list[int]:
    """Delete runs older than the ``keep`` newest finished runs, with their snapshots and forecasts.

    Runs of any status with an id below the oldest kept finished run go; newer failed / running runs stay.
    Returns the deleted run ids.
    """
    if keep < 1:
        raise ValueError(f"keep must be >= 1, got {keep}")
    kept = connection.execute(
        select(RecomputeRun.id).where(RecomputeRun.status == "finished").order_by(RecomputeRun.id.desc()).limit(keep)
    ).scalars()
    kept_ids = list(kept)
    if len(kept_ids) < keep:
        return []
    cutoff = min(kept_ids)
    old = list(connection.execute(select(RecomputeRun.id).where(RecomputeRun.id < cutoff)).scalars())
    if not old:
        return []
    connection.execute(delete(Forecast).where(Forecast.run_id.in_(old)))
    connection.execute(delete(SkuSnapshot).where(SkuSnapshot.run_id.in_(old)))
    connection.execute(delete(RecomputeRun).where(RecomputeRun.id.in_(old)))
    return old


def latest_run_id(connection: Connection, *, status: str = "finished") -> int | None:
    """Id of the newest run with ``status``."""
    return connection.execute(
        select(RecomputeRun.id).where(RecomputeRun.status == status).order_by(RecomputeRun.id.desc()).limit(1)
    ).scalar()


def stale_running_runs(connection: Connection, *, started_before: Any) -> list[int]:
    """Ids of runs still marked running that started before ``started_before`` (their process died)."""
    return list(
        connection.execute(
            select(RecomputeRun.id).where(RecomputeRun.status == "running", RecomputeRun.started_at < started_before)
        ).scalars()
    )


def snapshot_frame(connection: Connection, *, run_id: int) -> pd.DataFrame:
    """Every snapshot column of a run, with the SKU code, name, category, location, supplier and defaulted_fields
    (master data still at its defaults, NULL when complete), ordered by code."""
    skip = {"id", "run_id"}
    columns = [c for c in SkuSnapshot.__table__.columns if c.name not in skip]
    query = (
        select(Sku.code, Sku.name, Sku.category, Sku.location, Sku.supplier, Sku.defaulted_fields, *columns)
        .join(Sku, Sku.id == SkuSnapshot.sku_id)
        .where(SkuSnapshot.run_id == run_id)
        .order_by(Sku.code)
    )
    result = connection.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def forecast_frame(connection: Connection, *, run_id: int, kind: str | None = None) -> pd.DataFrame:
    """Forecast rows of a run with the SKU code (ordered by code, kind, period); ``uplift``: units planned
    promotions add (issue 20; empty without a plan)."""
    query = (
        select(
            Sku.code,
            Forecast.kind,
            Forecast.period,
            Forecast.mean,
            Forecast.p10,
            Forecast.p50,
            Forecast.p90,
            Forecast.uplift,
        )
        .join(Sku, Sku.id == Forecast.sku_id)
        .where(Forecast.run_id == run_id)
        .order_by(Sku.code, Forecast.kind, Forecast.period)
    )
    if kind is not None:
        query = query.where(Forecast.kind == kind)
    result = connection.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))
