"""Import of promotions and prices (kind ``promotions``): the causal data of the forecast (issue 20).

A promotions file has one row per SKU and period: ``date, sku`` (or ``product_name``), ``price`` (the selling price
that period, optional), ``promotion`` (0/1, yes/no, or a label such as ``feature`` or ``"2 for 1"``; blank = none)
and any further columns, each a named numeric causal feature (``feature``, ``display``, ``tpr_only`` ...). Rows after
the last demand period are the plan (planned prices and promotions); a file of only future rows is accepted. Rules,
on top of the cell rules every file follows (docs/csv-formats.md):

- the SKU must exist (by code, else by a product name that names exactly one SKU): else a row error;
- the date must fall inside the demand history plus the forecast horizon (from the first demand period to the last
  one plus ``horizon`` periods of the data's grain; without demand: any accepted date): else a row error;
- the price must not be negative; a further column must be numeric (a flag of 0/1 or a number): else row errors;
- one row per SKU and date in the file (duplicate key: row error); a stored row with the same key is replaced.

Nothing here imports the import pipeline: :mod:`services.ingest.pipeline` calls :func:`prepare_promotions`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.calendar import GRAIN_DAYS
from core.engine_types import EngineSettings
from db import queries_recompute as q
from db.models import Demand, Promotion, Sku
from services.engine_inputs import detect_grain
from services.ingest import columns as cols
from services.ingest import validate as v
from services.ingest.keys import _duplicates, _report_duplicates
from services.ingest.parse import parse_long
from services.ingest.plan import ImportOptions, Plan, Progress
from services.ingest.prepare_stock import long_format
from services.ingest.report import ErrorLog, FileRejectedError
from services.ingest.sniff import Sniffed
from services.promotions import FALSE_LABELS, TRUE_LABELS

OUTSIDE = "date outside the demand history and the forecast horizon"
MAX_FEATURES = 20

FIELDS = cols.PROMOTIONS
EXPORT_COLUMNS = ["date", "sku", "price", "promotion"]


def feature_fields(ignored: list[str]) -> tuple[v.Field, ...]:
    """One numeric field per further column (its normalised header is the feature's name)."""
    names = [cols.normalise_header(h) for h in ignored][:MAX_FEATURES]
    return tuple(
        v.Field(name, "number", blank="null", minimum=None, aliases=(name,), help="a named causal feature")
        for name in names
        if name
    )


def history_window(session: Session, horizon: int | None = None) -> tuple[dt.date, dt.date] | None:
    """(first demand period, last demand period + horizon periods of the data's grain), None without demand."""
    first, last = session.execute(select(func.min(Demand.period), func.max(Demand.period))).one()
    if first is None:
        return None
    sample = session.execute(select(Demand.sku_id, Demand.period).limit(20_000)).all()
    frame = pd.DataFrame(sample, columns=["sku", "period"])
    grain = detect_grain(
        sku_ids=frame["sku"].to_numpy(),
        periods=frame["period"],
        fallback=q.latest_import_grain(session.connection()),
    )
    steps = int(horizon if horizon is not None else EngineSettings().horizon)
    days = int(np.ceil(GRAIN_DAYS[grain] * (steps + 1)))
    return first, last + dt.timedelta(days=days)


def sku_ids(session: Session, names: np.ndarray) -> np.ndarray:
    """SKU id per value (by code, else by a name that names exactly one SKU); -1 when unknown."""
    rows = session.execute(select(Sku.id, Sku.code, Sku.name)).all()
    by_code = {code: sku_id for sku_id, code, _ in rows}
    counts = pd.Series([name for _, _, name in rows]).value_counts()
    by_name = {name: sku_id for sku_id, _, name in rows if name and counts.get(name, 0) == 1}
    return np.array([by_code.get(x, by_name.get(x, -1)) for x in names], dtype=np.int64)


def _promotion_flags(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(promoted bool, label or None) per cell: 0/no/blank -> no promotion, 1/yes -> promotion without label."""
    text = pd.Series(labels, dtype=object).fillna("").astype(str).str.strip()
    low = text.str.lower()
    promoted = ~low.isin(FALSE_LABELS)
    label = np.where(promoted & ~low.isin(TRUE_LABELS), text, None)
    return promoted.to_numpy(), label


def prepare_promotions(
    session: Session, sniffed: Sniffed, options: ImportOptions, errors: ErrorLog, progress: Progress | None
) -> Plan:
    """Validate a promotions file (module docstring); nothing is written until the plan's ``write``."""
    resolved = cols.resolve(sniffed.header, FIELDS, kind="promotions")
    extra = feature_fields(resolved.ignored)
    if extra:
        resolved = cols.resolve(sniffed.header, FIELDS, kind="promotions", extra=extra)
    parsed = parse_long(
        sniffed, resolved, FIELDS + extra, errors=errors, date_format=options.date_format, progress=progress
    )
    if parsed.rows_read == 0:
        raise FileRejectedError("the file has a header but no data rows")
    ok = parsed.ok.copy()
    code = parsed.values["sku"]
    period = np.asarray(parsed.values["date"], dtype="datetime64[D]")
    ids = sku_ids(session, code)
    unknown = ok & (ids < 0)
    if unknown.any():
        errors.add(
            lines=parsed.lines[unknown],
            column=resolved.header("sku"),
            values=code[unknown],
            reasons=f"{v.UNKNOWN_SKU} (import the SKU master or its demand first)",
        )
    ok &= ~unknown
    window = history_window(session)
    if window is not None:
        lo, hi = np.datetime64(window[0], "D"), np.datetime64(window[1], "D")
        outside = ok & ((period < lo) | (period > hi))
        if outside.any():
            errors.add(
                lines=parsed.lines[outside],
                column=resolved.header("date"),
                values=np.datetime_as_string(period[outside], unit="D").astype(object),
                reasons=f"{OUTSIDE} ({window[0].isoformat()} to {window[1].isoformat()})",
            )
        ok &= ~outside
    dup, first = _duplicates([code, period], ok)
    _report_duplicates(errors, dup, first, parsed.lines, resolved.header("sku"), [code, period])
    ok &= ~dup
    promoted, label = _promotion_flags(parsed.values.get("promotion", np.full(len(ok), None, dtype=object)))
    price = parsed.values.get("price", np.full(len(ok), np.nan))
    feats = {f.name: np.asarray(parsed.values[f.name], dtype=float) for f in extra}
    frame = pd.DataFrame(
        {"sku_id": ids, "period": period, "price": price, "promoted": promoted, "label": label, **feats}
    )[ok]
    fmt = long_format(sniffed, resolved, first=period[ok], last=period[ok], sku_count=int(frame["sku_id"].nunique()))

    def write(session: Session, progress: Progress | None) -> tuple[int, int, int, int]:
        return (*write_promotions(session=session, frame=frame, features=[f.name for f in extra]), 0)

    return Plan(parsed.rows_read, int(ok.sum()), int((~ok).sum()), fmt, parsed.preview, write)


def _clean(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def write_promotions(*, session: Session, frame: pd.DataFrame, features: list[str]) -> tuple[int, int, int]:
    """Upsert rows on (SKU, period); returns (inserted, updated, unchanged)."""
    ids = sorted({int(x) for x in frame["sku_id"]})
    existing = {
        (row.sku_id, row.period): row
        for start in range(0, len(ids), 1000)
        for row in session.scalars(select(Promotion).where(Promotion.sku_id.in_(ids[start : start + 1000])))
    }
    inserted = updated = unchanged = 0
    for item in frame.to_dict("records"):
        key = (int(item["sku_id"]), pd.Timestamp(item["period"]).date())
        feats = {name: _clean(item[name]) for name in features if _clean(item[name]) is not None} or None
        values = {
            "price": _clean(item["price"]),
            "promoted": bool(item["promoted"]),
            "label": item["label"] if isinstance(item["label"], str) else None,
            "features": feats,
        }
        row = existing.get(key)
        if row is None:
            session.add(Promotion(sku_id=key[0], period=key[1], **values))
            inserted += 1
        elif any(getattr(row, k) != val for k, val in values.items()):
            for k, val in values.items():
                setattr(row, k, val)
            updated += 1
        else:
            unchanged += 1
    session.flush()
    return inserted, updated, unchanged


def promotion_frame(session: Session) -> pd.DataFrame:
    """Every promotion row in the import format (SKU code, then date), named features as further columns."""
    query = (
        select(Promotion.period, Sku.code, Promotion.price, Promotion.promoted, Promotion.label, Promotion.features)
        .join(Sku, Sku.id == Promotion.sku_id)
        .order_by(Sku.code, Promotion.period)
    )
    rows = session.execute(query).all()
    frame = pd.DataFrame(
        [
            {
                "date": period.isoformat(),
                "sku": code,
                "price": price,
                "promotion": label if label else (1 if promoted else 0),
                **(feats or {}),
            }
            for period, code, price, promoted, label, feats in rows
        ]
    )
    return frame if len(frame) else pd.DataFrame(columns=EXPORT_COLUMNS)
