"""Write validated rows into the planning tables (through db/ingest.py), counting inserted/updated/unchanged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, insert, select, update

from db import ingest as dbi
from db.models import Demand, DemandPartial, Receipt, Sku, StockPosition, utcnow
from services import master_data

# import field -> sku table column, and the documented default for a new SKU
SKU_COLUMNS: dict[str, str] = {
    "name": "name",
    "category": "category",
    "location": "location",
    "unit_cost": "unit_cost",
    "unit_price": "unit_price",
    "salvage_value": "salvage_value",
    "holding_cost_rate": "holding_cost_rate",
    "order_cost": "order_cost",
    "lead_time_days": "lead_time_mean",
    "lead_time_std_days": "lead_time_std",
    "moq": "moq",
    "order_multiple": "order_multiple",
    "service_level": "service_level_target",
    "supplier": "supplier",
    "one_shot": "one_shot",
    "resource": "resource",
    "capacity_per_unit": "capacity_per_unit",
    "item": "item",
    "min_stock": "min_stock",
}
SKU_DEFAULTS: dict[str, object] = {
    "name": dbi.StagingColumn("code"),
    "category": "Uncategorised",
    "location": "Main",
    "unit_cost": 0.0,
    "unit_price": 0.0,
    "salvage_value": 0.0,
    "holding_cost_rate": 0.25,
    "order_cost": 50.0,
    "lead_time_mean": 14.0,
    "lead_time_std": 0.0,
    "moq": 0.0,
    "order_multiple": 1.0,
    "service_level_target": 0.95,
    "supplier": "Unassigned",
    "one_shot": False,
    "resource": None,
    "capacity_per_unit": 1.0,
    "item": dbi.StagingColumn("code"),  # a new SKU's item is its own code (issue 21)
    "min_stock": None,  # no floor (core.min_stock)
}
_TEXT_COLUMNS = {"code", "name", "category", "location", "supplier", "defaulted_fields", "resource", "item"}
_BOOL_COLUMNS = {"one_shot"}
Progress = Callable[[float, str], None]


_EXISTING = ("id", "code", "location", "supplier", "name", "active", "unit_cost", "defaulted_fields")


def existing_skus(connection: Connection) -> pd.DataFrame:
    """id, code, location, supplier, name, active, unit_cost, defaulted_fields of every SKU."""
    rows = connection.execute(select(*(getattr(Sku, c) for c in _EXISTING))).all()
    return pd.DataFrame(rows, columns=list(_EXISTING))


def _flag(value: object) -> bool | None:
    """A parsed yes/no cell: True / False, None (or NaN) when not given."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return bool(value)


def write_skus(connection: Connection, frame: pd.DataFrame) -> dbi.UpsertCounts:
    """Upsert SKUs: ``frame`` has ``code`` and any of the sku table columns (NaN/None = not given: an existing
    SKU keeps its value, a new one gets the documented default). ``defaulted_fields`` follows
    (:mod:`services.master_data`): a new SKU lists the tracked fields it got by default, a provided field is cleared."""
    if frame.empty:
        return dbi.UpsertCounts()
    columns = ["code", *SKU_DEFAULTS, "defaulted_fields"]
    staged = pd.DataFrame({c: frame[c] if c in frame.columns else None for c in columns})
    staged["defaulted_fields"] = master_data.updated_frame(
        frame=frame.reset_index(drop=True),
        existing=existing_skus(connection)[["code", "unit_cost", "defaulted_fields"]],
    )
    types = {c: "text" if c in _TEXT_COLUMNS else "bool" if c in _BOOL_COLUMNS else "float" for c in columns}
    for column in columns:
        if types[column] == "bool":
            staged[column] = staged[column].astype(object).map(_flag)
        elif types[column] == "float":
            staged[column] = pd.to_numeric(staged[column], errors="coerce").astype(float)
        else:
            staged[column] = staged[column].astype(object).where(staged[column].notna(), None)
    name = dbi.create_staging(connection, name="stage_sku", columns=[(c, types[c]) for c in columns])
    dbi.load_staging(connection, name=name, frame=staged, types=types)
    dbi.lock_for_upsert(connection, table=Sku.__table__)
    now = utcnow()
    counts = dbi.upsert_from_staging(
        connection,
        staging=name,
        target=Sku.__table__,
        keys=["code"],
        values=[*SKU_DEFAULTS, "defaulted_fields"],
        keep_existing_when_null=list(SKU_DEFAULTS),
        insert_defaults=SKU_DEFAULTS,
        insert_extra={"active": True, "created_at": now, "updated_at": now},
        update_extra={"updated_at": now},
    )
    dbi.drop_staging(connection, name=name)
    return counts


def write_demand(
    connection: Connection,
    *,
    sku_id: np.ndarray,
    period: np.ndarray,
    quantity: np.ndarray,
    progress: Progress | None = None,
    status: np.ndarray | None = None,
) -> dbi.UpsertCounts:
    """Upsert demand rows on (sku, period); the arrays are validated and free of duplicate keys. ``status``: the
    rows already compared with the stored ones under this transaction's lock (0 new, 1 changed, 2 unchanged)."""
    if progress:
        progress(0.0, "writing demand")
    counts = dbi.upsert_demand(
        connection, table=Demand.__table__, sku_id=sku_id, period=period, quantity=quantity, status=status
    )
    if progress:
        progress(1.0, "written")
    return counts


def mark_partial(
    connection: Connection,
    *,
    sku_id: np.ndarray,
    period: np.ndarray,
    incomplete: dict[np.datetime64, np.datetime64],
) -> int:
    """Record which of the demand rows just written cover their period only in part (``demand_partial``).

    ``incomplete``: the import's incomplete periods (label -> last day the file covers,
    :class:`services.ingest.coverage.IncompletePeriod`). The marks of the written rows are replaced: a row written
    for a whole period loses an old mark, a row of an incomplete period gets one. Returns the marks written.
    The table holds a few rows per import, so the old marks in the file's period range are read and compared here.
    """
    table = DemandPartial.__table__
    sku_id = np.asarray(sku_id, dtype=np.int64)
    days = np.asarray(period, dtype="datetime64[D]")
    if len(sku_id) == 0:
        return 0
    stored = connection.execute(
        select(table.c.sku_id, table.c.period).where(
            table.c.period >= days.min().astype(dt.date), table.c.period <= days.max().astype(dt.date)
        )
    ).all()
    if stored:
        near = np.isin(sku_id, [int(s) for s, _p in stored])  # the written rows of SKUs that have a mark
        written = set(zip(sku_id[near].tolist(), days[near].astype(dt.date).tolist(), strict=True))
        stale = [(int(s), p) for s, p in stored if (int(s), p) in written]
        for s, p in stale:
            connection.execute(delete(table).where(table.c.sku_id == s, table.c.period == p))
    if not incomplete:
        return 0
    labels = np.array(list(incomplete), dtype="datetime64[D]")
    hit = np.isin(days, labels)
    rows = [
        {"sku_id": int(s), "period": p.astype(dt.date), "covered_to": incomplete[p].astype(dt.date)}
        for s, p in zip(sku_id[hit], days[hit], strict=True)
    ]
    if rows:
        connection.execute(insert(table), rows)
    return len(rows)


def touch_skus(connection: Connection, *, ids: frozenset[int] | set[int]) -> None:
    """Mark SKUs as changed now (``updated_at``): their demand history changed since the latest run."""
    ordered = sorted(ids)
    now = utcnow()
    for start in range(0, len(ordered), 900):  # SQLite allows 999 bound parameters
        connection.execute(update(Sku).where(Sku.id.in_(ordered[start : start + 900])).values(updated_at=now))


def write_stock(connection: Connection, frame: pd.DataFrame) -> dbi.UpsertCounts:
    """Upsert stock positions on (sku, as_of); ``frame``: sku_id, as_of, on_hand, on_order."""
    types = {"sku_id": "bigint", "as_of": "date", "on_hand": "float", "on_order": "float"}
    return _write_simple(connection, frame, types, StockPosition.__table__, ["sku_id", "as_of"], "stage_stock")


def write_receipts(connection: Connection, frame: pd.DataFrame) -> dbi.UpsertCounts:
    """Upsert receipts on (sku, order_date, received_date)."""
    types = {
        "sku_id": "bigint",
        "order_date": "date",
        "received_date": "date",
        "promised_date": "date",
        "quantity": "float",
        "supplier": "text",
    }
    return _write_simple(
        connection, frame, types, Receipt.__table__, ["sku_id", "order_date", "received_date"], "stage_receipt"
    )


def _write_simple(
    connection: Connection, frame: pd.DataFrame, types: dict[str, str], table, keys: list[str], staging: str
) -> dbi.UpsertCounts:
    if frame.empty:
        return dbi.UpsertCounts()
    staged = frame[list(types)].copy()
    for column, kind in types.items():
        if kind == "date":
            staged[column] = pd.to_datetime(staged[column]).astype("datetime64[s]")
    name = dbi.create_staging(connection, name=staging, columns=list(types.items()))
    dbi.load_staging(connection, name=name, frame=staged, types=types)
    dbi.lock_for_upsert(connection, table=table)
    counts = dbi.upsert_from_staging(
        connection, staging=name, target=table, keys=keys, values=[c for c in types if c not in keys]
    )
    dbi.drop_staging(connection, name=name)
    return counts
