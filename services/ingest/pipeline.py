"""One import: sniff -> parse and validate (vectorised, chunked) -> check keys and SKUs -> write in one transaction.

Nothing is written until the whole file has been validated; with ``on_error="reject"`` (the default) any rejected
row leaves the planning tables exactly as they were. Every import, committed or rejected, is recorded in
``import_batch`` and the audit log (in the caller's transaction).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from db import ingest as dbi
from db.models import Demand, ImportBatch, Sku
from db.session import session_scope
from services import audit, jobs
from services.ingest import columns as cols
from services.ingest import lanes, workbook_fast
from services.ingest import names as nm
from services.ingest import resources as res
from services.ingest import validate as v
from services.ingest import workbook as wb
from services.ingest import write as w
from services.ingest.coverage import Coverage, plan_changes
from services.ingest.keys import SkuPlan, _duplicates, _mask_errors, _report_duplicates, resolve_skus
from services.ingest.names import NameMatch, NearDuplicate, match_names, names_summary
from services.ingest.parse import Parsed, WideParsed, parse_long, parse_wide, period_columns
from services.ingest.read import CHUNK_ROWS
from services.ingest.report import ErrorLog, FileRejectedError, RowError
from services.ingest.sniff import Sniffed, check_size, sniff
from services.ingest.stream import DemandStream
from settings import get_settings

Progress = Callable[[float, str], None]
GRAINS = ("daily", "weekly", "monthly")
MAX_STORED_ERRORS = 200
log = logging.getLogger(__name__)
DATABASE_OUTAGES = (OperationalError, InterfaceError, DisconnectionError)  # answered 503 by the app, not recorded
STREAM_CHUNK_ROWS = 250_000  # rows per chunk handed to the stream (measured: 200k-350k alike, 100k slower)


@dataclass(frozen=True)
class ImportOptions:
    """How to import a file.

    on_error: ``"reject"`` (default) rejects the whole file when any row is bad; ``"skip"`` imports the good rows
    and reports the others. create_skus: create unknown SKUs with the documented defaults instead of reporting
    them. date_format: a strptime format for day-first / month-first dates (e.g. ``%d/%m/%Y``); ISO dates are
    always accepted. full_extract: a demand file that lists every active SKU's sales in the periods it covers;
    an active SKU (or period) missing from it sold nothing and gets an explicit zero row. confirm_new_skus: create
    new SKUs even when their names are close to existing ones (near-duplicates); without it such an import is
    refused (a check still runs and lists them). sheet: the sheet of a workbook (.xlsx, .xlsm, .ods) to read.
    """

    on_error: str = "reject"
    create_skus: bool = False
    date_format: str | None = None
    max_bytes: int | None = None
    full_extract: bool = False
    confirm_new_skus: bool = False
    sheet: str | None = None  # a workbook's sheet to read (default: the first whose header matches the kind)

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
    sheet: str | None = None  # a workbook: the sheet read
    sheets: list[str] = field(default_factory=list)  # a workbook: all its worksheets (for the sheet picker)

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
    full_extract: bool = False
    coverage: Coverage | None = None  # demand: periods, rows per SKU, SKUs not in the file
    names: NameMatch | None = None  # files identifying SKUs by product name

    @property
    def near_duplicates(self) -> list[NearDuplicate]:
        return self.names.near_duplicates if self.names is not None and self.skus_to_create else []

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
                "sheet": self.format.sheet,
                "sheets": self.format.sheets,
            },
            "timings": self.timings,
            "recompute": self.recompute,
            "full_extract": self.full_extract,
            "coverage": self.coverage.as_dict() if self.coverage is not None else None,
            "names": names_summary(self.names, self.skus_to_create),
            "error_groups": self.errors.grouped(),
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
    coverage: Coverage | None = None
    names: NameMatch | None = None


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


def stored_periods(*, session: Session) -> list[dt.date]:
    """The latest (at most 60) distinct periods of the stored demand history, newest first."""
    return list(session.scalars(select(Demand.period).distinct().order_by(Demand.period.desc()).limit(60)).all())


def database_grain(*, session: Session, periods: list[dt.date] | None = None) -> str | None:
    """The grain of the demand history already stored (None when there is none)."""
    periods = stored_periods(session=session) if periods is None else periods
    if len(periods) < 2:
        return None
    try:
        return detect_grain(np.array(periods, dtype="datetime64[D]"))
    except FileRejectedError:
        return None


# --- demand -------------------------------------------------------------------------------------------------------

# a wide demand file may update master data, but not the resource (checked against the resources only in `skus`)
# nor the item (the SKU master's; a demand file's item_id column is often its SKU code)
ATTRIBUTE_FIELDS = tuple(f for f in cols.SKU_MASTER if f.name not in ("sku", "location", "resource", "item")) + (
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
    by_name: bool = False  # the SKU column holds product names (matched to codes, then to SKU names)


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
            (nm.SKU_OR_NAME,),
            kind="demand (wide layout)",
            extra=(cols.LOCATION, *ATTRIBUTE_FIELDS),
        )
        resolved = cols.Resolved(resolved.columns, headers, resolved.scales, resolved.ignored)
        fields, by_name = nm.parsing_fields((cols.SKU, cols.LOCATION, *ATTRIBUTE_FIELDS), resolved.header("sku"))
        parsed = parse_wide(sniffed, resolved, periods, fields, errors=errors, progress=progress)
        fmt_columns = {name: headers[pos] for name, pos in resolved.columns.items()}
        fmt_columns["periods"] = f"{len(periods)} columns ({headers[min(periods)]} ... {headers[max(periods)]})"
        records = _from_wide(parsed, resolved)
        records.by_name = by_name
        return records, fmt_columns, resolved.ignored
    resolved = cols.resolve(headers, nm.identified(cols.DEMAND), kind="demand")
    fields, by_name = nm.parsing_fields(cols.DEMAND, resolved.header("sku"))
    streamable = start_stream is not None and "location" not in resolved.columns and not by_name
    stream = start_stream() if streamable else None
    try:
        parsed = parse_long(
            sniffed,
            resolved,
            fields,
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
        by_name=by_name,
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
    writing: bool = False,
) -> Plan:
    start_stream = None
    large = sniffed.lines - 1 >= dbi.BULK_MIN_ROWS
    if stream and session.get_bind().dialect.name == "postgresql" and large and not options.full_extract:

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
        return _plan_demand(session, sniffed, options, errors, records, fmt_columns, ignored, grain_hint, writing)
    except BaseException:
        if records.stream is not None:
            records.stream.discard()
        raise


def _identify(
    *,
    existing: pd.DataFrame,
    code: np.ndarray,
    location: np.ndarray | None,
    ok: np.ndarray,
    options: ImportOptions,
    errors: ErrorLog,
    lines: np.ndarray,
    column: str,
    by_name: bool,
) -> tuple[SkuPlan, np.ndarray, NameMatch | None]:
    """The SKU of every row: by code, or (a name column) by code then by name; reports ambiguous and unknown ones."""
    names = None
    codes = code
    if by_name:
        names = match_names(values=code, ok=ok, existing=existing, location=location, create=options.create_skus)
        bad = names.ambiguous
        if bad.any():
            errors.add(lines=lines[bad], column=column, values=code[bad], reasons=names.reasons[bad])
            ok = ok & ~bad
        codes = names.codes
    plan, unknown = resolve_skus(existing=existing, code=codes, location=location, ok=ok, create=options.create_skus)
    hint = (
        " (no SKU has this code or name; import the SKU master first, or allow creating unknown SKUs)"
        if by_name
        else " (import the SKU master first, or allow creating unknown SKUs)"
    )
    _mask_errors(errors, unknown, lines, column, code, v.UNKNOWN_SKU + hint)
    return plan, ok & ~unknown, names


def _new_sku_frame(plan: SkuPlan, codes: list[str], names: NameMatch | None) -> pd.DataFrame:
    """code, location (and name, for SKUs created from a product name) of the SKUs to create."""
    position = {c: i for i, c in enumerate(plan.codes)}
    frame = pd.DataFrame({"code": codes, "location": [plan.locations[position[c]] for c in codes]})
    if names is not None and names.new_names:
        frame["name"] = [names.new_names.get(c) for c in codes]
    return frame


def _plan_demand(
    session: Session,
    sniffed: Sniffed,
    options: ImportOptions,
    errors: ErrorLog,
    records: DemandRecords,
    fmt_columns: dict | None,
    ignored: list | None,
    grain_hint: str | None,
    writing: bool = False,
) -> Plan:
    if records.rows_read == 0:
        raise FileRejectedError("the file has a header but no data rows")
    ok = records.ok.copy()
    future = ok & (records.period > _today())
    _mask_errors(errors, future, records.lines, records.date_column, records.period, v.FUTURE_DATE)
    ok &= ~future
    stream = records.stream
    existing = stream.existing if stream is not None else w.existing_skus(session.connection())
    plan, ok, names = _identify(
        existing=existing,
        code=records.code,
        location=records.location,
        ok=ok,
        options=options,
        errors=errors,
        lines=records.lines,
        column=records.sku_column,
        by_name=records.by_name,
    )
    days = np.asarray(records.period, dtype="datetime64[D]").astype(np.int64)
    dup, first = _duplicates([plan.index, days], ok)
    _report_duplicates(errors, dup, first, records.lines, records.date_column, [records.code, records.period])
    ok &= ~dup
    accepted_periods = records.period[ok]
    # an import compares its rows with the stored ones under the demand table's lock, once: the write reuses it
    compared_under_lock = writing and stream is None
    if compared_under_lock:
        dbi.lock_for_upsert(session.connection(), table=Demand.__table__)
    periods = [] if stream is not None else stored_periods(session=session)
    stored = database_grain(session=session, periods=periods)
    coverage, rows, extra = plan_changes(
        connection=None if stream is not None else session.connection(),
        table=Demand.__table__,
        codes=plan.codes,
        ids=plan.ids,
        index=plan.index[ok],
        period=accepted_periods,
        quantity=records.quantity[ok],
        file_grain=grain_hint or detect_grain(accepted_periods),
        stored_grain=stored,
        reference=np.datetime64(periods[0], "D") if periods else None,
        active=existing[existing["active"].astype(bool)][["id", "code", "name"]],
        full_extract=options.full_extract,
        stored_empty=not periods,
        today=_today(),
    )
    plan.codes.extend(extra)
    plan.locations.extend([None] * len(extra))
    plan.new = np.concatenate([plan.new, np.zeros(len(extra), dtype=bool)])
    used = np.unique(rows.index)
    attributes = None
    if records.attributes is not None:
        attributes = _attribute_updates(records.attributes, plan, records, errors, fmt_columns or {})
    fmt = DetectedFormat(
        encoding=sniffed.encoding_label,
        delimiter=sniffed.delimiter_label,
        layout=records.layout,
        grain=coverage.grain,
        date_min=_to_date(accepted_periods.min()) if len(accepted_periods) else None,
        date_max=_to_date(accepted_periods.max()) if len(accepted_periods) else None,
        sku_count=len(np.unique(plan.index[ok])),
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
            new_frame = _new_sku_frame(plan, new_codes, names) if new_codes else pd.DataFrame({"code": []})
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
        counts = w.write_demand(
            connection,
            sku_id=code_ids[rows.index],
            period=rows.period,
            quantity=rows.quantity,
            progress=progress,
            status=rows.status if compared_under_lock else None,
        )
        # rows of a period the file covers only in part are marked: the engine does not fit them as a low period
        w.mark_partial(
            connection,
            sku_id=code_ids[rows.index],
            period=rows.period,
            incomplete={np.datetime64(p.period, "D"): np.datetime64(p.covered_to, "D") for p in coverage.incomplete},
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
        coverage=coverage,
        names=names,
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
    session: Session,
    parsed: Parsed,
    ok: np.ndarray,
    options: ImportOptions,
    errors: ErrorLog,
    header: str,
    by_name: bool = False,
) -> tuple[SkuPlan, np.ndarray, NameMatch | None]:
    return _identify(
        existing=w.existing_skus(session.connection()),
        code=parsed.values["sku"],
        location=None,
        ok=ok,
        options=options,
        errors=errors,
        lines=parsed.lines,
        column=header,
        by_name=by_name,
    )


def _parse_identified(
    sniffed: Sniffed, fields: tuple[v.Field, ...], kind: str, options: ImportOptions, errors: ErrorLog, progress
) -> tuple[cols.Resolved, Parsed, bool]:
    """Resolve and parse a stock or receipts file whose SKU column holds codes or product names."""
    resolved = cols.resolve(sniffed.header, nm.identified(fields), kind=kind)
    parse_fields, by_name = nm.parsing_fields(fields, resolved.header("sku"))
    parsed = parse_long(
        sniffed, resolved, parse_fields, errors=errors, date_format=options.date_format, progress=progress
    )
    if parsed.rows_read == 0:
        raise FileRejectedError("the file has a header but no data rows")
    return resolved, parsed, by_name


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


def _create_and_ids(
    session: Session, plan: SkuPlan, used: np.ndarray, names: NameMatch | None = None
) -> tuple[np.ndarray, int]:
    connection = session.connection()
    new_codes = [plan.codes[i] for i in used if plan.new[i]]
    created = w.write_skus(connection, _new_sku_frame(plan, new_codes, names)).inserted if new_codes else 0
    ids_now = dict(zip(*w.existing_skus(connection)[["code", "id"]].to_numpy().T, strict=True))
    return np.array([ids_now.get(c, -1) for c in plan.codes], dtype=np.int64), created


def _prepare_stock(
    session: Session, sniffed: Sniffed, options: ImportOptions, errors: ErrorLog, progress: Progress | None
) -> Plan:
    resolved, parsed, by_name = _parse_identified(sniffed, cols.STOCK, "stock", options, errors, progress)
    ok = parsed.ok.copy()
    n = len(parsed)
    as_of = parsed.values.get("as_of", np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")).copy()
    as_of[np.isnat(as_of)] = _today()
    on_order = parsed.values.get("on_order", np.zeros(n))
    if "as_of" in resolved.columns:
        future = ok & (as_of > _today() + 1)
        _mask_errors(errors, future, parsed.lines, resolved.header("as_of"), as_of, v.FUTURE_DATE)
        ok &= ~future
    plan, ok, names = _resolve_simple(session, parsed, ok, options, errors, resolved.header("sku"), by_name)
    dup, first = _duplicates([plan.index, as_of.astype(np.int64)], ok)
    _report_duplicates(errors, dup, first, parsed.lines, resolved.header("sku"), [parsed.values["sku"], as_of])
    ok &= ~dup
    used = np.unique(plan.index[ok])
    fmt = _long_format(sniffed, resolved, first=as_of[ok], last=as_of[ok], sku_count=len(used))

    def write(session: Session, progress: Progress | None) -> tuple[int, int, int, int]:
        code_ids, created = _create_and_ids(session, plan, used, names)
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
        names=names,
    )


def _prepare_receipts(
    session: Session, sniffed: Sniffed, options: ImportOptions, errors: ErrorLog, progress: Progress | None
) -> Plan:
    resolved, parsed, by_name = _parse_identified(sniffed, cols.RECEIPTS, "receipts", options, errors, progress)
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
    plan, ok, names = _resolve_simple(session, parsed, ok, options, errors, resolved.header("sku"), by_name)
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
        code_ids, created = _create_and_ids(session, plan, used, names)
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
        names=names,
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


def _prepare_lanes(
    session: Session, sniffed: Sniffed, options: ImportOptions, errors: ErrorLog, progress: Progress | None
) -> Plan:
    """Lanes between locations (rules in :mod:`services.ingest.lanes`)."""
    checked = lanes.check_lanes_file(
        session=session, sniffed=sniffed, date_format=options.date_format, errors=errors, progress=progress
    )
    empty = np.zeros(0, dtype="datetime64[D]")
    fmt = _long_format(sniffed, checked.resolved, first=empty, last=empty, sku_count=0)

    def write(session: Session, progress: Progress | None) -> tuple[int, int, int, int]:
        return (*checked.write(session), 0)

    return Plan(checked.rows_read, checked.accepted, checked.rejected, fmt, checked.preview, write)


PREPARERS = {
    "demand": _prepare_demand,
    "skus": _prepare_skus,
    "stock": _prepare_stock,
    "receipts": _prepare_receipts,
    "resources": _prepare_resources,
    "lanes": _prepare_lanes,
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
    An import that fails for any other reason is rolled back and recorded in the import history as rejected with
    that reason (the traceback goes to the log). A database outage (connection lost, server restarting) rolls back
    and propagates, as does any error while recording the failure.
    """
    if kind not in PREPARERS:
        raise ValueError(f"kind must be one of {', '.join(cols.KINDS)}, not {kind!r}")
    started = time.perf_counter()
    try:
        return _import_file(
            session=session,
            path=path,
            kind=kind,
            file_name=file_name,
            options=options,
            user=user,
            progress=progress,
            dry_run=dry_run,
        )
    except DATABASE_OUTAGES:
        session.rollback()
        raise  # the database is unavailable: nothing can be recorded; the caller answers 503
    except Exception as exc:
        log.exception("import of %s as %s failed", file_name or path, kind)
        session.rollback()
        name = file_name or Path(path).name
        reason = f"the import failed unexpectedly ({type(exc).__name__}); nothing was imported"
        result = ImportResult(kind=kind, file_name=name, message=reason)
        result.errors.add_one(line=None, column=None, value="", reason=reason)
        try:
            return _finish(session, result, user, dry_run, started)
        except Exception:
            log.warning("could not record the failed import of %s", name, exc_info=True)
            session.rollback()
            raise exc from None


def _import_file(
    *,
    session: Session,
    path: str | Path,
    kind: str,
    file_name: str | None,
    options: ImportOptions | None,
    user: str | None,
    progress: Progress | None,
    dry_run: bool,
) -> ImportResult:
    options = options or ImportOptions()
    path = Path(path)
    name = file_name or path.name
    result = ImportResult(kind=kind, file_name=name)
    started = time.perf_counter()
    converted: wb.Converted | None = None
    scratch: Path | None = None
    try:
        try:
            if wb.is_workbook(path):
                check_size(path, max_bytes=options.limit())
                scratch = wb.scratch_file()
                converted = workbook_fast.convert(path=path, kind=kind, target=scratch, sheet=options.sheet)
                sniffed = converted.sniffed
                result.errors.sheet = converted.sheet
            else:
                sniffed = sniff(path, max_bytes=options.limit())
            extra = {"stream": not dry_run, "writing": not dry_run} if kind == "demand" else {}
            plan = PREPARERS[kind](session, sniffed, options, result.errors, _stage(progress, 0.0, 0.6), **extra)
        except FileRejectedError as exc:
            message = f"sheet '{converted.sheet}': {exc}" if converted is not None else str(exc)
            if converted is not None:
                result.format.sheet, result.format.sheets = converted.sheet, converted.sheets
            elif scratch is not None:  # the workbook opened: offer its sheets (e.g. a sheet name that is not there)
                result.format.sheets = wb.sheets_or_none(path)
            result.errors.shift_lines(converted.line_offset if converted is not None else 0)
            result.errors.add_one(line=None, column=None, value="", reason=message)
            result.message = message
            return _finish(session, result, user, dry_run, started)
        if converted is not None:
            result.errors.shift_lines(converted.line_offset)
            plan.format.delimiter = ""
            plan.format.size_bytes = path.stat().st_size
            plan.format.sheet, plan.format.sheets = converted.sheet, converted.sheets
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
    finally:
        if scratch is not None:
            scratch.unlink(missing_ok=True)


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
    result.coverage, result.names, result.full_extract = plan.coverage, plan.names, options.full_extract
    near = result.near_duplicates if options.create_skus else []
    unconfirmed = bool(near) and not options.confirm_new_skus
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
        if unconfirmed:
            result.message += f"; {near_duplicate_note(near)}: confirm before importing"
        plan.discard()
        return _finish(session, result, user, dry_run, started)
    if unconfirmed:
        result.message = f"{near_duplicate_note(near)}; nothing was imported: check them and confirm to create them"
        result.errors.add_one(line=None, column=None, value="", reason=result.message)
        result.rows_accepted = 0
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


def near_duplicate_note(near: list[NearDuplicate]) -> str:
    """One phrase: how many new SKU names are close to existing ones, with the first example."""
    return (
        f"{len(near):,} new SKU name{'s are' if len(near) != 1 else ' is'} close to existing SKU names (e.g. {near[0]})"
    )


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
        full_extract=result.full_extract,
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
            "full_extract": result.full_extract,
            "sheet": result.format.sheet,
            "incomplete_periods": [str(p) for p in result.coverage.incomplete] if result.coverage else [],
            "message": result.message[:500],
        },
    )
    return result


def error_report_path(batch_id: int) -> Path:
    """Where the full error report of an import batch is kept."""
    return get_settings().data_dir / "import-errors" / f"batch-{int(batch_id)}-errors.csv"


WAITING_FOR_DEMAND = (
    "the portfolio recompute waits for demand: no active SKU has a demand history yet "
    "(import one next, e.g. python cli.py import demand sales.csv)"
)


def has_active_demand(*, session: Session) -> bool:
    """Whether any active SKU has a demand row (a recompute has something to forecast)."""
    query = select(Demand.sku_id).join(Sku, Sku.id == Demand.sku_id).where(Sku.active.is_(True)).limit(1)
    return session.scalar(query) is not None


def recompute_after_import(*, triggered_by: str | None, progress: Progress | None = None) -> str | None:
    """Recompute the portfolio after a committed import (:func:`services.jobs.recompute_portfolio`); returns a note.

    Runs in its own session (recompute commits).
    """
    with session_scope() as session:
        if not has_active_demand(session=session):
            return WAITING_FOR_DEMAND
    with session_scope() as session:
        kwargs: dict[str, Any] = {"session": session, "triggered_by": triggered_by}
        if progress is not None:
            kwargs["progress"] = progress
        outcome = jobs.recompute_portfolio(**kwargs)
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
