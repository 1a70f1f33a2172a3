"""The Data page's tables: rows for the grids, add / edit / delete with the importer's validation, CSV exports.

Exports are in the import formats (docs/csv-formats.md), so an exported file imports back to the same data, and
their text cells are spreadsheet-safe (services.csv_safety).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core import formats
from db.models import AuditLog, Demand, ImportBatch, Receipt, Sku, StockPosition, utcnow
from services import audit, master_data
from services.csv_safety import safe_frame
from services.errors import UserFacingError
from services.ingest import columns as cols
from services.ingest import validate as v
from services.ingest.events import event_frame
from services.ingest.lanes import lane_frame
from services.ingest.promotions import promotion_frame
from services.ingest.resources import UNKNOWN_RESOURCE, capacity_frame, known_resources
from services.ingest.write import SKU_COLUMNS
from services.xlsx_export import write_workbook

EXPORT_TABLES = (
    "skus",
    "demand",
    "stock",
    "receipts",
    "resources",
    "lanes",
    "promotions",
    "events",
    "imports",
    "audit",
)
SKU_FIELDS = [f.name for f in cols.SKU_MASTER]  # sku, name, ..., supplier (import names)
_TABLE_COLUMN = {"sku": "code", **SKU_COLUMNS}


class RecordError(UserFacingError):
    """A record that breaks the import rules (the message names the column and the reason)."""


# --- validation (the importer's rules, one record at a time) --------------------------------------------------------


def validate_record(*, kind: str, values: dict[str, Any], partial: bool = False) -> dict[str, Any]:
    """Check one record against the ``kind``'s import rules; returns parsed values (None = not given).

    Raises :class:`RecordError` naming every bad column. With ``partial`` only the given fields are checked
    (an edit); otherwise required fields must be present.
    """
    if kind not in cols.FIELDS:
        raise ValueError(f"kind must be one of {', '.join(cols.FIELDS)}, not {kind!r}")
    problems: list[str] = []
    parsed: dict[str, Any] = {}
    for spec in cols.FIELDS[kind]:
        if spec.name not in values:
            if spec.required and not partial:
                problems.append(f"{spec.name}: {v.MISSING}")
            continue
        raw = values[spec.name]
        text = "" if raw is None or (isinstance(raw, float) and np.isnan(raw)) else str(raw)
        checked = v.check(pd.Series([text], dtype=object), spec)
        if checked.reasons is not None and checked.reasons[0] is not None:
            problems.append(f"{spec.name}: {checked.reasons[0]} ('{v.display_value(text, 40)}')")
            continue
        value = checked.values[0]
        if spec.type == "date":
            parsed[spec.name] = None if np.isnat(value) else value.astype("datetime64[D]").astype(dt.date)
        elif spec.type == "number":
            parsed[spec.name] = None if np.isnan(value) else float(value)
        else:
            parsed[spec.name] = value
    today = dt.date.today()
    for name in ("date", "as_of"):
        if parsed.get(name) and parsed[name] > today + dt.timedelta(days=1 if name == "as_of" else 0):
            problems.append(f"{name}: {v.FUTURE_DATE} ({parsed[name]})")
    if problems:
        raise RecordError("; ".join(problems))
    return parsed


def _sku_by_code(session: Session, code: str) -> Sku:
    sku = session.scalar(select(Sku).where(Sku.code == code))
    if sku is None:
        raise RecordError(f"sku: {v.UNKNOWN_SKU} ('{code}')")
    return sku


# --- rows for the grids ---------------------------------------------------------------------------------------------


def sku_rows(*, session: Session) -> list[dict[str, Any]]:
    """Every SKU with its master data under the import column names (plus id, active and ``incomplete_master_data``:
    the fields still at their defaults, e.g. "unit cost, supplier"; empty when complete)."""
    rows = session.execute(select(Sku).order_by(Sku.code)).scalars().all()
    return [
        {
            "id": s.id,
            **{field: getattr(s, _TABLE_COLUMN[field]) for field in SKU_FIELDS},
            "item": s.item or s.code,  # NULL (a SKU made before issue 21) reads as its own code
            "active": s.active,
            "incomplete_master_data": master_data.describe(master_data.parse(s.defaulted_fields)),
        }
        for s in rows
    ]


def stock_rows(*, session: Session) -> list[dict[str, Any]]:
    query = (
        select(StockPosition.id, Sku.code, StockPosition.as_of, StockPosition.on_hand, StockPosition.on_order)
        .join(Sku, Sku.id == StockPosition.sku_id)
        .order_by(Sku.code, StockPosition.as_of.desc())
    )
    return [
        {"id": i, "sku": c, "as_of": a.isoformat(), "on_hand": h, "on_order": o}
        for i, c, a, h, o in session.execute(query)
    ]


def demand_rows(*, session: Session, sku: str, limit: int = 156) -> list[dict[str, Any]]:
    """The most recent ``limit`` demand periods of one SKU, newest first."""
    query = (
        select(Demand.period, Demand.quantity)
        .join(Sku, Sku.id == Demand.sku_id)
        .where(Sku.code == sku)
        .order_by(Demand.period.desc())
        .limit(limit)
    )
    # a row is keyed by (sku, date); the grid shows one SKU, so the date alone identifies its rows
    return [{"id": p.isoformat(), "sku": sku, "date": p.isoformat(), "quantity": q} for p, q in session.execute(query)]


def sku_codes(*, session: Session, search: str | None = None, limit: int = 50) -> list[str]:
    """SKU codes in order, those containing ``search`` (case-insensitive) when given."""
    query = select(Sku.code).order_by(Sku.code).limit(limit)
    if search:
        escaped = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Sku.code.ilike(f"%{escaped}%", escape="\\"))
    return list(session.scalars(query))


def import_rows(*, session: Session, limit: int = 500) -> list[dict[str, Any]]:
    batches = session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit)).all()
    return [
        {
            "id": b.id,
            "created_at": formats.fmt_datetime(b.created_at),
            "file_name": b.file_name,
            "kind": b.kind,
            "status": b.status,
            "grain": b.grain,
            "rows_accepted": b.rows_accepted,
            "rows_rejected": b.rows_rejected,
            "rows_inserted": b.rows_inserted,
            "rows_updated": b.rows_updated,
            "rows_unchanged": b.rows_unchanged,
            "errors": len(b.errors or []),
            "user_email": b.user_email,
        }
        for b in batches
    ]


def counts(*, session: Session) -> dict[str, int]:
    """Row counts of the planning tables shown on the Data page."""
    return {
        "skus": session.scalar(select(func.count()).select_from(Sku)) or 0,
        "demand": session.scalar(select(func.count()).select_from(Demand)) or 0,
        "stock": session.scalar(select(func.count()).select_from(StockPosition)) or 0,
        "receipts": session.scalar(select(func.count()).select_from(Receipt)) or 0,
        "imports": session.scalar(select(func.count()).select_from(ImportBatch)) or 0,
    }


# --- add / edit / delete --------------------------------------------------------------------------------------------


def save_sku(*, session: Session, values: dict[str, Any], user: str | None, sku_id: int | None = None) -> Sku:
    """Add a SKU (``sku_id`` None) or edit one; the code of an existing SKU cannot change."""
    given = {k: val for k, val in values.items() if k in SKU_FIELDS}
    if sku_id is None:
        parsed = validate_record(kind="skus", values=given)
        code = parsed["sku"]
        if session.scalar(select(Sku.id).where(Sku.code == code)) is not None:
            raise RecordError(f"sku: '{code}' already exists")
        sku = Sku(code=code, name=parsed.get("name") or code)
        session.add(sku)
        action = "data.add"
    else:
        sku = session.get(Sku, sku_id)
        if sku is None:
            raise RecordError(f"no SKU with id {sku_id}")
        if "sku" in given and str(given["sku"]).strip() != sku.code:
            raise RecordError("sku: the code of an existing SKU cannot be changed (add a new SKU instead)")
        given.pop("sku", None)
        parsed = validate_record(kind="skus", values=given, partial=True)
        action = "data.edit"
    if parsed.get("resource") is not None and parsed["resource"] not in known_resources(session):
        raise RecordError(f"resource: {UNKNOWN_RESOURCE} ('{parsed['resource']}'; import the resources file first)")
    defaults = {"category": "Uncategorised", "location": "Main", "supplier": "Unassigned"}
    for field, value in parsed.items():
        if field == "sku":
            continue
        column = _TABLE_COLUMN[field]
        if value is None:
            if field in defaults and sku_id is None:
                value = defaults[field]
            elif field == "name":
                value = sku.code
            elif field != "resource":  # a blank resource clears it: the SKU becomes unconstrained
                continue
        setattr(sku, column, value)
    sku.item = sku.item or sku.code  # a new SKU stocks its own item unless one is given
    sku.defaulted_fields = master_data.updated(
        current=sku.defaulted_fields, provided=parsed, is_new=sku_id is None, unit_cost=sku.unit_cost
    )
    session.flush()
    audit.record(session=session, action=action, user_email=user, target=f"sku:{sku.code}", details=_plain(parsed))
    return sku


def save_stock(*, session: Session, values: dict[str, Any], user: str | None, row_id: int | None = None) -> None:
    """Add or edit a stock position (sku, as_of, on_hand, on_order); one position per SKU and date."""
    if row_id is None:
        parsed = validate_record(kind="stock", values=values)
        sku = _sku_by_code(session, parsed["sku"])
        as_of = parsed.get("as_of") or dt.date.today()
        clash = session.scalar(
            select(StockPosition.id).where(StockPosition.sku_id == sku.id, StockPosition.as_of == as_of)
        )
        if clash is not None:
            raise RecordError(f"as_of: {sku.code} already has a stock position on {as_of} (edit it instead)")
        row = StockPosition(sku_id=sku.id, as_of=as_of, on_hand=parsed["on_hand"], on_order=parsed.get("on_order") or 0)
        session.add(row)
        action = "data.add"
    else:
        row = session.get(StockPosition, row_id)
        if row is None:
            raise RecordError(f"no stock position with id {row_id}")
        parsed = validate_record(
            kind="stock", values={k: val for k, val in values.items() if k in ("on_hand", "on_order")}, partial=True
        )
        for field in ("on_hand", "on_order"):
            if parsed.get(field) is not None:
                setattr(row, field, parsed[field])
        action = "data.edit"
    session.flush()
    audit.record(session=session, action=action, user_email=user, target=f"stock:{row.id}", details=_plain(parsed))


def _demand_row(session: Session, key: tuple[str, str]) -> Demand:
    code, period = key
    sku = _sku_by_code(session, code)
    try:
        day = dt.date.fromisoformat(str(period))
    except ValueError as exc:
        raise RecordError(f"date: {period!r} is not a date (YYYY-MM-DD)") from exc
    row = session.get(Demand, (sku.id, day))
    if row is None:
        raise RecordError(f"no demand for {code} on {day.isoformat()}")
    return row


def save_demand(
    *, session: Session, values: dict[str, Any], user: str | None, key: tuple[str, str] | None = None
) -> None:
    """Add one demand period (values: sku, date, quantity) or, with ``key`` = (sku code, date), edit its quantity."""
    if key is None:
        parsed = validate_record(kind="demand", values={k: val for k, val in values.items() if k != "location"})
        sku = _sku_by_code(session, parsed["sku"])
        if session.get(Demand, (sku.id, parsed["date"])) is not None:
            raise RecordError(f"date: {sku.code} already has demand on {parsed['date']} (edit it instead)")
        row = Demand(sku_id=sku.id, period=parsed["date"], quantity=parsed["quantity"])
        session.add(row)
        action = "data.add"
    else:
        row = _demand_row(session, key)
        parsed = validate_record(kind="demand", values={"quantity": values.get("quantity")}, partial=True)
        if parsed.get("quantity") is None:
            raise RecordError(f"quantity: {v.MISSING}")
        row.quantity = parsed["quantity"]
        action = "data.edit"
    # the SKU's data changed: a partial recompute must not carry its old row forward (services.recompute)
    session.get(Sku, row.sku_id).updated_at = utcnow()
    session.flush()
    target = f"demand:{row.sku_id}:{row.period.isoformat()}"
    audit.record(session=session, action=action, user_email=user, target=target, details=_plain(parsed))


def delete_demand(*, session: Session, keys: list[tuple[str, str]], user: str | None) -> int:
    """Delete demand periods given as (sku code, date) keys; returns the count."""
    rows = [_demand_row(session, (code, period)) for code, period in dict.fromkeys(keys)]
    now = utcnow()
    for row in rows:
        session.get(Sku, row.sku_id).updated_at = now  # see save_demand
        session.delete(row)
    session.flush()
    audit.record(
        session=session,
        action="data.delete",
        user_email=user,
        target="demand",
        details={"keys": [f"{code}:{period}" for code, period in keys[:500]], "count": len(rows)},
    )
    return len(rows)


_DELETABLE = {"skus": Sku, "stock": StockPosition}


def delete_rows(*, session: Session, table: str, ids: list[int], user: str | None) -> int:
    """Delete rows by id (deleting a SKU deletes its demand, stock and receipts too); returns the count."""
    if table not in _DELETABLE:
        raise ValueError(f"table must be one of {', '.join(_DELETABLE)}, not {table!r}")
    model = _DELETABLE[table]
    clean = sorted({int(i) for i in ids})
    if not clean:
        return 0
    removed = session.execute(delete(model).where(model.id.in_(clean))).rowcount or 0
    audit.record(
        session=session,
        action="data.delete",
        user_email=user,
        target=f"{table}",
        details={"ids": clean[:500], "count": removed},
    )
    return removed


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (val.isoformat() if isinstance(val, dt.date) else val) for k, val in values.items()}


# --- exports --------------------------------------------------------------------------------------------------------

_CHUNK = 200_000


def _export_frames(session: Session, table: str) -> Iterator[pd.DataFrame]:
    if table == "skus":
        rows = sku_rows(session=session)
        frame = pd.DataFrame(rows, columns=["id", *SKU_FIELDS, "active", "incomplete_master_data"])
        # a field still at its default is exported blank (re-imported, blank keeps the stored value or the default)
        # so the export never passes a placeholder such as a $0 unit cost off as a provided value
        for name in master_data.TRACKED:
            label = master_data.LABELS[name]
            defaulted = frame["incomplete_master_data"].str.split(", ").map(lambda parts, lab=label: lab in parts)
            frame[name] = frame[name].astype(object).where(~defaulted.astype(bool), None)
        yield frame[[*SKU_FIELDS, "incomplete_master_data"]]
    elif table == "demand":
        query = (
            select(Demand.period, Sku.code, Demand.quantity)
            .join(Sku, Sku.id == Demand.sku_id)
            .order_by(Sku.code, Demand.period)
            .execution_options(yield_per=_CHUNK)
        )
        empty = True
        for part in session.execute(query).partitions():
            empty = False
            yield pd.DataFrame(part, columns=["date", "sku", "quantity"]).assign(
                date=lambda f: pd.to_datetime(f["date"]).dt.strftime(formats.DATE_FORMAT)
            )
        if empty:
            yield pd.DataFrame(columns=["date", "sku", "quantity"])
    elif table == "stock":
        frame = pd.DataFrame(stock_rows(session=session), columns=["id", "sku", "as_of", "on_hand", "on_order"])
        yield frame[["sku", "on_hand", "on_order", "as_of"]]
    elif table == "receipts":
        query = (
            select(
                Sku.code,
                Receipt.order_date,
                Receipt.promised_date,
                Receipt.received_date,
                Receipt.quantity,
                Receipt.supplier,
            )
            .join(Sku, Sku.id == Receipt.sku_id)
            .order_by(Sku.code, Receipt.order_date)
        )
        yield pd.DataFrame(
            session.execute(query).all(),
            columns=["sku", "order_date", "promised_date", "received_date", "quantity", "supplier"],
        )
    elif table == "resources":
        yield capacity_frame(session)
    elif table == "lanes":
        yield lane_frame(session)
    elif table == "promotions":
        yield promotion_frame(session)
    elif table == "events":
        yield event_frame(session)
    elif table == "imports":
        yield pd.DataFrame(import_rows(session=session, limit=1_000_000))
    elif table == "audit":
        entries = session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
        yield pd.DataFrame(
            [
                {
                    "id": e.id,
                    "created_at": formats.fmt_datetime(e.created_at, seconds=True),
                    "user_email": e.user_email,
                    "action": e.action,
                    "target": e.target,
                    "outcome": e.outcome,
                    "details": None if e.details is None else json.dumps(e.details, default=str, ensure_ascii=False),
                    "address": e.address,
                }
                for e in entries
            ],
            columns=["id", "created_at", "user_email", "action", "target", "outcome", "details", "address"],
        )
    else:
        raise ValueError(f"table must be one of {', '.join(EXPORT_TABLES)}, not {table!r}")


def export_table(*, session: Session, table: str, target: str | Path | io.TextIOBase) -> int:
    """Write ``table`` as spreadsheet-safe UTF-8 CSV to a path or text stream; returns the number of rows."""
    if table not in EXPORT_TABLES:
        raise ValueError(f"table must be one of {', '.join(EXPORT_TABLES)}, not {table!r}")
    if isinstance(target, str | Path):
        with Path(target).open("w", encoding="utf-8", newline="") as handle:
            return _write_export(session, table, handle)
    return _write_export(session, table, target)


def _write_export(session: Session, table: str, handle: io.TextIOBase) -> int:
    total = 0
    for i, frame in enumerate(_export_frames(session, table)):
        safe_frame(frame).to_csv(handle, index=False, header=i == 0, lineterminator="\n")
        total += len(frame)
    return total


def export_workbook(*, session: Session, table: str, target: str | Path | BinaryIO) -> int:
    """Write ``table`` as an Excel workbook (one sheet named after the table; :mod:`services.xlsx_export`) to a path
    or binary stream; returns the number of rows."""
    if table not in EXPORT_TABLES:
        raise ValueError(f"table must be one of {', '.join(EXPORT_TABLES)}, not {table!r}")
    frames = list(_export_frames(session, table))
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    write_workbook([(table, frame)], target)
    return len(frame)


def export_text(*, session: Session, table: str) -> str:
    """The CSV export of ``table`` as a string (for a download button)."""
    buffer = io.StringIO()
    export_table(session=session, table=table, target=buffer)
    return buffer.getvalue()
