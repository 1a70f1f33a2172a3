"""One import: sniff -> parse and validate (vectorised, chunked) -> check keys and SKUs -> write in one transaction.

Nothing is written until the whole file has been validated; with ``on_error="reject"`` (the default) any rejected
row leaves the planning tables exactly as they were. Every import, committed or rejected, is recorded in
``import_batch`` and the audit log (in the caller's transaction).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from db import ingest as dbi
from db.models import Demand, ImportBatch
from services import audit
from services.ingest import columns as cols
from services.ingest import resources as res
from services.ingest import validate as v
from services.ingest import write as w
from services.ingest.parse import Parsed, WideParsed, parse_long, parse_wide, period_columns
from services.ingest.read import CHUNK_ROWS
from services.ingest.report import ErrorLog, FileRejectedError, RowError
from services.ingest.sniff import Sniffed, sniff
from services.ingest.stream import DemandStream
from settings import get_settings

Progress = Callable[[float, str], None]
GRAINS = ("daily", "weekly", "monthly")
MAX_STORED_ERRORS = 200
STREAM_CHUNK_ROWS = 250_000  # rows per chunk handed to the stream (measured: 200k-350k alike, 100k slower)


@dataclass(frozen=True)
class ImportOptions:
    """How to import a file.

    on_error: ``"reject"`` (default) rejects the whole file when any row is bad; ``"skip"`` imports the good rows
    and reports the others. create_skus: create unknown SKUs with the documented defaults instead of reporting
    them. date_format: a strptime format for day-first / month-first dates (e.g. ``%d/%m/%Y``); ISO dates are
    always accepted.
    """

    on_error: str = "reject"
    create_skus: bool = False
    date_format: str | None = None
    max_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.on_error not in ("reject", "skip"):
            raise ValueError(f"on_error must be 'reject' or 'skip', not {self.on_error!r}")
        if self.date_format is not None:
            if "%" not in self.date_format or len(self.date_format) > 40:
                raise ValueError(f"date_format must be a strptime format such as %d/%m/%Y, not {self.date_format!r}")
            try:
                dt.date(2024, 1, 31).strftime(self.date_format)
            except ValueError as exc:
                raise ValueError(f"date_format {self.date_format!r} is not a valid format: {exc}") from exc

    def limit(self) -> int:
        return self.max_bytes or get_settings().max_upload_mb * 1024 * 1024


@dataclass
class DetectedFormat:
    """What the importer found out about the file (shown before committing)."""

    encoding: str = ""
    delimiter: str = ""
    layout: str = ""  # long | wide | m5
    grain: str | None = None
    date_min: dt.date | None = None
    date_max: dt.date | None = None
    sku_count: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # field -> header in the file
    ignored: list[str] = field(default_factory=list)
    size_bytes: int = 0

    def describe(self) -> str:
        parts = [f"{self.layout} layout" if self.layout else "", self.encoding, f"{self.delimiter}-separated"]
        if self.grain:
            parts.append(f"{self.grain} grain")
        if self.date_min:
            parts.append(f"{self.date_min} to {self.date_max}")
        if self.sku_count:
            parts.append(f"{self.sku_count:,} SKUs")
        return ", ".join(p for p in parts if p and p != "-separated")


@dataclass
class ImportResult:
    """The outcome of an import (or of a check with ``dry_run``)."""

    kind: str
    file_name: str
    status: str = "rejected"  # committed | rejected | checked
    format: DetectedFormat = field(default_factory=DetectedFormat)
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skus_created: int = 0
    skus_to_create: int = 0
    errors: ErrorLog = field(default_factory=ErrorLog)
    message: str = ""
    batch_id: int | None = None
    error_report: Path | None = None
    preview: pd.DataFrame = field(default_factory=pd.DataFrame)
    timings: dict[str, float] = field(default_factory=dict)
    recompute: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("committed", "checked")

    def first_errors(self, n: int = 20) -> list[RowError]:
        return self.errors.first(n)

    def summary(self) -> str:
        """One line for people: what happened and why."""
        if self.status == "rejected":
            return f"{self.file_name}: rejected - {self.message}"
        if self.status == "checked":
            extra = f", {self.skus_to_create:,} new SKUs" if self.skus_to_create else ""
            return (
                f"{self.file_name}: {self.rows_accepted:,} rows valid, {self.rows_rejected:,} rejected{extra} "
                f"({self.format.describe()})"
            )
        created = f", {self.skus_created:,} SKUs created" if self.skus_created else ""
        return (
            f"{self.file_name}: {self.inserted:,} inserted, {self.updated:,} updated, {self.unchanged:,} unchanged, "
            f"{self.rows_rejected:,} rejected{created} ({self.format.describe()})"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file_name": self.file_name,
            "status": self.status,
            "message": self.message,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skus_created": self.skus_created,
            "skus_to_create": self.skus_to_create,
            "error_count": self.errors.count,
            "batch_id": self.batch_id,
            "error_report": str(self.error_report) if self.error_report else None,
            "format": {
                "encoding": self.format.encoding,
                "delimiter": self.format.delimiter,
                "layout": self.format.layout,
                "grain": self.format.grain,
                "date_min": self.format.date_min.isoformat() if self.format.date_min else None,
                "date_max": self.format.date_max.isoformat() if self.format.date_max else None,
                "sku_count": self.format.sku_count,
                "columns": self.format.columns,
                "ignored": self.format.ignored,
                "size_bytes": self.format.size_bytes,
            },
            "timings": self.timings,
            "recompute": self.recompute,
        }


@dataclass
class Plan:
    """A validated file, ready to write: ``write(session, progress)`` returns (inserted, updated, unchanged,
    skus created)."""

    rows_read: int
    accepted: int
    rejected: int
    format: DetectedFormat
    preview: pd.DataFrame
    write: Callable[[Session, Progress | None], tuple[int, int, int, int]]
    skus_to_create: int = 0
    discard: Callable[[], None] = field(default=lambda: None)  # undo work done while validating (not writing)


def _nothing() -> None:
    """Nothing to undo."""


def _today() -> np.datetime64:
    return np.datetime64(dt.date.today(), "D")


def _to_date(value: np.datetime64 | None) -> dt.date | None:
    if value is None or np.isnat(value):
        return None
    return value.astype("datetime64[D]").astype(dt.date)


# --- grain ------------------------------------------------------------------------------------------------------


def detect_grain(periods: np.ndarray) -> str | None:
    """daily / weekly / monthly from the median gap between distinct dates (None with fewer than 2 dates).

    Raises :class:`FileRejectedError` when the dates are regular but of another grain (quarterly) or irregular.
    """
    distinct = np.unique(np.asarray(periods, dtype="datetime64[D]"))
    distinct = distinct[~np.isnat(distinct)]
    if len(distinct) < 2:
        return None
    gap = float(np.median(np.diff(distinct).astype(np.int64)))
    if gap <= 1.5:
        return "daily"
    if 5 <= gap <= 9:
        return "weekly"
    if 27 <= gap <= 32:
        return "monthly"
    raise FileRejectedError(
        f"the dates are {gap:g} days apart (median): only daily, weekly or monthly demand is supported"
    )


def database_grain(*, session: Session) -> str | None:
    """The grain of the demand history already stored (None when there is none)."""
    periods = session.scalars(select(Demand.period).distinct().order_by(Demand.period.desc()).limit(60)).all()
    if len(periods) < 2:
        return None
    try:
        return detect_grain(np.array(periods, dtype="datetime64[D]"))
    except FileRejectedError:
        return None


# --- SKU resolution -------------------------------------------------------------------------------------------


@dataclass
class SkuPlan:
    """Final SKU code of each record (index into ``codes``), which codes are new, and the id of existing ones."""

    index: np.ndarray  # int64 per record, -1 where unresolved
    codes: list[str]
    locations: list[str | None]
    new: np.ndarray  # bool per code
    ids: dict[str, int]


def resolve_skus(
    *,
    existing: pd.DataFrame,
    code: np.ndarray,
    location: np.ndarray | None,
    ok: np.ndarray,
    create: bool,
) -> tuple[SkuPlan, np.ndarray]:
    """Map (code[, location]) of each record to a SKU; returns the plan and a per-record 'unknown' mask.

    With a location: the SKU ``CODE@LOCATION`` if it exists, else ``CODE`` when that SKU is at this location;
    a new SKU is created (option) as ``CODE`` when the file has the code at one location only and no SKU has
    that code yet, otherwise as ``CODE@LOCATION``.
    """
    ids = dict(zip(existing["code"], existing["id"], strict=True))
    where = dict(zip(existing["code"], existing["location"], strict=True))
    n = len(code)
    index = np.full(n, -1, dtype=np.int64)
    unknown = np.zeros(n, dtype=bool)
    codes: list[str] = []
    locations: list[str | None] = []
    new: list[bool] = []
    if not ok.any():
        return SkuPlan(index, codes, locations, np.zeros(0, dtype=bool), ids), unknown
    if location is None:
        # without a location a code is its SKU: a known one, or a new one when creation is allowed
        pair_codes, unique_codes = pd.factorize(code[ok])
        known = pd.Index(existing["code"]).get_indexer(unique_codes) >= 0
        keep = known | create
        pair_target = np.where(keep, np.cumsum(keep) - 1, -1)
        rows = np.flatnonzero(ok)
        index[rows] = pair_target[pair_codes]
        unknown[rows] = pair_target[pair_codes] < 0
        codes = [str(c) for c in unique_codes[keep]]
        return SkuPlan(index, codes, [None] * len(codes), ~known[keep], ids), unknown
    pairs = pd.DataFrame({"code": code, "location": location})[ok]
    pair_codes, keyed = pd.factorize(pd.MultiIndex.from_frame(pairs.fillna({"location": ""})))
    uniques = list(keyed)
    per_code = pairs.groupby("code")["location"].nunique(dropna=True)
    final_index: dict[str, int] = {}
    pair_target = np.full(len(uniques), -1, dtype=np.int64)
    for i, (c, place) in enumerate(uniques):
        place = place or None
        candidate: str | None = None
        is_new = False
        if place is None:
            if c in ids:
                candidate = c
            elif create:
                candidate, is_new = c, True
        elif f"{c}@{place}" in ids:
            candidate = f"{c}@{place}"
        elif c in ids and where.get(c) == place:
            candidate = c
        elif create:
            single = per_code is not None and per_code.get(c, 0) <= 1
            candidate = c if (c not in ids and single) else f"{c}@{place}"
            is_new = candidate not in ids
        if candidate is None:
            continue
        if candidate not in final_index:
            final_index[candidate] = len(codes)
            codes.append(candidate)
            locations.append(place)
            new.append(is_new)
        pair_target[i] = final_index[candidate]
    rows = np.flatnonzero(ok)
    index[rows] = pair_target[pair_codes]
    unknown[rows] = pair_target[pair_codes] < 0
    return SkuPlan(index, codes, locations, np.array(new, dtype=bool), ids), unknown


def _duplicates(key_parts: list[np.ndarray], ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows (among ``ok``) whose key occurs more than once -> (mask, index of the first row with that key)."""
    rows = np.flatnonzero(ok)
    if len(rows) == 0:
        return np.zeros(len(ok), dtype=bool), np.full(len(ok), -1)
    if len(key_parts) == 2 and all(np.asarray(p).dtype.kind == "i" for p in key_parts):
        # fast path (files sorted by SKU then date): one int64 key; strictly increasing means no duplicates
        first_part, second = (np.asarray(p, dtype=np.int64)[rows] for p in key_parts)
        offset = second.min(initial=0)
        span = int(second.max(initial=0) - offset) + 1
        if span < (1 << 31) and first_part.max(initial=0) < (1 << 31):
            key = first_part * span + (second - offset)
            if len(key) < 2 or bool(np.all(key[1:] > key[:-1])):
                return np.zeros(len(ok), dtype=bool), np.full(len(ok), -1)
    frame = pd.DataFrame({f"k{i}": part[rows] for i, part in enumerate(key_parts)})
    dup = frame.duplicated(keep=False).to_numpy()
    mask = np.zeros(len(ok), dtype=bool)
    first = np.full(len(ok), -1, dtype=np.int64)
    if dup.any():
        sub = frame[dup].copy()
        sub["_row"] = rows[dup]
        sub["_first"] = sub.groupby([c for c in sub.columns if c.startswith("k")], sort=False)["_row"].transform("min")
        mask[sub["_row"].to_numpy()] = True
        first[sub["_row"].to_numpy()] = sub["_first"].to_numpy()
    return mask, first


def _report_duplicates(
    errors: ErrorLog, mask: np.ndarray, first: np.ndarray, lines: np.ndarray, column: str | np.ndarray, shown: list
) -> None:
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        return
    first_lines = lines[first[rows]]
    reasons = np.where(
        first_lines == lines[rows],
        np.array([v.DUPLICATE + ": repeated on a later line"], dtype=object),
        np.array([f"{v.DUPLICATE}: first on line {x}" for x in first_lines], dtype=object),
    )
    parts = [_shown(part[rows]) for part in shown]
    values = np.array([" / ".join(str(p[i]) for p in parts) for i in range(len(rows))], dtype=object)
    errors.add(
        lines=lines[rows], column=column if isinstance(column, str) else column[rows], values=values, reasons=reasons
    )


def _mask_errors(
    errors: ErrorLog, mask: np.ndarray, lines: np.ndarray, column: str | np.ndarray, values: np.ndarray, reason: str
) -> None:
    if mask.any():
        errors.add(
            lines=lines[mask],
            column=column if isinstance(column, str) else column[mask],
            values=_shown(values[mask]),
            reasons=np.full(int(mask.sum()), reason, dtype=object),
        )


def _shown(values: np.ndarray) -> np.ndarray:
    """Dates as YYYY-MM-DD for error reports (only for the rows reported: formatting a million dates is slow)."""
    values = np.asarray(values)
    if values.dtype.kind == "M":
        return np.datetime_as_string(values.astype("datetime64[D]"), unit="D").astype(object)
    return values


# --- demand -------------------------------------------------------------------------------------------------------

# a wide demand file may update master data, but not the resource (checked against the resources only in `skus`)
ATTRIBUTE_FIELDS = tuple(f for f in cols.SKU_MASTER if f.name not in ("sku", "location", "resource")) + (
    cols.HOLDING_PER_UNIT,
)


@dataclass
class DemandRecords:
    code: np.ndarray
    location: np.ndarray | None
    period: np.ndarray
    quantity: np.ndarray
    lines: np.ndarray
    ok: np.ndarray
    sku_column: str
    date_column: str | np.ndarray
    rows_read: int
    preview: pd.DataFrame
    layout: str
    attributes: pd.DataFrame | None = None  # code, location, sku master fields (table names)
    stream: DemandStream | None = None  # rows already loaded while parsing (large file, empty table)


def _demand_records(
    sniffed: Sniffed,
    options: ImportOptions,
    errors: ErrorLog,
    progress: Progress | None,
    start_stream: Callable[[], DemandStream | None] | None = None,
):
    headers = sniffed.header
    periods = period_columns(headers, date_format=options.date_format)
    if periods and not _has(headers, cols.DEMAND[0]):
        resolved = cols.resolve(
            [h if i not in periods else "" for i, h in enumerate(headers)],
            (cols.SKU,),
            kind="demand (wide layout)",
            extra=(cols.LOCATION, *ATTRIBUTE_FIELDS),
        )
        resolved = cols.Resolved(resolved.columns, headers, resolved.scales, resolved.ignored)
        parsed = parse_wide(
            sniffed, resolved, periods, (cols.SKU, cols.LOCATION, *ATTRIBUTE_FIELDS), errors=errors, progress=progress
        )
        fmt_columns = {name: headers[pos] for name, pos in resolved.columns.items()}
        fmt_columns["periods"] = f"{len(periods)} columns ({headers[min(periods)]} ... {headers[max(periods)]})"
        return _from_wide(parsed, resolved), fmt_columns, resolved.ignored
    resolved = cols.resolve(headers, cols.DEMAND, kind="demand")
    stream = start_stream() if start_stream is not None and "location" not in resolved.columns else None
    try:
        parsed = parse_long(
            sniffed,
            resolved,
            cols.DEMAND,
            errors=errors,
            date_format=options.date_format,
            progress=progress,
            on_chunk=stream.feed if stream is not None else None,
            chunk_rows=STREAM_CHUNK_ROWS if stream is not None else CHUNK_ROWS,
            arrow=stream is None,  # while streaming the pandas reader shares the CPU better (read.read_chunks)
        )
    except BaseException:
        if stream is not None:
            stream.discard()
        raise
    if stream is not None:
        # the worker loads the last chunks and re-creates the keys while the import is planned (which does not
        # touch the database); the stream is completed or discarded before anything else uses the database
        stream.end_of_input()
    records = DemandRecords(
        code=parsed.values["sku"],
        location=parsed.values.get("location"),
        period=parsed.values["date"],
        quantity=parsed.values["quantity"],
        lines=parsed.lines,
        ok=parsed.ok,
        sku_column=resolved.header("sku"),
        date_column=resolved.header("date"),
        rows_read=parsed.rows_read,
        preview=parsed.preview,
        layout="long",
        stream=stream,
    )
    return records, {name: headers[pos] for name, pos in resolved.columns.items()}, resolved.ignored


def _has(headers: list[str], spec: v.Field) -> bool:
    normal = {cols.normalise_header(h) for h in headers}
    return any(alias in normal for alias in spec.aliases)


def _from_wide(parsed: WideParsed, resolved: cols.Resolved, *, key_location: bool = True) -> DemandRecords:
    attributes = None
    frame = parsed.attributes
    present = [f.name for f in ATTRIBUTE_FIELDS if f.name in frame.columns]
    if len(frame) and (present or "location" in frame.columns):
        attributes = frame
    return DemandRecords(
        code=parsed.code,
        location=parsed.location if key_location else None,
        period=parsed.period,
        quantity=parsed.quantity,
        lines=parsed.lines,
        ok=parsed.ok,
        sku_column=resolved.header("sku"),
        date_column=parsed.columns,
        rows_read=parsed.rows_read,
        preview=parsed.preview,
        layout="wide",
        attributes=attributes,
    )


def _attribute_updates(
    attributes: pd.DataFrame, plan: SkuPlan, records: DemandRecords, errors: ErrorLog, resolved_headers: dict
) -> pd.DataFrame:
    """SKU master fields found in a wide file, per final SKU code (table column names), bad cells dropped."""
    frame = attributes[attributes["_row_ok"]].copy()
    if frame.empty:
        return pd.DataFrame(columns=["code"])
    # the final code of each line: take it from the records of that line
    line_to_index = pd.Series(plan.index, index=records.lines).groupby(level=0).max()
    frame["_index"] = line_to_index.reindex(frame["_line"]).to_numpy()
    frame = frame[frame["_index"] >= 0]
    out = pd.DataFrame({"code": [plan.codes[i] for i in frame["_index"].astype(int)]})
    for spec in ATTRIBUTE_FIELDS:
        if spec.name not in frame.columns:
            continue
        values = frame[spec.name].to_numpy()
        good = frame[f"_ok_{spec.name}"].to_numpy() if f"_ok_{spec.name}" in frame.columns else True
        values = np.where(good, values, None if spec.type != "number" else np.nan)
        out[spec.name] = values
    if "location" in frame.columns:
        out["location"] = frame["location"].to_numpy()
    out = _holding_rate(out, errors, frame["_line"].to_numpy(), resolved_headers.get("holding_cost_per_unit_year"))
    return out.rename(columns=w.SKU_COLUMNS).drop_duplicates("code", keep="last")


def _holding_rate(frame: pd.DataFrame, errors: ErrorLog, lines: np.ndarray, header: str | None) -> pd.DataFrame:
    """A holding cost in money per unit and year becomes a rate: holding / unit_cost (needs unit_cost > 0)."""
    if "holding_cost_per_unit_year" not in frame.columns:
        return frame
    money = pd.to_numeric(frame.pop("holding_cost_per_unit_year"), errors="coerce").to_numpy(dtype=float)
    cost = (
        pd.to_numeric(frame["unit_cost"], errors="coerce").to_numpy(dtype=float)
        if "unit_cost" in frame.columns
        else np.full(len(frame), np.nan)
    )
    given = ~np.isnan(money)
    usable = given & (cost > 0)
    rate = np.where(usable, money / np.where(cost > 0, cost, 1.0), np.nan)
    bad = given & ~usable
    if bad.any():
        errors.add(
            lines=lines[bad],
            column=header,
            values=money[bad],
            reasons=np.full(int(bad.sum()), f"{v.OUT_OF_RANGE}: a holding cost per unit needs a unit cost above 0"),
        )
    if "holding_cost_rate" in frame.columns:
        current = pd.to_numeric(frame["holding_cost_rate"], errors="coerce").to_numpy(dtype=float)
        rate = np.where(np.isnan(current), rate, current)
    too_high = rate > 10
    rate[too_high] = np.nan
    frame["holding_cost_rate"] = np.round(rate, 10)
    return frame


def _prepare_demand(
    session: Session,
    sniffed: Sniffed,
    options: ImportOptions,
    errors: ErrorLog,
    progress: Progress | None,
    records: DemandRecords | None = None,
    fmt_columns: dict | None = None,
    ignored: list | None = None,
    grain_hint: str | None = None,
    stream: bool = False,
) -> Plan:
    start_stream = None
    if stream and session.get_bind().dialect.name == "postgresql" and sniffed.lines - 1 >= dbi.BULK_MIN_ROWS:

        def start_stream() -> DemandStream | None:
            return DemandStream.start(
                session=session,
                today=_today(),
                create_skus=options.create_skus,
                stop_on_error=options.on_error == "reject",
            )

    if records is None:
        records, fmt_columns, ignored = _demand_records(sniffed, options, errors, progress, start_stream)
    try:
        return _plan_demand(session, sniffed, options, errors, records, fmt_columns, ignored, grain_hint)
    except BaseException:
        if records.stream is not None:
            records.stream.discard()
        raise


def _plan_demand(
    session: Session,
    sniffed: Sniffed,
    options: ImportOptions,
    errors: ErrorLog,
    records: DemandRecords,
    fmt_columns: dict | None,
    ignored: list | None,
    grain_hint: str | None,
) -> Plan:
    if records.rows_read == 0:
        raise FileRejectedError("the file has a header but no data rows")
    ok = records.ok.copy()
    future = ok & (records.period > _today())
    _mask_errors(errors, future, records.lines, records.date_column, records.period, v.FUTURE_DATE)
    ok &= ~future
    stream = records.stream
    existing = stream.existing if stream is not None else w.existing_skus(session.connection())
    plan, unknown = resolve_skus(
        existing=existing, code=records.code, location=records.location, ok=ok, create=options.create_skus
    )
    hint = " (import the SKU master first, or allow creating unknown SKUs)"
    _mask_errors(errors, unknown, records.lines, records.sku_column, records.code, v.UNKNOWN_SKU + hint)
    ok &= ~unknown
    days = np.asarray(records.period, dtype="datetime64[D]").astype(np.int64)
    dup, first = _duplicates([plan.index, days], ok)
    _report_duplicates(errors, dup, first, records.lines, records.date_column, [records.code, records.period])
    ok &= ~dup
    accepted_periods = records.period[ok]
    grain = grain_hint or detect_grain(accepted_periods)
    stored = None if stream is not None and stream.table_was_empty else database_grain(session=session)
    if grain and stored and grain != stored:
        raise FileRejectedError(
            f"this file holds {grain} demand but the database holds {stored} demand; one grain at a time "
            "(delete the demand history first, e.g. with a factory reset)"
        )
    used = np.unique(plan.index[ok])
    attributes = None
    if records.attributes is not None:
        attributes = _attribute_updates(records.attributes, plan, records, errors, fmt_columns or {})
    fmt = DetectedFormat(
        encoding=sniffed.encoding_label,
        delimiter=sniffed.delimiter_label,
        layout=records.layout,
        grain=grain or stored,
        date_min=_to_date(accepted_periods.min()) if len(accepted_periods) else None,
        date_max=_to_date(accepted_periods.max()) if len(accepted_periods) else None,
        sku_count=len(used),
        columns=fmt_columns or {},
        ignored=ignored or [],
        size_bytes=sniffed.size,
    )
    new_used = int(plan.new[used].sum()) if len(used) else 0
    rejected = int((~ok).sum())

    def write(session: Session, progress: Progress | None) -> tuple[int, int, int, int]:
        if stream is not None:
            streamed = stream.complete(accepted_rows=int(ok.sum()), skus_to_create=new_used)
            if streamed is not None:
                w.touch_skus(session.connection(), ids=streamed.existing_skus)
                return streamed.inserted, 0, 0, streamed.created
        connection = session.connection()
        created = 0
        new_codes = [plan.codes[i] for i in used if plan.new[i]]
        updates = attributes if attributes is not None else pd.DataFrame(columns=["code"])
        if new_codes or len(updates):
            position = {c: i for i, c in enumerate(plan.codes)}
            new_frame = pd.DataFrame(
                {"code": new_codes, "location": [plan.locations[position[c]] for c in new_codes]}
                if new_codes
                else {"code": []}
            )
            sku_frame = (
                new_frame.set_index("code").combine_first(updates.set_index("code")).reset_index()
                if len(updates)
                else new_frame
            )
            used_codes = {plan.codes[i] for i in used}
            sku_frame = sku_frame[sku_frame["code"].isin(used_codes)]
            created = w.write_skus(connection, sku_frame).inserted
        ids_now = (
            dict(zip(*w.existing_skus(connection)[["code", "id"]].to_numpy().T, strict=True)) if created else plan.ids
        )
        code_ids = np.array([ids_now.get(c, -1) for c in plan.codes], dtype=np.int64)
        sku_ids = code_ids[plan.index[ok]]
        counts = w.write_demand(
            connection, sku_id=sku_ids, period=records.period[ok], quantity=records.quantity[ok], progress=progress
        )
        # SKUs whose history changed are stale in the latest run: a partial recompute must not carry them forward
        w.touch_skus(connection, ids=counts.changed_skus & frozenset(int(i) for i in existing["id"]))
        return counts.inserted, counts.updated, counts.unchanged, created

    return Plan(
        rows_read=len(records.lines),
        accepted=int(ok.sum()),
        rejected=rejected,
        format=fmt,
        preview=records.preview,
        write=write,
        skus_to_create=new_used,
        discard=stream.discard if stream is not None else _nothing,
    )


# --- SKU master ---------------------------------------------------------------------------------------------------


def _prepare_skus(
    session: Session, sniffed: Sniffed, options: ImportOptions, errors: ErrorLog, progress: Progress | None
) -> Plan:
    fields = cols.SKU_MASTER
    resolved = cols.resolve(sniffed.header, fields, kind="SKU master", extra=(cols.HOLDING_PER_UNIT,))
    parsed = parse_long(
        sniffed,
        resolved,
        fields + (cols.HOLDING_PER_UNIT,),
        errors=errors,
        date_format=options.date_format,
        progress=progress,
    )
    if parsed.rows_read == 0:
        raise FileRejectedError("the file has a header but no data rows")
    ok = parsed.ok.copy()
    code = parsed.values["sku"]
    if "resource" in parsed.values:
        header = resolved.header("resource")
        ok &= ~res.unknown_resources(
            session=session, values=parsed.values["resource"], ok=ok, lines=parsed.lines, errors=errors, header=header
        )
    dup, first = _duplicates([code], ok)
    _report_duplicates(errors, dup, first, parsed.lines, resolved.header("sku"), [code])
    ok &= ~dup
    frame = pd.DataFrame({"code": code})
    for spec in fields[1:] + (cols.HOLDING_PER_UNIT,):
        if spec.name in parsed.values:
            frame[spec.name] = parsed.values[spec.name]
    before = errors.count
    frame = _holding_rate(
        frame,
        errors,
        parsed.lines,
        resolved.header("holding_cost_per_unit_year") if "holding_cost_per_unit_year" in resolved.columns else None,
    )
    if errors.count > before:
        bad_lines = set(errors.frame()["line"].dropna().astype(int).tolist())
        ok &= ~np.isin(parsed.lines, list(bad_lines))
    table_frame = frame[ok].rename(columns=w.SKU_COLUMNS)
    existing = set(w.existing_skus(session.connection())["code"])
    fmt = DetectedFormat(
        encoding=sniffed.encoding_label,
        delimiter=sniffed.delimiter_label,
        layout="long",
        sku_count=int(table_frame["code"].nunique()),
        columns={name: sniffed.header[pos] for name, pos in resolved.columns.items()},
        ignored=resolved.ignored,
        size_bytes=sniffed.size,
    )

    def write(session: Session, progress: Progress | None) -> tuple[int, int, int, int]:
        counts = w.write_skus(session.connection(), table_frame)
        return counts.inserted, counts.updated, counts.unchanged, counts.inserted

    return Plan(
        rows_read=parsed.rows_read,
        accepted=int(ok.sum()),
        rejected=int((~ok).sum()),
        format=fmt,
        preview=parsed.preview,
        write=write,
        skus_to_create=int((~table_frame["code"].isin(existing)).sum()),
    )


# --- stock and receipts ---------------------------------------------------------------------------------------------


def _resolve_simple(
    session: Session, parsed: Parsed, ok: np.ndarray, options: ImportOptions, errors: ErrorLog, header: str
) -> tuple[SkuPlan, np.ndarray]:
    existing = w.existing_skus(session.connection())
    plan, unknown = resolve_skus(
        existing=existing, code=parsed.values["sku"], location=None, ok=ok, create=options.create_skus
    )
    hint = " (import the SKU master first, or allow creating unknown SKUs)"
    _mask_errors(errors, unknown, parsed.lines, header, parsed.values["sku"], v.UNKNOWN_SKU + hint)
    return plan, ok & ~unknown


def _long_format(
    sniffed: Sniffed, resolved: cols.Resolved, *, first: np.ndarray, last: np.ndarray, sku_count: int
) -> DetectedFormat:
    """What was detected in a long file: dates from the earliest of ``first`` to the latest of ``last``."""
    return DetectedFormat(
        encoding=sniffed.encoding_label,
        delimiter=sniffed.delimiter_label,
        layout="long",
        date_min=_to_date(first.min()) if len(first) else None,
        date_max=_to_date(last.max()) if len(last) else None,
        sku_count=sku_count,
        columns={name: sniffed.header[pos] for name, pos in resolved.columns.items()},
        ignored=resolved.ignored,
        size_bytes=sniffed.size,
    )


def _create_and_ids(session: Session, plan: SkuPlan, used: np.ndarray) -> tuple[np.ndarray, int]:
    connection = session.connection()
    new_codes = [plan.codes[i] for i in used if plan.new[i]]
    created = w.write_skus(connection, pd.DataFrame({"code": new_codes})).inserted if new_codes else 0
    ids_now = dict(zip(*w.existing_skus(connection)[["code", "id"]].to_numpy().T, strict=True))
    return np.array([ids_now.get(c, -1) for c in plan.codes], dtype=np.int64), created


def _prepare_stock(
    session: Session, sniffed: Sniffed, options: ImportOptions, errors: ErrorLog, progress: Progress | None
) -> Plan:
    resolved = cols.resolve(sniffed.header, cols.STOCK, kind="stock")
    parsed = parse_long(
        sniffed, resolved, cols.STOCK, errors=errors, date_format=options.date_format, progress=progress
    )
    if parsed.rows_read == 0:
        raise FileRejectedError("the file has a header but no data rows")
    ok = parsed.ok.copy()
    n = len(parsed)
    as_of = parsed.values.get("as_of", np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")).copy()
    as_of[np.isnat(as_of)] = _today()
    on_order = parsed.values.get("on_order", np.zeros(n))
    if "as_of" in resolved.columns:
        future = ok & (as_of > _today() + 1)
        _mask_errors(errors, future, parsed.lines, resolved.header("as_of"), as_of, v.FUTURE_DATE)
        ok &= ~future
    plan, ok = _resolve_simple(session, parsed, ok, options, errors, resolved.header("sku"))
    dup, first = _duplicates([plan.index, as_of.astype(np.int64)], ok)
    _report_duplicates(errors, dup, first, parsed.lines, resolved.header("sku"), [parsed.values["sku"], as_of])
    ok &= ~dup
    used = np.unique(plan.index[ok])
    fmt = _long_format(sniffed, resolved, first=as_of[ok], last=as_of[ok], sku_count=len(used))

    def write(session: Session, progress: Progress | None) -> tuple[int, int, int, int]:
        code_ids, created = _create_and_ids(session, plan, used)
        frame = pd.DataFrame(
            {
                "sku_id": code_ids[plan.index[ok]],
                "as_of": as_of[ok],
                "on_hand": parsed.values["on_hand"][ok],
                "on_order": np.nan_to_num(np.asarray(on_order, dtype=float)[ok]),
            }
        )
        counts = w.write_stock(session.connection(), frame)
        return counts.inserted, counts.updated, counts.unchanged, created

    return Plan(
        parsed.rows_read,
        int(ok.sum()),
        int((~ok).sum()),
        fmt,
        parsed.preview,
        write,
        int(plan.new[used].sum()) if len(used) else 0,
    )


def _prepare_receipts(
    session: Session, sniffed: Sniffed, options: ImportOptions, errors: ErrorLog, progress: Progress | None
) -> Plan:
    resolved = cols.resolve(sniffed.header, cols.RECEIPTS, kind="receipts")
    parsed = parse_long(
        sniffed, resolved, cols.RECEIPTS, errors=errors, date_format=options.date_format, progress=progress
    )
    if parsed.rows_read == 0:
        raise FileRejectedError("the file has a header but no data rows")
    ok = parsed.ok.copy()
    order = parsed.values["order_date"]
    received = parsed.values["received_date"]
    n = len(parsed)
    promised = parsed.values.get("promised_date", np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"))
    today = _today()
    checks = [
        (ok & (order > today), "order_date", order, v.FUTURE_DATE),
        (ok & (received > today), "received_date", received, v.FUTURE_DATE),
        (ok & (received < order), "received_date", received, f"{v.IMPOSSIBLE_DATE}: received before the order date"),
        (
            ok & ~np.isnat(promised) & (promised < order),
            "promised_date",
            promised,
            f"{v.IMPOSSIBLE_DATE}: promised before the order date",
        ),
    ]
    for mask, name, values, reason in checks:
        if name in resolved.columns:
            _mask_errors(errors, mask & ok, parsed.lines, resolved.header(name), values, reason)
            ok &= ~mask
    plan, ok = _resolve_simple(session, parsed, ok, options, errors, resolved.header("sku"))
    dup, first = _duplicates([plan.index, order.astype(np.int64), received.astype(np.int64)], ok)
    _report_duplicates(
        errors,
        dup,
        first,
        parsed.lines,
        resolved.header("sku"),
        [parsed.values["sku"], order, received],
    )
    ok &= ~dup
    used = np.unique(plan.index[ok])
    supplier = parsed.values.get("supplier", np.full(n, None, dtype=object))
    fmt = _long_format(sniffed, resolved, first=order[ok], last=received[ok], sku_count=len(used))

    def write(session: Session, progress: Progress | None) -> tuple[int, int, int, int]:
        code_ids, created = _create_and_ids(session, plan, used)
        suppliers = dict(zip(*w.existing_skus(session.connection())[["id", "supplier"]].to_numpy().T, strict=True))
        sku_ids = code_ids[plan.index[ok]]
        given = supplier[ok]
        filled = np.array(
            [g if g is not None else suppliers.get(s, "Unassigned") for g, s in zip(given, sku_ids, strict=True)],
            dtype=object,
        )
        frame = pd.DataFrame(
            {
                "sku_id": sku_ids,
                "order_date": order[ok],
                "received_date": received[ok],
                "promised_date": promised[ok],
                "quantity": parsed.values["quantity"][ok],
                "supplier": filled,
            }
        )
        counts = w.write_receipts(session.connection(), frame)
        return counts.inserted, counts.updated, counts.unchanged, created

    return Plan(
        parsed.rows_read,
        int(ok.sum()),
        int((~ok).sum()),
        fmt,
        parsed.preview,
        write,
        int(plan.new[used].sum()) if len(used) else 0,
    )


def _prepare_resources(
    session: Session, sniffed: Sniffed, options: ImportOptions, errors: ErrorLog, progress: Progress | None
) -> Plan:
    """Resource capacities (rules in :mod:`services.ingest.resources`)."""
    checked = res.check_resources_file(
        session=session, sniffed=sniffed, date_format=options.date_format, errors=errors, progress=progress
    )
    fmt = _long_format(sniffed, checked.resolved, first=checked.periods, last=checked.periods, sku_count=0)
    fmt.grain = checked.grain

    def write(session: Session, progress: Progress | None) -> tuple[int, int, int, int]:
        return (*checked.write(session), 0)

    return Plan(checked.rows_read, checked.accepted, checked.rejected, fmt, checked.preview, write)


PREPARERS = {
    "demand": _prepare_demand,
    "skus": _prepare_skus,
    "stock": _prepare_stock,
    "receipts": _prepare_receipts,
    "resources": _prepare_resources,
}


# --- the import ------------------------------------------------------------------------------------------------------


def import_file(
    *,
    session: Session,
    path: str | Path,
    kind: str,
    file_name: str | None = None,
    options: ImportOptions | None = None,
    user: str | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import the CSV at ``path`` as ``kind`` (demand, skus, stock, receipts) in the session's transaction.

    Never raises for a bad file: the result says ``rejected`` with the reasons (``result.errors``). With
    ``dry_run`` the file is fully validated but nothing is written (status ``checked``; for the preview).
    Database errors propagate (the caller's transaction then rolls back).
    """
    if kind not in PREPARERS:
        raise ValueError(f"kind must be one of {', '.join(cols.KINDS)}, not {kind!r}")
    options = options or ImportOptions()
    path = Path(path)
    name = file_name or path.name
    result = ImportResult(kind=kind, file_name=name)
    started = time.perf_counter()
    try:
        sniffed = sniff(path, max_bytes=options.limit())
        extra = {"stream": not dry_run} if kind == "demand" else {}
        plan = PREPARERS[kind](session, sniffed, options, result.errors, _stage(progress, 0.0, 0.6), **extra)
    except FileRejectedError as exc:
        result.errors.add_one(line=None, column=None, value="", reason=str(exc))
        result.message = str(exc)
        return _finish(session, result, user, dry_run, started)
    return run_plan(
        session=session,
        plan=plan,
        result=result,
        options=options,
        user=user,
        progress=progress,
        dry_run=dry_run,
        started=started,
    )


def run_plan(
    *,
    session: Session,
    plan: Plan,
    result: ImportResult,
    options: ImportOptions,
    user: str | None,
    progress: Progress | None,
    dry_run: bool,
    started: float,
) -> ImportResult:
    """Apply the error policy to a validated plan, then write it (unless ``dry_run``) and record the batch."""
    result.timings["validate_s"] = round(time.perf_counter() - started, 3)
    result.rows_read = plan.rows_read
    result.format = plan.format
    result.preview = plan.preview
    malformed = int(result.errors.frame()["reason"].astype(str).str.startswith(v.BAD_LINE).sum())
    result.rows_rejected = plan.rejected + malformed
    result.rows_accepted = plan.accepted
    result.skus_to_create = plan.skus_to_create
    if result.errors and options.on_error == "reject":
        result.message = (
            f"{result.errors.count:,} problem(s) in {result.errors.rejected_line_count():,} line(s); nothing was "
            "imported (choose 'skip' to import the valid rows)"
        )
        result.rows_accepted = 0
        plan.discard()
        return _finish(session, result, user, dry_run, started)
    if plan.accepted == 0:
        result.message = "no valid rows to import"
        plan.discard()
        return _finish(session, result, user, dry_run, started)
    if dry_run:
        result.status = "checked"
        result.message = "the file is valid" if not result.errors else "valid rows can be imported; others skipped"
        plan.discard()
        return _finish(session, result, user, dry_run, started)
    write_started = time.perf_counter()
    try:
        inserted, updated, unchanged, created = plan.write(session, _stage(progress, 0.6, 1.0))
    except BaseException:
        plan.discard()
        raise
    result.timings["write_s"] = round(time.perf_counter() - write_started, 3)
    result.inserted, result.updated, result.unchanged, result.skus_created = inserted, updated, unchanged, created
    result.status = "committed"
    result.message = "imported"
    return _finish(session, result, user, dry_run, started)


def _stage(progress: Progress | None, start: float, end: float) -> Progress | None:
    if progress is None:
        return None

    def report(fraction: float, message: str) -> None:
        progress(start + (end - start) * max(0.0, min(1.0, fraction)), message)

    return report


def _finish(session: Session, result: ImportResult, user: str | None, dry_run: bool, started: float) -> ImportResult:
    if result.status == "rejected":
        result.rows_accepted = 0
    if result.errors:
        stem = f"check-{secrets.token_hex(6)}" if dry_run else f"import-{time.strftime('%Y%m%d-%H%M%S')}"
        result.error_report = result.errors.write(
            get_settings().data_dir / "import-errors" / f"{stem}-{secrets.token_hex(3)}-errors.csv"
        )
    result.timings["total_s"] = round(time.perf_counter() - started, 3)
    if dry_run:
        return result
    stored = [
        {"line": e.line, "column": e.column, "value": e.value, "reason": e.reason}
        for e in result.errors.first(MAX_STORED_ERRORS)
    ]
    batch = ImportBatch(
        file_name=result.file_name[:255],
        kind=result.kind,
        status=result.status,
        grain=result.format.grain,
        rows_accepted=result.rows_accepted if result.status == "committed" else 0,
        rows_rejected=result.rows_rejected,
        rows_inserted=result.inserted,
        rows_updated=result.updated,
        rows_unchanged=result.unchanged,
        errors=stored or None,
        user_email=user,
    )
    session.add(batch)
    session.flush()
    result.batch_id = batch.id
    if result.error_report is not None:
        final = result.error_report.with_name(f"batch-{batch.id}-errors.csv")
        result.error_report.replace(final)
        result.error_report = final
    audit.record(
        session=session,
        action="data.import",
        user_email=user,
        target=f"{result.kind}:{result.file_name}"[:255],
        outcome="ok" if result.status == "committed" else "error",
        details={
            "batch_id": batch.id,
            "status": result.status,
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "rejected": result.rows_rejected,
            "skus_created": result.skus_created,
            "message": result.message[:500],
        },
    )
    return result


def error_report_path(batch_id: int) -> Path:
    """Where the full error report of an import batch is kept."""
    return get_settings().data_dir / "import-errors" / f"batch-{int(batch_id)}-errors.csv"


def recompute_after_import(*, triggered_by: str | None, progress: Progress | None = None) -> str | None:
    """Recompute the portfolio after a committed import (when services.recompute exists); returns a note.

    Imported lazily: the engine is optional for the importer. Runs in its own session (recompute commits).
    """
    try:
        from services.recompute import recompute
    except ImportError:
        return None
    from db.session import session_scope

    with session_scope() as session:
        kwargs: dict[str, Any] = {"session": session, "triggered_by": triggered_by}
        if progress is not None:
            kwargs["progress"] = progress
        outcome = recompute(**kwargs)
    status = getattr(outcome, "status", "finished")
    run_id = getattr(outcome, "run_id", None)
    if status != "finished":
        error = getattr(outcome, "error", None)
        return f"portfolio recompute {status}" + (f": {error}" if error else "")
    skus = getattr(outcome, "sku_count", None)
    seconds = getattr(outcome, "seconds", None)
    detail = ", ".join(
        part
        for part in (
            f"run {run_id}" if run_id else "",
            f"{skus:,} SKUs" if isinstance(skus, int) else "",
            f"{seconds:.1f} s" if isinstance(seconds, float) else "",
        )
        if part
    )
    return f"portfolio recomputed ({detail})" if detail else "portfolio recomputed"
