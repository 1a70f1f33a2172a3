"""The stock and receipts preparers: positions and receipts of known SKUs (by code, or code and location),
long format, validated and checked for duplicate keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from services.ingest import columns as cols
from services.ingest import names as nm
from services.ingest import validate as v
from services.ingest import write as w
from services.ingest.keys import SkuPlan, _duplicates, _mask_errors, _report_duplicates
from services.ingest.names import NameMatch
from services.ingest.parse import Parsed, parse_long
from services.ingest.plan import DetectedFormat, ImportOptions, Plan, Progress, to_date, today_date
from services.ingest.prepare_demand import identify, new_sku_frame
from services.ingest.report import ErrorLog, FileRejectedError
from services.ingest.sniff import Sniffed


def _resolve_simple(
    session: Session,
    parsed: Parsed,
    ok: np.ndarray,
    options: ImportOptions,
    errors: ErrorLog,
    header: str,
    by_name: bool = False,
) -> tuple[SkuPlan, np.ndarray, NameMatch | None]:
    return identify(
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


def long_format(
    sniffed: Sniffed, resolved: cols.Resolved, *, first: np.ndarray, last: np.ndarray, sku_count: int
) -> DetectedFormat:
    """What was detected in a long file: dates from the earliest of ``first`` to the latest of ``last``."""
    return DetectedFormat(
        encoding=sniffed.encoding_label,
        delimiter=sniffed.delimiter_label,
        layout="long",
        date_min=to_date(first.min()) if len(first) else None,
        date_max=to_date(last.max()) if len(last) else None,
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
    created = w.write_skus(connection, new_sku_frame(plan, new_codes, names)).inserted if new_codes else 0
    ids_now = dict(zip(*w.existing_skus(connection)[["code", "id"]].to_numpy().T, strict=True))
    return np.array([ids_now.get(c, -1) for c in plan.codes], dtype=np.int64), created


def prepare_stock(
    session: Session, sniffed: Sniffed, options: ImportOptions, errors: ErrorLog, progress: Progress | None
) -> Plan:
    resolved, parsed, by_name = _parse_identified(sniffed, cols.STOCK, "stock", options, errors, progress)
    ok = parsed.ok.copy()
    n = len(parsed)
    as_of = parsed.values.get("as_of", np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")).copy()
    as_of[np.isnat(as_of)] = today_date()
    on_order = parsed.values.get("on_order", np.zeros(n))
    if "as_of" in resolved.columns:
        future = ok & (as_of > today_date() + 1)
        _mask_errors(errors, future, parsed.lines, resolved.header("as_of"), as_of, v.FUTURE_DATE)
        ok &= ~future
    plan, ok, names = _resolve_simple(session, parsed, ok, options, errors, resolved.header("sku"), by_name)
    dup, first = _duplicates([plan.index, as_of.astype(np.int64)], ok)
    _report_duplicates(errors, dup, first, parsed.lines, resolved.header("sku"), [parsed.values["sku"], as_of])
    ok &= ~dup
    used = np.unique(plan.index[ok])
    fmt = long_format(sniffed, resolved, first=as_of[ok], last=as_of[ok], sku_count=len(used))

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


def prepare_receipts(
    session: Session, sniffed: Sniffed, options: ImportOptions, errors: ErrorLog, progress: Progress | None
) -> Plan:
    resolved, parsed, by_name = _parse_identified(sniffed, cols.RECEIPTS, "receipts", options, errors, progress)
    ok = parsed.ok.copy()
    order = parsed.values["order_date"]
    received = parsed.values["received_date"]
    n = len(parsed)
    promised = parsed.values.get("promised_date", np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"))
    today = today_date()
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
    fmt = long_format(sniffed, resolved, first=order[ok], last=received[ok], sku_count=len(used))

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
