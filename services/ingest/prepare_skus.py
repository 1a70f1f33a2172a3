"""The SKU master, resources and lanes preparers (master-data files)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from services.ingest import columns as cols
from services.ingest import lanes
from services.ingest import resources as res
from services.ingest import write as w
from services.ingest.keys import _duplicates, _report_duplicates
from services.ingest.parse import parse_long
from services.ingest.plan import DetectedFormat, ImportOptions, Plan, Progress
from services.ingest.prepare_demand import holding_rate
from services.ingest.prepare_stock import long_format
from services.ingest.report import ErrorLog, FileRejectedError
from services.ingest.sniff import Sniffed


def prepare_skus(
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
    frame = holding_rate(
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


def prepare_resources(
    session: Session, sniffed: Sniffed, options: ImportOptions, errors: ErrorLog, progress: Progress | None
) -> Plan:
    """Resource capacities (rules in :mod:`services.ingest.resources`)."""
    checked = res.check_resources_file(
        session=session, sniffed=sniffed, date_format=options.date_format, errors=errors, progress=progress
    )
    fmt = long_format(sniffed, checked.resolved, first=checked.periods, last=checked.periods, sku_count=0)
    fmt.grain = checked.grain

    def write(session: Session, progress: Progress | None) -> tuple[int, int, int, int]:
        return (*checked.write(session), 0)

    return Plan(checked.rows_read, checked.accepted, checked.rejected, fmt, checked.preview, write)


def prepare_lanes(
    session: Session, sniffed: Sniffed, options: ImportOptions, errors: ErrorLog, progress: Progress | None
) -> Plan:
    """Lanes between locations (rules in :mod:`services.ingest.lanes`)."""
    checked = lanes.check_lanes_file(
        session=session, sniffed=sniffed, date_format=options.date_format, errors=errors, progress=progress
    )
    empty = np.zeros(0, dtype="datetime64[D]")
    fmt = long_format(sniffed, checked.resolved, first=empty, last=empty, sku_count=0)

    def write(session: Session, progress: Progress | None) -> tuple[int, int, int, int]:
        return (*checked.write(session), 0)

    return Plan(checked.rows_read, checked.accepted, checked.rejected, fmt, checked.preview, write)
