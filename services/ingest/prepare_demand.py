"""The demand preparer: long or wide demand files, the SKUs they name (new ones created, near-duplicate names
noted), master data a wide file carries, and the coverage check (which periods replace stored ones)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from db import ingest as dbi
from db.models import Demand
from services.ingest import columns as cols
from services.ingest import names as nm
from services.ingest import validate as v
from services.ingest import write as w
from services.ingest.coverage import plan_changes
from services.ingest.keys import SkuPlan, _duplicates, _mask_errors, _report_duplicates, resolve_skus
from services.ingest.names import NameMatch, match_names
from services.ingest.parse import WideParsed, parse_long, parse_wide, period_columns
from services.ingest.plan import (
    DetectedFormat,
    ImportOptions,
    Plan,
    Progress,
    _nothing,
    database_grain,
    detect_grain,
    stored_periods,
    to_date,
    today_date,
)
from services.ingest.read import CHUNK_ROWS
from services.ingest.report import ErrorLog, FileRejectedError
from services.ingest.sniff import Sniffed
from services.ingest.stream import DemandStream

STREAM_CHUNK_ROWS = 250_000  # rows per chunk handed to the stream (measured: 200k-350k alike, 100k slower)

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
        records = from_wide(parsed, resolved)
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


def from_wide(parsed: WideParsed, resolved: cols.Resolved, *, key_location: bool = True) -> DemandRecords:
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
    out = holding_rate(out, errors, frame["_line"].to_numpy(), resolved_headers.get("holding_cost_per_unit_year"))
    return out.rename(columns=w.SKU_COLUMNS).drop_duplicates("code", keep="last")


def holding_rate(frame: pd.DataFrame, errors: ErrorLog, lines: np.ndarray, header: str | None) -> pd.DataFrame:
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


def prepare_demand(
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
                today=today_date(),
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


def identify(
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


def new_sku_frame(plan: SkuPlan, codes: list[str], names: NameMatch | None) -> pd.DataFrame:
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
    future = ok & (records.period > today_date())
    _mask_errors(errors, future, records.lines, records.date_column, records.period, v.FUTURE_DATE)
    ok &= ~future
    stream = records.stream
    existing = stream.existing if stream is not None else w.existing_skus(session.connection())
    plan, ok, names = identify(
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
        today=today_date(),
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
        date_min=to_date(accepted_periods.min()) if len(accepted_periods) else None,
        date_max=to_date(accepted_periods.max()) if len(accepted_periods) else None,
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
            new_frame = new_sku_frame(plan, new_codes, names) if new_codes else pd.DataFrame({"code": []})
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
