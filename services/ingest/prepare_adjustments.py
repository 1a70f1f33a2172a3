"""The commercial adjustments preparer (kind ``adjustments``, issue 19 item 1): ``scope, period, change_pct |
change_units, reason`` (docs/csv-formats.md).

Each row is checked by the rules of :mod:`services.consensus` (the same as the Consensus page and the API): the scope
is a SKU code, ``category:NAME`` or a category name of an active SKU; the period a month (``2027-01``) or a date in
it, inside the latest run's forecast; exactly one of change_pct and change_units, a number in range; a reason. A
scope and month given twice is a row error. Each problem is a row error naming the line, the column and the reason;
nothing is written unless the whole file is valid (or ``--on-error skip``), in the import's one transaction. Each
accepted row is saved as an adjustment (superseding the one in force for its scope and month) and audit-logged.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy.orm import Session

from services import consensus as cs
from services.ingest import columns as cols
from services.ingest import validate as v
from services.ingest.parse import parse_long
from services.ingest.plan import ImportOptions, Plan, Progress
from services.ingest.prepare_stock import long_format
from services.ingest.report import ErrorLog, FileRejectedError
from services.ingest.sniff import Sniffed


def prepare_adjustments(
    session: Session,
    sniffed: Sniffed,
    options: ImportOptions,
    errors: ErrorLog,
    progress: Progress | None,
    *,
    user: str | None = None,
) -> Plan:
    """Validate an adjustments file completely; ``user`` (who imports) is who made each adjustment."""
    fields = cols.ADJUSTMENTS
    resolved = cols.resolve(sniffed.header, fields, kind="adjustments")
    if "change_pct" not in resolved.columns and "change_units" not in resolved.columns:
        raise FileRejectedError("the adjustments file needs a change_pct or a change_units column")
    parsed = parse_long(sniffed, resolved, fields, errors=errors, date_format=options.date_format, progress=progress)
    if parsed.rows_read == 0:
        raise FileRejectedError("the file has a header but no data rows")
    ok = parsed.ok.copy()
    codes, categories = cs.known_scopes(session)
    try:
        months = cs.month_range(session)
    except cs.AdjustmentError as exc:
        raise FileRejectedError(str(exc)) from None
    empty = np.full(parsed.rows_read, None, dtype=object)
    pct_in = parsed.values.get("change_pct", empty)
    units_in = parsed.values.get("change_units", empty)
    rows: list[dict[str, object]] = []
    seen: dict[tuple[str, str, object], int] = {}
    for i in np.flatnonzero(ok):
        line = int(parsed.lines[i])
        raw = {"scope": parsed.values["scope"][i], "period": parsed.values["period"][i]}
        try:
            kind, name = cs.resolve_scope(raw["scope"], codes=codes, categories=categories)
            month = cs.parse_month(raw["period"])
            cs.check_month(month, months)
            pct, units = cs.check_change(pct_in[i], units_in[i])
            reason = cs.check_reason(parsed.values["reason"][i])
        except cs.AdjustmentError as exc:
            column = exc.column or "scope"
            header = resolved.header(column) if column in resolved.columns else column
            value = {"change_pct": pct_in[i], "change_units": units_in[i]}.get(column, raw.get(column, ""))
            errors.add_one(line=line, column=header, value=value, reason=str(exc))
            ok[i] = False
            continue
        key = (kind, name, month)
        if key in seen:
            errors.add_one(
                line=line,
                column=resolved.header("period"),
                value=f"{name} {month.isoformat()[:7]}",
                reason=f"{v.DUPLICATE} (first on line {seen[key]})",
            )
            ok[i] = False
            continue
        seen[key] = line
        rows.append(
            {
                "scope_kind": kind,
                "scope": name,
                "period": month,
                "change_pct": pct,
                "change_units": units,
                "reason": reason,
            }
        )
    empty_dates = np.zeros(0, dtype="datetime64[D]")
    fmt = long_format(sniffed, resolved, first=empty_dates, last=empty_dates, sku_count=0)

    def write(session: Session, progress: Progress | None) -> tuple[int, int, int, int]:
        who = " ".join(str(user or "").split())[:255] or "import"
        for row in rows:
            cs.store_adjustment(session=session, user=who, source="import", **row)  # type: ignore[arg-type]
        return len(rows), 0, 0, 0

    return Plan(parsed.rows_read, int(ok.sum()), int((~ok).sum()), fmt, parsed.preview, write)
